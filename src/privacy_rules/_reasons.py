"""Reason codes and short reasons for compact batch answers (issue 8, item 5).

A retention job acts on a small, fixed vocabulary, not on prose. Each code is
``<outcome>:<why>``, derived from the outcome and how the combining order reached it
(docs/rule-language.md section 3), never from the rule texts:

=============================  ================================================================
``allow:permit``               a permission with a lawful basis holds
``allow:override``             an override holds (a legal obligation such as bookkeeping, a legal
                               hold): allowed whatever the prohibitions say
``deny:forbid``                a prohibition holds (an objection, a withdrawn consent, an erasure
                               request, a restriction ...)
``deny:window-ended``          no lawful basis because a permission's period has ended; the
                               reason names the window and its last day, and a keep answer
                               carries that day as ``keep_until`` (``decide.ended_keep_until``)
``deny:no-basis``              no rule gives a lawful basis (Art. 6(1))
``undetermined:missing-fact``  a rule that could change the answer needs a fact the record lacks
                               (or the exact day of an undated date, ``{"on_or_before": D}``)
``undetermined:unusable-fact`` a fact is present but in a form a rule cannot use (another kind,
                               not a date); the answer's problems name it
``undetermined:bad-record``    the row cannot be read, or is not a valid record (its problem
                               says why); nothing about the person was decided
``undetermined:internal-error`` deciding the record raised: a bug (PR316)
=============================  ================================================================

The short reason is the start of the explained ``Decision.reason`` (the same words, without
the rule's own explanation text), so ``decision.reason.startswith(answer.reason)`` holds.

Pure functions of their arguments; imported by the engines (policy, engines.durable), which
import nothing from each other.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Callable, Mapping, Sequence

from .compile.codegen import QuestionPlan
from .decide import (FORBID, OVERRIDE, PERMIT, Tables, ended_keep_until, forbid_keep_until, ended_text, not_ended,
                     window_end_of)
from .model import Basis, Pack, Pred, Window
from .records import SCALAR_PATHS, Facts

ALLOW_PERMIT = "allow:permit"
ALLOW_OVERRIDE = "allow:override"
DENY_FORBID = "deny:forbid"
DENY_WINDOW_ENDED = "deny:window-ended"
DENY_NO_BASIS = "deny:no-basis"
UND_MISSING = "undetermined:missing-fact"
UND_UNUSABLE = "undetermined:unusable-fact"
UND_BAD_RECORD = "undetermined:bad-record"
UND_INTERNAL = "undetermined:internal-error"

#: Every reason code, in the order the docs list them.
REASON_CODES: tuple[str, ...] = (ALLOW_PERMIT, ALLOW_OVERRIDE, DENY_FORBID, DENY_WINDOW_ENDED, DENY_NO_BASIS,
                                 UND_MISSING, UND_UNUSABLE, UND_BAD_RECORD, UND_INTERNAL)

# decide._reason's words for a no-basis deny; kept equal by tests/unit/test_reasons.py
NO_BASIS_TEXT = "no rule gives a lawful basis for this (Art. 6(1)); without one the answer is deny"

Detail = tuple[str, str, "Basis | None", "date | None"]  # code, short reason, basis, keep_until


def _holds() -> Callable[..., Any]:
    from .compile.interpret import holds  # imported on first use: only explanations need the interpreter

    return holds


def _plain_anchor(w: Window) -> str | None:
    """The record path of ``w``'s anchor when it is a date field the facts hold as an ISO string."""
    return w.anchor if w.anchor in SCALAR_PATHS else None


class Detailer:
    """(reason code, short reason, basis, keep_until) for one question's compact answers; built
    once per batch and question. Undetermined answers of a readable record need the explained
    path (which facts are missing); ``explain`` gives it, called only for them."""

    __slots__ = ("pack", "plan", "tables", "asof", "cuts", "memo", "windowed", "explain")

    def __init__(self, pack: Pack, plan: QuestionPlan, tables: Tables, asof: str, cuts: Mapping[str, str],
                 memo: dict[tuple[str, int], date] | None, explain: Callable[[Facts], Any]) -> None:
        self.pack = pack
        self.plan = plan
        self.tables = tables
        self.asof = asof
        self.cuts = cuts
        self.memo = memo
        self.explain = explain
        # permits and overrides with a `within` window: the only rules whose end can explain a
        # deny (decide.ended_windows); per window (id, the record path of its anchor when that is
        # a plain date field, else None)
        windows = pack.vocabulary.windows
        self.windowed: tuple[tuple[int, tuple[tuple[str, str | None], ...], tuple[Pred, ...]], ...] = tuple(
            (i, tuple((p.arg, _plain_anchor(windows[p.arg])) for p in r.when if p.kind == "within"),
             tuple(p for p in r.when if p.kind != "within"))
            for i, r in enumerate(plan.rules)
            if tables.effects[i] in (PERMIT, OVERRIDE) and any(p.kind == "within" for p in r.when))

    def detail(self, outcome: str, idx: int | None, why: str, statuses: Sequence[Any], facts: Facts,
               keep_until: date | None) -> Detail:
        tables = self.tables
        if why == "no-basis":
            ended = self._ended(statuses, facts)
            if ended:
                until = ended_keep_until(ended)
                return (DENY_WINDOW_ENDED, NO_BASIS_TEXT + "; " + "; ".join(ended_text(*e) for e in ended), None,
                        until)
            return DENY_NO_BASIS, NO_BASIS_TEXT, None, None
        if idx is None:  # undetermined: which facts are missing takes the explained path
            d = self.explain(facts)
            return (UND_UNUSABLE if getattr(d, "problems", ()) else UND_MISSING), d.reason, None, None
        head = f"{outcome} {tables.heads[idx]}"
        if why == "override" or why == "forbid":
            loser = FORBID if why == "override" else PERMIT
            effects = tables.effects
            rules = self.plan.rules
            over = [rules[i].id for i, s in enumerate(statuses) if s is True and i != idx and effects[i] == loser]
            if over:
                head += ", overriding " + ", ".join(f"`{o}`" for o in over)
        if keep_until is not None:
            head += f"; keep until {keep_until.isoformat()}"
        if why == "forbid":
            return DENY_FORBID, head, None, self.ended_until(statuses, facts, why, idx)
        return (ALLOW_OVERRIDE if why == "override" else ALLOW_PERMIT), head, tables.basis[idx], keep_until

    def ended_until(self, statuses: Sequence[Any], facts: Facts, why: str = "no-basis",
                    idx: int | None = None) -> date | None:
        """For a deny (``why`` no-basis, or forbid with the deciding rule ``idx``): its
        ``keep_until``, the day the basis lapsed (``decide.ended_keep_until``; for a forbid
        deny ``decide.forbid_keep_until``: its own ended windows, else the day an override last
        held it off), None when no such window ended. Without ``detail``'s reason text: what
        ``decide_batch(..., reasons=False)`` fills in."""
        if why == "forbid" and idx is not None:
            return forbid_keep_until(self.plan.rules[idx].when, self.pack.vocabulary.windows, facts, self.asof,
                                     self.memo, lambda: self._ended(statuses, facts, (OVERRIDE,)))
        if not self.windowed or why != "no-basis":
            return None
        return ended_keep_until(self._ended(statuses, facts))

    def _ended(self, statuses: Sequence[Any], facts: Facts,
               tiers: tuple[int, ...] = (PERMIT, OVERRIDE)) -> list[tuple[str, str, date, bool]]:
        """Permits and overrides (``tiers``) that failed only because a window ended:
        decide.ended_windows, with the cheap test (has a window ended?) first, so most denies
        never reach the interpreter."""
        out: list[tuple[str, str, date, bool]] = []
        if not self.windowed:
            return out
        asof, cuts = self.asof, self.cuts
        windows = self.pack.vocabulary.windows
        effects = self.tables.effects
        for i, wins, others in self.windowed:
            if statuses[i] is not False or effects[i] not in tiers:
                continue
            ended = []
            for wid, path in wins:
                if not_ended(path, facts, cuts[wid]):
                    continue  # the cheap test (decide.not_ended): no date maths
                end = window_end_of(windows[wid], facts, asof, self.memo, undated="latest")
                if isinstance(end, date) and end.isoformat() < asof:
                    ended.append((wid, end, bool(facts.undated) and window_end_of(windows[wid], facts, asof) != end))
            if not ended:
                continue
            q = self.plan.question
            holds = _holds()  # the plain definitions: the slow path, only for a permit whose window ended
            if all(holds(p, self.pack, q, facts, asof, self.cuts, None) is True for p in others):
                rid = self.plan.rules[i].id
                out.extend((rid, w, end, undated) for w, end, undated in ended)
        return out


__all__ = ["REASON_CODES", "Detailer", "NO_BASIS_TEXT", "ALLOW_PERMIT", "ALLOW_OVERRIDE", "DENY_FORBID",
           "DENY_WINDOW_ENDED", "DENY_NO_BASIS", "UND_MISSING", "UND_UNUSABLE", "UND_BAD_RECORD", "UND_INTERNAL"]
