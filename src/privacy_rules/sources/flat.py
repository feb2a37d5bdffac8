"""The flat layout: a table row whose columns are named after the canonical record's fields.

Without a mapping profile, a CSV file, a Parquet file or a table is read in this layout
(docs/sources.md, "Flat layout"):

* a top-level field by its name: ``id``, ``role``, ``contact_address_kind``, ``source``,
  ``art14_informed_on``;
* one member of an object with a dot: ``relationship.first_contact_on``, ``facts.tier``,
  ``host.email`` (``__`` may stand for the dot, for SQL column names:
  ``relationship__first_contact_on``);
* a list field, or a whole object, by its name (``consents``, ``subject_categories``,
  ``relationship``), holding JSON text (a CSV cell: ``[{"purpose": "newsletter", ...}]``)
  or, in typed inputs, a native list or struct (Parquet, DuckDB, PostgreSQL json/jsonb);
* an empty value (an empty CSV cell, SQL NULL, an empty string) is an absent field.

Values keep their type: a DATE becomes ``YYYY-MM-DD``; a date-time becomes its ISO text (and
so is refused where the record wants a day: cast it in --query, or use a profile); a DECIMAL
becomes a number. In text inputs (CSV) a ``facts.*`` cell holding ``true``, ``false`` or a
JSON number is read as that JSON value, since CSV has no types.

A column that names no field of the record makes the whole input unreadable (SourceError
with a did-you-mean), before any row is read: a file of some host's own columns passed
without a profile must fail, not pass as "every row undetermined".
"""

from __future__ import annotations

import datetime as _dt
import decimal
import difflib
import json
import re
import uuid
from typing import Any, Iterable, Mapping

from ..errors import shown
from ..model import Diagnostic
from ..records import (ID_LISTS, LIST_FIELDS, RELATIONSHIP_FIELDS, TOP_SCALARS, RecordInvalid, Scanner, new_scanner,
                       parse_record)
from ._base import SourceError, problem

OBJECTS = ("relationship", "facts", "host")
#: columns holding JSON text or a native list / object
JSON_COLUMNS = frozenset(LIST_FIELDS) | frozenset(ID_LISTS) | frozenset(OBJECTS)
_FACT = re.compile(r"[a-z][a-z0-9_]*")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def canonical_column(column: str) -> str | None:
    """The record path a flat-layout column names (``__`` read as ``.``), or None."""
    name = column.replace("__", ".", 1) if "." not in column else column
    if name in TOP_SCALARS or name in JSON_COLUMNS:
        return name
    head, dot, member = name.partition(".")
    if not dot or not member:
        return None
    if head == "relationship":
        return name if member in RELATIONSHIP_FIELDS else None
    if head == "facts":
        return name if _FACT.fullmatch(member) else None
    if head == "host":
        return name
    return None


def _known_columns() -> list[str]:
    return sorted(set(TOP_SCALARS) | JSON_COLUMNS | {f"relationship.{k}" for k in RELATIONSHIP_FIELDS})


class FlatLayout:
    """Turns rows of one input's columns into canonical records. Build with
    :meth:`for_columns` (which refuses columns that name no record field); then
    :meth:`record` per row. Never mutates a row; one instance per thread (it keeps a JSON
    scanner, which is not thread-safe)."""

    __slots__ = ("plan", "text", "scan")

    def __init__(self, plan: tuple[tuple[str, str, str | None], ...], text: bool) -> None:
        self.plan = plan  # (column, top-level field, member or None)
        self.text = text
        self.scan = new_scanner()

    @classmethod
    def for_columns(cls, columns: Iterable[str], *, text: bool, where: str) -> FlatLayout:
        """The layout for these columns; SourceError naming every column that is not a field.

        ``text``: the values are text (CSV), so ``facts.*`` cells are read as JSON literals.
        """
        cols = list(columns)
        plan = []
        unknown = []
        paths: dict[str, str] = {}
        for c in cols:
            path = canonical_column(c)
            if path is None:
                unknown.append(c)
                continue
            if path in paths:
                raise SourceError(f"{where}: columns `{shown(paths[path])}` and `{shown(c)}` both give `{path}`",
                                  "keep one of them")
            paths[path] = c
            head, _, member = path.partition(".")
            plan.append((c, head, member or None))
        if unknown:
            known = _known_columns()
            parts = []
            for c in unknown[:10]:
                close = difflib.get_close_matches(c, known, n=1, cutoff=0.7)
                parts.append(f"`{shown(c)}`" + (f" (did you mean `{close[0]}`?)" if close else ""))
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            raise SourceError(
                f"{where}: column{'s' if len(unknown) > 1 else ''} {', '.join(parts)}{more} "
                f"{'name' if len(unknown) > 1 else 'names'} no field of the record format",
                "without --profile, columns are named after the record's fields (id, role, "
                "relationship.first_contact_on, consents ...: docs/sources.md, \"Flat layout\"); put host-only "
                "columns under host.NAME, leave them out in --query, or map the host's own columns with --profile")
        wholes = {h for _, h, m in plan if m is None}
        for _, head, sub in plan:
            if sub is not None and head in wholes:
                raise SourceError(f"{where}: both a `{head}` column and `{head}.{sub}`",
                                  f"give `{head}` either as one JSON column or member by member")
        if "id" not in paths:
            raise SourceError(f"{where}: no `id` column", "every record needs its host id: add an `id` column "
                              "(or `SELECT contact_id AS id, ...` in --query)")
        return cls(tuple(plan), text)

    def record(self, row: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[Diagnostic, ...]]:
        """(the canonical record, problems of cells that cannot be read). A row with problems
        is not decided (undetermined); its record still carries the id when readable."""
        out: dict[str, Any] = {}
        problems: list[Diagnostic] = []
        for column, head, member in self.plan:
            value = row.get(column)
            if value is None or value == "":
                continue
            if member is None and head in JSON_COLUMNS:
                value = _json_value(column, value, problems, self.scan)
                if value is not None:
                    out[head] = value
                continue
            if head == "facts" and self.text and isinstance(value, str):
                value = _literal(value)
            else:
                value = _plain(column, value, problems)
                if value is None:
                    continue
            if member is None:
                out[head] = value
            else:
                sub = out.get(head)
                if not isinstance(sub, dict):
                    sub = out[head] = {}
                sub[member] = value
        return out, tuple(problems)


def _literal(text: str) -> Any:
    if text == "true":
        return True
    if text == "false":
        return False
    if _NUMBER.fullmatch(text):
        return json.loads(text)
    return text


def _plain(column: str, value: Any, problems: list[Diagnostic]) -> Any:
    """A cell value as JSON data: dates as ISO text, DECIMAL as a number; None when unusable."""
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return float(value)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (_dt.time, _dt.timedelta)):
        return str(value)
    if value is None:  # inside a list
        return None
    if isinstance(value, (list, tuple)):
        return [_plain(column, v, problems) for v in value]
    if isinstance(value, Mapping):
        # a typed store gives every record every member of a struct column (NULL where a record
        # has none): a NULL member is an absent one, as the record format reads null anyway
        return {str(k): _plain(column, v, problems) for k, v in value.items() if v is not None}
    if isinstance(value, (bytes, bytearray, memoryview)):
        problems.append(problem("PR701", f"column `{shown(column)}` holds binary data",
                                "store text, numbers, dates or JSON in this column"))
        return None
    problems.append(problem("PR701", f"column `{shown(column)}` holds a value of type {type(value).__name__}",
                            "store text, numbers, dates or JSON in this column"))
    return None


def _json_value(column: str, value: Any, problems: list[Diagnostic], scan: Scanner) -> Any:
    """A list or object column: JSON text (parsed with duplicate-key detection), or native data."""
    if isinstance(value, str):
        try:
            return parse_record(value, scan)
        except RecordInvalid as exc:
            first = exc.problems[0]
            problems.append(problem("PR701", f"column `{shown(column)}` does not hold JSON: {first.message}",
                                    "write the list as JSON text, e.g. `[{\"purpose\": \"newsletter\", "
                                    "\"given_on\": \"2024-01-31\"}]`"))
            return None
    return _plain(column, value, problems)
