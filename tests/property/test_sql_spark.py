"""The SQL path decides exactly as the row engine on Spark SQL: pyspark in local mode (the
session fixture ``spark``), the layout as DataFrames with its explicit schema, every layer
checkpointed (sql/spark.py), the spark dialect's query.

Generator and comparison: tests/property/sql_differential.py. Spark's cost is per query, not
per record (planning and running some forty layers of CASE expressions, one job each), so it
gets fewer, larger batches: 2 batches of 500 to 560 records, >= 1,000 records a run (the first
batch also pays the JVM's warm-up: 90 s of a 2-core machine at load 5, the second 33 s).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings

from privacy_rules.sql.run import SqlAnswer, decide_on
from privacy_rules.sql.spark import SparkEngine

from .sql_differential import PACK, Case, Tally, batches, check_case


def test_sql_on_spark_equals_row_engine(spark: Any, sql_tally: dict[str, Tally]) -> None:
    tally = sql_tally.setdefault("spark", Tally("spark"))

    def decide(records: list[dict[str, Any]], questions: list[str], as_of: date) -> list[SqlAnswer]:
        return decide_on(SparkEngine(spark), PACK, records, questions, as_of)

    @settings(max_examples=2, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches(500, 560))
    def run(case: Case) -> None:
        check_case(tally, case, decide)

    run()
    assert tally.records >= 1000 and tally.disagreements == 0
