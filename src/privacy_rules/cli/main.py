"""The ``privacy-rules`` command: argv -> exit code. Only this package prints.

Exit codes (also in --help and the README):
  0  ok
  1  check found errors, a scenario failed, or --fail-on matched
  2  usage error, input that cannot be read (missing file, bad JSON record file, bad pack path),
     or output that cannot be written (full disk, no permission, stdout closed early or at start)
  3  internal error: a bug; the traceback is printed, please report it
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from contextlib import redirect_stderr, redirect_stdout
from typing import Any, BinaryIO, Sequence, TextIO

import click

from .._escape import escape
from ..errors import PackError
from ..explain import explain
from ..model import Outcome, Severity
from ..pack import read_pack
from ..records import RecordInvalid, parse_record
from ..sinks import SinkError
from ..sources import SourceError
from . import report as reporters
from ._common import (
    EXIT_BUG,
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    RECIPIENT_FACTS_HELP,
    QUESTION_SET_HELP,
    ClosedInput,
    ClosedOutput,
    DiscardOutput,
    GuardedText,
    IOs,
    OutputCutShort,
    UsageFailure,
    as_of_day,
    display_name,
    load_policy,
    parse_day,
    questions_or_set,
    read_record_bytes,
    streams,
)
from .diff_cmd import diff
from .evaluate_cmd import evaluate
from .render_cmd import render
from .sql_cmd import sql

FORMATS = click.Choice(["text", "json"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="privacy-rules")
def cli() -> None:
    """privacy-rules: may we keep, contact or share a person's record, and why.

    \b
    Exit codes: 0 ok; 1 check errors, failed scenarios or --fail-on matched;
    2 usage, unreadable input or unwritable output (also stdout closed early or at start);
    3 internal error (a bug: please report it).
    """


@cli.command()
@click.argument("pack")
@click.option("--format", "fmt", type=reporters.CI_FORMATS, default="text", show_default=True,
              help="Output format: text, json, junit (JUnit XML), sarif (SARIF 2.1.0) or github (annotations).")
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
              help="Run the date-dependent checks (review overdue, DPA and transfers in force) for this day. "
                   "Default: off (check never reads the clock).")
@reporters.HELP_URI_OPTION
def check(pack: str, fmt: str, strict: bool, as_of: str | None, help_uri: str | None) -> None:
    """Validate PACK (a folder with pack.yaml): schema and meaning. Exit 0 valid, 1 invalid."""
    io = streams()
    day = parse_day(as_of) if as_of is not None else None
    result, diags = read_pack(pack, as_of=day)
    errors = [d for d in diags if d.severity is Severity.ERROR]
    warnings = [d for d in diags if d.severity is Severity.WARNING]
    failed = bool(errors) or (strict and bool(warnings))
    io.out.write(reporters.check_report(fmt, pack=pack, result=result, diags=diags, strict=strict,
                                        color=fmt == "text" and reporters.use_color(io.out), help_uri=help_uri))
    raise SystemExit(EXIT_FAIL if failed else EXIT_OK)


def _read_record(path: str) -> bytes:
    """The record file's bytes. Exit 2 when it is not JSON text at all (unreadable, empty, too
    big, not UTF-8, a syntax error); JSON that is not a usable record (a duplicate key, a lone
    surrogate, nesting too deep ...) is decided, and its answers are undetermined with the code."""
    data = read_record_bytes(path)
    try:
        parse_record(data)
    except RecordInvalid as exc:
        first = exc.problems[0]
        if first.code in ("PR310", "PR311"):
            where = display_name(path)
            message = first.message
            if exc.position is not None:
                line, col = exc.position
                where = f"{where}:{line}:{col}"
                message = message.removesuffix(f" (line {line}, column {col})").removesuffix(f" (column {col})")
            raise UsageFailure(f"{where}: {message}") from None
    return data


@cli.command()
@click.argument("pack")
@click.argument("record")
@click.option("-q", "--question", "questions", multiple=True, metavar="Q",
              help="keep, keep:SCOPE, contact:PURPOSE:CHANNEL or share:RECIPIENT:PURPOSE; repeatable. "
                   "Default: the pack's standard questions.")
@click.option("--question-set", "question_set", metavar="NAME", help=QUESTION_SET_HELP)
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="The day to decide for. Default: today in the pack's time zone.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--lang", type=click.Choice(["en", "nb"]), default="en", show_default=True)
@click.option("--fail-on", "fail_on", default="", metavar="OUTCOMES",
              help="Exit 1 if any decision has one of these outcomes, e.g. deny,undetermined.")
@click.option("--recipient-facts", "recipient_facts", metavar="FILE", help=RECIPIENT_FACTS_HELP)
def decide(pack: str, record: str, questions: tuple[str, ...], as_of: str | None, fmt: str, lang: str,
           fail_on: str, question_set: str | None = None, recipient_facts: str | None = None) -> None:
    """Decide questions about one RECORD (a JSON file, or - for stdin) and explain why.

    A record that is JSON but not a usable one (unknown field, bad date, duplicate key ...)
    gets undetermined answers naming the problem; a file that is not JSON exits 2.
    """
    io = streams()
    policy = load_policy(pack, lang, recipient_facts)
    day = as_of_day(as_of, policy)
    qs = questions_or_set(questions, question_set, policy)
    gate = _fail_on(fail_on)
    data = _read_record(record)
    decisions = policy.decide_all(data, qs, as_of=day)
    if fmt == "json":
        payload: Any = [d.to_json() for d in decisions]
        io.out.write(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2, ensure_ascii=False) + "\n")
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


@cli.command(name="test")
@click.argument("pack")
@click.option("--scenarios", "paths", multiple=True, metavar="FILE",
              help="Scenario files to run instead of the ones pack.yaml lists; repeatable.")
@click.option("--format", "fmt", type=reporters.CI_FORMATS, default="text", show_default=True,
              help="Output format: text, json, junit (JUnit XML), sarif (SARIF 2.1.0) or github (annotations).")
@click.option("-v", "--verbose", is_flag=True, help="List every scenario, not only failures.")
@click.option("--min-coverage", "min_coverage", type=click.FloatRange(0, 100), default=None, metavar="PERCENT",
              help="Fail when fewer than PERCENT of the rules are exercised by some scenario.")
@click.option("--engine", "engine", type=click.Choice(["row", "duckdb"]), default="row", show_default=True,
              help="duckdb: run the scenarios through the pack compiled to SQL (one query per as_of day, in an "
                   "embedded DuckDB); each must meet its expectations and equal the row engine's answer "
                   "(docs/engines.md). Slow: a query takes about a second to plan.")
@reporters.HELP_URI_OPTION
def test_cmd(pack: str, paths: tuple[str, ...], fmt: str, verbose: bool, min_coverage: float | None,
             help_uri: str | None, engine: str = "row") -> None:
    """Run PACK's scenario tests; report failures with file:line and a diff, then coverage.

    Exit 0 when every scenario passes (and coverage meets --min-coverage), 1 otherwise,
    including when no scenario ran.
    """
    from ..scenarios import run_pack_scenarios

    io = streams()
    policy = load_policy(pack)
    report = None
    if engine == "duckdb":
        from ._duck import notice, scenarios_sql

        report, why = scenarios_sql(policy, list(paths) if paths else None, io.err)
        if why is not None:
            notice(io.err, *why)
    if report is None:
        report = run_pack_scenarios(policy, list(paths) if paths else None)
    cov = report.coverage
    low = min_coverage is not None and cov.percent < min_coverage
    io.out.write(reporters.scenarios_report(fmt, pack=pack, pack_version=policy.pack.version, report=report,
                                            verbose=verbose, min_coverage=min_coverage,
                                            color=fmt == "text" and reporters.use_color(io.out), help_uri=help_uri))
    if fmt != "json":
        if not report.results:
            print("no scenarios ran: list scenario files under `scenarios:` in pack.yaml", file=io.err)
        if low:
            print(f"coverage {cov.percent:.1f}% is below --min-coverage {min_coverage:g}%", file=io.err)
    raise SystemExit(EXIT_OK if report.ok and not low else EXIT_FAIL)


cli.add_command(evaluate)
cli.add_command(render)
cli.add_command(sql)
cli.add_command(diff)
from .profile_cmd import check_profile_cmd  # noqa: E402 - kept next to its registration (one hunk to merge)
cli.add_command(check_profile_cmd)
from .serve_cmd import decision_log, serve  # noqa: E402 - kept next to its registration (one hunk to merge)
cli.add_command(serve)
cli.add_command(decision_log)


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None,
         stdin: BinaryIO | None = None) -> int:
    """Run the CLI with ``argv``; returns the exit code. Tests call this with StringIO streams
    (and BytesIO for ``stdin``, read when a RECORD or RECORDS argument is ``-``)."""
    real_stdout = stdout is None
    out = GuardedText(stdout or _std("stdout"), "<stdout>")
    ios = IOs(out=out, err=stderr or _std("stderr"),  # type: ignore[arg-type]
              inp=stdin if stdin is not None else _std("stdin"))
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            # click writes --help and its own messages to sys.stdout/err; point them at our streams
            with redirect_stdout(ios.out), redirect_stderr(ios.err):
                cli.main(args=args, prog_name="privacy-rules", standalone_mode=False, obj=ios)
        except SystemExit as exc:
            code = int(exc.code or 0)
        else:
            code = EXIT_OK
        out.flush()  # a closed pipe or a full disk behind stdout shows here at the latest
        return code
    except click.UsageError as exc:
        print(f"error: {exc.format_message()}", file=ios.err)
        if exc.ctx is not None:
            print(f"  help: run `{exc.ctx.command_path} --help`", file=ios.err)
        return EXIT_USAGE
    except click.exceptions.Abort:
        print("aborted", file=ios.err)
        return EXIT_USAGE
    except UsageFailure as exc:
        if isinstance(exc, OutputCutShort) and real_stdout:
            _silence_stdout()
        _report(ios.err, f"error: {escape(str(exc), keep_newlines=True)}")
        return EXIT_USAGE
    except PackError as exc:
        print("\n".join(str(reporters.escape_diagnostic(d)) for d in exc.diagnostics), file=ios.err)
        return EXIT_USAGE
    except (SourceError, SinkError) as exc:  # the input is not what its format says; the output cannot be written
        _report(ios.err, f"error: {escape(exc.message)}" + (f"\n  help: {escape(exc.help)}" if exc.help else ""))
        return EXIT_USAGE
    except BrokenPipeError:  # a stream click or rich wrote to directly
        if real_stdout:
            _silence_stdout()
        _report(ios.err, f"error: {OutputCutShort('<stdout>')}")
        return EXIT_USAGE
    except Exception:  # a bug: say so plainly, with the traceback to report
        ios.err.write(escape(traceback.format_exc(), keep_newlines=True))  # may quote record values
        print("internal error: this is a bug in privacy-rules; please report it with the traceback above",
              file=ios.err)
        return EXIT_BUG


def _std(name: str) -> Any:
    """The process's standard stream ``name``, or a stand-in when it was closed at start (``>&-``,
    ``<&-``, ``2>&-``: Python sets ``sys.stdout`` and friends to None). Writing to a closed
    stdout is "output cut short" (exit 2); a closed stderr drops the messages; reading a closed
    stdin is "stdin is closed" (exit 2). Each of them is handled here, once, for every command.

    The closed descriptor is also taken by /dev/null, so that no file the command opens later
    (an -o temp file, a database) gets descriptor 0, 1 or 2, where a library that prints would
    write into it.
    """
    fd = {"stdin": 0, "stdout": 1, "stderr": 2}[name]
    stream = getattr(sys, name)
    if stream is not None:
        return None if name == "stdin" else stream  # stdin: read through sys.stdin.buffer when needed
    _occupy(fd)
    return {"stdin": ClosedInput, "stdout": lambda: ClosedOutput("<stdout>"), "stderr": DiscardOutput}[name]()


def _occupy(fd: int) -> None:
    try:
        os.fstat(fd)
        return  # open after all (only the Python object is missing)
    except OSError:
        pass
    try:
        got = os.open(os.devnull, os.O_RDWR)
        if got != fd:
            os.dup2(got, fd, inheritable=False)
            os.close(got)
    except OSError:
        pass


def _report(err: TextIO, text: str) -> None:
    try:
        print(text, file=err)
    except (OSError, ValueError):  # stderr is gone too: the exit code still tells
        pass


def _silence_stdout() -> None:
    # After a broken pipe, Python flushes sys.stdout again at exit and prints a second error;
    # point the descriptor at /dev/null so that flush succeeds quietly (Python docs, "Note on
    # SIGPIPE"). Only for the process's real stdout: the CLI owns it then.
    if sys.stdout is None:  # closed at start: nothing will flush it
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def entry() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
