"""Closed standard streams and output files that are not regular files (issue 7, items 11 and 2
of the audit after it).

A process started with stdout, stdin or stderr closed (``>&-``, ``<&-``, ``2>&-``) gets None for
``sys.stdout`` and friends. Every command, run as a real subprocess with each stream closed:

- stdout closed: a command that writes to stdout exits 2 with "output cut short" on stderr (as
  for a broken pipe), never exit 3; a command whose output goes to ``-o FILE`` runs as usual;
- stdin closed: a command reading ``-`` exits 2 with "stdin is closed"; the others run as usual;
- stderr closed: every command does what it does with stderr open (messages dropped), and exits
  by its result.

Every file output (-o, --summary) goes through one function that writes a device or FIFO in
place and renames only regular files: a FIFO keeps being a FIFO, /dev/null a device.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import pytest

from privacy_rules.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
MINI = "tests/packs/mini"
ICONFIRM = "rules/iconfirm"
RECORDS = "examples/records.jsonl"
RECORD = "examples/record-former-customer.json"
DAY = ("--as-of", "2026-11-25")
FD = {"stdin": 0, "stdout": 1, "stderr": 2}
CUT_SHORT = "output cut short: `<stdout>` was closed when the command started"


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _closer(fd: int) -> Callable[[], None]:
    def close() -> None:
        os.close(fd)

    return close


def cli(*args: str, closed: str | None = None, python: tuple[str, ...] = ("-m", "privacy_rules")) \
        -> subprocess.CompletedProcess[bytes]:
    """``python -m privacy_rules ARGS`` in a real process, with the stream ``closed`` closed
    before Python starts (as the shell's ``>&-`` does)."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, *python, *args], cwd=ROOT, env=env, capture_output=True,
                          preexec_fn=_closer(FD[closed]) if closed else None, timeout=120, check=False)


# Every command, writing to stdout.
STDOUT_COMMANDS: dict[str, tuple[str, ...]] = {
    "version": ("--version",),
    "check": ("check", MINI),
    "decide": ("decide", ICONFIRM, RECORD, *DAY),
    "test": ("test", MINI),
    "render": ("render", MINI),
    "evaluate": ("evaluate", ICONFIRM, RECORDS, *DAY, "--format", "text"),
    "diff": ("diff", MINI, MINI),
    "check-profile": ("check-profile", "hubspot-export", "--pack", ICONFIRM),
}
# Commands reading `-`.
STDIN_COMMANDS: dict[str, tuple[str, ...]] = {
    "evaluate": ("evaluate", ICONFIRM, "-", *DAY, "--input-format", "csv"),
    "decide": ("decide", ICONFIRM, "-", *DAY),
    "diff": ("diff", MINI, MINI, "--records", "-", *DAY),
}
# With stderr closed: (arguments, the exit code they give with it open, a marker on stdout).
STDERR_COMMANDS: dict[str, tuple[tuple[str, ...], int, bytes]] = {
    "check": (("check", MINI), 0, b"0 errors"),
    "evaluate": (("evaluate", ICONFIRM, RECORDS, *DAY, "--fail-on", "deny"), 1, b'"record_id"'),
    "render": (("render", MINI, "--format", "markdown"), 0, b"# "),
    "bad-pack": (("decide", "no/such/pack", RECORD), 2, b""),
}
# evaluate -o FILE --summary FILE with each stream closed, in each output format
TO_FILE = {"stdout": "jsonl", "stderr": "text", "stdin": "csv"}
# with descriptor 1 closed, the next file opened would get it: the CLI takes it with /dev/null
# first, so a library printing to descriptor 1 cannot write into the -o file
STRAY = ("import os, sys; from privacy_rules.cli.main import main; rc = main(sys.argv[1:]); "
         "os.write(1, b'STRAY'); raise SystemExit(rc)")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[bytes]]:
    """Every subprocess of this module, run side by side (each takes a second: imports, the pack)."""
    tmp = tmp_path_factory.mktemp("closed")
    jobs: dict[str, Callable[[], subprocess.CompletedProcess[bytes]]] = {}
    for k, args in STDOUT_COMMANDS.items():
        jobs[f"stdout/{k}"] = lambda a=args: cli(*a, closed="stdout")
    for k, args in STDIN_COMMANDS.items():
        jobs[f"stdin/{k}"] = lambda a=args: cli(*a, closed="stdin")
    jobs["stdin/check"] = lambda: cli("check", MINI, closed="stdin")
    for k, (args, _, _) in STDERR_COMMANDS.items():
        jobs[f"stderr/{k}"] = lambda a=args: cli(*a, closed="stderr")
    for closed, fmt in TO_FILE.items():
        d = tmp / closed
        d.mkdir()
        args = ("evaluate", ICONFIRM, RECORDS, *DAY, "-o", str(d / f"a.{fmt}"), "--format", fmt,
                "--summary", str(d / "s.json"))
        pre = ("-c", STRAY) if closed == "stdout" else ("-m", "privacy_rules")
        jobs[f"file/{closed}"] = lambda a=args, c=closed, p=pre: cli(*a, closed=c, python=p)
    jobs["file/render"] = lambda: cli("render", MINI, "-o", str(tmp / "review.html"), closed="stdout")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {k: pool.submit(fn) for k, fn in jobs.items()}
        done = {k: f.result() for k, f in futures.items()}
    done["tmp"] = tmp  # type: ignore[assignment]
    return done


@pytest.mark.parametrize("name", sorted(STDOUT_COMMANDS))
def test_stdout_closed_is_output_cut_short_exit_2(name: str, runs: dict[str, subprocess.CompletedProcess[bytes]]) \
        -> None:
    proc = runs[f"stdout/{name}"]
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert CUT_SHORT in err and "Traceback" not in err and "internal error" not in err


@pytest.mark.parametrize("name", sorted(STDIN_COMMANDS))
def test_reading_a_closed_stdin_is_exit_2_stdin_is_closed(name: str,
                                                          runs: dict[str, subprocess.CompletedProcess[bytes]]) -> None:
    proc = runs[f"stdin/{name}"]
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert re.search(r"cannot read records? file `<stdin>`: stdin is closed", err), err
    assert "Traceback" not in err


def test_commands_that_do_not_read_stdin_run_with_it_closed(runs: dict[str, subprocess.CompletedProcess[bytes]]) \
        -> None:
    proc = runs["stdin/check"]
    assert proc.returncode == 0 and b"0 errors" in proc.stdout


@pytest.mark.parametrize("name", sorted(STDERR_COMMANDS))
def test_stderr_closed_changes_nothing_but_the_messages(name: str,
                                                        runs: dict[str, subprocess.CompletedProcess[bytes]]) -> None:
    proc = runs[f"stderr/{name}"]
    _, code, marker = STDERR_COMMANDS[name]
    assert proc.returncode == code and marker in proc.stdout and proc.stderr == b""


@pytest.mark.parametrize("closed", sorted(TO_FILE))
def test_evaluate_to_a_file_runs_with_any_stream_closed(closed: str,
                                                        runs: dict[str, subprocess.CompletedProcess[bytes]]) -> None:
    proc, d, fmt = runs[f"file/{closed}"], Path(runs["tmp"]) / closed, TO_FILE[closed]  # type: ignore[arg-type]
    assert proc.returncode == 0, proc.stderr.decode()
    out = io.StringIO()
    assert main(["evaluate", ICONFIRM, RECORDS, *DAY, "--format", fmt], stdout=out, stderr=io.StringIO()) == 0
    if fmt == "csv":  # one row per record and question, the header first
        assert (d / "a.csv").read_text().count("\n") == out.getvalue().count("\n") == 1 + 12 * 3
    else:
        assert (d / f"a.{fmt}").read_text() == out.getvalue()  # nothing stray (descriptor 1) in it
    assert json.loads((d / "s.json").read_text())["rows"] == 12
    assert sorted(p.name for p in d.iterdir()) == sorted([f"a.{fmt}", "s.json"])  # no temp file left


def test_render_to_a_file_runs_with_stdout_closed(runs: dict[str, subprocess.CompletedProcess[bytes]]) -> None:
    assert runs["file/render"].returncode == 0, runs["file/render"].stderr.decode()
    assert (Path(runs["tmp"]) / "review.html").read_text().startswith("<!DOCTYPE html>")  # type: ignore[arg-type]


# --- file outputs: one function for all of them -------------------------------------------------


def test_every_file_output_goes_through_output_to() -> None:
    # atomic_writer renames a temp file over the target: only output_to may call it, after it
    # has seen that the target is a regular file (or absent).
    users = [str(p.relative_to(ROOT)) for p in (SRC / "privacy_rules").rglob("*.py")
             if "atomic_writer(" in p.read_text() and p.name != "_common.py"]
    assert users == []
    common = (SRC / "privacy_rules" / "cli" / "_common.py").read_text()
    assert common.count("atomic_writer(") == 2  # its definition and the one call in output_to


def _fifo_reader(path: Path) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []

    def read() -> None:
        with open(path, "rb") as fh:
            got.append(fh.read())

    t = threading.Thread(target=read, daemon=True)
    t.start()
    return t, got


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(args), stdout=out, stderr=err), out.getvalue(), err.getvalue()


@pytest.mark.parametrize("option", ["--summary", "-o"])
def test_a_fifo_output_is_written_in_place_not_replaced(option: str, tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    reader, got = _fifo_reader(fifo)
    out = ["-o", str(tmp_path / "a.jsonl")] if option == "--summary" else []
    code, _, err = run("evaluate", ICONFIRM, RECORDS, *DAY, *out, option, str(fifo))
    reader.join(timeout=60)
    assert code == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    if option == "--summary":
        assert json.loads(got[0])["rows"] == 12
    else:
        assert got[0].count(b"\n") == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.fifo"] + (["a.jsonl"] if out else []))


@pytest.mark.parametrize("args", [
    ("evaluate", ICONFIRM, RECORDS, *DAY, "-o", "{file}", "--summary", "{dev}"),
    ("evaluate", ICONFIRM, RECORDS, *DAY, "-o", "{dev}"),
    ("evaluate", ICONFIRM, RECORDS, *DAY, "--format", "text", "-o", "{dev}"),
    ("evaluate", ICONFIRM, RECORDS, *DAY, "--format", "csv", "-o", "{dev}", "--summary", "{dev}"),
    ("render", MINI, "-o", "{dev}"),
    ("render", MINI, "--format", "markdown", "-o", "{dev}"),
], ids=["summary", "evaluate-o", "evaluate-text-o", "evaluate-csv-both", "render-o", "render-md-o"])
def test_a_symlink_to_dev_null_keeps_the_device(args: tuple[str, ...], tmp_path: Path) -> None:
    # a symlink in tmp: if the code were wrong, the symlink would be replaced, never /dev/null
    link = tmp_path / "null"
    link.symlink_to(os.devnull)
    args = tuple(a.replace("{file}", str(tmp_path / "a.jsonl")).replace("{dev}", str(link)) for a in args)
    code, _, err = run(*args)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == os.devnull
    assert stat.S_ISCHR(os.stat(link).st_mode) and stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left
