"""An undetermined answer about a readable record always says why, and the batch says the same.

For generated `fact` rules (every operator, operands of every kind, nested all/any/not,
permits, forbids and overrides) and records whose `facts.*` values have every kind:

* `undetermined` => `missing_facts` or `problems` is not empty (PR317-PR319 name the present
  values a rule could not use; before, such an answer named nothing);
* a problem names a path the record holds, a rule that is unknown in `applied`, and the record;
* `decide_batch` gives each answer the same problem text as the Decision (`Answer.problem`).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from types import MappingProxyType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import privacy_rules
from privacy_rules import Outcome, Question
from privacy_rules._answers import compact
from privacy_rules.model import Action, Effect, Pred, Rule, RuleStatus

from ..conftest import MINI
from .strategies import FACT_NAMES, declaring_fact_names, fact_conditions, fact_values

EFFECTS = [(Effect.PERMIT, "legitimate_interest"), (Effect.FORBID, None), (Effect.OVERRIDE, "legal_obligation"),
           (Effect.PERMIT, "legitimate_interest")]


def _tree() -> st.SearchStrategy[Pred]:
    leaf = fact_conditions().map(
        lambda c: Pred(kind="fact", arg=MappingProxyType({"path": c[0], "op": c[1], "value": c[2]})))
    happened = st.sampled_from(FACT_NAMES).map(lambda n: Pred(kind="happened", arg=f"facts.{n}"))
    return st.recursive(st.one_of(leaf, leaf, happened), lambda kids: st.one_of(
        st.lists(kids, min_size=1, max_size=3).map(lambda c: Pred(kind="all", children=tuple(c))),
        st.lists(kids, min_size=1, max_size=3).map(lambda c: Pred(kind="any", children=tuple(c))),
        kids.map(lambda c: Pred(kind="not", children=(c,)))), max_leaves=4)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_an_undetermined_answer_names_a_fact(data: Any) -> None:
    base = declaring_fact_names(privacy_rules.load_pack(MINI))  # the record's keys are the pack's (PR340)
    n = data.draw(st.integers(1, 5), label="rules")
    rules = []
    for i in range(n):
        effect, basis = EFFECTS[data.draw(st.integers(0, 3), label=f"effect {i}")]
        rules.append(Rule(id=f"g.r{i}", question=Action.CONTACT, effect=effect, basis=basis,
                          when=tuple(data.draw(st.lists(_tree(), min_size=1, max_size=2), label=f"when {i}")),
                          order=i))
    policy = privacy_rules.compile_pack(dataclasses.replace(base, rules=tuple(rules)))
    q, as_of = Question.contact("followup", "phone"), date(2024, 2, 29)
    records = [{"id": f"w-{k}", "facts": data.draw(st.dictionaries(st.sampled_from(FACT_NAMES), fact_values(),
                                                                   max_size=4), label=f"facts {k}")}
               for k in range(3)]
    rows = list(policy.decide_batch(records, [q], as_of=as_of))
    for record, row in zip(records, rows):
        d = policy.decide(record, q, as_of=as_of)
        if d.outcome is Outcome.UNDETERMINED:
            assert d.missing_facts or d.problems, d.reason
        else:
            assert not d.problems
        unknown = {a.rule_id for a in d.applied if a.status is RuleStatus.UNKNOWN}
        for p in d.problems:
            assert p.code in ("PR317", "PR318", "PR319") and p.record_id == record["id"]
            assert p.rule_id in unknown
            path = p.message.split("`")[1]
            assert path.startswith("facts.") and record["facts"].get(path.removeprefix("facts.")) is not None
        assert row.answers[0].outcome is d.outcome
        assert row.answers[0].problem == (compact(d.problems) if d.problems else None)
