"""Properties of the compiled engine, on the test pack and the Iconfirm pack.

- a withdrawal, an objection or a consent obtained in a way that does not count (N53) never
  turns deny into allow;
- decisions do not depend on the order of fields or of list entries (nor of consents);
- the batch fast path equals the explained per-record decision;
- decide never raises on any record, and a malformed record is never allowed.
"""

from __future__ import annotations

import copy
import json
import random
import re
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import privacy_rules
from privacy_rules.declared import declared_facts
from privacy_rules import Outcome, Question
from privacy_rules.compile.runtime import mech_table, mechanism_counts
from privacy_rules.model import CONSENT_MECHANISMS

from ..conftest import ICONFIRM, MINI
from .strategies import days, records

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _policy(path) -> privacy_rules.Policy:
    return privacy_rules.compile_pack(privacy_rules.load_pack(path))


def _packs() -> list:
    out = [pytest.param(MINI, id="mini")]
    if (ICONFIRM / "pack.yaml").exists():
        out.append(pytest.param(ICONFIRM, id="iconfirm"))
    return out


_CACHE: dict = {}


def policy_for(path) -> privacy_rules.Policy:
    if path not in _CACHE:
        _CACHE[path] = _policy(path)
    return _CACHE[path]


def all_questions(policy: privacy_rules.Policy) -> list[Question]:
    v = policy.pack.vocabulary
    qs = [Question.keep(s) for s in sorted(v.scopes)]
    qs += [Question.contact(p, c) for p in sorted(v.purposes) for c in sorted(v.channels)]
    qs += [Question.share(r, p) for r in sorted(v.recipients) for p in sorted(v.purposes)]
    return qs


def strategy(policy: privacy_rules.Policy):
    v = policy.pack.vocabulary
    return records(sorted(v.subject_categories), sorted(v.purposes), sorted(v.recipients),
                   sorted(declared_facts(policy.pack)))


def _check(path, data, check):
    policy = policy_for(path)
    rec = data.draw(strategy(policy), label="record")
    as_of = data.draw(days(date(2018, 1, 1), date(2030, 12, 31)), label="as_of")
    qs = all_questions(policy)
    q = data.draw(st.sampled_from(qs), label="question")
    check(policy, rec, q, as_of, data)


# R10: a suppression entry is kept *because* of an objection or withdrawal, so for that scope
# the objection is the basis; the property holds for every other question.
def _is_suppression(q: Question) -> bool:
    return q.scope is not None and "suppression" in q.scope


@pytest.mark.parametrize("path", _packs())
@SETTINGS
@given(data=st.data())
def test_objection_never_turns_deny_into_allow(path, data):
    def check(policy, rec, q, as_of, data):
        if _is_suppression(q):
            return
        before = policy.decide(rec, q, as_of=as_of)
        if before.outcome is not Outcome.DENY:
            return
        kind = data.draw(st.sampled_from(["art21_1", "art21_2"]))
        received = data.draw(days(date(2016, 1, 1), as_of))
        after_rec = copy.deepcopy(rec)
        after_rec.setdefault("objections", []).append({"kind": kind, "received_on": received.isoformat()})
        assert policy.decide(after_rec, q, as_of=as_of).outcome is not Outcome.ALLOW

    _check(path, data, check)


@pytest.mark.parametrize("path", _packs())
@SETTINGS
@given(data=st.data())
def test_withdrawal_never_turns_deny_into_allow(path, data):
    def check(policy, rec, q, as_of, data):
        if _is_suppression(q) or not rec.get("consents"):
            return
        before = policy.decide(rec, q, as_of=as_of)
        if before.outcome is not Outcome.DENY:
            return
        after_rec = copy.deepcopy(rec)
        i = data.draw(st.integers(0, len(after_rec["consents"]) - 1))
        given = after_rec["consents"][i]["given_on"]
        on = data.draw(days(date.fromisoformat(given), max(as_of, date.fromisoformat(given))))
        after_rec["consents"][i]["withdrawn_on"] = on.isoformat()
        assert policy.decide(after_rec, q, as_of=as_of).outcome is not Outcome.ALLOW

    _check(path, data, check)


@pytest.mark.parametrize("path", _packs())
@SETTINGS
@given(data=st.data())
def test_invalid_consent_never_turns_deny_into_allow(path, data):
    # N53: a consent whose mechanism does not count for its purpose on as_of is no consent;
    # adding one (for any purpose and recipient, live or withdrawn) changes no deny into allow
    def check(policy, rec, q, as_of, data):
        if _is_suppression(q):
            return
        before = policy.decide(rec, q, as_of=as_of)
        if before.outcome is not Outcome.DENY:
            return
        v = policy.pack.vocabulary
        purpose = data.draw(st.sampled_from(sorted(v.purposes)))
        table = mech_table(v)
        invalid = [m for m in CONSENT_MECHANISMS if mechanism_counts(table, m, purpose, as_of.isoformat()) is False]
        entry = {"purpose": purpose, "given_on": data.draw(days(date(2016, 1, 1), as_of)).isoformat(),
                 "mechanism": data.draw(st.sampled_from(invalid))}
        if data.draw(st.booleans()) and v.recipients:
            entry["recipient"] = data.draw(st.sampled_from(sorted(v.recipients)))
        after_rec = copy.deepcopy(rec)
        after_rec.setdefault("consents", []).insert(data.draw(st.integers(0, len(after_rec["consents"]))), entry)
        assert policy.decide(after_rec, q, as_of=as_of).outcome is not Outcome.ALLOW

    _check(path, data, check)


def _without_positions(decision_json: dict) -> str:
    """A decision's JSON with list positions in field paths blanked (``consents[1].mechanism``
    -> ``consents[].mechanism``) and its missing facts sorted: the explanation names entries by
    position, which a reordering changes; everything else must stay the same."""
    d = json.loads(re.sub(r"([a-z_]+)\[[0-9]+\]", r"\1[]", json.dumps(decision_json, sort_keys=True)))
    d["missing_facts"] = sorted(d.get("missing_facts") or [])
    if "reason" in d:  # the reason's consent notes come in entry order
        d["reason"] = "; ".join(sorted(d["reason"].split("; ")))
    return json.dumps(d, sort_keys=True)


def _shuffled(value, rnd: random.Random):
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: _shuffled(v, rnd) for k, v in items}
    if isinstance(value, list):
        items = [_shuffled(v, rnd) for v in value]
        rnd.shuffle(items)
        return items
    return value


@pytest.mark.parametrize("path", _packs())
@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_decision_does_not_depend_on_field_or_entry_order(path, data, seed):
    def check(policy, rec, q, as_of, data):
        a = policy.decide(rec, q, as_of=as_of).to_json()
        b = policy.decide(_shuffled(rec, random.Random(seed)), q, as_of=as_of).to_json()
        assert _without_positions(a) == _without_positions(b)

    _check(path, data, check)


@pytest.mark.parametrize("path", _packs())
@SETTINGS
@given(data=st.data())
def test_batch_fast_path_equals_explained_decision(path, data):
    def check(policy, rec, q, as_of, data):
        qs = [q, policy.standard_questions[0]]
        row = next(policy.decide_batch([rec], qs, as_of=as_of))
        for answer, question in zip(row.answers, qs):
            full = policy.decide(rec, question, as_of=as_of)
            assert answer.outcome is full.outcome  # one vocabulary of types: Outcome and date, as on Decision
            assert answer.rule_id == full.decisive_rule
            assert answer.keep_until == full.keep_until

    _check(path, data, check)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=12,
)
FIELDS = ["id", "role", "subject_categories", "relationship", "consents", "objections", "vouchers", "facts",
          "erasure_requests", "legal_holds", "contact_address_kind", "host"]


@pytest.mark.parametrize("path", _packs())
@settings(max_examples=300, deadline=None)
@given(junk=st.one_of(JSONISH, st.dictionaries(st.sampled_from(FIELDS), JSONISH, max_size=5)), data=st.data())
def test_decide_never_raises_and_malformed_is_never_allowed(path, junk, data):
    policy = policy_for(path)
    q = data.draw(st.sampled_from(all_questions(policy)))
    dec = policy.decide(junk, q, as_of=date(2024, 2, 29))
    if dec.problems:
        assert dec.outcome is Outcome.UNDETERMINED
    rows = list(policy.decide_batch([junk], [q], as_of=date(2024, 2, 29)))
    assert rows[0].answers[0].outcome is dec.outcome
