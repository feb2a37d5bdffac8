"""CSV: a header row, then one row per record; streamed with the standard library's csv module.

Why not DuckDB's CSV reader: it fails a whole file on one ragged row, or (``ignore_errors``)
drops rows silently; a sweep must give every row an answer, a bad one included. Python's
reader reports each row on its own, with the line it starts on.
"""

from __future__ import annotations

import csv
import re
from typing import IO, Iterator

from ..errors import shown
from ._base import MAX_LINE, Source, SourceError, SourceRow, Unreadable, problem
from ._text import display

DELIMITERS = (",", ";", "\t", "|")
_QUOTED = re.compile(r'"[^"]*"')
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, kept by surrogateescape


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a CSV file from its header line: whichever of ``,`` ``;`` tab ``|``
    occurs most outside quotes (a comma when none does). Excel writes ``;`` where the decimal
    mark is a comma (Norwegian, German ... settings)."""
    bare = _QUOTED.sub("", header_line)
    counts = [(bare.count(d), -i, d) for i, d in enumerate(DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] else ","


class CsvSource(Source):
    """A CSV file with a header row. Values are text; a row whose every value is empty is
    skipped like a blank line. Encoding UTF-8 (a byte-order mark is skipped).

    Per row (the rest is read on): the wrong number of values (PR702), a quoting error
    (PR702), a value that is not UTF-8 (PR703), a value over the csv module's field limit
    (PR702). For the whole file (SourceError, nothing decided): no header, an empty or
    repeated column name, a header that is not UTF-8, a line over ``limit`` bytes.
    """

    format = "csv"

    def __init__(self, fh: IO[bytes], name: str, *, delimiter: str | None = None, limit: int = MAX_LINE,
                 size: int = 0, owned: bool = True) -> None:
        self.fh = fh
        self.name = name
        self.limit = limit
        self.size = size
        self.owned = owned
        self.consumed = 0
        self._lines_read = 0
        self._lines = self._physical_lines()
        first = self._first_line()
        if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
            raise SourceError(f"--delimiter: `{shown(delimiter)}` is not a delimiter",
                              "give one character such as `,`, `;` or `\\t` (a tab)")
        self.delimiter = delimiter or sniff_delimiter(first)
        self._reader = csv.reader(self._chain(first), delimiter=self.delimiter, quotechar='"', doublequote=True,
                                  strict=True)
        self.columns: tuple[str, ...] = self._header()

    def _physical_lines(self) -> Iterator[str]:
        first = True
        while True:
            try:
                raw = self.fh.readline(self.limit + 1)
            except OSError as exc:
                raise SourceError(f"cannot read records file `{display(self.name)}`: {exc.strerror or exc}") from None
            if not raw:
                return
            self._lines_read += 1
            self.consumed += len(raw)
            if len(raw) > self.limit and raw[self.limit:] not in (b"\n", b"\r\n", b"\r"):
                raise SourceError(f"{display(self.name)}:{self._lines_read}: a line longer than {self.limit:,} bytes",
                                  "a CSV row is one person's data; is this a CSV file, with line breaks?")
            text = raw.decode("utf-8", "surrogateescape")
            if first:
                first = False
                if text.startswith("\ufeff"):
                    text = text[1:]
            yield text

    def _first_line(self) -> str:
        for line in self._lines:
            if line.strip(" \t\r\n"):
                return line
        raise SourceError(f"`{display(self.name)}` is empty: a CSV records file starts with a header row",
                          "write the column names on the first line (docs/sources.md)")

    def _chain(self, first: str) -> Iterator[str]:
        yield first
        yield from self._lines

    def _header(self) -> tuple[str, ...]:
        try:
            row = next(self._reader)
        except csv.Error as exc:
            raise SourceError(f"{display(self.name)}:{self._reader.line_num}: the header row is not valid CSV: {exc}") \
                from None
        names = tuple(c.strip(" \t") for c in row)
        where = f"{display(self.name)}:{self._reader.line_num}"
        for i, c in enumerate(names):
            if _ESCAPED_BYTE.search(c):
                raise SourceError(f"{where}: the header is not UTF-8 text",
                                  "save the file as UTF-8 (Excel: \"CSV UTF-8\")")
            if not c:
                raise SourceError(f"{where}: column {i + 1} of the header has no name", "name every column")
            if c in names[:i]:
                raise SourceError(f"{where}: column `{shown(c)}` is named twice", "name every column once")
        self._header_lines = self._reader.line_num
        return names

    def rows(self, *, raw: bool = False) -> Iterator[SourceRow]:
        reader, cols = self._reader, self.columns
        width = len(cols)
        prev = self._header_lines
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                start = prev + 1
                prev = reader.line_num
                yield SourceRow(f"line {start}", start, Unreadable((problem(
                    "PR702", f"not valid CSV: {exc}", "quote a value that holds the delimiter, a quote or a line "
                    "break, and double the quotes inside it"),)))
                continue
            start = prev + 1
            prev = reader.line_num
            if not any(row):
                continue  # a blank line, or only delimiters
            loc = f"line {start}"
            if len(row) != width:
                yield SourceRow(loc, start, Unreadable((problem(
                    "PR702", f"the row has {len(row)} value{'s' if len(row) != 1 else ''}; the header has {width} "
                    "columns", f"check the delimiter (`{shown(self.delimiter)}`) and the quoting of this row"),)))
                continue
            bad = [c for c, v in zip(cols, row) if not v.isascii() and _ESCAPED_BYTE.search(v)]
            if bad:
                yield SourceRow(loc, start, Unreadable(tuple(problem(
                    "PR703", f"column `{shown(c)}` is not UTF-8 text", "save the file as UTF-8 (Excel: \"CSV UTF-8\")")
                    for c in bad)))
                continue
            yield SourceRow(loc, start, dict(zip(cols, row)))

    def progress(self) -> tuple[int, int]:
        return self.consumed, self.size

    def close(self) -> None:
        if self.owned:
            self.fh.close()
