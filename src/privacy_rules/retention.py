"""Retention plans: per record and keep scope, what a retention job does (issue 8, item 6).

A sweep that asks only the standard questions asks keep of the default scope (the relationship
record), and a job acting on that alone would delete live newsletter subscriptions, vouchers
under bookkeeping law and suppression entries (READINGS.md #10). A plan asks keep of every scope
(the pack's ``sweep`` question set, else every scope of the vocabulary) and turns each answer
into an action:

============  =====================  =============================================================
answer        action                 what the job does
============  =====================  =============================================================
allow         ``keep``               keep that scope's data, until ``keep_until`` (null: no end
                                     date yet); for ``suppression_entry``: keep (or create) the
                                     minimal suppression entry (R10)
deny          ``delete``             delete that scope's data (``keep_until`` set: the day the
                                     basis lapsed, reason code ``deny:window-ended``)
undetermined  ``review``             do not delete: a person looks; ``missing_facts`` names what
                                     the record lacks, ``problem`` what it holds in a form no
                                     rule can use (a legal hold that might apply makes deleting a
                                     breach too, docs/rule-language.md §3)
============  =====================  =============================================================

``review`` is never ``delete``: an undetermined keep answer is not a licence to erase. Pure
functions of their arguments; the CLI (``evaluate --plan``) and the API share them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Iterator, Sequence

from ._answers import select_questions
from .model import Action, Outcome, Question
from .pipeline import Item, Result, evaluate_items
from .policy import Policy

KEEP, DELETE, REVIEW = "keep", "delete", "review"
ACTIONS = (KEEP, DELETE, REVIEW)
#: the set a plan asks by default (validate/semantic.py warns PR234 when it leaves a scope out)
SWEEP_SET = "sweep"
#: the scope whose ``keep`` answer says "keep a suppression entry" (R10)
SUPPRESSION_SCOPE = "suppression_entry"

_ACTION = {Outcome.ALLOW: KEEP, Outcome.DENY: DELETE, Outcome.UNDETERMINED: REVIEW}


@dataclass(frozen=True, slots=True)
class ScopeStep:
    """What to do with one scope of one record."""

    scope: str
    action: str  # keep | delete | review
    keep_until: date | None = None
    rule_id: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    missing_facts: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def text(self) -> str:
        """The step in words: ``keep until 2026-08-31``, ``keep suppression entry``,
        ``delete (kept until 2024-04-30, passed)``, ``review: missing `x```."""
        if self.action == KEEP:
            what = "keep suppression entry" if self.scope == SUPPRESSION_SCOPE else "keep"
            return f"{what} until {self.keep_until.isoformat()}" if self.keep_until else \
                (what if self.scope == SUPPRESSION_SCOPE else "keep (no end date yet)")
        if self.action == DELETE:
            return f"delete (kept until {self.keep_until.isoformat()}, passed)" if self.keep_until else "delete"
        why = []
        if self.missing_facts:
            why.append("missing " + ", ".join(f"`{m}`" for m in self.missing_facts))
        if self.problem:
            why.append(self.problem)
        return "review" + (": " + "; ".join(why) if why else "")

    def to_json(self) -> dict[str, Any]:
        return {"scope": self.scope, "question": f"keep:{self.scope}", "action": self.action,
                "keep_until": self.keep_until.isoformat() if self.keep_until else None, "rule_id": self.rule_id,
                "reason_code": self.reason_code, "reason": self.reason, "missing_facts": list(self.missing_facts),
                "problem": self.problem}


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    """The steps for one record, one per scope asked, in the order asked."""

    record_id: str | None
    as_of: date
    steps: tuple[ScopeStep, ...]
    problem: str | None = None  # why the record could not be decided at all (every step is review)
    row: int | None = None
    locator: str | None = None
    line: int | None = None

    @property
    def keep_suppression_entry(self) -> bool:
        """A suppression entry must be kept (or made): the ``suppression_entry`` scope is allowed (R10)."""
        return any(s.scope == SUPPRESSION_SCOPE and s.action == KEEP for s in self.steps)

    @property
    def delete_all(self) -> bool:
        """Every scope asked is ``delete``: nothing of the record may stay."""
        return bool(self.steps) and all(s.action == DELETE for s in self.steps)

    def counts(self) -> dict[str, int]:
        return {a: sum(1 for s in self.steps if s.action == a) for a in ACTIONS}

    def to_json(self) -> dict[str, Any]:
        """One line of ``evaluate --plan``; validates against schemas/plan.schema.json."""
        return {"format_version": 1, "row": self.row, "locator": self.locator, "line": self.line,
                "record_id": self.record_id, "as_of": self.as_of.isoformat(), "delete_all": self.delete_all,
                "keep_suppression_entry": self.keep_suppression_entry, "counts": self.counts(),
                "scopes": [s.to_json() for s in self.steps], "problem": self.problem}


def plan_questions(policy: Policy, question_set: str | None = None) -> list[Question]:
    """The keep questions a plan asks: ``question_set`` (default ``sweep``) when the pack
    defines it, else, for the default only, keep of every scope in the vocabulary (a plan that
    asks every scope cannot miss one). ValueError when the set asks anything but keep: a plan
    says what to keep or delete, and contact and share answers say neither."""
    if question_set is None and SWEEP_SET not in policy.question_sets:
        return [Question.keep(s) for s in policy.pack.vocabulary.scopes]
    sets = policy.question_sets
    qs = select_questions(None, question_set or SWEEP_SET, policy.standard_questions, sets, policy.check_question)
    return keep_only(qs)


def keep_only(questions: Sequence[Question]) -> list[Question]:
    """``questions`` unchanged; ValueError naming the first that is not a keep question."""
    for q in questions:
        if q.action is not Action.KEEP or not q.scope:
            raise ValueError(f"a retention plan asks keep questions with a scope only, not `{q}`: contact and share "
                             "answers say neither keep nor delete")
    return list(questions)


def retention_plan(policy: Policy, record: Any, *, as_of: date | str, question_set: str | None = None) -> RetentionPlan:
    """The retention plan for one record (a mapping or its JSON text): keep of every scope of
    the ``sweep`` set (or ``question_set``; ``plan_questions``), each step keep / delete /
    review, exactly as ``evaluate --plan`` writes it. A record that is not valid gets review
    for every scope, with its problem. Raises as ``Policy.decide_all`` for bad arguments."""
    from .dates import parse_as_of

    day = parse_as_of(as_of)
    qs = plan_questions(policy, question_set)
    return next(plan_results(policy, [Item(1, "record", None, record)], qs, as_of=day))[1]


def plan_results(policy: Policy, source_items: Iterable[Item], questions: Sequence[Question], *,
                 as_of: date) -> Iterator[tuple[Result, RetentionPlan]]:
    """For each item, in order: its batch Result (as ``evaluate`` writes it, for the summary and
    the gates) and its plan. Fast path: the batch answers with reasons; only an undetermined
    answer of a readable record is explained again (``decide``) to name its missing facts."""
    qs = keep_only(questions)
    pending: deque[Item] = deque()

    def feed() -> Iterator[Item]:
        for it in source_items:
            pending.append(it)
            yield it

    for r in evaluate_items(policy, feed(), qs, as_of=as_of):
        it = pending.popleft()
        missing: dict[int, tuple[tuple[str, ...], str | None]] = {}
        if r.problem is None:
            open_ = [i for i, a in enumerate(r.answers) if a.outcome is Outcome.UNDETERMINED]
            if open_:
                explained = policy.decide_all(it.record, [qs[i] for i in open_], as_of=as_of)
                for i, d in zip(open_, explained):
                    missing[i] = (d.missing_facts, "; ".join(f"{p.code} {p.message}" for p in d.problems) or None)
        steps = []
        for i, (q, a) in enumerate(zip(qs, r.answers)):
            facts, problem = missing.get(i, ((), a.problem))
            assert q.scope is not None
            steps.append(ScopeStep(scope=q.scope, action=_ACTION[a.outcome], keep_until=a.keep_until, rule_id=a.rule_id,
                                   reason_code=a.reason_code, reason=a.reason, missing_facts=facts,
                                   problem=problem if r.problem is None else r.problem))
        yield r, RetentionPlan(record_id=r.record_id, as_of=as_of, steps=tuple(steps), problem=r.problem, row=r.row,
                               locator=r.locator, line=r.line)


@dataclass
class PlanTally:
    """Counts for the plan's summary: per scope and action, and records to delete entirely,
    with a suppression entry to keep, and with something to review. Not thread-safe."""

    scopes: Sequence[str]

    def __post_init__(self) -> None:
        self.records = 0
        self.delete_all = 0
        self.keep_suppression_entry = 0
        self.review = 0
        self.per_scope: dict[str, dict[str, int]] = {s: {a: 0 for a in ACTIONS} for s in self.scopes}

    def add(self, plan: RetentionPlan) -> None:
        self.records += 1
        self.delete_all += plan.delete_all
        self.keep_suppression_entry += plan.keep_suppression_entry
        self.review += any(s.action == REVIEW for s in plan.steps)
        for s in plan.steps:
            self.per_scope[s.scope][s.action] += 1

    def to_json(self) -> dict[str, Any]:
        return {"records": self.records, "delete_all": self.delete_all,
                "keep_suppression_entry": self.keep_suppression_entry, "review": self.review,
                "scopes": [{"scope": s, **self.per_scope[s]} for s in self.scopes]}


def plan_text(plan: RetentionPlan) -> str:
    """The plan for people (``evaluate --plan --format text``); untrusted text is escaped."""
    from ._escape import escape

    head = f"{escape(plan.record_id or '(no id)')} ({escape(plan.locator or '')}), as of {plan.as_of.isoformat()}"
    flags = []
    if plan.delete_all:
        flags.append("delete the whole record")
    if plan.keep_suppression_entry:
        flags.append("keep a suppression entry")
    lines = [head + (": " + "; ".join(flags) if flags else "")]
    if plan.problem is not None:
        lines.append(f"  every scope: review: {escape(plan.problem)}")
        return "\n".join(lines) + "\n"
    width = max((len(s.scope) for s in plan.steps), default=0)
    for s in plan.steps:
        lines.append(f"  {escape(s.scope):<{width}}  {escape(s.text)}")
    return "\n".join(lines) + "\n"


__all__ = ["ACTIONS", "DELETE", "KEEP", "PlanTally", "REVIEW", "RetentionPlan", "SUPPRESSION_SCOPE", "SWEEP_SET",
           "ScopeStep", "keep_only", "plan_questions", "plan_results", "plan_text",
           "retention_plan"]
