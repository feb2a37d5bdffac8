"""Plumbing every command shares: exit codes, streams, pack loading, as_of, records reading and
output files.

Imports go one way: ``main`` imports the command modules (``diff_cmd``, ``render_cmd``), and
every command module imports this one; nothing here imports a command.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, BinaryIO, Callable, Iterator, Sequence, TextIO, cast

import click

from ..dates import SUPPORTED_RANGE, in_supported_range, parse_date
from ..model import Diagnostic, Question, Severity
from ..pack import read_pack
from ..policy import Policy, QuestionError, compile_pack
from ..sources._base import too_long as too_long  # re-exported
from ..sources._text import BadLine as BadLine, LineReader as _LineReader  # re-exported
from .report import escape_diagnostic

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3
MAX_LINE = 1_000_000  # bytes per JSONL record line (and per decide record file); longer ones are refused


class UsageFailure(Exception):
    """A user error the CLI reports on stderr and exits 2 for."""


class OutputFailure(UsageFailure):
    """An output file or stdout could not be written (full disk, no permission, ...): exit 2."""

    def __init__(self, name: str, exc: BaseException | str) -> None:
        reason = exc if isinstance(exc, str) else (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__)
        super().__init__(f"cannot write `{name}`: {reason}")


class OutputCutShort(UsageFailure):
    """The reader closed stdout early (``| head``), or it was closed before the command started
    (``>&-``): the run did not finish; exit 2, not 0 or 1."""

    def __init__(self, name: str, *, closed_at_start: bool = False) -> None:
        if closed_at_start:
            super().__init__(f"output cut short: `{name}` was closed when the command started (e.g. `>&-`), so "
                             "nothing could be written; the run did not finish. Send stdout to a file or a pipe, or "
                             "use -o FILE where the command has one")
        else:
            super().__init__(f"output cut short: `{name}` was closed before everything was written (broken pipe); "
                             "the run did not finish")


class StreamClosed(OSError):
    """Reading or writing a standard stream that was closed when the process started."""


class ClosedOutput:
    """Stands for stdout when the process started with it closed (Python then sets
    ``sys.stdout`` to None): writing raises StreamClosed, which GuardedText turns into
    OutputCutShort (exit 2); flushing is fine, since nothing was written. A command whose
    output goes to ``-o FILE`` never writes here and runs as usual."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, text: str) -> int:
        raise StreamClosed(errno.EBADF, f"{self.name} is closed")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class DiscardOutput:
    """Stands for stderr when the process started with it closed: messages are dropped (the exit
    code still tells), so a closed stderr never changes what a command does or writes."""

    encoding = "utf-8"
    errors = "strict"

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class ClosedInput:
    """Stands for stdin (bytes) when the process started with it closed: every read raises
    StreamClosed, an OSError, which the readers of ``-`` report as "cannot read ... `<stdin>`:
    stdin is closed" (exit 2). Commands that do not read ``-`` never touch it."""

    def _closed(self, *args: Any) -> Any:
        raise StreamClosed(errno.EBADF, "stdin is closed")

    read = readline = read1 = readinto = peek = readlines = _closed

    def __iter__(self) -> Iterator[bytes]:
        return self._closed()  # type: ignore[no-any-return]

    def fileno(self) -> int:
        return self._closed()  # type: ignore[no-any-return]

    def close(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


@dataclass
class IOs:
    out: TextIO
    err: TextIO
    inp: BinaryIO | None = None  # stdin as bytes, for RECORD / RECORDS given as `-`


def streams() -> IOs:
    """The command's stdout/stderr (StringIO in tests), from the click context ``main`` set up."""
    return cast(IOs, click.get_current_context().obj)


def today_in(tz: str) -> date:
    # Only the CLI reads the clock (STYLE 9): the default as_of is today in the pack's time zone.
    import pendulum

    return pendulum.now(tz).date()


def load_policy(pack_path: str, lang: str = "en", recipient_facts: str | None = None) -> Policy:
    """The compiled pack at ``pack_path``; prints its diagnostics and raises UsageFailure if invalid.
    ``recipient_facts``: a processor register file (--recipient-facts) put in force (issue 11 item 4)."""
    pack, diags = read_pack(pack_path, lint=False)  # lint is for `check`; it never changes a decision
    if pack is None:
        for d in diags:
            print(str(escape_diagnostic(d)), file=streams().err)
        raise UsageFailure(f"pack `{pack_path}` is invalid; run `privacy-rules check {pack_path}` for details")
    policy = compile_pack(pack, lang=lang)
    if recipient_facts is not None:
        from ..recipients import RecipientFactsError, load_recipient_register

        try:
            policy = policy.with_register(load_recipient_register(recipient_facts))
        except RecipientFactsError as exc:
            raise UsageFailure(f"--recipient-facts: error {exc.code}: {exc}") from None
    return policy


RECIPIENT_FACTS_HELP = ("A processor register (YAML or JSON, docs/formats.md): DPA dates, transfers and "
                        "certifications per recipient, in force for this run in place of the pack's vocabulary; "
                        "a share answer says which source it used.")


def parse_question(text: str) -> Question:
    """A ``-q`` value: the text form, or the JSON object form (``{"action": "share", ...}``,
    for ``recipient_facts``); ValueError for either malformed."""
    if text.lstrip().startswith("{"):
        import json

        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"a question object must be JSON: {exc}") from None
        return Question.from_json(data)
    return Question.parse(text)


def parse_day(value: str, option: str = "--as-of") -> date:
    """A ``YYYY-MM-DD`` option value in the supported range (dates.SUPPORTED_RANGE), else UsageFailure."""
    try:
        day = parse_date(value)
    except ValueError as exc:
        raise UsageFailure(f"{option}: {exc}") from None
    if not in_supported_range(day):
        raise UsageFailure(f"{option}: `{day.isoformat()}` is outside the supported range {SUPPORTED_RANGE}")
    return day


def as_of_day(value: str | None, policy: Policy) -> date:
    """``--as-of`` as a day; without one, today in the pack's time zone."""
    if value is None:
        return today_in(str(policy.pack.meta.get("time_zone") or "UTC"))
    return parse_day(value)


def questions_for(values: Sequence[str], policy: Policy) -> list[Question]:
    """``-q`` values as checked questions; none given means the pack's standard questions."""
    if not values:
        return list(policy.standard_questions)
    out = []
    for text in values:
        try:
            out.append(policy.check_question(parse_question(text)))
        except (ValueError, QuestionError) as exc:
            raise UsageFailure(f"--question: {exc}") from None
    return out


QUESTION_SET_HELP = ("Ask the pack's question set NAME (pack.question_sets in pack.yaml) instead of the standard "
                     "questions, e.g. sweep: keep of every scope a retention job must ask. Not with -q.")


def questions_or_set(values: Sequence[str], set_name: str | None, policy: Policy) -> list[Question]:
    """``-q`` values, or the questions of ``--question-set NAME``; neither: the standard questions."""
    if set_name is None:
        return questions_for(values, policy)
    if values:
        raise UsageFailure("--question-set and -q/--question ask different questions: give one of them")
    sets = policy.question_sets
    if set_name not in sets:
        import difflib

        close = difflib.get_close_matches(set_name, list(sets), n=1, cutoff=0.6)
        hint = (f"did you mean `{close[0]}`?" if close else
                "the pack defines " + ", ".join(f"`{n}`" for n in sets) if sets else
                "the pack defines none: add pack.question_sets to pack.yaml, or ask with -q")
        raise UsageFailure(f"--question-set: unknown question set `{set_name}`\n  help: {hint}")
    return list(sets[set_name])


# --- input -------------------------------------------------------------------------------------


def open_records(path: str, what: str = "records file") -> BinaryIO:
    """``path`` opened for reading bytes; ``-`` is stdin. UsageFailure if it cannot be opened."""
    if path == "-":
        inp = streams().inp
        return inp if inp is not None else sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UsageFailure(f"cannot read {what} `{path}`: {exc.strerror or exc}") from None


def progress_bar(show: bool, position: Callable[[], tuple[int, int]], err: TextIO) -> Any:
    """A context manager giving ``tick()``, called once per record: a rich progress bar on
    ``err`` (when ``show``) over ``position() -> (done, total)``, refreshed every 2,048 ticks."""
    return _progress(show, position, err)


@contextmanager
def _progress(show: bool, position: Callable[[], tuple[int, int]], err: TextIO) -> Iterator[Callable[[], None]]:
    if not show:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("evaluating"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=Console(file=err), transient=True) as bar:
        total = position()[1]
        task = bar.add_task("records", total=total or None)
        count = 0

        def tick() -> None:
            nonlocal count
            count += 1
            if count % 2048 == 0:
                bar.update(task, completed=position()[0])

        yield tick
        bar.update(task, completed=total)


def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


class LineReader(_LineReader):
    """sources.LineReader with this module's MAX_LINE, read when the reader is made (tests lower it)."""

    def __init__(self, fh: IO[bytes], name: str) -> None:
        super().__init__(fh, name, MAX_LINE)


def read_record_bytes(path: str) -> bytes:
    """The bytes of a one-record file (or stdin for ``-``); UsageFailure if unreadable, empty or
    larger than MAX_LINE."""
    name = display_name(path)
    fh = open_records(path, "record file")
    try:
        data = fh.read(MAX_LINE + 1)
    except OSError as exc:
        raise UsageFailure(f"cannot read record file `{name}`: {exc.strerror or exc}") from None
    finally:
        if path != "-":
            fh.close()
    if len(data) > MAX_LINE:
        raise UsageFailure(f"record file `{name}` is larger than {MAX_LINE:,} bytes; it should hold one record")
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise UsageFailure(f"record file `{name}` is empty; it should hold one JSON object")
    return data


# --- output ------------------------------------------------------------------------------------


class GuardedText:
    """A text stream whose write failures become OutputFailure / OutputCutShort (exit 2).

    Text no output encoding can carry (a lone surrogate from a broken record) is written with
    backslash escapes instead of failing: ``\\ud800``, which is also how JSON escapes it.
    """

    def __init__(self, stream: TextIO, name: str) -> None:
        self.stream = stream
        self.name = name

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except UnicodeEncodeError:
            return int(self._guard(lambda: self.stream.write(_escape(text, getattr(self.stream, "encoding", None)))))
        except OSError as exc:
            raise self._failure(exc) from None

    def flush(self) -> None:
        self._guard(self.stream.flush)

    def isatty(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def __getattr__(self, name: str) -> Any:  # encoding, errors, fileno ... for click and rich
        return getattr(self.stream, name)

    def _guard(self, fn: Any) -> Any:
        try:
            return fn()
        except OSError as exc:
            raise self._failure(exc) from None

    def _failure(self, exc: OSError) -> UsageFailure:
        if isinstance(exc, StreamClosed):
            return OutputCutShort(self.name, closed_at_start=True)
        if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
            return OutputCutShort(self.name)
        return OutputFailure(self.name, exc)


def _escape(text: str, encoding: str | None) -> str:
    return text.encode(encoding or "utf-8", "backslashreplace").decode(encoding or "utf-8")


@contextmanager
def output_to(path: str | None, stdout: TextIO) -> Iterator[TextIO]:
    """Where a command's result goes: ``path`` (atomically) or ``stdout``.

    Every failure to write, at any point, is an OutputFailure naming the file (exit 2), and
    no temp file is left behind. A path that exists and is not a regular file (a device such
    as /dev/null or /dev/full, a FIFO) is written in place: it cannot be replaced by a rename.
    """
    if path is None:
        yield stdout if isinstance(stdout, GuardedText) else cast(TextIO, GuardedText(stdout, "<stdout>"))
        return
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputFailure(path, exc) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputFailure(path, "it is a directory; give a file name")
    if mode is not None and not stat.S_ISREG(mode):
        try:
            fh = open(path, "w", encoding="utf-8", errors="backslashreplace", newline="\n")
        except OSError as exc:
            raise OutputFailure(path, exc) from None
        guarded = GuardedText(fh, path)
        try:
            yield cast(TextIO, guarded)
            guarded.flush()
        finally:
            try:
                fh.close()
            except OSError:
                pass  # the flush above already reported it; close after a failed flush fails again
        return
    with atomic_writer(path) as tmp:
        yield tmp


@contextmanager
def atomic_writer(path: str) -> Iterator[TextIO]:
    """Write to a temp file in the same folder, then os.replace: readers never see half a file.

    Every OSError (while creating, writing, flushing, closing or renaming) is an OutputFailure
    naming ``path``; the temp file is removed on any failure.
    """
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent or "."))
    except OSError as exc:
        raise OutputFailure(path, exc) from None
    done = False
    try:
        raw = os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="\n")
        written = False
        try:
            fh = GuardedText(raw, path)
            yield cast(TextIO, fh)
            fh.flush()
            written = True
        finally:
            try:
                raw.close()
            except OSError as exc:
                if written:  # otherwise an error is already on its way; do not hide it
                    raise OutputFailure(path, exc) from None
        try:
            # mkstemp makes the file owner-only; give it the permissions a plain open() would
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)
            os.replace(tmp, target)
        except OSError as exc:
            raise OutputFailure(path, exc) from None
        done = True
    finally:
        if not done:
            try:
                os.unlink(tmp)
            except OSError:
                pass
