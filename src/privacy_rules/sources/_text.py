"""JSON sources: JSON Lines (one record per line) and a JSON array (one record per item).

Both keep each record as its JSON *text* until the policy (or :func:`parse_row`) parses it
with duplicate-key detection (records.parse_record): ``json.loads`` keeps the last of two equal
keys, which could hide an objection. Memory is bounded by the per-record cap, whatever the
input: a longer line or item is read past in chunks, never held, and becomes an Unreadable
row with PR314.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import IO, Any, Iterator

from ..errors import shown
from ..records import RecordInvalid, Scanner, new_scanner, parse_record
from ._base import CHUNK, MAX_LINE, Source, SourceError, SourceRow, Unreadable, problem, too_long

_BLANK = frozenset(b" \t\r\n")  # JSON whitespace: a line of only these is blank


class BadLine:
    """Stands in for a line that cannot even be handed to decide_batch (longer than the cap)."""

    def __init__(self, problem: Any) -> None:
        self.problem = problem


class LineReader:
    """(line number, the line's bytes or a BadLine) for each line that is not blank.

    Memory is bounded by ``limit`` whatever the input: a longer line is skipped in chunks of
    64 KiB, never held, and becomes a BadLine. Blank lines (JSON whitespace only) are not
    records and yield nothing; the ``line`` numbers of the other lines still count them.
    ``consumed`` is the number of bytes read so far (progress on pipes, where tell() fails).
    """

    def __init__(self, fh: IO[bytes], name: str, limit: int = MAX_LINE) -> None:
        self.fh = fh
        self.name = name
        self.limit = limit
        self.consumed = 0

    def __iter__(self) -> Iterator[tuple[int, bytes | BadLine]]:
        n = 0
        limit = self.limit
        readline = self.fh.readline
        while True:
            try:
                raw = readline(limit + 1)
            except OSError as exc:
                raise self._unreadable(exc) from None
            if not raw:
                return
            n += 1
            self.consumed += len(raw)
            if len(raw) > limit and raw[limit:] != b"\n":  # content (without its newline) is over the cap
                while not raw.endswith(b"\n"):
                    try:
                        raw = readline(CHUNK)
                    except OSError as exc:
                        raise self._unreadable(exc) from None
                    if not raw:
                        break
                    self.consumed += len(raw)
                yield n, BadLine(too_long(limit))
            elif raw[0] in _BLANK and not raw.strip(b" \t\r\n"):
                continue
            else:
                yield n, raw

    def _unreadable(self, exc: OSError) -> SourceError:
        return SourceError(f"cannot read records file `{display(self.name)}`: {exc.strerror or exc}")


def display(name: str) -> str:
    return "<stdin>" if name == "-" else shown(name, 200)


def parse_row(text: str | bytes, scan: Scanner) -> Any:
    """The JSON object in ``text`` as a host row, or an Unreadable saying why it is not one."""
    try:
        value = parse_record(text, scan)
    except RecordInvalid as exc:
        return Unreadable(exc.problems, exc.record_id)
    if not isinstance(value, dict):
        kind = {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number",
                type(None): "null"}.get(type(value), type(value).__name__)
        return Unreadable((problem("PR704", f"a row must be a JSON object, not {kind}",
                                   "write one JSON object per record"),))
    return value


class JsonlSource(Source):
    """JSON Lines: one record per line; blank lines are skipped (their numbers still count)."""

    format = "jsonl"

    def __init__(self, fh: IO[bytes], name: str, *, limit: int = MAX_LINE, size: int = 0, owned: bool = True) -> None:
        self.fh = fh
        self.name = name
        self.limit = limit
        self.size = size
        self.owned = owned
        self._reader: LineReader | None = None

    def rows(self, *, raw: bool = False) -> Iterator[SourceRow]:
        reader = self._reader = LineReader(self.fh, self.name, self.limit)
        scan = new_scanner()
        for n, item in reader:
            loc = f"line {n}"
            if isinstance(item, BadLine):
                yield SourceRow(loc, n, Unreadable((item.problem,)))
            else:
                yield SourceRow(loc, n, item if raw else parse_row(item, scan))

    def progress(self) -> tuple[int, int]:
        return (self._reader.consumed if self._reader else 0), self.size

    def close(self) -> None:
        if self.owned:
            self.fh.close()


# --- a JSON array, streamed ------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_OUT = re.compile(r'["\[\]{}]')  # outside a string: what starts a string or changes the depth
_IN = re.compile(r'["\\]')  # inside a string: its end, or an escape
_SCALAR_END = re.compile(r"[ \t\n\r,\]}]")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # an undecodable byte, kept by surrogateescape
#: members of a top-level object whose array holds the records: HubSpot CRM API list pages
#: (`{"results": [...], "paging": ...}`) and Salesforce REST query results (`{"records": [...]}`)
ITEM_KEYS = ("results", "records")


class _Skip:
    """Finds where one JSON value ends by its brackets and strings only, resumably: for values
    the fast parser refused (cut by the buffer's end, too deep, too long). Never parses."""

    __slots__ = ("depth", "in_str", "scalar", "esc", "at")

    def __init__(self, s: str, i: int) -> None:
        c = s[i]
        self.in_str = c == '"'
        self.depth = 1 if c in "[{" else 0
        self.scalar = not self.in_str and not self.depth
        self.esc = False
        self.at = i if self.scalar else i + 1  # where to go on

    def run(self, s: str) -> int | None:
        """Index just past the value's end in ``s``, or None: ``s`` ended first (``at`` is then
        where to go on once more text is appended)."""
        i, n = self.at, len(s)
        if self.scalar:
            m = _SCALAR_END.search(s, i)
            self.at = n
            return m.start() if m else None
        if self.esc:
            if i >= n:
                return None
            i += 1
            self.esc = False
        while True:
            if self.in_str:
                m = _IN.search(s, i)
                if m is None:
                    self.at = n
                    return None
                j = m.start()
                if s[j] == "\\":
                    if j + 1 >= n:
                        self.esc, self.at = True, n
                        return None
                    i = j + 2
                    continue
                self.in_str = False
                i = j + 1
                if self.depth == 0:
                    return i
                continue
            m = _OUT.search(s, i)
            if m is None:
                self.at = n
                return None
            j = m.start()
            c = s[j]
            if c == '"':
                self.in_str = True
            elif c == "[" or c == "{":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth == 0:
                    return j + 1
            i = j + 1


class JsonArraySource(Source):
    """A JSON array of records, streamed item by item; or a top-level object whose ``results``
    or ``records`` member is that array (an API list page; its other members are skipped).

    A syntax error between or inside items makes the whole file unreadable (SourceError with
    line and column): a JSON document with a syntax error has no reliable item boundaries.
    Problems a single item can have on its own (a duplicate key, NaN, nesting too deep, a
    number too long, not UTF-8, over the cap) are that item's, and the rest is read on.
    """

    format = "json"

    def __init__(self, fh: IO[bytes], name: str, *, limit: int = MAX_LINE, size: int = 0, owned: bool = True) -> None:
        self.fh = fh
        self.name = name
        self.limit = limit
        self.size = size
        self.owned = owned
        self.consumed = 0
        self._dec = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self._plain = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # finds an item's end, fast
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line0 = 1  # the line of buf[0]
        self._lc_pos = 0  # newlines in buf[:_lc_pos] are counted in _lc
        self._lc = 0

    # -- buffer ------------------------------------------------------------------------------
    def _more(self, keep: int) -> int:
        """Read one more chunk, dropping buf[:keep] first; returns how far indices shifted."""
        if self.eof:
            return 0
        if keep >= self._lc_pos:
            self.line0 += self._lc + self.buf.count("\n", self._lc_pos, keep)
        else:
            self.line0 += self.buf.count("\n", 0, keep)
        self._lc = self._lc_pos = 0
        try:
            raw = self.fh.read(CHUNK)
        except OSError as exc:
            raise SourceError(f"cannot read records file `{display(self.name)}`: {exc.strerror or exc}") from None
        self.consumed += len(raw)
        text = self._dec.decode(raw, final=not raw)
        if not raw:
            self.eof = True
        self.buf = self.buf[keep:] + text
        self.pos -= keep
        return keep

    def _line_at(self, p: int) -> int:
        if p > self._lc_pos:
            self._lc += self.buf.count("\n", self._lc_pos, p)
            self._lc_pos = p
        elif p < self._lc_pos:
            return self.line0 + self.buf.count("\n", 0, p)
        return self.line0 + self._lc

    def _where(self, p: int) -> str:
        line = self._line_at(p)
        col = p - (self.buf.rfind("\n", 0, p) + 1) + 1
        return f"{display(self.name)}:{line}:{col}"

    def _ws(self) -> str:
        """The next character after whitespace ('' at the end of the file); pos points at it."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if self.eof:
                return ""
            self._more(self.pos)

    def _fail(self, what: str, help: str | None = None) -> SourceError:
        where = self._where(self.pos) if self.pos < len(self.buf) else display(self.name)  # at the end: no column
        return SourceError(f"{where}: {what}", help or "a JSON records file is one array of objects, "
                           "`[{...}, {...}]`; for one object per line pass --input-format jsonl")

    # -- items -------------------------------------------------------------------------------
    def rows(self, *, raw: bool = False) -> Iterator[SourceRow]:
        scan = new_scanner()
        n = 0
        for line, item in self._items():
            n += 1
            loc = f"item {n}"
            if isinstance(item, Unreadable):
                yield SourceRow(loc, line, item)
                continue
            if not item.isascii() and _ESCAPED_BYTE.search(item):
                text: str | bytes = item.encode("utf-8", "surrogateescape")  # parse_record says PR311 for it
            else:
                text = item
            # raw: the policy parses the record's text; an item that is not an object is named here
            # (the policy would read a JSON string's content as JSON text once more)
            yield SourceRow(loc, line, text if raw and item[:1] == "{" else parse_row(text, scan))

    def _items(self) -> Iterator[tuple[int, str | Unreadable]]:
        while not self.buf and not self.eof:
            self._more(0)
        if self.buf.startswith("\ufeff"):
            self.pos = 1  # a byte-order mark before the array
        c = self._ws()
        if c == "[":
            self.pos += 1
            yield from self._array()
        elif c == "{":
            yield from self._page()
        elif c == "":
            raise SourceError(f"`{display(self.name)}` is empty: a JSON records file is one array, `[...]`",
                              "write `[]` for no records")
        else:
            raise self._fail(f"not a JSON array: it starts with `{shown(c)}`")
        if self._ws() != "":
            raise self._fail("more data after the end of the JSON array")

    def _array(self) -> Iterator[tuple[int, str | Unreadable]]:
        c = self._ws()
        if c == "]":
            self.pos += 1
            return
        while True:
            if c == "":
                raise self._fail("the file ends inside the array (cut short?)")
            yield self._line_at(self.pos), self._item()
            c = self._ws()
            if c == ",":
                self.pos += 1
                c = self._ws()
                if c == "]":
                    raise self._fail("a `,` before `]` (JSON has no trailing commas)")
            elif c == "]":
                self.pos += 1
                return
            elif c == "":
                raise self._fail("the file ends inside the array (cut short?)")
            else:
                raise self._fail(f"expected `,` or `]` after an item, found `{shown(c)}`")

    def _page(self) -> Iterator[tuple[int, str | Unreadable]]:
        """A top-level object: the records are the array of its ``results`` or ``records`` member."""
        self.pos += 1
        found = False
        c = self._ws()
        while c != "}":
            if c != '"':
                raise self._fail("expected a member name in the top-level object")
            key = self._item()
            if isinstance(key, Unreadable):
                raise self._fail("a member name longer than the record size cap")
            name = json.loads(key)
            if self._ws() != ":":
                raise self._fail("expected `:` after a member name")
            self.pos += 1
            c = self._ws()
            if name in ITEM_KEYS and c == "[" and not found:
                found = True
                self.pos += 1
                yield from self._array()
            elif c == "":
                raise self._fail("the file ends inside the top-level object")
            else:
                self._skip_value()
            c = self._ws()
            if c == ",":
                self.pos += 1
                c = self._ws()
            elif c != "}":
                raise self._fail("expected `,` or `}` in the top-level object")
        self.pos += 1
        if not found:
            raise SourceError(f"`{display(self.name)}` holds one JSON object, not an array of records",
                              "pass a JSON array of records, an API page with a `results` or `records` array, "
                              "or one object per line with --input-format jsonl")

    def _item(self) -> str | Unreadable:
        """The JSON text of the value at pos (pos moves past it), or an Unreadable over the cap."""
        start = self.pos
        while True:
            try:
                _, end = self._plain(self.buf, start)
            except StopIteration as stop:  # no value where one must start (or, nested: cut short)
                if stop.value == start:
                    raise self._fail("expected a value") from None
                break
            except (ValueError, RecursionError):  # JSONDecodeError included: cut short, or a real error
                break
            if end < len(self.buf) or self.eof:
                if end - start > self.limit:
                    self.pos = end
                    return Unreadable((too_long(self.limit),))
                self.pos = end
                return self.buf[start:end]
            start -= self._more(start)  # a number at the buffer's end may go on in the next chunk
        skip = _Skip(self.buf, start)
        end_or_none = skip.run(self.buf)
        while end_or_none is None:
            if len(self.buf) - start > self.limit:
                return self._skip_rest(skip)
            if self.eof:
                self.pos = len(self.buf)
                raise self._fail("the file ends inside an item (cut short?)")
            shift = self._more(start)
            start -= shift
            skip.at -= shift
            end_or_none = skip.run(self.buf)
        end = end_or_none
        self.pos = end
        if end - start > self.limit:
            return Unreadable((too_long(self.limit),))
        text = self.buf[start:end]
        try:
            self._plain(text, 0)
        except StopIteration as stop:  # a value expected inside the item
            self.pos = start + int(stop.value)
            raise self._fail("not valid JSON: expecting a value") from None
        except json.JSONDecodeError as exc:
            self.pos = start + exc.pos
            raise self._fail(f"not valid JSON: {exc.msg}") from None
        except (ValueError, RecursionError):
            pass  # too deep, or a number too long: the item's own problem (PR312, PR313)
        return text

    def _skip_rest(self, skip: _Skip) -> Unreadable:
        """Read past the rest of an item over the cap, holding at most one chunk."""
        while True:
            if self.eof:
                self.pos = len(self.buf)
                raise self._fail("the file ends inside an item (cut short?)")
            skip.at -= self._more(skip.at)  # keep nothing already scanned
            end = skip.run(self.buf)
            if end is not None:
                self.pos = end
                return Unreadable((too_long(self.limit),))

    def _skip_value(self) -> None:
        """Move pos past the value there, in bounded memory (a member of an API page we ignore)."""
        skip = _Skip(self.buf, self.pos)
        while True:
            end = skip.run(self.buf)
            if end is not None:
                self.pos = end
                return
            if self.eof:
                if skip.scalar:
                    self.pos = len(self.buf)
                    return
                raise self._fail("the file ends inside the top-level object")
            shift = self._more(skip.at)
            skip.at -= shift

    def progress(self) -> tuple[int, int]:
        return self.consumed, self.size

    def close(self) -> None:
        if self.owned:
            self.fh.close()
