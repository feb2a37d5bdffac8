"""Scenario tests as data: load them, run them against a compiled pack, report coverage.

A scenario is (record, question, as_of, expected): the Cerbos/OPA shape with the clock pinned.
Results are values; the CLI formats them. Four results, counted apart (OPA): PASS, FAIL
(expectation not met), ERROR (could not run: bad fixture, unknown question id).
"""

from __future__ import annotations

import copy
import enum
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping

from .dates import parse_date
from .errors import PackError
from .load import inside, load_yaml_file
from .model import Decision, Diagnostic, Question, RuleStatus, Severity, Span
from .policy import Policy, QuestionError
from .validate._chars import visible
from .validate.schema import iter_schema_errors


class Result(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    name: str
    norms: tuple[str, ...]
    as_of: str
    record: Mapping[str, Any] | str
    patch: Mapping[str, Any] | None
    question: Any
    expect: Mapping[str, Any]
    span: Span
    fixtures: Mapping[str, Any]
    ambiguous: str | None = None
    #: a host's processor register in force for this scenario (issue 11 item 4; the JSON form
    #: of recipients.register_from_json), or None: the pack's vocabulary
    recipient_register: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Mismatch:
    key: str
    expected: Any
    actual: Any

    def __str__(self) -> str:
        return f"{self.key}: expected {_show(self.expected)}, got {_show(self.actual)}"


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]"
    return "null" if value is None else str(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioResult:
    scenario: Scenario
    result: Result
    mismatches: tuple[Mismatch, ...] = ()
    error: str | None = None
    decision: Decision | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    rules_total: int
    rules_exercised: tuple[str, ...]
    rules_unexercised: tuple[str, ...]
    norms_uncited: tuple[str, ...]
    norms_cited: tuple[str, ...]

    @property
    def percent(self) -> float:
        return 100.0 * len(self.rules_exercised) / self.rules_total if self.rules_total else 100.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    results: tuple[ScenarioResult, ...]
    coverage: Coverage
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    def count(self, result: Result) -> int:
        return sum(1 for r in self.results if r.result is result)

    @property
    def ok(self) -> bool:
        return bool(self.results) and not self.diagnostics and all(r.result is Result.PASS for r in self.results)


def load_scenarios(paths: Iterable[str], *, confine_to: str | None = None) -> tuple[list[Scenario], list[Diagnostic]]:
    """Every scenario in ``paths`` and every problem loading them (never raises for user errors).

    With ``confine_to`` (the pack folder, for the files pack.yaml lists), a path that lies
    outside that folder once symbolic links are resolved is PR009 and is not read: messages
    about a scenario file quote its content. Files named by the user (``test --scenarios``)
    may lie anywhere. Either way only regular files are read (PR001).
    """
    scenarios: list[Scenario] = []
    diags: list[Diagnostic] = []
    for path in paths:
        if confine_to is not None and not inside(confine_to, path):
            diags.append(Diagnostic(
                code="PR009", severity=Severity.ERROR, span=None,
                message=f"scenario file `{visible(path)}` lies outside the pack folder `{visible(confine_to)}`",
                help="list scenario files relative to the pack folder, without `..`, and not as links that "
                     "lead out of it"))
            continue
        try:
            loaded = load_yaml_file(path)
        except PackError as exc:
            diags.extend(exc.diagnostics)
            continue
        errors = list(iter_schema_errors(loaded, "scenarios.schema.json"))
        if errors:
            diags.extend(errors)
            continue
        fixtures = loaded.data.get("fixtures") or {}
        for i, s in enumerate(loaded.data.get("scenarios") or ()):
            span = loaded.span_for(("scenarios", i))
            record = s["record"]
            if isinstance(record, str) and record not in fixtures:
                diags.append(Diagnostic(code="PR401", severity=Severity.ERROR, span=span,
                                        message=f"scenario `{s['name']}`: unknown fixture `{record}`",
                                        help="define it under `fixtures:` in the same file"))
                continue
            scenarios.append(Scenario(
                name=s["name"], norms=tuple(s.get("norms") or ()), as_of=str(s["as_of"]), record=record,
                patch=s.get("patch"), question=s["question"], expect=s["expect"], span=span, fixtures=fixtures,
                ambiguous=s.get("ambiguous"), recipient_register=s.get("recipient_register"),
            ))
    return scenarios, diags


def _merge(base: Any, patch: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(patch, Mapping):
        out = dict(base)
        for k, v in patch.items():
            out[k] = _merge(base.get(k), v) if isinstance(v, Mapping) else copy.deepcopy(v)
        return out
    return copy.deepcopy(patch)


def scenario_record(s: Scenario) -> Any:
    """The record a scenario runs on: its fixture (or inline record) with ``patch`` merged in (dicts deep, lists replaced)."""
    base = s.fixtures[s.record] if isinstance(s.record, str) else s.record
    record = copy.deepcopy(base)
    return _merge(record, s.patch) if s.patch else record


def run_scenario(policy: Policy, s: Scenario) -> ScenarioResult:
    """Run one scenario; a scenario that cannot run is an ERROR result, never an exception."""
    try:
        as_of: date = parse_date(s.as_of)
        q = Question.parse(s.question) if isinstance(s.question, str) else Question.from_json(s.question)
        if s.recipient_register is not None:
            from .recipients import register_from_json

            policy = policy.with_register(register_from_json(s.recipient_register, source="scenario register"))
        decision = policy.decide(scenario_record(s), q, as_of=as_of)
    except (ValueError, QuestionError, TypeError) as exc:
        return ScenarioResult(scenario=s, result=Result.ERROR, error=str(exc))
    mismatches = list(_compare(s.expect, decision))
    return ScenarioResult(scenario=s, result=Result.FAIL if mismatches else Result.PASS,
                          mismatches=tuple(mismatches), decision=decision)


def _compare(expect: Mapping[str, Any], d: Decision) -> Iterable[Mismatch]:
    if expect["outcome"] != d.outcome.value:
        yield Mismatch(key="outcome", expected=expect["outcome"], actual=d.outcome.value)
    if "keep_until" in expect:
        actual = d.keep_until.isoformat() if d.keep_until else None
        if expect["keep_until"] != actual:
            yield Mismatch(key="keep_until", expected=expect["keep_until"], actual=actual)
    if "recipient_source" in expect and expect["recipient_source"] != d.recipient_source:
        yield Mismatch(key="recipient_source", expected=expect["recipient_source"], actual=d.recipient_source)
    if "decisive_rule" in expect and expect["decisive_rule"] != d.decisive_rule:
        yield Mismatch(key="decisive_rule", expected=expect["decisive_rule"], actual=d.decisive_rule)
    if "basis" in expect:
        actual = d.basis.id if d.basis else None
        if expect["basis"] != actual:
            yield Mismatch(key="basis", expected=expect["basis"], actual=actual)
    if "obligations_due" in expect:
        due = {o.id: (o.due_on.isoformat() if o.due_on else None) for o in d.obligations}
        for oid, day in expect["obligations_due"].items():
            if due.get(oid, "absent") != day:
                yield Mismatch(key=f"obligations_due.{oid}", expected=day, actual=due.get(oid, "absent"))
    if "absent_obligations" in expect:
        present = [o.id for o in d.obligations if o.id in expect["absent_obligations"]]
        if present:
            yield Mismatch(key="absent_obligations", expected="none of " + _show(expect["absent_obligations"]),
                           actual=present)
    for key, actual_set in (("obligations", [o.id for o in d.obligations]), ("overridden", list(d.overridden)),
                            ("missing_facts", list(d.missing_facts))):
        if key in expect:
            missing = [x for x in expect[key] if x not in actual_set]
            if missing:
                yield Mismatch(key=key, expected=f"{_show(expect[key])} (at least)", actual=actual_set)


def coverage(policy: Policy, results: Iterable[ScenarioResult]) -> Coverage:
    """Which rules some scenario exercised (held or decided), and which norms no scenario cites.

    A rule with an ``unlisted`` condition among its top-level conditions can never hold (the
    condition is unknown or false): it is exercised when some scenario makes it unknown."""
    exercised: set[str] = set()
    cited: set[str] = set()
    only_unknown = {rule.id for rule in policy.pack.rules if any(p.kind == "unlisted" for p in rule.when)}
    for r in results:
        cited.update(r.scenario.norms)
        if r.decision is not None:
            exercised.update(a.rule_id for a in r.decision.applied
                             if a.status is not RuleStatus.UNKNOWN or a.rule_id in only_unknown)
    rule_ids = [rule.id for rule in policy.pack.rules]
    norms = policy.pack.meta.get("norms") or {}
    # Norms the pack encodes in rules or vocabulary should be cited by a scenario; documentation-only
    # norms (no decision effect, e.g. N1) are accounted for by the pack's metadata instead.
    decision_norms = [n for n, info in norms.items() if (info or {}).get("covered_by") != "documentation"]
    return Coverage(
        rules_total=len(rule_ids),
        rules_exercised=tuple(i for i in rule_ids if i in exercised),
        rules_unexercised=tuple(i for i in rule_ids if i not in exercised),
        norms_uncited=tuple(sorted((n for n in decision_norms if n not in cited), key=_norm_key)),
        norms_cited=tuple(sorted(cited, key=_norm_key)),
    )


def _norm_key(n: str) -> tuple[str, int]:
    return (n[0], int(n[1:]) if n[1:].isdigit() else 0)


def run_pack_scenarios(policy: Policy, paths: Iterable[str] | None = None) -> Report:
    """Load and run the pack's scenario files (or ``paths``); coverage over all results."""
    if paths is not None:
        scenarios, diags = load_scenarios(list(paths))
    else:
        scenarios, diags = load_scenarios(list(policy.pack.scenario_files), confine_to=policy.pack.root)
    results = tuple(run_scenario(policy, s) for s in scenarios)
    return Report(results=results, coverage=coverage(policy, results), diagnostics=tuple(diags))


def scenario_files_in(folder: str) -> list[str]:
    return sorted(str(p) for p in Path(folder).glob("*.yaml"))
