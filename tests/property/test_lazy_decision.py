"""A lazy Decision is the eager one (issue 12): ``Policy.decide`` and ``decide_all`` return
LazyDecisions whose explanation is built on first access (memoising what the rule statuses
alone decide, per status pattern); here each is compared with the Decision built the plain way
(``eager_decide``: the per-question path as it was before, build_decision over plan.evaluate
without the pattern memo, the keep answer decided again for a `keep:` condition) on
generated records (window ends around as_of, undated dates, malformed records), with the
record given as a dict, as JSON text and prepared (``Policy.prepare``), through ``decide`` and
``decide_all``: every field (read first in any order), ==, hash, repr, to_json's JSON, pickle
bytes (every protocol), copies, dataclasses.replace/asdict, frozen assignment, and concurrent
first reads from several threads.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import sys
import threading
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import privacy_rules
from privacy_rules import Decision, Question
from privacy_rules._lazy_decision import LazyDecision
from privacy_rules.decide import build_decision
from privacy_rules.prepared import PreparedRecord
from privacy_rules.records import RecordInvalid

from ..bench_module import load_bench
from .strategies import mutated_records
from .test_durable_agrees import AS_OF_DAYS, _iconfirm, _questions, records
from .test_undated_sound import cases


SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
FIELDS = [f.name for f in dataclasses.fields(Decision)]
STANDARD = ["keep", "contact:newsletter:email", "share:hubspot:relationship_management"]


def eager_decide(policy: Any, record: Any, question: Any, day: date) -> Decision:
    """The reference: a Decision built eagerly, the plain way (Policy._decide_facts before issue 12)."""
    q = policy.check_question(question)
    try:
        facts = policy.facts(record)
    except RecordInvalid as exc:
        return policy._invalid(q, day, exc.record_id, exc.problems)
    return _eager_facts(policy, facts, q, day)


def _eager_facts(policy: Any, facts: Any, q: Question, day: date) -> Decision:
    ctx, asof = policy._context(day)
    plan, _ = policy.plan(q)
    keep_code, keep_missing, keep_problems = None, (), ()
    if plan.needs_keep:
        keep_code = policy._keep_status(facts, ctx)
        if keep_code is None:
            kd = _eager_facts(policy, facts, policy._keep_q, day)
            keep_missing, keep_problems = kd.missing_facts, kd.problems
    statuses = (policy._undated_statuses(plan, facts, ctx, keep_code) if facts.undated
                else plan.evaluate(facts, ctx, keep_code))
    tables = dataclasses.replace(policy._tables[q], patterns=None)  # no memo of status patterns: the plain way
    return build_decision(pack=policy.pack, plan=plan, tables=tables, statuses=statuses, facts=facts,
                          as_of=day, asof=asof, keep_missing=keep_missing, cuts=ctx.cuts, memo=ctx.ends,
                          keep=keep_code, keep_problems=keep_problems)


def assert_same(lazy: Decision, eager: Decision, first: str = "outcome") -> None:
    """``lazy`` is observably ``eager``; ``first`` is the field read first (what builds it)."""
    assert type(eager) is Decision
    assert getattr(lazy, first) == getattr(eager, first)
    for name in FIELDS:
        assert getattr(lazy, name) == getattr(eager, name), name
    assert lazy.allowed == eager.allowed and lazy.overridden == eager.overridden
    assert lazy == eager and eager == lazy and not (lazy != eager)
    assert hash(lazy) == hash(eager)
    assert repr(lazy) == repr(eager)
    assert json.dumps(lazy.to_json(), sort_keys=True) == json.dumps(eager.to_json(), sort_keys=True)
    assert json.dumps(lazy.to_json()) == json.dumps(eager.to_json())  # key order too
    # pickling: the same bytes, or the same error (a basis holds a mappingproxy, which does not pickle)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert _attempt(pickle.dumps, lazy, protocol) == _attempt(pickle.dumps, eager, protocol), protocol
    back = _attempt(lambda d: pickle.loads(pickle.dumps(d)), lazy)
    assert back == _attempt(lambda d: pickle.loads(pickle.dumps(d)), eager)
    deep = _attempt(copy.deepcopy, lazy)
    assert deep == _attempt(copy.deepcopy, eager)
    for c in (copy.copy(lazy), dataclasses.replace(lazy), *(x[1] for x in (back, deep) if x[0] == "ok")):
        assert type(c) is Decision and c == eager
    for fn in (dataclasses.asdict, dataclasses.astuple):  # (they deep-copy: a basis's mappingproxy refuses)
        assert _attempt(fn, lazy) == _attempt(fn, eager)
    assert isinstance(lazy, Decision) and lazy.__class__ is Decision
    with pytest.raises(dataclasses.FrozenInstanceError):
        lazy.reason = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del lazy.outcome  # type: ignore[misc]
    if type(lazy) is LazyDecision:  # (a malformed record's decision is a plain Decision)
        with pytest.raises(dataclasses.FrozenInstanceError):
            lazy._s = None  # type: ignore[attr-defined]


def _attempt(fn: Any, *args: Any) -> tuple[Any, ...]:
    """("ok", result) or ("error", exception type, message)."""
    try:
        return ("ok", fn(*args))
    except Exception as exc:  # noqa: BLE001 - compared, not hidden
        return ("error", type(exc), str(exc))


def _policy() -> Any:
    pack = _iconfirm()
    if isinstance(pack, Exception):
        pytest.skip(f"pack `iconfirm` does not load: {pack}")
    if "policy" not in _POLICIES:
        _POLICIES["policy"] = privacy_rules.compile_pack(pack)
        _POLICIES["again"] = privacy_rules.compile_pack(pack)  # the same pack, another Policy
        _POLICIES["questions"] = [str(q) for q in _questions(pack)]
    return _POLICIES["policy"]


_POLICIES: dict[str, Any] = {}


@st.composite
def iconfirm_cases(draw: Any) -> tuple[dict[str, Any], date, list[str]]:
    policy = _policy()
    day = draw(st.sampled_from(AS_OF_DAYS))
    record = draw(records(policy.pack, day))
    qs = draw(st.lists(st.sampled_from(_POLICIES["questions"] + STANDARD), min_size=1, max_size=5))
    return record, day, qs


def _check_all_ways(policy: Any, record: Any, day: date, qs: list[str], first: str) -> None:
    eager = [eager_decide(policy, record, q, day) for q in qs]
    prep = policy.prepare(record)
    assert type(prep) is PreparedRecord
    ways = [(record, eager), (prep, eager)]
    try:  # the same record as JSON text, when it is JSON (a generated record may hold date objects)
        text = json.dumps(record) if isinstance(record, dict) else None
    except (TypeError, ValueError, RecursionError):  # (not JSON, or nested past json's limit)
        text = None
    if text is not None:  # (text is checked as text: e.g. a lone surrogate is an encoding problem there)
        ways.append((text, [eager_decide(policy, text, q, day) for q in qs]))
    for given, want in ways:
        for lazy, e in zip(policy.decide_all(given, qs, as_of=day), want):
            assert_same(lazy, e, first)
        for q, e in zip(qs, want):
            assert_same(policy.decide(given, q, as_of=day), e, first)
    # a Policy that did not prepare it checks the record again, as given
    again = _POLICIES["again"]
    for lazy, e in zip(again.decide_all(prep, qs, as_of=day), eager):
        assert_same(lazy, e, first)


@SETTINGS
@given(iconfirm_cases(), st.sampled_from(FIELDS))
def test_lazy_decisions_are_the_eager_ones(case, first):
    record, day, qs = case
    _check_all_ways(_policy(), record, day, qs, first)


@SETTINGS
@given(cases("iconfirm"), st.sampled_from(FIELDS), st.lists(st.sampled_from(STANDARD), min_size=1, max_size=4))
def test_lazy_decisions_with_undated_dates(case, first, extra):
    exact, undated, day, q = case
    policy = _policy()
    qs = [str(q)] + extra
    _check_all_ways(policy, exact, day, qs, first)
    _check_all_ways(policy, undated, day, qs, first)


@SETTINGS
@given(mutated_records(records(_iconfirm(), date(2024, 2, 29)) if not isinstance(_iconfirm(), Exception)
                       else st.just({"id": "x"})),
       st.sampled_from(FIELDS))
def test_lazy_decisions_of_malformed_records(mutated, first):
    policy = _policy()
    record = mutated.value
    _check_all_ways(policy, record, date(2024, 2, 29), STANDARD, first)


def test_the_benchmark_records_decide_lazily_as_eagerly(iconfirm):
    """bench.py's records (35-40% of window anchors on a boundary): every decision lazy and equal."""
    bench = load_bench("privacy_rules_benchmark_lazy")
    recs = bench.generate_records(600, seed=5, as_of=bench.AS_OF)
    lazy_seen = 0
    for i, rec in enumerate(recs):
        got = iconfirm.decide_all(iconfirm.prepare(rec), STANDARD, as_of=bench.AS_OF)
        for k, (lazy, q) in enumerate(zip(got, STANDARD)):
            lazy_seen += type(lazy) is LazyDecision
            assert_same(lazy, eager_decide(iconfirm, rec, q, bench.AS_OF), FIELDS[(i + k) % len(FIELDS)])
    assert lazy_seen > 1500  # the malformed ~1% are plain Decisions; the rest were lazy


def test_first_reads_from_many_threads_see_one_whole_explanation(iconfirm):
    """Threads reading a new LazyDecision at once all see the eager values (a race may build it
    twice, never expose half of it); the switch interval is made tiny to interleave them."""
    record = {"id": "t1", "role": "controller", "subject_categories": ["prospect", "newsletter_subscriber"],
              "relationship": {"first_contact_on": "2022-02-28", "last_activity_on": "2022-02-28"},
              "consents": [{"purpose": "newsletter", "given_on": "2021-01-01", "mechanism": "pre_ticked_box"}]}
    day = date(2024, 2, 29)
    eager = [eager_decide(iconfirm, record, q, day) for q in STANDARD]
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(30):
            lazies = iconfirm.decide_all(record, STANDARD, as_of=day)
            seen: list[Any] = []
            errors: list[BaseException] = []

            def read(order: int) -> None:
                try:
                    for name in FIELDS[order:] + FIELDS[:order]:
                        seen.append([(name, getattr(d, name)) for d in lazies])
                    seen.append([("json", json.dumps(d.to_json())) for d in lazies])
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=read, args=(n % len(FIELDS),)) for n in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors
            for row in seen:
                for (name, value), e in zip(row, eager):
                    want = json.dumps(e.to_json()) if name == "json" else getattr(e, name)
                    assert value == want, name
    finally:
        sys.setswitchinterval(old)


def test_prepare_is_idempotent_and_frozen(iconfirm):
    rec = {"id": "p1", "role": "controller", "subject_categories": ["customer"],
           "relationship": {"customer_since": "2020-01-01"}}
    p = iconfirm.prepare(rec)
    assert iconfirm.prepare(p) is p and p.record_id == "p1" and p.problems == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.record_id = "other"  # type: ignore[misc]
    bad = iconfirm.prepare({"id": "p2", "role": "Controller"})
    assert bad.problems and iconfirm.prepare(bad) is bad
    d = iconfirm.decide(bad, "keep", as_of="2024-02-29")
    assert d == eager_decide(iconfirm, {"id": "p2", "role": "Controller"}, "keep", date(2024, 2, 29))
    rows = list(iconfirm.decide_batch([p, bad, rec], STANDARD, as_of="2024-02-29", reasons=True))
    plain = list(iconfirm.decide_batch([rec, {"id": "p2", "role": "Controller"}, rec], STANDARD,
                                       as_of="2024-02-29", reasons=True))
    assert [(r.record_id, r.answers, r.problem) for r in rows] == [(r.record_id, r.answers, r.problem) for r in plain]
