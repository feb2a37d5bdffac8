"""The generated evaluators equal the plain tree-walking definition (compile/interpret.py)."""

from __future__ import annotations

from datetime import date

import dataclasses
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import privacy_rules
from privacy_rules.compile import interpret
from privacy_rules.decide import combine
from privacy_rules.dates import iso_cutoff
from privacy_rules.model import Action, Effect, Pred, Rule

from ..conftest import MINI
from .strategies import FACT_NAMES, days, declaring_fact_names, fact_conditions, fact_values
from .test_engine_properties import _packs, all_questions, policy_for, strategy


@pytest.mark.parametrize("path", _packs())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_statuses_equal_plain_definition(path, data):
    policy = policy_for(path)
    record = data.draw(strategy(policy))
    as_of = data.draw(days(date(2018, 1, 1), date(2030, 12, 31)))
    keep = data.draw(st.sampled_from([True, False, None]))
    facts = policy.facts(record) if _valid(policy, record) else None
    if facts is None:
        return
    cuts = {w.id: iso_cutoff(as_of, w.months) for w in policy.pack.vocabulary.windows.values()}
    ctx, _ = policy._context(as_of)
    for q in all_questions(policy):
        plan, effects = policy.plan(q)
        fast = plan.evaluate(facts, ctx, keep)
        plain = interpret.statuses(plan.rules, policy.pack, q, facts, as_of.isoformat(), cuts, keep)
        assert fast == plain, (q, [r.id for r in plan.rules])
        # the fused evaluate+combine equals the plain combining order over the same statuses
        outcome, idx, why, statuses = plan.decide(facts, ctx, keep)
        assert statuses == plain and (outcome, idx, why) == combine(effects, plain), q


def _valid(policy, record) -> bool:
    from privacy_rules.records import RecordInvalid

    try:
        policy.facts(record)
    except RecordInvalid:
        return False
    return True


# --- `fact` conditions of every kind against facts of every kind ------------------------------


def _fact_tree() -> st.SearchStrategy[Pred]:
    leaf = fact_conditions().map(
        lambda c: Pred(kind="fact", arg=MappingProxyType({"path": c[0], "op": c[1], "value": c[2]})))
    return st.recursive(leaf, lambda kids: st.one_of(
        st.lists(kids, min_size=1, max_size=3).map(lambda c: Pred(kind="all", children=tuple(c))),
        st.lists(kids, min_size=1, max_size=3).map(lambda c: Pred(kind="any", children=tuple(c))),
        kids.map(lambda c: Pred(kind="not", children=(c,)))), max_leaves=4)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_fact_conditions_equal_plain_definition(data):
    """Booleans, numbers and strings on both sides (true vs 1, 1 vs 1.0, "1" vs 1, 2**53 + 1 vs
    2.0**53, mixed lists, null and .nan operands): the generated code equals the plain definition."""
    base = declaring_fact_names(policy_for(MINI).pack)  # the record's keys are the pack's (PR340)
    n = data.draw(st.integers(1, 4), label="rules")
    rules = tuple(
        Rule(id=f"gen.f{i}", question=Action.KEEP if i % 2 else Action.CONTACT,
             effect=data.draw(st.sampled_from([Effect.PERMIT, Effect.FORBID])), basis="legitimate_interest",
             when=tuple(data.draw(st.lists(_fact_tree(), min_size=1, max_size=2), label=f"when {i}")), order=i)
        for i in range(n))
    rules = tuple(dataclasses.replace(r, basis=None) if r.effect is Effect.FORBID else r for r in rules)
    policy = privacy_rules.compile_pack(dataclasses.replace(base, rules=rules))
    facts_value = data.draw(st.dictionaries(st.sampled_from(FACT_NAMES), fact_values(), max_size=4), label="facts")
    facts = policy.facts({"id": "f-1", "facts": facts_value})
    as_of = date(2024, 2, 29)
    cuts = {w.id: iso_cutoff(as_of, w.months) for w in policy.pack.vocabulary.windows.values()}
    ctx, _ = policy._context(as_of)
    for q in all_questions(policy):
        plan, _ = policy.plan(q)
        fast = plan.evaluate(facts, ctx, None)
        plain = interpret.statuses(plan.rules, policy.pack, q, facts, as_of.isoformat(), cuts, None)
        # `is`, not ==: a status of 1 or numpy.bool_ would pass == True and be misread downstream
        assert len(fast) == len(plain) and all(a is b for a, b in zip(fast, plain)), (q, facts_value, fast, plain)
