"""ingest.prescan: which JSON Lines files DuckDB may read line by line (issue 9). A blank line
anywhere (the row engine skips it but counts its number) sends the file to the Python reader."""

from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.mark.parametrize(("data", "native"), CASES)
def test_prescan(tmp_path: Path, data: bytes, native: bool) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    if native:
        assert prescan(str(path), 100) == len(data)
    else:
        with pytest.raises(NotNative):
            prescan(str(path), 100)


def test_an_empty_file_is_not_native(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"")
    with pytest.raises(NotNative):
        prescan(str(path), 100)
