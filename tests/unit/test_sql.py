"""privacy_rules.sql (issue 9): Kleene logic in SQL, malformed values, refusals, the CLI command."""

from __future__ import annotations

import dataclasses
import io
import itertools

import pytest
import sqlglot
from sqlglot import exp

from privacy_rules.cli.main import main
from privacy_rules.compile import runtime as rt
from privacy_rules.model import Pred
from privacy_rules.pack import load_pack
from privacy_rules.policy import Policy
from privacy_rules.sql import SqlUnsupported, compile_sql
from privacy_rules.sql import _x as x

duckdb = pytest.importorskip("duckdb")
from privacy_rules.sql.duck import decide_duckdb  # noqa: E402  (needs duckdb)

PACK = load_pack("rules/iconfirm")
STATUS = {0: False, 1: None, 2: True}


_CON = duckdb.connect()


def _eval(e: exp.Expression) -> object:
    return _CON.execute(exp.select(e).sql("duckdb")).fetchall()[0][0]


def test_kleene_operators_in_sql_equal_the_row_engine() -> None:
    # docs/rule-language.md: false AND unknown = false, true OR unknown = true, NOT unknown = unknown
    for a, b in itertools.product((0, 1, 2), repeat=2):
        assert STATUS[_eval(x.k_and([x.num(a), exp.Paren(this=x.num(b))]))] is rt.k_and([STATUS[a], STATUS[b]])
        assert STATUS[_eval(x.k_or([x.num(a), exp.Paren(this=x.num(b))]))] is rt.k_or([STATUS[a], STATUS[b]])
    for a in (0, 1, 2):
        assert STATUS[_eval(x.k_not(exp.Paren(this=x.num(a))))] is rt.k_not(STATUS[a])


def test_sql_null_in_is_not_kleene_so_statuses_never_pass_through_null() -> None:
    # SQL: NULL IN ('a') is NULL, and NOT NULL IN (...) stays NULL; but a CASE reads a NULL
    # condition as false, so a naive `CASE WHEN NOT (x IN ...) THEN ...` turns unknown into false.
    naive = x.case([(x.not_(exp.In(this=x.null(), expressions=[x.text("a")])), x.num(2))], x.num(0))
    assert _eval(naive) == 0  # would read "not a prospect" where the subject is unknown
    # the compiler's subject status: unknown (1) when subject_categories is absent, and NOT keeps it
    recs = [{"id": "p", "role": "controller"}, {"id": "q", "role": "controller", "subject_categories": []}]
    by_id = {a.record_id: a for a in decide_duckdb(PACK, recs, ["keep"], "2024-02-29")}
    policy = Policy(PACK)
    for row in policy.decide_batch(recs, ["keep"], as_of="2024-02-29", reasons=True):
        assert by_id[row.record_id].outcome == row.answers[0].outcome.value
        assert by_id[row.record_id].reason_code == row.answers[0].reason_code
    assert by_id["p"].outcome == "undetermined" and by_id["q"].outcome == "deny"


@pytest.mark.parametrize(("value", "code"), [
    ("2023-02-30", "PR303"), ("2023-02-29", "PR303"), ("2024-02-29T00:00:00", "PR303"), ("2024-02-29 10:00", "PR303"),
    ("2024-2-9", "PR303"), ("9999-12-31", "PR308"), ("1899-12-31", "PR308"), ("２０２４-01-01", "PR303"),
])
def test_a_malformed_day_is_undetermined_with_its_code_never_allow(value: str, code: str) -> None:
    rec = {"id": "m", "role": "controller", "subject_categories": ["prospect"],
           "relationship": {"first_contact_on": value}}
    got = decide_duckdb(PACK, [rec], ["keep", "contact:newsletter:email"], "2024-02-29")
    assert {(a.outcome, a.reason_code, a.problem_code) for a in got} == {
        ("undetermined", "undetermined:bad-record", code)}


@pytest.mark.parametrize(("patch", "code"), [
    ({"role": "owner"}, "PR306"), ({"source": "fax"}, "PR306"), ({"subject_categories": ["prospekt"]}, "PR321"),
    ({"objections": [{"kind": "art21_3", "received_on": "2020-01-01"}]}, "PR306"),
    ({"consents": [{"purpose": "newsleter", "given_on": "2020-01-01"}]}, "PR321"),
    ({"erasure_requests": [{"verified_on": "2020-01-01"}]}, "PR304"),
    ({"vouchers": [{"fiscal_year": 1800}]}, "PR302"),
    ({"legal_holds": [{"placed_on": "2020-01-01", "scopes": ["everything"]}]}, "PR321"),
])
def test_an_unknown_value_is_undetermined_with_its_code(patch: dict[str, object], code: str) -> None:
    rec = {"id": "u", "role": "controller", "subject_categories": ["customer"],
           "relationship": {"customer_since": "2020-01-01"}, **patch}
    got = decide_duckdb(PACK, [rec], ["keep"], "2024-02-29")
    assert [(a.outcome, a.reason_code, a.problem_code) for a in got] == [
        ("undetermined", "undetermined:bad-record", code)]
    row = next(iter(Policy(PACK).decide_batch([rec], ["keep"], as_of="2024-02-29", reasons=True)))
    assert row.answers[0].reason_code == "undetermined:bad-record" and code in (row.problem or "")


def test_a_construct_the_compiler_cannot_express_is_refused_naming_the_rule() -> None:
    rule = next(r for r in PACK.rules if r.id == "keep.prospect-window")
    odd = dataclasses.replace(rule, when=rule.when + (Pred(kind="fact", arg={"path": "source", "op": "equals",
                                                                              "value": 1}),))
    pack = dataclasses.replace(PACK, rules=tuple(odd if r is rule else r for r in PACK.rules))
    with pytest.raises(SqlUnsupported, match="keep.prospect-window"):
        compile_sql(pack, ["keep"], "2024-02-29")


def test_window_end_arithmetic_is_calendar_months_clamped() -> None:
    # N42, R2: 2020-02-29 + 24 months = 2022-02-28; 2021-08-31 + 6 = 2022-02-28; + 1 = 2021-09-30
    for (yy, mm, dd), months, want in [((2020, 2, 29), 24, 20220228), ((2021, 8, 31), 6, 20220228),
                                       ((2021, 8, 31), 1, 20210930), ((2022, 2, 28), 24, 20240228),
                                       ((2023, 12, 31), 2, 20240229), ((2100, 1, 29), 1, 21000228)]:
        assert _eval(x.end_key(x.num(yy), x.num(mm), x.num(dd), months)) == want


@pytest.mark.parametrize("months", [1, 2, 11, 12, 13, 24, 36, 60])
def test_window_end_agrees_with_add_months_on_every_day_1900_to_2200(months: int) -> None:
    """end_key (whole years take a short form: only 29 February clamps) against dates.add_months
    (N42, R2) on every real day of the checked range, in DuckDB."""
    import duckdb
    from datetime import date, timedelta

    from privacy_rules.dates import add_months

    con = duckdb.connect()
    first = date(1900, 1, 1)
    n = (date(2200, 12, 31) - first).days + 1
    con.execute(f"CREATE TABLE p AS SELECT year(dt) AS y, month(dt) AS m, day(dt) AS d FROM (SELECT DATE '1900-01-01' "
                f"+ CAST(i AS INT) AS dt FROM range({n}) AS r(i))")
    end = x.end_key(x.col("y"), x.col("m"), x.col("d"), months).sql("duckdb")
    got = [k for (k,) in con.execute(f"SELECT {end} FROM p ORDER BY y, m, d").fetchall()]
    want = [int(add_months(first + timedelta(days=i), months).strftime("%Y%m%d")) for i in range(n)]
    assert len(got) == n and got == want


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_sql_prints_the_query_and_the_layout() -> None:
    code, out, _err = _cli("sql", "rules/iconfirm", "--dialect", "postgres", "-q", "keep", "--as-of", "2024-02-29",
                           "--ddl")
    assert code == 0
    assert 'CREATE TABLE "records"' in out and "WITH " in out
    statements = [s for s in sqlglot.parse(out, read="postgres") if s is not None]
    assert isinstance(statements[-1], exp.Query) and len(statements) > 5


@pytest.mark.parametrize("args", [("--dialect", "oracle"), ("--as-of", "2024-02-30"), ("-q", "keep:nowhere")])
def test_cli_sql_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    code, _out, err = _cli("sql", "rules/iconfirm", "--as-of", "2024-02-29", *args)
    assert code == 2 and err


def test_cli_sql_help() -> None:
    code, out, _err = _cli("sql", "--help")
    assert code == 0 and "--dialect" in out and "Exit 0" in out


_FORMER_CUSTOMER = {"id": "c", "role": "controller", "subject_categories": ["customer"], "source": "self",
                    "relationship": {"customer_since": "2018-01-01", "customer_ended_on": "2021-04-30"}}


@pytest.mark.parametrize(("patch", "as_of", "until"), [
    ({}, "2024-04-30", "2024-04-30"),                                   # N29, R3: allow, the tail's last day
    ({}, "2024-05-01", "2024-04-30"),                                   # the day after: the basis lapsed then
    ({}, "2026-07-01", "2024-04-30"),                                   # the day stays the window's, not as_of's
    # two permits ended (prospect 24 months from 2021-08-31; customer tail): the latest (R19)
    ({"subject_categories": ["customer", "prospect"], "first_contact_on": "2021-08-31"}, "2024-06-01", "2024-04-30"),
    # one permit with two ended windows (R5: role end + 3 years, never past the customer's tail): the earliest
    ({"role_ended_on": "2020-01-15"}, "2023-01-16", "2023-01-15"),
    ({"role_ended_on": "2020-01-15"}, "2024-05-01", "2023-01-15"),
])
def test_keep_until_of_a_deny_whose_window_ended_is_the_day_the_basis_lapsed(
        patch: dict[str, object], as_of: str, until: str) -> None:
    # docs/rule-language.md section 3 item 4, decide.ended_keep_until: per permit the earliest
    # ended window, across permits the latest; the SQL answer equals the row engine's
    rec: dict[str, object] = {**_FORMER_CUSTOMER, "relationship": dict(_FORMER_CUSTOMER["relationship"])}  # type: ignore[call-overload]
    for k, v in patch.items():
        if k == "subject_categories":
            rec[k] = v
        else:
            rec["relationship"][k] = v  # type: ignore[index]
    got = decide_duckdb(PACK, [rec], ["keep", "contact:relationship_management:email"], as_of)
    want = next(Policy(PACK).decide_batch([rec], ["keep", "contact:relationship_management:email"], as_of=as_of,
                                          reasons=True)).answers
    keep = next(a for a in got if a.question.startswith("keep"))
    assert keep.keep_until is not None and keep.keep_until.isoformat() == until
    assert (keep.outcome, keep.reason_code, keep.keep_until) == (want[0].outcome.value, want[0].reason_code,
                                                                 want[0].keep_until)
    if as_of > until:
        assert keep.reason_code == "deny:window-ended"
    contact = next(a for a in got if a.question.startswith("contact"))
    assert contact.keep_until is None  # contact and share answers never carry one


_PROSPECT = {"id": "p", "role": "controller", "subject_categories": ["prospect"], "source": "linkedin",
             "contact_address_kind": "impersonal", "relationship": {"first_contact_on": "2023-11-01"}}


@pytest.mark.parametrize(("facts", "outcome", "reason"), [
    (None, "allow", "allow:permit"),                                   # absent reads as false (if_absent)
    ({}, "allow", "allow:permit"),
    ({"unsubscribed_from_all_email": None}, "allow", "allow:permit"),  # null is absent
    ({"unsubscribed_from_all_email": False}, "allow", "allow:permit"),
    ({"unsubscribed_from_all_email": True}, "deny", "deny:forbid"),    # READINGS #25
    ({"unsubscribed_from_all_email": "yes"}, "undetermined", "undetermined:unusable-fact"),
    ({"hs_email_optout": True}, "undetermined", "undetermined:bad-record"),       # PR340
    ({"unsubscribed_from_all_email ": True}, "undetermined", "undetermined:bad-record"),
    ({"deletion_instructed": None}, "undetermined", "undetermined:bad-record"),   # a null undeclared key too
])
def test_declared_facts_in_sql_as_the_row_engine(facts: dict[str, object] | None, outcome: str, reason: str) -> None:
    rec: dict[str, object] = dict(_PROSPECT)
    if facts is not None:
        rec["facts"] = facts
    qs = ["contact:relationship_management:email", "keep"]
    answers = decide_duckdb(PACK, [rec], qs, "2024-02-29")
    got = [next(a for a in answers if a.question.startswith(q)) for q in qs]  # UNION ALL: no order
    row = next(Policy(PACK).decide_batch([rec], qs, as_of="2024-02-29", reasons=True))
    assert len(answers) == 2
    for have, want in zip(got, row.answers):
        assert (have.outcome, have.decisive_rule, have.reason_code, have.keep_until) == (
            want.outcome.value, want.rule_id, want.reason_code, want.keep_until)
    first = got[0]
    assert (first.outcome, first.reason_code) == (outcome, reason)
    if reason == "undetermined:bad-record":
        assert {a.problem_code for a in got} == {"PR340"}  # every question, the record's problem
        assert row.problem is not None and "PR340" in row.problem
