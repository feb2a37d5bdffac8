"""keep_until on a keep denied because a window ended (issue 8, item 5; docs/rule-language.md §3).

A retention job needs the day the basis lapsed as a field, not only in the reason text. With
the Iconfirm pack, on the day before, on and after a window's end (N42, R2: calendar months,
clamped, end inclusive), the explained Decision, the batch answer with and without reasons, and
the durable facade all give the same outcome, reason code and keep_until.
"""

from __future__ import annotations

import copy
import warnings
from datetime import date, timedelta
from typing import Any

import pytest

import privacy_rules
from privacy_rules import Outcome, Question
from privacy_rules.decide import ended_keep_until

from ..conftest import ICONFIRM

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import durable.engine  # noqa: F401
    _DURABLE = True
except ImportError:  # Python 3.13+: the durable engine cannot be imported (its tests say why)
    _DURABLE = False

FORMER_CUSTOMER = {"id": "former-customer", "role": "controller", "subject_categories": ["customer"],
                   "relationship": {"customer_since": "2018-01-01", "customer_ended_on": "2021-04-30"},
                   "source": "self"}
PROSPECT = {"id": "prospect", "role": "controller", "subject_categories": ["prospect"],
            "relationship": {"first_contact_on": "2021-08-31"}, "source": "linkedin"}


@pytest.fixture(scope="module")
def durable_policy() -> Any:
    if not _DURABLE:
        return None
    return privacy_rules.compile_pack(privacy_rules.load_pack(ICONFIRM), engine="durable")


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _answers(policy: Any, durable_policy: Any, record: dict[str, Any], question: str,
             as_of: date) -> tuple[Outcome, str | None, date | None]:
    """(outcome, reason code, keep_until), checked equal across every way of asking."""
    d = policy.decide(record, question, as_of=as_of)
    with_reasons = next(policy.decide_batch([record], [question], as_of=as_of, reasons=True)).answers[0]
    plain = next(policy.decide_batch([record], [question], as_of=as_of)).answers[0]
    assert (d.outcome, d.keep_until) == (with_reasons.outcome, with_reasons.keep_until) == \
        (plain.outcome, plain.keep_until)
    assert d.reason.startswith(with_reasons.reason or "")
    if durable_policy is not None:
        dd = durable_policy.decide(record, question, as_of=as_of)
        assert dd == d
        assert next(durable_policy.decide_batch([record], [question], as_of=as_of, reasons=True)).answers[0] == \
            with_reasons
        assert next(durable_policy.decide_batch([record], [question], as_of=as_of)).answers[0] == plain
    return d.outcome, with_reasons.reason_code, d.keep_until


@pytest.mark.parametrize("ended_on, last_day", [
    ("2021-04-30", "2024-04-30"),   # N29, R3: three years after the customer relationship ended
    ("2021-02-28", "2024-02-28"),   # the day after is 29 February 2024
    ("2020-02-29", "2023-02-28"),   # a 29 February anchor: clamped, never rolled to 1 March
    ("2021-08-31", "2024-08-31"),
])
def test_former_customer_day_before_on_and_after_the_tail(iconfirm, durable_policy, ended_on, last_day):
    rec = copy.deepcopy(FORMER_CUSTOMER)
    rec["relationship"]["customer_ended_on"] = ended_on
    end = _day(last_day)
    for q in ("keep", "keep:web_visit_log"):
        before = _answers(iconfirm, durable_policy, rec, q, end - timedelta(days=1))
        on = _answers(iconfirm, durable_policy, rec, q, end)
        after = _answers(iconfirm, durable_policy, rec, q, end + timedelta(days=1))
        if q == "keep":
            assert before == on == (Outcome.ALLOW, "allow:permit", end)
        # the visit log also needs a live tracking consent (R18): without one it is never kept,
        # and that deny is a prohibition, not an ended window
        assert after == ((Outcome.DENY, "deny:window-ended", end) if q == "keep" else (Outcome.DENY, "deny:forbid", None))
    later = _answers(iconfirm, durable_policy, rec, "keep", end + timedelta(days=800))
    assert later == (Outcome.DENY, "deny:window-ended", end)  # the day stays the window's, not as_of's


@pytest.mark.parametrize("first_contact, last_day", [
    ("2020-02-29", "2022-02-28"),   # N28, R1: 24 months, a 29 February first contact
    ("2022-02-28", "2024-02-28"),   # never rolled forward to the 29th; the day after is 29 February
])
def test_prospect_window_end_on_a_leap_boundary(iconfirm, durable_policy, first_contact, last_day):
    rec = copy.deepcopy(PROSPECT)
    rec["relationship"]["first_contact_on"] = first_contact
    end = _day(last_day)
    assert _answers(iconfirm, durable_policy, rec, "keep", end) == (Outcome.ALLOW, "allow:permit", end)
    assert _answers(iconfirm, durable_policy, rec, "keep", end + timedelta(days=1)) == \
        (Outcome.DENY, "deny:window-ended", end)


def test_several_permits_ended_gives_the_latest_end(iconfirm, durable_policy):
    # a prospect contact (24 months from 2021-08-31) who also was a customer (tail to 2024-04-30)
    rec = copy.deepcopy(FORMER_CUSTOMER)
    rec["subject_categories"] = ["customer", "prospect"]
    rec["relationship"]["first_contact_on"] = "2021-08-31"
    d = iconfirm.decide(rec, "keep", as_of="2024-06-01")
    assert "keep.prospect-window" in d.reason and "keep.customer-relationship" in d.reason
    assert _answers(iconfirm, durable_policy, rec, "keep", _day("2024-06-01")) == \
        (Outcome.DENY, "deny:window-ended", _day("2024-04-30"))


def test_a_permit_with_several_windows_lapsed_on_the_earliest(iconfirm, durable_policy):
    # R5: a former contact person is kept from the role end + 3 years, never past the customer's tail
    rec = copy.deepcopy(FORMER_CUSTOMER)
    rec["relationship"]["role_ended_on"] = "2020-01-15"   # role tail ends 2023-01-15
    # only the role tail ended: the customer's tail (to 2024-04-30) still runs
    assert _answers(iconfirm, durable_policy, rec, "keep", _day("2023-01-15")) == \
        (Outcome.ALLOW, "allow:permit", _day("2023-01-15"))
    assert _answers(iconfirm, durable_policy, rec, "keep", _day("2023-01-16")) == \
        (Outcome.DENY, "deny:window-ended", _day("2023-01-15"))
    # both ended: the permit lapsed when the first of them did
    assert _answers(iconfirm, durable_policy, rec, "keep", _day("2024-05-01")) == \
        (Outcome.DENY, "deny:window-ended", _day("2023-01-15"))


def test_other_denies_carry_no_keep_until_and_ended_windows_do(iconfirm, durable_policy):
    rec = copy.deepcopy(PROSPECT)
    rec["objections"] = [{"kind": "art21_2", "received_on": "2022-01-10"}]
    out = _answers(iconfirm, durable_policy, rec, "keep", _day("2022-02-01"))
    assert out[0] is Outcome.DENY and out[1] != "deny:window-ended" and out[2] is None
    # no permit's window: deny:no-basis, no keep_until
    assert _answers(iconfirm, durable_policy, {"id": "v", "role": "controller", "subject_categories": ["website_visitor"]},
                    "keep", _day("2024-01-01")) == (Outcome.DENY, "deny:no-basis", None)
    # issue 11 item 5: a contact question denied because the prospect window ended (a
    # prohibition on the ended window, R19) carries the window's last day too
    for q in ("contact:relationship_management:phone", "contact:relationship_management:email"):
        outcome, code, until = _answers(iconfirm, durable_policy, PROSPECT, q, _day("2024-01-01"))
        assert outcome is Outcome.DENY and until == _day("2023-08-31")
        assert _answers(iconfirm, durable_policy, PROSPECT, q, _day("2023-08-31"))[2] is None  # not yet ended


def test_ended_keep_until_is_earliest_per_rule_latest_across() -> None:
    d1, d2, d3 = _day("2023-01-15"), _day("2024-04-30"), _day("2022-08-31")
    assert ended_keep_until([]) is None
    assert ended_keep_until([("a", "w1", d2), ("a", "w2", d1)]) == d1
    assert ended_keep_until([("a", "w1", d2), ("a", "w2", d1), ("b", "w3", d3)]) == d1
    assert ended_keep_until([("a", "w1", d1), ("b", "w2", d2)]) == d2


def test_explanations_say_the_day_has_passed(iconfirm):
    from privacy_rules.explain import explain

    d = iconfirm.decide(FORMER_CUSTOMER, "keep", as_of="2024-05-01")
    text = explain(d)
    assert "keep until: 2024-04-30 (passed: the window has ended)" in text
    assert d.to_json()["keep_until"] == "2024-04-30"


# -- issue 11 item 5: override windows (statutory vouchers) and every question -----------------

VOUCHERS = {"id": "vouchers", "role": "controller", "subject_categories": ["customer"],
            "data_categories": ["accounting_voucher"], "source": "self",
            "relationship": {"customer_since": "2015-01-01", "customer_ended_on": "2017-06-30"},
            "vouchers": [{"fiscal_year": 2018}]}   # five years after 2018-12-31: to 2023-12-31 (N47, R11)


@pytest.mark.parametrize("fiscal_year_end, last_day", [
    (None, "2023-12-31"),
    ("2019-02-28", "2024-02-28"),   # the day after is 29 February 2024
    ("2020-02-29", "2025-02-28"),   # a 29 February anchor: clamped (N42, R2)
])
def test_voucher_override_window_dates_the_deny(iconfirm, durable_policy, fiscal_year_end, last_day):
    rec = copy.deepcopy(VOUCHERS)
    if fiscal_year_end:
        rec["vouchers"][0]["fiscal_year_end"] = fiscal_year_end
    end = _day(last_day)
    q = "keep:accounting_voucher"
    assert _answers(iconfirm, durable_policy, rec, q, end - timedelta(days=1)) == (Outcome.ALLOW, "allow:override", end)
    assert _answers(iconfirm, durable_policy, rec, q, end) == (Outcome.ALLOW, "allow:override", end)
    assert _answers(iconfirm, durable_policy, rec, q, end + timedelta(days=1)) == \
        (Outcome.DENY, "deny:window-ended", end)
    d = iconfirm.decide(rec, q, as_of=end + timedelta(days=1))
    assert "`keep.vouchers-bookkeeping` no longer holds: its window `vouchers` ended on " + last_day in d.reason
    assert d.to_json()["keep_until"] == last_day


def test_an_override_that_held_off_a_prohibition_dates_the_deny(iconfirm, durable_policy):
    rec = copy.deepcopy(VOUCHERS)
    rec["erasure_requests"] = [{"received_on": "2020-02-29", "verified_on": "2020-02-29"}]   # R16
    q = "keep:accounting_voucher"
    end = _day("2023-12-31")
    assert _answers(iconfirm, durable_policy, rec, q, end) == (Outcome.ALLOW, "allow:override", end)
    after = iconfirm.decide(rec, q, as_of=end + timedelta(days=1))
    assert (after.outcome, after.decisive_rule, after.keep_until) == (Outcome.DENY, "keep.erasure-verified", end)
    assert _answers(iconfirm, durable_policy, rec, q, end + timedelta(days=1)) == (Outcome.DENY, "deny:forbid", end)
    # the relationship record has no override: the erasure denies it with no day
    assert _answers(iconfirm, durable_policy, rec, "keep", end + timedelta(days=1))[2] is None
