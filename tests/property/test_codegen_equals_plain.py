"""The generated evaluators equal the plain tree-walking definition (compile/interpret.py)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privacy_rules.compile import interpret
from privacy_rules.decide import combine
from privacy_rules.dates import iso_cutoff

from .strategies import days
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
