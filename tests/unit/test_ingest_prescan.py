"""ingest.prescan: which JSON Lines files DuckDB may read line by line (issue 9). A blank line
anywhere (the row engine skips it but counts its number) sends the file to the Python reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy_rules.sql.ingest import NotNative, prescan

CASES = [
    (b'{"a":1}\n', True),
    (b'{"a":1}', True),  # no newline at the end
    (b'{"a":1}\n{"b":2}', True),
    (b'{"a": 1}\n\t{"b":2}\n', True),  # leading tab on a line with content
    (b'\n{"a":1}\n', False),  # first line empty
    (b' \n{"a":1}\n', False),  # first line of blanks
    (b'{"a":1}\n\n', False),  # an empty last line
    (b'{"a":1}\n\n{"b":1}\n', False),
    (b'{"a":1}\n \t\n{"b":2}\n', False),  # a line of blanks inside
    (b'{"a":1}\n  ', False),  # a last line of blanks without newline
    (b'  ', False),
    (b'\xef\xbb\xbf{"a":1}\n', False),  # byte-order mark
    (b'{"a":1}\r\n', False),  # carriage return
    (b'{"a":"\x01"}\n', False),  # the reader's column separator
]


@pytest.mark.parametrize("chunk", [None, 1, 2, 3, 5])  # the file read in chunks: lines across their edges
@pytest.mark.parametrize(("data", "native"), CASES)
def test_prescan(tmp_path: Path, data: bytes, native: bool, chunk: int | None) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    if native:
        assert prescan(str(path), 100, chunk) == len(data)
    else:
        with pytest.raises(NotNative):
            prescan(str(path), 100, chunk)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["{}", "  ", "", "\t{}", "{} ", "x", " \t "]), min_size=1, max_size=8), st.booleans(),
       st.integers(1, 7))
def test_prescan_in_chunks_finds_a_blank_line_wherever_it_is(lines: list[str], newline_last: bool, chunk: int) -> None:
    """A blank line (empty, or spaces and tabs; the last one without newline if not empty)
    sends the file to the Python reader, whatever the chunk size."""
    import os
    import tempfile

    text = "\n".join(lines) + ("\n" if newline_last else "")
    blank = any(not ln.strip(" \t") for ln in lines[:-1]) or (
        not lines[-1].strip(" \t") and (newline_last or lines[-1] != ""))
    if text == "":
        return
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    try:
        os.write(fd, text.encode())
        os.close(fd)
        if blank:
            with pytest.raises(NotNative):
                prescan(path, 100, chunk)
        else:
            assert prescan(path, 100, chunk) == len(text)
    finally:
        os.unlink(path)


def test_an_empty_file_is_not_native(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"")
    with pytest.raises(NotNative):
        prescan(str(path), 100)
