"""The ``privacy-rules`` command: argv -> exit code. Only this package prints.

Exit codes (also in --help and the README):
  0  ok
  1  check found errors, a scenario failed, or --fail-on matched
  2  usage error, or input that cannot be read (missing file, bad JSON record file, bad pack path)
  3  internal error: a bug; the traceback is printed, please report it
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, Iterator, Sequence, TextIO

import click

from ..dates import parse_date
from ..errors import PackError
from ..explain import explain
from ..model import Outcome, Question, Severity
from ..pack import read_pack
from ..policy import Policy, QuestionError, compile_pack
from . import report as reporters

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3
MAX_LINE = 1_000_000  # bytes per JSONL record line; longer lines become undetermined


class UsageFailure(Exception):
    """A user error the CLI reports on stderr and exits 2 for."""


@dataclass
class IOs:
    out: TextIO
    err: TextIO


def _io() -> IOs:
    return click.get_current_context().obj


def _today_in(tz: str) -> date:
    # Only the CLI reads the clock (STYLE 9): the default as_of is today in the pack's time zone.
    import pendulum

    return pendulum.now(tz).date()


def _load_policy(pack_path: str, lang: str = "en") -> Policy:
    pack, diags = read_pack(pack_path, lint=False)  # lint is for `check`; it never changes a decision
    if pack is None:
        for d in diags:
            print(str(d), file=_io().err)
        raise UsageFailure(f"pack `{pack_path}` is invalid; run `privacy-rules check {pack_path}` for details")
    return compile_pack(pack, lang=lang)


def _as_of(value: str | None, policy: Policy) -> date:
    if value is None:
        return _today_in(str(policy.pack.meta.get("time_zone") or "UTC"))
    try:
        return parse_date(value)
    except ValueError as exc:
        raise UsageFailure(f"--as-of: {exc}") from None


def _questions(values: Sequence[str], policy: Policy) -> list[Question]:
    if not values:
        return list(policy.standard_questions)
    out = []
    for text in values:
        try:
            out.append(policy.check_question(Question.parse(text)))
        except (ValueError, QuestionError) as exc:
            raise UsageFailure(f"--question: {exc}") from None
    return out


@contextmanager
def _atomic_writer(path: str) -> Iterator[TextIO]:
    """Write to a temp file in the same folder, then os.replace: readers never see half a file."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent or "."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
        # mkstemp makes the file owner-only; give it the permissions a plain open() would
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


FORMATS = click.Choice(["text", "json"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="privacy-rules")
def cli() -> None:
    """privacy-rules: may we keep, contact or share a person's record, and why.

    \b
    Exit codes: 0 ok; 1 check errors, failed scenarios or --fail-on matched;
    2 usage or unreadable input; 3 internal error (a bug: please report it).
    """


@cli.command()
@click.argument("pack")
@click.option("--format", "fmt", type=reporters.CI_FORMATS, default="text", show_default=True,
              help="Output format: text, json, junit (JUnit XML), sarif (SARIF 2.1.0) or github (annotations).")
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
              help="Run the date-dependent checks (review overdue, DPA and transfers in force) for this day. "
                   "Default: off (check never reads the clock).")
def check(pack: str, fmt: str, strict: bool, as_of: str | None) -> None:
    """Validate PACK (a folder with pack.yaml): schema and meaning. Exit 0 valid, 1 invalid."""
    io = _io()
    try:
        day = parse_date(as_of) if as_of is not None else None
    except ValueError as exc:
        raise UsageFailure(f"--as-of: {exc}") from None
    result, diags = read_pack(pack, as_of=day)
    errors = [d for d in diags if d.severity is Severity.ERROR]
    warnings = [d for d in diags if d.severity is Severity.WARNING]
    failed = bool(errors) or (strict and bool(warnings))
    io.out.write(reporters.check_report(fmt, pack=pack, result=result, diags=diags, strict=strict,
                                        color=fmt == "text" and reporters.use_color(io.out)))
    raise SystemExit(EXIT_FAIL if failed else EXIT_OK)


def _read_record(path: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8") if path != "-" else sys.stdin.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageFailure(f"cannot read record file `{path}`: {getattr(exc, 'strerror', None) or exc}") from None
    if not text.strip():
        raise UsageFailure(f"record file `{path}` is empty; it should hold one JSON object")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageFailure(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None


@cli.command()
@click.argument("pack")
@click.argument("record")
@click.option("-q", "--question", "questions", multiple=True, metavar="Q",
              help="keep, keep:SCOPE, contact:PURPOSE:CHANNEL or share:RECIPIENT:PURPOSE; repeatable. "
                   "Default: the pack's standard questions.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="The day to decide for. Default: today in the pack's time zone.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--lang", type=click.Choice(["en", "nb"]), default="en", show_default=True)
@click.option("--fail-on", "fail_on", default="", metavar="OUTCOMES",
              help="Exit 1 if any decision has one of these outcomes, e.g. deny,undetermined.")
def decide(pack: str, record: str, questions: tuple[str, ...], as_of: str | None, fmt: str, lang: str,
           fail_on: str) -> None:
    """Decide questions about one RECORD (a JSON file, or - for stdin) and explain why."""
    io = _io()
    policy = _load_policy(pack, lang)
    day = _as_of(as_of, policy)
    qs = _questions(questions, policy)
    gate = _fail_on(fail_on)
    data = _read_record(record)
    decisions = policy.decide_all(data, qs, as_of=day)
    if fmt == "json":
        payload: Any = [d.to_json() for d in decisions]
        json.dump(payload[0] if len(payload) == 1 else payload, io.out, indent=2, ensure_ascii=False)
        io.out.write("\n")
    else:
        print("\n\n".join(explain(d, lang=lang) for d in decisions), file=io.out)
    raise SystemExit(EXIT_FAIL if any(d.outcome in gate for d in decisions) else EXIT_OK)


def _fail_on(text: str) -> set[Outcome]:
    out = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            out.add(Outcome(part))
        except ValueError:
            raise UsageFailure(f"--fail-on: `{part}` is not an outcome; use allow, deny or undetermined") from None
    return out


def _iter_jsonl(fh: IO[bytes]) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, record or None, problem) for each non-blank line; bad lines never stop the run."""
    for n, raw in enumerate(fh, start=1):
        if len(raw) > MAX_LINE:
            yield n, None, f"line {n}: longer than {MAX_LINE} bytes"
            continue
        if not raw.strip():
            continue
        try:
            yield n, json.loads(raw), None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield n, None, f"line {n}: not valid JSON: {getattr(exc, 'msg', str(exc))}"


@cli.command()
@click.argument("pack")
@click.argument("records")
@click.option("-q", "--question", "questions", multiple=True, metavar="Q",
              help="As for decide; repeatable. Default: the pack's standard questions.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Default: today in the pack's time zone.")
@click.option("-o", "--output", "output", metavar="FILE", help="Write JSONL here (atomically). Default: stdout.")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr. Default: when stderr is a terminal.")
@click.option("--fail-on", "fail_on", default="", metavar="OUTCOMES", help="Exit 1 if any answer has one of these outcomes.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "text"]), default="jsonl", show_default=True,
              help="jsonl: one compact JSON line per record (fast); text: each answer with its reason, for people.")
@click.option("--lang", type=click.Choice(["en", "nb"]), default="en", show_default=True, help="Language of reasons (text).")
def evaluate(pack: str, records: str, questions: tuple[str, ...], as_of: str | None, output: str | None,
             progress: bool | None, fail_on: str, fmt: str, lang: str) -> None:
    """Evaluate every record in RECORDS (JSON Lines) and write one JSON line per record.

    Each output line: {"line", "record_id", "answers": [{"question", "outcome", "rule_id",
    "keep_until"}], "problem"}. A line that is not a valid record becomes undetermined answers
    with the line number in "problem"; the run goes on.
    """
    io = _io()
    policy = _load_policy(pack, lang)
    day = _as_of(as_of, policy)
    qs = _questions(questions, policy)
    gate = {o.value for o in _fail_on(fail_on)}
    qtext = [str(q) for q in qs]
    if fmt == "text":
        raise SystemExit(_evaluate_text(policy, records, qs, day, output, gate, lang))
    try:
        fh = open(records, "rb")
    except OSError as exc:
        raise UsageFailure(f"cannot read records file `{records}`: {exc.strerror}") from None
    counts: dict[str, int] = {}
    matched = False
    with fh:
        total = os.fstat(fh.fileno()).st_size
        show = progress if progress is not None else io.err.isatty()
        lines = _iter_jsonl(fh)
        meta: list[tuple[int, str | None]] = []

        def records_only() -> Iterator[Any]:
            for n, rec, problem in lines:
                meta.append((n, problem))
                yield rec if problem is None else _BadLine(problem)

        rows = policy.decide_batch(records_only(), qs, as_of=day)
        with (_atomic_writer(output) if output else _nullcontext(io.out)) as out, _progress(show, total, fh, io.err) as tick:
            for row in rows:
                n, problem = meta.pop(0)
                problem = problem or row.problem
                answers = []
                for q, a in zip(qtext, row.answers):
                    answers.append({"question": q, "outcome": a.outcome, "rule_id": a.rule_id, "keep_until": a.keep_until})
                    counts[f"{q} {a.outcome}"] = counts.get(f"{q} {a.outcome}", 0) + 1
                    matched = matched or a.outcome in gate
                out.write(json.dumps({"line": n, "record_id": row.record_id, "answers": answers,
                                      "problem": f"line {n}: {problem}" if problem and not problem.startswith("line ") else problem},
                                     ensure_ascii=False))
                out.write("\n")
                tick()
    if not counts:
        print(f"warning: `{records}` holds no records (empty, or only blank lines)", file=io.err)
    for key in sorted(counts):
        print(f"{key}: {counts[key]}", file=io.err)
    raise SystemExit(EXIT_FAIL if matched else EXIT_OK)


@cli.command(name="test")
@click.argument("pack")
@click.option("--scenarios", "paths", multiple=True, metavar="FILE",
              help="Scenario files to run instead of the ones pack.yaml lists; repeatable.")
@click.option("--format", "fmt", type=reporters.CI_FORMATS, default="text", show_default=True,
              help="Output format: text, json, junit (JUnit XML), sarif (SARIF 2.1.0) or github (annotations).")
@click.option("-v", "--verbose", is_flag=True, help="List every scenario, not only failures.")
@click.option("--min-coverage", "min_coverage", type=click.FloatRange(0, 100), default=None, metavar="PERCENT",
              help="Fail when fewer than PERCENT of the rules are exercised by some scenario.")
def test_cmd(pack: str, paths: tuple[str, ...], fmt: str, verbose: bool, min_coverage: float | None) -> None:
    """Run PACK's scenario tests; report failures with file:line and a diff, then coverage.

    Exit 0 when every scenario passes (and coverage meets --min-coverage), 1 otherwise,
    including when no scenario ran.
    """
    from ..scenarios import run_pack_scenarios

    io = _io()
    policy = _load_policy(pack)
    report = run_pack_scenarios(policy, list(paths) if paths else None)
    cov = report.coverage
    low = min_coverage is not None and cov.percent < min_coverage
    io.out.write(reporters.scenarios_report(fmt, pack=pack, pack_version=policy.pack.version, report=report,
                                            verbose=verbose, min_coverage=min_coverage,
                                            color=fmt == "text" and reporters.use_color(io.out)))
    if fmt != "json":
        if not report.results:
            print("no scenarios ran: list scenario files under `scenarios:` in pack.yaml", file=io.err)
        if low:
            print(f"coverage {cov.percent:.1f}% is below --min-coverage {min_coverage:g}%", file=io.err)
    raise SystemExit(EXIT_OK if report.ok and not low else EXIT_FAIL)


from .render_cmd import render  # noqa: E402  (a command module of its own; it imports main lazily)

cli.add_command(render)

from .diff_cmd import diff  # noqa: E402  (a command module of its own; it imports main lazily)

cli.add_command(diff)


def _evaluate_text(policy: Policy, records: str, qs: list[Question], day: date, output: str | None,
                   gate: set[str], lang: str) -> int:
    """Readable answers with reasons, one block per record (the README's main job)."""
    io = _io()
    matched = False
    try:
        fh = open(records, "rb")
    except OSError as exc:
        raise UsageFailure(f"cannot read records file `{records}`: {exc.strerror}") from None
    with fh, (_atomic_writer(output) if output else _nullcontext(io.out)) as out:
        for n, rec, problem in _iter_jsonl(fh):
            if problem is not None:
                out.write(f"line {n}: UNDETERMINED for every question: {problem}\n\n")
                matched = matched or "undetermined" in gate
                continue
            decisions = policy.decide_all(rec, qs, as_of=day)
            rid = decisions[0].record_id or f"line {n}"
            out.write(f"{rid} (line {n}), as of {day.isoformat()}\n")
            for dcs in decisions:
                mark = dcs.outcome.value.upper()
                until = f" until {dcs.keep_until.isoformat()}" if dcs.keep_until else ""
                out.write(f"  {str(dcs.question):<44} {mark}{until}\n      {dcs.reason}\n")
                for o in dcs.obligations:
                    due = f" by {o.due_on.isoformat()}" if o.due_on else ""
                    out.write(f"      obligation: {o.text}{due}\n")
                matched = matched or dcs.outcome.value in gate
            out.write("\n")
    return EXIT_FAIL if matched else EXIT_OK


class _BadLine:
    """Stands in for a line that was not JSON: decide_batch reports it as a bad record."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


@contextmanager
def _nullcontext(value: TextIO) -> Iterator[TextIO]:
    yield value


@contextmanager
def _progress(show: bool, total: int, fh: IO[bytes], err: TextIO) -> Iterator[Any]:
    if not show:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("evaluating"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=Console(file=err), transient=True) as bar:
        task = bar.add_task("records", total=total or None)
        count = 0

        def tick() -> None:
            nonlocal count
            count += 1
            if count % 2048 == 0:
                bar.update(task, completed=fh.tell())

        yield tick
        bar.update(task, completed=total)


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the CLI with ``argv``; returns the exit code. Tests call this with StringIO streams."""
    ios = IOs(out=stdout or sys.stdout, err=stderr or sys.stderr)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        # click writes --help and its own messages to sys.stdout/err; point them at our streams
        with redirect_stdout(ios.out), redirect_stderr(ios.err):
            cli.main(args=args, prog_name="privacy-rules", standalone_mode=False, obj=ios)
    except SystemExit as exc:
        return int(exc.code or 0)
    except click.UsageError as exc:
        print(f"error: {exc.format_message()}", file=ios.err)
        if exc.ctx is not None:
            print(f"  help: run `{exc.ctx.command_path} --help`", file=ios.err)
        return EXIT_USAGE
    except click.exceptions.Abort:
        print("aborted", file=ios.err)
        return EXIT_USAGE
    except UsageFailure as exc:
        print(f"error: {exc}", file=ios.err)
        return EXIT_USAGE
    except PackError as exc:
        print(str(exc), file=ios.err)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except Exception:  # a bug: say so plainly, with the traceback to report
        traceback.print_exc(file=ios.err)
        print("internal error: this is a bug in privacy-rules; please report it with the traceback above",
              file=ios.err)
        return EXIT_BUG
    return EXIT_OK


def entry() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
