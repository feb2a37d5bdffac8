"""Undated dates are sound (issue 8, item 2; docs/rule-language.md, "Dates known only as on or
before"): a decision over ``{"on_or_before": D}`` that is allow or deny is the decision for
every exact day d <= D.

For generated records (every date field, days around windows, 29 February and 31 August), some
dates are replaced by ``{"on_or_before": D}`` with D on or after the exact day d; then on every
engine and path (Policy.decide, decide_batch with reasons, the durable facade where it imports):

1. soundness: if the undated decision is allow or deny, the decision with d is the same, and
   an allowed keep's keep_until is never later than with d;
2. an undated date never gives allow where its exact day would give deny;
3. every engine gives the undated record the same answer (0 disagreements), and the compiled
   engine's statuses (its generated code run on one day of each stretch) are the
   interpreter's (the plain definition);
4. an undetermined decision names what it lacks (a missing or undated fact) or a problem.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import privacy_rules
from privacy_rules import Question
from privacy_rules.compile import interpret
from privacy_rules.dates import MAX_DAY, add_months
from privacy_rules.records import RecordInvalid

from .test_durable_agrees import AS_OF_DAYS, _DURABLE_PROBLEM, _iconfirm, _mini, _questions, records

SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


_compiled: dict[str, Any] = {}
_durables: dict[str, Any] = {}


def _engines(which: str) -> list[Any]:
    pack = _mini() if which == "mini" else _iconfirm()
    if isinstance(pack, Exception):
        pytest.skip(f"pack `{which}` does not load: {pack}")
    if which not in _compiled:
        _compiled[which] = privacy_rules.compile_pack(pack)
        if _DURABLE_PROBLEM is None:
            from privacy_rules.engines.durable import DurablePolicy

            _durables[which] = DurablePolicy(pack)
    return [_compiled[which], *([_durables[which]] if which in _durables else [])]


def _date_slots(record: dict[str, Any]) -> list[tuple[Any, Any]]:
    """(container, key) of every date in the record (relationship, art14_informed_on, entries)."""
    slots: list[tuple[Any, Any]] = []
    for key, value in (record.get("relationship") or {}).items():
        if value is not None:
            slots.append((record["relationship"], key))
    if record.get("art14_informed_on") is not None:
        slots.append((record, "art14_informed_on"))
    for name, entries in record.items():
        if isinstance(entries, list):
            for entry in entries:
                if isinstance(entry, dict):
                    slots.extend((entry, k) for k, v in entry.items() if k.endswith(("_on", "_end")) and v is not None)
    return slots


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@st.composite
def cases(draw: Any, which: str) -> tuple[dict[str, Any], dict[str, Any], date, Question]:
    """(exact record, the same with some dates made undated, as_of, question)."""
    pack = _mini() if which == "mini" else _iconfirm()
    as_of = draw(st.sampled_from(AS_OF_DAYS))
    exact = draw(records(pack, as_of))
    # `facts` keys the pack does not declare make the record a problem (PR340) before any date is
    # read; only the declared ones stay, so that the dates are what the engines decide on
    _engines(which)
    try:
        _compiled[which].facts({"id": "probe", "facts": exact.get("facts") or {}})
    except RecordInvalid:
        exact.pop("facts", None)
    undated = copy.deepcopy(exact)
    slots = _date_slots(undated)
    assume(slots)
    chosen = draw(st.lists(st.integers(0, len(slots) - 1), min_size=1, max_size=3, unique=True))
    for i in chosen:
        container, key = slots[i]
        d = _day(container[key])
        bound = draw(st.one_of(
            st.integers(0, 3).map(lambda k: d + timedelta(days=k)),  # D = d or just after
            st.integers(-2, 2).map(lambda k: as_of + timedelta(days=k)),  # D around as_of
            st.sampled_from([1, 12, 24, 36]).map(lambda m: add_months(d, m)),  # D a window later
            st.integers(0, 3000).map(lambda k: d + timedelta(days=k)),
        ))
        bound = min(max(bound, d), MAX_DAY)
        container[key] = {"on_or_before": bound.isoformat()}
    question = draw(st.sampled_from(_questions(pack)))
    return exact, undated, as_of, question


def _answers(engine: Any, record: dict[str, Any], q: Question, as_of: date) -> list[tuple[str, Any]]:
    """(outcome, keep_until) by decide, and by decide_batch with and without reasons."""
    d = engine.decide(record, q, as_of=as_of)
    out = [(d.outcome.value, d.keep_until)]
    for reasons in (False, True):
        a = next(engine.decide_batch([record], [q], as_of=as_of, reasons=reasons)).answers[0]
        out.append((a.outcome.value, a.keep_until))
    return out


def _check(which: str, case: tuple[dict[str, Any], dict[str, Any], date, Question]) -> None:
    exact, undated, as_of, q = case
    engines = _engines(which)
    # the compiled engine's way (its generated code on one day of each stretch) equals the plain
    # definition (the interpreter, compile/interpret.statuses), rule by rule
    policy = engines[0]
    try:
        facts = policy.facts(undated)
    except RecordInvalid:  # e.g. a `facts` key the pack does not declare (PR340): undetermined alike
        facts = None
    if facts is not None:
        assert facts.undated
        ctx, asof = policy._context(as_of)
        plan, _ = policy.plan(policy.check_question(q))
        keep = policy._keep_status(facts, ctx) if plan.needs_keep else None
        assert policy._undated_statuses(plan, facts, ctx, keep) == \
            interpret.statuses(plan.rules, policy.pack, plan.question, facts, asof, ctx.cuts, keep)
        d = policy.decide(undated, q, as_of=as_of)
        if d.outcome.value == "undetermined":  # it says why: the missing or undated facts, or a problem
            assert d.missing_facts or d.problems, (undated, q, as_of, d.reason)
    first = None
    for engine in engines:
        got = _answers(engine, undated, q, as_of)
        want = _answers(engine, exact, q, as_of)
        assert len(set(o for o, _ in got)) == 1, got
        if first is None:
            first = got
        assert got == first, f"engines disagree on {undated}: {got} vs {first}"  # 3. 0 disagreements
        for (outcome, until), (exact_outcome, exact_until) in zip(got, want):
            # 2. never allow where the exact day gives deny
            assert not (outcome == "allow" and exact_outcome == "deny"), (undated, exact, q, as_of)
            # 1. an answer over the set is the answer for the exact day
            if outcome != "undetermined":
                assert outcome == exact_outcome, (undated, exact, q, as_of, got, want)
            if outcome == "allow" and q.action.value == "keep":
                # the earliest end it may have: never a keep_until later than the exact day's
                assert until is None if exact_until is None else (until is not None and until <= exact_until), \
                    (until, exact_until)


@SETTINGS
@given(cases("iconfirm"))
def test_undated_decisions_are_sound_on_iconfirm(case: tuple[dict[str, Any], dict[str, Any], date, Question]) -> None:
    _check("iconfirm", case)


@SETTINGS
@given(cases("mini"))
def test_undated_decisions_are_sound_on_mini(case: tuple[dict[str, Any], dict[str, Any], date, Question]) -> None:
    _check("mini", case)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases("iconfirm"), st.data())
def test_an_on_or_before_fact_never_allows_where_any_exact_day_denies(
        case: tuple[dict[str, Any], dict[str, Any], date, Question], data: st.DataObject) -> None:
    # 2., over several exact days of the set at once: the bound itself, 1900-01-01 and days between
    _, undated, as_of, q = case
    policy = _engines("iconfirm")[0]
    outcome = policy.decide(undated, q, as_of=as_of).outcome.value
    assume(outcome != "undetermined")
    for _ in range(4):
        exact = copy.deepcopy(undated)
        for container, key in _undated_slots(exact):
            bound = date.fromisoformat(container[key]["on_or_before"])
            day = data.draw(st.one_of(st.just(bound), st.just(date(1900, 1, 1)),
                                      st.dates(date(1900, 1, 1), bound)), label=key)
            container[key] = day.isoformat()
        assert policy.decide(exact, q, as_of=as_of).outcome.value == outcome, (undated, exact, q, as_of)


def _undated_slots(record: dict[str, Any]) -> list[tuple[Any, Any]]:
    slots = []
    for container in [record, record.get("relationship") or {}] + [
            e for v in record.values() if isinstance(v, list) for e in v if isinstance(e, dict)]:
        slots.extend((container, k) for k, v in container.items() if isinstance(v, dict) and "on_or_before" in v)
    return slots
