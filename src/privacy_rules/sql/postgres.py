"""Run a compiled query on PostgreSQL (psycopg 3): the layout as temporary tables, filled by COPY.

The tables and the check layers are TEMPORARY: they belong to the connection and vanish with it,
so a sweep never writes into the host's schema. Give each sweep its own connection.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from ._x import ident
from .layout import TABLES, create_statements
from .load import Rows


class PostgresEngine:
    """sql.run.Engine over a psycopg 3 connection (the caller's: opened, committed and closed there)."""

    dialect = "postgres"
    # each decision layer becomes a temp table: as one statement, the planner's memory grew far
    # beyond the SQL's size (the R1 `compare` with a window end took a backend past 5 GB at 8
    # questions; layer by layer the same day's questions peak at ~70 MB, tests/e2e/test_sql_scenarios.py).
    # The one statement `privacy-rules sql --dialect postgres` prints has its layers MATERIALIZED
    # (compiler.SqlQuery._with): 43 questions in it peaked at 95 MB.
    layer_by_layer = True
    questions_per_query: int | None = 64  # see sql.run.Engine; measured: 43 in one query, 95 MB

    def __init__(self, con: Any) -> None:
        self.con = con

    def load(self, rows: Rows) -> None:
        from psycopg import sql

        with self.con.cursor() as cur:
            for stmt in create_statements(self.dialect, temporary=True):
                cur.execute(stmt)
            for t in TABLES:
                data = rows.get(t.name) or []
                if not data:
                    continue
                # identifiers from the fixed layout, values through COPY's own encoding (never SQL text)
                copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(t.name), sql.SQL(", ").join(sql.Identifier(c.name) for c in t.columns))
                with cur.copy(copy) as cp:
                    for row in data:
                        cp.write_row(row)
                cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(t.name)))

    def materialise(self, name: str, select: exp.Select) -> None:
        stmt = exp.Create(this=exp.Table(this=ident(name)), kind="TABLE", expression=select,
                          properties=exp.Properties(expressions=[exp.TemporaryProperty()]))
        from psycopg import sql

        with self.con.cursor() as cur:
            # a decision layer of the previous as_of or question turn is replaced
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
            cur.execute(stmt.sql(dialect=self.dialect))
            # fresh statistics: the decision query joins these tables
            cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(name)))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with self.con.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())


__all__ = ["PostgresEngine"]
