"""End to end (issue 8, items 4-7): the same eight records read from every input kind give the
answers worked out by hand (tests/data/sources/expected.json); every output kind carries
them; a decisions table is written back atomically; --max-bad and the summary.

The PostgreSQL tests run against a real server started from the machine's binaries
(tests/e2e/pgserver.py); `.ci/run` installs them, so in CI they run, never skip.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any, Callable

import pytest

import privacy_rules
from privacy_rules.cli.main import main
from privacy_rules.pipeline import evaluate_source
from privacy_rules.sinks import COLUMN_NAMES
from privacy_rules.sources import open_source
from privacy_rules.validate.schema import validate_instance

from .conftest import DATA, ROOT, build_duckdb, build_postgres, build_sqlite, expected, records

MINI = str(ROOT / "tests" / "packs" / "mini")
EXP = expected()
QS = EXP["questions"]
ARGS = ["--as-of", EXP["as_of"], *[a for q in QS for a in ("-q", q)]]


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err, stdin=io.BytesIO(stdin) if stdin is not None else None)
    return code, out.getvalue(), err.getvalue()


def _answers_from_jsonl(text: str) -> dict[str, list[list[Any]]]:
    got = {}
    for line in text.splitlines():
        row = json.loads(line)
        got[row["record_id"]] = [[a["outcome"], a["reason_code"], a["keep_until"]] for a in row["answers"]]
    return got


def _answers_from_long(rows: list[dict[str, Any]]) -> dict[str, list[list[Any]]]:
    got: dict[str, list[list[Any]]] = {}
    for r in rows:
        keep_until = r["keep_until"]
        if isinstance(keep_until, date):
            keep_until = keep_until.isoformat()
        got.setdefault(r["record_id"], []).append([r["outcome"], r["reason_code"], keep_until or None])
    return got


# --- every input kind gives the expected answers ----------------------------------------------------

def _inputs(tmp: Path, pg: Callable[[], str]) -> dict[str, list[str]]:
    build_sqlite(tmp / "crm.sqlite")
    build_duckdb(tmp / "crm.duckdb", tmp / "contacts.parquet")
    return {
        "jsonl": [str(DATA / "records.jsonl")],
        "json": [str(DATA / "records.json")],
        "csv": [str(DATA / "records.csv")],
        "parquet": [str(tmp / "contacts.parquet")],
        "sqlite": [str(tmp / "crm.sqlite"), "--table", "contacts"],
        "duckdb": [str(tmp / "crm.duckdb"), "--table", "contacts"],
    }


@pytest.mark.parametrize("kind", ["jsonl", "json", "csv", "parquet", "sqlite", "duckdb"])
def test_every_file_input_gives_the_expected_answers(kind: str, tmp_path: Path) -> None:
    spec = _inputs(tmp_path, lambda: "")[kind]
    code, out, err = run("evaluate", MINI, *spec, *ARGS)
    assert code == 0, err
    assert _answers_from_jsonl(out) == EXP["answers"]
    rows = [json.loads(line) for line in out.splitlines()]
    bad = [r for r in rows if r["problem"]]
    assert [r["record_id"] for r in bad] == ["bad-1"] and "PR303" in bad[0]["problem"]
    assert "8 rows, 1 bad" in err


def test_a_postgresql_table_and_query_give_the_expected_answers(postgres: str) -> None:
    build_postgres(postgres)
    code, out, err = run("evaluate", MINI, postgres, "--table", "contacts", *ARGS)
    assert code == 0, err
    assert _answers_from_jsonl(out) == EXP["answers"]
    code, out, err = run("evaluate", MINI, postgres, "--table", "public.contacts", *ARGS)
    assert code == 0 and _answers_from_jsonl(out) == EXP["answers"], err
    code, out, err = run("evaluate", MINI, postgres, "--query", "SELECT * FROM contacts WHERE id LIKE 'c-%' ORDER BY id",
                         *ARGS)
    assert code == 0, err
    assert _answers_from_jsonl(out) == {k: v for k, v in EXP["answers"].items() if k.startswith("c-")}


def test_the_python_api_reads_every_kind(tmp_path: Path) -> None:
    policy = privacy_rules.compile_pack(MINI)
    specs = _inputs(tmp_path, lambda: "")
    for kind, spec in specs.items():
        kw: dict[str, Any] = {"table": spec[2]} if len(spec) > 1 else {}
        with open_source(spec[0], **kw) as src:
            got = {r.record_id: [[a.outcome.value, a.reason_code, a.keep_until.isoformat() if a.keep_until else None]
                                 for a in r.answers]
                   for r in evaluate_source(policy, src, QS, as_of=date.fromisoformat(EXP["as_of"]))}
        assert got == EXP["answers"], kind


def test_stdin_reads_jsonl_json_and_csv() -> None:
    for fmt, name in (("jsonl", "records.jsonl"), ("json", "records.json"), ("csv", "records.csv")):
        code, out, err = run("evaluate", MINI, "-", "--input-format", fmt, *ARGS, stdin=(DATA / name).read_bytes())
        assert code == 0, (fmt, err)
        assert _answers_from_jsonl(out) == EXP["answers"], fmt


# --- every output kind carries them -------------------------------------------------------------------

def test_csv_output_is_the_long_format(tmp_path: Path) -> None:
    target = tmp_path / "decisions.csv"
    code, _, err = run("evaluate", MINI, str(DATA / "records.csv"), *ARGS, "-o", str(target))
    assert code == 0, err
    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMN_NAMES
    assert _answers_from_long(rows) == EXP["answers"]
    allow = next(r for r in rows if r["record_id"] == "c-1" and r["question"] == "contact:newsletter:email")
    assert (allow["basis"], allow["article"], allow["rule_id"]) == ("consent", "Art. 6(1)(a)", "contact.newsletter")
    ended = next(r for r in rows if r["record_id"] == "p-1" and r["question"] == "keep:record")
    assert "`keep.prospect` no longer holds: its window `prospect` ended on 2024-02-28" in ended["reason"]
    assert {r["as_of"] for r in rows} == {EXP["as_of"]} and rows[0]["locator"] == "line 2"


def test_parquet_output_keeps_types(tmp_path: Path) -> None:
    import duckdb

    target = tmp_path / "decisions.parquet"
    code, out, err = run("evaluate", MINI, str(DATA / "records.json"), *ARGS, "-o", str(target))
    assert code == 0 and out == "", err
    con = duckdb.connect()
    types = {r[0]: r[1] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(target)]).fetchall()}
    assert types["keep_until"] == "DATE" and types["row"] == "BIGINT" and types["outcome"] == "VARCHAR"
    cur = con.execute("SELECT * FROM read_parquet(?) ORDER BY row, question DESC", [str(target)])
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    assert tuple(cols) == COLUMN_NAMES
    assert _answers_from_long(rows) == EXP["answers"]
    assert [p.name for p in tmp_path.iterdir()] == ["decisions.parquet"]  # no staging left behind


def test_parquet_needs_a_file() -> None:
    code, _, err = run("evaluate", MINI, str(DATA / "records.jsonl"), *ARGS, "--output-format", "parquet")
    assert code == 2 and "Parquet output needs a file" in err


# --- a decisions table written back, atomically --------------------------------------------------------

def _table(kind: str, tmp: Path, postgres: Callable[[], str]) -> tuple[list[str], Callable[[str], list[dict[str, Any]] | None]]:
    """(the CLI's input arguments, a reader of a table's rows or None when there is no such table)."""
    if kind == "sqlite":
        db = tmp / "crm.sqlite"
        build_sqlite(db)

        def read(name: str) -> list[dict[str, Any]] | None:
            con = sqlite3.connect(db)
            try:
                cur = con.execute(f'SELECT * FROM "{name}"')
            except sqlite3.OperationalError:
                return None
            cols = [d[0] for d in cur.description]
            out = [dict(zip(cols, r)) for r in cur.fetchall()]
            con.close()
            return _ordered(out)

        return [str(db), "--table", "contacts"], read
    if kind == "duckdb":
        import duckdb

        db = tmp / "crm.duckdb"
        build_duckdb(db)

        def read(name: str) -> list[dict[str, Any]] | None:
            con = duckdb.connect(str(db), read_only=True)
            try:
                cur = con.execute(f'SELECT * FROM "{name}"')
            except duckdb.CatalogException:
                con.close()
                return None
            cols = [d[0] for d in cur.description]
            out = [dict(zip(cols, r)) for r in cur.fetchall()]
            con.close()
            return _ordered(out)

        return [str(db), "--table", "contacts"], read
    import psycopg
    from psycopg import sql

    url = postgres()
    build_postgres(url)
    with psycopg.connect(url) as con:
        con.execute("DROP TABLE IF EXISTS decisions")

    def read(name: str) -> list[dict[str, Any]] | None:
        with psycopg.connect(url) as con:
            try:
                cur = con.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(name)))
            except psycopg.errors.UndefinedTable:
                return None
            cols = [d[0] for d in cur.description or ()]
            return _ordered([dict(zip(cols, r)) for r in cur.fetchall()])

    return [url, "--table", "contacts"], read


def _ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A decisions table's rows in output order (row, then the question order asked); others as read."""
    if rows and "row" in rows[0]:
        return sorted(rows, key=lambda r: (r["row"], QS.index(r["question"])))
    return rows


@pytest.fixture(params=["sqlite", "duckdb", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[list[str], Callable[[str], Any], str]:
    kind = request.param
    return (*_table(kind, tmp_path, lambda: request.getfixturevalue("postgres")), kind)  # type: ignore[return-value]


def test_a_decisions_table_is_written_back_and_replaced(db: tuple[list[str], Callable[[str], Any], str],
                                                         tmp_path: Path) -> None:
    spec, read, kind = db
    summary = tmp_path / "summary.json"
    code, out, err = run("evaluate", MINI, *spec, *ARGS, "--output-table", "decisions", "--summary", str(summary))
    assert code == 0 and out == "", err
    rows = read("decisions")
    assert tuple(rows[0]) == COLUMN_NAMES
    assert _answers_from_long(rows) == EXP["answers"]
    data = json.loads(summary.read_text())
    assert validate_instance(data, "summary.schema.json") == []
    assert data["output"] == {"format": "table", "name": "decisions"} and data["input"]["format"] == kind
    # a second run replaces it, and a narrower query gives a smaller table
    narrow = [spec[0], "--query", "SELECT * FROM contacts WHERE id = 'c-2'"]
    code, _, err = run("evaluate", MINI, *narrow, *ARGS, "--output-table", "decisions")
    assert code == 0, err
    assert _answers_from_long(read("decisions")) == {"c-2": EXP["answers"]["c-2"]}
    # no staging table is left
    assert read("decisions_tmp") is None


def test_the_table_is_unchanged_when_the_run_fails(db: tuple[list[str], Callable[[str], Any], str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spec, read, kind = db
    code, _, err = run("evaluate", MINI, *spec, *ARGS, "--output-table", "decisions")
    assert code == 0, err
    before = read("decisions")
    # 1. too many bad rows: nothing is written
    code, _, err = run("evaluate", MINI, *spec, *ARGS, "--output-table", "decisions", "--max-bad", "0")
    assert code == 2 and "--max-bad 0" in err and "no output was written" in err
    assert read("decisions") == before
    # 2. a failure in the middle of the swap (after the old table is dropped) rolls back
    from privacy_rules import sinks

    real = sinks.TableSink._swap

    def swap_then_fail(self: Any, cur: Any) -> None:
        real(self, cur)
        raise RuntimeError("the disk is gone")

    monkeypatch.setattr(sinks.TableSink, "_swap", swap_then_fail)
    narrow = [spec[0], "--query", "SELECT * FROM contacts WHERE id = 'c-2'"]
    code, _, err = run("evaluate", MINI, *narrow, *ARGS, "--output-table", "decisions")
    assert code == 2 and "the disk is gone" in err and "the table is unchanged" in err, err
    assert read("decisions") == before


def test_a_table_that_is_not_a_decisions_table_is_never_replaced(db: tuple[list[str], Callable[[str], Any], str]) -> None:
    spec, read, kind = db
    before = read("contacts")
    code, _, err = run("evaluate", MINI, *spec, *ARGS, "--output-table", "contacts")
    assert code == 2 and "refusing to replace table `contacts`" in err
    assert read("contacts") == before


def test_output_table_needs_a_database_input() -> None:
    code, _, err = run("evaluate", MINI, str(DATA / "records.csv"), *ARGS, "--output-table", "decisions")
    assert code == 2 and "--output-table writes into the database the records come from" in err


# --- --max-bad and the summary ----------------------------------------------------------------------------

def test_a_csv_read_as_jsonl_fails_instead_of_passing_as_undetermined(tmp_path: Path) -> None:
    """The issue's case: a CSV given to evaluate as JSON Lines was 'every line undetermined'."""
    target = tmp_path / "out.jsonl"
    target.write_text("previous\n")
    summary = tmp_path / "summary.json"
    code, out, err = run("evaluate", MINI, "-", *ARGS, "-o", str(target), "--summary", str(summary),
                         stdin=(DATA / "records.csv").read_bytes())
    assert code == 2
    assert "9 of 9 rows are bad (--max-bad 1%)" in err and "line 1: PR310 not valid JSON" in err
    assert "is this the right --input-format?" in err
    assert target.read_text() == "previous\n"  # the old output stays
    data = json.loads(summary.read_text())
    assert validate_instance(data, "summary.schema.json") == []
    assert data["exit_code"] == 2 and data["bad_rows"] == 9 and data["bad_by_code"] == {"PR310": 9}
    assert len(data["first_problems"]) == 5


def test_max_bad_counts_and_percentages(tmp_path: Path) -> None:
    good = json.dumps({"id": "x", "subject_categories": ["customer"]})
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([good] * 30 + ["{not json"] * 2 + [good] * 68) + "\n")  # 2 bad of 100
    assert run("evaluate", MINI, str(src), *ARGS)[0] == 0  # 2 <= the floor of 10
    assert run("evaluate", MINI, str(src), *ARGS, "--max-bad", "2")[0] == 0
    code, out, err = run("evaluate", MINI, str(src), *ARGS, "--max-bad", "1")
    assert code == 2 and "stopped after 2 bad rows (--max-bad 1)" in err
    assert len(out.splitlines()) == 31  # a count stops at once: stdout already had the rows before
    src.write_text("\n".join([good] * 30 + ["{not json"] * 12 + [good] * 58) + "\n")  # 12 bad of 100
    code, _, err = run("evaluate", MINI, str(src), *ARGS)
    assert code == 2 and "12 of 100 rows are bad (--max-bad 1%)" in err
    assert run("evaluate", MINI, str(src), *ARGS, "--max-bad", "12%")[0] == 0
    assert run("evaluate", MINI, str(src), *ARGS, "--max-bad", "11.5%")[0] == 2
    for bogus in ("-1", "x", "101%", "1.5"):
        code, _, err = run("evaluate", MINI, str(src), *ARGS, "--max-bad", bogus)
        assert code == 2 and "--max-bad" in err, bogus


def test_summary_on_stderr_and_as_json(tmp_path: Path) -> None:
    summary = tmp_path / "s.json"
    code, _, err = run("evaluate", MINI, str(DATA / "records.csv"), *ARGS, "--summary", str(summary),
                       "--fail-on", "undetermined")
    assert code == 1
    assert "keep:record deny: 3" in err and "contact:newsletter:email allow: 1" in err
    assert "8 rows, 1 bad, in " in err and "records/s" in err
    data = json.loads(summary.read_text())
    assert validate_instance(data, "summary.schema.json") == []
    assert data["exit_code"] == 1 and data["rows"] == 8 and data["bad_rows"] == 1
    keep = data["questions"][0]
    assert keep == {"question": "keep:record", "outcomes": {"allow": 3, "deny": 3, "undetermined": 2},
                    "reason_codes": {"allow:permit": 3, "deny:forbid": 1, "deny:window-ended": 2,
                                     "undetermined:bad-record": 1, "undetermined:missing-fact": 1}}
    assert data["first_problems"][0]["locator"] == "line 9" and data["first_problems"][0]["record_id"] == "bad-1"
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_text_output_works_for_every_input(tmp_path: Path) -> None:
    spec = _inputs(tmp_path, lambda: "")["sqlite"]
    code, out, err = run("evaluate", MINI, *spec, *ARGS, "--format", "text")
    assert code == 0, err
    assert "p-2 (row 2), as of 2024-02-29" in out and "ALLOW until 2024-03-01" in out
    assert "8 rows, 1 bad" in err

