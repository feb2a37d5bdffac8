"""Plumbing every command shares: exit codes, streams, pack loading, as_of, records reading and
atomic output files.

Imports go one way: ``main`` imports the command modules (``diff_cmd``, ``render_cmd``), and
every command module imports this one; nothing here imports a command.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, Iterator, Sequence, TextIO, cast

import click

from ..dates import parse_date
from ..model import Question
from ..pack import read_pack
from ..policy import Policy, QuestionError, compile_pack

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3
MAX_LINE = 1_000_000  # bytes per JSONL record line; longer lines become undetermined


class UsageFailure(Exception):
    """A user error the CLI reports on stderr and exits 2 for."""


@dataclass
class IOs:
    out: TextIO
    err: TextIO


def streams() -> IOs:
    """The command's stdout/stderr (StringIO in tests), from the click context ``main`` set up."""
    return cast(IOs, click.get_current_context().obj)


def today_in(tz: str) -> date:
    # Only the CLI reads the clock (STYLE 9): the default as_of is today in the pack's time zone.
    import pendulum

    return pendulum.now(tz).date()


def load_policy(pack_path: str, lang: str = "en") -> Policy:
    """The compiled pack at ``pack_path``; prints its diagnostics and raises UsageFailure if invalid."""
    pack, diags = read_pack(pack_path)
    if pack is None:
        for d in diags:
            print(str(d), file=streams().err)
        raise UsageFailure(f"pack `{pack_path}` is invalid; run `privacy-rules check {pack_path}` for details")
    return compile_pack(pack, lang=lang)


def as_of_day(value: str | None, policy: Policy) -> date:
    """``--as-of`` as a day; without one, today in the pack's time zone."""
    if value is None:
        return today_in(str(policy.pack.meta.get("time_zone") or "UTC"))
    try:
        return parse_date(value)
    except ValueError as exc:
        raise UsageFailure(f"--as-of: {exc}") from None


def questions_for(values: Sequence[str], policy: Policy) -> list[Question]:
    """``-q`` values as checked questions; none given means the pack's standard questions."""
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
def atomic_writer(path: str) -> Iterator[TextIO]:
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


@contextmanager
def nullcontext(value: TextIO) -> Iterator[TextIO]:
    yield value


def iter_jsonl(fh: IO[bytes]) -> Iterator[tuple[int, Any, str | None]]:
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


class BadLine:
    """Stands in for a line that was not JSON: decide_batch reports it as a bad record."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
