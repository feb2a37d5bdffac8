"""Tabular sources: Parquet (read by DuckDB), and tables or queries in SQLite (the standard
library's sqlite3), DuckDB files and PostgreSQL (psycopg 3).

DuckDB's own readers for these (``sqlite_scanner``, ``postgres_scanner``) are extensions it
downloads at run time, which fails offline (CI, this project's machines): SQLite and
PostgreSQL are read with their own drivers. DuckDB's parquet reader is built in.

Rows are fetched ``BATCH`` at a time (PostgreSQL: a server-side cursor), so memory stays
bounded whatever the table's size. A table name never reaches SQL text by formatting:
PostgreSQL names go through ``psycopg.sql.Identifier``. The SQLite and DuckDB drivers have no
identifier quoting (DuckDB's ``table()`` parses its argument as SQL, so a name holding quotes
cannot be named with it): the name is first looked up in the catalogue with a bound parameter
(``sqlite_master``, ``information_schema.tables``), and only a name that exists is quoted, in
SQL-standard double quotes (:func:`quote_ident`).
"""

from __future__ import annotations

import difflib
import os
import sqlite3
import urllib.parse
from typing import Any, Iterator

from ..errors import shown
from ._base import BATCH, Source, SourceError, SourceRow, safe_name

SQLITE_MAGIC = b"SQLite format 3\x00"
PARQUET_MAGIC = b"PAR1"


def quote_ident(name: str) -> str:
    """``name`` as an SQL identifier in double quotes (SQL standard; SQLite and DuckDB): an
    embedded quote is doubled. NUL, which no identifier may hold, is refused."""
    if "\x00" in name:
        raise SourceError(f"`{shown(name)}` holds a NUL character: not a table name")
    return '"' + name.replace('"', '""') + '"'


def split_name(name: str) -> tuple[str, ...]:
    """``schema.table`` -> (schema, table); a name without a dot -> (table,). A table whose own
    name holds a dot is read with --query instead."""
    if not name or "\x00" in name:
        raise SourceError(f"`{shown(name)}` is not a table name", "give a table name, optionally as schema.table")
    parts = tuple(name.split(".", 1))
    if any(not p for p in parts):
        raise SourceError(f"`{shown(name)}` is not a table name", "give a table name, optionally as schema.table")
    return parts


def duckdb_connect(path: str | None, *, read_only: bool) -> Any:
    """A DuckDB connection that never downloads an extension (offline: fail fast and clearly)."""
    try:
        import duckdb
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise SourceError("reading this format needs the `duckdb` package", "pip install duckdb") from None
    config: dict[str, str | bool | int | float | list[str]] = {"autoinstall_known_extensions": False,
                                                              "autoload_known_extensions": False}
    try:
        return duckdb.connect(path if path is not None else ":memory:", read_only=read_only, config=config)
    except duckdb.Error as exc:
        raise SourceError(f"cannot open `{shown(path or ':memory:', 200)}` as a DuckDB database: {_first_line(exc)}") \
            from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return shown(text[0] if text else type(exc).__name__, 300)


def _close_quietly(con: Any) -> None:
    if con is None:
        return
    try:
        con.close()
    except Exception:  # noqa: BLE001 - closing after a failure: the first error is the one to report
        pass


class _Cursor(Source):
    """Rows from a DB-API cursor, fetched in batches, as dicts of column name to value."""

    def _start(self, cursor: Any, total: int = 0) -> None:
        self._cursor = cursor
        self.columns = tuple(str(d[0]) for d in cursor.description or ())
        names = self.columns
        dup = next((c for i, c in enumerate(names) if c in names[:i]), None)
        if dup is not None:
            raise SourceError(f"{self.name}: column `{shown(dup)}` appears twice in the result",
                              "give each column its own name (`AS`) in --query")
        self.total = total
        self.done = 0

    def rows(self, *, raw: bool = False) -> Iterator[SourceRow]:
        cols = self.columns or ()
        n = 0
        while True:
            try:
                batch = self._cursor.fetchmany(BATCH)
            except Exception as exc:  # noqa: BLE001 - each driver has its own error classes
                raise SourceError(f"{self.name}: reading row {n + 1} failed: {_first_line(exc)}") from None
            if not batch:
                return
            for values in batch:
                n += 1
                yield SourceRow(f"row {n}", None, dict(zip(cols, values)))
            self.done = n

    def progress(self) -> tuple[int, int]:
        return self.done, self.total


class ParquetSource(_Cursor):
    format = "parquet"

    def __init__(self, path: str) -> None:
        self.name = shown(path, 200)
        _must_be_file(path, "Parquet")
        with open(path, "rb") as fh:
            if fh.read(4) != PARQUET_MAGIC:
                raise SourceError(f"`{self.name}` is not a Parquet file (it does not start with `PAR1`)",
                                  "pass --input-format for what it is (csv, json, jsonl ...)")
        self.connection = None
        self._con = duckdb_connect(None, read_only=False)
        try:
            total = int(self._con.execute("SELECT count(*) FROM read_parquet(?)", [path]).fetchone()[0])
            cur = self._con.execute("SELECT * FROM read_parquet(?)", [path])
        except Exception as exc:  # noqa: BLE001 - duckdb.Error and friends
            _close_quietly(self._con)
            raise SourceError(f"cannot read `{self.name}` as Parquet: {_first_line(exc)}") from None
        self._start(cur, total)

    def close(self) -> None:
        _close_quietly(self._con)


def _must_be_file(path: str, what: str) -> None:
    if not os.path.exists(path):
        raise SourceError(f"cannot read records file `{shown(path, 200)}`: No such file or directory")
    if not os.path.isfile(path):
        raise SourceError(f"cannot read records file `{shown(path, 200)}`: not a file", f"give the {what} file's path")


def _table_or_query(table: str | None, query: str | None, name: str) -> None:
    if (table is None) == (query is None):
        raise SourceError(f"`{name}` is a database: name the rows to read with --table NAME or --query SQL",
                          "e.g. --table contacts, or --query \"SELECT ... FROM contacts WHERE ...\"")


class SqliteSource(_Cursor):
    """A table (or view) or a query in a SQLite file. Read-only unless ``writable`` (to write
    decisions back: sinks.TableSink, on this same connection and transaction)."""

    format = "sqlite"

    def __init__(self, path: str, *, table: str | None = None, query: str | None = None,
                 writable: bool = False) -> None:
        self.name = shown(path, 200)
        _must_be_file(path, "SQLite")
        _table_or_query(table, query, self.name)
        with open(path, "rb") as fh:
            if fh.read(16) != SQLITE_MAGIC:
                raise SourceError(f"`{self.name}` is not a SQLite database", "pass --input-format for what it is")
        uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + ("?mode=rw" if writable else "?mode=ro")
        # isolation_level=None: transactions are ours (BEGIN/COMMIT in the sink), DDL included;
        # sqlite3's implicit transactions would commit a CREATE TABLE on their own
        con = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=True)
        self.connection = con
        try:
            if table is not None:
                sql = f"SELECT * FROM {quote_ident(self._lookup(con, table))}"
            else:
                sql = str(query)
            cur = con.cursor()
            cur.execute(sql)
        except sqlite3.Error as exc:
            _close_quietly(con)
            raise SourceError(f"{self.name}: {_first_line(exc)}", "check --table / --query") from None
        except SourceError:
            _close_quietly(con)
            raise
        if cur.description is None:
            _close_quietly(con)
            raise SourceError(f"{self.name}: --query returns no rows (it is not a SELECT)", "give a SELECT statement")
        self._start(cur)

    def _lookup(self, con: sqlite3.Connection, table: str) -> str:
        quote_ident(table)  # refuses NUL
        rows = con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name = ? "
                           "COLLATE NOCASE", (table,)).fetchall()
        if rows:
            return str(rows[0][0])
        known = [str(r[0]) for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                                "ORDER BY name")]
        close = difflib.get_close_matches(table, known, n=1, cutoff=0.6)
        hint = f"did you mean `{shown(close[0])}`?" if close else (
            "tables: " + ", ".join(f"`{shown(k)}`" for k in known[:20]) if known else "the database has no tables")
        raise SourceError(f"{self.name}: no table `{shown(table)}`", hint)

    def close(self) -> None:
        _close_quietly(getattr(self, "_cursor", None))
        _close_quietly(self.connection)


class DuckdbSource(_Cursor):
    """A table (or view) or a query in a DuckDB database file."""

    format = "duckdb"

    def __init__(self, path: str, *, table: str | None = None, query: str | None = None,
                 writable: bool = False) -> None:
        self.name = shown(path, 200)
        _must_be_file(path, "DuckDB")
        _table_or_query(table, query, self.name)
        con = duckdb_connect(path, read_only=not writable)
        self.connection = con
        try:
            if table is not None:
                sql = "SELECT * FROM " + ".".join(quote_ident(p) for p in self._lookup(con, table))
            else:
                sql = str(query)
            cur = con.execute(sql)
            if cur.description is None:
                raise SourceError(f"{self.name}: --query returns no rows (it is not a SELECT)",
                                  "give a SELECT statement")
            self._start(cur)
        except SourceError:
            _close_quietly(con)
            raise
        except Exception as exc:  # noqa: BLE001 - duckdb.Error (a catalog error says "did you mean")
            _close_quietly(con)
            raise SourceError(f"{self.name}: {_first_line(exc)}", "check --table / --query") from None

    def _lookup(self, con: Any, table: str) -> tuple[str, str]:
        """(schema, table) of the table or view ``table`` (``schema.table``, or a name in any
        schema), found with bound parameters; names compare case-insensitively, as in DuckDB."""
        quote_ident(table)  # refuses NUL
        tried = [(None, table)] + ([tuple(split_name(table))] if "." in table else [])
        for schema, name in tried:
            q = "SELECT table_schema, table_name FROM information_schema.tables WHERE lower(table_name) = lower(?)"
            args = [name]
            if schema is not None:
                q += " AND lower(table_schema) = lower(?)"
                args.append(schema)
            rows = con.execute(q + " ORDER BY table_schema = current_schema() DESC, table_schema", args).fetchall()
            if rows:
                return str(rows[0][0]), str(rows[0][1])
        known = [str(r[0]) for r in con.execute("SELECT DISTINCT table_name FROM information_schema.tables "
                                                "ORDER BY 1").fetchall()]
        close = difflib.get_close_matches(table, known, n=1, cutoff=0.6)
        hint = f"did you mean `{shown(close[0])}`?" if close else (
            "tables: " + ", ".join(f"`{shown(k)}`" for k in known[:20]) if known else "the database has no tables")
        raise SourceError(f"{self.name}: no table `{shown(table)}`", hint)

    def close(self) -> None:
        _close_quietly(getattr(self, "_cursor", None))
        _close_quietly(self.connection)


class PostgresSource(_Cursor):
    """A table (``schema.table`` or ``table``) or a query in PostgreSQL, read through a
    server-side cursor. The session is read-only unless ``writable``."""

    format = "postgres"

    def __init__(self, url: str, *, table: str | None = None, query: str | None = None,
                 writable: bool = False) -> None:
        self.name = safe_name(url)
        _table_or_query(table, query, self.name)
        try:
            import psycopg
            from psycopg import sql
        except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
            raise SourceError("reading PostgreSQL needs the `psycopg` package", "pip install 'psycopg[binary]'") \
                from None
        try:
            con = psycopg.connect(url, autocommit=False)
        except Exception as exc:  # noqa: BLE001 - psycopg.Error, or a malformed URL (ProgrammingError)
            raise SourceError(f"cannot connect to `{self.name}`: {_first_line(exc)}",
                              "check the URL: postgresql://USER@HOST:PORT/DATABASE") from None
        self.connection = con
        try:
            if not writable:
                con.read_only = True
            if table is not None:
                stmt: Any = sql.SQL("SELECT * FROM {}").format(sql.Identifier(*split_name(table)))
            else:
                stmt = sql.SQL(str(query))  # noqa: S608 - the operator's own query, given on the command line
            cur = self._cursor = con.cursor(name="privacy_rules_source")
            cur.itersize = BATCH
            cur.execute(stmt)
            self._start(cur)
        except SourceError:
            self.close()
            raise
        except Exception as exc:  # noqa: BLE001 - psycopg.Error
            self.close()
            raise SourceError(f"{self.name}: {_first_line(exc)}", "check --table / --query") from None

    def close(self) -> None:
        _close_quietly(getattr(self, "_cursor", None))
        _close_quietly(self.connection)
