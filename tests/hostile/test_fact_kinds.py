"""Issue 7 (never a wrong allow): `fact` conditions keep booleans, numbers and strings apart.

Python's == made `equals: 1` hold for a record's `true` (True == 1), `in: [0, 1]` for `false`,
and `not_equals: 1` false for `true`; a list of mixed kinds (`in: [1, gold]`) crashed `check`
(sorting an int with a str), and the loader's frozenset merged `[true, 1]` into one element.
Now a record value of another kind than the rule compares it with is a malformed fact: the
condition is unknown (docs/rule-language.md, "Fact comparisons"), in every engine: the
generated code (runtime.fact_*), the plain definition (interpret.fact) and the durable-rules
facade. Fixtures: tests/hostile/fact_kinds/ (a pack, its records, two packs `check` refuses).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import io
import json
import warnings
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import privacy_rules
from privacy_rules import Outcome, PackError, Question
from privacy_rules.cli.main import main
from privacy_rules.compile import interpret
from privacy_rules.compile import runtime as rt
from privacy_rules.model import Action, Effect, Pred, Rule, Severity
from privacy_rules.pack import _fact_values, read_pack
from tests.property.strategies import FACT_NAMES, FACT_SCALARS, declaring_fact_names, fact_conditions, fact_values

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
FIXTURES = HERE / "fact_kinds"
PACK = FIXTURES / "pack"
MINI = HERE.parent / "packs" / "mini"
NAN = float("nan")
U = None  # unknown

# (record value, operator, rule value, expected status): the table of docs/rule-language.md and more
TRUTH: list[tuple[Any, str, Any, bool | None]] = [
    # equals / not_equals: kinds differ -> unknown; same kind -> compared
    (True, "equals", 1, U), (False, "equals", 0, U), (1, "equals", True, U), (0, "equals", False, U),
    (True, "not_equals", 1, U), (False, "not_equals", 1, U), (1, "not_equals", True, U),
    (1, "equals", 1, True), (1.0, "equals", 1, True), (1, "equals", 1.0, True), (-0.0, "equals", 0, True),
    (2, "equals", 1, False), (2.5, "not_equals", 1, True), (1, "not_equals", 1.0, False),
    (2**53 + 1, "equals", float(2**53), False), (10**20 + 1, "equals", 10**20, False),
    (True, "equals", True, True), (True, "equals", False, False), (False, "not_equals", True, True),
    ("1", "equals", 1, U), (1, "equals", "1", U), ("true", "equals", True, U), (True, "equals", "true", U),
    ("a", "equals", "a", True), ("a", "not_equals", "b", True), ("", "equals", "", True),
    ("a", "equals", None, U), ("a", "not_equals", None, U), (1, "equals", NAN, U), (1, "not_equals", NAN, U),
    (1, "not_equals", float("inf"), U),
    # in / not_in: no element of the value's kind -> unknown; else membership among that kind only
    (False, "in", (0, 1), U), (True, "in", (0, 1), U), (0, "in", (0, 1), True), (2, "in", (0, 1), False),
    (True, "in", (1, "a"), U), (1, "in", (1, "a"), True), ("b", "in", (1, "a"), False), ("a", "in", (1, "a"), True),
    (True, "not_in", (1, "a"), U), (1, "not_in", (1, "a"), False), ("b", "not_in", (1, "a"), True),
    (1, "in", (True, 1), True), (True, "in", (True, 1), True), (False, "in", (True, 1), False),
    (False, "not_in", (True, 1), True), (0, "not_in", (True, 1), True),
    (True, "in", (1, True, False), True), (True, "not_in", (1, True, False), False),
    ("x", "in", (None,), U), ("x", "not_in", (None,), U), ("x", "in", (None, "x"), True),
    (1.0, "in", (NAN, 1), True), (2, "in", (NAN,), U), ("1", "in", (1, 2), U), (1, "not_in", ("1", "2"), U),
    # date comparisons: unchanged, unknown unless the value is a day in the supported range
    ("2023-12-31", "before", "2024-01-01", True), ("2024-01-01", "before", "2024-01-01", False),
    ("2024-01-01", "on_or_before", "2024-01-01", True), ("2024-01-02", "after", "2024-01-01", True),
    ("2024-01-01", "on_or_after", "2024-01-02", False), (20240101, "before", "2024-01-01", U),
    (True, "after", "2024-01-01", U), ("not a date", "before", "2024-01-01", U), ("9999-12-31", "after", "2024-01-01", U),
]
# absent stays unknown, for every operator
TRUTH += [(None, op, v, U) for op, v in [("equals", 1), ("not_equals", "a"), ("in", (1, "a")), ("not_in", (True,)),
                                         ("before", "2024-01-01"), ("on_or_after", "2024-01-01")]]


def _prepared(value: Any, op: str, operand: Any) -> Any:
    name, prepared = rt.fact_operand(op, operand)
    return rt.FACT_FUNCTIONS[name](value, prepared)


ENGINES = {"runtime.fact": rt.fact, "generated code (prepared)": _prepared, "interpret.fact": interpret.fact}


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize(("value", "op", "operand", "expected"), TRUTH,
                         ids=[f"{v!r}-{op}-{o!r}" for v, op, o, _ in TRUTH])
def test_truth_table(engine: str, value: Any, op: str, operand: Any, expected: bool | None) -> None:
    got = ENGINES[engine](value, op, operand)
    assert got is expected  # `is`: the generated evaluators test `x is False` / `x is None`


class Level(enum.IntEnum):
    ONE = 1


class OddFloat(float):
    def __eq__(self, other: object) -> Any:  # answers a non-bool, as numpy.float64 does
        return "yes"

    __hash__ = float.__hash__


class Text(str):
    pass


@pytest.mark.parametrize("engine", list(ENGINES))
def test_subclasses_from_the_python_api_give_real_booleans(engine: str) -> None:
    fact = ENGINES[engine]
    assert fact(Level.ONE, "equals", 1) is True
    assert fact(Level.ONE, "equals", True) is None  # an IntEnum is a number, not a boolean
    assert fact(OddFloat(2.0), "equals", 2) is True
    assert fact(OddFloat(2.0), "not_equals", 2) is False
    assert fact(OddFloat(2.0), "in", (1, 2)) is True
    assert fact(Text("a"), "in", ("a",)) is True and fact(Text("a"), "equals", 1) is None
    assert fact([1], "equals", 1) is None and fact({"a": 1}, "in", (1,)) is None  # no kind at all


def test_kind_names_the_three_kinds() -> None:
    assert [rt.kind(x) for x in (True, 0, -0.0, 2.5, "", None, NAN, float("-inf"), [1])] == \
        [rt.BOOLEAN, rt.NUMBER, rt.NUMBER, rt.NUMBER, rt.STRING, None, None, None, None]
    assert [interpret.kind_of(x) for x in (True, 0, 2.5, "x", None, NAN)] == \
        ["boolean", "number", "number", "string", None, None]


# --- durable-rules facade: the same table ------------------------------------------------------


def _rule(i: int, op: str, operand: Any, path: str = "facts.v") -> Rule:
    return Rule(id=f"k.r{i}", question=Action.KEEP, effect=Effect.PERMIT, basis="legitimate_interest",
                when=(Pred(kind="fact", arg=MappingProxyType({"path": path, "op": op, "value": operand})),), order=i)


@requires_durable
def test_durable_truth_table() -> None:
    from privacy_rules.engines.durable import DurablePolicy

    # keyed by repr: as dict keys (1, True) and (1.0, 1) would merge, the very confusion tested here
    conditions = list({repr((op, o)): (op, o) for _, op, o, _ in TRUTH}.values())
    index = {repr(c): i for i, c in enumerate(conditions)}
    pack = dataclasses.replace(privacy_rules.load_pack(MINI),
                               rules=tuple(_rule(i, op, v) for i, (op, v) in enumerate(conditions)))
    dpol, q = DurablePolicy(pack), Question.keep("record")
    values = list({repr(v): v for v, _, _, _ in TRUTH}.values())
    for value in values:
        record = {"id": "d-1", "facts": {} if value is None else {"v": value}}
        got = dpol.statuses(record, q, as_of=date(2024, 2, 29))
        for i, (op, operand) in enumerate(conditions):  # every value against every condition
            assert got[i] is interpret.fact(value, op, operand), (value, op, operand, got[i])
        for v, op, operand, expected in TRUTH:
            if repr(v) == repr(value):
                assert got[index[repr((op, operand))]] is expected, (value, op, operand)


@requires_durable
def test_durable_keeps_numbers_exact_and_survives_exponent_notation() -> None:
    # durable compared JSON numbers as doubles, failed a rule with 1e20 (error 204) and crashed
    # (segfault) on a fact holding 1e20; numbers now reach it as canonical text
    from privacy_rules.engines.durable import DurablePolicy

    conditions = [("equals", 10**20), ("equals", 1e20), ("equals", float(2**53)), ("in", (1e-7, 1e300))]
    pack = dataclasses.replace(privacy_rules.load_pack(MINI),
                               rules=tuple(_rule(i, op, v) for i, (op, v) in enumerate(conditions)))
    dpol, policy, q = DurablePolicy(pack), privacy_rules.compile_pack(pack), Question.keep("record")
    for value in [10**20, 10**20 + 1, 1e20, 2**53, 2**53 + 1, 1e-7, 1e300, -1e300, 5e-324]:
        record = {"id": "e-1", "facts": {"v": value}}
        expected = tuple(interpret.fact(value, op, v) for op, v in conditions)
        assert dpol.statuses(record, q, as_of=date(2024, 2, 29)) == expected, value
        plan, _ = policy.plan(q)
        assert plan.evaluate(policy.facts(record), policy._context(date(2024, 2, 29))[0], None) == expected


# --- the loader and `check` ---------------------------------------------------------------------


def test_lists_keep_true_and_1_apart() -> None:
    assert _fact_values([True, 1, 1.0, "a", "a", 0, False]) == (False, True, 0, 1, "a")
    assert _fact_values([1, "a"]) == _fact_values(["a", 1]) == (1, "a")  # a fixed order, whatever was written
    pack = privacy_rules.load_pack(PACK)
    tier = next(p for r in pack.rules for p in r.when if p.kind == "fact" and p.arg["path"] == "facts.tier")
    assert tier.arg["value"] == (1, "gold")


def test_check_reports_a_mixed_list_instead_of_crashing() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", str(PACK)], stdout=out, stderr=err)
    text = out.getvalue() + err.getvalue()
    assert code == 0, text  # was exit 3: sorting [1, "gold"] raised TypeError
    assert "warning PR214" in text and "`facts.tier`" in text and "Traceback" not in text


@pytest.mark.parametrize(("folder", "shown"), [("null-operand", "`null`"), ("number-on-string-field", "`1`, `2`")])
def test_check_refuses_a_condition_unknown_for_every_record(folder: str, shown: str) -> None:
    result, diags = read_pack(FIXTURES / folder)
    errors = [d for d in diags if d.severity is Severity.ERROR]
    assert [d.code for d in errors] == ["PR213"], [str(d) for d in diags]
    assert errors[0].rule_id == "contact.opted-out" and shown in errors[0].message and errors[0].span is not None
    with pytest.raises(PackError):
        privacy_rules.load_pack(FIXTURES / folder)
    assert main(["check", str(FIXTURES / folder)], stdout=io.StringIO(), stderr=io.StringIO()) == 1


def test_check_warns_when_one_path_meets_two_kinds() -> None:
    from privacy_rules.validate.semantic import check_fact_kinds

    base = privacy_rules.load_pack(MINI)
    rules = (_rule(0, "equals", True, "facts.flag"), _rule(1, "not_equals", 1, "facts.flag"),
             _rule(2, "in", (2, 3), "facts.flag"), _rule(3, "equals", "a", "facts.other"),
             _rule(4, "in", ("a", None), "facts.other"), _rule(5, "equals", 1.5, "source"))
    diags = list(check_fact_kinds(dataclasses.replace(base, rules=rules)))
    got = [(d.code, d.severity, d.rule_id) for d in diags]
    assert got == [("PR214", Severity.WARNING, "k.r1"),  # number after boolean; k.r2 (number again) is not repeated
                   ("PR214", Severity.WARNING, "k.r4"),  # null in a list
                   ("PR213", Severity.ERROR, "k.r5")], [str(d) for d in diags]
    assert "`k.r0`" in diags[0].message and "boolean `true`" in diags[0].message
    assert "a number must be finite" not in diags[2].message


# --- decisions: a record of the wrong kind is never allowed -----------------------------------

# record id -> (contact:followup:phone, share:crm_us:crm); the pack compares numbers 1/0 and [1, gold]
EXPECTED = {
    "num-1-0": ("allow", "allow"), "float": ("allow", "allow"), "out-1": ("deny", "deny"),
    "bool-in": ("undetermined", "undetermined"),  # was allow: true == 1
    "bool-out": ("undetermined", "allow"),  # was allow: false not in [0] is False, so no opt-out
    "bool-both": ("undetermined", "undetermined"), "text-1": ("undetermined", "deny"),
    "text-0": ("undetermined", "deny"), "out-true": ("undetermined", "deny"), "absent": ("undetermined", "undetermined"),
}
QUESTIONS = [Question.parse("contact:followup:phone"), Question.parse("share:crm_us:crm")]


def _records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / "records.jsonl").read_text(encoding="utf-8").splitlines()]


@functools.cache
def _policy() -> privacy_rules.Policy:
    return privacy_rules.compile_pack(privacy_rules.load_pack(PACK))


def test_fixture_records_decide_as_documented() -> None:
    policy = _policy()
    assert sorted(r["id"] for r in _records()) == sorted(EXPECTED)
    for record in _records():
        got = tuple(policy.decide(record, q, as_of=date(2024, 2, 29)).outcome.value for q in QUESTIONS)
        assert got == EXPECTED[record["id"]], record
    rows = list(policy.decide_batch(_records(), QUESTIONS, as_of=date(2024, 2, 29)))
    assert [tuple(a.outcome.value for a in row.answers) for row in rows] == [EXPECTED[r["id"]] for r in _records()]


@requires_durable
def test_fixture_records_decide_the_same_in_durable() -> None:
    from privacy_rules.engines.durable import DurablePolicy

    dpol, policy = DurablePolicy(privacy_rules.load_pack(PACK)), _policy()
    for record in _records():
        for q in QUESTIONS:
            assert dpol.decide(record, q, as_of=date(2024, 2, 29)).to_json() == \
                policy.decide(record, q, as_of=date(2024, 2, 29)).to_json(), (record, q)


def test_scenarios_of_the_fixture_pack_pass() -> None:
    out = io.StringIO()
    assert main(["test", str(PACK)], stdout=out, stderr=io.StringIO()) == 0, out.getvalue()


def _compared_kinds(rules: tuple[Rule, ...], path: str) -> set[str | None]:
    kinds: set[str | None] = set()
    for r in rules:
        stack = list(r.when)
        while stack:
            p = stack.pop()
            stack.extend(p.children)
            if p.kind == "fact" and p.arg["path"] == path:
                op, value = p.arg["op"], p.arg["value"]
                if op in ("in", "not_in"):
                    kinds |= {interpret.kind_of(x) for x in value}
                elif op in ("equals", "not_equals"):
                    kinds.add(interpret.kind_of(value))
                else:
                    kinds.add("string")  # a day: a string value could compare
    return kinds


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_value_of_another_kind_reads_as_absent(data: Any) -> None:
    """For any rules on `facts.*` and any record: a value whose kind no condition on its path
    compares with gives the statuses and the answer the absent value gives (unknown, never a
    match), so a kind mismatch can never turn an answer into allow."""
    base = declaring_fact_names(privacy_rules.load_pack(MINI))  # the record's keys are the pack's (PR340)
    leaf = fact_conditions().map(
        lambda c: Pred(kind="fact", arg=MappingProxyType({"path": c[0], "op": c[1], "value": c[2]})))
    tree = st.recursive(leaf, lambda kids: st.one_of(
        st.lists(kids, min_size=1, max_size=3).map(lambda c: Pred(kind="all", children=tuple(c))),
        st.lists(kids, min_size=1, max_size=3).map(lambda c: Pred(kind="any", children=tuple(c))),
        kids.map(lambda c: Pred(kind="not", children=(c,)))), max_leaves=4)
    n = data.draw(st.integers(1, 4), label="rules")
    rules = tuple(Rule(id=f"g.r{i}", question=Action.CONTACT, effect=[Effect.PERMIT, Effect.FORBID][i % 2],
                       basis="legitimate_interest" if i % 2 == 0 else None,
                       when=tuple(data.draw(st.lists(tree, min_size=1, max_size=2), label=f"when {i}")), order=i)
                  for i in range(n))
    policy = privacy_rules.compile_pack(dataclasses.replace(base, rules=rules))
    facts = data.draw(st.dictionaries(st.sampled_from(FACT_NAMES), fact_values(), max_size=4), label="facts")
    name = data.draw(st.sampled_from(FACT_NAMES), label="path")
    compared = _compared_kinds(rules, f"facts.{name}")
    wrong = [v for v in FACT_SCALARS if interpret.kind_of(v) not in compared]
    if not wrong:
        return
    value = data.draw(st.sampled_from(wrong), label="value of another kind")
    absent = {k: v for k, v in facts.items() if k != name}
    q, as_of = Question.contact("followup", "phone"), date(2024, 2, 29)
    plan, _ = policy.plan(q)
    ctx, _ = policy._context(as_of)
    with_value = policy.facts({"id": "w-1", "facts": {**absent, name: value}})
    without = policy.facts({"id": "w-1", "facts": absent})
    assert plan.evaluate(with_value, ctx, None) == plan.evaluate(without, ctx, None)
    a = policy.decide({"id": "w-1", "facts": {**absent, name: value}}, q, as_of=as_of)
    b = policy.decide({"id": "w-1", "facts": absent}, q, as_of=as_of)
    assert (a.outcome, a.decisive_rule) == (b.outcome, b.decisive_rule)
    if b.outcome is not Outcome.ALLOW:
        assert a.outcome is not Outcome.ALLOW


@pytest.mark.parametrize(("old", "new"), [(1, True), (0, False), ((1, "gold"), (True, "gold")), (1, "1")])
def test_diff_shows_a_change_of_kind(old: Any, new: Any) -> None:
    # `diff` compared rules with ==, so `equals: 1` -> `equals: true` was "no changes" although
    # it changes which records the rule matches
    from privacy_rules.diff import diff_packs

    op = "in" if isinstance(old, tuple) else "equals"
    base = privacy_rules.load_pack(PACK)

    def with_value(value: Any) -> Any:
        return dataclasses.replace(base, rules=(_rule(0, op, value, "facts.opted_in"),))

    changes = diff_packs(with_value(old), with_value(new)).rules
    assert [(c.rule_id, c.kind, [f.field for f in c.fields]) for c in changes] == [("k.r0", "changed", ["conditions"])]
    assert diff_packs(with_value(old), with_value(old)).rules == ()
