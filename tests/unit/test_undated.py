"""Dates known only as "on or before D" (issue 8, item 2; docs/rule-language.md, "Dates known
only as on or before").

HubSpot and Salesforce keep opt-outs and "forget me" as booleans without a date; the mapping
profiles write such a date as ``{"on_or_before": D}``, D the export or last-modified day. The
date is the set of days 1900-01-01..D, and a rule's conditions are evaluated over that set:
true if true for every day, false if false for every day, else unknown. So "the withdrawal has
happened" decides, and a window that needs the exact day is undetermined, naming the date.
Checked here with the Iconfirm pack (rules/iconfirm), on every path: Policy.decide, decide_batch
with reasons, and the durable facade where durable-rules imports.
"""

from __future__ import annotations

import copy
import functools
import warnings
from datetime import date
from typing import Any

import pytest

import privacy_rules
from privacy_rules.records import OnOrBefore, RecordInvalid, normalize, normalize_fast

ICONFIRM = "rules/iconfirm"


@functools.cache
def _policy() -> privacy_rules.Policy:
    return privacy_rules.compile_pack(ICONFIRM)


@functools.cache
def _durable() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return privacy_rules.compile_pack(ICONFIRM, engine="durable")
    except privacy_rules.PrivacyRulesError:  # EngineUnavailable: Python 3.13+
        return None


def _engines() -> list[Any]:
    return [e for e in (_policy(), _durable()) if e is not None]


def _undated(day: str) -> dict[str, str]:
    return {"on_or_before": day}


def _decide(record: dict[str, Any], question: str, as_of: str) -> privacy_rules.Decision:
    """The Decision, after checking that every engine and path gives the same answer."""
    before = copy.deepcopy(record)
    decisions = [e.decide(record, question, as_of=as_of) for e in _engines()]
    assert record == before, "deciding must not modify the record"
    first = decisions[0]
    for d in decisions[1:]:
        assert (d.outcome, d.decisive_rule, d.reason, d.missing_facts, d.keep_until) == \
            (first.outcome, first.decisive_rule, first.reason, first.missing_facts, first.keep_until)
    for engine in _engines():
        answer = next(engine.decide_batch([record], [question], as_of=as_of, reasons=True)).answers[0]
        assert answer.outcome is first.outcome and answer.keep_until == first.keep_until
        assert answer.rule_id == first.decisive_rule
        assert first.reason.startswith(answer.reason), (first.reason, answer.reason)
    return first


def _answer(record: dict[str, Any], question: str, as_of: str) -> Any:
    return next(_policy().decide_batch([record], [question], as_of=as_of, reasons=True)).answers[0]


# --- the record form -------------------------------------------------------------------------------


def test_an_undated_date_is_read_with_its_bound_and_named_by_path() -> None:
    facts = normalize({"id": "a", "relationship": {"customer_ended_on": _undated("2024-02-29")},
                       "objections": [{"kind": "art21_2", "received_on": {"on_or_before": date(2024, 3, 1)}}]})
    assert facts.s["relationship.customer_ended_on"] == OnOrBefore("2024-02-29")
    assert facts.lists["objections"][0][1] == OnOrBefore("2024-03-01")
    assert dict(facts.undated) == {"relationship.customer_ended_on": "2024-02-29",
                                   "objections[0].received_on": "2024-03-01"}


def test_the_fast_path_builds_undated_dates_as_the_checker_does() -> None:
    undated = {"id": "a", "relationship": {"first_contact_on": _undated("2023-01-01")},
               "art14_informed_on": _undated("2023-01-02"),
               "objections": [{"kind": "art21_2", "received_on": "2024-01-01"},
                              {"kind": "art21_2", "received_on": _undated("2024-02-29")}]}
    fast, slow = normalize_fast(undated, {}), normalize(undated)
    assert fast is not None
    for attr in slow.__slots__:
        assert getattr(fast, attr) == getattr(slow, attr), attr
    assert dict(fast.undated) == {"relationship.first_contact_on": "2023-01-01", "art14_informed_on": "2023-01-02",
                                  "objections[1].received_on": "2024-02-29"}
    # a malformed one is left to the checker, which names it (PR330-PR332)
    for bad in ({"on_or_before": "2024-02-30"}, {"on_or_before": "2024-02-29", "x": 1}, {"on_or_before": 1}):
        assert normalize_fast({"id": "a", "art14_informed_on": bad}, {}) is None
    plain = {"id": "a", "objections": [{"kind": "art21_2", "received_on": "2024-02-29"}]}
    facts = normalize_fast(plain, {})
    assert facts is not None and not facts.undated


@pytest.mark.parametrize(("value", "code", "start"), [
    pytest.param({"on_or_before": "2024-02-30"}, "PR331",
                 "`objections[0].received_on.on_or_before`: `2024-02-30` is not a real date", id="impossible-day"),
    pytest.param({"on_or_before": "2024-02-29T10:00:00Z"}, "PR331", "`objections[0].received_on.on_or_before`: ",
                 id="date-time"),
    pytest.param({"on_or_before": None}, "PR331", "`objections[0].received_on.on_or_before`: ", id="null"),
    pytest.param({"on_or_before": 20240229}, "PR331", "`objections[0].received_on.on_or_before`: ", id="number"),
    pytest.param({"on_or_before": "9999-12-31"}, "PR332",
                 "`objections[0].received_on.on_or_before` `9999-12-31` is outside", id="placeholder"),
    pytest.param({"on_or_before": "2024-02-29", "source": "hs_email_optout"}, "PR330",
                 "`objections[0].received_on` is an object that has `source` besides `on_or_before`", id="extra-key"),
    pytest.param({"on_or_befor": "2024-02-29"}, "PR330",
                 "`objections[0].received_on` is an object that has no `on_or_before`", id="misspelt"),
    pytest.param({}, "PR330", "`objections[0].received_on` is an object that has no `on_or_before`", id="empty"),
])
def test_a_malformed_bound_is_a_record_problem(value: Any, code: str, start: str) -> None:
    record = {"id": "a", "subject_categories": ["prospect"],
              "objections": [{"kind": "art21_2", "received_on": value}]}
    with pytest.raises(RecordInvalid) as info:
        normalize(record)
    (problem,) = info.value.problems
    assert (problem.code, problem.record_id) == (code, "a") and problem.message.startswith(start), problem.message
    assert problem.help
    # never read as "no objection" (which would allow contact): the whole record is undetermined
    d = _decide(record, "contact:newsletter:email", "2024-03-05")
    assert d.outcome.value == "undetermined" and d.problems == (problem,)
    assert _answer(record, "contact:newsletter:email", "2024-03-05").reason_code == "undetermined:bad-record"


# --- a HubSpot-style unsubscribed prospect (hs_email_optout = true) -----------------------------------

PROSPECT = {"id": "hs-1", "role": "controller", "subject_categories": ["prospect"],
            "relationship": {"first_contact_on": "2023-05-10"}, "contact_address_kind": "personal",
            "source": "linkedin", "art14_informed_on": "2023-05-11",
            "objections": [{"kind": "art21_2", "received_on": _undated("2024-02-29")}]}


@pytest.mark.parametrize("as_of", ["2024-02-29", "2024-03-01", "2025-05-10"])
@pytest.mark.parametrize("question", ["contact:newsletter:email", "contact:relationship_management:email",
                                      "contact:relationship_management:phone"])
def test_an_opted_out_prospect_is_never_contacted_for_marketing(question: str, as_of: str) -> None:
    # N44, R18: an Art. 21(2) objection is absolute for direct marketing; received on or before
    # D <= as_of, it is in force on as_of whatever its exact day
    d = _decide(PROSPECT, question, as_of)
    assert d.outcome.value == "deny" and d.decisive_rule == "contact.direct-marketing-objection"
    assert _answer(PROSPECT, question, as_of).reason_code == "deny:forbid"


def test_an_opted_out_prospect_is_deleted_and_only_a_suppression_entry_kept() -> None:
    # R9: a prospect's direct-marketing objection ends prospect processing; R10: a suppression
    # entry remains so that the person is not added again
    keep = _decide(PROSPECT, "keep", "2024-03-05")
    assert keep.outcome.value == "deny" and keep.decisive_rule == "keep.prospect-direct-marketing-objection"
    assert keep.keep_until is None
    suppression = _decide(PROSPECT, "keep:suppression_entry", "2024-03-05")
    assert suppression.outcome.value == "allow"
    assert suppression.decisive_rule == "keep.suppression-after-objection-or-withdrawal"


def test_before_its_bound_an_objection_that_would_decide_leaves_the_answer_open() -> None:
    # as_of 2024-02-28 < D: received on a day up to 2024-02-28, the objection denies the call;
    # received on 2024-02-29 it does not yet (the prospect window allows it, N28, R1). Unknown:
    # undetermined, naming the date and saying what is known of it
    d = _decide(PROSPECT, "contact:relationship_management:phone", "2024-02-28")
    assert d.outcome.value == "undetermined" and d.decisive_rule is None
    assert d.missing_facts == ("objections[0].received_on",) and d.problems == ()
    assert d.reason == ("cannot decide: the exact date of `objections[0].received_on` is not known "
                        "(only on or before 2024-02-29)")
    a = _answer(PROSPECT, "contact:relationship_management:phone", "2024-02-28")
    assert (a.outcome.value, a.reason_code, a.keep_until) == ("undetermined", "undetermined:missing-fact", None)
    assert a.reason == d.reason


def test_before_its_bound_an_objection_that_cannot_change_the_answer_is_not_asked_for() -> None:
    # no newsletter consent: no basis whatever the objection's day (Art. 6(1)), so deny
    d = _decide(PROSPECT, "contact:newsletter:email", "2024-02-28")
    assert d.outcome.value == "deny" and d.missing_facts == ()


def test_a_dated_objection_beside_an_undated_one_decides_alone() -> None:
    record = copy.deepcopy(PROSPECT)
    record["objections"].append({"kind": "art21_2", "received_on": "2024-01-15"})
    d = _decide(record, "contact:relationship_management:phone", "2024-02-28")
    assert d.outcome.value == "deny" and d.decisive_rule == "contact.direct-marketing-objection"


# --- a Salesforce-style "forget this individual" (ShouldForget = true) --------------------------------

FORGET = {"id": "sf-6", "role": "controller", "subject_categories": ["prospect"],
          "relationship": {"first_contact_on": "2023-11-01"},
          "erasure_requests": [{"received_on": _undated("2024-03-05"), "verified_on": _undated("2024-03-05")}]}


def test_an_undated_verified_erasure_request_denies_keep_and_contact() -> None:
    # R16: an identity-verified erasure request requires erasure; it was received and verified
    # on or before 2024-03-05, so on 2024-03-05 it has been
    keep = _decide(FORGET, "keep", "2024-03-05")
    assert keep.outcome.value == "deny" and keep.decisive_rule == "keep.erasure-verified"
    # the duty to answer stays (Art. 12(3)); its deadline (received + 1 month) is not known
    duties = {o.id: o.due_on for o in keep.obligations}
    assert "respond-erasure-request" in duties and duties["respond-erasure-request"] is None
    contact = _decide(FORGET, "contact:relationship_management:email", "2024-03-05")
    assert contact.outcome.value == "deny" and contact.decisive_rule == "contact.erasure-verified"


def test_an_undated_erasure_request_before_its_bound_is_undetermined() -> None:
    keep = _decide(FORGET, "keep", "2024-03-04")
    assert keep.outcome.value == "undetermined"
    assert set(keep.missing_facts) <= {"erasure_requests[0].received_on", "erasure_requests[0].verified_on"}
    assert "erasure_requests[0].verified_on" in keep.missing_facts
    assert "only on or before 2024-03-05" in keep.reason


def test_an_exactly_dated_erasure_request_keeps_its_deadline() -> None:
    record = copy.deepcopy(FORGET)
    record["erasure_requests"] = [{"received_on": "2024-01-31", "verified_on": _undated("2024-03-05")}]
    keep = _decide(record, "keep", "2024-03-05")
    # N42, R2: 2024-01-31 + 1 month = 2024-02-29 (clamped); the undated verification does not move it
    assert {o.id: o.due_on for o in keep.obligations}["respond-erasure-request"] == date(2024, 2, 29)


# --- a window anchored on an undated date: end(D) = D + N months, clamped (N42, R2) -----------------

def _ended_customer(bound: str) -> dict[str, Any]:
    # no customer_since: with one, an end "on or before D" may also lie before the start, which
    # READINGS.md #42 reads as a customer who signed again (test_an_undated_end_may_precede_the_start)
    return {"id": "c-1", "role": "controller", "subject_categories": ["customer"],
            "relationship": {"customer_ended_on": _undated(bound)}}


@pytest.mark.parametrize(("bound", "end"), [("2024-02-29", "2027-02-28"), ("2022-08-31", "2025-08-31"),
                                            ("2023-02-28", "2026-02-28")])
def test_a_window_from_an_undated_end_has_ended_only_after_its_latest_end(bound: str, end: str) -> None:
    # N27, N29, R3: a former customer's data are kept three years from the end of the
    # relationship. Ended on or before D, the window ends on or before end(D): it has surely
    # ended the day after end(D); up to end(D) it may still run (an end on D itself), or may
    # have closed (an earlier end): the exact day is needed
    day_after = date.fromisoformat(end).toordinal() + 1
    for as_of in (date.fromordinal(day_after - 2).isoformat(), end):
        d = _decide(_ended_customer(bound), "keep", as_of)
        assert d.outcome.value == "undetermined", as_of
        assert d.missing_facts == ("relationship.customer_ended_on",)
        assert f"the exact date of `relationship.customer_ended_on` is not known (only on or before {bound})" \
            in d.reason
        a = _answer(_ended_customer(bound), "keep", as_of)
        assert (a.reason_code, a.keep_until) == ("undetermined:missing-fact", None)
    after = date.fromordinal(day_after).isoformat()
    d = _decide(_ended_customer(bound), "keep", after)
    assert d.outcome.value == "deny" and d.decisive_rule is None
    assert f"its window `customer_tail` ended on or before {end}" in d.reason
    # the day the basis lapsed is not known (only "on or before end(D)"): no keep_until on the deny,
    # where an exact end gives it (deny:window-ended, docs/retention.md)
    assert d.keep_until is None
    a = _answer(_ended_customer(bound), "keep", after)
    assert a.reason_code == "deny:window-ended" and f"ended on or before {end}" in a.reason
    assert a.keep_until is None
    exact = copy.deepcopy(_ended_customer(bound))
    exact["relationship"]["customer_ended_on"] = bound
    assert _decide(exact, "keep", after).keep_until == date.fromisoformat(end)


def test_an_undated_end_may_precede_the_start() -> None:
    # N27 (READINGS.md #42): an end before customer_since belongs to an earlier relationship.
    # Ended "on or before 2024-02-29" with customer_since 2015-01-01, the end may lie before 2015
    # (a customer who signed again: kept) or after it (tail ended 2027-02-28): after the tail
    # only the exact day decides; with an exact end after the start it is a deny.
    record = _ended_customer("2024-02-29")
    record["relationship"]["customer_since"] = "2015-01-01"
    d = _decide(record, "keep", "2027-03-01")
    assert d.outcome.value == "undetermined"
    exact = copy.deepcopy(record)
    exact["relationship"]["customer_ended_on"] = "2024-02-29"
    assert _decide(exact, "keep", "2027-03-01").outcome.value == "deny"
    exact["relationship"]["customer_ended_on"] = "2014-12-31"
    assert _decide(exact, "keep", "2027-03-01").outcome.value == "allow"


def test_a_former_customer_call_needs_the_exact_end_and_an_email_does_not() -> None:
    # R22, N29, R3: a former customer may be called within three years of the end. Ended on or
    # before 2024-02-29: on 2024-03-05 the call is allowed if it ended on 2024-02-29 and not if it
    # ended in 2019, so undetermined, naming the date; an email has no basis whatever the day
    record = _ended_customer("2024-02-29")
    phone = _decide(record, "contact:relationship_management:phone", "2024-03-05")
    assert phone.outcome.value == "undetermined" and phone.missing_facts == ("relationship.customer_ended_on",)
    email = _decide(record, "contact:relationship_management:email", "2024-03-05")
    assert email.outcome.value == "deny" and email.missing_facts == ()
    for day, outcome in (("2024-02-29", "allow"), ("2019-01-01", "deny")):
        exact = copy.deepcopy(record)
        exact["relationship"]["customer_ended_on"] = day
        assert _decide(exact, "contact:relationship_management:phone", "2024-03-05").outcome.value == outcome


def test_an_undated_anchor_never_gives_a_keep_until_later_than_the_exact_day_could() -> None:
    # a window anchored on an undated date holds on as_of only if it holds from 1900-01-01 on:
    # only with a window reaching back that far; keep_until is then the earliest end possible
    pack = privacy_rules.load_pack(ICONFIRM)
    import dataclasses

    windows = dict(pack.vocabulary.windows)
    windows["prospect"] = dataclasses.replace(windows["prospect"], months=1200)
    long = privacy_rules.compile_pack(dataclasses.replace(
        pack, vocabulary=dataclasses.replace(pack.vocabulary, windows=windows)))
    record = {"id": "p", "role": "controller", "subject_categories": ["prospect"],
              "relationship": {"first_contact_on": _undated("1950-06-30")}}
    d = long.decide(record, "keep", as_of="1999-12-31")
    assert d.outcome.value == "allow" and d.keep_until == date(2000, 1, 1)  # 1900-01-01 + 100 years
    for day in ("1900-01-01", "1950-06-30"):
        exact = long.decide({**record, "relationship": {"first_contact_on": day}}, "keep", as_of="1999-12-31")
        assert exact.outcome.value == "allow" and exact.keep_until is not None and exact.keep_until >= d.keep_until


def test_a_deadline_an_undated_open_request_decides_is_not_given() -> None:
    # N43 (READINGS.md #27): each request has its own deadline and the earliest open one is due.
    # A request received on or before 2024-02-10 is due on or before 2024-03-10, beside a dated
    # one due 2024-03-20: the earliest deadline is not known, so the duty has no due day
    record = copy.deepcopy(FORGET)
    record["erasure_requests"] = [{"received_on": _undated("2024-02-10"), "verified_on": _undated("2024-02-10")},
                                  {"received_on": "2024-02-20"}]
    keep = _decide(record, "keep", "2024-03-05")
    assert {o.id: o.due_on for o in keep.obligations}["respond-erasure-request"] is None
    # answered (exactly), the undated request no longer counts: the dated one's deadline is due
    record["erasure_requests"][0]["answered_on"] = "2024-02-25"
    keep = _decide(record, "keep", "2024-03-05")
    assert {o.id: o.due_on for o in keep.obligations}["respond-erasure-request"] == date(2024, 3, 20)


@pytest.mark.parametrize("as_of", ["2022-06-30", "2022-07-01", "2023-01-01"])
def test_an_undated_end_compared_with_another_day_is_named(as_of: str) -> None:
    """A customer whose agreement ended on or before 2019-06-30 and who has been a customer
    since 2015: the end may lie before `customer_since` (a customer who signed again, READINGS
    #42, N27), so keep stays undetermined after the 3-year tail (R3) too. The reason names the
    undated end, not "facts the record lacks" with nothing named (the compare of two record
    days, which an undated day leaves unknown, named no fact before)."""
    record = {"id": "u-resigned", "role": "controller", "subject_categories": ["customer"],
              "relationship": {"customer_since": "2015-01-01", "customer_ended_on": {"on_or_before": "2019-06-30"}}}
    d = _policy().decide(record, "keep", as_of=as_of)
    assert d.outcome.value == "undetermined"
    assert d.missing_facts == ("relationship.customer_ended_on",)
    assert "`relationship.customer_ended_on` is not known (only on or before 2019-06-30)" in d.reason
    (a,) = next(_policy().decide_batch([record], ["keep"], as_of=as_of, reasons=True)).answers
    assert (a.reason_code, a.reason) == ("undetermined:missing-fact", d.reason)
