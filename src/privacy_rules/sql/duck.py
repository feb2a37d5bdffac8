"""Run a compiled query on DuckDB (embedded): the default SQL engine, and the executed one in tests."""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Mapping, Sequence

from sqlglot import exp

from ..model import Pack, Question
from ._x import ident
from .compiler import compile_sql
from .load import Rows, load_duckdb, rows_for
from .run import SqlAnswer  # defined with the Engine protocol; re-exported here as before


def run_duckdb(pack: Pack, questions: Sequence[Question | str], as_of: date | str, rows: Rows,
               con: Any = None) -> list[SqlAnswer]:
    """Load ``rows`` into a fresh in-memory DuckDB (or ``con``) and run the query on them."""
    import duckdb

    query = compile_sql(pack, questions, as_of).sql("duckdb", pretty=False)
    own = con is None
    con = duckdb.connect() if own else con
    try:
        load_duckdb(con, rows)
        return [SqlAnswer(*row) for row in con.execute(query).fetchall()]
    finally:
        if own:
            con.close()


class Staged:
    """Records loaded and checked once in a DuckDB connection; then decided for any as_of and
    questions (SqlQuery.staged: the check layers become tables, each decision reads them)."""

    def __init__(self, pack: Pack, rows: Rows, con: Any = None) -> None:
        import duckdb

        self.pack = pack
        self.con = duckdb.connect() if con is None else con
        load_duckdb(self.con, rows)
        self._checked = False

    def decide(self, questions: Sequence[Question | str], as_of: date | str) -> list[SqlAnswer]:
        compiled = compile_sql(self.pack, questions, as_of)
        if not self._checked:
            for stmt in compiled.check_sql("duckdb"):
                self.con.execute(stmt)
            self._checked = True
        query = compiled.decide_sql("duckdb")
        return [SqlAnswer(*row) for row in self.con.execute(query).fetchall()]


class DuckDBEngine:
    """sql.run.Engine over a DuckDB connection (the caller's, or a fresh in-memory one)."""

    dialect = "duckdb"
    layer_by_layer = False

    def __init__(self, con: Any = None) -> None:
        import duckdb

        self.con = duckdb.connect() if con is None else con

    def load(self, rows: Rows) -> None:
        load_duckdb(self.con, rows)

    def materialise(self, name: str, select: exp.Select) -> None:
        self.con.execute(exp.Create(this=exp.Table(this=ident(name)), kind="TABLE", expression=select,
                                    replace=True).sql(dialect=self.dialect))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.con.execute(sql).fetchall())


def decide_duckdb(pack: Pack, records: Iterable[Mapping[str, Any]], questions: Sequence[Question | str],
                  as_of: date | str) -> list[SqlAnswer]:
    return run_duckdb(pack, questions, as_of, rows_for(records))


__all__ = ["DuckDBEngine", "SqlAnswer", "Staged", "decide_duckdb", "run_duckdb"]
