"""The explanation's shortcuts (issue 12, item 3) give what the plain definitions give.

``ended_windows`` now tests whether a window ended before it interprets a failed permit's
other conditions, and the consent purposes of ``invalid_consents`` are computed once per plan
(Tables.consent_purposes): both are compared here with the definitions they replace, written
out as they were, on generated records, at as_of days around window ends and 29 February.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from privacy_rules.compile.interpret import holds
from privacy_rules.decide import (OVERRIDE, PERMIT, build_decision, ended_windows, invalid_consents,
                                  window_end_of)
from privacy_rules.records import RecordInvalid

from ..bench_module import load_bench
from .strategies import records

QUESTIONS = ["keep", "contact:newsletter:email", "share:hubspot:relationship_management"]
DAYS = [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1), date(2025, 2, 28), date(2026, 3, 1),
        date(2023, 3, 31)]
SUBJECTS = ["prospect", "customer", "partner", "newsletter_subscriber", "material_downloader",
            "privacy_professional"]


def eager_ended_windows(pack: Any, plan: Any, tables: Any, statuses: Any, facts: Any, asof: str, cuts: Any,
                        tiers: tuple[int, ...] = (PERMIT, OVERRIDE)) -> list[tuple[str, str, date, bool]]:
    """decide.ended_windows as it was before issue 12: the other conditions first."""
    out = []
    windows = pack.vocabulary.windows
    for i, s in enumerate(statuses):
        if s is not False or tables.effects[i] not in tiers:
            continue
        rule = plan.rules[i]
        wins = [p for p in rule.when if p.kind == "within"]
        if not wins:
            continue
        others = [holds(p, pack, plan.question, facts, asof, cuts, None) for p in rule.when if p.kind != "within"]
        if any(o is not True for o in others if o is not None) or None in others:
            continue
        for p in wins:
            end = window_end_of(windows[p.arg], facts, asof, None, undated="latest")
            if isinstance(end, date) and end.isoformat() < asof:
                out.append((rule.id, p.arg, end,
                            bool(facts.undated) and window_end_of(windows[p.arg], facts, asof) != end))
    return out


def _same(iconfirm: Any, record: Any, question: str, day: date) -> bool:
    """The checks; True when some permit's window had ended (so the shortcut was exercised)."""
    try:
        facts = iconfirm.facts(record)
    except RecordInvalid:
        return False
    q = iconfirm.check_question(question)
    plan, _ = iconfirm.plan(q)
    tables = iconfirm._tables[q]
    ctx, asof = iconfirm._context(day)
    keep = iconfirm._keep_status(facts, ctx) if plan.needs_keep else None
    statuses = plan.evaluate(facts, ctx, keep)
    for tiers in ((PERMIT, OVERRIDE), (OVERRIDE,)):
        assert ended_windows(iconfirm.pack, plan, tables, statuses, facts, asof, ctx.cuts, None, tiers=tiers) == \
            eager_ended_windows(iconfirm.pack, plan, tables, statuses, facts, asof, ctx.cuts, tiers)
    assert invalid_consents(plan, iconfirm.pack, facts, asof, tables.consent_purposes) == \
        invalid_consents(plan, iconfirm.pack, facts, asof)
    # the whole explained Decision: with the purposes from Tables, and with them computed per call
    args = dict(pack=iconfirm.pack, plan=plan, statuses=statuses, facts=facts, as_of=day, asof=asof,
                cuts=ctx.cuts, keep=keep)
    assert build_decision(tables=tables, **args) == \
        build_decision(tables=dataclasses.replace(tables, consent_purposes=None), **args)
    return bool(eager_ended_windows(iconfirm.pack, plan, tables, statuses, facts, asof, ctx.cuts))


def test_shortcuts_on_the_benchmark_records(iconfirm):
    # bench.py's records sit on window ends for as_of 2024-02-29 (35-40% of anchors), so many
    # denies are window-ended ones: the case the shortcut changes
    bench = load_bench("privacy_rules_benchmark_memo")
    recs = bench.generate_records(1500, seed=3, as_of=bench.AS_OF)
    ended = sum(_same(iconfirm, r, q, bench.AS_OF) for r in recs for q in QUESTIONS)
    assert ended > 100  # the shortcut's case was met, not only the "no window ended" one


@settings(max_examples=300, deadline=None)
@given(records(SUBJECTS, ["newsletter", "relationship_management"], ["hubspot"], facts=[]),
       st.sampled_from(QUESTIONS), st.sampled_from(DAYS))
def test_shortcuts_equal_the_plain_definitions(iconfirm, record, question, day):
    _same(iconfirm, record, question, day)
