"""Checks on the pack-defined facts (vocabulary.facts; declared.py): PR223-PR225.

With ``vocabulary.facts`` the pack names every fact a record may carry, and its kind. A rule or
window reading a fact that is not declared (PR223) would read a key every record is refused
for carrying (PR340); a rule reading a fact as another kind than declared (PR224) could never
hold as written. Without the section the declared set is derived from the rules and there is
nothing to check here.
"""

from __future__ import annotations

import difflib
from typing import Iterator

from ..declared import FactRead, fact_reads, value_kind
from ..load import LoadedYaml
from ..model import Diagnostic, Pack, Severity, Span

_A = {"date": "a date", "boolean": "a boolean", "number": "a number", "string": "a string"}


def _span(head: LoadedYaml, read: FactRead) -> Span | None:
    if read.window is not None:
        return head.span_for(("vocabulary", "windows", read.window, "from"))
    return read.rule.span if read.rule is not None else None


def check_declared_facts(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR223 for a read of an undeclared fact, PR224 for a read of another kind than declared,
    PR225 for an ``if_absent`` value that does not fit its fact."""
    declared = pack.vocabulary.facts
    if declared is None:
        return
    names = sorted(declared)
    for read in fact_reads(pack):
        rule_id = read.rule.id if read.rule is not None else None
        spec = declared.get(read.name)
        if spec is None:
            close = difflib.get_close_matches(read.name, names, n=1, cutoff=0.6)
            yield Diagnostic(
                code="PR223", severity=Severity.ERROR, span=_span(head, read), rule_id=rule_id,
                message=f"`facts.{read.name}` is not declared in vocabulary.facts (read by {read.how})",
                help=(f"did you mean `facts.{close[0]}`? " if close else "")
                + f"declare it under vocabulary.facts with its kind: a record carrying `facts.{read.name}` is "
                  "refused (PR340) while the pack does not declare it")
            continue
        if spec.kind is None:  # INVARIANT: a declared fact has a kind (the schema requires it)
            continue
        # a date is a YYYY-MM-DD string: `equals: "2024-01-31"` compares it
        fits = {"date", "string"} if spec.kind == "date" else {spec.kind}
        wrong = sorted(k for k in read.kinds if k not in fits)
        if wrong:
            yield Diagnostic(
                code="PR224", severity=Severity.ERROR, span=_span(head, read), rule_id=rule_id,
                message=f"`facts.{read.name}` is read as {' or '.join(_A[k] for k in wrong)} (by {read.how}), "
                        f"but vocabulary.facts declares it {_A[str(spec.kind)]}",
                help="a record's value only matches a condition of its own kind, so the condition would be unknown "
                     "for every valid value: compare with the declared kind, or correct the declaration "
                     "(`happened`, window `from` and before/after comparisons need a date)")
    for name, spec in declared.items():
        if spec.if_absent is None:
            continue
        span = head.span_for(("vocabulary", "facts", name, "if_absent"))
        if spec.kind == "date":
            yield Diagnostic(
                code="PR225", severity=Severity.ERROR, span=span,
                message=f"fact `{name}` is a date and has `if_absent`; an absent date is not given a value",
                help="remove `if_absent`: a `happened` condition reads an absent date as not happened, a window "
                     "with `open_if_absent: true` as still open, and anything else as unknown")
        elif value_kind(spec.if_absent) != spec.kind:
            yield Diagnostic(
                code="PR225", severity=Severity.ERROR, span=span,
                message=f"fact `{name}` is declared {_A[str(spec.kind)]}, but its `if_absent` is "
                        f"{_A.get(str(value_kind(spec.if_absent)), 'no such value')}",
                help=f"write `if_absent` as {_A[str(spec.kind)]} (`false`, not `\"false\"` or `0`)")
