"""Hostile `pack.source` values: the policy text must lie inside the pack and be readable text.

Fixture packs under tests/hostile/pack_source/ (one folder per case; the comment on line 2 of
each pack.yaml says what it tries). Cases that git cannot store (symbolic links, a FIFO, a
sparse 3 MB file) are built in a temporary copy. Every case must end in a diagnostic with a
code: never an exception, never a hang, never an outside file read and echoed back.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

import privacy_rules
from privacy_rules.cli.main import main
from privacy_rules.errors import PackError
from privacy_rules.model import Severity
from privacy_rules.validate.source import MAX_SOURCE_BYTES

HERE = Path(__file__).resolve().parent / "pack_source"

# case -> the PR22x codes `check` must report (nothing else in that range)
EXPECTED = {
    "parent-path": ["PR220"],
    "absolute-path": ["PR220"],
    "file-url": ["PR220"],
    "missing": ["PR221"],
    "directory": ["PR221"],
    "latin1": ["PR221"],
    "quote-mismatch": ["PR222"],
    "quote-elsewhere": ["PR222"],
    "rule-quote-mismatch": ["PR222"],
    "https-url": [],
    "dotdot-inside": [],
}


def _codes(folder: Path) -> tuple[privacy_rules.Pack | None, list[str], list[privacy_rules.Diagnostic]]:
    pack, diags = privacy_rules.check_pack(folder)
    source_diags = [d for d in diags if d.code.startswith("PR22")]
    return pack, [d.code for d in source_diags], source_diags


def test_every_fixture_folder_is_a_case() -> None:
    assert sorted(p.name for p in HERE.iterdir() if p.is_dir()) == sorted(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_fixture_case(case: str) -> None:
    pack, codes, diags = _codes(HERE / case)
    assert codes == EXPECTED[case], [str(d) for d in diags]
    errors = [c for c in codes if c in ("PR220", "PR221")]
    assert (pack is None) == bool(errors)  # an outside or unreadable policy text refuses the pack
    for d in diags:
        assert d.span is not None and d.span.file.endswith(("pack.yaml", "rules.yaml")) and d.help
        assert "root:" not in str(d)  # nothing of /etc/passwd is echoed


def test_load_pack_refuses_an_outside_source_and_check_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(PackError) as info:
        privacy_rules.load_pack(HERE / "parent-path")
    assert [d.code for d in info.value.diagnostics] == ["PR220"]
    assert main(["check", str(HERE / "absolute-path")]) == 1
    captured = capsys.readouterr()
    assert "PR220" in captured.out + captured.err


def test_quote_mismatch_help_shows_where_the_quote_leaves_the_text() -> None:
    _, _, diags = _codes(HERE / "quote-mismatch")
    (d,) = diags
    assert "norm `N1`" in d.message and d.severity is Severity.WARNING
    assert '`Vi omtaler oss som "vi".`' in (d.help or "") and "`Vi omtaler oss som “vi”.`" in (d.help or "")


def test_a_rule_quote_is_checked_too_and_names_its_rule() -> None:
    _, _, diags = _codes(HERE / "rule-quote-mismatch")
    (d,) = diags
    assert d.rule_id == "keep.record" and d.span is not None and d.span.file.endswith("rules.yaml")
    assert "er avsluttet" in (d.help or "")  # where it leaves the text, after the cut-off "..."


# --- cases built at test time -------------------------------------------------------------


@pytest.fixture
def case(tmp_path: Path):
    """A writable copy of the `dotdot-inside` pack (valid) whose `source` a test rewrites."""

    def make(source: str) -> Path:
        folder = tmp_path / "pack"
        shutil.copytree(HERE / "dotdot-inside", folder)
        text = (folder / "pack.yaml").read_text(encoding="utf-8")
        (folder / "pack.yaml").write_text(text.replace("source: policy/../policy/notice.txt", f"source: {source}"),
                                          encoding="utf-8")
        return folder

    return make


def test_symlink_leading_out_is_refused(case, tmp_path: Path) -> None:
    folder = case("policy/link.txt")
    secret = tmp_path / "secret.txt"
    secret.write_text("Vi lagrer dine personopplysninger hos oss inntil et kundeforhold avsluttes.\n", encoding="utf-8")
    (folder / "policy" / "link.txt").symlink_to(secret)
    assert _codes(folder)[1] == ["PR220"]


def test_symlinked_folder_leading_out_is_refused(case, tmp_path: Path) -> None:
    folder = case("texts/notice.txt")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(folder / "policy" / "notice.txt", outside / "notice.txt")
    (folder / "texts").symlink_to(outside, target_is_directory=True)
    assert _codes(folder)[1] == ["PR220"]


def test_symlink_inside_the_pack_is_followed(case) -> None:
    folder = case("policy/current.txt")
    (folder / "policy" / "current.txt").symlink_to("notice.txt")
    assert _codes(folder)[1] == []


def test_symlink_loop_is_an_error_not_a_crash(case) -> None:
    folder = case("policy/loop.txt")
    (folder / "policy" / "loop.txt").symlink_to("loop.txt")
    assert _codes(folder)[1] in (["PR220"], ["PR221"])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_is_refused_without_blocking(case) -> None:
    folder = case("policy/fifo.txt")
    os.mkfifo(folder / "policy" / "fifo.txt")
    result: list[list[str]] = []
    worker = threading.Thread(target=lambda: result.append(_codes(folder)[1]), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "reading a FIFO as the policy text blocked"
    assert result == [["PR221"]]


def test_oversized_policy_text_is_refused_not_truncated(case) -> None:
    folder = case("policy/big.txt")
    with open(folder / "policy" / "big.txt", "wb") as f:
        f.truncate(MAX_SOURCE_BYTES + 1)  # sparse: no disk space used
    _, codes, diags = _codes(folder)
    assert codes == ["PR221"] and "larger than" in diags[0].message


def test_whitespace_and_unicode_form_are_normalised_nothing_else(case) -> None:
    folder = case("policy/notice.txt")
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    # the quote split over two lines with extra spaces, and a decomposed å (a + U+030A) elsewhere
    nfd = "Personvernerkla\u0308ring"
    (folder / "policy" / "notice.txt").write_text(
        f"{nfd}\nVi   lagrer dine\tpersonopplysninger hos oss inntil et\n  kundeforhold avsluttes.\n", encoding="utf-8")
    assert _codes(folder)[1] == []
    (folder / "pack.yaml").write_text(text.replace("inntil et kundeforhold", "inntil et Kundeforhold"), encoding="utf-8")
    assert _codes(folder)[1] == ["PR222"]  # case is not normalised: a quote is exact
