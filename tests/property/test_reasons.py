"""Reason codes and short reasons of batch answers (issue 8, item 5) agree with the explained
decisions: the short reason is the start of ``Decision.reason``, the basis is the decision's,
and the code follows from the outcome and the decisive rule's tier."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import privacy_rules
from privacy_rules.declared import declared_facts
from privacy_rules import Outcome, Question
from privacy_rules._reasons import NO_BASIS_TEXT, REASON_CODES
from privacy_rules.model import Effect

from .strategies import records

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAYS = st.one_of(st.sampled_from([date(2024, 2, 29), date(2024, 2, 28), date(2024, 3, 1), date(2023, 8, 31)]),
                 st.dates(date(2016, 1, 1), date(2030, 12, 31)))


@functools.cache
def _policy(path: str) -> privacy_rules.Policy:
    return privacy_rules.compile_pack(path)


def _questions(policy: privacy_rules.Policy) -> list[Question]:
    v = policy.pack.vocabulary
    return ([Question.keep(s) for s in sorted(v.scopes)]
            + [Question.contact(p, c) for p in sorted(v.purposes) for c in sorted(v.channels)]
            + [Question.share(r, p) for r in sorted(v.recipients) for p in sorted(v.purposes)])


def _strategy(policy: privacy_rules.Policy) -> st.SearchStrategy[dict[str, Any]]:
    v = policy.pack.vocabulary
    return records(sorted(v.subject_categories), sorted(v.purposes), sorted(v.recipients),
                   sorted(declared_facts(policy.pack)))


def _check(policy: privacy_rules.Policy, record: dict[str, Any], as_of: date) -> None:
    qs = _questions(policy)
    row = next(policy.decide_batch([record], qs, as_of=as_of, reasons=True))
    plain = next(policy.decide_batch([record], qs, as_of=as_of))
    decisions = policy.decide_all(record, qs, as_of=as_of)
    for q, a, p, d in zip(qs, row.answers, plain.answers, decisions):
        assert (a.outcome, a.rule_id, a.keep_until) == (p.outcome, p.rule_id, p.keep_until) == \
            (d.outcome, d.decisive_rule, d.keep_until), q
        assert p.reason_code is None and p.reason is None and p.basis is None  # only when asked for
        assert a.reason_code in REASON_CODES and a.reason, q
        assert d.reason.startswith(a.reason), (q, d.reason, a.reason)
        assert a.basis == d.basis
        assert a.reason_code.split(":")[0] == a.outcome.value
        if a.outcome is Outcome.DENY and a.rule_id is None:
            assert a.reason.startswith(NO_BASIS_TEXT)
            assert (a.reason_code == "deny:window-ended") == ("no longer holds: its window" in d.reason)
            # issue 8 item 5, issue 11 item 5: a deny because a window ended names the day as a
            # field, in the past, on every question (keep, contact, share)
            ended_keep = a.reason_code == "deny:window-ended"
            assert (a.keep_until is not None) == ended_keep, (q, a)
            if ended_keep:
                assert a.keep_until is not None and a.keep_until < as_of
                assert f"ended on {a.keep_until.isoformat()}" in d.reason
        elif a.rule_id is not None:
            effect = next(r.effect for r in policy.plan(q)[0].rules if r.id == a.rule_id)
            want = {Effect.PERMIT: "allow:permit", Effect.OVERRIDE: "allow:override", Effect.FORBID: "deny:forbid"}
            assert a.reason_code == want[effect]
            if a.outcome is Outcome.DENY:
                # a prohibition carries a day only when it holds because a window ended, or an
                # override held it off until its window ended (statutory vouchers, issue 11
                # item 5): that day, in the past
                rules = policy.plan(q)[0].rules
                decisive = next(r for r in rules if r.id == a.rule_id)
                dated = any(c.kind == "expired" for c in decisive.when) or any(
                    r.effect is Effect.OVERRIDE and any(c.kind == "within" for c in r.when) for r in rules)
                if not dated:
                    assert a.keep_until is None
                elif a.keep_until is not None:
                    assert a.keep_until < as_of
        else:
            assert a.reason_code in ("undetermined:missing-fact", "undetermined:unusable-fact",
                                     "undetermined:bad-record")
            assert (a.reason_code == "undetermined:bad-record") == (row.problem is not None)


@SETTINGS
@given(data=st.data())
def test_reasons_agree_with_the_explained_decisions_on_mini(data: Any) -> None:
    policy = _policy("tests/packs/mini")
    _check(policy, data.draw(_strategy(policy), label="record"), data.draw(DAYS, label="as_of"))


@SETTINGS
@given(data=st.data())
def test_reasons_agree_with_the_explained_decisions_on_iconfirm(data: Any) -> None:
    policy = _policy("rules/iconfirm")
    _check(policy, data.draw(_strategy(policy), label="record"), data.draw(DAYS, label="as_of"))


def test_no_basis_words_are_the_explained_ones() -> None:
    policy = _policy("tests/packs/mini")
    d = policy.decide({"id": "x", "subject_categories": ["prospect"]}, "contact:newsletter:email",
                      as_of=date(2024, 2, 29))
    assert d.reason == NO_BASIS_TEXT


def test_a_bad_record_has_the_bad_record_code() -> None:
    policy = _policy("tests/packs/mini")
    row = next(policy.decide_batch(['{"id": "x", "id": "y"}'], ["keep"], as_of=date(2024, 2, 29), reasons=True))
    a = row.answers[0]
    assert a.reason_code == "undetermined:bad-record" and a.reason.startswith("the record cannot be evaluated: ")
    assert "duplicate key `id`" in a.reason
