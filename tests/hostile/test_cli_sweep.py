"""Hostile input and hostile output for the command line (issue 7, items 3, 5, 6, 7, 11).

One bad line never stops a sweep: every line that is not blank gets exactly one output line, in
order, and the output is valid UTF-8 JSON whatever the input held. Output that cannot be
written is "cannot write `FILE`: reason", exit 2, no temp file left behind.
"""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from privacy_rules.cli import _common
from privacy_rules.cli.main import main
from privacy_rules.validate.schema import validate_instance

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
FIXTURES = sorted((HERE / "records").iterdir())
MINI = "tests/packs/mini"
ICONFIRM = "rules/iconfirm"
GOOD = {"id": "p-1", "subject_categories": ["prospect"], "relationship": {"first_contact_on": "2021-08-31"}}


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(*args: str, stdin: bytes | None = None, stdout: Any = None) -> tuple[int, str, str]:
    out, err = stdout or io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err, stdin=io.BytesIO(stdin) if stdin is not None else None)
    return code, out.getvalue() if isinstance(out, io.StringIO) else "", err.getvalue()


def _code(path: Path) -> str:
    return path.name.split("-")[0].upper()


def _sweep_file(tmp_path: Path) -> tuple[Path, list[tuple[int, str | None]]]:
    """Every fixture line between good lines, a blank line and an over-long line among them;
    returns the file and the expected (line, code or None) of each output line."""
    lines: list[bytes] = []
    expected: list[tuple[int, str | None]] = []

    def add(raw: bytes, code: str | None) -> None:
        lines.append(raw)
        if code != "blank":
            expected.append((len(lines), code))

    for path in FIXTURES:
        add(json.dumps(dict(GOOD, id=f"good-{len(lines)}")).encode(), None)
        add(path.read_bytes().rstrip(b"\n"), _code(path))
    add(b"   \t\r", "blank")
    add(json.dumps(dict(GOOD, id="long", host={"blob": "x" * 30_000})).encode(), "PR314")
    add(json.dumps(dict(GOOD, id="last")).encode(), None)
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    return src, expected


def _check_rows(text: bytes, expected: list[tuple[int, str | None]]) -> None:
    rows = [json.loads(line) for line in text.decode("utf-8").splitlines()]  # strict UTF-8, valid JSON
    assert [(r["line"], (r["problem"] or "").split(" ")[2] if r["problem"] else None) for r in rows] == expected
    for r in rows:
        outcomes = {a["outcome"] for a in r["answers"]}
        assert outcomes == {"undetermined"} if r["problem"] else "undetermined" not in outcomes


def test_one_bad_line_never_stops_a_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common, "MAX_LINE", 20_000)  # the fixtures are up to 10 KB; the long line is 30 KB
    src, expected = _sweep_file(tmp_path)
    out_file = tmp_path / "out.jsonl"
    # half the lines are bad on purpose: --max-bad 100% lets the sweep finish (issue 8 makes a run
    # with more than 1% bad rows exit 2 by default; tests/hostile/test_sources.py tests that gate)
    code, out, err = run("evaluate", MINI, str(src), "--as-of", "2023-08-31", "-o", str(out_file), "--max-bad", "100%")
    assert code == 0 and out == "", err
    _check_rows(out_file.read_bytes(), expected)
    # the same through stdin, and to stdout
    code, out, _ = run("evaluate", MINI, "-", "--as-of", "2023-08-31", "--max-bad", "100%", stdin=src.read_bytes())
    assert code == 0
    _check_rows(out.encode("utf-8"), expected)
    # --format text: one block per line, no crash either
    code, out, _ = run("evaluate", MINI, str(src), "--as-of", "2023-08-31", "--format", "text", "--max-bad", "100%")
    blocks = [b.splitlines()[0] for b in out.split("\n\n") if b.strip()]
    assert code == 0 and len(blocks) == len(expected)
    assert [int(b.split("(line ")[-1].split(")")[0]) if "(line " in b else int(b.split(":")[0][5:])
            for b in blocks] == [n for n, _ in expected]
    # diff --records reads the same lines and counts the bad ones
    code, out, err = run("diff", MINI, MINI, "--records", str(src), "--as-of", "2023-08-31", "--format", "json")
    assert code == 0, err
    data = json.loads(out)["decisions"]
    assert data["records"] == len(expected) and data["invalid"] == sum(1 for _, c in expected if c)


def test_the_sweep_survives_a_real_subprocess_with_hostile_stdin(tmp_path: Path) -> None:
    src, expected = _sweep_file(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "privacy_rules", "evaluate", MINI, "-", "--as-of", "2023-08-31",
                           "--max-bad", "100%"],
                          input=src.read_bytes(), capture_output=True, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT / "src"), LC_ALL="C"))
    assert proc.returncode == 0, proc.stderr.decode()
    # the 30,000-byte line is under the real 1,000,000-byte cap: a valid record with a long host field
    _check_rows(proc.stdout, [(n, None if c == "PR314" else c) for n, c in expected])


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_decide_gives_the_code_or_exits_2_for_text_that_is_not_json(path: Path, tmp_path: Path) -> None:
    code_name = _code(path)
    for args, stdin in ((["decide", MINI, str(path)], None), (["decide", MINI, "-"], path.read_bytes())):
        code, out, err = run(*args, "--as-of", "2023-08-31", "--format", "json", stdin=stdin)
        if code_name in ("PR310", "PR311"):  # not JSON text at all: unreadable input
            assert code == 2 and "not valid" in err and out == ""
        else:
            assert code == 0, err
            data = json.loads(out.encode("utf-8"))
            assert data["outcome"] == "undetermined"
            assert code_name in [p["code"] for p in data["problems"]]
            assert validate_instance(data, "decision.schema.json") == []


def test_decide_on_stdin_with_invalid_utf8_exits_2_and_writes_nothing() -> None:
    code, out, err = run("decide", MINI, "-", "--as-of", "2023-08-31", stdin=b'{"id": "\xff"}')
    assert code == 2 and out == "" and "<stdin>" in err and "not valid UTF-8" in err


def test_decide_refuses_a_record_file_over_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common, "MAX_LINE", 100)
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"id": "x", "host": {"blob": "y" * 500}}))
    code, _, err = run("decide", MINI, str(big), "--as-of", "2023-08-31")
    assert code == 2 and "larger than 100 bytes" in err


# --- item 7: memory stays bounded, whatever the line length ----------------------------------------


class _Zeros(io.RawIOBase):
    """``size`` NUL bytes without a newline (like /dev/zero, but ending), then one good line."""

    def __init__(self, size: int, tail: bytes) -> None:
        self.left = size
        self.tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if self.left > 0:
            n = min(len(buf), self.left)
            buf[:n] = b"\0" * n
            self.left -= n
            return n
        n = min(len(buf), len(self.tail))
        buf[:n] = self.tail[:n]
        self.tail = self.tail[n:]
        return n


def test_an_endless_line_is_read_past_in_bounded_memory() -> None:
    stream = io.BufferedReader(_Zeros(50_000_000, b"\n" + json.dumps(GOOD).encode() + b"\n"))
    out, err = io.StringIO(), io.StringIO()
    tracemalloc.start()
    try:
        code = main(["evaluate", MINI, "-", "--as-of", "2023-08-31"], stdout=out, stderr=err,
                    stdin=stream)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 0, err.getvalue()
    assert [r["line"] for r in rows] == [1, 2]
    assert rows[0]["problem"].startswith("line 1: PR314 longer than 1,000,000 bytes")
    assert rows[1]["record_id"] == "p-1" and rows[1]["problem"] is None
    assert peak < 8_000_000, f"peak {peak:,} bytes for a 50 MB line"


def test_a_line_of_exactly_the_cap_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common, "MAX_LINE", 100)
    rec = json.dumps({"id": "x", "host": {"b": ""}})
    exact = rec.replace('""', '"' + "y" * (100 - len(rec)) + '"')
    assert len(exact) == 100
    src = tmp_path / "in.jsonl"
    src.write_text(exact + "\n" + exact + "y\n" + exact)  # 100 bytes, 101 bytes, 100 bytes without newline
    code, out, _ = run("evaluate", MINI, str(src), "--as-of", "2023-08-31")
    problems = [json.loads(line)["problem"] for line in out.splitlines()]
    assert code == 0 and problems[0] is None and problems[2] is None
    assert problems[1].startswith("line 2: PR314")


# --- item 6: --as-of outside the supported range -----------------------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-05", "1899-12-31", "2201-01-01", "9999-12-31"])
@pytest.mark.parametrize("cmd", [["decide", MINI, "examples/record-former-customer.json"],
                                 ["evaluate", MINI, "examples/records.jsonl"],
                                 ["check", MINI], ["render", MINI, "--no-scenarios"],
                                 ["diff", MINI, MINI, "--records", "examples/records.jsonl"]])
def test_as_of_outside_the_range_exits_2_naming_it(cmd: list[str], day: str) -> None:
    code, out, err = run(*cmd, "--as-of", day)
    assert code == 2, err
    assert f"--as-of: `{day}` is outside the supported range 1900-01-01..2200-12-31" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("day", ["1900-01-01", "2200-12-31"])
def test_as_of_at_the_range_ends_works(day: str) -> None:
    code, out, err = run("evaluate", ICONFIRM, "examples/records.jsonl", "--as-of", day)
    assert code == 0, err
    assert len(out.splitlines()) == len(Path("examples/records.jsonl").read_text().splitlines())


# --- item 11: output that cannot be written --------------------------------------------------------


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("cmd", [["evaluate", MINI, "examples/records.jsonl", "--as-of", "2023-08-31"],
                                 ["evaluate", MINI, "examples/records.jsonl", "--as-of", "2023-08-31",
                                  "--format", "text"],
                                 ["render", MINI, "--no-scenarios"]])
def test_output_file_failures_exit_2_with_the_reason(cmd: list[str], tmp_path: Path) -> None:
    cases = {
        str(tmp_path / "missing" / "out"): "No such file or directory",
        str(tmp_path): "it is a directory",
    }
    for target, reason in cases.items():
        code, _, err = run(*cmd, "-o", target)
        assert code == 2, err
        assert f"error: cannot write `{target}`: {reason}" in err and "Traceback" not in err
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="/dev/full does not exist here")
@pytest.mark.parametrize("cmd", [["evaluate", MINI, "examples/records.jsonl", "--as-of", "2023-08-31"],
                                 ["render", MINI, "--no-scenarios"]])
def test_a_full_disk_is_a_clear_error(cmd: list[str]) -> None:
    code, _, err = run(*cmd, "-o", "/dev/full")
    assert code == 2 and "error: cannot write `/dev/full`: No space left on device" in err
    assert os.path.exists("/dev/full") and not Path("/dev/full").is_file()  # written in place, never replaced


def test_a_full_disk_under_the_temp_file_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = _common.tempfile.mkstemp

    def onto_full_disk(*args: Any, **kw: Any) -> tuple[int, str]:
        # the temp file is created as usual (so its removal is tested), but written to a full disk
        fd, name = real(*args, **kw)
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), name

    if not os.path.exists("/dev/full"):
        pytest.skip("/dev/full does not exist here")
    # not os.fdopen: reading the pack opens files through it too
    monkeypatch.setattr(_common.tempfile, "mkstemp", onto_full_disk)
    target = tmp_path / "out.jsonl"
    code, _, err = run("evaluate", MINI, "examples/records.jsonl", "--as-of", "2023-08-31", "-o", str(target))
    assert code == 2 and f"cannot write `{target}`: No space left on device" in err
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_folder_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):  # root writes anyway: make mkstemp fail as the kernel would
            def refuse(*args: Any, **kw: Any) -> Any:
                raise PermissionError(errno.EACCES, "Permission denied")

            monkeypatch.setattr(_common.tempfile, "mkstemp", refuse)
        code, _, err = run("evaluate", MINI, "examples/records.jsonl", "--as-of", "2023-08-31",
                           "-o", str(folder / "out.jsonl"))
    finally:
        folder.chmod(0o755)
    assert code == 2 and f"cannot write `{folder / 'out.jsonl'}`: Permission denied" in err
    assert list(folder.iterdir()) == []


class _FullStdout(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


STDOUT_COMMANDS = [
    ["evaluate", MINI, "examples/records.jsonl", "--as-of", "2023-08-31"],
    ["evaluate", MINI, "examples/records.jsonl", "--as-of", "2023-08-31", "--format", "text"],
    ["decide", MINI, "examples/record-former-customer.json", "--as-of", "2023-08-31"],
    ["decide", MINI, "examples/record-former-customer.json", "--as-of", "2023-08-31", "--format", "json"],
    ["check", MINI], ["check", MINI, "--format", "sarif"], ["test", MINI], ["test", MINI, "--format", "junit"],
    ["diff", MINI, MINI], ["render", MINI, "--no-scenarios"], ["--help"],
]


@pytest.mark.parametrize("cmd", STDOUT_COMMANDS, ids=[" ".join(c[:1] + c[-2:]) for c in STDOUT_COMMANDS])
def test_every_command_reports_a_stdout_it_cannot_write(cmd: list[str]) -> None:
    code, _, err = run(*cmd, stdout=_FullStdout())
    assert code == 2 and err.strip() == "error: cannot write `<stdout>`: No space left on device"
    code, _, err = run(*cmd, stdout=_ClosedPipe())
    assert code == 2 and err.startswith("error: output cut short") and err.count("\n") == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="/dev/full does not exist here")
def test_stdout_on_a_full_disk_in_a_real_process() -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "privacy_rules", "check", MINI], stdout=full,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT,
                              env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: cannot write `<stdout>`: No space left on device"


def test_stdout_closed_early_is_exit_2_with_one_line_saying_so(tmp_path: Path) -> None:
    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps(dict(GOOD, id=f"p-{i}")) + "\n" for i in range(5000)))
    proc = subprocess.Popen([sys.executable, "-m", "privacy_rules", "evaluate", MINI, str(src), "--as-of",
                             "2023-08-31"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # what `| head -1` does: one line, then close the pipe
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    proc.wait(timeout=60)
    assert json.loads(first)["record_id"] == "p-0"
    assert proc.returncode == 2, err
    assert err.startswith("error: output cut short") and err.count("\n") == 1, err


def test_evaluate_reads_stdin_with_dash() -> None:
    lines = b"\n".join(json.dumps(dict(GOOD, id=f"p-{i}")).encode() for i in range(3)) + b"\n"
    code, out, err = run("evaluate", MINI, "-", "--as-of", "2023-08-31", stdin=lines)
    assert code == 0 and [json.loads(x)["record_id"] for x in out.splitlines()] == ["p-0", "p-1", "p-2"]
    code, out, _ = run("evaluate", MINI, "-", "--as-of", "2023-08-31", "--format", "text", stdin=lines)
    assert code == 0 and "p-2 (line 3)" in out
