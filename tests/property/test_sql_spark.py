"""The SQL path decides exactly as the row engine on Spark SQL: pyspark in local mode (the
session fixture ``spark``), the layout as DataFrames with its explicit schema, every layer
checkpointed (sql/spark.py), the spark dialect's query.

Generator and comparison: tests/property/sql_differential.py. Spark's cost is per query, not
per record (planning some twenty layers of CASE expressions), so it gets fewer, larger
batches: 3 batches of 340 to 400 records, >= 1,000 records a run.
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

    @settings(max_examples=3, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches(340, 400))
    def run(case: Case) -> None:
        check_case(tally, case, decide)

    run()
    assert tally.records >= 1000 and tally.disagreements == 0
