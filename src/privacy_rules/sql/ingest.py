"""Records into the layout tables of a DuckDB sweep (sql/layout.py), and the rows the SQL path
must leave to the row engine.

Each input row is ``vouched`` when the row engine would read it as a valid record (the
record checker says so: records.py through Policy.facts) and the layout holds it exactly
(load.add_record); it then goes into the layout tables, keyed by its row number (not its id:
an input may repeat an id, and the row engine decides each row on its own), with its locator,
line, id and JSON text in the ``pr_meta`` table. Every other row (unreadable, not a valid
record, an undated date ``{"on_or_before": D}``, an id with control characters) is ``held``:
the caller gives it to the row engine, which words its problem.

Two ways in:

* :class:`ItemLoader`: rows from privacy_rules.pipeline.items (every source, every profile),
  checked in Python, staged as CSV and bulk loaded. Exact; Python per row.
* :func:`load_jsonl`: a JSON Lines file read by DuckDB itself (read_csv of whole lines, parsed
  by its JSON functions), with a conservative SQL test of which lines the SQL may decide; the
  rest are re-read by the row engine. No Python per row.
"""

from __future__ import annotations

import csv
import json
import os
import re
from typing import Any, Iterable, Iterator, Mapping

from ..pipeline import Item
from ..policy import Policy
from ..dates import MAX_DAY, MIN_DAY
from ..records import (ID_LISTS, LIST_FIELDS, MAX_ID_LENGTH, MAX_LIST, RELATIONSHIP_FIELDS, TOP_FIELDS, TOP_SCALARS,
                       RecordInvalid, parse_record)
from .layout import RECORDS, TABLES, ddl
from .load import LayoutError, add_record, empty_rows

META = "pr_meta"
#: ``raw``: the row's JSON text for the row engine; ``len``: or, when NULL, the byte length of
#: the JSON Lines file's line (re-read by offset, JsonLines)
META_COLUMNS = (("row", "BIGINT"), ("locator", "VARCHAR"), ("line", "BIGINT"), ("rid", "VARCHAR"), ("raw", "VARCHAR"),
                ("len", "INTEGER"))
#: NULL in the staging files (csv.QUOTE_NONNUMERIC quotes None as "" before Python 3.12); a
#: record holding this character anywhere is held for the row engine
_NULL = "\x01"
_DUCK_TYPES = {"text": "VARCHAR", "int": "INTEGER", "bool": "BOOLEAN", "double": "DOUBLE"}


def create_tables(con: Any) -> None:
    for stmt in ddl("duckdb").split(";"):
        if stmt.strip():
            con.execute(stmt)
    con.execute(f"CREATE TABLE {META} (" + ", ".join(f'"{c}" {t}' for c, t in META_COLUMNS) + ")")


def _plain(text: str) -> bool:
    """Text the SQL writes as the row engine does: no control characters (JSON escapes them as
    \\uXXXX, CSV sinks escape NUL) and no surrogates."""
    return text.isprintable() or not any(ord(c) < 0x20 for c in text)


class ItemLoader:
    """Stages vouched items as CSV files in ``folder`` (one per table), loads them at
    :meth:`load`; held items are yielded by :meth:`feed` for the caller to keep."""

    def __init__(self, con: Any, policy: Policy, folder: str) -> None:
        self.con = con
        self.policy = policy
        self.folder = folder
        self.files = {t.name: open(os.path.join(folder, t.name + ".csv"), "w", encoding="utf-8", newline="")
                      for t in TABLES}
        self.files[META] = open(os.path.join(folder, META + ".csv"), "w", encoding="utf-8", newline="")
        self.writers = {name: csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
                        for name, fh in self.files.items()}
        self.vouched = 0

    def vouch(self, it: Item) -> bool:
        """Stage ``it`` if the SQL may decide it; False (nothing staged) if the row engine must."""
        if it.problems:
            return False
        rec = it.record
        raw: str | None = None
        try:
            if isinstance(rec, (str, bytes, bytearray)):
                raw = rec if isinstance(rec, str) else bytes(rec).decode("utf-8")
                rec = parse_record(rec)
            facts = self.policy.facts(rec)
        except (RecordInvalid, UnicodeDecodeError):
            return False
        if facts.undated or not isinstance(rec, dict):
            return False
        rid = rec.get("id")
        if not isinstance(rid, str) or not _plain(rid) or not _plain(it.locator):
            return False
        rows = empty_rows()
        try:
            add_record(rows, {**rec, "id": str(it.row)})
        except LayoutError:
            return False
        if raw is None or "\n" in raw.rstrip("\r\n"):
            try:
                raw = json.dumps(rec, ensure_ascii=False, allow_nan=False)
            except (TypeError, ValueError):
                return False
        raw = raw.rstrip("\r\n")
        if _NULL in raw or "\\u0001" in raw:  # the staging files' NULL marker: never a value
            return False
        for name, data in rows.items():
            if data:
                self.writers[name].writerows(tuple(_NULL if v is None else v for v in r) for r in data)
        self.writers[META].writerow((it.row, it.locator, _NULL if it.line is None else it.line, rid, raw, _NULL))
        self.vouched += 1
        return True

    def feed(self, its: Iterable[Item]) -> Iterator[Item]:
        """The held items of ``its``, in order, staging the vouched ones."""
        for it in its:
            if not self.vouch(it):
                yield it

    def load(self) -> None:
        for fh in self.files.values():
            fh.close()
        for t in (*TABLES, None):
            name = META if t is None else t.name
            cols = META_COLUMNS if t is None else tuple((c.name, _DUCK_TYPES[c.type]) for c in t.columns)
            spec = ", ".join(f"'{c}': '{ty}'" for c, ty in cols)
            path = os.path.join(self.folder, name + ".csv")
            if os.path.getsize(path) == 0:
                continue
            self.con.execute(f'INSERT INTO "{name}" SELECT * FROM read_csv(?, header = false, columns = {{{spec}}}, '
                             "delim = ',', quote = '\"', escape = '\"', nullstr = ?, auto_detect = false)", [path, _NULL])
            os.unlink(path)


__all__ = ["ItemLoader", "JsonLines", "META", "META_COLUMNS", "RECORDS", "create_tables"]


# --- JSON Lines read by DuckDB itself ----------------------------------------------------------------

# a blank line of spaces or tabs after a newline (an empty one is found by mm.find(b"\n\n")):
# the pattern starts with a literal, so the regex engine jumps from newline to newline
_BLANK_INNER = re.compile(rb"\n[ \t]+\n")
_ID_RE = "[a-z][a-z0-9_]*"  # records.ID_FULL
_FACT_KEY = "[a-z][a-z0-9_]*"  # a fact name the SQL path reads from a JSON path without quoting
_LINES = "pr_lines"
_J = "pr_jsonl"
_TYPED = "pr_typed"


def _q(text: str) -> str:
    """A SQL string literal of a layout name or a fixed pattern (never of input text)."""
    assert "'" not in text
    return f"'{text}'"


def _type_in(expr: str, types: tuple[str, ...], absent_ok: bool = True) -> str:
    t = ", ".join(_q(x) for x in types)
    return f"(json_type({expr}) IS NULL OR json_type({expr}) IN ({t}))" if absent_ok else f"json_type({expr}) IN ({t})"


def _keys_ok(obj: str, allowed: Iterable[str] | None, pattern: str | None = None) -> str:
    """The object ``obj`` (JSON) has distinct keys, each one of ``allowed`` (or matching ``pattern``)."""
    keys = f"json_keys({obj})"
    out = [f"len({keys}) = len(list_distinct({keys}))"]
    if allowed is not None:
        out.append(f"list_has_all([{', '.join(_q(k) for k in sorted(allowed))}]::VARCHAR[], {keys})")
    if pattern is not None:
        out.append(f"coalesce(list_bool_and(list_transform({keys}, lambda k: regexp_full_match(k, {_q(pattern)}))), true)")
    return "(" + " AND ".join(out) + ")"


def _top_keys_ok() -> str:
    """The line's keys are distinct record fields and no value is null.

    A line without the text ``null`` has no null value, so each of its keys is a field of
    ``s`` (from_json matches names exactly) exactly when it is distinct and known: counting
    ``s``'s present fields against the line's keys proves both without sorting the keys
    (list_distinct and list_has_all per line were a third of the vouching time). A line with
    ``null`` somewhere takes the full test."""
    present = " + ".join(f'CAST(s."{k}" IS NOT NULL AS INT)' for k in sorted(TOP_FIELDS))
    no_null = _all("json_extract(raw, '$.*')", "json_type(e) <> 'NULL'")
    full = f"({_keys_ok('raw', TOP_FIELDS)} AND {no_null})"
    return f"(CASE WHEN contains(raw, 'null') THEN {full} ELSE len(json_keys(raw)) = {present} END)"


def _all(items: str, cond: str, var: str = "e") -> str:
    """Every element ``var`` of the list ``items`` meets ``cond`` (true for an empty list)."""
    return f"coalesce(list_bool_and(list_transform({items}, lambda {var}: {cond})), true)"


def _number_ok(e: str, bound: str) -> str:
    # CASE, not OR: DuckDB evaluates both sides of an OR (a cast of text would fail)
    return (f"(CASE WHEN json_type({e}) IN ('DOUBLE', 'BIGINT', 'UBIGINT') THEN "
            f"coalesce(isfinite(TRY_CAST({e} AS DOUBLE)) AND abs(TRY_CAST({e} AS DOUBLE)) <= {bound}, false) ELSE true END)")


def _entry_ok(fields: Mapping[str, str]) -> str:
    """One list entry ``e`` (JSON): an object of the entry's fields, each of its kind or null."""
    conds = ["json_type(e) = 'OBJECT'", _keys_ok("e", fields)]
    for f, kind in fields.items():
        path = f"e, {_q('$.' + f)}"
        if kind in ("date", "str") or kind.startswith("enum:"):
            conds.append(_type_in(path, ("VARCHAR", "NULL")))
        elif kind == "bool":
            conds.append(_type_in(path, ("BOOLEAN", "NULL")))
        elif kind == "int":
            v = f"json_extract({path})"
            conds.append(f"({_type_in(path, ('NULL',))} OR (json_type({path}) IN ('BIGINT', 'UBIGINT') AND "
                         f"coalesce(TRY_CAST({v} AS DOUBLE) BETWEEN {MIN_DAY.year} AND {MAX_DAY.year}, false)))")
        elif kind == "ids":
            items = f"json_extract({path[:-1]}[*]')"
            elem = f"json_type(s) = 'VARCHAR' AND regexp_full_match(json_extract_string(s, '$'), {_q(_ID_RE)})"
            conds.append(f"({_type_in(path, ('NULL',))} OR (json_type({path}) = 'ARRAY' AND {_all(items, elem, 's')}))")
        else:
            return "false"
    return "(" + " AND ".join(conds) + ")"


def _json_struct() -> str:
    """from_json's structure with every top-level field as JSON text: one parse of the line, then
    checks on the (small) parts."""
    return "{" + ", ".join(f'"{k}": "JSON"' for k in sorted(TOP_FIELDS)) + "}"


def _typed_struct() -> str:
    """from_json's structure for a vouched line: the layout's types (facts stay JSON)."""
    kinds = {"date": "VARCHAR", "str": "VARCHAR", "bool": "BOOLEAN", "int": "INTEGER", "ids": ["VARCHAR"]}
    st: dict[str, Any] = {k: "VARCHAR" for k in TOP_SCALARS}
    st["relationship"] = {k: "VARCHAR" for k in RELATIONSHIP_FIELDS}
    for name in ID_LISTS:
        st[name] = ["VARCHAR"]
    for name, (fields, _req) in LIST_FIELDS.items():
        st[name] = [{f: kinds.get(kind, "VARCHAR") for f, kind in fields.items()}]
    st["facts"] = "JSON"
    return json.dumps(st)


def vouch_sql(policy: Policy) -> str:
    """A boolean SQL expression over ``raw`` (one JSON line) and ``s`` (its top-level fields as
    JSON text, :func:`_json_struct`): true only when the row engine reads the line as a record
    whose every value the layout holds as the loader would (load.add_record), so that the
    query's answer is the row engine's. Conservative: a line it refuses is decided by the row
    engine, so refusing too much costs time, never exactness. It refuses backslashes (escapes),
    control characters, trailing commas and NaN (which DuckDB's JSON reader accepts and Python's
    does not), duplicate keys, unknown fields, a top-level null, a value of the wrong JSON type,
    numbers a DOUBLE cannot hold exactly, nested values under ``host`` and fact names that are
    not ids."""
    conds = ["s IS NOT NULL", _top_keys_ok(),
             "json_type(s.id) = 'VARCHAR'",
             f"strlen(json_extract_string(s.id, '$')) BETWEEN 1 AND {MAX_ID_LENGTH}"]
    for k in TOP_SCALARS:
        if k != "id":
            conds.append(f"(s.{k} IS NULL OR json_type(s.{k}) = 'VARCHAR')")
    rel_values = _all("json_extract(s.relationship, '$.*')", "json_type(e) IN ('VARCHAR', 'NULL')")
    conds.append(f"(s.relationship IS NULL OR (json_type(s.relationship) = 'OBJECT' AND "
                 f"{_keys_ok('s.relationship', RELATIONSHIP_FIELDS)} AND {rel_values}))")
    no_data_categories = not policy.pack.vocabulary.data_categories
    for name, kind in ID_LISTS.items():
        items = f"json_extract(s.{name}, '$[*]')"
        elem = "json_type(e) = 'VARCHAR'"
        if kind == "ids":
            elem += f" AND regexp_full_match(json_extract_string(e, '$'), {_q(_ID_RE)})"
        else:
            elem += " AND json_extract_string(e, '$') <> ''"
        ok = f"(json_type(s.{name}) = 'ARRAY' AND len({items}) <= {MAX_LIST} AND {_all(items, elem)})"
        if name == "data_categories" and no_data_categories:  # the row engine's PR320, which the query skips
            ok = f"(json_type(s.{name}) = 'ARRAY' AND len({items}) = 0)"
        conds.append(f"(s.{name} IS NULL OR {ok})")
    for name, (fields, _req) in LIST_FIELDS.items():
        items = f"json_extract(s.{name}, '$[*]')"
        conds.append(f"(s.{name} IS NULL OR (json_type(s.{name}) = 'ARRAY' "
                     f"AND len({items}) <= {MAX_LIST} AND {_all(items, _entry_ok(fields))}))")
    scalar = "json_type(e) IN ('VARCHAR', 'BOOLEAN', 'NULL', 'BIGINT', 'UBIGINT', 'DOUBLE') AND "
    for name, pattern, bound in (("facts", _FACT_KEY, "9007199254740992"), ("host", None, "1e300")):
        values = _all(f"json_extract(s.{name}, '$.*')", scalar + _number_ok("e", bound))
        conds.append(f"(s.{name} IS NULL OR (json_type(s.{name}) = 'OBJECT' AND "
                     f"{_keys_ok('s.' + name, None, pattern)} AND {values}))")
    # under CASE: an AND in a projection evaluates every term on every row, and the terms on
    # ``raw`` (json_keys ...) fail on a line that is not JSON, where ``s`` is NULL
    return "CASE WHEN s IS NOT NULL THEN coalesce(" + "\n AND ".join(conds[1:]) + ", false) ELSE false END"


# the cheap tests first: only a line that passes them is parsed into ``s``
_PRE = ("json_valid(raw) AND NOT contains(raw, '\\') AND NOT regexp_matches(raw, '[\\x00-\\x1f]') AND "
        "NOT regexp_matches(raw, ',[ ]*[]}]') AND json_type(raw) = 'OBJECT'")


class NotNative(Exception):
    """The file is not one the native reader takes as is (the caller uses ItemLoader)."""


#: bytes prescan reads at a time (tests lower it to put lines across the chunk edges)
PRESCAN_CHUNK = 8 << 20
_NONBLANK = re.compile(rb"[^ \t]")


def prescan(path: str, limit: int, chunk: int | None = None) -> int:
    """The file's size if DuckDB may read it line by line as the row engine's LineReader does:
    no blank line (the row engine skips them, DuckDB's reader too, but their numbers count), no
    carriage return, no byte-order mark, no U+0001 (the reader's column separator), no line
    longer than ``limit``. Raises NotNative otherwise.

    Read in chunks, not mapped: a mapping of the whole file counted in the sweep's resident
    memory as its pages were read (3.7 GB for 10M records). The tests are memchr-speed
    searches within a chunk; a line across a chunk's edge is followed by ``blank``: whether
    the line so far holds only spaces and tabs."""
    size = os.path.getsize(path)
    if size == 0:
        raise NotNative("empty")
    step = chunk or PRESCAN_CHUNK
    blank, length = True, 0  # the line under way: only blanks so far; its length so far
    with open(path, "rb") as fh:
        if fh.read(3) == b"\xef\xbb\xbf":
            raise NotNative("BOM")
        fh.seek(0)
        while True:
            c = fh.read(step)
            if not c:
                break
            if c.find(b"\r") >= 0 or c.find(b"\x01") >= 0:
                raise NotNative("CR or U+0001")
            i = c.find(b"\n")
            if i < 0:
                blank = blank and _NONBLANK.search(c) is None
                length += len(c)
                continue
            if blank and _NONBLANK.search(c, 0, i) is None:  # the line that ends here is blank
                raise NotNative("blank lines")
            # the lines wholly inside the chunk
            if c.find(b"\n\n", i) >= 0 or _BLANK_INNER.search(c, i) is not None:
                raise NotNative("blank lines")
            j = c.rfind(b"\n")
            blank = _NONBLANK.search(c, j + 1) is None
            length = len(c) - j - 1
    if length and blank:  # a last line of blanks without newline
        raise NotNative("blank lines")
    return size


def _csv_buffer(limit: int) -> int:
    """read_csv's buffer: DuckDB's default is 16 lines of max_line_size (305 MB for a 20 MB
    line limit, one block the memory limit had to hold whole: out of memory at 10M records)."""
    return max(8 << 20, 2 * (int(limit) + 2))


def load_jsonl(con: Any, policy: Policy, path: str, limit: int) -> int:
    """Read the JSON Lines file at ``path`` into the layout tables and ``pr_meta``; returns the
    number of lines. Lines the SQL may decide (:func:`vouch_sql`) go into the layout; every line
    is a row of ``pr_meta`` with its length in bytes (not its text: JsonLines re-reads it)."""
    size = prescan(path, limit)
    con.execute("SET preserve_insertion_order = true")  # rowid is then the line's position
    try:
        con.execute(f"CREATE TABLE {_LINES} AS SELECT raw FROM read_csv(?, columns = {{'raw': 'VARCHAR'}}, "
                    "header = false, delim = '\x01', quote = '', escape = '', auto_detect = false, "
                    f"strict_mode = false, max_line_size = {int(limit) + 2}, buffer_size = {_csv_buffer(limit)})", [path])
    except Exception as exc:  # noqa: BLE001 - duckdb.Error: invalid UTF-8 and the like
        raise NotNative(str(exc)) from None
    n, longest, total = con.execute(f"SELECT count(*), coalesce(max(strlen(raw)), 0), coalesce(sum(strlen(raw) + 1), 0) "
                                    f"FROM {_LINES}").fetchone()
    if longest > limit:
        con.execute(f"DROP TABLE {_LINES}")
        raise NotNative("a line over the limit")
    with open(path, "rb") as fh:
        fh.seek(size - 1)
        newline_last = fh.read(1) == b"\n"
    # the lines are the file's bytes, each with its newline (the last one's may be missing):
    # so a line's offset is the sum of the lengths before it (JsonLines re-reads by offset)
    if total != (size if newline_last else size + 1):
        con.execute(f"DROP TABLE {_LINES}")
        raise NotNative("DuckDB's lines are not the file's bytes")
    _vouch_and_load(con, policy, "line")
    return int(n)


def _vouch_and_load(con: Any, policy: Policy, unit: str) -> None:
    """pr_lines (``raw``, in input order) -> pr_jsonl (row, ok, rid and, for a JSON Lines file,
    len: the line's length in bytes; for a Parquet file, raw), the layout tables and the
    pr_meta view; ``unit`` names the locator: line (JSON Lines) or row (Parquet)."""
    parsed = (f"(SELECT rowid + 1 AS row, raw, CASE WHEN {_PRE} THEN from_json(raw, {_q(_json_struct())}) END AS s "
              f"FROM {_LINES})")
    typed = _q(_typed_struct())
    # the vouch test is written once per statement: DuckDB hoists a subexpression written
    # twice out of its CASE (common subexpressions), and would run JSON functions on lines
    # that are not JSON
    if unit == "line":
        # a line's text is not kept: the row engine re-reads the few lines it decides from the
        # file by their byte offsets (cli/_duck.py, JsonLines), which the lengths give. Every
        # line's text in DuckDB was the largest table of the sweep (the file's size again).
        # ``t`` (the typed record) is NULL exactly when the line is not vouched
        con.execute(f"CREATE TABLE {_TYPED} AS SELECT row, json_extract_string(s.id, '$') AS rid, strlen(raw) AS len, "
                    f"from_json(CASE WHEN {vouch_sql(policy)} THEN raw END, {typed}) AS t FROM {parsed}")
        con.execute(f"DROP TABLE {_LINES}")
        con.execute(f"CREATE TABLE {_J} AS SELECT row, t IS NOT NULL AS ok, CASE WHEN t IS NOT NULL THEN rid END AS rid, "
                    f"len, CAST(NULL AS VARCHAR) AS raw FROM {_TYPED}")
    else:
        # a Parquet row's JSON is built by DuckDB: kept for the rows the row engine decides
        con.execute(f"CREATE TABLE {_J} AS SELECT row, raw, ok, CAST(NULL AS INTEGER) AS len "
                    f"FROM (SELECT row, raw, {vouch_sql(policy)} AS ok FROM {parsed})")
        con.execute(f"DROP TABLE {_LINES}")
        # the vouched rows typed, only while the layout tables are filled
        con.execute(f"CREATE TABLE {_TYPED} AS SELECT row, from_json(raw, {typed}) AS t FROM {_J} WHERE ok")
    con.execute("SET preserve_insertion_order = false")
    _insert_layout(con, f"(SELECT row, t FROM {_TYPED} WHERE t IS NOT NULL)")
    con.execute(f"DROP TABLE {_TYPED}")
    # every row, vouched or not, in pr_meta (a view: stored once); the sweep gives the rows
    # outside the layout to the row engine, in their place
    line = "row" if unit == "line" else "NULL"
    rid = "rid" if unit == "line" else "CASE WHEN ok THEN json_extract_string(raw, '$.id') END"
    con.execute(f"DROP TABLE {META}")
    con.execute(f"CREATE VIEW {META} AS SELECT row, {_q(unit + ' ')} || row AS locator, CAST({line} AS BIGINT) AS line, "
                f"{rid} AS rid, raw, len FROM {_J}")


class JsonLines:
    """The lines of a JSON Lines file that :func:`load_jsonl` read, by byte offset: the row
    engine's input for a line the SQL does not word. The line is the same bytes DuckDB read
    (prescan and load_jsonl's length check make the file's lines DuckDB's lines). Read with
    pread, not a mapping, whose touched pages would count in the sweep's resident memory."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self._size = os.fstat(self._fd).st_size

    def line(self, offset: int, length: int) -> str:
        # a line starts after a newline (or at 0) and ends at one (or at the end of the file)
        end = offset + length
        start = offset - 1 if offset > 0 else 0
        data = os.pread(self._fd, end + 1 - start, start) if offset >= 0 else b""
        ok = (offset >= 0 and end <= self._size and len(data) == min(end + 1, self._size) - start
              and (offset == 0 or data[:1] == b"\n") and (end == self._size or data[-1:] == b"\n"))
        if not ok:
            raise RuntimeError(f"JSON Lines offset {offset} (+{length}) is not a line of the file")
        return data[offset - start:offset - start + length].decode("utf-8")

    def close(self) -> None:
        os.close(self._fd)


# --- Parquet read by DuckDB itself -------------------------------------------------------------------

#: leaf types a Parquet column may hold for the native path: to_json writes each as the flat
#: layout's Python value would be written (a DATE as YYYY-MM-DD); DOUBLE (NaN), TIMESTAMP
#: (isoformat's "T"), DECIMAL, BLOB ... take the row engine's reader
_LEAVES = frozenset({"varchar", "date", "boolean", "bigint", "integer", "smallint", "tinyint", "ubigint", "uinteger",
                     "usmallint", "utinyint", "null"})


def _type_ok(t: Any, names: frozenset[str] | None, depth: int = 0) -> bool:
    """A leaf of _LEAVES, or a list / struct of them (struct members named in ``names``; None:
    any name, at any depth: ``host``)."""
    tid = str(t.id)
    if tid in _LEAVES:
        return True
    if depth > 3:
        return False
    if tid == "list":
        return all(_type_ok(ct, names, depth + 1) for _n, ct in t.children)
    if tid == "struct":
        return all((names is None or n in names) and _type_ok(ct, None if names is None else frozenset(), depth + 1)
                   for n, ct in t.children)
    return False


def _parquet_columns(con: Any, path: str) -> list[tuple[str, str]]:
    """The columns of the Parquet file, when each is a record field the native path takes as
    the flat layout (sources/flat.py) reads it; NotNative otherwise (dotted columns, JSON
    text in a list column, a type to_json would write otherwise than the row engine)."""
    try:
        rel = con.read_parquet(path)
        cols = list(zip(rel.columns, rel.types))
    except Exception as exc:  # noqa: BLE001 - duckdb.Error: not Parquet, unreadable
        raise NotNative(str(exc)) from None
    names = [c for c, _t in cols]
    if "id" not in names or len(set(names)) != len(names):
        raise NotNative("no id column")
    for c, t in cols:
        tid = str(t.id)
        if c in TOP_SCALARS:
            ok = tid in _LEAVES
        elif c == "relationship":
            ok = tid == "struct" and _type_ok(t, frozenset(RELATIONSHIP_FIELDS))
        elif c in ("facts", "host"):
            ok = tid == "struct" and _type_ok(t, None)
        elif c in ID_LISTS:
            ok = tid == "list" and all(str(ct.id) in _LEAVES for _n, ct in t.children)
        elif c in LIST_FIELDS:
            fields = LIST_FIELDS[c][0]
            ok = tid == "list" and all(str(et.id) == "struct" and all(
                n in fields and (_type_ok(ft, frozenset()) if fields[n] == "ids" else str(ft.id) in _LEAVES)
                for n, ft in et.children) for _n, et in t.children)
        else:
            ok = False
        if not ok:
            raise NotNative(f"column {c}")
    return [(c, str(t.id)) for c, t in cols]


def load_parquet(con: Any, policy: Policy, path: str) -> int:
    """Read the Parquet file at ``path`` (flat layout, nested LIST<STRUCT> event lists) into the
    layout tables and ``pr_meta``: each row as the JSON the flat layout's record would be
    (NULL and empty text at the top level left out, NULL struct members left out), then as
    :func:`load_jsonl`. Returns the number of rows; NotNative for a file it does not take."""
    cols = _parquet_columns(con, path)
    parts = []
    for c, tid in cols:
        assert re.fullmatch(r"[a-z_0-9]+", c)  # a record field name (checked above)
        # the flat layout reads an empty text cell as an absent field
        parts.append(f'{c} := NULLIF("{c}", \'\')' if tid == "varchar" else f'{c} := "{c}"')
    con.execute("SET preserve_insertion_order = true")  # rowid is then the row's position
    try:
        con.execute(f"CREATE TABLE {_LINES} AS SELECT json_merge_patch('{{}}', to_json(struct_pack({', '.join(parts)}))) "
                    "AS raw FROM read_parquet(?)", [path])
    except Exception as exc:  # noqa: BLE001 - duckdb.Error
        con.execute(f"DROP TABLE IF EXISTS {_LINES}")
        raise NotNative(str(exc)) from None
    row = con.execute(f"SELECT count(*) FROM {_LINES}").fetchone()
    _vouch_and_load(con, policy, "row")
    return int(row[0]) if row else 0


def _insert_layout(con: Any, src: str) -> None:
    """The vouched lines' typed struct ``t`` (``src``: row, t) into the layout tables (as
    load.add_record fills them)."""
    cols = ["CAST(row AS VARCHAR)"]
    cols += [f"t.{k}" for k in TOP_SCALARS if k != "id"]
    cols += [f"t.relationship.{k}" for k in RELATIONSHIP_FIELDS]
    cols.append("t.subject_categories IS NOT NULL")  # vouched: a list when present, never null
    con.execute(f"INSERT INTO records SELECT {', '.join(cols)} FROM {src}")
    for name in ID_LISTS:
        if name == "systems":
            continue
        con.execute(f"INSERT INTO {name} SELECT CAST(row AS VARCHAR), unnest(t.{name}) FROM {src} "
                    f"WHERE t.{name} IS NOT NULL")
    for name, (fields, _req) in LIST_FIELDS.items():
        entries = (f"(SELECT row, unnest(t.{name}) AS e, unnest(range(len(t.{name}))) AS entry_no FROM {src} "
                   f"WHERE t.{name} IS NOT NULL)")
        out = ["CAST(row AS VARCHAR)", "entry_no"]
        for f, kind in fields.items():
            out.append(f"e.{f} IS NOT NULL" if kind == "ids" else f"e.{f}")
        con.execute(f"INSERT INTO {name} SELECT {', '.join(out)} FROM {entries}")
        for f, kind in fields.items():
            if kind == "ids":
                con.execute(f"INSERT INTO legal_hold_scopes SELECT CAST(row AS VARCHAR), entry_no, unnest(e.{f}) "
                            f"FROM {entries} WHERE e.{f} IS NOT NULL")
    con.execute("INSERT INTO facts SELECT CAST(row AS VARCHAR), k, "
                "CASE WHEN ty = 'VARCHAR' THEN json_extract_string(v, '$') END, "
                "CASE WHEN ty IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN TRY_CAST(v AS DOUBLE) END, "
                "CASE WHEN ty = 'BOOLEAN' THEN TRY_CAST(v AS BOOLEAN) END "
                "FROM (SELECT row, k, json_extract(f, '$.' || k) AS v, json_type(f, '$.' || k) AS ty "
                f"FROM (SELECT row, t.facts AS f, unnest(json_keys(t.facts)) AS k FROM {src} "
                "WHERE t.facts IS NOT NULL))")
