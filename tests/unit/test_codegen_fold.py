"""Constant folding and inline Kleene logic in the generated evaluators (compile/codegen.py).

The generated code writes AND/OR inline and folds constant children; it must give exactly
runtime.k_and / k_or / k_not (the plain definition) for every mix of constant and varying
children, and values that depend on as_of alone (a DPA in force, a lawful transfer) are
memoised per day without leaking one day's value into another.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

import privacy_rules
from privacy_rules.compile import interpret, runtime
from privacy_rules.compile.codegen import _Gen, _NOT, window_indices
from privacy_rules.dates import iso_cutoff

STATUSES = (True, False, None)
# constant children as the generator writes them, and three children read from the record
CHILDREN = ("True", "False", "None", "v0", "v1", "v2")


def _gen() -> _Gen:
    pack = privacy_rules.load_pack("rules/iconfirm")
    q = privacy_rules.compile_pack(pack).check_question("keep")
    return _Gen(pack, q, window_indices(pack))


@pytest.mark.parametrize("kind", ["and", "or"])
def test_inline_kleene_equals_the_plain_definition(kind: str) -> None:
    gen = _gen()
    plain = runtime.k_and if kind == "and" else runtime.k_or
    decisive, neutral = ("False", "True") if kind == "and" else ("True", "False")
    checked = 0
    for n in (1, 2, 3):
        for children in itertools.product(CHILDREN, repeat=n):
            code = gen.kleene(list(children), decisive, neutral)
            for values in itertools.product(STATUSES, repeat=3):
                env = {"v0": values[0], "v1": values[1], "v2": values[2]}
                want = plain([env[c] if c in env else {"True": True, "False": False, "None": None}[c]
                              for c in children])
                got = eval(code, {}, dict(env))  # noqa: S307 - generated from the fixed names above
                assert got is want, (kind, children, values, code)
                checked += 1
    assert checked == 3 ** 3 * sum(len(CHILDREN) ** n for n in (1, 2, 3))


def test_kleene_folds_constants_and_stops_at_the_first_decisive_child() -> None:
    gen = _gen()
    assert gen.kleene(["v0", "False"], "False", "True") == "False"
    assert gen.kleene(["True", "True"], "False", "True") == "True"
    assert gen.kleene(["True", "v1"], "False", "True") == "v1"
    assert gen.kleene(["v0", "True"], "True", "False") == "True"
    code = gen.kleene(["v0", "boom()"], "False", "True")

    def boom() -> None:
        raise AssertionError("a child after a decisive one was evaluated")

    assert eval(code, {"boom": boom}, {"v0": False}) is False  # noqa: S307
    assert {k: _NOT[_NOT[k]] for k in _NOT} == {k: k for k in _NOT}
    assert all(_NOT[k] == repr(runtime.k_not(eval(k))) for k in _NOT)  # noqa: S307


def test_as_of_values_are_per_day() -> None:
    """iconfirm's processor (HubSpot) DPA is in force from 2018-05-25: the share question's
    statuses differ across that day, and asking days in any order, past the memo's bound,
    gives the plain definition's statuses each time."""
    policy = privacy_rules.compile_pack("rules/iconfirm")
    pack = policy.pack
    q = policy.check_question("share:hubspot:relationship_management")
    plan, _ = policy.plan(q)
    assert "_kfill" in plan.source  # the DPA and transfers are as_of-only values here
    facts = policy.facts({"id": "p-1", "role": "controller", "subject_categories": ["customer"],
                          "relationship": {"customer_since": "2017-01-01"}})
    start = date(2018, 5, 25)
    days = [start - timedelta(days=1), start, start - timedelta(days=1), start + timedelta(days=1)]
    days += [date(2017, 1, 1) + timedelta(days=7 * i) for i in range(300)]  # past the memo's bound (256)
    days += [start - timedelta(days=1), start]
    seen = set()
    for day in days:
        ctx, asof = policy._context(day)
        cuts = {w.id: iso_cutoff(day, w.months) for w in pack.vocabulary.windows.values()}
        got = plan.evaluate(facts, ctx, True)
        assert got == interpret.statuses(plan.rules, pack, q, facts, asof, cuts, True), day
        assert plan.decide(facts, ctx, True)[3] == got
        seen.add(got)
    assert len(seen) > 1  # the DPA's first day changes the answer: the test can tell days apart
