"""Lint runs in `check` (and check_pack / read_pack) only, never when a pack is loaded to be used.

Issue 7 item 10: lint took ~85 s on a 5,000-rule pack and every `decide`/`evaluate` paid it.
Lint never changes what a pack decides and none of its findings is an error, so load_pack and
the CLI's other commands skip it. The tests put a recorder in place of lint and look at
what it saw.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterator

import pytest

import privacy_rules
import privacy_rules.pack
from privacy_rules.cli.main import main
from privacy_rules.model import Diagnostic, Severity
from privacy_rules.validate import lint

ROOT = Path(__file__).resolve().parents[2]
PACK = "rules/iconfirm"
RECORD = "examples/record-former-customer.json"


@pytest.fixture
def lint_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each call of lint appends the pack's id; lint itself finds nothing."""
    monkeypatch.chdir(ROOT)
    calls: list[str] = []

    def record(pack: privacy_rules.Pack, *args: object) -> Iterator[Diagnostic]:
        calls.append(pack.id)
        return iter(())

    # read_pack imports lint when it lints (not at import: a deciding host never pays for it)
    monkeypatch.setattr(lint, "iter_lint_problems", record)
    return calls


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_no_lint_code_is_an_error() -> None:
    # what makes skipping lint on load safe: no lint finding could make load_pack refuse a pack
    assert all(severity is not Severity.ERROR for severity in lint.CODES.values())


def test_load_pack_does_not_lint(lint_calls: list[str]) -> None:
    pack = privacy_rules.load_pack(PACK)
    assert len(pack.rules) > 0 and lint_calls == []


def test_check_pack_lints_unless_told_not_to(lint_calls: list[str]) -> None:
    privacy_rules.check_pack(PACK)
    assert lint_calls == ["iconfirm"]
    pack, _ = privacy_rules.check_pack(PACK, lint=False)
    assert pack is not None and lint_calls == ["iconfirm"]


def test_load_pack_gives_the_pack_check_pack_gives() -> None:
    assert privacy_rules.load_pack(ROOT / PACK) == privacy_rules.check_pack(ROOT / PACK)[0]


@pytest.mark.parametrize("args", [
    ("decide", PACK, RECORD, "--as-of", "2024-02-29"),
    ("evaluate", PACK, "examples/records.jsonl", "--as-of", "2024-02-29"),
    ("test", "tests/packs/mini"),
    ("render", PACK, "--format", "markdown", "--no-scenarios"),
    ("diff", "tests/packs/mini", "tests/packs/mini"),
], ids=lambda a: a[0])
def test_commands_that_use_a_pack_do_not_lint(lint_calls: list[str], args: tuple[str, ...]) -> None:
    code, _, err = run(*args)
    assert code in (0, 1), err  # 1: a failed scenario or a difference, never a crash
    assert lint_calls == []


def test_check_command_lints(lint_calls: list[str]) -> None:
    code, _, err = run("check", PACK)
    assert code == 0, err
    assert lint_calls == ["iconfirm"]
