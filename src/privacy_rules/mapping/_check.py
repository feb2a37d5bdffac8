"""Meaning checks of a profile that passed its schema: one generator per check (STYLE 6).

Each check reads the loaded YAML (plain data + spans) and yields diagnostics at the line of the
problem, with did-you-mean where a name is close to a known one. With a pack, ids the profile
writes (subject categories, purposes, recipients, scopes, data categories) must be ids the
pack defines. Codes PR602-PR615 (docs/codes.md). Pure; never raises for user errors.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any, Iterator, Mapping, Sequence

from ..declared import declared_facts
from ..errors import shown
from ..load import LoadedYaml
from ..model import Diagnostic, Pack, Severity, Span
from ..validate._chars import visible
from .convert import TYPES, match_key, zone_named
from ._targets import EVENT_LISTS, ID, LIST_TARGETS, VOCABULARY_OF, all_targets, target_kind

__all__ = ["iter_profile_problems", "BUILTIN_FORMATS", "resolve_format"]

PathKey = tuple["str | int", ...]

#: Format names every profile has: the types with their default options.
BUILTIN_FORMATS: Mapping[str, Mapping[str, Any]] = {t: {"type": t} for t in TYPES}
#: strptime directives a layout may use. Locale-dependent ones (%b, %a, %p, %c, %x) and the
#: two-digit year %y (1969 or 2069?) are left out: each would read one file differently on
#: another machine or century.
_LAYOUT_DIRECTIVES = frozenset("YmdHMSfz%")
_TIME_DIRECTIVES = frozenset("HMSfz")
_OPTIONS_FOR = {
    "split": {"text"},
    "layouts": {"date", "datetime"},
    "naive_zone": {"datetime"},
    "epoch_ms": {"date", "datetime"},
    "true": {"bool"},
    "false": {"bool"},
}
#: Value kinds a conversion type can produce.
_TYPE_GIVES = {"text": "str", "date": "date", "datetime": "date", "bool": "bool", "int": "int"}


def _error(code: str, message: str, span: Span | None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.ERROR, message=message, span=span, help=help)


def _warning(code: str, message: str, span: Span | None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.WARNING, message=message, span=span, help=help)


def _close(word: str, choices: Sequence[str]) -> str | None:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6) if len(word) < 200 else []
    return found[0] if found else None


def _mean(word: str, choices: Sequence[str], fallback: str) -> str:
    close = _close(word, choices)
    return f"did you mean `{close}`?" if close else fallback


def _q(text: Any) -> str:
    """A user value for a message: visible characters only, shortened; never raises (an int of
    5,000 digits is described, not printed)."""
    return visible(text if isinstance(text, str) else shown(text, 80), 80)


class _Ctx:
    def __init__(self, loaded: LoadedYaml, pack: Pack | None) -> None:
        self.loaded = loaded
        self.data: Mapping[str, Any] = loaded.data
        self.pack = pack
        self.formats: Mapping[str, Any] = loaded.data.get("formats") or {}
        self.bounds: Mapping[str, Any] = loaded.data.get("bounds") or {}
        self.children: Mapping[str, Any] = loaded.data.get("children") or {}

    def span(self, *path: str | int) -> Span:
        return self.loaded.span_for(path)


def iter_profile_problems(loaded: LoadedYaml, pack: Pack | None = None) -> Iterator[Diagnostic]:
    """Every meaning problem of a schema-valid profile, check by check."""
    ctx = _Ctx(loaded, pack)
    yield from _check_formats(ctx)
    yield from _check_bounds(ctx)
    yield from _check_constants(ctx)
    yield from _check_fields(ctx)
    yield from _check_scalar_sources(ctx)
    yield from _check_events(ctx)
    yield from _check_unused(ctx)


# --- formats --------------------------------------------------------------------------------


def resolve_format(raw: Any, formats: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The format a conversion refers to (a name or an inline format), or None if unknown."""
    if raw is None:
        return BUILTIN_FORMATS["text"]
    if isinstance(raw, Mapping):
        return raw
    if raw in formats:
        found = formats[raw]
        return found if isinstance(found, Mapping) else None
    return BUILTIN_FORMATS.get(raw)


def _check_formats(ctx: _Ctx) -> Iterator[Diagnostic]:
    for name, fmt in ctx.formats.items():
        if name in BUILTIN_FORMATS:
            yield _error("PR609", f"format name `{name}` is a built-in type", ctx.span("formats", name),
                         f"name the format after what it reads, e.g. `{name}_export`")
        yield from _check_format(ctx, fmt, ("formats", name))


def _check_format(ctx: _Ctx, fmt: Mapping[str, Any], path: PathKey) -> Iterator[Diagnostic]:
    kind = fmt["type"]
    for option, types in _OPTIONS_FOR.items():
        if option in fmt and kind not in types:
            yield _error("PR603", f"option `{option}` does not apply to type `{kind}`", ctx.span(*path, option),
                         f"`{option}` is for {' and '.join(sorted(types))}")
    if kind == "datetime":
        zone = fmt.get("naive_zone")
        if zone is None:
            yield _error("PR606", "a date-time conversion without a time zone: `naive_zone` is missing",
                         ctx.span(*path),
                         "say the zone of values written without an offset: an IANA zone (`Europe/Oslo`, `UTC`), "
                         "`pack` (the pack's time zone) or `reject`; the day a date-time falls on depends on it")
        elif zone not in ("pack", "reject"):
            try:
                zone_named(zone)
            except ValueError:
                yield _error("PR607", f"`{_q(zone)}` is not a time zone of the IANA database",
                             ctx.span(*path, "naive_zone"), "write e.g. `Europe/Oslo` or `UTC`, or `pack` or `reject`")
    for i, layout in enumerate(fmt.get("layouts") or ()):
        problem = _layout_problem(layout, with_time=kind == "datetime")
        if problem:
            yield _error("PR608", f"layout `{_q(layout)}` {problem}", ctx.span(*path, "layouts", i),
                         "use %Y %m %d (and for date-times %H %M %S %f %z); write other characters as they appear")
    if kind == "bool":
        true_words = {w.strip().casefold() for w in fmt.get("true") or ("true", "yes", "1")}
        false_words = {w.strip().casefold() for w in fmt.get("false") or ("false", "no", "0")}
        both = sorted(true_words & false_words)
        if both:
            yield _error("PR611", f"`{_q(both[0])}` is read both as true and as false", ctx.span(*path),
                         "list each word under `true` or `false`, not both")


def _layout_problem(layout: str, *, with_time: bool) -> str | None:
    directives = re.findall(r"%(.)", layout.replace("%%", ""))
    if layout.replace("%%", "").endswith("%"):
        return "ends with a lone `%`"
    for d in directives:
        if d not in _LAYOUT_DIRECTIVES:
            return f"uses `%{d}`, which is not supported (locale-dependent or ambiguous)"
    for need in "Ymd":
        if need not in directives:
            return f"has no `%{need}`"
    if not with_time and any(d in _TIME_DIRECTIVES for d in directives):
        return "has a time of day, but the type is `date` (use `datetime`)"
    if len(directives) != len(set(directives)):
        return "names a directive twice"
    return None


def _conversion(ctx: _Ctx, raw: Any, path: PathKey) -> tuple[Mapping[str, Any] | None, list[Diagnostic]]:
    """The format of ``as:`` at ``path`` (None for `as` absent = text) and the problems with it."""
    if isinstance(raw, Mapping):
        return raw, list(_check_format(ctx, raw, path))
    fmt = resolve_format(raw, ctx.formats)
    if fmt is None:
        names = [*ctx.formats, *BUILTIN_FORMATS]
        return None, [_error("PR609", f"unknown format `{_q(raw)}`", ctx.span(*path),
                             _mean(str(raw), names, f"define it under `formats`, or use one of {', '.join(TYPES)}"))]
    if raw == "datetime" and "datetime" not in ctx.formats:
        return fmt, [_error("PR606", "a date-time conversion without a time zone: the built-in `datetime` has none",
                            ctx.span(*path),
                            "define a format with `type: datetime` and `naive_zone` (an IANA zone, `pack` or "
                            "`reject`) and name it here")]
    return fmt, []


# --- values ---------------------------------------------------------------------------------


def _number_problem(value: Any) -> str | None:
    """Why a number cannot be a fact: not finite, or too long to write out (JSON, messages)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "is not a finite number"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 63:
        return "is a number too large for a fact (more than 63 bits)"
    return None


def _value_problems(ctx: _Ctx, value: Any, kind: str, vocab: str | None, path: PathKey,
                    what: str) -> Iterator[Diagnostic]:
    """Problems with a canonical value a profile writes (a constant or a map output)."""
    span = ctx.span(*path)
    if value is None:
        return
    bad_number = _number_problem(value)
    if bad_number:
        yield _error("PR604", f"{what} {bad_number}", span, "write a whole number of at most 18 digits, or text")
        return
    if kind in ("ids", "strs"):
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, str):
                yield _error("PR604", f"{what}: `{_q(item)}` is not text", span)
            elif kind == "ids":
                yield from _id_problems(ctx, item, vocab, span, what)
        return
    if isinstance(value, list):
        yield _error("PR604", f"{what}: a list, but the field holds one value", span,
                     "write one value; only list fields (subject_categories ...) take lists")
        return
    if kind.startswith("enum:"):
        choices = kind[5:].split("|")
        if value not in choices:
            yield _error("PR604", f"{what}: `{_q(value)}` is not one of {', '.join(choices)}", span,
                         _mean(str(value), choices, f"write one of {', '.join(choices)}"))
    elif kind == "date":
        yield _error("PR604", f"{what}: a constant date is not a fact about the row", span,
                     "read the day from a host field, or write `{on_or_before: BOUND}` for an undated event")
    elif kind == "bool" and not isinstance(value, bool):
        yield _error("PR604", f"{what}: `{_q(value)}` is not true or false", span)
    elif kind == "int" and (not isinstance(value, int) or isinstance(value, bool)):
        yield _error("PR604", f"{what}: `{_q(value)}` is not a whole number", span)
    elif kind in ("str", "ids") and not isinstance(value, str):
        yield _error("PR604", f"{what}: `{_q(value)}` is not text", span)
    elif kind == "str" and vocab is not None and isinstance(value, str):
        yield from _id_problems(ctx, value, vocab, span, what)


def _id_problems(ctx: _Ctx, value: str, vocab: str | None, span: Span, what: str) -> Iterator[Diagnostic]:
    if not ID.fullmatch(value):
        yield _error("PR604", f"{what}: `{_q(value)}` is not an id (lowercase letters, digits, `_`)", span)
        return
    if vocab is None or ctx.pack is None:
        return
    defined = getattr(ctx.pack.vocabulary, vocab)
    if value not in defined:
        yield _error("PR605", f"{what}: `{value}` is not in the pack's {vocab.replace('_', ' ')}", span,
                     _mean(value, sorted(defined), f"the pack defines: {', '.join(sorted(defined)) or 'none'}"))


def _map_problems(ctx: _Ctx, mapping: Mapping[str, Any], kind: str, vocab: str | None, path: PathKey,
                  case_sensitive: bool) -> Iterator[Diagnostic]:
    seen: dict[str, str] = {}
    for key, out in mapping.items():
        norm = match_key(key, case_sensitive=case_sensitive)
        if norm in seen:
            yield _error("PR611", f"map keys `{_q(seen[norm])}` and `{_q(key)}` are the same value", ctx.span(*path, key),
                         "values are matched with dashes as `-`, spaces collapsed and (unless `case_sensitive`) "
                         "without case: keep one of them")
        seen.setdefault(norm, key)
        if isinstance(out, list) and kind not in ("ids", "strs"):
            yield _error("PR604", f"map value for `{_q(key)}`: a list, but the field holds one value", ctx.span(*path, key))
            continue
        yield from _value_problems(ctx, out, kind, vocab, (*path, key), f"map value for `{_q(key)}`")


# --- bounds, constants, fields -------------------------------------------------------------------


def _check_bounds(ctx: _Ctx) -> Iterator[Diagnostic]:
    for name, bound in ctx.bounds.items():
        if name == "known_on":
            yield _error("PR609", "bound name `known_on` is built in (the run's known-on day)", ctx.span("bounds", name),
                         "name the bound after its field, e.g. `last_modified`")
        fmt, problems = _conversion(ctx, bound.get("as"), ("bounds", name, "as"))
        yield from problems
        if fmt is not None and fmt["type"] not in ("date", "datetime"):
            yield _error("PR603", f"bound `{name}` must be read as a date or date-time, not `{fmt['type']}`",
                         ctx.span("bounds", name, "as"))


def _check_constants(ctx: _Ctx) -> Iterator[Diagnostic]:
    constants = ctx.data.get("constants") or {}
    for key, value in constants.items():
        if key == "facts":
            for name, fact in value.items():
                if not ID.fullmatch(name):
                    yield _error("PR604", f"fact name `{_q(name)}` is not an id", ctx.span("constants", "facts", name),
                                 "write lowercase letters, digits and `_`, starting with a letter")
                yield from _value_problems(ctx, fact, "fact", None, ("constants", "facts", name),
                                           f"constant `facts.{_q(name)}`")
                yield from _undeclared_fact(ctx, name, ctx.span("constants", "facts", name))
            continue
        kind = target_kind(key) or "str"
        yield from _value_problems(ctx, value, kind, VOCABULARY_OF.get((key, None)), ("constants", key),
                                   f"constant `{key}`")


def _undeclared_fact(ctx: _Ctx, name: str, span: Span) -> Iterator[Diagnostic]:
    """PR605 (with a pack) for a fact the pack does not declare: every record it writes would be
    refused (PR340), so the data belongs under `host` (left unmapped) or in the pack's vocabulary."""
    if ctx.pack is None:
        return
    declared = declared_facts(ctx.pack)
    if name not in declared:
        yield _error("PR605", f"`facts.{_q(name)}` is not a fact the pack declares", span,
                     _mean(f"facts.{name}", [f"facts.{n}" for n in sorted(declared)], "leave the host field unmapped (it is kept under `host`), or declare "
                           "the fact under the pack's vocabulary.facts if a rule reads it")
                     + "; every record carrying it would be undetermined (PR340)")


def _check_fields(ctx: _Ctx) -> Iterator[Diagnostic]:
    for host, spec in (ctx.data.get("fields") or {}).items():
        path: PathKey = ("fields", host)
        fmt, problems = _conversion(ctx, spec.get("as"), (*path, "as"))
        yield from problems
        has_to, has_flags = "to" in spec, "flags" in spec
        if has_to == has_flags:
            yield _error("PR612", f"field `{_q(host)}` needs either `to` or `flags`", ctx.span(*path),
                         "`to: CANONICAL_FIELD` for a value, `flags:` for boolean facts from a multi-value cell")
            continue
        case_sensitive = bool(spec.get("case_sensitive"))
        if has_flags:
            yield from _check_flags(ctx, spec, fmt, path, case_sensitive)
            continue
        target = spec["to"]
        kind = target_kind(target)
        if kind is None:
            yield _error("PR602", f"unknown canonical field `{_q(target)}`", ctx.span(*path, "to"),
                         _mean(target, all_targets(), "see the record format, docs/rule-language.md section 4"))
            continue
        if kind == "fact" and not ID.fullmatch(target[len("facts."):]):
            yield _error("PR604", f"fact name `{_q(target[len('facts.'):])}` is not an id", ctx.span(*path, "to"),
                         "write lowercase letters, digits and `_`, starting with a letter")
        elif kind == "fact":
            yield from _undeclared_fact(ctx, target[len("facts."):], ctx.span(*path, "to"))
        if fmt is not None:
            yield from _fit(ctx, fmt, kind, spec, (*path, "as"), f"`{target}`")
        if "map" in spec and fmt is not None:
            yield from _map_problems(ctx, spec["map"], kind, VOCABULARY_OF.get((target, None)), (*path, "map"),
                                     case_sensitive)


def _fit(ctx: _Ctx, fmt: Mapping[str, Any], kind: str, spec: Mapping[str, Any], path: PathKey,
         what: str) -> Iterator[Diagnostic]:
    """Problems when the conversion ``fmt`` (with ``spec``'s map) cannot give a value of ``kind``."""
    typ = fmt["type"]
    if "map" in spec:
        if typ != "text":
            yield _error("PR603", f"{what}: `map` reads text, but the conversion is `{typ}`", ctx.span(*path),
                         "use a text conversion with the map")
        if fmt.get("split") and kind not in ("ids", "strs"):
            yield _error("PR603", f"{what} holds one value, but the conversion splits the cell", ctx.span(*path),
                         "split only cells that feed a list field or `flags`")
        return
    if fmt.get("split") and kind not in ("ids", "strs"):
        yield _error("PR603", f"{what} holds one value, but the conversion splits the cell", ctx.span(*path),
                     "split only cells that feed a list field or `flags`")
    gives = _TYPE_GIVES[typ]
    if kind == "fact":
        return  # a fact may be text, a day, a boolean or a number
    if kind == "date" and gives != "date":
        yield _error("PR603", f"{what} is a date, but the conversion is `{typ}`", ctx.span(*path),
                     "read dates with a `date` or `datetime` conversion")
    elif kind != "date" and gives == "date":
        yield _error("PR603", f"{what} is not a date, but the conversion is `{typ}`", ctx.span(*path))
    elif kind in ("bool", "int") and gives != kind:
        yield _error("PR603", f"{what} is {'true or false' if kind == 'bool' else 'a whole number'}, "
                              f"but the conversion is `{typ}`", ctx.span(*path))
    elif (kind.startswith("enum:") or kind in ("str", "ids", "strs")) and gives != "str":
        yield _error("PR603", f"{what} is text, but the conversion is `{typ}`", ctx.span(*path),
                     "read it as text, with a `map` to the canonical values")


def _check_flags(ctx: _Ctx, spec: Mapping[str, Any], fmt: Mapping[str, Any] | None, path: PathKey,
                 case_sensitive: bool) -> Iterator[Diagnostic]:
    if fmt is not None and fmt["type"] != "text":
        yield _error("PR603", f"`flags` read text, but the conversion is `{fmt['type']}`", ctx.span(*path, "as"))
    seen: dict[str, str] = {}
    for fact, values in spec["flags"].items():
        if not fact.startswith("facts.") or not ID.fullmatch(fact[len("facts."):]):
            yield _error("PR602", f"a flag must be a fact `facts.<name>`, not `{_q(fact)}`", ctx.span(*path, "flags", fact),
                         "flags are boolean facts a pack's rules can read with `fact:`")
        else:
            yield from _undeclared_fact(ctx, fact[len("facts."):], ctx.span(*path, "flags", fact))
        for value in values:
            norm = match_key(value, case_sensitive=case_sensitive)
            if norm in seen:
                yield _error("PR611", f"host value `{_q(value)}` is listed under `{seen[norm]}` and `{_q(fact)}`",
                             ctx.span(*path, "flags", fact),
                             "a value sets one flag (matched with dashes as `-`, spaces collapsed, without case)")
            seen.setdefault(norm, fact)


def _check_scalar_sources(ctx: _Ctx) -> Iterator[Diagnostic]:
    """One source per scalar canonical field: two would leave which value wins to chance."""
    first: dict[str, str] = {}
    for key, value in (ctx.data.get("constants") or {}).items():
        if key == "facts":
            for name in value:
                first[f"facts.{name}"] = "a constant"
        elif key not in LIST_TARGETS:
            first[key] = "a constant"
    for host, spec in (ctx.data.get("fields") or {}).items():
        targets = [spec["to"]] if "to" in spec else list(spec.get("flags") or ())
        for target in targets:
            if target in LIST_TARGETS or target_kind(target) is None:
                continue
            if target in first:
                yield _error("PR610", f"`{_q(target)}` is written by {first[target]} and by field `{_q(host)}`",
                             ctx.span("fields", host), "a single-value field has one source: remove one of them")
            else:
                first[target] = f"field `{_q(host)}`"


# --- events ---------------------------------------------------------------------------------


def _check_events(ctx: _Ctx) -> Iterator[Diagnostic]:
    for i, event in enumerate(ctx.data.get("events") or ()):
        path: PathKey = ("events", i)
        to = event["to"]
        if to not in EVENT_LISTS:
            yield _error("PR602", f"unknown event list `{_q(to)}`", ctx.span(*path, "to"),
                         _mean(to, list(EVENT_LISTS), f"event lists: {', '.join(EVENT_LISTS)}"))
            continue
        child = event.get("from")
        if child is not None and child not in ctx.children:
            yield _error("PR609", f"unknown child table `{_q(child)}`", ctx.span(*path, "from"),
                         _mean(child, list(ctx.children), "declare it under `children` with its `key`"))
        when = event.get("when")
        table = ctx.children.get(child) if child is not None else None
        if isinstance(table, Mapping) and table.get("required") is False and to != "consents":
            yield _error("PR613", f"child table `{child}` is optional (`required: false`) but feeds `{to}`",
                         ctx.span(*path, "from"),
                         "only a consent log may be optional: a missing table of objections, restrictions or "
                         "requests would read as none and could turn a deny into an allow; make it required")
        conditions: list[tuple[Mapping[str, Any], PathKey]] = (
            [] if when is None else [(c, (*path, "when", n)) for n, c in enumerate(when)] if isinstance(when, list)
            else [(when, (*path, "when"))])
        for condition, where in conditions:
            if "fields" in condition and (child is not None or isinstance(when, list)):
                yield _error("PR612", "`fields` stands alone: on child rows and in a list of conditions each "
                                      "condition names one `field`", ctx.span(*where, "fields"))
            yield from _check_when(ctx, condition, where)
        if when is None and child is None:
            yield _error("PR612", f"event for `{to}` needs `when` (flat columns) or `from` (a child table)",
                         ctx.span(*path))
        yield from _check_entry(ctx, to, event["entry"], (*path, "entry"))


def _check_when(ctx: _Ctx, when: Mapping[str, Any], path: PathKey) -> Iterator[Diagnostic]:
    if ("field" in when) == ("fields" in when):
        yield _error("PR612", "`when` needs either `field` (one host field) or `fields` (a name pattern)",
                     ctx.span(*path))
    if "fields" in when:
        literal = when["fields"].replace("*", "")
        if "*" not in when["fields"] or not literal.strip():
            yield _error("PR612", f"name pattern `{_q(when['fields'])}` must have a `*` and some text around it",
                         ctx.span(*path, "fields"), "for one field write `field:`; a bare `*` would read every field")
    if sum(k in when for k in ("is", "in", "filled")) != 1:
        yield _error("PR612", "`when` needs one of `is`, `in` or `filled`", ctx.span(*path),
                     "e.g. `is: true` for an opt-out flag read as bool, `filled: true` for a date column")
    fmt, problems = _conversion(ctx, when.get("as"), (*path, "as"))
    yield from problems
    if fmt is None:
        return
    gives = _TYPE_GIVES[fmt["type"]]
    values = [when["is"]] if "is" in when else list(when.get("in") or ())
    for value in values:
        ok = {"bool": isinstance(value, bool), "int": isinstance(value, int) and not isinstance(value, bool),
              "str": isinstance(value, str)}.get(gives, False)
        if not ok:
            yield _error("PR603", f"`when` compares a `{fmt['type']}` value with `{_q(value)}`",
                         ctx.span(*path, "is" if "is" in when else "in"),
                         "compare bool with true/false, text with text, int with a whole number; "
                         "dates cannot trigger an entry")


def _check_entry(ctx: _Ctx, to: str, entry: Mapping[str, Any], path: PathKey) -> Iterator[Diagnostic]:
    fields, required = EVENT_LISTS[to]
    for key in sorted(required - set(entry)):
        yield _error("PR612", f"an entry of `{to}` needs `{key}`", ctx.span(*path),
                     f"every entry of `{to}` has {', '.join(sorted(required))}")
    for key, source in entry.items():
        where: PathKey = (*path, key)
        if key not in fields:
            yield _error("PR602", f"unknown field `{_q(key)}` in an entry of `{to}`", ctx.span(*where),
                         _mean(key, list(fields), f"entries of `{to}` have {', '.join(fields)}"))
            continue
        kind = fields[key]
        vocab = VOCABULARY_OF.get((to, key))
        if not isinstance(source, Mapping):
            yield from _value_problems(ctx, source, "ids" if kind == "ids" else kind, vocab, where, f"`{to}.{key}`")
            continue
        if ("field" in source) == ("on_or_before" in source):
            yield _error("PR612", f"`{to}.{key}` needs either `field` or `on_or_before`", ctx.span(*where))
            continue
        if "on_or_before" in source:
            yield from _check_undated(ctx, to, key, kind, source, where)
            continue
        fmt, problems = _conversion(ctx, source.get("as"), (*where, "as"))
        yield from problems
        if fmt is not None:
            yield from _fit(ctx, fmt, kind, source, (*where, "as"), f"`{to}.{key}`")
            if "map" in source:
                yield from _map_problems(ctx, source["map"], kind, vocab, (*where, "map"),
                                         bool(source.get("case_sensitive")))


def _check_undated(ctx: _Ctx, to: str, key: str, kind: str, source: Mapping[str, Any],
                   where: PathKey) -> Iterator[Diagnostic]:
    extra = sorted(set(source) - {"on_or_before"})
    if extra:
        yield _error("PR612", f"`{to}.{key}`: `on_or_before` takes no `{extra[0]}`", ctx.span(*where, extra[0]))
    if kind != "date":
        yield _error("PR603", f"`{to}.{key}` is not a date, so it cannot be `on_or_before`", ctx.span(*where))
        return
    bound = source["on_or_before"]
    if bound != "known_on" and bound not in ctx.bounds:
        yield _error("PR609", f"unknown bound `{_q(bound)}`", ctx.span(*where, "on_or_before"),
                     _mean(bound, [*ctx.bounds, "known_on"],
                           "declare it under `bounds`, or write `known_on` (the run's known-on day)"))
    if to == "consents" and key == "given_on":
        yield _warning("PR614", "a consent whose day of giving is unknown",
                       ctx.span(*where),
                       "the controller must be able to demonstrate consent (Art. 7(1), N53): a vendor flag "
                       "without a date, purpose and wording is weak proof; prefer a consent log with dates "
                       "(a child table), or say in the profile why this flag is enough")


# --- unused declarations --------------------------------------------------------------------


def _check_unused(ctx: _Ctx) -> Iterator[Diagnostic]:
    events = list(ctx.data.get("events") or ())
    used_bounds = {
        source.get("on_or_before")
        for event in events for source in event["entry"].values() if isinstance(source, Mapping)
    }
    for name in ctx.bounds:
        if name not in used_bounds:
            yield _warning("PR615", f"bound `{name}` is not used by any event", ctx.span("bounds", name),
                           "use it as `{on_or_before: " + name + "}` in an event entry, or remove it")
    used_children = {event.get("from") for event in events}
    for name in ctx.children:
        if name not in used_children:
            yield _warning("PR615", f"child table `{name}` is not used by any event", ctx.span("children", name),
                           "read it with `from: " + name + "` in an event, or remove it")
    used_formats = {value for value in _conversions(ctx.data) if isinstance(value, str)}
    for name in ctx.formats:
        if name not in used_formats:
            yield _warning("PR615", f"format `{name}` is not used", ctx.span("formats", name),
                           "name it in an `as:`, or remove it")


def _conversions(data: Mapping[str, Any]) -> Iterator[Any]:
    """Every `as:` value of the profile: in fields, bounds, event triggers and entry fields."""
    for spec in (data.get("fields") or {}).values():
        yield spec.get("as")
    for bound in (data.get("bounds") or {}).values():
        yield bound.get("as")
    for event in data.get("events") or ():
        when = event.get("when") or {}
        for condition in when if isinstance(when, list) else [when]:
            yield condition.get("as")
        for source in event["entry"].values():
            if isinstance(source, Mapping):
                yield source.get("as")
