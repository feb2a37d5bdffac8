"""An undetermined answer says why: a present fact a rule cannot use is named (PR317-PR319).

Before: a `fact` condition meeting a record value of another kind (`equals: 1` against `true`),
or a `facts.*` value that is no date in 1900-01-01..2200-12-31 where a rule needs one
(`happened`, a window anchored on it, a date comparison), left the answer `undetermined` with
empty `missing_facts` and no problem, so the host could not tell which field to fix. Now the
Decision carries one record-level Diagnostic per such value (code, path, value, the rule that
read it), the reason quotes it, and the batch API (`Answer.problem`) and `evaluate` (each
answer's `"problem"`) carry it too. Only facts that can change the answer are named: not under
an `any` that another operand makes true, not in a permit when a forbid already holds.
Fixtures: tests/hostile/unusable_facts/ (a pack and its records).
"""

from __future__ import annotations

import functools
import io
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import privacy_rules
from privacy_rules import Outcome
from privacy_rules._answers import compact
from privacy_rules.cli.main import main
from privacy_rules.model import Severity

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import durable.engine  # noqa: F401
    _DURABLE_PROBLEM = None
except ImportError as _exc:  # e.g. Python 3.13
    _DURABLE_PROBLEM = f"{type(_exc).__name__}: {_exc}"

requires_durable = pytest.mark.skipif(_DURABLE_PROBLEM is not None,
                                      reason=f"durable-rules cannot be imported on this Python: {_DURABLE_PROBLEM}")

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "unusable_facts"
PACK = FIXTURES / "pack"
RECORDS = FIXTURES / "records.jsonl"
ROOT = HERE.parent.parent
AS_OF = "2024-06-01"
KEEP, CONTACT, SHARE = "keep:record", "contact:followup:email", "share:partner:crm"
QUESTIONS = [KEEP, CONTACT, SHARE]
U = "undetermined"
ALL_MISSING = ("facts.trial_started_on", "facts.score", "facts.vip", "facts.region")

# (record id, question) -> (outcome, missing_facts, [(code, rule id, path)]). Pairs not listed
# are checked to have no problems.
EXPECTED: dict[tuple[str, str], tuple[str, tuple[str, ...], list[tuple[str, str, str]]]] = {
    # a forbid holds, the override that could beat it reads `"yes"` where it compares `true`
    ("hold-kind", KEEP): (U, (), [("PR317", "keep.hold", "facts.hold")]),
    # ... and the contact rule that reads `keep: allowed` names keep's problem too
    ("hold-kind", CONTACT): (U, ALL_MISSING, [("PR317", "keep.hold", "facts.hold")]),
    # a permit holds; the forbid's `happened` date is not a date / out of range / a number
    ("instr-bad", KEEP): (U, (), [("PR318", "keep.instructed", "facts.instructed_on")]),
    ("instr-far", KEEP): (U, (), [("PR319", "keep.instructed", "facts.instructed_on")]),
    ("instr-number", KEEP): (U, (), [("PR318", "keep.instructed", "facts.instructed_on")]),
    ("instr-bad", CONTACT): (U, ALL_MISSING, [("PR318", "keep.instructed", "facts.instructed_on")]),
    ("instr-far", CONTACT): (U, ALL_MISSING, [("PR319", "keep.instructed", "facts.instructed_on")]),
    ("instr-number", CONTACT): (U, ALL_MISSING, [("PR318", "keep.instructed", "facts.instructed_on")]),
    # a forbid holds: the permit `keep.member` (member 1, compared with `true`) cannot change
    # the answer, only the override can: neither its problem nor (when absent) its fact is named
    ("forbid-holds", KEEP): (U, ("facts.hold",), []),
    ("forbid-holds-missing", KEEP): (U, ("facts.hold",), []),
    # `any: [score equals 1, vip equals true]`: vip true decides it, score "1" cannot matter
    ("any-decided", CONTACT): (U, ("facts.trial_started_on", "facts.region"), []),
    # vip false: now score "1" is what keeps the `any` open
    ("any-open", CONTACT): (U, ("facts.trial_started_on",), [("PR317", "contact.scored", "facts.score")]),
    # contact.trial is in its window but reads keep, which is open because of a bad date
    ("keep-open", KEEP): (U, (), [("PR318", "keep.instructed", "facts.instructed_on")]),
    ("keep-open", CONTACT): (U, (), [("PR318", "keep.instructed", "facts.instructed_on")]),
    # a window anchored on a fact that is a number / a date-time
    ("trial-number", CONTACT): (U, (), [("PR318", "contact.trial", "facts.trial_started_on")]),
    ("trial-datetime", CONTACT): (U, (), [("PR318", "contact.trial", "facts.trial_started_on")]),
    # a date comparison on a boolean / an impossible day / a day before 1900
    ("signed-bool", SHARE): (U, (), [("PR318", "share.signed", "facts.signed_on")]),
    ("signed-bad", SHARE): (U, (), [("PR318", "share.signed", "facts.signed_on")]),
    ("signed-old", SHARE): (U, (), [("PR319", "share.signed", "facts.signed_on")]),
    ("fine", KEEP): ("allow", (), []),
    ("fine", CONTACT): ("allow", (), []),
    ("fine", SHARE): ("allow", (), []),
}


@functools.cache
def _policy() -> privacy_rules.Policy:
    return privacy_rules.compile_pack(str(PACK))


def _records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in RECORDS.read_text(encoding="utf-8").splitlines() if line.strip()]


def _record(rid: str) -> dict[str, Any]:
    return next(r for r in _records() if r["id"] == rid)


def _decision_errors(data: Any) -> list[str]:
    schema = json.loads((ROOT / "schemas" / "decision.schema.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [e.message for e in validator.iter_errors(data)]


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=[f"{r}-{q}" for r, q in sorted(EXPECTED)])
def test_the_decision_names_the_fact_the_rule_and_why(key: tuple[str, str]) -> None:
    rid, question = key
    outcome, missing, problems = EXPECTED[key]
    d = _policy().decide(_record(rid), question, as_of=AS_OF)
    assert d.outcome.value == outcome
    assert d.missing_facts == missing
    assert [(p.code, p.rule_id) for p in d.problems] == [(c, r) for c, r, _ in problems]
    for p, (_, _, path) in zip(d.problems, problems):
        assert p.severity is Severity.ERROR and p.record_id == rid and p.help
        assert p.message.startswith(f"`{path}` is "), p.message  # the field to fix comes first
        assert f"rule `{p.rule_id}`" in p.message  # explain() prints messages without rule_id
        assert p.span is None  # the problem is in the record, not in the rule file
    if problems:
        assert d.reason.startswith("cannot decide: ") and d.problems[0].message in d.reason
    assert not _decision_errors(d.to_json())


def test_messages_read_as_documented() -> None:
    """The wording of docs/codes.md: the value as JSON writes it, the kind, what the rule needs."""
    policy = _policy()
    [p] = policy.decide(_record("hold-kind"), KEEP, as_of=AS_OF).problems
    assert p.message == "`facts.hold` is the string `\"yes\"`, but rule `keep.hold` compares it with the boolean `true`"
    assert p.help is not None and p.help.startswith("send `facts.hold` as a boolean")
    [p] = policy.decide(_record("instr-far"), KEEP, as_of=AS_OF).problems
    assert p.message == ("`facts.instructed_on` is `9999-12-31`, outside the supported range 1900-01-01..2200-12-31, "
                         "but rule `keep.instructed` reads it as a date (`happened: facts.instructed_on`)")
    [p] = policy.decide(_record("trial-number"), CONTACT, as_of=AS_OF).problems
    assert p.message == ("`facts.trial_started_on` is the number `12`, not a date, but rule `contact.trial` reads it "
                         "as a date (window `trial`)")
    [p] = policy.decide(_record("signed-bool"), SHARE, as_of=AS_OF).problems
    assert p.message.endswith("reads it as a date (`on_or_after: 2020-01-01`)")
    mixed = {"id": "m", "facts": {"tier": True}}
    fk = privacy_rules.compile_pack(str(HERE / "fact_kinds" / "pack"))
    [p] = fk.decide(mixed, "share:crm_us:crm", as_of=AS_OF).problems
    assert p.message == ("`facts.tier` is the boolean `true`, but rule `share.crm-tier` compares it with numbers and "
                         "strings (`in: [1, \"gold\"]`)")
    assert p.help is not None and p.help.startswith("send `facts.tier` as a number or a string")


def test_a_long_or_hostile_value_is_cut_and_quoted() -> None:
    value = "\x1b[2K\rALLOW " + "x" * 500
    d = _policy().decide({"id": "h", "facts": {"hold": value, "instructed_on": "2024-01-01"}}, KEEP, as_of=AS_OF)
    [p] = d.problems
    assert len(p.message) < 250 and p.message.startswith('`facts.hold` is the string `"\\u001b[2K\\rALLOW ')
    assert "\x1b" not in privacy_rules.explain(d)


def test_every_fixture_answer_is_as_expected_or_has_no_problem() -> None:
    policy = _policy()
    for record in _records():
        for d in policy.decide_all(record, QUESTIONS, as_of=AS_OF):
            if (record["id"], str(d.question)) not in EXPECTED:
                assert d.problems == (), (record["id"], str(d.question))


def test_batch_answers_carry_the_same_problems() -> None:
    policy = _policy()
    records = _records()
    rows = list(policy.decide_batch(records, QUESTIONS, as_of=AS_OF))
    for record, row in zip(records, rows):
        assert row.problem is None  # the record itself is readable
        for answer, d in zip(row.answers, policy.decide_all(record, QUESTIONS, as_of=AS_OF)):
            assert answer.outcome is d.outcome
            assert answer.problem == (compact(d.problems) if d.problems else None)
    # the same as JSON text, and one question at a time (keep evaluated only for `keep:` rules)
    for record in records:
        for q in QUESTIONS:
            [row] = policy.decide_batch([json.dumps(record)], [q], as_of=AS_OF)
            d = policy.decide(record, q, as_of=AS_OF)
            assert row.answers[0].problem == (compact(d.problems) if d.problems else None)


def test_an_unreadable_record_keeps_its_problem_on_the_row() -> None:
    [row] = _policy().decide_batch([{"id": "x", "facts": {"hold": [1]}}], QUESTIONS, as_of=AS_OF)
    assert row.problem is not None and row.problem.startswith("PR302")
    assert all(a.outcome is Outcome.UNDETERMINED and a.problem is None for a in row.answers)


@requires_durable
def test_durable_names_the_same_problems() -> None:
    from privacy_rules.engines.durable import DurablePolicy

    pack = privacy_rules.load_pack(str(PACK))
    compiled, dpol = privacy_rules.compile_pack(pack), DurablePolicy(pack)
    records = _records()
    for record in records:
        for q in QUESTIONS:
            assert dpol.decide(record, q, as_of=AS_OF).to_json() == compiled.decide(record, q, as_of=AS_OF).to_json()
    assert list(dpol.decide_batch(records, QUESTIONS, as_of=AS_OF)) == \
        list(compiled.decide_batch(records, QUESTIONS, as_of=AS_OF))


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_evaluate_jsonl_gives_each_answer_its_problem() -> None:
    args = [f"-q{q}" for q in QUESTIONS]
    code, out, _ = _run("evaluate", str(PACK), str(RECORDS), "--as-of", AS_OF, "--no-progress", *args)
    assert code == 0
    rows = {r["record_id"]: r for r in map(json.loads, out.splitlines())}
    assert len(rows) == len(_records())
    for (rid, question), (_, _, problems) in EXPECTED.items():
        row = rows[rid]
        assert row["problem"] is None  # the line's own problem stays for unreadable records
        answer = row["answers"][QUESTIONS.index(question)]
        assert set(answer) == {"question", "outcome", "rule_id", "keep_until", "problem", "basis", "article",
                               "reason_code", "reason"}  # issue 8 added the last four
        if problems:
            assert answer["problem"].startswith(problems[0][0] + " `" + problems[0][2] + "`")
            assert answer["reason_code"] == "undetermined:unusable-fact"
        else:
            assert answer["problem"] is None


def test_evaluate_text_and_decide_show_the_problem(tmp_path: Path) -> None:
    code, out, _ = _run("evaluate", str(PACK), str(RECORDS), "--as-of", AS_OF, "--format", "text", f"-q{SHARE}")
    assert code == 0
    assert "problem: PR319 `facts.signed_on` is `1800-01-01`" in out
    record = tmp_path / "hold-kind.json"
    record.write_text(json.dumps(_record("hold-kind")), encoding="utf-8")
    code, out, _ = _run("decide", str(PACK), str(record), "--as-of", AS_OF, f"-q{KEEP}", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [p["code"] for p in data["problems"]] == ["PR317"] and data["problems"][0]["rule_id"] == "keep.hold"
    assert data["missing_facts"] == [] and not _decision_errors(data)
    code, out, _ = _run("decide", str(PACK), str(record), "--as-of", AS_OF, f"-q{KEEP}", "--lang", "nb")
    assert code == 0
    assert "problem: PR317: `facts.hold` is the string `\"yes\"`" in out
    assert "cannot decide: `facts.hold` is the string" in out


def test_a_checked_record_field_compared_with_another_kind_is_named_too() -> None:
    """`check` refuses `fact: {path: source, equals: 1}` (PR213), but a Pack built in Python can
    hold it: `source` is a string in every record, so the rule is unknown, and says why."""
    import dataclasses
    from types import MappingProxyType

    from privacy_rules.model import Action, Effect, Pred, Rule

    base = privacy_rules.load_pack(str(PACK))
    rule = Rule(id="contact.source-number", question=Action.CONTACT, effect=Effect.PERMIT,
                basis="legitimate_interest", purposes=("followup",), order=99,
                when=(Pred(kind="fact", arg=MappingProxyType({"path": "source", "op": "equals", "value": 1})),))
    policy = privacy_rules.compile_pack(dataclasses.replace(base, rules=(rule,)))
    record = {"id": "s", "source": "website"}
    d = policy.decide(record, CONTACT, as_of=AS_OF)
    assert d.outcome is Outcome.UNDETERMINED and [p.code for p in d.problems] == ["PR317"]
    assert d.problems[0].message == "`source` is the string `\"website\"`, but rule `contact.source-number` " \
                                    "compares it with the number `1`"
    [row] = policy.decide_batch([record], [CONTACT], as_of=AS_OF)
    assert row.answers[0].problem == compact(d.problems)
