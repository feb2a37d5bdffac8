"""The README's front door stays true: its first command's sweep (parsed from README.md, run as
written from the repository root) exits 0 with no bad rows, and the "What an answer looks like"
block is that command's real output.

Rows whose opt-out HubSpot keeps without a date are mapped to objections received
``{"on_or_before": D}`` (docs/mapping.md, "Facts without a date"), which the engine decides
(docs/rule-language.md, "Dates known only as on or before"): no bad row is tolerated.
"""

from __future__ import annotations

import io
import json
import re
import shlex
from pathlib import Path

import pytest

from privacy_rules.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _first_command() -> list[str]:
    """The arguments of `privacy-rules evaluate ...` in the README's first ```sh block."""
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block is not None, "README.md has no ```sh block"
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(lines) == 1, "the README's first command is one line"
    for part in lines[0].split("&&"):
        words = shlex.split(part)
        if words and words[0].endswith("privacy-rules"):
            assert words[1] == "evaluate", words
            return words[1:]
    raise AssertionError("the README's first command runs no `privacy-rules evaluate`")


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.chdir(ROOT)  # the README runs it from the repository root
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_the_first_command_is_the_bundled_hubspot_sweep() -> None:
    args = _first_command()
    assert "examples/hubspot-contacts.csv" in args and args[args.index("--profile") + 1] == "hubspot-export"
    assert "--known-on" in args and "--as-of" in args  # a pinned day: the README's output stays reproducible


def test_the_first_command_exits_0_with_no_bad_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    args = _first_command()
    code, out, err = _run(args, monkeypatch)
    assert code == 0, err
    found = re.search(r"^(\d+) rows, (\d+) bad", err, re.M)
    assert found is not None, err
    rows, bad = int(found[1]), int(found[2])
    assert rows >= 10 and out.count(", as of ") == rows
    assert bad == 0, f"{bad} bad rows in the README's sweep:\n{err}"
    # the undated opt-outs are decided: each such row's answers say why, none is a record problem
    code, out, err = _run([*args, "--format", "jsonl"], monkeypatch)
    assert code == 0, err
    rows_out = [json.loads(line) for line in out.splitlines()]
    assert all(r["problem"] is None for r in rows_out)
    assert any(a["reason_code"] == "deny:forbid" for r in rows_out for a in r["answers"])


def test_what_an_answer_looks_like_is_real_output(monkeypatch: pytest.MonkeyPatch) -> None:
    section = README.split("## What an answer looks like", 1)[1]
    block = re.search(r"```text\n(.*?)```", section, re.S)
    assert block is not None
    _, out, _ = _run(_first_command(), monkeypatch)
    lines = out.splitlines()
    shown = [line for line in block.group(1).splitlines() if line.strip() and line != "..."]
    assert len(shown) >= 6
    for line in shown:
        prefix = line[:-4] if line.endswith(" ...") else None
        assert any(got == line or (prefix is not None and got.startswith(prefix)) for got in lines), line
