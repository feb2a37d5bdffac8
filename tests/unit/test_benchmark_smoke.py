"""The benchmark's hand-written baseline answers exactly like the engine (correctness only).

benchmarks/bench.py times ``Policy.decide_batch`` against a plain-Python function written by
hand from the Iconfirm rules for three questions. A ratio against a baseline that answers
differently would be meaningless, so this test runs the benchmark's own record generator and
baseline on 300 records and requires the same outcome for every record and question. It makes
NO timing assertions (DESIGN.md: performance is measured in benchmarks/, never in a unit test).

If this fails after a change to rules/iconfirm/*.yaml, either the engine or the baseline is
wrong: check the rule, then update ``make_hand`` in benchmarks/bench.py to match the pack.
"""

from __future__ import annotations

from datetime import date

import pytest

from ..bench_module import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench()


@pytest.fixture(scope="module")
def records(bench):
    return bench.generate_records(300, seed=1, as_of=bench.AS_OF)


def test_generator_is_deterministic_and_covers_bad_input(bench, records):
    again = bench.generate_records(300, seed=1, as_of=bench.AS_OF)
    assert again == records
    assert bench.generate_records(10, seed=1) == records[:10]  # record i never depends on N
    assert len({r["id"] for r in records}) == 300
    # the run must exercise the malformed / missing-fact paths, not only clean records
    assert any(not bench.record_ok(r) for r in records)
    assert any("role" not in r or "subject_categories" not in r for r in records)


def _assert_agree(bench, iconfirm, records, as_of: date) -> None:
    hand = bench.hand_outcomes(records, as_of)
    engine = bench.engine_outcomes(iconfirm, records, as_of)
    assert len(hand) == len(engine) == len(records)
    diffs = bench.disagreements(records, hand, engine)
    assert not diffs, f"as_of {as_of}: {len(diffs)} disagreements (record, question, hand, engine): {diffs[:5]}"


def test_hand_written_baseline_agrees_with_engine(bench, iconfirm, records):
    _assert_agree(bench, iconfirm, records, bench.AS_OF)
    outcomes = {o for row in bench.engine_outcomes(iconfirm, records, bench.AS_OF) for o in row}
    assert outcomes == {"allow", "deny", "undetermined"}


@pytest.mark.parametrize("as_of", [date(2023, 3, 31), date(2025, 8, 31), date(2028, 2, 29)])
def test_hand_written_baseline_agrees_on_other_days(bench, iconfirm, as_of):
    # records generated around this as_of, so their dates sit on its window boundaries
    _assert_agree(bench, iconfirm, bench.generate_records(300, seed=2, as_of=as_of), as_of)


def _with_rare_fields(bench, records, seed: int):
    """Copies of ``records`` with fields the generator never writes but make_hand reads:
    erasure compelling grounds (erasure `granted` vs `verified`, R16), legal holds naming scopes
    (R21), processor-role deletion instructions in `facts` (valid, future, malformed), and records
    without `role` or `subject_categories` on top of those."""
    import copy
    import random

    rng = random.Random(seed)
    pools = bench._Pools(bench.AS_OF)
    days = pools.asof + pools.b24 + pools.b36 + pools.recent
    out = []
    for r in records:
        r = copy.deepcopy(r)
        if rng.random() < 0.3:
            r.setdefault("erasure_requests", []).append(
                {"received_on": "2020-01-01", "verified_on": rng.choice(days),
                 "compelling_grounds_on": rng.choice(days) if rng.random() < 0.6 else None})
        if rng.random() < 0.25:
            r.setdefault("legal_holds", []).append(
                {"placed_on": rng.choice(days),
                 "scopes": rng.choice([["newsletter_subscription"], ["relationship_record"], []])})
        if rng.random() < 0.2:
            r["role"] = "processor"
            r["facts"] = {"deletion_instructed_on": rng.choice(days + ["2023-02-30", "soon", None])}
        elif rng.random() < 0.1:
            r.pop("role", None)
        if rng.random() < 0.1:
            r.pop("subject_categories", None)
        out.append(r)
    return out


def test_hand_written_baseline_agrees_on_rare_fields(bench, iconfirm, records):
    rare = _with_rare_fields(bench, records, seed=3)
    assert all(bench.record_ok(r) for r, orig in zip(rare, records) if bench.record_ok(orig))
    _assert_agree(bench, iconfirm, rare, bench.AS_OF)


def test_hand_written_baseline_agrees_on_records_of_another_day(bench, iconfirm):
    # bench.py also asks its records (dated around AS_OF) on EXTRA_AS_OF days: dates then lie
    # ahead of as_of (a first contact not yet made, a customer_since still to come)
    records = bench.generate_records(3000, seed=1, as_of=bench.AS_OF)
    for as_of in bench.EXTRA_AS_OF:
        _assert_agree(bench, iconfirm, records, as_of)
