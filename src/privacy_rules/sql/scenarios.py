"""A pack's scenarios through the SQL path on DuckDB (``privacy-rules test PACK --engine duckdb``).

Every scenario record is loaded once into the layout and checked once (duck.Staged); one
decision query per as_of day then answers that day's scenarios. A scenario passes when the
SQL answer meets its expectations on the keys the query answers (outcome, keep_until,
decisive_rule, basis) and equals the row engine's answer for the same record (outcome,
decisive rule, keep_until, basis, reason code: a difference is a bug in one of them, reported
as the mismatch ``sql_vs_row``). Expectations the query does not answer (obligations,
overridden rules, missing facts) are checked on the row engine's decision, which also gives
the coverage. A record the layout cannot hold (an undated date, a shape no table holds: the
row engine's PR301/PR302) is decided by the row engine alone, and counted as such.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Sequence

from ..model import Question
from ..policy import Policy
from ..scenarios import Mismatch, Report, Result, Scenario, ScenarioResult, coverage, load_scenarios, run_scenario
from ..scenarios import scenario_record
from .load import LayoutError, add_record, empty_rows

#: expectation keys the SQL answers; the rest are the row engine's (scenarios._compare)
SQL_KEYS = ("outcome", "keep_until", "decisive_rule", "basis")


@dataclass(frozen=True, slots=True)
class SqlRun:
    """The report, and how many scenarios the SQL decided (on how many days) and the row engine alone."""

    report: Report
    sql: int
    row_only: int
    days: int


def _question(s: Scenario) -> Question:
    return Question.parse(s.question) if isinstance(s.question, str) else Question.from_json(s.question)


def _own_policy(policy: Policy, s: Scenario) -> Policy | None:
    """The policy a scenario with a host's register or a described recipient (issue 11) is
    decided by, None for the others (decided together in the staged tables of the pack)."""
    q = _question(s)
    if s.recipient_register is None and q.recipient_facts is None:
        return None
    if s.recipient_register is not None:
        from ..recipients import register_from_json

        policy = policy.with_register(register_from_json(s.recipient_register, source="scenario register"))
    return policy.for_questions([q])


def run_scenarios_sql(policy: Policy, scenarios: Sequence[Scenario], days: Iterable[str] | None = None) -> tuple[
        list[ScenarioResult], int, int]:
    """(results in scenario order, scenarios decided in SQL, by the row engine alone). ``days``:
    only the scenarios of these as_of days (None: all)."""
    from .duck import Staged, decide_duckdb

    wanted = None if days is None else set(days)
    own: list[tuple[int, Policy]] = []  # scenarios decided by a policy of their own, one query each
    rows = empty_rows()
    by_day: dict[str, list[tuple[int, str, Question]]] = defaultdict(list)
    results: dict[int, ScenarioResult] = {}
    row_only = 0
    for i, s in enumerate(scenarios):
        if wanted is not None and s.as_of not in wanted:
            continue
        base = run_scenario(policy, s)  # the row engine: the oracle, obligations, coverage
        results[i] = base
        if base.result is Result.ERROR or base.decision is None:
            continue
        record = scenario_record(s)
        try:
            if not isinstance(record, dict):
                raise LayoutError("not an object")
            add_record(empty_rows(), dict(record, id=f"s{i}"))  # the layout holds it
        except LayoutError:
            row_only += 1
            continue
        mine = _own_policy(policy, s)
        if mine is not None:
            own.append((i, mine))
            continue
        add_record(rows, dict(record, id=f"s{i}"))
        by_day[s.as_of].append((i, f"s{i}", policy.check_question(_question(s))))
    n_sql = 0
    for i, mine in own:
        s = scenarios[i]
        q = mine.check_question(_question(s))
        (a,) = decide_duckdb(mine.pack, [dict(scenario_record(s), id=f"s{i}")], [q], s.as_of)
        results[i] = _checked(mine, s, q, a, results[i])
        n_sql += 1
    if not by_day:
        return [results[i] for i in sorted(results)], n_sql, row_only
    staged = Staged(policy.pack, rows)
    for day in sorted(by_day):
        items = by_day[day]
        questions = sorted({q for *_rest, q in items}, key=str)
        answers = {(a.record_id, a.question): a for a in staged.decide(questions, day)}
        for i, rid, q in items:
            results[i] = _checked(policy, scenarios[i], q, answers[(rid, str(q))], results[i])
            n_sql += 1
    return [results[i] for i in sorted(results)], n_sql, row_only


def _checked(policy: Policy, s: Scenario, q: Question, a: Any, base: ScenarioResult) -> ScenarioResult:
    """The scenario's result from the SQL answer ``a``: its expectations on the keys SQL
    answers, the row engine's on the rest, and the SQL answer equal to the row engine's."""
    got = {"outcome": a.outcome, "keep_until": a.keep_until.isoformat() if a.keep_until else None,
           "decisive_rule": a.decisive_rule, "basis": a.basis}
    mism = [m for m in base.mismatches if m.key not in SQL_KEYS]
    mism += [Mismatch(key=k, expected=s.expect[k], actual=got[k]) for k in SQL_KEYS
             if k in s.expect and s.expect[k] != got[k]]
    as_of = date.fromisoformat(s.as_of)
    r = next(iter(policy.decide_batch([scenario_record(s)], [q], as_of=as_of, reasons=True))).answers[0]
    want = (r.outcome.value, r.rule_id, r.keep_until, r.basis.id if r.basis else None, r.reason_code)
    have = (a.outcome, a.decisive_rule, a.keep_until, a.basis, a.reason_code)
    if want != have:
        mism.append(Mismatch(key="sql_vs_row", expected=" ".join(map(_text, want)),
                             actual=" ".join(map(_text, have))))
    return ScenarioResult(scenario=s, result=Result.FAIL if mism else Result.PASS,
                          mismatches=tuple(mism), decision=base.decision)


def _text(v: Any) -> str:
    return "null" if v is None else v.isoformat() if isinstance(v, date) else str(v)


def run_pack_scenarios_sql(policy: Policy, paths: Iterable[str] | None = None) -> SqlRun:
    """scenarios.run_pack_scenarios through the SQL path (see the module)."""
    if paths is not None:
        scenarios, diags = load_scenarios(list(paths))
    else:
        scenarios, diags = load_scenarios(list(policy.pack.scenario_files), confine_to=policy.pack.root)
    results, n_sql, row_only = run_scenarios_sql(policy, scenarios)
    report = Report(results=tuple(results), coverage=coverage(policy, results), diagnostics=tuple(diags))
    return SqlRun(report, n_sql, row_only, len({s.as_of for s in scenarios}))


__all__ = ["SQL_KEYS", "SqlRun", "run_pack_scenarios_sql", "run_scenarios_sql"]
