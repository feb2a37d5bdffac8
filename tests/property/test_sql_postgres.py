"""The SQL path decides exactly as the row engine on PostgreSQL: a real server started from the
machine's binaries (tests/pgserver.py, the session fixture ``postgres``), the layout as
temporary tables filled by COPY (sql/postgres.py), the postgres dialect's query.

Generator and comparison: tests/property/sql_differential.py. 8 batches of 125 to 150 records,
each on its own connection (the temporary tables vanish with it): >= 1,000 records a run.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from privacy_rules.sql.postgres import PostgresEngine
from privacy_rules.sql.run import SqlAnswer, decide_on

from .sql_differential import PACK, Case, Tally, batches, check_case

psycopg = pytest.importorskip("psycopg")


def test_sql_on_postgres_equals_row_engine(postgres: str, sql_tally: dict[str, Tally]) -> None:
    tally = sql_tally.setdefault("postgres", Tally("postgres"))

    def decide(records: list[dict[str, Any]], questions: list[str], as_of: date) -> list[SqlAnswer]:
        with psycopg.connect(postgres) as con:
            return decide_on(PostgresEngine(con), PACK, records, questions, as_of)

    @settings(max_examples=8, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches(125, 150))
    def run(case: Case) -> None:
        check_case(tally, case, decide)

    run()
    assert tally.records >= 1000 and tally.disagreements == 0
