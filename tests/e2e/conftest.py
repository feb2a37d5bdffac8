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
