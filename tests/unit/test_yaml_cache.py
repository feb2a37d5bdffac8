"""The cache of checked pack files (src/privacy_rules/_yaml_cache.py): a load answered from the
cache gives the same pack, diagnostics and decisions as one from the bytes; anything odd in
the cache is passed over, never trusted over the file."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import pytest

import privacy_rules
from privacy_rules import _yaml_cache
from privacy_rules.pack import read_pack

ROOT = Path(__file__).resolve().parents[2]
ICONFIRM = ROOT / "rules" / "iconfirm"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("PRIVACY_RULES_CACHE_DIR", str(where))
    return where


def _entries(where: Path) -> list[Path]:
    return sorted(p for p in where.glob("*.json")) if where.exists() else []


def test_a_cached_load_equals_a_load_from_the_bytes(cache: Path) -> None:
    plain, plain_diags = read_pack(ICONFIRM, cache=False)
    assert not _entries(cache)  # cache=False neither reads nor writes
    first, _ = read_pack(ICONFIRM)
    files = _entries(cache)
    assert len(files) == 1 + len(plain.files)  # pack.yaml and every rule file, each clean
    again, again_diags = read_pack(ICONFIRM)  # every file now from the cache
    assert plain is not None and again is not None
    assert again == plain and first == plain
    assert again.version == plain.version  # the content hash is of the bytes, not the entry
    assert again_diags == plain_diags
    # spans still point into the files, under the name the caller used
    assert [r.span for r in again.rules] == [r.span for r in plain.rules]
    record = {"id": "p1", "subject_categories": ["customer"], "relationship": {"customer_since": "2020-01-01"}}
    day = date(2024, 2, 29)
    assert (privacy_rules.compile_pack(again).decide_all(record, as_of=day)
            == privacy_rules.compile_pack(plain).decide_all(record, as_of=day))


def test_lint_and_problems_found_after_the_schema_keep_their_positions(cache: Path, tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(ICONFIRM, pack)
    keep = pack / "keep.yaml"
    # valid against the schema (so the file is cached) but naming an unknown window: PR2xx
    text = keep.read_text(encoding="utf-8")
    assert "within: customer_tail" in text
    keep.write_text(text.replace("within: customer_tail", "within: no_such_window", 1), encoding="utf-8")
    cold = read_pack(pack, as_of=date(2026, 12, 3), cache=False)
    warm1 = read_pack(pack, as_of=date(2026, 12, 3))
    warm2 = read_pack(pack, as_of=date(2026, 12, 3))
    assert cold[0] is None and any(d.code.startswith("PR2") for d in cold[1])
    assert warm1 == cold and warm2 == cold


def test_a_file_with_a_problem_is_never_cached(cache: Path, tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(ICONFIRM, pack)
    (pack / "share.yaml").write_text("rules: [{id: 1}]\n", encoding="utf-8")
    first = read_pack(pack)
    second = read_pack(pack)
    assert first[0] is None and first == second and any(d.code == "PR100" for d in first[1])
    plain = read_pack(ICONFIRM, cache=False)[0]
    assert plain is not None
    assert len(_entries(cache)) == len(plain.files)  # pack.yaml and every rule file but share.yaml


@pytest.mark.parametrize("garbage", [
    b"", b"not json", b"[]", b'{"data": {}}', b'{"data": {}, "spans": [[{"a": 1}, 1, 1, null, null]]}',
    b'{"data": {}, "spans": []}', b'{"data": {}, "spans": [[[], "x"]]}',
])
def test_an_odd_entry_is_passed_over(cache: Path, garbage: bytes) -> None:
    plain = read_pack(ICONFIRM, cache=False)
    read_pack(ICONFIRM)
    for entry in _entries(cache):
        entry.write_bytes(garbage)
    assert read_pack(ICONFIRM) == plain


def test_an_entry_is_only_used_for_the_same_bytes(cache: Path, tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(ICONFIRM, pack)
    read_pack(pack)
    contact = pack / "contact.yaml"
    contact.write_text(contact.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    edited, _ = read_pack(pack)
    plain, _ = read_pack(pack, cache=False)
    assert edited == plain and edited is not None
    assert len(_entries(cache)) == 1 + len(plain.files) + 1  # the edited file is a new entry


def test_off_writes_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PRIVACY_RULES_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _yaml_cache.cache_dir() is None
    assert read_pack(ICONFIRM)[0] is not None
    assert not (tmp_path / "xdg").exists() and not (tmp_path / "home").exists()


def test_default_place(tmp_path: Path) -> None:
    assert _yaml_cache.cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "privacy-rules"
    assert _yaml_cache.cache_dir({"PRIVACY_RULES_CACHE_DIR": ""}) is None


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes through file modes")
def test_an_unwritable_cache_only_costs_time(cache: Path) -> None:
    cache.mkdir()
    cache.chmod(0o500)
    try:
        assert read_pack(ICONFIRM) == read_pack(ICONFIRM, cache=False)
    finally:
        cache.chmod(0o700)


def test_an_unmakeable_cache_only_costs_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("PRIVACY_RULES_CACHE_DIR", str(blocker / "cache"))
    assert read_pack(ICONFIRM) == read_pack(ICONFIRM, cache=False)


def test_entries_are_json_with_data_and_positions(cache: Path) -> None:
    read_pack(ICONFIRM)
    entry = json.loads(_entries(cache)[0].read_text(encoding="utf-8"))
    assert set(entry) == {"data", "spans"}
    root = entry["spans"][0]
    assert root[0] == [] and root[1] >= 1 and root[2] == 1  # the root, where the document starts
