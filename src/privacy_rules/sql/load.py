"""Canonical records (docs/rule-language.md section 4) -> rows of the SQL layout (layout.py).

Values are copied as the record holds them: a malformed day stays the text it is, an unknown
enum value or id stays itself, so that the query finds and names the problem (the point of the
layout holding text). What the tables cannot hold at all (a list where a day belongs, an unknown
field, a nested value in ``facts``) raises LayoutError: such a record is not the query's to
decide; the row engine names its problem (PR301/PR302).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from sqlglot import exp

from ..records import ID_LISTS, LIST_FIELDS, RELATIONSHIP_FIELDS, TOP_FIELDS, TOP_SCALARS
from ._x import ident
from .layout import FACTS, HOLD_SCOPES, LISTS, RECORDS, REL_PREFIX, TABLES

Rows = dict[str, list[tuple[Any, ...]]]


class LayoutError(ValueError):
    """A record the table layout cannot hold (the row engine's PR301/PR302 territory)."""


def empty_rows() -> Rows:
    return {t.name: [] for t in TABLES}


def _text(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise LayoutError(f"`{where}` must be text or null to fit the layout, not {type(value).__name__}")


def add_record(rows: Rows, record: Mapping[str, Any]) -> None:
    """Append ``record``'s rows to ``rows``; raises LayoutError (nothing appended) if it cannot fit."""
    own = empty_rows()
    if not isinstance(record, Mapping):
        raise LayoutError("a record must be an object")
    for key in record:
        if key not in TOP_FIELDS:
            raise LayoutError(f"unknown field `{key}`")
    rid = record.get("id")
    if not isinstance(rid, str) or not rid:
        raise LayoutError("a record needs an `id` (non-empty text)")
    rel = record.get("relationship") or {}
    if not isinstance(rel, Mapping) or any(k not in RELATIONSHIP_FIELDS for k in rel):
        raise LayoutError("`relationship` must be an object of the relationship days")
    row: list[Any] = [rid]
    for k in TOP_SCALARS:
        if k != "id":
            row.append(_text(record.get(k), k))
    row += [_text(rel.get(k), f"relationship.{k}") for k in RELATIONSHIP_FIELDS]
    subjects = record.get("subject_categories")
    row.append(subjects is not None)
    own[RECORDS.name].append(tuple(row))
    for name in ID_LISTS:
        if name == "systems":
            continue  # the host's own system names: no rule reads them
        items = record.get(name)
        if items is None:
            continue
        if not isinstance(items, list):
            raise LayoutError(f"`{name}` must be a list")
        own[name] += [(rid, _text(v, f"{name}[]")) for v in items]
    for name, (fields, _req) in LIST_FIELDS.items():
        items = record.get(name)
        if items is None:
            continue
        if not isinstance(items, list):
            raise LayoutError(f"`{name}` must be a list")
        for no, entry in enumerate(items):
            if not isinstance(entry, Mapping) or any(k not in fields for k in entry):
                raise LayoutError(f"`{name}[{no}]` must be an object of the entry fields")
            out: list[Any] = [rid, no]
            for f, kind in fields.items():
                v = entry.get(f)
                if kind == "ids":
                    out.append(v is not None)
                    if v is not None:
                        if not isinstance(v, list):
                            raise LayoutError(f"`{name}[{no}].{f}` must be a list")
                        own[HOLD_SCOPES.name] += [(rid, no, _text(s, f"{name}[{no}].{f}[]")) for s in v]
                elif kind == "bool":
                    if v is not None and not isinstance(v, bool):
                        raise LayoutError(f"`{name}[{no}].{f}` must be true, false or null")
                    out.append(v)
                elif kind == "int":
                    if v is not None and (isinstance(v, bool) or not isinstance(v, int) or abs(v) > 2**31 - 1):
                        raise LayoutError(f"`{name}[{no}].{f}` must be a whole number")
                    out.append(v)
                else:
                    out.append(_text(v, f"{name}[{no}].{f}"))
            own[LISTS[name].name].append(tuple(out))
    facts = record.get("facts") or {}
    if not isinstance(facts, Mapping):
        raise LayoutError("`facts` must be an object")
    for key, v in facts.items():
        if not isinstance(key, str):
            raise LayoutError("fact names are text")
        if v is None:  # null: absent, but the key is still the pack's to know (PR340)
            own[FACTS.name].append((rid, key, None, None, None))
        elif isinstance(v, bool):
            own[FACTS.name].append((rid, key, None, None, v))
        elif isinstance(v, (int, float)):
            if not math.isfinite(v) or abs(v) > 2**53:
                raise LayoutError(f"`facts.{key}` is a number a DOUBLE column cannot hold exactly")
            own[FACTS.name].append((rid, key, None, float(v), None))
        elif isinstance(v, str):
            own[FACTS.name].append((rid, key, v, None, None))
        else:
            raise LayoutError(f"`facts.{key}` must be a boolean, a number or text")
    for name, items in own.items():
        rows[name].extend(items)


def rows_for(records: Iterable[Mapping[str, Any]]) -> Rows:
    rows = empty_rows()
    for r in records:
        add_record(rows, r)
    return rows


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Neg(this=exp.Literal.number(-value)) if value < 0 else exp.Literal.number(value)
    return exp.Literal.string(value)


def inserts(rows: Rows, dialect: str = "duckdb", chunk: int = 5000) -> list[str]:
    """INSERT statements for ``rows``: values as sqlglot literal nodes (never text pasted into SQL)."""
    out = []
    for t in TABLES:
        data = rows.get(t.name) or []
        for start in range(0, len(data), chunk):
            values = exp.Values(expressions=[exp.Tuple(expressions=[_literal(v) for v in row])
                                             for row in data[start:start + chunk]])
            stmt = exp.Insert(this=exp.Table(this=ident(t.name)), expression=values)
            out.append(stmt.sql(dialect=dialect))
    return out


def load_duckdb(con: Any, rows: Rows) -> None:
    """Create the layout's tables in a DuckDB connection and insert ``rows``."""
    from .layout import ddl

    for stmt in ddl("duckdb").split(";"):
        if stmt.strip():
            con.execute(stmt)
    for stmt in inserts(rows):
        con.execute(stmt)


__all__ = ["LayoutError", "Rows", "add_record", "empty_rows", "inserts", "load_duckdb", "rows_for", "REL_PREFIX"]
