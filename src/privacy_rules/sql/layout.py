"""The table layout the SQL compiler reads: one ``records`` table and one child table per list.

Child tables keyed by ``record_id`` (and ``entry_no``, the entry's position) are what every
target engine (DuckDB, PostgreSQL, Spark, BigQuery, Snowflake) supports alike; nested arrays
and JSON differ in type and function names between all five. The query aggregates each child
table once per record (GROUP BY record_id) and joins the aggregates to ``records``.

Days are stored as the text the host sends (``YYYY-MM-DD``), not as DATE: a host's value may be
malformed (2023-02-30, a date-time, 9999-12-31), and the query must then say so (undetermined,
PR303/PR308), which a DATE column could not hold. docs/sql.md gives the DDL per dialect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from sqlglot import exp

from ..records import LIST_FIELDS, RELATIONSHIP_FIELDS, TOP_SCALARS
from ._x import ident

# logical column types -> sqlglot type names (sqlglot maps them per dialect)
_TYPES = {"text": "VARCHAR", "int": "INT", "bool": "BOOLEAN", "double": "DOUBLE"}


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # text | int | bool | double
    required: bool = False  # NOT NULL in the DDL (keys only; record fields are checked by the query)
    date: bool = False  # an ISO day held as text


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    list_field: str | None = None  # the record list it holds (LIST_FIELDS), if any

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _kind(kind: str) -> str:
    return {"date": "text", "str": "text", "int": "int", "bool": "bool"}.get(kind, "text")


REL_PREFIX = "relationship_"
_REC = [Column("id", "text", required=True)]
for _k, _kind_name in TOP_SCALARS.items():
    if _k != "id":
        _REC.append(Column(_k, "text", date=_kind_name == "date"))
_REC += [Column(REL_PREFIX + k, "text", date=True) for k in RELATIONSHIP_FIELDS]
# subject_categories absent (unknown: `subject:` conditions are unknown) differs from [] (none)
_REC.append(Column("has_subject_categories", "bool"))

RECORDS = Table("records", tuple(_REC))
SUBJECTS = Table("subject_categories", (Column("record_id", "text", required=True), Column("value", "text")))
DATA_CATEGORIES = Table("data_categories", (Column("record_id", "text", required=True), Column("value", "text")))
HOLD_SCOPES = Table("legal_hold_scopes", (Column("record_id", "text", required=True),
                                          Column("entry_no", "int", required=True), Column("scope", "text")))
FACTS = Table("facts", (Column("record_id", "text", required=True), Column("name", "text", required=True),
                        Column("value_text", "text"), Column("value_number", "double"),
                        Column("value_boolean", "bool")))


def _list_table(name: str) -> Table:
    fields, _required = LIST_FIELDS[name]
    cols = [Column("record_id", "text", required=True), Column("entry_no", "int", required=True)]
    for f, kind in fields.items():
        if kind == "ids":  # legal_holds[].scopes: rows of legal_hold_scopes; null (all scopes) vs []
            cols.append(Column("has_scopes", "bool"))
            continue
        cols.append(Column(f, _kind(kind), date=kind == "date"))
    return Table(name, tuple(cols), list_field=name)


LISTS: Mapping[str, Table] = {name: _list_table(name) for name in LIST_FIELDS}
TABLES: tuple[Table, ...] = (RECORDS, SUBJECTS, DATA_CATEGORIES, *LISTS.values(), HOLD_SCOPES, FACTS)


def _schema(t: Table) -> exp.Schema:
    """The table's name and column definitions (NOT NULL where the layout requires a value)."""
    defs = []
    for c in t.columns:
        constraints = [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())] if c.required else []
        defs.append(exp.ColumnDef(this=ident(c.name), kind=exp.DataType.build(_TYPES[c.type]), constraints=constraints))
    return exp.Schema(this=exp.Table(this=ident(t.name)), expressions=defs)


def ddl(dialect: str) -> str:
    """CREATE TABLE statements for every table of the layout, in ``dialect``."""
    out = [exp.Create(this=_schema(t), kind="TABLE").sql(dialect=dialect, pretty=True) + ";" for t in TABLES]
    return "\n\n".join(out) + "\n"


def create_statements(dialect: str, *, temporary: bool = False) -> list[str]:
    """One CREATE TABLE statement per table of the layout (``ddl`` without the text around),
    TEMPORARY ones for a session's scratch tables (the engine runners, sql/run.py)."""
    props = exp.Properties(expressions=[exp.TemporaryProperty()]) if temporary else None
    return [exp.Create(this=_schema(t), kind="TABLE", properties=props.copy() if props else None).sql(dialect=dialect)
            for t in TABLES]


__all__ = ["Column", "Table", "TABLES", "RECORDS", "SUBJECTS", "DATA_CATEGORIES", "HOLD_SCOPES", "FACTS", "LISTS",
           "REL_PREFIX", "create_statements", "ddl"]
