"""What every source shares: the row type, the errors, and the Source base class."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Iterator, Mapping

from ..errors import PrivacyRulesError, shown
from ..model import Diagnostic, Severity

MAX_LINE = 1_000_000  # bytes per JSONL line, JSON array item or CSV line; longer ones are refused
CHUNK = 1 << 16  # bytes read at a time
BATCH = 2048  # rows fetched at a time from a database or a Parquet file


class SourceError(PrivacyRulesError):
    """The input cannot be read as the format it is read as: a missing file, a CSV header
    naming no record field, a table that does not exist, a JSON file that is not an array ...
    Nothing was decided; the CLI exits 2. ``help`` says what to do."""

    def __init__(self, message: str, help: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.help = help

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Stands in for a row that cannot be read (a line over the cap, a CSV row with the wrong
    number of values, text that is not UTF-8): its problems, and the record id when known."""

    problems: tuple[Diagnostic, ...]
    record_id: str | None = None


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row as a source reads it.

    ``value`` is a host row (a mapping of column name to value), an :class:`Unreadable`, or,
    from a JSON source read with ``raw=True``, the JSON text of one record (bytes or str).
    ``locator`` says where it is, for messages: ``line 12`` (JSONL, CSV: the line the row
    starts on), ``item 3`` (a JSON array), ``row 12`` (Parquet, tables, queries).
    """

    locator: str
    line: int | None
    value: Any


def problem(code: str, message: str, help: str | None = None) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.ERROR, message=message, help=help)


def too_long(limit: int) -> Diagnostic:
    return problem("PR314", f"longer than {limit:,} bytes",
                   "a record is one person's data; check how the host builds this line")


_PASSWORD = re.compile(r"(?<=://)([^/@:]*):[^/@]*@")


def safe_name(spec: str) -> str:
    """``spec`` for messages: a connection URL without its password, cut to a readable length."""
    return shown(_PASSWORD.sub(r"\1:***@", spec), 200)


class Source:
    """Rows from one input, in order, with bounded memory. Iterate for ``(locator, row)`` pairs
    (row: a mapping of column name to value, or an :class:`Unreadable`); use as a context
    manager, or call :meth:`close`, to release the file or connection.

    ``format`` is the input format (jsonl, json, csv, parquet, sqlite, duckdb, postgres);
    ``name`` the input as messages show it; ``columns`` the column names of a tabular input
    (None for JSON). Not thread-safe: one reader at a time.
    """

    format: str = ""
    name: str = ""
    columns: tuple[str, ...] | None = None
    #: a DB-API connection for database sources, for writing decisions back (sinks.TableSink)
    connection: Any = None

    def rows(self, *, raw: bool = False) -> Iterator[SourceRow]:
        """Every row, with its locator and line. ``raw``: JSON sources give each record's JSON
        text instead of the parsed object (the policy parses it, duplicate keys included);
        other sources ignore it."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[tuple[str, Mapping[str, Any] | Unreadable]]:
        for row in self.rows():
            yield row.locator, row.value

    def progress(self) -> tuple[int, int]:
        """(done, total) in the source's own unit (bytes of a file, rows of a table); total 0 = unknown."""
        return 0, 0

    def close(self) -> None:
        """Release the file or connection; safe to call twice."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
