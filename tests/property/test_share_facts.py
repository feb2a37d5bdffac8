"""Issue 11 items 2-4 as properties, on the Iconfirm pack with generated records and days
(boundary days and 29 February among them):

* adding a data category to a share question never turns a deny (or an undetermined) into an
  allow: categories can only add prohibitions (item 3);
* a recipient the pack does not list, described with a fact missing that its kind's rules
  need, is never allowed (item 2: missing facts give undetermined, never allow);
* a processor register holding exactly the pack's facts gives the same decisions as no
  register (item 4); only ``recipient_source`` differs.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import privacy_rules
from privacy_rules import Outcome, Question
from privacy_rules.declared import declared_facts
from privacy_rules.recipients import register_from_json

from .strategies import records

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAYS = st.one_of(st.sampled_from([date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1), date(2020, 7, 15),
                                  date(2020, 7, 16), date(2023, 7, 9), date(2023, 7, 10)]),
                 st.dates(date(2016, 1, 1), date(2030, 12, 31)))
DESCRIBED = "described_recipient"


@functools.cache
def _policy() -> privacy_rules.Policy:
    return privacy_rules.compile_pack("rules/iconfirm")


def _records(extra: tuple[str, ...] = ()) -> st.SearchStrategy[dict[str, Any]]:
    v = _policy().pack.vocabulary
    return records(sorted(v.subject_categories), sorted(v.purposes), sorted(v.recipients) + list(extra),
                   sorted(declared_facts(_policy().pack)))


@SETTINGS
@given(data=st.data())
def test_adding_a_category_never_turns_deny_into_allow(data: Any) -> None:
    policy = _policy()
    v = policy.pack.vocabulary
    record = data.draw(_records(), label="record")
    day = data.draw(DAYS, label="as_of")
    recipient = data.draw(st.sampled_from(sorted(v.recipients)), label="recipient")
    purpose = data.draw(st.sampled_from(sorted(v.purposes)), label="purpose")
    cats = sorted(v.data_categories)
    fewer = data.draw(st.lists(st.sampled_from(cats), max_size=4, unique=True), label="categories")
    more = sorted(set(fewer) | {data.draw(st.sampled_from(cats), label="added")})
    asked = [Question.share(recipient, purpose), Question.share(recipient, purpose, categories=fewer),
             Question.share(recipient, purpose, categories=more)]
    outcomes = [d.outcome for d in policy.decide_all(record, asked, as_of=day)]
    # none -> fewer -> more: once not allowed, never allowed again
    for before, after in zip(outcomes, outcomes[1:]):
        assert before is Outcome.ALLOW or after is not Outcome.ALLOW, (asked, outcomes)


_FACT_FIELDS = {
    "eea": st.booleans(),
    "dpa": st.one_of(st.none(), st.fixed_dictionaries({"signed_on": st.sampled_from(["2018-05-25", "2024-02-29"])},
                                                      optional={"ends_on": st.sampled_from([None, "2024-02-29"])})),
    "transfers": st.lists(st.fixed_dictionaries({"mechanism": st.sampled_from(["sccs", "dpf", "privacy_shield"])},
                                                optional={"from": st.sampled_from(["2018-05-25", "2020-07-16"]),
                                                          "until": st.sampled_from(["2020-07-15", "2024-02-29"])}),
                          max_size=2),
    "purposes": st.lists(st.sampled_from(["relationship_management", "third_party_disclosure", "legal_disclosure",
                                          "accounting"]), max_size=3, unique=True),
    "categories": st.lists(st.sampled_from(["contact_information", "activity_log", "email_content"]), max_size=3,
                           unique=True),
}


def _incomplete(kind: str, facts: dict[str, Any], categories: list[str] | None) -> bool:
    """True when a fact the kind's rules need is not given (docs/rule-language.md, issue 11)."""
    if "eea" not in facts:  # Chapter V applies to every recipient (share.transfer-without-mechanism)
        return True
    if kind == "processor":
        if "dpa" not in facts or "purposes" not in facts:
            return True
        if facts["eea"] is False and "transfers" not in facts:
            return True
    if categories is not None and "categories" not in facts and kind in ("processor", "independent_controller"):
        return True  # an override (a binding order to an authority) may still decide without them
    return False


@SETTINGS
@given(data=st.data())
def test_an_unlisted_recipient_with_missing_facts_is_never_allowed(data: Any) -> None:
    policy = _policy()
    record = data.draw(_records((DESCRIBED,)), label="record")
    day = data.draw(DAYS, label="as_of")
    kind = data.draw(st.sampled_from(["processor", "independent_controller", "public_authority", "police"]),
                     label="kind")
    given_fields = data.draw(st.lists(st.sampled_from(sorted(_FACT_FIELDS)), unique=True), label="fields")
    facts: dict[str, Any] = {"kind": kind}
    for name in given_fields:
        facts[name] = data.draw(_FACT_FIELDS[name], label=name)
    categories = data.draw(st.one_of(st.none(), st.lists(st.sampled_from(["contact_information", "activity_log"]),
                                                         min_size=1, max_size=2, unique=True)), label="asked")
    purpose = data.draw(st.sampled_from(["relationship_management", "third_party_disclosure", "legal_disclosure"]),
                        label="purpose")
    q = Question.share(DESCRIBED, purpose, categories=categories, recipient_facts=facts)
    d = policy.decide(record, q, as_of=day)
    assert d.recipient_source in ("question", None)  # None: a record that could not be read
    if _incomplete(kind, facts, categories):
        assert d.outcome is not Outcome.ALLOW, (facts, categories, d.reason)


def _pack_register(policy: privacy_rules.Policy) -> privacy_rules.Policy:
    v = policy.pack.vocabulary
    entries = {rid: {"dpa": None if r.dpa_signed_on is None else {"signed_on": r.dpa_signed_on,
                                                                  "ends_on": r.dpa_ends_on},
                     "transfers": [{"mechanism": t.mechanism, "from": t.from_on, "until": t.until_on}
                                   for t in r.transfers],
                     "eea": r.eea, **({"categories": list(r.categories)} if r.categories is not None else {})}
               for rid, r in v.recipients.items()}
    return policy.with_register(register_from_json({"recipients": entries}))


@functools.cache
def _same_register() -> privacy_rules.Policy:
    return _pack_register(_policy())


@SETTINGS
@given(data=st.data())
def test_a_register_equal_to_the_pack_gives_the_same_decisions(data: Any) -> None:
    policy, same = _policy(), _same_register()
    v = policy.pack.vocabulary
    record = data.draw(_records(), label="record")
    day = data.draw(DAYS, label="as_of")
    qs = [Question.share(r, p) for r in sorted(v.recipients) for p in ("relationship_management", "accounting",
                                                                          "legal_disclosure", "newsletter")]
    for a, b in zip(policy.decide_all(record, qs, as_of=day), same.decide_all(record, qs, as_of=day)):
        assert (a.outcome, a.decisive_rule, a.keep_until, a.reason, a.missing_facts) == \
            (b.outcome, b.decisive_rule, b.keep_until, b.reason, b.missing_facts), a.question
        if a.recipient_source is not None:
            assert (a.recipient_source, b.recipient_source) == ("pack", "register")
    rows = zip(next(policy.decide_batch([record], qs, as_of=day)).answers,
               next(same.decide_batch([record], qs, as_of=day)).answers)
    assert all(x == y for x, y in rows)
