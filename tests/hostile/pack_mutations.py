"""Mutate the values of a valid pack and look for values that pass `check` but crash later.

Each mutation replaces one value of pack.yaml or of a rule file (huge and negative numbers,
empty strings, out-of-range and impossible dates, unknown ids, wrong types, control
characters ...). A mutated pack that `read_pack` accepts must then compile, decide every
standard question for sample records on sample days, explain, render (HTML and Markdown, with
a scenario report) and run its scenarios without raising, and the command line's default day
(today in the pack's time zone) must be computable. A mutated pack that `read_pack` refuses
must be refused with diagnostics, never an exception.

Run as a script for the full hunt (a few minutes), e.g.::

    PYTHONPATH=src python tests/hostile/pack_mutations.py tests/packs/mini rules/iconfirm

tests/hostile/test_pack_check.py runs a deterministic sample of the same mutations.
"""

from __future__ import annotations

import copy
import json
import shutil
import sys
import tempfile
import traceback
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]

#: Replacement values tried for every leaf, whatever its type (wrong types are part of the hunt).
VALUES: tuple[Any, ...] = (
    "", " ", "zz_unknown", "ZZ", "0001-01-01", "9999-12-31", "2023-02-30", "1899-12-31", "2201-01-01",
    "1900-01-01", "2200-12-31", "x\n", "a\u202eb", "\ud800", "../../etc/passwd", "/etc/passwd",
    "x" * 5000, 0, -1, 1, 1200, 1201, 10**6, 10**18, 1.5, float("inf"), True, False, None, [], {},
    ["zz_unknown"], {"zz_unknown": 1},
)

#: Records every mutated pack decides; together they reach every predicate of the mini pack.
RECORDS: tuple[dict[str, Any], ...] = (
    {"id": "empty"},
    {"id": "p1", "role": "controller", "subject_categories": ["prospect"],
     "relationship": {"first_contact_on": "2022-01-31"},
     "consents": [{"purpose": "newsletter", "given_on": "2021-01-01"}]},
    {"id": "c1", "role": "controller", "subject_categories": ["customer"],
     "relationship": {"first_contact_on": "2015-01-01", "customer_since": "2016-01-01",
                      "customer_ended_on": "2020-02-29"},
     "vouchers": [{"fiscal_year": 2019, "fiscal_year_end": "2019-12-31"}],
     "erasure_requests": [{"received_on": "2024-01-31", "verified_on": "2024-02-01"}],
     "objections": [{"kind": "art21_2", "received_on": "2023-05-01"}]},
    {"id": "r1", "role": "controller", "subject_categories": ["customer", "prospect"],
     "data_categories": ["special_category"], "contact_address_kind": "impersonal", "source": "website",
     "art14_informed_on": "2021-03-31",
     "relationship": {"first_contact_on": "1999-12-31", "customer_since": "2000-02-29",
                      "customer_ended_on": "2199-12-31"},
     "facts": {"contract_signed_on": "2024-02-29", "tier": 3, "region": "x", "first_mail_on": "2024-01-01"},
     "consents": [{"purpose": "crm", "recipient": "crm_us", "given_on": "2020-01-01", "withdrawn_on": "2024-02-01"},
                  {"purpose": "newsletter", "given_on": "2020-01-01"}],
     "objections": [{"kind": "art21_1", "received_on": "2024-01-01", "compelling_grounds_on": "2024-01-05"}],
     "restrictions": [{"requested_on": "2024-01-01", "ground": "art18_1_a"}],
     "rights_requests": [{"kind": "access", "received_on": "2024-01-01"}],
     "legal_holds": [{"placed_on": "2023-01-01", "scopes": ["record", "voucher"]}],
     "disclosure_orders": [{"recipient": "police", "received_on": "2024-01-01", "binding": True}],
     "vouchers": [{"fiscal_year": 2024, "fiscal_year_end": "2024-12-31"}]},
)
DAYS = (date(1900, 1, 1), date(2024, 2, 29), date(2200, 12, 31))


@dataclass(frozen=True, slots=True)
class Mutation:
    file: str  # the file's name inside the pack folder
    path: tuple[Any, ...]  # where in the file's data
    value: Any  # the new value (a key rename when ``rename`` is set)
    rename: bool = False

    def __str__(self) -> str:
        where = ".".join(map(str, self.path))
        return f"{self.file}:{where} {'renamed to' if self.rename else '='} {self.value!r:.60}"


def leaves(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, value) of every value in ``data``, containers included."""
    yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from leaves(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from leaves(v, path + (i,))


#: Values tried on free text (labels, explanations, quotes, titles): its type and characters only.
TEXT_VALUES: tuple[Any, ...] = ("", "x\n", "a\u202eb\x1b[2J", "\ud800", "\ufffe", 1, None)
_TEXT_KEYS = frozenset({"en", "nb", "title", "note", "quote", "section", "name", "controller", "reviewer",
                        "sub_processor_of", "appendix", "article", "articles"})


def shape(name: str, path: tuple[Any, ...]) -> tuple[Any, ...]:
    """``path`` with list indices, vocabulary ids and norm ids generalised: one mutation per shape."""
    out: list[Any] = ["pack.yaml" if name == "pack.yaml" else "rules"]
    for i, key in enumerate(path):
        general = isinstance(key, int) or (name == "pack.yaml" and i == 2 and path[0] in ("vocabulary", "pack"))
        out.append("*" if general else key)
    return tuple(out)


def mutations(pack_dir: Path, values: tuple[Any, ...] = VALUES) -> Iterator[Mutation]:
    """One mutation per (shape of path, value) of the pack at ``pack_dir``: pack.yaml and its rule files."""
    from privacy_rules.load import load_yaml_file

    head = load_yaml_file(pack_dir / "pack.yaml").data
    seen: set[tuple[Any, ...]] = set()  # (shape, value) and (shape, "rename", new key)
    for name in ["pack.yaml", *head["files"]]:
        data = load_yaml_file(pack_dir / name).data
        for path, old in leaves(data):
            if not path:
                continue
            text = any(k in _TEXT_KEYS for k in path if isinstance(k, str)) or path[-1] == "label"
            for value in (TEXT_VALUES if text else values):
                if type(value) is type(old) and value == old:
                    continue
                tried: tuple[Any, ...] = (shape(name, path), repr(value))
                if tried not in seen:
                    seen.add(tried)
                    yield Mutation(name, path, value)
            parent = _at(data, path[:-1])
            if isinstance(parent, dict) and not text:  # vocabulary keys and other mapping keys
                for new in ("zz_unknown", "x\n", "a\u200bb", "N9999999999999999999999"):
                    renamed: tuple[Any, ...] = (shape(name, path), "rename", new)
                    if renamed not in seen:
                        seen.add(renamed)
                        yield Mutation(name, path, new, rename=True)


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def apply(pack_dir: Path, m: Mutation, into: Path) -> None:
    """Copy the pack to ``into`` with mutation ``m`` applied (files written as JSON, a subset of YAML)."""
    from privacy_rules.load import load_yaml_file

    shutil.copytree(pack_dir, into, dirs_exist_ok=True)
    data = copy.deepcopy(load_yaml_file(pack_dir / m.file).data)
    parent = _at(data, m.path[:-1])
    key = m.path[-1]
    if m.rename:
        parent[m.value] = parent.pop(key)
    else:
        parent[key] = m.value
    (into / m.file).write_text(json.dumps(data, ensure_ascii=True, allow_nan=True), encoding="utf-8")


def exercise(folder: Path) -> str | None:
    """None when the pack is refused with diagnostics or works end to end; else the traceback."""
    import pendulum

    from privacy_rules import compile_pack, explain, render_pack
    from privacy_rules.pack import read_pack
    from privacy_rules.scenarios import run_pack_scenarios

    try:
        pack, diags = read_pack(folder)
        if pack is None:
            assert diags, "refused without a diagnostic"
            for diag in diags:
                str(diag).encode("utf-8")  # a message must be printable
            return None
        for diag in diags:
            str(diag).encode("utf-8")
        pendulum.now(str(pack.meta.get("time_zone") or "UTC")).date()  # the CLI's default as_of
        for lang in ("en", "nb"):
            policy = compile_pack(pack, lang=lang)
            for record in RECORDS:
                for day in DAYS:
                    for d in policy.decide_all(record, as_of=day):
                        explain(d, lang=lang).encode("utf-8")
                        json.dumps(d.to_json(), ensure_ascii=False).encode("utf-8")
                rows = list(policy.decide_batch(RECORDS, policy.standard_questions, as_of=DAYS[1]))
                assert len(rows) == len(RECORDS)
            report = run_pack_scenarios(policy)
            for fmt in ("html", "markdown"):
                render_pack(pack, lang=lang, fmt=fmt, report=report, as_of=DAYS[1]).encode("utf-8")
    except Exception:  # noqa: BLE001 - the hunt reports every kind
        return traceback.format_exc()
    return None


def hunt(pack_dir: Path, select: Callable[[int, Mutation], bool] = lambda i, m: True) -> Iterator[tuple[Mutation, str]]:
    """(mutation, traceback) for every selected mutation that crashes."""
    with tempfile.TemporaryDirectory() as tmp:
        for i, m in enumerate(mutations(pack_dir)):
            if not select(i, m):
                continue
            folder = Path(tmp) / f"m{i}"
            apply(pack_dir, m, folder)
            crash = exercise(folder)
            shutil.rmtree(folder)
            if crash is not None:
                yield m, crash


def main(argv: list[str]) -> int:
    found = 0
    for name in argv or ["tests/hostile/pack_check/seed", "tests/packs/mini"]:
        for m, crash in hunt(ROOT / name):
            found += 1
            last = crash.strip().splitlines()[-1]
            print(f"{name}: {m}\n    {last}", flush=True)
    print(f"{found} crashing mutation(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
