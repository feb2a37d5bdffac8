"""The pack's policy text (``pack.source``): confined to the pack folder, readable, and quoted exactly.

A pack must stand on its own: the policy text it encodes ships inside the pack folder, as its
rule files do (PR009), so a clone of the repository that holds the pack has everything the
review document points to. Codes:

* PR220 (error): ``source`` lies outside the pack folder (``..``, an absolute path, a symbolic
  link leading out) or is a URL other than http(s);
* PR221 (error): ``source`` names a file that cannot be read as text (missing, not a regular
  file, not UTF-8, larger than ``MAX_SOURCE_BYTES``);
* PR222 (warning): a norm's ``quote`` or a rule's ``cites.quote`` does not occur in the policy
  text. Quotes are what a lawyer reads as "the sentence this rests on", so a copy mistake
  matters; the comparison ignores differences in whitespace (line breaks, indentation) and
  Unicode normalisation form, and an ellipsis (``...`` or ``…``) that opens or closes the quote
  to mark a cut, nothing else.

An http(s) URL is accepted as it is: nothing is fetched, so its quotes are not checked.
Reading the file is the only I/O; the checks never raise for user input.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterator

from ..load import LoadedYaml
from ..model import Diagnostic, Pack, Severity, Span

# A policy notice is a few pages; a larger file is refused with a code, never read in part.
MAX_SOURCE_BYTES = 2_000_000
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_WEB = re.compile(r"^https?://\S+$", re.IGNORECASE)
# How much of the text around a mismatch the help shows (characters, each side).
_CONTEXT = 30
# A matching prefix shorter than this says nothing about where a quote went wrong.
_MIN_PREFIX = 12


def _normalise(text: str) -> str:
    """One space for every whitespace run, NFC composed characters: the comparison form."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _unelided(quote: str) -> str:
    """The quote without an ellipsis that marks a cut at its start or end ("... i 24 måneder.")."""
    q = _normalise(quote)
    for mark in ("...", "…"):
        if q.startswith(mark):
            q = q[len(mark):].lstrip()
        if q.endswith(mark):
            q = q[:-len(mark)].rstrip()
    return q


def _quotes(info: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """(path under the norm entry, quote) for each quote of one `norms` entry."""
    if not isinstance(info, Mapping):
        return []
    quote = info.get("quote")
    if isinstance(quote, str):
        return [(("quote",), quote)]
    if isinstance(quote, (list, tuple)):
        return [(("quote", i), q) for i, q in enumerate(quote) if isinstance(q, str)]
    return []


def _inside(folder: Path, target: Path) -> bool:
    try:
        target.resolve().relative_to(folder.resolve())
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return False
    return True


def _read_text(path: Path) -> tuple[str | None, str | None]:
    """(text, None) or (None, why it cannot be read). Never blocks on a FIFO or device."""
    try:
        # O_NONBLOCK: opening a FIFO for reading must not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None, "does not exist"
    except OSError as exc:
        return None, f"cannot be opened ({exc.strerror or exc})"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, "is not a regular file"
        if info.st_size > MAX_SOURCE_BYTES:
            return None, f"is larger than {MAX_SOURCE_BYTES:,} bytes"
        chunks = []
        size = 0
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_SOURCE_BYTES:  # grew after fstat
                return None, f"is larger than {MAX_SOURCE_BYTES:,} bytes"
            chunks.append(chunk)
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"is not UTF-8 text (invalid byte at offset {exc.start})"


def _mismatch_help(quote: str, text: str, where: str) -> str:
    """Where a quote leaves the policy text: the longest prefix that occurs, then both continuations."""
    lo, hi = 0, len(quote)  # invariant: quote[:lo] occurs in text, quote[:hi + 1] does not
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if quote[:mid] in text:
            lo = mid
        else:
            hi = mid - 1
    if lo < _MIN_PREFIX:
        return f"copy the sentence exactly from `{where}`, or remove the quote if the policy text does not say it"
    at = text.index(quote[:lo]) + lo
    start = max(0, lo - _CONTEXT)
    quoted = quote[start:lo + _CONTEXT]
    actual = text[at - (lo - start):at + _CONTEXT]
    return (f"the quote follows `{where}` up to character {lo + 1}, then reads `{quoted}` where the policy text "
            f"reads `{actual}`; copy the sentence exactly")


def iter_source_problems(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR220/PR221 for ``pack.source``, then PR222 for each norm quote the policy text does not contain."""
    source = pack.meta.get("source")
    if not isinstance(source, str) or not source:
        return
    span: Span = head.span_for(("pack", "source"))
    if _WEB.match(source):
        return  # informational link; nothing is fetched, so nothing to compare quotes with
    folder = Path(pack.root)
    if _SCHEME.match(source) or os.path.isabs(source) or not _inside(folder, folder / source):
        yield Diagnostic(
            code="PR220", severity=Severity.ERROR, span=span,
            message=f"policy text `{source}` lies outside the pack folder",
            help="copy the policy text into the pack folder (e.g. `policy/notice.txt`) and give its path relative "
                 "to pack.yaml, without `..`; or give an https URL")
        return
    text, problem = _read_text(folder / source)
    if text is None:
        yield Diagnostic(
            code="PR221", severity=Severity.ERROR, span=span,
            message=f"policy text `{source}` {problem}",
            help="ship the policy text in the pack folder as a UTF-8 text file and point `source` at it")
        return
    haystack = _normalise(text)
    norms = pack.meta.get("norms")
    if not isinstance(norms, Mapping):
        norms = {}
    for nid, info in norms.items():
        for path, quote in _quotes(info):
            needle = _unelided(quote)
            if needle and needle not in haystack:
                yield Diagnostic(
                    code="PR222", severity=Severity.WARNING, span=head.span_for(("pack", "norms", nid, *path)),
                    message=f"norm `{nid}`: the quote does not occur in the policy text `{source}`",
                    help=_mismatch_help(needle, haystack, source))
    for rule in pack.rules:
        needle = _unelided(rule.citation.quote or "")
        if needle and needle not in haystack:
            yield Diagnostic(
                code="PR222", severity=Severity.WARNING, span=rule.span, rule_id=rule.id,
                message=f"the quote under `cites` does not occur in the policy text `{source}`",
                help=_mismatch_help(needle, haystack, source))
