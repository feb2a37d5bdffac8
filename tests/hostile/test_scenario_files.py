"""`check` refuses a listed scenario file it could not read, without reading it (issue 7 item 9).

Before, `check` only confined scenario paths (PR009): a listed scenario file that was missing,
a directory or a FIFO passed, and only `test` found out (the fuzz harness' gen/directory- and
gen/fifo-scenario-file cases, and a missing file). Now each is PR001 at its entry in pack.yaml,
found with stat() alone, so a FIFO never blocks `check`. Crafted packs: corpus/packs/scenario-path-*
and the generated cases in test_fuzz.py.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
from pathlib import Path
from typing import Callable

import pytest

from privacy_rules.cli.main import main
from privacy_rules.pack import read_pack

from ..conftest import MINI

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")


def _pack(tmp_path: Path, entry: str) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(MINI, folder)
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    new = text.replace("scenarios: [scenarios/basic.yaml]", f"scenarios: [scenarios/basic.yaml, {entry}]")
    assert new != text
    (folder / "pack.yaml").write_text(new, encoding="utf-8")
    return folder


def _within(seconds: float, call: Callable[[], object]) -> object:
    """call()'s result; fails instead of hanging if it blocks (e.g. on opening a FIFO)."""
    box: dict[str, object] = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked: a scenario file was opened"
    return box["result"]


def _check(folder: Path, entry: str, reason: str) -> None:
    pack, diags = _within(20, lambda: read_pack(folder))  # type: ignore[misc]
    assert pack is None
    (d,) = [d for d in diags if d.severity.value == "error"]
    assert d.code == "PR001", str(d)
    assert d.message == f"cannot read scenario file `{entry}`: {reason}", str(d)
    # at the entry in pack.yaml: `scenarios: [scenarios/basic.yaml, ENTRY]` is line 12
    assert d.span is not None and d.span.file.endswith("pack.yaml") and (d.span.line, d.span.col) == (12, 35)
    out, err = io.StringIO(), io.StringIO()
    assert _within(20, lambda: main(["check", str(folder)], stdout=out, stderr=err)) == 1
    assert "PR001" in out.getvalue() + err.getvalue()


def test_missing_scenario_file(tmp_path: Path) -> None:
    _check(_pack(tmp_path, "scenarios/nosuch.yaml"), "scenarios/nosuch.yaml", "no such file")


def test_path_through_a_file(tmp_path: Path) -> None:
    _check(_pack(tmp_path, "rules.yaml/basic.yaml"), "rules.yaml/basic.yaml", "no such file")


def test_directory(tmp_path: Path) -> None:
    folder = _pack(tmp_path, "more.yaml")
    (folder / "more.yaml").mkdir()
    _check(folder, "more.yaml", "it is a directory")


@needs_fifo
def test_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    folder = _pack(tmp_path, "more.yaml")
    os.mkfifo(folder / "more.yaml")
    _check(folder, "more.yaml", "not a regular file")


@needs_fifo
def test_link_inside_the_pack_to_a_fifo(tmp_path: Path) -> None:
    folder = _pack(tmp_path, "more.yaml")
    os.mkfifo(folder / "pipe")
    (folder / "more.yaml").symlink_to(folder / "pipe")
    _check(folder, "more.yaml", "not a regular file")


def test_dangling_link_inside_the_pack(tmp_path: Path) -> None:
    folder = _pack(tmp_path, "more.yaml")
    (folder / "more.yaml").symlink_to(folder / "gone.yaml")
    _check(folder, "more.yaml", "no such file")


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets")
def test_socket(tmp_path: Path) -> None:
    short = Path("/tmp") / f"pr-sock-{os.getpid()}"  # AF_UNIX paths are short; keep the pack there
    shutil.rmtree(short, ignore_errors=True)
    short.mkdir()
    try:
        folder = _pack(short, "s.yaml")
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(folder / "s.yaml"))
            _check(folder, "s.yaml", "not a regular file")
    finally:
        shutil.rmtree(short, ignore_errors=True)


def test_a_regular_file_inside_the_pack_still_passes(tmp_path: Path) -> None:
    folder = _pack(tmp_path, "scenarios/more.yaml")
    shutil.copy(folder / "scenarios" / "basic.yaml", folder / "scenarios" / "more.yaml")
    pack, diags = read_pack(folder)
    assert pack is not None and not [d for d in diags if d.severity.value == "error"]


def test_outside_stays_pr009_and_is_not_looked_at(tmp_path: Path) -> None:
    """Confinement comes first: a path outside is PR009 whether or not it exists."""
    for entry in ("../nosuch.yaml", "../pack/../../x.yaml"):
        folder = _pack(tmp_path / entry.count("/").__str__(), entry)
        pack, diags = read_pack(folder)
        assert pack is None and [d.code for d in diags if d.severity.value == "error"] == ["PR009"]
