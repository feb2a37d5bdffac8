"""Run a compiled query on any SQL engine: an ``Engine`` protocol and a staged runner.

An engine loads the layout's rows (layout.py, load.py) once, keeps the check layers (the
pack-only CTEs: each table read, its days checked) as tables, and answers one decision query
per as_of over them (SqlQuery.check / decide). DuckDB (duck.py), PostgreSQL (postgres.py) and
Spark SQL (spark.py) implement it; the runner converts their rows to ``SqlAnswer`` alike, so the
tests compare every engine with the row engine through the same code.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable, Mapping, NamedTuple, Protocol, Sequence

from sqlglot import exp

from ..model import Pack, Question
from .compiler import SqlQuery, compile_sql
from .load import Rows, rows_for


class SqlAnswer(NamedTuple):
    """One row of the query's result (compiler.OUTPUT_COLUMNS)."""

    record_id: str
    question: str
    outcome: str
    decisive_rule: str | None
    basis: str | None
    keep_until: date | None
    reason_code: str
    problem_code: str | None


class Engine(Protocol):
    """What the runner needs of a SQL engine (one session; the tables it creates are its own)."""

    #: the sqlglot dialect the engine reads
    dialect: str
    #: materialise every decision layer too, then run only the final UNION: for an engine that
    #: inlines a CTE at each use (Spark: the eight questions' selects would each recompute the
    #: joins) or whose planner slows down on one statement of this size
    layer_by_layer: bool
    #: the most questions one decision query may ask (None: any number); the runner asks more in
    #: turns. PostgreSQL once took its backend past 13 GB on 43 questions in one query (1.4 MB of
    #: SQL), inlining the layers; with them MATERIALIZED (compiler.SqlQuery._with) 43 take 95 MB.
    questions_per_query: int | None

    def load(self, rows: Rows) -> None:
        """Create the layout's tables (layout.TABLES) and put ``rows`` in them."""

    def materialise(self, name: str, select: exp.Select) -> None:
        """Keep ``select``'s result as table ``name`` for the following queries (a check layer)."""

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of one query."""


def answer(row: Sequence[Any]) -> SqlAnswer:
    """One result row as a SqlAnswer; keep_until as a ``date`` whatever type the driver returns."""
    ku = row[5]
    if isinstance(ku, datetime):
        ku = ku.date()
    elif isinstance(ku, str):
        ku = date.fromisoformat(ku)
    return SqlAnswer(row[0], row[1], row[2], row[3], row[4], ku, row[6], row[7])


class StagedRunner:
    """Records loaded into ``engine`` and checked once; then decided for any as_of and questions.

    The check layers become tables on the first ``decide`` and serve every later one: checking
    the data is the costly part, and it does not depend on as_of or the questions.
    """

    def __init__(self, engine: Engine, pack: Pack, rows: Rows | None) -> None:
        """``rows``: put into the engine's fresh tables; None: the layout's tables are already
        there (a warehouse's own tables, created with ``privacy-rules sql --ddl``)."""
        self.engine = engine
        self.pack = pack
        if rows is not None:
            engine.load(rows)
        self._checked = False

    def compiled(self, questions: Sequence[Question | str], as_of: date | str) -> SqlQuery:
        return compile_sql(self.pack, questions, as_of)

    def decide(self, questions: Sequence[Question | str], as_of: date | str) -> list[SqlAnswer]:
        per = self.engine.questions_per_query
        if per is not None and len(questions) > per:
            # the check layers are shared; each turn is a decision query of its own
            return [a for i in range(0, len(questions), per) for a in self.decide(questions[i:i + per], as_of)]
        compiled = self.compiled(questions, as_of)
        if not self._checked:
            # the check layers depend on the pack and the data only, never on as_of
            for name, select in compiled.check:
                self.engine.materialise(name, select)
            self._checked = True
        if self.engine.layer_by_layer:
            for name, select in compiled.decide:  # as_of's layers: replaced by the next decide()
                self.engine.materialise(name, select)
            sql = compiled.final.sql(dialect=self.engine.dialect, pretty=False)
        else:
            sql = compiled.decide_sql(self.engine.dialect)
        return [answer(row) for row in self.engine.query(sql)]


def decide_on(engine: Engine, pack: Pack, records: Iterable[Mapping[str, Any]],
              questions: Sequence[Question | str], as_of: date | str) -> list[SqlAnswer]:
    """Load ``records`` into ``engine`` and decide ``questions`` on ``as_of`` (one as_of)."""
    return StagedRunner(engine, pack, rows_for(records)).decide(questions, as_of)


__all__ = ["Engine", "SqlAnswer", "StagedRunner", "answer", "decide_on"]
