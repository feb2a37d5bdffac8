"""Builders for the end-to-end source tests: the canonical records in every input format (the
PostgreSQL server is the session fixture ``postgres`` of tests/conftest.py)."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any


ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "sources"


def records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / "records.jsonl").read_text(encoding="utf-8").splitlines()]


def expected() -> dict[str, Any]:
    return json.loads((DATA / "expected.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def build_sqlite(path: Path) -> None:
    """The CSV's rows in a SQLite table `contacts`, every column TEXT (lists as JSON text)."""
    with (DATA / "records.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    con = sqlite3.connect(path)
    cols = ", ".join('"' + h.replace('"', '""') + '" TEXT' for h in rows[0])
    con.execute(f"CREATE TABLE contacts ({cols})")
    con.executemany(f"INSERT INTO contacts VALUES ({', '.join('?' * len(rows[0]))})",
                    [[v or None for v in r] for r in rows[1:]])
    con.commit()
    con.close()


def build_duckdb(path: Path, parquet: Path | None = None) -> None:
    """records.jsonl read by DuckDB into a table `contacts` with native types: DATE columns,
    structs for objects, lists of structs for event lists (and, if asked, as a Parquet file)."""
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE contacts AS SELECT * FROM read_json(?, format = 'newline_delimited')",
                [str(DATA / "records.jsonl")])
    if parquet is not None:
        con.table("contacts").write_parquet(str(parquet))
    con.close()


def build_postgres(url: str, table: str = "contacts") -> None:
    """The records in a PostgreSQL table with typed columns: a DATE, jsonb and json lists, text
    (the first-contact date is text so that bad-1's impossible date can be stored)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url) as con:
        con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        con.execute(sql.SQL('CREATE TABLE {} (id text PRIMARY KEY, subject_categories jsonb, '
                            '"relationship.first_contact_on" text, relationship__customer_ended_on date, '
                            'consents jsonb, objections json, erasure_requests jsonb, "host.email" text)')
                    .format(sql.Identifier(table)))
        for r in records():
            rel = r.get("relationship", {})

            def js(key: str) -> str | None:
                return json.dumps(r[key]) if key in r else None

            con.execute(sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s, %s, %s)").format(sql.Identifier(table)),
                        (r["id"], js("subject_categories"), rel.get("first_contact_on"), rel.get("customer_ended_on"),
                         js("consents"), js("objections"), js("erasure_requests"), r.get("host", {}).get("email")))


# --- host-shaped tables (tests/profiles/hosts): the vendor's export loaded into a database -------------

def _csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def load_csv_sqlite(db: Path, table: str, path: Path) -> None:
    """A CSV loaded as `sqlite3 .import` does: every column TEXT (empty cells as NULL)."""
    header, rows = _csv_rows(path)
    con = sqlite3.connect(db)
    cols = ", ".join('"' + h.replace('"', '""') + '" TEXT' for h in header)
    con.execute(f'CREATE TABLE "{table}" ({cols})')
    con.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(header))})',
                    [[v or None for v in r] for r in rows])
    con.commit()
    con.close()


def load_csv_duckdb(db: Path, table: str, path: Path) -> None:
    """A CSV loaded as a DuckDB user would (`CREATE TABLE t AS SELECT * FROM 'file.csv'`): the
    column types sniffed (BIGINT ids, BOOLEAN flags, DATE and TIMESTAMP WITH TIME ZONE columns)."""
    import duckdb

    con = duckdb.connect(str(db))
    con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM read_csv(?)', [str(path)])
    con.close()


def load_csv_postgres(url: str, table: str, path: Path) -> None:
    """A CSV loaded with COPY into text columns (`\\copy t FROM 'file.csv' CSV HEADER`)."""
    import psycopg
    from psycopg import sql

    header, rows = _csv_rows(path)
    with psycopg.connect(url) as con:
        con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        con.execute(sql.SQL("CREATE TABLE {} ({})").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(h)) for h in header)))
        with con.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table))) as cp:
            for r in rows:
                cp.write_row([v or None for v in r])


_GENERIC_LISTS = {"subject_categories", "data_categories", "systems"}


def _generic_value(column: str, text: str) -> Any:
    from datetime import date

    if not text:
        return None
    if column in _GENERIC_LISTS:
        return [p.strip() for p in text.split(";")]
    if column == "marketing_opt_out":
        return {"true": True, "yes": True, "false": False, "no": False}[text.lower()]
    if column.endswith("_on") or column in ("customer_since",):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None  # a DATE column cannot hold 2023-02-30: the row keeps its other problem
    return text


def _generic_type(column: str) -> str:
    if column in _GENERIC_LISTS:
        return "text[]"
    if column == "marketing_opt_out":
        return "boolean"
    if column.endswith("_on") or column in ("customer_since",):
        return "date"
    return "text"


def build_generic_postgres(url: str, people: Path, consents: Path) -> None:
    """The generic-csv profile's columns as a typed PostgreSQL table `people` (DATE columns, a
    boolean opt-out, text[] lists) and its consent log as `consent_log` (one row per consent)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url) as con:
        for table, path in (("people", people), ("consent_log", consents)):
            header, rows = _csv_rows(path)
            con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
            con.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), sql.SQL(", ").join(
                sql.SQL("{} " + _generic_type(h)).format(sql.Identifier(h)) for h in header)))
            insert = sql.SQL("INSERT INTO {} VALUES ({})").format(
                sql.Identifier(table), sql.SQL(", ").join(sql.Placeholder() * len(header)))
            for r in rows:
                con.execute(insert, [_generic_value(h, v) for h, v in zip(header, r)])
