"""``privacy-rules evaluate PACK RECORDS``: the sweep. Reads records from JSON Lines, a JSON
array, CSV, Parquet or a SQLite / DuckDB / PostgreSQL table or query (privacy_rules.sources),
decides the questions for each (privacy_rules.pipeline), and writes the answers as JSON Lines,
CSV, Parquet, a decisions table in the same database, or text for people (privacy_rules.sinks).

The logic lives in those modules; this one parses arguments, shows progress, prints the
summary and turns ``--max-bad`` and ``--fail-on`` into exit codes (docs/sources.md).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Iterator, TextIO

import click

from .._answers import Answer
from .._escape import escape
from ..model import Outcome, Question
from ..pipeline import Item, MaxBad, Result, Tally, evaluate_items, items
from ..policy import Policy
from ..records import RecordInvalid
from ..sinks import CsvSink, JsonlSink, ParquetSink, Sink, TableSink, output_format
from ..sources import DATABASE_FORMATS, FORMATS as INPUT_FORMATS, Source, SourceError, guess_format, open_source
from ..sources._base import safe_name
from . import _common, _duck
if TYPE_CHECKING:
    from ..mapping import Profile
from ._common import (EXIT_FAIL, EXIT_OK, EXIT_USAGE, QUESTION_SET_HELP, UsageFailure, as_of_day,
                      load_policy, output_to, parse_day, questions_or_set, streams, RECIPIENT_FACTS_HELP)

OUTPUT_FORMATS = ("jsonl", "csv", "parquet", "text")
DEFAULT_MAX_BAD = "1%"


class TooManyBad(UsageFailure):
    """--max-bad was exceeded: the output is not written; exit 2."""


def _fail_on(text: str) -> set[str]:
    from ..model import Outcome

    out = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            out.add(Outcome(part).value)
        except ValueError:
            raise UsageFailure(f"--fail-on: `{part}` is not an outcome; use allow, deny or undetermined") from None
    return out


@click.command()
@click.argument("pack")
@click.argument("records")
@click.option("-q", "--question", "questions", multiple=True, metavar="Q",
              help="As for decide; repeatable. Default: the pack's standard questions.")
@click.option("--question-set", "question_set", metavar="NAME", help=QUESTION_SET_HELP)
@click.option("--plan", "plan", is_flag=True,
              help="Write a retention plan instead of answers: per record and scope keep until D, delete or "
                   "review (with the missing facts), and whether to keep a suppression entry (docs/retention.md). "
                   "Asks the pack's sweep question set (every scope when it has none); keep questions only. "
                   "Output jsonl (schemas/plan.schema.json) or text.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Default: today in the pack's time zone.")
@click.option("--input-format", "input_format", type=click.Choice(INPUT_FORMATS), default=None,
              help="Format of RECORDS. Default: from the extension (.jsonl .json .csv .parquet .sqlite .duckdb), "
                   "postgres for a postgresql:// URL, jsonl for - (stdin) and unknown extensions.")
@click.option("--table", "table", metavar="NAME", help="Database input: the table (or view) to read; schema.table "
              "for PostgreSQL and DuckDB.")
@click.option("--query", "query", metavar="SQL", help="Database input: a SELECT whose rows are the records.")
@click.option("--delimiter", "delimiter", metavar="CHAR", help="CSV delimiter. Default: sniffed from the header "
              "(, ; tab |).")
@click.option("--profile", "profile", metavar="NAME|FILE",
              help="Mapping profile turning the host's own columns into records (a bundled id such as "
                   "hubspot-export, or a YAML file). Default: none, columns are named after the record's fields.")
@click.option("--child", "child", multiple=True, metavar="NAME=SOURCE",
              help="With --profile: the rows of the profile's child table NAME (a consent log): a file, or "
                   "table:TABLE / query:SQL in RECORDS's database; repeatable.")
@click.option("--known-on", "known_on", metavar="YYYY-MM-DD",
              help="With --profile: the day the export was taken; facts the host keeps without a date are known "
                   "to have happened on or before it.")
@click.option("-o", "--output", "output", metavar="FILE",
              help="Write the answers here (atomically). Default: stdout.")
@click.option("--output-format", "--format", "fmt", type=click.Choice(OUTPUT_FORMATS), default=None,
              help="jsonl (one line per record), csv or parquet (one row per record and question), or text "
                   "(answers with their reasons, for people). Default: from -o's extension, else jsonl.")
@click.option("--output-table", "output_table", metavar="NAME",
              help="Write the answers as a decisions table into the database RECORDS reads, replacing that table "
                   "atomically (only a table an earlier run wrote).")
@click.option("--summary", "summary", metavar="FILE",
              help="Write the run's summary as JSON here (atomically; schemas/summary.schema.json).")
@click.option("--max-bad", "max_bad", default=DEFAULT_MAX_BAD, show_default=True, metavar="N|P%",
              help="Exit 2, writing no output, when more rows than this cannot be read or are not valid records: "
                   "a count stops at once; a percentage is checked at the end and needs more than 10 bad rows "
                   "(or every row bad).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr. Default: when stderr is a terminal.")
@click.option("--fail-on", "fail_on", default="", metavar="OUTCOMES", help="Exit 1 if any answer has one of these outcomes.")
@click.option("--lang", type=click.Choice(["en", "nb"]), default="en", show_default=True, help="Language of reasons (text).")
@click.option("--engine", "engine", type=click.Choice(_duck.ENGINES), default="row", show_default=True,
              help="row: the compiled Python rules, one record at a time. duckdb: the pack compiled to one SQL "
                   "query run in an embedded DuckDB over all records at once (docs/engines.md); the output is "
                   "the row engine's, byte for byte. --plan, text output and packs the SQL compiler refuses fall "
                   "back to the row engine with a notice (PR720-PR723).")
@click.option("--memory-limit", "memory_limit", default=_duck.DEFAULT_MEMORY_LIMIT, show_default=True,
              metavar="SIZE", help="--engine duckdb: DuckDB's memory limit (it spills to a temp folder beyond it).")
@click.option("--threads", "threads", type=click.IntRange(1, 256), default=None, metavar="N",
              help="--engine duckdb: DuckDB's worker threads. Default: one per core.")
@click.option("--recipient-facts", "recipient_facts", metavar="FILE", help=RECIPIENT_FACTS_HELP)
def evaluate(pack: str, records: str, questions: tuple[str, ...], as_of: str | None, input_format: str | None,
             table: str | None, query: str | None, delimiter: str | None, profile: str | None, child: tuple[str, ...],
             known_on: str | None,
             output: str | None, fmt: str | None, output_table: str | None, summary: str | None, max_bad: str,
             progress: bool | None, fail_on: str, lang: str, question_set: str | None = None,
             plan: bool = False, engine: str = "row", memory_limit: str = _duck.DEFAULT_MEMORY_LIMIT,
             threads: int | None = None, recipient_facts: str | None = None) -> None:
    """Evaluate every record in RECORDS and write the answers, one per record and question.

    RECORDS is a file (JSON Lines, a JSON array, CSV, Parquet, a SQLite or DuckDB database),
    - for stdin (JSON Lines, or --input-format json / csv), or a postgresql:// URL; name a
    database's rows with --table or --query. Without --profile, columns are named after the
    record's fields (docs/sources.md, "Flat layout").

    Every row gets exactly one answer per question, in input order: a row that cannot be read
    or is not a valid record (not JSON, a duplicate key, a bad date ...) gets undetermined
    answers with its problem (reason code undetermined:bad-record), and the run goes on, up
    to --max-bad. JSON Lines output: {"line", "record_id", "answers": [{"question", "outcome",
    "rule_id", "keep_until", "problem", "basis", "article", "reason_code", "reason"}], "problem",
    "row", "locator"}; an answer's own "problem" names a present fact a rule could not use
    (PR317-PR319) when that left it undetermined. A summary goes to stderr (and --summary FILE).

    --plan writes a retention plan instead: one line per record with, per keep scope of the
    pack's sweep set, the action keep (until keep_until), delete or review (missing_facts), and
    keep_suppression_entry (docs/retention.md, schemas/plan.schema.json).

    Exit 0 ok; 1 --fail-on matched; 2 unreadable input, too many bad rows (--max-bad: then no
    output is written), or output that cannot be written.
    """
    io = streams()
    policy = load_policy(pack, lang, recipient_facts)
    day = as_of_day(as_of, policy)
    qs = _plan_questions(questions, question_set, policy) if plan else questions_or_set(questions, question_set, policy)
    gate = _fail_on(fail_on)
    limit_bad = _max_bad(max_bad)
    kind = output_format(output, fmt)
    if plan and (output_table is not None or kind not in ("jsonl", "text")):
        raise UsageFailure("--plan writes JSON Lines or text: leave out --output-table, give -o FILE.jsonl or "
                           "--format text")
    if output_table is not None:
        if output is not None or fmt not in (None, "jsonl"):
            raise UsageFailure("--output-table writes a table; leave out -o / --output-format")
        kind = "table"
    if kind == "parquet" and output is None:
        raise UsageFailure("Parquet output needs a file: give -o FILE.parquet")
    prof = _load_profile(profile, policy) if profile is not None else None
    known = parse_day(known_on, "--known-on") if known_on is not None else None
    if known is not None and prof is None:
        raise UsageFailure("--known-on goes with --profile (it dates the facts a profile maps)")
    if child and prof is None:
        raise UsageFailure("--child goes with --profile (child tables are a profile's)")
    duck = None
    if engine == "duckdb":
        duck = _duck.DuckOptions(_duck.check_memory_limit(memory_limit), threads)
        why = _duck.fallback_reason(policy, qs, day, plan=plan, kind=kind)
        if isinstance(why, tuple):
            _duck.notice(io.err, *why)
            duck = None
        else:
            duck = dataclasses.replace(duck, query=why)
    run = _Run(policy=policy, qs=qs, day=day, gate=gate, max_bad=limit_bad, io_err=io.err, duck=duck)
    started = time.monotonic()  # the sweep's time: reading, deciding, writing (not loading the pack)
    with ExitStack() as stack:
        source = stack.enter_context(_open(records, input_format, table, query, delimiter, output_table is not None))
        tz = str(policy.pack.meta.get("time_zone") or "UTC")
        kids = {name: stack.enter_context(_open_child(spec, records, input_format, output_table is not None))
                for name, spec in _children(child)}
        its = items(source, profile=prof, known_on=known, time_zone=tz, children=kids or None)
        show = progress if progress is not None else io.err.isatty()
        if (duck is not None and prof is None and source.format in ("jsonl", "parquet") and records != "-"
                and os.path.isfile(records)):
            run.native = records  # --engine duckdb reads the file itself (sql/ingest.load_jsonl, load_parquet)
            run.native_format = source.format
        try:
            if plan:
                with output_to(output, io.out) as out:
                    run.plan(its, out, kind, show, source)
            elif kind == "text":
                with output_to(output, io.out) as out:
                    run.text(its, out, lang, show, source)
            elif kind == "table":
                assert output_table is not None
                sink: Sink = TableSink(source, output_table, run.qtext, day, policy.pack.version)
                run.answers(its, sink, show, source, None, kind)
            elif kind == "parquet":
                assert output is not None
                run.answers(its, ParquetSink(output, run.qtext, day, policy.pack.version), show, source, None, kind)
            else:
                with output_to(output, io.out) as out:
                    sink = JsonlSink(out, run.qtext) if kind == "jsonl" else CsvSink(out, run.qtext, day,
                                                                                     policy.pack.version)
                    run.answers(its, sink, show, source, out, kind)
        except TooManyBad as exc:
            run.finish(started, summary, records, source, kind, output, output_table, exit_code=EXIT_USAGE)
            raise exc
    code = EXIT_FAIL if run.matched else EXIT_OK
    run.finish(started, summary, records, source, kind, output, output_table, exit_code=code)
    raise SystemExit(code)


def _plan_questions(questions: tuple[str, ...], question_set: str | None, policy: Policy) -> list[Question]:
    """--plan's questions: -q or --question-set when given, else the pack's sweep set (every
    scope when it has none); keep questions with a scope only."""
    from ..retention import keep_only, plan_questions

    qs = questions_or_set(questions, question_set, policy) if questions or question_set else plan_questions(policy)
    try:
        return keep_only(qs)
    except ValueError as exc:
        raise UsageFailure(f"--plan: {exc}") from None


def _max_bad(text: str) -> MaxBad:
    try:
        return MaxBad.parse(text)
    except SourceError as exc:
        raise UsageFailure(f"{exc.message}\n  help: {exc.help}") from None


def _load_profile(spec: str, policy: Policy) -> Profile:
    """A bundled profile id or a YAML file, checked against the pack (PackError with PR6xx: exit 2)."""
    from ..mapping import load_profile

    return load_profile(spec, pack=policy.pack)


def _children(specs: tuple[str, ...]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for text in specs:
        name, eq, spec = text.partition("=")
        if not eq or not name or not spec:
            raise UsageFailure(f"--child: `{text}` is not NAME=SOURCE (e.g. consents=consent_log.csv)")
        if name in dict(out):
            raise UsageFailure(f"--child: `{name}` is given twice")
        out.append((name, spec))
    return out


def _open_child(spec: str, records: str, fmt: str | None, writable: bool) -> Source:
    """A child table's source: ``table:NAME`` / ``query:SQL`` in RECORDS's database, else a file."""
    kind, colon, rest = spec.partition(":")
    if colon and kind in ("table", "query"):
        return open_source(records, fmt=fmt, table=rest if kind == "table" else None,
                           query=rest if kind == "query" else None, writable=writable)
    if spec != "-" and not os.path.exists(spec) and (fmt or guess_format(records)) in DATABASE_FORMATS:
        raise UsageFailure(f"--child: `{escape(spec)}` is not a file\n  help: for a table in the database RECORDS "
                           f"reads, write `table:{escape(spec)}` (or `query:SELECT ...`)")
    return open_source(spec, stdin=streams().inp, limit=_common.MAX_LINE)


def _open(records: str, fmt: str | None, table: str | None, query: str | None, delimiter: str | None,
          writable: bool) -> Source:
    return open_source(records, fmt=fmt, table=table, query=query, delimiter=delimiter, stdin=streams().inp,
                       writable=writable, limit=_common.MAX_LINE)


@dataclass
class _Run:
    """One evaluate run: counting, the --max-bad and --fail-on gates, progress and the summary."""

    policy: Policy
    qs: list[Question]
    day: date
    gate: set[str]
    max_bad: MaxBad
    io_err: TextIO
    matched: bool = False
    plans: Any = None  # --plan: the retention.PlanTally of the run
    duck: _duck.DuckOptions | None = None  # --engine duckdb (None: the row engine)
    native: str | None = None  # --engine duckdb: a JSON Lines or Parquet file DuckDB may read itself
    native_format: str = "jsonl"

    def __post_init__(self) -> None:
        self.qtext = [str(q) for q in self.qs]
        self.tally = Tally(self.qtext)

    # -- answers (jsonl, csv, parquet, table) ----------------------------------------------------
    def answers(self, its: Iterator[Item], sink: Sink, show: bool, source: Source, stream: TextIO | None = None,
                kind: str = "jsonl") -> None:
        if self.duck is not None:
            counts = _duck.sweep(self, its, sink, stream, show, source, self.duck, kind)
            laps = ", ".join(f"{k} {v:.2f} s" for k, v in counts.items() if k not in ("sql", "row", "reader"))
            print(f"engine duckdb: {counts['sql']:,} rows decided in SQL, {counts['row']:,} by the row engine "
                  f"({laps}); input read by {counts['reader']}", file=self.io_err)
            return
        ok = False
        try:
            with _common.progress_bar(show, source.progress, self.io_err) as tick:
                for r in evaluate_items(self.policy, its, self.qs, as_of=self.day):
                    self._count(r)
                    sink.write(r)
                    tick()
            self._check_end()
            sink.commit()
            ok = True
        finally:
            if not ok:
                sink.abort()

    def _count(self, r: Result) -> None:
        self.tally.add(r)
        if self.gate and not self.matched:
            self.matched = any(a.outcome.value in self.gate for a in r.answers)
        if r.problem is not None and self.max_bad.exceeded_now(self.tally.bad):
            raise self._too_many(stopped=True)

    def _check_end(self) -> None:
        if self.max_bad.exceeded(self.tally.bad, self.tally.rows):
            raise self._too_many(stopped=False)

    def _too_many(self, *, stopped: bool) -> TooManyBad:
        t = self.tally
        lines = [f"{escape(loc)}: {escape(p.split(': ', 1)[-1])}" for loc, _, p in t.first_problems]
        first = "\n".join(f"  {line}" for line in lines)
        what = (f"stopped after {t.bad:,} bad rows (--max-bad {self.max_bad})" if stopped else
                f"{t.bad:,} of {t.rows:,} rows are bad (--max-bad {self.max_bad})")
        return TooManyBad(f"{what}: rows that cannot be read or are not valid records; no output was written. "
                          f"The first:\n{first}\n  help: is this the right --input-format? A file read as the "
                          "wrong format has every row bad; to accept bad rows, raise --max-bad")

    # -- a retention plan (--plan) ---------------------------------------------------------------
    def plan(self, its: Iterator[Item], out: TextIO, kind: str, show: bool, source: Source) -> None:
        from ..retention import PlanTally, plan_results, plan_text

        self.plans = PlanTally([q.scope or "" for q in self.qs])
        with _common.progress_bar(show, source.progress, self.io_err) as tick:
            for r, p in plan_results(self.policy, its, self.qs, as_of=self.day):
                self._count(r)
                self.plans.add(p)
                out.write(json.dumps(p.to_json(), ensure_ascii=False) + "\n" if kind == "jsonl" else plan_text(p) + "\n")
                tick()
        self._check_end()

    # -- text, for people --------------------------------------------------------------------
    def text(self, its: Iterator[Item], out: TextIO, lang: str, show: bool, source: Source) -> None:
        day, policy, qs = self.day, self.policy, self.qs
        with _common.progress_bar(show, source.progress, self.io_err) as tick:
            for it in its:
                tick()
                if it.problems:
                    p = it.problems[0]
                    out.write(f"{escape(it.locator)}: UNDETERMINED for every question: {p.code} "
                              f"{escape(p.message)}\n\n")
                    self._count(_result(it, [], f"{it.locator}: {p.code} {p.message}", len(qs)))
                    continue
                try:
                    policy.facts(it.record)
                    invalid = None
                except RecordInvalid as exc:
                    invalid = exc.problems
                decisions = policy.decide_all(it.record, qs, as_of=day)
                rid = escape(decisions[0].record_id or it.locator) if decisions else escape(it.locator)
                out.write(f"{rid} ({escape(it.locator)}), as of {day.isoformat()}\n")
                for dcs in decisions:
                    mark = dcs.outcome.value.upper()
                    until = f" until {dcs.keep_until.isoformat()}" if dcs.keep_until else ""
                    if dcs.keep_until and dcs.outcome is Outcome.DENY:  # deny:window-ended
                        until = f" (kept until {dcs.keep_until.isoformat()}, passed)"
                    out.write(f"  {escape(str(dcs.question)):<44} {mark}{until}\n      {escape(dcs.reason)}\n")
                    for p in dcs.problems:  # PR317-PR319 of this answer (the record itself was readable)
                        out.write(f"      problem: {p.code} {escape(p.message)}"
                                  + (f" ({escape(p.help)})" if p.help else "") + "\n")
                    for o in dcs.obligations:
                        due = f" by {o.due_on.isoformat()}" if o.due_on else ""
                        out.write(f"      obligation: {escape(o.text)}{due}\n")
                out.write("\n")
                answers = [Answer(d.outcome, d.decisive_rule, d.keep_until, basis=d.basis) for d in decisions]
                problem = None
                if invalid:
                    problem = f"{it.locator}: " + "; ".join(f"{p.code} {p.message}" for p in invalid)
                self._count(Result(it.row, it.locator, it.line, decisions[0].record_id if decisions else None,
                                   tuple(answers), problem))
        self._check_end()

    # -- summary -----------------------------------------------------------------------------
    def finish(self, started: float, summary: str | None, records: str, source: Source, kind: str,
               output: str | None, output_table: str | None, *, exit_code: int) -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        t = self.tally
        err = self.io_err
        if not t.rows:
            print(f"warning: `{escape(_display(records))}` holds no records (empty, or only blank lines)", file=err)
        for (q, outcome) in sorted(t.outcomes):
            print(f"{escape(q)} {outcome}: {t.outcomes[(q, outcome)]}", file=err)
        plans = self.plans
        if plans is not None:
            for row in plans.to_json()["scopes"]:
                print(f"plan {row['scope']}: keep {row['keep']}, delete {row['delete']}, review {row['review']}", file=err)
            print(f"plan: {plans.delete_all:,} records to delete entirely, {plans.keep_suppression_entry:,} to keep "
                  f"as a suppression entry, {plans.review:,} to review", file=err)
        rate = t.rows / elapsed
        print(f"{t.rows:,} rows, {t.bad:,} bad, in {elapsed:.2f} s ({rate:,.0f} records/s)", file=err)
        if summary is not None:
            data = self.summary_json(elapsed, records, source, kind, output, output_table, exit_code)
            with output_to(summary, err) as fh:  # as -o: a device or FIFO is written in place
                fh.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def summary_json(self, elapsed: float, records: str, source: Source, kind: str, output: str | None,
                     output_table: str | None, exit_code: int) -> dict[str, Any]:
        t = self.tally
        per_q = []
        for q in self.qtext:
            outcomes = {o: t.outcomes.get((q, o), 0) for o in ("allow", "deny", "undetermined")}
            codes = {c: n for (qq, c), n in sorted(t.reason_codes.items()) if qq == q and c}
            per_q.append({"question": q, "outcomes": outcomes, "reason_codes": codes})
        return {
            "format_version": 1,
            "pack": self.policy.pack.meta.get("id") or None,
            "pack_version": self.policy.pack.version,
            "as_of": self.day.isoformat(),
            "input": {"name": _display(records) if source.format != "postgres" else source.name,
                      "format": source.format},
            "output": {"format": kind, "name": output_table if kind == "table" else (output or "<stdout>")},
            "rows": t.rows,
            "bad_rows": t.bad,
            "bad_by_code": dict(sorted(t.problem_codes.items())),
            "max_bad": str(self.max_bad),
            "questions": per_q,
            "first_problems": [{"locator": loc, "record_id": rid, "problem": p} for loc, rid, p in t.first_problems],
            "elapsed_seconds": round(elapsed, 3),
            "records_per_second": round(t.rows / elapsed, 1),
            "exit_code": exit_code,
            **({"plan": self.plans.to_json()} if self.plans is not None else {}),
        }


def _result(it: Item, answers: list[Answer], problem: str, n: int) -> Result:
    from .._answers import bad_answers

    return Result(it.row, it.locator, it.line, it.record_id, tuple(answers) or bad_answers(n, it.problems), problem)


def _display(records: str) -> str:
    return "<stdin>" if records == "-" else safe_name(records)
