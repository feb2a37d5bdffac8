"""Plumbing shared by the engines (policy.Policy, engines.durable.DurablePolicy): how a record's
problems are worded in an answer.

Both engines must word a bad record exactly alike (the durable engine is a differential oracle
for the compiled one), so the wording lives here, once, rather than privately in one engine.
"""

from __future__ import annotations

from typing import Sequence

from .model import Diagnostic


def invalid_reason(problems: Sequence[Diagnostic]) -> str:
    """The ``reason`` of an UNDETERMINED decision for a record that cannot be evaluated.

    ``problems`` is non-empty (RecordInvalid always carries at least one).
    """
    first = problems[0]
    text = "the record cannot be evaluated: " + first.message + (f" ({first.help})" if first.help else "")
    if len(problems) > 1:
        text += f"; and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''}"
    return text


def compact(problems: Sequence[Diagnostic]) -> str:
    """Every problem on one line, ``CODE message (help)`` joined by ``; ``: a batch row's ``problem``."""
    return "; ".join(f"{p.code} {p.message}" + (f" ({p.help})" if p.help else "") for p in problems)


__all__ = ["compact", "invalid_reason"]
