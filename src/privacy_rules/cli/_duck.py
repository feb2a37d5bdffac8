"""``evaluate --engine duckdb``: the sweep decided by the compiled SQL query in an embedded
DuckDB (sql/ingest.py loads, sql/sweep.py writes), with the row engine as the oracle for every
row the SQL cannot vouch for, so the output is the row engine's, byte for byte.

What the SQL path does not do falls back to the row engine, with a notice on stderr naming a
code (docs/codes.md, docs/engines.md), never silently:

* PR720 ``--plan`` (a retention plan reads the row engine's decisions);
* PR721 ``--format text`` (the text names missing facts and obligations: the row engine's words);
* PR722 the pack uses a construct the SQL compiler refuses (its reason, naming the rule);
* PR723 the duckdb package is not installed.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import deque
from contextlib import ExitStack, closing
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, TextIO

from .._escape import escape
from ..model import Question
from ..pipeline import Item, Result, evaluate_items
from ..policy import Policy
from ..sinks import CsvSink, JsonlSink, Sink, jsonl_line
from . import _common

ENGINES = ("row", "duckdb")
DEFAULT_MEMORY_LIMIT = "1GB"
_MEMORY = re.compile(r"\d{1,6}(\.\d{1,3})?\s?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
#: rows fetched from DuckDB at a time (and decided by the row engine where needed)
CHUNK = 65_536
#: rows whose answer text one query writes (sorted into row order within the range only)
TEXT_RANGE = 65_536


@dataclass(frozen=True, slots=True)
class DuckOptions:
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int | None = None
    query: Any = None  # the compiled sql.sweep.SweepQuery (compiled once, by fallback_reason)


def check_memory_limit(text: str) -> str:
    if not _MEMORY.fullmatch(text.strip()):
        raise _common.UsageFailure(f"--memory-limit: `{escape(text)}` is not a size such as 512MB or 2GB")
    return text.strip()


def notice(err: TextIO, code: str, text: str) -> None:
    print(f"notice {code}: --engine duckdb: {text}; the row engine writes this run", file=err)


def fallback_reason(policy: Policy, qs: list[Question], day: Any, *, plan: bool, kind: str) -> tuple[str, str] | Any:
    """(code, why) when this run cannot take the SQL path; else the compiled SweepQuery."""
    if plan:
        return "PR720", "--plan writes a retention plan from the row engine's decisions"
    if kind == "text":
        return "PR721", "text output gives the row engine's full reasons (missing facts, obligations)"
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return "PR723", "the duckdb package is not installed (pip install duckdb)"
    from ..sql.compiler import SqlUnsupported
    from ..sql.sweep import SweepUnsupported, sweep_query

    try:
        return sweep_query(policy, qs, day)
    except (SqlUnsupported, SweepUnsupported) as exc:
        return "PR722", f"the pack cannot be decided in SQL: {escape(str(exc))}"


class _Out:
    """Where the answers go: the SQL's text as is, the row engine's Results through the sink."""

    def __init__(self, sink: Sink, stream: TextIO | None, nq: int) -> None:
        self.sink = sink
        self.nq = nq
        if isinstance(sink, (JsonlSink, CsvSink)):
            assert stream is not None
            self.stream = stream
            self.staged = False
        else:
            self.stream = sink.fh  # type: ignore[attr-defined]  # _Staged: the CSV staging file
            self.staged = True

    def text(self, chunk: list[str]) -> None:
        self.stream.write("".join(chunk))
        if self.staged:
            self.sink.count += len(chunk) * self.nq  # type: ignore[attr-defined]

    def result(self, r: Result) -> None:
        self.sink.write(r)


def sweep(run: Any, its: Iterator[Item], sink: Sink, stream: TextIO | None, show: bool, source: Any,
          opts: DuckOptions, kind: str) -> dict[str, Any]:
    """Decide ``its`` through DuckDB into ``sink`` (as _Run.answers does with the row engine);
    returns counts (sql, row) of the rows each engine decided. ``kind``: jsonl, csv, parquet, table."""
    import duckdb

    from ..sql.ingest import ItemLoader, JsonLines, NotNative, create_tables, load_jsonl, load_parquet
    from ..sql.sweep import sweep_query

    policy: Policy = run.policy
    qs: list[Question] = run.qs
    sq = opts.query if opts.query is not None else sweep_query(policy, qs, run.day)
    out = _Out(sink, stream, len(qs))
    ok = False
    with tempfile.TemporaryDirectory(prefix=".privacy-rules-duckdb-") as tmp, ExitStack() as stack:
        con = duckdb.connect(os.path.join(tmp, "sweep.duckdb"))
        try:
            con.execute(f"SET memory_limit = '{opts.memory_limit}'")  # checked by check_memory_limit
            con.execute("SET preserve_insertion_order = false")
            # DuckDB's own progress bar prints to stdout, where the answers may go
            con.execute("SET enable_progress_bar = false")
            if opts.threads is not None:
                con.execute(f"SET threads = {int(opts.threads)}")
            create_tables(con)
            clock = _Clock()

            def start_status(text: str) -> None:  # a spinner per stage (one rich live display at a time)
                if show and clock.status is None:
                    from rich.console import Console

                    clock.status = stack.enter_context(Console(file=run.io_err).status(f"--engine duckdb: {text}"))

            held: deque[Item] = deque()
            native = getattr(run, "native", None)
            if native is not None:
                start_status("reading the input")
                try:
                    if getattr(run, "native_format", "jsonl") == "parquet":
                        load_parquet(con, policy, native)
                    else:
                        load_jsonl(con, policy, native, _common.MAX_LINE)
                except NotNative:
                    native = None
                    for t in ("pr_lines", "pr_jsonl", "pr_typed"):
                        con.execute(f"DROP TABLE IF EXISTS {t}")
            if native is None:
                loader = ItemLoader(con, policy, tmp)
                with _common.progress_bar(show, source.progress, run.io_err) as tick:
                    for it in its:
                        if not loader.vouch(it):
                            held.append(it)
                        tick()
                loader.load()
            start_status("checking the records")
            clock.lap("load", "checking the records")
            for stmt in sq.check_sql():
                con.execute(stmt)
            clock.lap("check", "deciding")
            con.execute(sq.wide_sql())
            clock.lap("decide", "writing the answers")
            lines = None
            if native is not None and getattr(run, "native_format", "jsonl") != "parquet":
                lines = _Reread(stack.enter_context(closing(JsonLines(native))))
            counts = _write(run, con, sq, held, out, "jsonl" if kind == "jsonl" else "csv", clock, lines)
            _add_sql_tally(run, con, sq, None)
            counts.update(clock.laps)
            counts["reader"] = "DuckDB" if native is not None else "Python"
            run._check_end()
            sink.commit()
            ok = True
            return counts
        finally:
            if not ok:
                sink.abort()
            con.close()


class _Clock:
    """Seconds per stage of a sweep (the engine line on stderr, benchmarks/bench_sql.py), and
    with ``status`` (a rich status on stderr, --progress) the stage under way."""

    def __init__(self, status: Any = None) -> None:
        import time

        self._now = time.perf_counter
        self.t = self._now()
        self.laps: dict[str, float] = {}
        self.status = status

    def lap(self, name: str, next_stage: str | None = None) -> None:
        t = self._now()
        self.laps[name] = self.laps.get(name, 0.0) + t - self.t
        self.t = t
        if self.status is not None and next_stage is not None:
            self.status.update(f"--engine duckdb: {next_stage}")


def scenarios_sql(policy: Policy, paths: list[str] | None, err: TextIO) -> tuple[Any, tuple[str, str] | None]:
    """``test --engine duckdb``: (the report, None), or (None, (code, why)) to fall back."""
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return None, ("PR723", "the duckdb package is not installed (pip install duckdb)")
    from ..sql.compiler import SqlUnsupported
    from ..sql.scenarios import run_pack_scenarios_sql

    try:
        run = run_pack_scenarios_sql(policy, paths)
    except SqlUnsupported as exc:
        return None, ("PR722", f"the pack cannot be decided in SQL: {escape(str(exc))}")
    print(f"engine duckdb: {run.sql:,} scenarios decided in SQL ({run.days:,} as_of days), {run.row_only:,} by the "
          "row engine alone (records the SQL layout cannot hold)", file=err)
    return run.report, None


class _Reread:
    """The row engine's input for the lines of a JSON Lines file DuckDB read (load_jsonl keeps
    no line's text): every line is a row, 1, 2, ..., so a line's byte offset is the sum of
    the lengths (and newlines) of the rows before it, which the text query gives in order."""

    def __init__(self, lines: Any) -> None:
        self.lines = lines
        self.row = 1  # the next row
        self.offset = 0  # its byte offset

    def fill(self, rows: list[Any]) -> list[Any]:
        """``rows`` (the next rows, in order) with ``raw`` read from the file where the row engine needs it."""
        if rows[0][0] != self.row or rows[-1][0] != self.row + len(rows) - 1:
            raise RuntimeError(f"rows {rows[0][0]}..{rows[-1][0]} do not follow row {self.row - 1}")
        off = self.offset
        out = rows
        for i, r in enumerate(rows):
            if r[1] is None:
                if out is rows:
                    out = list(rows)
                out[i] = (r[0], r[1], self.lines.line(off, r[6]), *r[3:])
            off += r[6] + 1
        self.row += len(rows)
        self.offset = off
        return out


def _write(run: Any, con: Any, sq: Any, held: deque[Item], out: _Out, text_kind: str, clock: _Clock,
           lines: _Reread | None = None) -> dict[str, Any]:
    from ..sql.ingest import META

    # the text in row order, one range of rows at a time: each range's answers are sorted on
    # their own (a few MB), where one ORDER BY over every row held the whole output text in
    # DuckDB at once (1.3 GB peak RSS for a million records, growing with the input)
    lo, hi = con.execute(f"SELECT min(row), max(row) FROM {META}").fetchone()
    n_sql = n_row = 0
    cur = con.cursor()  # closed below; the connection stays open
    try:
        for first in range(lo, hi + 1, TEXT_RANGE) if lo is not None else ():
            cur.execute(sq.text_sql(text_kind, limit=(first, min(first + TEXT_RANGE - 1, hi))))
            clock.lap("text")
            while True:
                rows = cur.fetchmany(CHUNK)
                clock.lap("text")
                if not rows:
                    break
                if lines is not None:
                    rows = lines.fill(rows)
                a, b = _write_chunk(run, con, sq, held, out, rows, clock)
                n_sql += a
                n_row += b
        if held:
            results = _decide(run, list(held))
            for it in held:
                _emit(run, out, results[it.row], con, sq)
            n_row += len(held)
    finally:
        cur.close()
    return {"sql": n_sql, "row": n_row}


def _write_chunk(run: Any, con: Any, sq: Any, held: deque[Item], out: _Out, rows: list[Any],
                 clock: _Clock) -> tuple[int, int]:
    """Write ``rows`` (in row order) and the held items before their last row; (rows the SQL
    wrote, rows the row engine decided)."""
    last = rows[-1][0]
    todo: list[Item] = []
    for row, text, raw, loc, line, rid, _len in rows:
        if text is None:
            todo.append(Item(row, loc, line, raw, (), rid))
    mine = []
    while held and held[0].row <= last:
        mine.append(held.popleft())
    if not todo and not mine:
        out.text([r[1] for r in rows])
        clock.lap("write")
        return len(rows), 0
    n_sql = n_row = 0
    clock.lap("write")
    results = _decide(run, sorted(todo + mine, key=lambda i: i.row))
    clock.lap("row engine")
    buf: list[str] = []
    h = 0
    mine_rows = [i.row for i in mine]
    for row, text, *_ in rows:
        while h < len(mine_rows) and mine_rows[h] < row:
            _flush(out, buf)
            _emit(run, out, results[mine_rows[h]], con, sq)
            h += 1
        if text is not None:
            buf.append(text)
            n_sql += 1
        else:
            _flush(out, buf)
            _emit(run, out, results[row], con, sq)
            n_row += 1
    _flush(out, buf)
    while h < len(mine_rows):
        _emit(run, out, results[mine_rows[h]], con, sq)
        h += 1
    n_row += len(mine)
    clock.lap("write")
    return n_sql, n_row


def _flush(out: _Out, buf: list[str]) -> None:
    if buf:
        out.text(buf)
        buf.clear()


def _decide(run: Any, todo: Iterable[Item]) -> dict[int, Result]:
    return {r.row: r for r in evaluate_items(run.policy, todo, run.qs, as_of=run.day)}


def _emit(run: Any, out: _Out, r: Result, con: Any, sq: Any) -> None:
    from .evaluate_cmd import TooManyBad

    try:
        run._count(r)
    except TooManyBad:
        _add_sql_tally(run, con, sq, r.row)
        raise
    out.result(r)


def _add_sql_tally(run: Any, con: Any, sq: Any, last_row: int | None) -> None:
    """Add the rows the SQL wrote (up to ``last_row``) to the run's tally and --fail-on gate."""
    t = run.tally
    rows = 0
    for j, outcome, code, n in con.execute(sq.tally_sql(last_row)).fetchall():
        q = run.qtext[j]
        t.outcomes[(q, outcome)] = t.outcomes.get((q, outcome), 0) + n
        t.reason_codes[(q, code)] = t.reason_codes.get((q, code), 0) + n
        if j == 0:
            rows += n
        if outcome in run.gate and n:
            run.matched = True
    t.rows += rows


__all__ = ["DEFAULT_MEMORY_LIMIT", "DuckOptions", "ENGINES", "check_memory_limit", "fallback_reason", "notice",
           "sweep", "jsonl_line"]
