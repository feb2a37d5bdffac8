"""Answers out: JSON Lines, CSV, Parquet, or a decisions table written back into the database
the records came from (docs/sources.md, "Outputs").

JSON Lines keeps ``evaluate``'s line per record (``answers`` nested). CSV, Parquet and tables
are long: one row per record and question, columns :data:`COLUMNS`, so a retention job can
``SELECT record_id FROM decisions WHERE question = 'keep' AND outcome = 'deny'``.

Every sink is all-or-nothing: :meth:`Sink.commit` makes the output appear at once (a file by
rename, a table by renaming a staging table over it in one transaction); :meth:`Sink.abort`
(or any failure) leaves the old output exactly as it was. Text that no output can carry (a
lone surrogate from a broken record, NUL, which PostgreSQL text refuses) is written as a
backslash escape in CSV, Parquet and tables; JSON escapes it itself.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import tempfile
from datetime import date
from typing import Any, Iterator, Sequence, TextIO

from .errors import PrivacyRulesError, shown
from .pipeline import Result

#: the long format's columns and their types (text, int, date)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("row", "int"), ("locator", "text"), ("record_id", "text"), ("question", "text"), ("outcome", "text"),
    ("rule_id", "text"), ("basis", "text"), ("article", "text"), ("keep_until", "date"), ("reason_code", "text"),
    ("reason", "text"), ("problem", "text"), ("as_of", "date"), ("pack_version", "text"),
)
COLUMN_NAMES = tuple(c for c, _ in COLUMNS)
#: output formats, as --output-format takes them (text is the CLI's, for people)
FORMATS = ("jsonl", "csv", "parquet")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet",
              ".pq": "parquet"}

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


class SinkError(PrivacyRulesError):
    """The output cannot be written (or would replace something that is not a decisions
    table); nothing was changed. The CLI exits 2. ``help`` says what to do."""

    def __init__(self, message: str, help: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.help = help

    def __str__(self) -> str:
        return self.message


def _text(value: str | None) -> str | None:
    if value is None or (value.isascii() and "\x00" not in value):
        return value
    if not _UNSAFE.search(value):
        return value
    return value.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def long_rows(result: Result, questions: Sequence[str], as_of: date, pack_version: str) -> Iterator[tuple[Any, ...]]:
    """The long-format rows of one result, in :data:`COLUMNS` order (dates as ``date``)."""
    rid = _text(result.record_id)
    loc = _text(result.locator)
    problem = _text(result.problem)
    for q, a in zip(questions, result.answers):
        basis = a.basis
        yield (result.row, loc, rid, q, a.outcome._value_, a.rule_id, basis.id if basis else None,
               basis.article if basis else None, a.keep_until, a.reason_code, _text(a.reason),
               problem or _text(a.problem), as_of,
               pack_version)


def jsonl_line(result: Result, questions: Sequence[str]) -> str:
    """``evaluate``'s JSON line for one result: the fields it always had (line, record_id,
    answers with question, outcome, rule_id, keep_until, problem; problem), then row and
    locator, and per answer basis, article, reason_code and reason.

    The text is exactly ``json.dumps(obj, ensure_ascii=False) + "\\n"`` of that object
    (``jsonl_object``; tests/property/test_jsonl_line.py), written from its parts: json.dumps
    was a third of the row engine's time per JSON line (issue 12)."""
    parts = ['{"line": ', _json(result.line), ', "record_id": ', _json(result.record_id), ', "answers": [']
    first = True
    for q, a in zip(questions, result.answers):
        b = a.basis
        ku = a.keep_until
        parts.append(f'{"" if first else ", "}{{"question": {_json(q)}, "outcome": "{a.outcome._value_}", '
                     f'"rule_id": {_json(a.rule_id)}, "keep_until": {_json(ku.isoformat()) if ku else "null"}, '
                     f'"problem": {_json(a.problem)}, "basis": {_json(b.id) if b else "null"}, '
                     f'"article": {_json(b.article) if b else "null"}, "reason_code": {_json(a.reason_code)}, '
                     f'"reason": {_json(a.reason)}}}')
        first = False
    parts.append(f'], "problem": {_json(result.problem)}, "row": {_json(result.row)}, '
                 f'"locator": {_json(result.locator)}}}\n')
    return "".join(parts)


def jsonl_object(result: Result, questions: Sequence[str]) -> dict[str, Any]:
    """The object ``jsonl_line`` writes (the plain definition of its text)."""
    answers = []
    for q, a in zip(questions, result.answers):
        b = a.basis
        answers.append({"question": q, "outcome": a.outcome._value_, "rule_id": a.rule_id,
                        "keep_until": a.keep_until.isoformat() if a.keep_until else None, "problem": a.problem,
                        "basis": b.id if b else None, "article": b.article if b else None,
                        "reason_code": a.reason_code, "reason": a.reason})
    return {"line": result.line, "record_id": result.record_id, "answers": answers,
            "problem": result.problem, "row": result.row, "locator": result.locator}


# what json.dumps(..., ensure_ascii=False) escapes in a string: the quote, the backslash and
# the control characters U+0000-U+001F (nothing else: not DEL, not U+2028, not a lone surrogate)
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')
_encode_text = json.encoder.encode_basestring  # json.dumps's own string writer (ensure_ascii=False)


def _json(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)`` for one value of a JSON line."""
    if value is None:
        return "null"
    t = type(value)
    if t is str:
        if _JSON_ESCAPED.search(value) is None:
            return f'"{value}"'
        return _encode_text(value)
    if t is int:
        return int.__repr__(value)
    return json.dumps(value, ensure_ascii=False)


class Sink:
    """Where answers go. ``write`` each result, then ``commit``; ``abort`` on failure."""

    def write(self, result: Result) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        """Make everything written visible at once."""

    def abort(self) -> None:
        """Throw away everything written; the previous output stays as it was."""


class JsonlSink(Sink):
    """JSON Lines to a text stream (the CLI gives an atomic file writer or stdout)."""

    def __init__(self, stream: TextIO, questions: Sequence[str]) -> None:
        self.stream = stream
        self.questions = list(questions)

    def write(self, result: Result) -> None:
        self.stream.write(jsonl_line(result, self.questions))


class CsvSink(Sink):
    """The long format as CSV with a header row, to a text stream."""

    def __init__(self, stream: TextIO, questions: Sequence[str], as_of: date, pack_version: str) -> None:
        self.questions = list(questions)
        self.as_of = as_of
        self.pack_version = pack_version
        self.writer = csv.writer(stream, lineterminator="\n")
        self.writer.writerow(COLUMN_NAMES)

    def write(self, result: Result) -> None:
        self.writer.writerows(long_rows(result, self.questions, self.as_of, self.pack_version))


class _Staged(Sink):
    """Stages the long rows in a CSV file in a private temp folder (bounded memory, fast bulk
    loads into DuckDB and PostgreSQL), loaded into the real output at commit."""

    def __init__(self, questions: Sequence[str], as_of: date, pack_version: str, folder: str | None = None) -> None:
        self.questions = list(questions)
        self.as_of = as_of
        self.pack_version = pack_version
        try:
            self.tmpdir = tempfile.mkdtemp(prefix=".privacy-rules-", dir=folder)
            self.staged = os.path.join(self.tmpdir, "decisions.csv")
            self.fh = open(self.staged, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise SinkError(f"cannot stage the decisions in a temp folder: {exc.strerror or exc}") from None
        self.writer = csv.writer(self.fh, lineterminator="\n")
        self.count = 0

    def write(self, result: Result) -> None:
        try:
            for row in long_rows(result, self.questions, self.as_of, self.pack_version):
                self.writer.writerow(row)
                self.count += 1
        except OSError as exc:
            raise SinkError(f"cannot stage the decisions: {exc.strerror or exc}") from None

    def _close_stage(self) -> None:
        try:
            self.fh.close()
        except OSError as exc:
            raise SinkError(f"cannot stage the decisions: {exc.strerror or exc}") from None

    def _cleanup(self) -> None:
        try:
            self.fh.close()
        except OSError:
            pass
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def abort(self) -> None:
        self._cleanup()

    def _duckdb_read(self) -> str:
        """SQL reading the staged file back with the long format's types (the path is parameter 1)."""
        types = {"int": "BIGINT", "text": "VARCHAR", "date": "DATE"}
        cols = ", ".join(f"'{c}': '{types[t]}'" for c, t in COLUMNS)
        return ("SELECT * FROM read_csv(?, header = false, columns = {" + cols + "}, delim = ',', quote = '\"', "
                "escape = '\"', new_line = '\\n', auto_detect = false)")


class ParquetSink(_Staged):
    """The long format as a Parquet file, written by DuckDB, renamed into place at commit."""

    def __init__(self, path: str, questions: Sequence[str], as_of: date, pack_version: str) -> None:
        self.path = path
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            raise SinkError(f"cannot write `{shown(path, 200)}`: it is a directory; give a file name")
        if not os.path.isdir(folder):
            raise SinkError(f"cannot write `{shown(path, 200)}`: No such file or directory")
        super().__init__(questions, as_of, pack_version, folder)

    def commit(self) -> None:
        from .sources._sql import duckdb_connect

        try:
            self._close_stage()
            tmp = os.path.join(self.tmpdir, "decisions.parquet")
            con = duckdb_connect(None, read_only=False)
            try:
                con.execute(f"COPY ({self._duckdb_read()}) TO '{tmp.replace(chr(39), chr(39) * 2)}' "
                            "(FORMAT parquet)", [self.staged])
            finally:
                con.close()
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)
            os.replace(tmp, self.path)
        except SinkError:
            raise
        except Exception as exc:  # noqa: BLE001 - OSError, duckdb.Error
            raise SinkError(f"cannot write `{shown(self.path, 200)}`: {_first_line(exc)}") from None
        finally:
            self._cleanup()


def _first_line(exc: BaseException) -> str:
    lines = (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).strip().splitlines()
    return shown(lines[0] if lines else type(exc).__name__, 300)


class TableSink(_Staged):
    """A decisions table in the database a source reads (SQLite, DuckDB, PostgreSQL), replaced
    atomically at commit: the rows go into a staging table, then in one transaction the old
    table is dropped and the staging table renamed to its name. A failure at any point rolls
    back: the old table stays, the staging table is gone.

    An existing table is replaced only if it is a decisions table (the columns of
    :data:`COLUMNS`): a typo'd ``--output-table contacts`` must not drop the contacts.
    """

    def __init__(self, source: Any, table: str, questions: Sequence[str], as_of: date, pack_version: str) -> None:
        from .sources._sql import quote_ident, split_name

        if source.connection is None or source.format not in ("sqlite", "duckdb", "postgres"):
            raise SinkError("--output-table writes into the database the records come from",
                            "read the records with --table or --query from SQLite, DuckDB or PostgreSQL")
        self.con = source.connection
        self.kind = source.format
        self.where = source.name
        if self.kind == "sqlite":
            quote_ident(table)
            if "." in table:
                raise SinkError(f"`{shown(table)}`: a SQLite output table is a plain name, without a schema")
            self.parts: tuple[str, ...] = (table,)
        else:
            self.parts = split_name(table)
        self.table = table
        base = self.parts[-1][:40]
        self.tmp_parts = self.parts[:-1] + (f"{base}_tmp_{secrets.token_hex(4)}",)
        self._check_target()  # before the sweep, so a wrong name fails at once
        super().__init__(questions, as_of, pack_version)

    # -- names --------------------------------------------------------------------------------
    def _ident(self, parts: tuple[str, ...]) -> Any:
        if self.kind == "postgres":
            from psycopg import sql

            return sql.Identifier(*parts)
        from .sources._sql import quote_ident

        return ".".join(quote_ident(p) for p in parts)

    def _sql(self, template: str, *names: tuple[str, ...]) -> Any:
        """``template`` with ``{}`` replaced by quoted identifiers (psycopg's sql for PostgreSQL)."""
        if self.kind == "postgres":
            from psycopg import sql

            return sql.SQL(template).format(*(self._ident(n) for n in names))
        return template.format(*(self._ident(n) for n in names))

    # -- checks -------------------------------------------------------------------------------
    def _columns_of(self, parts: tuple[str, ...]) -> list[str] | None:
        """The columns of an existing table ``parts`` in order, or None if there is none."""
        cur = self.con.cursor()
        if self.kind == "sqlite":
            rows = cur.execute("SELECT name FROM pragma_table_info(?)", (parts[-1],)).fetchall()
            exists = cur.execute("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ? "
                                 "COLLATE NOCASE", (parts[-1],)).fetchall()
            return [str(r[0]) for r in rows] if exists else None
        if self.kind == "duckdb":
            args: list[Any] = [parts[-1]]
            schema_sql = "table_schema = current_schema()"
            if len(parts) == 2:
                schema_sql, args = "table_schema = ?", [parts[-1], parts[0]]
            q = ("SELECT column_name FROM information_schema.columns WHERE table_name = ? AND " + schema_sql
                 + " ORDER BY ordinal_position")
            rows = self.con.cursor().execute(q, args).fetchall()
            if rows:
                return [str(r[0]) for r in rows]
            t = self.con.cursor().execute("SELECT 1 FROM information_schema.tables WHERE table_name = ? AND "
                                          + schema_sql, args).fetchall()
            return [] if t else None
        schema_sql = "table_schema = current_schema()"
        args = [parts[-1]]
        if len(parts) == 2:
            schema_sql, args = "table_schema = %s", [parts[-1], parts[0]]
        cur.execute("SELECT 1 FROM information_schema.tables WHERE table_name = %s AND " + schema_sql, args)
        if not cur.fetchall():
            return None
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s AND " + schema_sql
                    + " ORDER BY ordinal_position", args)
        return [str(r[0]) for r in cur.fetchall()]

    def _check_target(self) -> None:
        try:
            cols = self._columns_of(self.parts)
        except SinkError:
            raise
        except Exception as exc:  # noqa: BLE001 - the driver's errors
            raise SinkError(f"{self.where}: cannot look up table `{shown(self.table)}`: {_first_line(exc)}") from None
        if cols is not None and sorted(cols) != sorted(COLUMN_NAMES):
            raise SinkError(f"{self.where}: refusing to replace table `{shown(self.table)}`: it is not a decisions "
                            "table written by privacy-rules (its columns differ)",
                            "choose another --output-table name, or drop that table yourself if it may go")

    # -- commit ------------------------------------------------------------------------------
    def commit(self) -> None:
        try:
            self._close_stage()
            if self.kind == "postgres":
                self._commit_postgres()
            elif self.kind == "duckdb":
                self._commit_duckdb()
            else:
                self._commit_sqlite()
        except SinkError:
            self._rollback()
            raise
        except Exception as exc:  # noqa: BLE001 - the driver's errors, OSError
            self._rollback()
            raise SinkError(f"{self.where}: cannot write table `{shown(self.table)}`: {_first_line(exc)}; "
                            "the table is unchanged") from None
        finally:
            self._cleanup()

    def abort(self) -> None:
        self._rollback()
        self._cleanup()

    def _rollback(self) -> None:
        try:
            if self.kind == "postgres":
                self.con.rollback()
            elif getattr(self, "_in_tx", False):
                self.con.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - nothing more to undo when the connection is gone
            pass
        self._in_tx = False

    def _swap(self, cur: Any) -> None:
        """In the open transaction: check the target again, drop it, rename the staging table."""
        self._check_target()
        if self._columns_of(self.parts) is not None:
            cur.execute(self._sql("DROP TABLE {}", self.parts))
        cur.execute(self._sql("ALTER TABLE {} RENAME TO {}", self.tmp_parts, (self.parts[-1],)))

    def _create(self, types: dict[str, str]) -> Any:
        if self.kind == "postgres":
            from psycopg import sql

            cols = sql.SQL(", ").join(sql.SQL("{} " + types[t]).format(sql.Identifier(c)) for c, t in COLUMNS)
            return sql.SQL("CREATE TABLE {} ({})").format(self._ident(self.tmp_parts), cols)
        cols_text = ", ".join(f"{self._ident((c,))} {types[t]}" for c, t in COLUMNS)
        return f"CREATE TABLE {self._ident(self.tmp_parts)} ({cols_text})"

    def _commit_sqlite(self) -> None:
        cur = self.con.cursor()
        cur.execute("BEGIN IMMEDIATE")
        self._in_tx = True
        cur.execute(self._create({"int": "INTEGER", "text": "TEXT", "date": "TEXT"}))
        insert = (f"INSERT INTO {self._ident(self.tmp_parts)} VALUES (" + ", ".join("?" * len(COLUMNS)) + ")")
        with open(self.staged, encoding="utf-8", newline="") as fh:
            batch: list[list[Any]] = []
            for row in csv.reader(fh):
                batch.append([None if v == "" else (int(v) if i == 0 else v) for i, v in enumerate(row)])
                if len(batch) >= 5000:
                    cur.executemany(insert, batch)
                    batch.clear()
            if batch:
                cur.executemany(insert, batch)
        self._swap(cur)
        cur.execute("COMMIT")
        self._in_tx = False

    def _commit_duckdb(self) -> None:
        cur = self.con
        cur.execute("BEGIN TRANSACTION")
        self._in_tx = True
        cur.execute(f"CREATE TABLE {self._ident(self.tmp_parts)} AS {self._duckdb_read()}", [self.staged])
        self._swap(cur)
        cur.execute("COMMIT")
        self._in_tx = False

    def _commit_postgres(self) -> None:
        from psycopg import sql

        con = self.con
        cur = con.cursor()
        cur.execute(self._create({"int": "bigint", "text": "text", "date": "date"}))
        copy_sql = sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(self._ident(self.tmp_parts))
        with cur.copy(copy_sql) as copy, open(self.staged, "rb") as fh:
            while True:
                chunk = fh.read(1 << 16)
                if not chunk:
                    break
                copy.write(chunk)
        self._swap(cur)
        con.commit()


def output_format(path: str | None, fmt: str | None) -> str:
    """The output format: ``fmt`` if given, else from ``path``'s extension, else jsonl."""
    if fmt:
        return fmt
    if path:
        return EXTENSIONS.get(os.path.splitext(path)[1].lower(), "jsonl")
    return "jsonl"


__all__ = ["COLUMNS", "COLUMN_NAMES", "CsvSink", "FORMATS", "JsonlSink", "ParquetSink", "Sink", "SinkError",
           "TableSink", "jsonl_line", "jsonl_object", "long_rows", "output_format"]
