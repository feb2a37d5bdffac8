"""The SQL path (privacy_rules.sql, issue 9) decides exactly as the row engine, on DuckDB.

The generator and the comparison are tests/property/sql_differential.py (shared with the
PostgreSQL and Spark tests). 8 batches of 125 to 150 records: >= 1,000 records (and 5 to 8
questions each) a run.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from privacy_rules.sql.duck import decide_duckdb

from .sql_differential import PACK, Case, Tally, batches, check_case

duckdb = pytest.importorskip("duckdb")


def test_sql_on_duckdb_equals_row_engine(sql_tally: dict[str, Tally]) -> None:
    tally = sql_tally.setdefault("duckdb", Tally("duckdb"))

    @settings(max_examples=8, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches(125, 150))
    def run(case: Case) -> None:
        check_case(tally, case, lambda records, questions, as_of: decide_duckdb(PACK, records, questions, as_of))

    run()
    assert tally.records >= 1000 and tally.disagreements == 0
