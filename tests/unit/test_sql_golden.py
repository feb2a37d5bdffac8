"""The SQL the compiler writes for each dialect (issue 9): golden files, parsed back by sqlglot.

DuckDB, PostgreSQL and Spark SQL execute the query in tests/property/test_sql_{duckdb,postgres,
spark}.py; BigQuery and Snowflake are not executed here (docs/sql.md): for them these golden
files are the check. Every dialect's text is pinned and must parse back, in its own dialect, to
the same tree. Regenerate after a deliberate change with
``PRIVACY_RULES_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot

from privacy_rules.pack import load_pack
from privacy_rules.sql import DIALECTS, compile_sql, ddl

GOLDEN = Path(__file__).parent.parent / "data" / "sql"
QUESTIONS = ["keep", "contact:newsletter:email", "share:crm_us:crm"]


@pytest.fixture(scope="module")
def query():  # type: ignore[no-untyped-def]
    return compile_sql(load_pack("tests/packs/mini"), QUESTIONS, "2024-02-29")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_golden_query_and_ddl(query, dialect: str) -> None:  # type: ignore[no-untyped-def]
    text = query.sql(dialect, pretty=False) + ";\n" + ddl(dialect)
    path = GOLDEN / f"mini-{dialect}.sql"
    if os.environ.get("PRIVACY_RULES_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"{path} differs: regenerate it and review the diff"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_emitted_sql_parses_back(query, dialect: str) -> None:  # type: ignore[no-untyped-def]
    text = query.sql(dialect, pretty=False)
    parsed = sqlglot.parse_one(text, read=dialect)
    assert parsed.sql(dialect=dialect) == text
    for stmt in ddl(dialect).split(";"):
        if stmt.strip():
            assert sqlglot.parse_one(stmt, read=dialect).sql(dialect=dialect, pretty=True) == stmt.strip()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_docs_give_the_layout_ddl_of_each_dialect(dialect: str) -> None:
    docs = (Path(__file__).parent.parent.parent / "docs" / "sql.md").read_text(encoding="utf-8")
    assert "```sql\n" + ddl(dialect).rstrip() + "\n```" in docs


@pytest.mark.parametrize("dialect", DIALECTS)
def test_golden_files_parse_back(dialect: str) -> None:
    """Each golden file as stored (the query and the DDL) parses, statement by statement, in its
    own dialect: what docs/sql.md shows for the engines not executed here is valid SQL there."""
    text = (GOLDEN / f"mini-{dialect}.sql").read_text(encoding="utf-8")
    statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    assert len(statements) == 1 + text.count("CREATE TABLE")
    assert isinstance(statements[0], sqlglot.exp.Query)
    assert all(isinstance(s, sqlglot.exp.Create) for s in statements[1:])
