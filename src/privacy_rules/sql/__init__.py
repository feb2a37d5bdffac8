"""Compile a pack to SQL (issue 9): one query deciding every record of a table layout.

``compile_sql(pack, questions, as_of).sql(dialect)`` writes the query; ``layout.ddl(dialect)``
the tables it reads (docs/sql.md). ``load`` puts canonical records into those tables.
"""

from __future__ import annotations

from .compiler import OUTPUT_COLUMNS, SqlQuery, SqlUnsupported, compile_sql
from .layout import ddl

DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "snowflake")

__all__ = ["DIALECTS", "OUTPUT_COLUMNS", "SqlQuery", "SqlUnsupported", "compile_sql", "ddl"]
