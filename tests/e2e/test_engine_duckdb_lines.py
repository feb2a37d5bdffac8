"""`evaluate --engine duckdb` over a JSON Lines file DuckDB reads itself keeps no line's text:
the row engine's rows (lines the SQL does not vouch for, and vouched lines whose answers the
SQL cannot word, such as an undetermined answer naming its missing facts) are re-read from
the file by byte offset (sql/ingest.JsonLines, cli/_duck._Reread), and the answer text is
written one range of rows at a time (cli/_duck.TEXT_RANGE). Both must leave the output the
row engine's, byte for byte: multi-byte UTF-8 before and inside re-read lines (offsets are
bytes, not characters), a last line without a newline, ranges and fetches smaller than the
file so that re-read lines fall at their edges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from privacy_rules.cli import _duck
from privacy_rules.sql import ingest

from ..bench_module import load_bench
from .test_engine_duckdb import _run  # `evaluate` on Iconfirm with an engine: (exit code, stdout, stderr)

ROOT = Path(__file__).resolve().parents[2]
ICONFIRM = str(ROOT / "rules" / "iconfirm")

#: lines the row engine decides (not vouched, or vouched and undetermined), with multi-byte
#: UTF-8 (2, 3 and 4 bytes) in the lines around them
HAND = [
    json.dumps({"id": "æøå-ünïcode-𝔘", "role": "controller", "contact_address_kind": "personal",
                "source": "web_form", "subject_categories": ["customer"],
                "relationship": {"customer_since": "2019-03-31", "customer_ended_on": "2023-08-31"}}, ensure_ascii=False),
    # vouched, but a fact is missing: undetermined, whose words (the missing facts) are the row engine's
    json.dumps({"id": "ünknown-€-𝔘", "role": "controller", "subject_categories": ["prospect"]}, ensure_ascii=False),
    json.dumps({"id": "only-id-ø"}, ensure_ascii=False),
    "not json ✓",
    '{"id": "dup", "id": "dup2", "role": "controller"}',
    json.dumps({"id": "escaped-\u00e9", "role": "controller", "subject_categories": ["prospect"]}),  # \\u00e9 escape
    json.dumps({"id": "undated-ü", "role": "controller", "contact_address_kind": "work", "source": "web_form",
                "subject_categories": ["prospect"],
                "relationship": {"first_contact_on": {"on_or_before": "2024-02-29"}}}, ensure_ascii=False),
    json.dumps({"id": "repeat", "role": "controller", "subject_categories": ["prospect"],
                "relationship": {"first_contact_on": "2024-11-30"}}),
    json.dumps({"id": "repeat", "role": "processor", "subject_categories": ["customer"]}),
]


def _lines(n: int, seed: int) -> list[str]:
    bench = load_bench("privacy_rules_bench_for_duckdb_lines")
    lines = [json.dumps(r, ensure_ascii=False) for r in bench.iter_records(n, seed=seed)]
    for i, hand in enumerate(HAND):
        lines.insert(i * (len(lines) // len(HAND)) + 1, hand)
    return lines


def _counts(err: str) -> tuple[int, int]:
    line = next(x for x in err.splitlines() if x.startswith("engine duckdb:"))
    words = line.split()
    return int(words[2].replace(",", "")), int(words[7].replace(",", ""))


def _same(path: Path, tmp: Path, fmt: str, as_of: str) -> tuple[int, int]:
    outs = []
    for engine in ("row", "duckdb"):
        out = tmp / f"{engine}.{fmt}"
        code, _o, err = _run(engine, str(path), "-o", str(out), "--as-of", as_of, "--max-bad", "100%")
        assert out.exists(), err
        outs.append((code, out.read_bytes()))
    assert outs[0] == outs[1]
    assert "input read by DuckDB" in err and "notice" not in err
    return _counts(err)


@pytest.mark.parametrize("newline_last", [True, False])
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_row_engine_lines_are_reread_by_offset_across_ranges(tmp_path: Path, monkeypatch: Any, fmt: str,
                                                              newline_last: bool) -> None:
    monkeypatch.setattr(_duck, "TEXT_RANGE", 7)  # ranges and fetches end inside the file, often
    monkeypatch.setattr(_duck, "CHUNK", 3)
    lines = _lines(300, seed=5)
    path = tmp_path / "records.jsonl"
    path.write_bytes(("\n".join(lines) + ("\n" if newline_last else "")).encode("utf-8"))
    n_sql, n_row = _same(path, tmp_path, fmt, "2026-11-25")
    assert n_sql + n_row == len(lines)
    # more rows than the hand lines the SQL refuses: vouched lines were re-read too
    assert n_sql > 0 and n_row > 5


def test_the_last_line_decided_by_the_row_engine_without_newline(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(_duck, "TEXT_RANGE", 2)
    path = tmp_path / "records.jsonl"
    lines = _lines(20, seed=6) + [HAND[1]]  # undetermined, multi-byte, last, no newline
    path.write_bytes("\n".join(lines).encode("utf-8"))
    n_sql, n_row = _same(path, tmp_path, "jsonl", "2024-02-29")
    assert n_sql + n_row == len(lines)


def test_one_line_file(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_bytes(HAND[2].encode("utf-8"))
    assert _same(path, tmp_path, "jsonl", "2024-02-29") == (0, 1)


def test_json_lines_gives_the_bytes_of_a_line_and_refuses_an_offset_off_a_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    text = "{\"id\": \"ø\"}\n{\"id\": \"𝔘\"}\nlast"
    path.write_bytes(text.encode("utf-8"))
    lines = ingest.JsonLines(str(path))
    try:
        first = len('{"id": "ø"}'.encode("utf-8"))
        assert lines.line(0, first) == '{"id": "ø"}'
        second = len('{"id": "𝔘"}'.encode("utf-8"))
        assert lines.line(first + 1, second) == '{"id": "𝔘"}'
        assert lines.line(first + 1 + second + 1, 4) == "last"
        for off, n in ((1, first - 1), (0, first - 1), (first + 1, second + 1), (first + 1 + second + 1, 5), (-1, 1)):
            with pytest.raises(RuntimeError):
                lines.line(off, n)
    finally:
        lines.close()


def test_lines_duckdb_reads_otherwise_than_the_file_take_the_python_reader(tmp_path: Path, monkeypatch: Any) -> None:
    """load_jsonl compares the lines' lengths with the file's size: were they to differ (DuckDB
    dropping or adding a byte), the offsets would be wrong, so the file is not read natively."""
    import duckdb

    path = tmp_path / "records.jsonl"
    path.write_bytes(("\n".join(_lines(5, seed=7)) + "\n").encode("utf-8"))
    policy = __import__("privacy_rules").compile_pack(ICONFIRM)
    real = ingest.prescan
    monkeypatch.setattr(ingest, "prescan", lambda p, limit: real(p, limit) + 1)
    con = duckdb.connect()
    ingest.create_tables(con)
    with pytest.raises(ingest.NotNative):
        ingest.load_jsonl(con, policy, str(path), 1_000_000)
    monkeypatch.setattr(ingest, "prescan", real)
    assert ingest.load_jsonl(con, policy, str(path), 1_000_000) == 5 + len(HAND)
    con.close()
