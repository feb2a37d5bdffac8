"""Host rows in: JSON Lines, a JSON array, CSV, Parquet, and tables or queries in SQLite,
DuckDB and PostgreSQL, each streamed with bounded memory (docs/sources.md).

::

    from privacy_rules.sources import open_source

    with open_source("contacts.csv") as src:                  # format from the extension
        for locator, row in src:                               # "line 2", {"id": "hs-1", ...}
            ...
    open_source("crm.sqlite", table="contacts")
    open_source("postgresql://sweeper@db/crm", query="SELECT ... FROM contacts")

A row is a mapping of column name to value, or an :class:`Unreadable` (a line over the cap, a
CSV row with the wrong number of values ...) carrying its problems; one bad row never stops
the others. An input that is not what its format says (a Parquet file named ``.jsonl``, a
JSON file that is not an array, a missing table) raises :class:`SourceError` before or
while reading: nothing about it is decided.

Rows become canonical records in the flat layout (:mod:`.flat`) or through a mapping
profile; :mod:`privacy_rules.pipeline` runs the policy over them.
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any, Mapping

from ..errors import shown
from ._base import MAX_LINE, Source, SourceError, SourceRow, Unreadable, safe_name
from ._csv import CsvSource
from ._sql import PARQUET_MAGIC, SQLITE_MAGIC, DuckdbSource, ParquetSource, PostgresSource, SqliteSource
from ._text import JsonArraySource, JsonlSource
from .flat import FlatLayout, canonical_column

#: every input format, as --input-format takes them
FORMATS = ("jsonl", "json", "csv", "parquet", "sqlite", "duckdb", "postgres")
#: formats read from a byte stream (a file, or stdin given as ``-``)
TEXT_FORMATS = ("jsonl", "json", "csv")
#: formats whose rows are named with --table or --query
DATABASE_FORMATS = ("sqlite", "duckdb", "postgres")

EXTENSIONS: Mapping[str, str] = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "csv",
    ".parquet": "parquet", ".pq": "parquet", ".sqlite": "sqlite", ".sqlite3": "sqlite", ".duckdb": "duckdb",
    ".ddb": "duckdb",
}
_URL_SCHEMES = ("postgresql://", "postgres://")
_COMPRESSED = {b"\x1f\x8b": "gzip", b"PK": "zip", b"BZ": "bzip2", b"\xfd7zXZ": "xz", b"\x28\xb5\x2f\xfd": "zstd"}


def _magic(path: str) -> str | None:
    """The format a file's first bytes announce (parquet, sqlite, duckdb, or a compression), if any."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return None
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head[8:12] == b"DUCK":
        return "duckdb"
    for sig, kind in _COMPRESSED.items():
        if head.startswith(sig):
            return kind
    return None


def guess_format(spec: str) -> str:
    """The input format of ``spec``: a ``postgresql://`` URL is postgres, ``-`` (stdin) jsonl,
    a file by its extension (``.db`` and unknown extensions by their first bytes; text files
    of unknown extension are JSON Lines, as ``evaluate`` has always read them)."""
    if spec.startswith(_URL_SCHEMES):
        return "postgres"
    if spec == "-":
        return "jsonl"
    ext = os.path.splitext(spec)[1].lower()
    if ext in EXTENSIONS:
        return EXTENSIONS[ext]
    magic = _magic(spec)
    return magic if magic in FORMATS else "jsonl"


def open_source(spec: str, *, fmt: str | None = None, table: str | None = None, query: str | None = None,
                children: Mapping[str, Any] | None = None, delimiter: str | None = None,
                stdin: IO[bytes] | None = None, writable: bool = False, limit: int = MAX_LINE) -> Source:
    """A :class:`Source` reading ``spec``: a file path, ``-`` for stdin (text formats), or a
    ``postgresql://`` URL.

    ``fmt``: one of :data:`FORMATS`; default :func:`guess_format`. ``table`` / ``query``: the
    rows of a database input (exactly one of them). ``delimiter``: CSV's (default: sniffed from
    the header). ``stdin``: the byte stream ``-`` reads (default ``sys.stdin.buffer``).
    ``writable``: open a database read-write, to write decisions back into it (sinks); it is
    read-only otherwise. ``limit``: bytes per JSON record or CSV line. ``children`` (child
    tables for a mapping profile's event lists) is reserved: not supported yet.

    Raises SourceError when the input cannot be opened or is not what the format says.
    """
    if children:
        raise SourceError("child tables are not supported yet", "give the events as columns of the parent rows")
    fmt = fmt or guess_format(spec)
    if fmt not in FORMATS:
        raise SourceError(f"unknown input format `{shown(fmt)}`", "use one of " + ", ".join(FORMATS))
    if fmt not in DATABASE_FORMATS and (table is not None or query is not None):
        raise SourceError(f"--table and --query name rows in a database; `{safe_name(spec)}` is read as {fmt}",
                          "pass --input-format sqlite, duckdb or postgres if it is a database")
    if fmt != "csv" and delimiter is not None:
        raise SourceError("--delimiter is for CSV input")
    if spec.startswith(_URL_SCHEMES) and fmt != "postgres":
        raise SourceError(f"`{safe_name(spec)}` is a PostgreSQL URL; it cannot be read as {fmt}")
    if fmt == "postgres":
        if not spec.startswith(_URL_SCHEMES):
            raise SourceError(f"`{safe_name(spec)}` is not a PostgreSQL URL",
                              "give postgresql://USER@HOST:PORT/DATABASE (or postgresql:///DB?host=/socket/dir)")
        return PostgresSource(spec, table=table, query=query, writable=writable)
    if spec == "-":
        if fmt not in TEXT_FORMATS:
            raise SourceError(f"stdin (`-`) can be read as jsonl, json or csv, not {fmt}", "give the file's path")
        fh = stdin if stdin is not None else sys.stdin.buffer
        return _text_source(fmt, fh, "-", delimiter, limit, 0, owned=False)
    if fmt == "parquet":
        return ParquetSource(spec)
    if fmt == "sqlite":
        return SqliteSource(spec, table=table, query=query, writable=writable)
    if fmt == "duckdb":
        return DuckdbSource(spec, table=table, query=query, writable=writable)
    magic = _magic(spec)
    if magic is not None:
        hint = (f"pass --input-format {magic}" if magic in FORMATS
                else f"decompress it first ({magic})")
        raise SourceError(f"`{shown(spec, 200)}` is a {magic} file, not {fmt}", hint)
    try:
        fh = open(spec, "rb")
    except OSError as exc:
        raise SourceError(f"cannot read records file `{shown(spec, 200)}`: {exc.strerror or exc}") from None
    try:
        size = os.fstat(fh.fileno()).st_size
        return _text_source(fmt, fh, spec, delimiter, limit, size, owned=True)
    except BaseException:
        fh.close()
        raise


def _text_source(fmt: str, fh: IO[bytes], name: str, delimiter: str | None, limit: int, size: int, *,
                 owned: bool) -> Source:
    if fmt == "jsonl":
        return JsonlSource(fh, name, limit=limit, size=size, owned=owned)
    if fmt == "json":
        return JsonArraySource(fh, name, limit=limit, size=size, owned=owned)
    return CsvSource(fh, name, delimiter=delimiter, limit=limit, size=size, owned=owned)


__all__ = ["DATABASE_FORMATS", "EXTENSIONS", "FORMATS", "TEXT_FORMATS", "FlatLayout", "MAX_LINE", "Source",
           "SourceError", "SourceRow", "Unreadable", "canonical_column", "guess_format", "open_source"]
