"""Hostile inputs for the sources (issue 8, items 4 and 6): files that are not what their format
says fail clearly (exit 2, nothing decided, never "every row undetermined"); a row with its own
problem is that row's, and the rest is read on; memory stays bounded; table names never
reach SQL text unquoted.

Fixtures: tests/hostile/sources/*. A name with `.fatal.` must exit 2 with no answer for the
rows after the problem; the others give one answer line per row.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from privacy_rules.cli.main import main
from privacy_rules.sources import SourceError, open_source
from privacy_rules.sources._sql import quote_ident

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "sources"
MINI = str(ROOT / "tests" / "packs" / "mini")
ARGS = ["--as-of", "2024-02-29", "-q", "keep"]
FATAL = sorted(p for p in HERE.iterdir() if ".fatal." in p.name)


def run(*args: str, stdin: Any = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err, stdin=stdin)
    return code, out.getvalue(), err.getvalue()


def _rows(out: str) -> list[tuple[str, str | None, str, str | None]]:
    """(locator, record id, keep outcome, first problem code) per output line."""
    got = []
    for line in out.splitlines():
        r = json.loads(line)
        code = r["problem"].split(": ", 1)[1].split(" ")[0] if r["problem"] else None
        got.append((r["locator"], r["record_id"], r["answers"][0]["outcome"], code))
    return got


EXPECTED_FATAL = {
    "csv-hubspot-columns.fatal.csv": "columns `Record ID`, `First Name`, `Email`, `Create Date` name no field of the "
                                     "record format",
    "csv-jsonl-as-csv.fatal.csv": "name no field of the record format",
    "csv-no-id.fatal.csv": "no `id` column",
    "csv-typo.fatal.csv": "`subject_category` (did you mean `subject_categories`?)",
    "csv-twice.fatal.csv": "both give `relationship.first_contact_on`",
    "json-csv-as-json.fatal.json": "json-csv-as-json.fatal.json:1:1: not a JSON array: it starts with `i`",
    "json-cut-short.fatal.json": "the file ends inside an item (cut short?)",
    "json-lines-as-json.fatal.json": "holds one JSON object, not an array of records",
    "json-object-without-records.fatal.json": "holds one JSON object, not an array of records",
    "json-syntax-error.fatal.json": "json-syntax-error.fatal.json:3:21: not valid JSON",
    "json-trailing-comma.fatal.json": "a `,` before `]` (JSON has no trailing commas)",
}


@pytest.mark.parametrize("path", FATAL, ids=[p.name for p in FATAL])
def test_a_file_that_is_not_what_its_format_says_exits_2(path: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    code, out, err = run("evaluate", MINI, str(path), *ARGS, "-o", str(target), "--max-bad", "100%")
    assert code == 2, err
    assert EXPECTED_FATAL[path.name] in err and "help: " in err and "Traceback" not in err
    assert not target.exists() and list(tmp_path.iterdir()) == []  # nothing written, no temp file left


def test_json_items_with_their_own_problems_are_those_items() -> None:
    code, out, err = run("evaluate", MINI, str(HERE / "json-item-problems.json"), *ARGS, "--max-bad", "100%")
    assert code == 0, err
    assert _rows(out) == [
        ("item 1", "ok-1", "allow", None),
        ("item 2", None, "undetermined", "PR307"),  # a duplicate key could hide an objection
        ("item 3", "ok-2", "allow", None),
        ("item 4", None, "undetermined", "PR310"),  # NaN
        ("item 5", None, "undetermined", "PR312"),  # nested 3,000 deep
        ("item 6", None, "undetermined", "PR704"),  # a string, not an object (never parsed again)
        ("item 7", None, "undetermined", "PR704"),
        ("item 8", None, "undetermined", "PR704"),
        ("item 9", "ok-3", "allow", None),
    ]
    code, out, _ = run("evaluate", MINI, str(HERE / "json-item-not-utf8.json"), *ARGS, "--max-bad", "100%")
    assert code == 0 and [r[3] for r in _rows(out)] == [None, "PR311", None]


def test_api_pages_and_an_empty_array() -> None:
    for name, ids in (("json-api-page-hubspot.json", ["ok-1", "ok-2"]), ("json-api-page-salesforce.json", ["ok-1"])):
        code, out, err = run("evaluate", MINI, str(HERE / name), *ARGS)
        assert code == 0 and [r[1] for r in _rows(out)] == ids, err
    code, out, err = run("evaluate", MINI, str(HERE / "json-bom-and-empty.json"), *ARGS)
    assert code == 0 and out == "" and "holds no records" in err


def test_csv_rows_with_their_own_problems_are_those_rows() -> None:
    code, out, err = run("evaluate", MINI, str(HERE / "csv-row-problems.csv"), *ARGS, "--max-bad", "100%")
    assert code == 0, err
    assert _rows(out) == [
        ("line 2", "ok-1", "allow", None),
        ("line 3", None, "undetermined", "PR702"),  # 2 values for 3 columns
        ("line 4", None, "undetermined", "PR702"),  # bad quoting
        ("line 5", None, "undetermined", "PR703"),  # not UTF-8
        ("line 6", "badjson", "undetermined", "PR701"),  # a list column that is not JSON
        ("line 7", "dupjson", "undetermined", "PR701"),  # a duplicate key inside a list column
        ("line 9", "ok-2", "allow", None),  # line 8 (only delimiters) is blank
    ]
    # and the default --max-bad stops this file: 5 of 7 rows are bad, but under the floor of 10...
    code, _, err = run("evaluate", MINI, str(HERE / "csv-row-problems.csv"), *ARGS)
    assert code == 0, err
    # ... while a count does not wait for the end
    code, _, err = run("evaluate", MINI, str(HERE / "csv-row-problems.csv"), *ARGS, "--max-bad", "0")
    assert code == 2 and "stopped after 1 bad rows (--max-bad 0)" in err and "line 3: PR702" in err


def test_csv_dialects_and_sql_column_names() -> None:
    for name, ids in (("csv-semicolon-bom-crlf.csv", ["ok-1", "ok-2"]), ("csv-sql-names.csv", ["ok-1"])):
        code, out, err = run("evaluate", MINI, str(HERE / name), *ARGS)
        assert code == 0, err
        assert [(r[1], r[2]) for r in _rows(out)] == [(i, "allow") for i in ids]
    code, _, err = run("evaluate", MINI, str(HERE / "csv-sql-names.csv"), *ARGS, "--delimiter", ";")
    assert code == 2 and "no field of the record format" in err  # the header is one column then
    code, _, err = run("evaluate", MINI, str(HERE / "csv-sql-names.csv"), *ARGS, "--delimiter", ";;")
    assert code == 2 and "--delimiter: `;;` is not a delimiter" in err


def test_a_binary_file_under_a_text_extension_names_what_it_is(tmp_path: Path) -> None:
    db = tmp_path / "records.jsonl"
    sqlite3.connect(db).execute("CREATE TABLE t (id TEXT)").connection.commit()
    code, _, err = run("evaluate", MINI, str(db), *ARGS)
    assert code == 2 and "is a sqlite file, not jsonl" in err and "--input-format sqlite" in err
    gz = tmp_path / "records.csv"
    gz.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)
    code, _, err = run("evaluate", MINI, str(gz), *ARGS)
    assert code == 2 and "is a gzip file, not csv" in err and "decompress it first" in err
    pq = tmp_path / "records.parquet"
    pq.write_text("id,role\n")
    code, _, err = run("evaluate", MINI, str(pq), *ARGS)
    assert code == 2 and "is not a Parquet file" in err


@pytest.mark.parametrize("args, message", [
    (["--table", "contacts"], "--table and --query name rows in a database"),
    (["--input-format", "sqlite"], "name the rows to read with --table NAME or --query SQL"),
    (["--input-format", "parquet", "--delimiter", ","], "--delimiter is for CSV input"),
])
def test_options_that_do_not_fit_the_input(args: list[str], message: str) -> None:
    spec = str(ROOT / "tests" / "data" / "sources" / "records.csv")
    if "sqlite" in args:
        spec = str(HERE.parent / "sources" / "csv-sql-names.csv")
    code, _, err = run("evaluate", MINI, spec, *ARGS, *args)
    assert code == 2 and message in err, err


def test_stdin_is_for_text_formats() -> None:
    code, _, err = run("evaluate", MINI, "-", *ARGS, "--input-format", "parquet", stdin=io.BytesIO(b""))
    assert code == 2 and "stdin (`-`) can be read as jsonl, json or csv" in err


# --- table names --------------------------------------------------------------------------------------

HOSTILE_NAMES = ['contacts"; DROP TABLE keep_me; --', "it's", 'a "quoted" name', "semi;colon", "UPPER lower"]


def test_sqlite_table_names_are_looked_up_and_quoted(tmp_path: Path) -> None:
    db = tmp_path / "crm.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE keep_me (x)")
    for name in HOSTILE_NAMES:
        con.execute(f"CREATE TABLE {quote_ident(name)} (id TEXT, subject_categories TEXT)")
        con.execute(f"INSERT INTO {quote_ident(name)} VALUES (?, ?)", (name, '["customer"]'))
    con.commit()
    for name in HOSTILE_NAMES:
        code, out, err = run("evaluate", MINI, str(db), "--table", name, *ARGS)
        assert code == 0, err
        assert [r[1:3] for r in _rows(out)] == [(name, "allow")]
    code, _, err = run("evaluate", MINI, str(db), "--table", "contact", *ARGS)
    assert code == 2 and "no table `contact`" in err
    code, _, err = run("evaluate", MINI, str(db), "--table", "keep_mee", *ARGS)
    assert code == 2 and "did you mean `keep_me`?" in err
    code, _, err = run("evaluate", MINI, str(db), "--table", "x\x00y", *ARGS)
    assert code == 2 and "NUL" in err
    assert con.execute("SELECT name FROM sqlite_master WHERE name = 'keep_me'").fetchall() == [("keep_me",)]
    # the source is opened read-only: a query cannot change the database
    code, _, err = run("evaluate", MINI, str(db), "--query", "DELETE FROM keep_me RETURNING x", *ARGS)
    assert code == 2 and "readonly" in err
    con.close()


def test_duckdb_table_names_are_resolved_by_duckdb(tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE keep_me (x INT)")
    for name in HOSTILE_NAMES:
        con.execute(f"CREATE TABLE {quote_ident(name)} (id VARCHAR, subject_categories VARCHAR[])")
        con.execute(f"INSERT INTO {quote_ident(name)} VALUES (?, ['customer'])", [name])
    con.close()
    for name in HOSTILE_NAMES:
        code, out, err = run("evaluate", MINI, str(db), "--table", name, *ARGS)
        assert code == 0, err
        assert [r[1:3] for r in _rows(out)] == [(name, "allow")]
    code, _, err = run("evaluate", MINI, str(db), "--table", "keep_mee", *ARGS)
    assert code == 2 and "did you mean `keep_me`?" in err
    code, out, err = run("evaluate", MINI, str(db), "--table", "main.UPPER lower", *ARGS)
    assert code == 0 and [r[1] for r in _rows(out)] == ["UPPER lower"], err
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM keep_me").fetchall() == [(0,)]
    con.close()


def test_postgres_table_names_go_through_psycopg_identifiers(postgres: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgres) as con:
        con.execute("CREATE TABLE IF NOT EXISTS keep_me (x int)")
        con.execute("CREATE SEQUENCE IF NOT EXISTS seq")
        for name in HOSTILE_NAMES:
            ident = sql.Identifier(name)
            con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
            con.execute(sql.SQL("CREATE TABLE {} (id text, subject_categories jsonb)").format(ident))
            con.execute(sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(ident), (name, '["customer"]'))
    for name in HOSTILE_NAMES:
        code, out, err = run("evaluate", MINI, postgres, "--table", name, *ARGS)
        assert code == 0, err
        assert [r[1:3] for r in _rows(out)] == [(name, "allow")]
    code, _, err = run("evaluate", MINI, postgres, "--table", "nope", *ARGS)
    assert code == 2 and 'relation "nope" does not exist' in err
    code, _, err = run("evaluate", MINI, postgres, "--query", "DELETE FROM keep_me RETURNING x", *ARGS)
    assert code == 2 and "syntax error" in err  # a query is a cursor's SELECT: nothing else runs
    code, _, err = run("evaluate", MINI, postgres, "--query", "SELECT nextval('seq')::text AS id", *ARGS)
    assert code == 2 and "read-only transaction" in err  # and the session is read-only
    with psycopg.connect(postgres) as con:
        assert con.execute("SELECT count(*) FROM keep_me").fetchall() == [(0,)]


def test_a_password_in_the_url_is_never_shown() -> None:
    code, _, err = run("evaluate", MINI, "postgresql://sweeper:s3cret@/nodb?host=/nonexistent-dir", "--table", "t",
                       *ARGS)
    assert code == 2 and "cannot connect to" in err and "s3cret" not in err and "sweeper:***@" in err


# --- memory stays bounded -------------------------------------------------------------------------------

class _Endless(io.RawIOBase):
    """``head``, then ``size`` bytes of ``fill``, then ``tail``: a huge item without holding it."""

    def __init__(self, head: bytes, fill: bytes, size: int, tail: bytes) -> None:
        self.parts = [head]
        self.fill, self.left, self.tail = fill, size, tail

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if self.parts:
            data = self.parts.pop()
        elif self.left > 0:
            data = self.fill * max(1, min(len(buf), self.left) // len(self.fill))
            self.left -= len(data)
        else:
            data, self.tail = self.tail, b""
        n = min(len(buf), len(data))
        buf[:n] = data[:n]
        if n < len(data):
            self.parts.append(data[n:])
        return n


def test_an_endless_json_item_is_read_past_in_bounded_memory() -> None:
    good = b'{"id": "after", "subject_categories": ["customer"]}'
    stream = io.BufferedReader(_Endless(b'[{"id": "huge", "host": {"blob": "', b"x" * 64, 30_000_000,
                                        b'"}}, ' + good + b"]"))
    tracemalloc.start()
    try:
        code, out, err = run("evaluate", MINI, "-", "--input-format", "json", *ARGS, stdin=stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0, err
    assert [(r[1], r[2], r[3]) for r in _rows(out)] == [(None, "undetermined", "PR314"), ("after", "allow", None)]
    assert peak < 8_000_000, f"peak {peak:,} bytes for a 30 MB item"


def test_an_endless_csv_line_is_refused_in_bounded_memory() -> None:
    stream = io.BufferedReader(_Endless(b"id,subject_categories\n", b"x" * 64, 30_000_000, b"\n"))
    tracemalloc.start()
    try:
        code, _, err = run("evaluate", MINI, "-", "--input-format", "csv", *ARGS, stdin=stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 2 and "<stdin>:2: a line longer than 1,000,000 bytes" in err
    assert peak < 8_000_000, f"peak {peak:,} bytes"


# --- the Python API ----------------------------------------------------------------------------------

def test_open_source_errors_are_source_errors(tmp_path: Path) -> None:
    for kwargs, message in (({"fmt": "xml"}, "unknown input format"), ({}, "No such file or directory")):
        with pytest.raises(SourceError, match=message):
            open_source(str(tmp_path / "missing.jsonl"), **kwargs)
    with pytest.raises(SourceError, match="child tables are not supported yet"):
        open_source(str(tmp_path / "x.csv"), children={"consents": object()})
