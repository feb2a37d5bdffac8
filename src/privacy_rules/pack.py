"""Read a pack folder: load each YAML file, check its shape, build the frozen Pack, check meaning.

``load_pack`` is the stage boundary: it returns a Pack that passed every check, or raises
PackError carrying every diagnostic found (STYLE 6), sorted by file, line, column and code.
"""

from __future__ import annotations

import hashlib
import math
import os
import stat
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from .errors import PackError
from . import _yaml_cache
from .load import LoadedYaml, inside
from .model import (Action, Basis, Citation, ConsentMechanism, Diagnostic, Effect, FactSpec, Mechanism,
                    ObligationSpec, Pack, Pred, Recipient, Rule, Severity, Span, Transfer, Vocabulary, Window)
from .validate._chars import first_refused, visible
from .validate.semantic import iter_pack_file_problems, iter_semantic_problems

#: The most rule files a pack may list (each up to load.DEFAULT_MAX_BYTES). More is an error
#: (PR010), never a truncation.
MAX_RULE_FILES = 200
_OPS = ("equals", "not_equals", "in", "not_in", "before", "on_or_before", "after", "on_or_after")


def _pred(node: Any) -> Pred:
    (kind, arg), = node.items()
    if kind in ("all", "any"):
        return Pred(kind=kind, children=tuple(_pred(c) for c in arg))
    if kind == "not":
        return Pred(kind=kind, children=(_pred(arg),))
    if kind == "fact":
        op = next(o for o in _OPS if o in arg)
        value = arg[op]
        if isinstance(value, list):
            value = _fact_values(value)
        return Pred(kind=kind, arg=MappingProxyType({"path": arg["path"], "op": op, "value": value}))
    if kind == "compare":  # docs/rule-language.md, "Comparing two dates"
        return Pred(kind=kind, arg=MappingProxyType({
            "left": _operand(arg["left"]), "op": arg["op"], "right": _operand(arg["right"]),
            "if_absent": arg.get("if_absent")}))
    if kind == "subject" and isinstance(arg, list):
        return Pred(kind=kind, arg=tuple(arg))
    return Pred(kind=kind, arg=arg)


def _operand(value: Any) -> str | tuple[str, str]:
    """A `compare` operand: a date path or `as_of` (a str), or ("window_end", W)."""
    return ("window_end", str(value["window_end"])) if isinstance(value, Mapping) else str(value)


def _fact_values(values: list[Any]) -> tuple[Any, ...]:
    """The list of an `in`/`not_in` condition: each value once, in a fixed order, kinds kept apart.

    Not a frozenset: Python's True == 1 and False == 0 would merge `[true, 1]` into one element
    and drop the other kind (docs/rule-language.md: a `fact` value only matches values of its kind).
    """
    def rank(x: Any) -> int:  # 0: no kind (null, .nan, .inf: they match nothing), ordered by repr
        if isinstance(x, float) and not math.isfinite(x):
            return 0
        return {bool: 1, int: 2, float: 2, str: 3}.get(type(x), 0)

    keyed = {(rank(x), x if rank(x) else repr(x)): x for x in reversed(values)}  # the first of equals stays
    return tuple(keyed[k] for k in sorted(keyed))


def _tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _label_map(section: Mapping[str, Any] | None) -> Mapping[str, Mapping[str, Any]]:
    return MappingProxyType({k: MappingProxyType(dict(v or {})) for k, v in (section or {}).items()})


def _vocabulary(v: Mapping[str, Any]) -> Vocabulary:
    bases = {
        k: Basis(id=k, article=str(b.get("article", "")), dpv=b.get("dpv"),
                 label=MappingProxyType(dict(b.get("label") or {})))
        for k, b in (v.get("lawful_bases") or {}).items()
    }
    mechanisms = {
        k: Mechanism(id=k, article=m.get("article"), dpv=m.get("dpv"), valid_from=m.get("valid_from"),
                     valid_until=m.get("valid_until"), label=MappingProxyType(dict(m.get("label") or {})))
        for k, m in (v.get("transfer_mechanisms") or {}).items()
    }
    recipients = {}
    for k, r in (v.get("recipients") or {}).items():
        dpa = r.get("dpa") or {}
        recipients[k] = Recipient(
            id=k, kind=r["kind"], name=str(r.get("name", k)), eea=bool(r.get("eea", False)),
            listed_in_policy=bool(r.get("listed_in_policy", True)),
            dpa_signed_on=dpa.get("signed_on"), dpa_ends_on=dpa.get("ends_on"),
            transfers=tuple(Transfer(mechanism=t["mechanism"], from_on=t.get("from"), until_on=t.get("until"))
                            for t in (r.get("transfers") or ())),
            purposes=tuple(r.get("purposes") or ()), country=r.get("country"),
            categories=None if r.get("categories") is None else tuple(r["categories"]),
        )
    windows = {}
    for k, w in (v.get("windows") or {}).items():
        months = int(w["months"]) if "months" in w else 12 * int(w["years"])
        windows[k] = Window(id=k, anchor=w["from"], months=months, open_if_absent=bool(w.get("open_if_absent")),
                            count_future=bool(w.get("count_future")), pick=w.get("pick"),
                            extension_months=int((w.get("extension") or {}).get("months", 0)))
    facts = None
    if v.get("facts") is not None:  # absent: the facts the rules read (declared.declared_facts)
        facts = MappingProxyType({
            k: FactSpec(id=k, kind=f["kind"], label=MappingProxyType(dict(f.get("label") or {})),
                        note=f.get("note"), if_absent=f.get("if_absent"))
            for k, f in v["facts"].items()})
    mechs = None
    if v.get("consent_mechanisms") is not None:  # absent: the engine's default (model.DEFAULT_CONSENT_MECHANISMS)
        mechs = tuple(
            ConsentMechanism(mechanism=m["mechanism"],
                             purposes=frozenset(m["purposes"]) if m.get("purposes") is not None else None,
                             valid_from=_iso_or_none(m.get("valid_from")),
                             valid_until=_iso_or_none(m.get("valid_until")),
                             note=m.get("note"))
            for m in v["consent_mechanisms"])
    return Vocabulary(
        lawful_bases=MappingProxyType(bases),
        subject_categories=_label_map(v.get("subject_categories")),
        scopes=_label_map(v.get("scopes")),
        purposes=_label_map(v.get("purposes")),
        channels=_label_map(v.get("channels")),
        transfer_mechanisms=MappingProxyType(mechanisms),
        recipients=MappingProxyType(recipients),
        windows=MappingProxyType(windows),
        data_categories=_label_map(v.get("data_categories")),
        facts=facts,
        consent_mechanisms=mechs,
    )


def _iso_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _rules(loaded: LoadedYaml, start: int) -> list[Rule]:
    data = loaded.data
    file_when = tuple(_pred(p) for p in (data.get("when") or ()))
    out = []
    for i, r in enumerate(data["rules"]):
        cites = r.get("cites") or {}
        out.append(Rule(
            id=r["id"],
            question=Action(r["question"]),
            effect=Effect(r["effect"]),
            basis=r.get("basis"),
            when=file_when + tuple(_pred(p) for p in (r.get("when") or ())),
            scopes=_tuple(r.get("scopes")),
            purposes=_tuple(r.get("purposes")),
            channels=_tuple(r.get("channels")),
            recipients=_tuple(r.get("recipients")),
            recipient_kinds=_tuple(r.get("recipient_kinds")),
            obligations=tuple(
                ObligationSpec(id=o["id"], article=o.get("article"), text=MappingProxyType(dict(o.get("text") or {})),
                               due=o.get("due"))
                for o in (r.get("obligations") or ())
            ),
            citation=Citation(norms=tuple(cites.get("norms") or ()), section=cites.get("section"),
                              quote=cites.get("quote"), articles=tuple(cites.get("articles") or ())),
            explain=MappingProxyType(dict(r.get("explain") or {})),
            span=loaded.span_for(("rules", i)),
            order=start + i,
            on_outcome=_tuple(r.get("on_outcome")),
        ))
    return out


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def read_pack(root: str | os.PathLike[str], *, as_of: date | None = None,
              lint: bool = True, cache: bool = True) -> tuple[Pack | None, tuple[Diagnostic, ...]]:
    """(pack or None, every diagnostic) for the pack folder or pack.yaml at ``root``. Never raises for user errors.

    Diagnostics include lint findings (PR5xx, validate/lint.py); ``as_of`` enables the
    date-dependent ones (a review that is overdue). ``lint=False`` leaves lint out: every lint
    finding is a warning or an info and lint never changes what a pack decides, so loading a
    pack to use it (load_pack, the CLI's commands other than `check`) does not pay for it.
    ``cache=False`` reads every file from its bytes and checks it, never answering from the
    cache of checked files (_yaml_cache.py: keyed by content; ``PRIVACY_RULES_CACHE_DIR=off``
    turns it off for the process).
    """
    root_path = Path(root)
    pack_file = root_path if root_path.is_file() else root_path / "pack.yaml"
    folder = pack_file.parent
    diags: list[Diagnostic] = []
    try:
        head, head_diags = _load_checked(_display(pack_file), "pack.schema.json", cache)
    except PackError as exc:
        return None, exc.diagnostics
    diags.extend(head_diags)
    if diags:
        return None, tuple(sorted(diags, key=_sort_key))
    meta = head.data["pack"]
    files = list(head.data["files"])
    if len(files) > MAX_RULE_FILES:
        # Never read only the first MAX_RULE_FILES: the rest would be silently unchecked, left
        # out of the content hash, and a forbid in them would never apply.
        return None, (Diagnostic(
            code="PR010", severity=Severity.ERROR, span=head.span_for(("files", MAX_RULE_FILES)),
            message=f"the pack lists {len(files)} rule files, more than the limit of {MAX_RULE_FILES}",
            help="merge rule files: one file can hold many rules"),)
    diags.extend(iter_pack_file_problems(head))
    for i, rel in enumerate(head.data.get("scenarios") or ()):
        # Scenario files are only read by `test`, but `test` echoes their content: confine them
        # now, as rule files are (scenarios.py confines them again when it reads them).
        if first_refused(rel) is not None:  # PR212 above; never touch such a path
            continue
        if not inside(folder, folder / rel):
            diags.append(_outside(head, ("scenarios", i), "scenario file", rel))
        elif (reason := _not_a_file(folder / rel)) is not None:
            diags.append(Diagnostic(
                code="PR001", severity=Severity.ERROR, span=head.span_for(("scenarios", i)),
                message=f"cannot read scenario file `{visible(rel)}`: {reason}",
                help="list a YAML file of scenarios, relative to the pack folder, or remove the entry"))
    loaded_files: list[LoadedYaml] = []
    for i, rel in enumerate(files):
        target = folder / rel
        if first_refused(rel) is not None:  # PR212 above; never open such a path
            continue
        if not inside(folder, target):
            diags.append(_outside(head, ("files", i), "rule file", rel))
            continue
        try:
            lf, schema_diags = _load_checked(_display(target), "rules.schema.json", cache)
        except PackError as exc:
            diags.extend(exc.diagnostics)
            continue
        diags.extend(schema_diags)
        if not schema_diags:
            loaded_files.append(lf)
    if diags:
        return None, tuple(sorted(diags, key=_sort_key))
    rules: list[Rule] = []
    for lf in loaded_files:
        rules.extend(_rules(lf, len(rules)))
    scenario_files = tuple(str(folder / s) for s in (head.data.get("scenarios") or ()))
    pack = Pack(
        id=meta["id"], name=meta.get("name", meta["id"]), root=str(folder), meta=MappingProxyType(dict(meta)),
        vocabulary=_vocabulary(head.data.get("vocabulary") or {}), rules=tuple(rules),
        version=f"{meta.get('version', '0')}+{content_hash(head, files, loaded_files)}",
        default_scope=meta["default_scope"], files=tuple(files), scenario_files=scenario_files,
    )
    diags.extend(iter_semantic_problems(pack, head))
    if lint and not any(d.severity is Severity.ERROR for d in diags):
        # lint on a pack with unknown ids would restate the PR2xx errors in other words. Imported
        # here: only `check` lints, and deciding hosts should not pay for importing it (issue 12).
        from .validate.lint import iter_lint_problems
        diags.extend(iter_lint_problems(pack, head, as_of))
    errors = [d for d in diags if d.severity is Severity.ERROR]
    return (None if errors else pack), tuple(sorted(diags, key=_sort_key))


def _load_checked(path: str, schema_name: str, cache: bool) -> tuple[LoadedYaml, list[Diagnostic]]:
    """(the YAML file, its schema problems); a clean file is remembered by content, and the next
    load of the same bytes skips both the YAML composition and the schema check (issue 12)."""
    loaded, vouched = _yaml_cache.load_checked(path, schema_name, use_cache=cache)
    if vouched is not None:
        return loaded, list(vouched)
    from .validate.schema import iter_schema_errors  # jsonschema: imported only when a file is checked
    problems = list(iter_schema_errors(loaded, schema_name))
    if cache and not problems:
        _yaml_cache.remember(loaded, schema_name)
    return loaded, problems


def content_hash(head: LoadedYaml, files: list[str], loaded: list[LoadedYaml]) -> str:
    """Hex SHA-256 over pack.yaml and every rule file, in pack order: the ``+HASH`` of Pack.version.

    Each file enters as its name, its length and the SHA-256 of the exact bytes that were
    checked (LoadedYaml.sha256), so no two different packs frame to the same input, and a file
    edited during loading cannot make the hash describe content that was not checked. Scenario
    files are not part of it: they test the pack but do not change any decision. The full
    digest is kept: a 12-digit prefix (48 bits) can be matched by a crafted second pack in
    about 2**24 tries, and the version is what ties a decision to the rules that made it.
    """
    digest = hashlib.sha256(b"privacy-rules pack content 1\n")
    for name, lf in zip(["pack.yaml", *files], [head, *loaded], strict=True):
        encoded = name.encode("utf-8", "surrogatepass")
        digest.update(b"%d:%s %s\n" % (len(encoded), encoded, lf.sha256.encode("ascii")))
    return digest.hexdigest()


def _not_a_file(path: Path) -> str | None:
    """Why ``path`` is not a regular file `test` could read, or None. Only stat(): `check` does
    not read scenario files, and opening a FIFO to look would block until a writer came."""
    try:
        mode = os.stat(path).st_mode  # follows links; inside() has confined where they lead
    except (FileNotFoundError, NotADirectoryError):
        return "no such file"
    except PermissionError:
        return "permission denied"
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path (PR212 catches it first)
        return (getattr(exc, "strerror", None) or type(exc).__name__).lower()
    if stat.S_ISDIR(mode):
        return "it is a directory"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    return None


def _outside(head: LoadedYaml, path: tuple[str | int, ...], what: str, rel: str) -> Diagnostic:
    return Diagnostic(code="PR009", severity=Severity.ERROR, span=head.span_for(path),
                      message=f"{what} `{visible(rel)}` lies outside the pack folder",
                      help="list files relative to the pack folder, without `..`, and not as links that lead out of it")


def load_pack(root: str | os.PathLike[str]) -> Pack:
    """The validated Pack at ``root`` (a folder with pack.yaml, or the pack.yaml itself).

    Raises PackError with every error-level diagnostic; warnings do not stop loading. Does
    not run lint (``read_pack`` / `privacy-rules check` do): no lint finding is an error.
    """
    pack, diags = read_pack(root, lint=False)
    if pack is None:
        raise PackError(tuple(d for d in diags if d.severity is Severity.ERROR) or diags)
    return pack


def _sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    s = d.span or Span(file="", line=0, col=0)
    return (s.file, s.line, s.col, d.code)


def iter_rule_spans(pack: Pack) -> Iterator[tuple[str, Span | None]]:
    for r in pack.rules:
        yield r.id, r.span
