"""End to end with mapping profiles (issue 8, items 7 and "Done when"): the host exports shipped
with the bundled profiles (tests/profiles/hosts/<host>: a HubSpot export CSV and API page, a
Salesforce Contact + Individual export and REST result with a ContactPointTypeConsent log, a
generic CSV with a consent log), and the same rows loaded into a SQLite table, a DuckDB file and
a real PostgreSQL server, are each swept by ONE `evaluate --profile` command, no glue code, and
give exactly the expected decisions (decisions*.jsonl beside them).

The expected decisions are data: tests/e2e/hosts_regenerate.py writes them from the
canonical records a person wrote for the rows (expected*.jsonl), never from a profile, and
test_the_expected_decisions_are_what_the_canonical_records_decide keeps the two in step (when
the engine changes a decision, rerun the script and read the diff).
"""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any, Callable

import pytest

from privacy_rules.cli.main import main
from . import hosts_regenerate as regenerate
from .conftest import build_generic_postgres, load_csv_duckdb, load_csv_postgres, load_csv_sqlite

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ROOT / "tests" / "profiles" / "hosts"
ICONFIRM = str(ROOT / "rules" / "iconfirm")
KNOWN_ON = "2024-03-05"  # the export day of every fixture (run.json)


def sweep(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    """`privacy-rules evaluate rules/iconfirm ARGS --known-on D --as-of D`: (exit code, one
    expected-decision-shaped line per output row, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(["evaluate", ICONFIRM, *args, "--known-on", KNOWN_ON, "--as-of", KNOWN_ON], stdout=out, stderr=err)
    lines = []
    for text in out.getvalue().splitlines():
        row = json.loads(text)
        problems = sorted(set(re.findall(r"(?:^|: |; )(PR\d{3}) ", row["problem"]))) if row["problem"] else None
        lines.append({"record_id": row["record_id"], "problems": problems,
                      "answers": {a["question"]: [a["outcome"], a["reason_code"], a["keep_until"]]
                                  for a in row["answers"]}})
    return code, lines, err.getvalue()


def decisions(case: str) -> list[dict[str, Any]]:
    _, folder, _, name = next(c for c in regenerate.CASES if c[0] == case)
    return regenerate.read_jsonl(HOSTS / folder / name)


def _file(folder: str, name: str) -> str:
    return str(HOSTS / folder / name)


# --- the host's own files -------------------------------------------------------------------------

FILES: dict[str, list[str]] = {
    "hubspot-export": [_file("hubspot-export", "contacts.csv"), "--profile", "hubspot-export"],
    "hubspot-api": [_file("hubspot-api", "contacts-page.json"), "--profile", "hubspot-api"],
    "salesforce": [_file("salesforce", "contacts.csv"), "--profile", "salesforce",
                   "--child", "consents=" + _file("salesforce", "consents.csv")],
    "salesforce-api": [_file("salesforce", "contacts-api.json"), "--profile", "salesforce",
                       "--child", "consents=" + _file("salesforce", "consents.csv")],
    "generic-csv": [_file("generic-csv", "people.csv"), "--profile", "generic-csv",
                    "--child", "consents=" + _file("generic-csv", "consents.csv")],
}


@pytest.mark.parametrize("case", list(FILES))
def test_a_host_export_is_swept_with_one_command(case: str) -> None:
    code, got, err = sweep(*FILES[case], "--max-bad", "100%")
    assert code == 0, err
    assert got == decisions(case)


@pytest.mark.parametrize("case", [c[0] for c in regenerate.CASES])
def test_the_expected_decisions_are_what_the_canonical_records_decide(case: str) -> None:
    _, folder, canonical, name = next(c for c in regenerate.CASES if c[0] == case)
    run = regenerate.run_of(folder)
    assert run["known_on"] == KNOWN_ON
    want = list(regenerate.decide(regenerate.read_jsonl(HOSTS / folder / canonical), date.fromisoformat(KNOWN_ON)))
    assert decisions(case) == want, f"{folder}/{name} is out of date: run tests/e2e/hosts_regenerate.py"


# --- the same rows as database tables: one command, the profile reads the table ---------------------

def _sqlite(tmp: Path, _pg: Callable[[], str]) -> list[str]:
    db = tmp / "crm.sqlite"
    load_csv_sqlite(db, "hubspot_contacts", HOSTS / "hubspot-export" / "contacts.csv")
    return [str(db), "--table", "hubspot_contacts", "--profile", "hubspot-export"]


def _duckdb(tmp: Path, _pg: Callable[[], str]) -> list[str]:
    db = tmp / "crm.duckdb"
    load_csv_duckdb(db, "Contact", HOSTS / "salesforce" / "contacts.csv")
    load_csv_duckdb(db, "ContactPointTypeConsent", HOSTS / "salesforce" / "consents.csv")
    return [str(db), "--table", "Contact", "--profile", "salesforce", "--child", "consents=table:ContactPointTypeConsent"]


def _postgres_generic(tmp: Path, pg: Callable[[], str]) -> list[str]:
    url = pg()
    build_generic_postgres(url, HOSTS / "generic-csv" / "people.csv", HOSTS / "generic-csv" / "consents.csv")
    return [url, "--table", "people", "--profile", "generic-csv", "--child", "consents=table:consent_log"]


def _postgres_hubspot(tmp: Path, pg: Callable[[], str]) -> list[str]:
    url = pg()
    load_csv_postgres(url, "hubspot_contacts", HOSTS / "hubspot-export" / "contacts.csv")
    return [url, "--query", 'SELECT * FROM hubspot_contacts ORDER BY "Record ID"', "--profile", "hubspot-export"]


TABLES: dict[str, tuple[str, Callable[[Path, Callable[[], str]], list[str]]]] = {
    # the HubSpot export imported as text columns (sqlite3 .import)
    "sqlite-hubspot-export": ("hubspot-export", _sqlite),
    # the Salesforce export and consent log with DuckDB's sniffed types (BOOLEAN flags, DATE, TIMESTAMPTZ)
    "duckdb-salesforce": ("salesforce", _duckdb),
    # the generic columns typed (date, boolean, text[]) with the consent log as a second table
    "postgres-generic-csv": ("generic-csv", _postgres_generic),
    # the HubSpot export copied into text columns, read by a query
    "postgres-hubspot-export": ("hubspot-export", _postgres_hubspot),
}


@pytest.mark.parametrize("kind", list(TABLES))
def test_a_host_table_is_swept_with_one_command(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    case, build = TABLES[kind]
    args = build(tmp_path, lambda: str(request.getfixturevalue("postgres")))
    code, got, err = sweep(*args, "--max-bad", "100%")
    assert code == 0, err
    want = decisions(case)
    if kind == "postgres-generic-csv":  # g-4's `2023-02-30` cannot be stored in a DATE column: its other problem stays
        assert got[3]["problems"] == ["PR650"] and want[3]["problems"] == ["PR650"]
    assert got == want


def test_the_postgres_sweep_writes_its_decisions_back(postgres: str, tmp_path: Path) -> None:
    """The retention job's run: the PostgreSQL table swept with its profile, decisions written
    back into the database atomically, the summary as JSON (docs/recipes/sql-table.md)."""
    import psycopg

    build_generic_postgres(postgres, HOSTS / "generic-csv" / "people.csv", HOSTS / "generic-csv" / "consents.csv")
    summary = tmp_path / "sweep.json"
    code, got, err = sweep(postgres, "--table", "people", "--profile", "generic-csv", "--child",
                           "consents=table:consent_log", "--output-table", "privacy_decisions", "--summary", str(summary),
                           "--max-bad", "100%")
    assert code == 0 and got == [], err
    with psycopg.connect(postgres) as con:
        rows = con.execute("SELECT record_id, question, outcome, reason_code, keep_until FROM privacy_decisions "
                           "ORDER BY row, question").fetchall()
    want = {(d["record_id"], q, a[0], a[1], date.fromisoformat(a[2]) if a[2] else None)
            for d in decisions("generic-csv") for q, a in d["answers"].items()}
    assert set(rows) == want and len(rows) == len(want)
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["rows"] == 4 and data["exit_code"] == 0


def test_a_missing_required_column_fails_the_run(tmp_path: Path) -> None:
    """A HubSpot export without the "Unsubscribed from all email" column must not read as
    "nobody unsubscribed": every row is bad (PR651), so --max-bad stops the run, naming it."""
    import csv

    src = HOSTS / "hubspot-export" / "contacts.csv"

    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    drop = rows[0].index("Unsubscribed from all email")
    cut = tmp_path / "contacts.csv"
    with cut.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([r[:drop] + r[drop + 1:] for r in rows])
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "decisions.csv"
    code = main(["evaluate", ICONFIRM, str(cut), "--profile", "hubspot-export", "--known-on", "2024-03-05",
                 "--as-of", "2024-03-05", "-o", str(target)], stdout=out, stderr=err)
    assert code == 2 and "PR651" in err.getvalue() and "`Unsubscribed from all email`" in err.getvalue()
    assert "6 of 6 rows are bad (--max-bad 1%)" in err.getvalue() and not target.exists()


def test_a_child_table_named_without_table_prefix_says_how(tmp_path: Path) -> None:
    """`--child consents=ContactPointTypeConsent` over a database: not a file, and the help says
    `table:` (a bare name is never guessed to be a table rather than a file)."""
    args = _duckdb(tmp_path, lambda: "")
    args[-1] = "consents=ContactPointTypeConsent"
    code, got, err = sweep(*args)
    assert code == 2 and got == []
    assert "`ContactPointTypeConsent` is not a file" in err and "write `table:ContactPointTypeConsent`" in err
