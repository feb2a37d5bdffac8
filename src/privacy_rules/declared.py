"""The pack-defined facts: which `facts.*` a pack's rules and windows read, and which it declares.

A record's ``facts`` object holds facts the pack defines. A key the pack does not know is a
record problem (PR340, records.py), never silently absent: a misspelt
`facts.deletion_instructed` would leave `facts.deletion_instructed_on` absent, and an absent
date that a `happened:` condition reads as "has not happened" turns a deny into an allow.

The known keys are ``vocabulary.facts`` in pack.yaml (each with its kind). A pack without that
section (older packs, small test packs) declares exactly the facts its rules and windows read,
derived here, so records carrying other keys are refused for those packs too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterable, Iterator, Mapping

from .model import FactSpec, Pack, Pred, Rule

__all__ = ["DATE_OPS", "FACT_KINDS", "FactRead", "declared_facts", "fact_reads", "value_kind"]

#: The kinds a declared fact has (vocabulary.facts.<id>.kind).
FACT_KINDS = ("date", "boolean", "number", "string")
#: `fact` operators that read the value as a date.
DATE_OPS = frozenset({"before", "on_or_before", "after", "on_or_after"})


@dataclass(frozen=True, slots=True)
class FactRead:
    """One place that reads ``facts.<name>``: a rule's condition or a window's anchor.

    ``kinds``: the kinds of value the place can use: {"date"} for `happened`, a window and a
    date comparison; the kinds of the values a `fact` condition compares with otherwise (empty
    when it compares only with values no record holds, such as null).
    """

    name: str
    kinds: frozenset[str]
    how: str  # for messages: "`happened: facts.x`", "window `w`", "`equals: true`"
    rule: Rule | None = None
    window: str | None = None


def value_kind(value: Any) -> str | None:
    """The kind of a `fact` condition's value (compile/runtime.py); None: matches no record value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):  # never math.isfinite(): an int past 1e308 has no float (OverflowError)
        return "number"
    if isinstance(value, float):
        return "number" if math.isfinite(value) else None
    if isinstance(value, str):
        return "string"
    return None


def _walk(preds: Iterable[Pred]) -> Iterator[Pred]:
    for p in preds:
        yield p
        yield from _walk(p.children)


def fact_reads(pack: Pack) -> Iterator[FactRead]:
    """Every read of a `facts.*` path: window anchors (in id order), then rules in pack order. Pure."""
    for wid in sorted(pack.vocabulary.windows):
        anchor = pack.vocabulary.windows[wid].anchor
        if anchor.startswith("facts."):
            yield FactRead(anchor[6:], frozenset({"date"}), f"window `{wid}`", window=wid)
    for r in pack.rules:
        for p in _walk(r.when):
            if p.kind == "happened" and isinstance(p.arg, str) and p.arg.startswith("facts."):
                yield FactRead(p.arg[6:], frozenset({"date"}), f"`happened: {p.arg}`", rule=r)
            elif p.kind == "fact" and p.arg["path"].startswith("facts."):
                op, value = p.arg["op"], p.arg["value"]
                if op in DATE_OPS:
                    kinds = frozenset({"date"})
                else:
                    values = value if op in ("in", "not_in") else (value,)
                    kinds = frozenset(k for k in map(value_kind, values) if k is not None)
                yield FactRead(p.arg["path"][6:], kinds, f"`{op}` on `{p.arg['path']}`", rule=r)


def declared_facts(pack: Pack) -> Mapping[str, FactSpec]:
    """The facts a record may carry under ``facts`` for ``pack``: ``vocabulary.facts`` when the
    pack has it, else the facts its rules and windows read (``declared=False``), each with the
    kind they read it as (date wins; None when they compare it with no one kind). Pure."""
    if pack.vocabulary.facts is not None:
        return pack.vocabulary.facts
    kinds: dict[str, set[str]] = {}
    for read in fact_reads(pack):
        kinds.setdefault(read.name, set()).update(read.kinds)
    out = {}
    for name in sorted(kinds):
        found = kinds[name]
        kind = "date" if "date" in found else (next(iter(found)) if len(found) == 1 else None)
        out[name] = FactSpec(id=name, kind=kind, declared=False)
    return MappingProxyType(out)
