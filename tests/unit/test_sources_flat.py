"""privacy_rules.sources.flat (the flat layout) and pipeline.MaxBad, without files."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import pytest

from privacy_rules.pipeline import MaxBad
from privacy_rules.sources import SourceError, canonical_column, guess_format
from privacy_rules.sources.flat import FlatLayout


@pytest.mark.parametrize("column, path", [
    ("id", "id"), ("role", "role"), ("art14_informed_on", "art14_informed_on"),
    ("relationship.first_contact_on", "relationship.first_contact_on"),
    ("relationship__first_contact_on", "relationship.first_contact_on"),
    ("facts.tier", "facts.tier"), ("facts__tier", "facts.tier"), ("host.E-mail address", "host.E-mail address"),
    ("host__email", "host.email"), ("consents", "consents"), ("subject_categories", "subject_categories"),
    ("relationship", "relationship"),
    ("relationship.first_contact", None), ("facts.Tier", None), ("email", None), ("Record ID", None),
    ("relationship.", None), ("consents.purpose", None), ("id.x", None),
])
def test_canonical_columns(column: str, path: str | None) -> None:
    assert canonical_column(column) == path


def _layout(*cols: str, text: bool = False) -> FlatLayout:
    return FlatLayout.for_columns(cols, text=text, where="t")


def test_typed_values_become_json_data() -> None:
    lay = _layout("id", "relationship.first_contact_on", "facts.n", "facts.big", "host.seen", "host.key", "vouchers",
                  "consents", "subject_categories")
    rec, problems = lay.record({
        "id": uuid.UUID(int=1), "relationship.first_contact_on": dt.date(2024, 2, 29),
        "facts.n": decimal.Decimal("3"), "facts.big": decimal.Decimal("2.5"),
        "host.seen": dt.datetime(2024, 2, 29, 13, 5), "host.key": None,
        "vouchers": [{"fiscal_year": decimal.Decimal("2023"), "fiscal_year_end": dt.date(2023, 12, 31)}],
        "consents": [{"purpose": "newsletter", "given_on": dt.date(2023, 1, 1), "withdrawn_on": None}],
        "subject_categories": ("customer",),
    })
    assert problems == ()
    assert rec == {"id": "00000000-0000-0000-0000-000000000001", "relationship": {"first_contact_on": "2024-02-29"},
                   "facts": {"n": 3, "big": 2.5}, "host": {"seen": "2024-02-29T13:05:00"},
                   "vouchers": [{"fiscal_year": 2023, "fiscal_year_end": "2023-12-31"}],
                   "consents": [{"purpose": "newsletter", "given_on": "2023-01-01"}],  # a NULL struct member is absent
                   "subject_categories": ["customer"]}


def test_text_values() -> None:
    lay = _layout("id", "facts.flag", "facts.n", "facts.code", "consents", "role", text=True)
    rec, problems = lay.record({"id": "x", "facts.flag": "true", "facts.n": "-1.5e3", "facts.code": "007",
                                "consents": "[]", "role": ""})
    assert problems == ()
    assert rec == {"id": "x", "facts": {"flag": True, "n": -1500.0, "code": "007"}, "consents": []}


@pytest.mark.parametrize("value, message", [
    (b"\x00\x01", "column `consents` holds binary data"),
    ("[{", "column `consents` does not hold JSON: not valid JSON"),
    ('[{"purpose": "a", "purpose": "b"}]', "duplicate key `purpose`"),
    ("[NaN]", "`NaN` is not a JSON value"),
    (object(), "holds a value of type object"),
])
def test_unusable_cells_are_row_problems(value: Any, message: str) -> None:
    rec, problems = _layout("id", "consents").record({"id": "x", "consents": value})
    assert rec == {"id": "x"} and len(problems) == 1
    assert problems[0].code == "PR701" and message in problems[0].message


@pytest.mark.parametrize("cols, message", [
    (("id", "emial"), "column `emial` names no field of the record format"),
    (("id", "subject_category"), "did you mean `subject_categories`?"),
    (("role",), "no `id` column"),
    (("id", "relationship", "relationship.first_contact_on"), "both a `relationship` column"),
    (("id", "facts.x", "facts__x"), "both give `facts.x`"),
    (("id",) + tuple(f"c{i}" for i in range(12)), "and 2 more"),
])
def test_columns_that_are_not_fields_fail_before_any_row(cols: tuple[str, ...], message: str) -> None:
    with pytest.raises(SourceError) as exc:
        _layout(*cols)
    assert message in exc.value.message and exc.value.help


@pytest.mark.parametrize("text, bad, rows, fails", [
    ("1%", 10, 100, False), ("1%", 11, 1100, False), ("1%", 12, 1100, True), ("1%", 11, 1099, True), ("1%", 3, 3, True), ("1%", 0, 0, False),
    ("100%", 5, 5, False), ("0", 1, 1000, True), ("0", 0, 10, False), ("5", 5, 5, False), ("5", 6, 1000, True),
    ("0.5%", 12, 2000, True), ("0.5%", 12, 2400, False), ("0%", 11, 10_000, True), ("0%", 10, 10_000, False),
])
def test_max_bad(text: str, bad: int, rows: int, fails: bool) -> None:
    assert MaxBad.parse(text).exceeded(bad, rows) is fails


def test_max_bad_count_stops_at_once_and_prints_back() -> None:
    m = MaxBad.parse("2")
    assert not m.exceeded_now(2) and m.exceeded_now(3) and not MaxBad.parse("1%").exceeded_now(10**6)
    assert [str(MaxBad.parse(t)) for t in ("2", "1%", "0.5%", "0.00001%", " 3 ")] == ["2", "1%", "0.5%", "0.00001%", "3"]
    for bogus in ("", "-1", "1.5", "x%", "101%", "-1%", "nan%"):
        with pytest.raises(SourceError):
            MaxBad.parse(bogus)


@pytest.mark.parametrize("spec, fmt", [
    ("a.jsonl", "jsonl"), ("a.NDJSON", "jsonl"), ("a.json", "json"), ("a.csv", "csv"), ("a.tsv", "csv"),
    ("a.parquet", "parquet"), ("a.sqlite3", "sqlite"), ("a.duckdb", "duckdb"), ("-", "jsonl"),
    ("postgresql://u@h/db", "postgres"), ("postgres:///db?host=/tmp", "postgres"), ("records", "jsonl"),
])
def test_guess_format(spec: str, fmt: str) -> None:
    assert guess_format(spec) == fmt
