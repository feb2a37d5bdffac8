"""The command line, called in-process through main() with StringIO (jsonschema's test_cli style)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from privacy_rules.cli.main import main
from privacy_rules.validate.schema import validate_instance

ROOT = Path(__file__).resolve().parents[2]
BROKEN = sorted((ROOT / "tests" / "packs" / "broken").iterdir())
MINI = "tests/packs/mini"


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # diagnostics print paths relative to the working folder


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("folder", BROKEN, ids=[p.name for p in BROKEN])
def test_check_broken_pack_reports_file_line_and_exits_1(folder):
    code, out, _ = run("check", str(folder.relative_to(ROOT)))
    expected = (folder / "expected.txt").read_text().splitlines()
    assert code == 1
    assert out.splitlines()[: len(expected)] == expected


def test_python_tag_never_runs(tmp_path):
    marker = Path("/tmp/pwned")
    marker.unlink(missing_ok=True)
    run("check", "tests/packs/broken/python-tag")
    assert not marker.exists()


def test_check_valid_pack_exits_0():
    code, out, _ = run("check", MINI)
    assert code == 0 and "7 rules, 0 errors, 0 warnings" in out


def test_check_json_format():
    code, out, _ = run("check", "tests/packs/broken/unknown-purpose", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["valid"] is False
    assert data["diagnostics"][0]["code"] == "PR202" and data["diagnostics"][0]["line"] == 44


@pytest.mark.parametrize(
    "args, message",
    [
        (("decide", MINI, "nope.json", "--as-of", "2022-01-01"), "cannot read record file `nope.json`"),
        (("decide", MINI, "examples/record-former-customer.json", "--as-of", "2023-02-30"), "not a real date"),
        (("decide", MINI, "examples/record-former-customer.json", "--as-of", "2022-01-01", "-q", "contact:x"),
         "cannot read question `contact:x`"),
        (("decide", MINI, "examples/record-former-customer.json", "--as-of", "2022-01-01", "-q", "contact:newsleter:email"),
         "did you mean `newsletter`"),
        (("evaluate", MINI, "nope.jsonl", "--as-of", "2022-01-01"), "cannot read records file `nope.jsonl`"),
        (("check",), "Missing argument 'PACK'"),
        (("frobnicate",), "No such command 'frobnicate'"),
        (("decide", "tests/packs/broken/duplicate-id", "examples/record-former-customer.json"), "is invalid"),
    ],
)
def test_usage_errors_exit_2_with_a_message(args, message):
    code, _, err = run(*args)
    assert code == 2
    assert message in err


def test_decide_json_validates_and_fail_on(tmp_path):
    rec = tmp_path / "r.json"
    rec.write_text(json.dumps({"id": "p-1", "subject_categories": ["prospect"],
                               "relationship": {"first_contact_on": "2021-08-31"}}))
    code, out, _ = run("decide", MINI, str(rec), "--as-of", "2023-09-01", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["outcome"] == "deny"
    assert validate_instance(data, "decision.schema.json") == []
    code, _, _ = run("decide", MINI, str(rec), "--as-of", "2023-09-01", "--fail-on", "deny,undetermined")
    assert code == 1
    code, out, _ = run("decide", MINI, str(rec), "--as-of", "2023-08-31")
    assert code == 0 and "ALLOW" in out and "keep until: 2023-08-31" in out


def test_decide_bad_json_names_line_and_column(tmp_path):
    rec = tmp_path / "r.json"
    rec.write_text('{"id": "x",\n "role": }')
    code, _, err = run("decide", MINI, str(rec), "--as-of", "2023-09-01")
    assert code == 2 and f"{rec}:2:10: not valid JSON" in err


def test_evaluate_streams_and_turns_bad_lines_into_undetermined(tmp_path):
    src = tmp_path / "in.jsonl"
    good = {"id": "p-1", "subject_categories": ["prospect"], "relationship": {"first_contact_on": "2021-08-31"}}
    src.write_text("\n".join([json.dumps(good), "{not json", "", json.dumps({"id": "x", "consent": []}),
                              json.dumps(dict(good, id="p-2"))]) + "\n")
    out_file = tmp_path / "out.jsonl"
    code, out, err = run("evaluate", MINI, str(src), "--as-of", "2023-08-31", "-o", str(out_file), "--no-progress")
    assert code == 0 and out == ""
    rows = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 4, 5]
    assert [r["answers"][0]["outcome"] for r in rows] == ["allow", "undetermined", "undetermined", "allow"]
    # issue 8: the fields evaluate always wrote, then what a retention job acts on
    assert rows[0]["answers"][0] == {"question": "keep:record", "outcome": "allow", "rule_id": "keep.prospect",
                                     "keep_until": "2023-08-31", "problem": None, "basis": "legitimate_interest",
                                     "article": "Art. 6(1)(f)", "reason_code": "allow:permit",
                                     "reason": "allow by `keep.prospect` (Art. 6(1)(f)); keep until 2023-08-31"}
    assert rows[1]["answers"][0]["reason_code"] == "undetermined:bad-record"
    assert rows[1]["problem"].startswith("line 2: PR310 not valid JSON")
    assert rows[2]["problem"].startswith("line 4: ") and "did you mean `consents`" in rows[2]["problem"]
    assert "keep:record allow: 2" in err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_evaluate_text_format_gives_reasons(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "p-1", "subject_categories": ["prospect"],
                               "relationship": {"first_contact_on": "2021-08-31"}}) + "\n")
    code, out, _ = run("evaluate", MINI, str(src), "--as-of", "2023-08-31", "--format", "text")
    assert code == 0
    assert "p-1 (line 1), as of 2023-08-31" in out and "ALLOW until 2023-08-31" in out
    assert "allow by `keep.prospect` (Art. 6(1)(f))" in out


def test_evaluate_fail_on(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "x"}\n')
    code, _, _ = run("evaluate", MINI, str(src), "--as-of", "2023-08-31", "--fail-on", "undetermined")
    assert code == 1


def test_test_command_passes_and_reports_coverage():
    code, out, _ = run("test", MINI)
    assert code == 0
    assert "PASS 3/3  FAIL 0/3  ERROR 0/3" in out
    assert "coverage: 1/7 rules exercised" in out
    code, _, err = run("test", MINI, "--min-coverage", "50")
    assert code == 1 and "below --min-coverage 50%" in err


def test_test_command_reports_failure_with_location_and_diff(tmp_path):
    bad = tmp_path / "s.yaml"
    bad.write_text(
        "scenarios:\n"
        "  - name: wrong on purpose\n"
        "    as_of: '2023-09-01'\n"
        "    record: {id: p, subject_categories: [prospect], relationship: {first_contact_on: '2021-08-31'}}\n"
        "    question: keep\n"
        "    expect: {outcome: allow, keep_until: '2023-08-31'}\n"
    )
    code, out, _ = run("test", MINI, "--scenarios", str(bad))
    assert code == 1
    assert f"{bad}:2:5: FAIL wrong on purpose" in out
    assert "  - expected outcome: allow" in out and "  + actual   outcome: deny" in out
    assert "PASS 0/1  FAIL 1/1  ERROR 0/1" in out


def test_test_command_with_no_scenarios_fails(tmp_path):
    empty = tmp_path / "s.yaml"
    empty.write_text("scenarios: []\n")
    code, _, _ = run("test", MINI, "--scenarios", str(empty))
    assert code == 1


def test_help_lists_exit_codes():
    code, out, _ = run("--help")
    assert code == 0 and "Exit codes: 0 ok" in out and "3 internal error" in out


def _console_script() -> Path | None:
    """The installed `privacy-rules` script of the interpreter running the tests, or None when
    this interpreter has no privacy-rules installed (a source tree on PYTHONPATH only).

    Looked up next to the interpreter (the venv's bin or Scripts folder), not on PATH: the
    README's `.venv/bin/python -m pytest` and CI run without activating the venv.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        scripts = [ep for ep in distribution("privacy-rules").entry_points
                   if ep.group == "console_scripts" and ep.name == "privacy-rules"]
    except PackageNotFoundError:
        return None
    assert scripts, "privacy-rules is installed without its console script (pyproject.toml [project.scripts])"
    name = "privacy-rules.exe" if os.name == "nt" else "privacy-rules"
    folders = [Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    raise AssertionError(f"privacy-rules is installed but `{name}` is in none of {[str(f) for f in folders]}")


def test_installed_console_script_runs():
    script = _console_script()
    if script is None:
        pytest.skip(f"privacy-rules is not installed in {sys.executable} (run `pip install -e .` first)")
    proc = subprocess.run([str(script), "check", MINI], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, NO_COLOR="1"))
    assert proc.returncode == 0 and "0 errors" in proc.stdout, proc.stderr


def test_python_m_runs():
    proc = subprocess.run([sys.executable, "-m", "privacy_rules", "check", "tests/packs/broken/duplicate-id"],
                          capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, NO_COLOR="1"))
    assert proc.returncode == 1 and "PR201" in proc.stdout


def test_empty_inputs_get_clear_messages(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    code, _, err = run("decide", MINI, str(empty), "--as-of", "2023-01-01")
    assert code == 2 and "is empty" in err
    empty_lines = tmp_path / "empty.jsonl"
    empty_lines.write_text("")
    code, out, err = run("evaluate", MINI, str(empty_lines), "--as-of", "2023-01-01")
    assert code == 0 and out == "" and "holds no records" in err


def test_huge_line_becomes_undetermined_not_a_crash(tmp_path, monkeypatch):
    import privacy_rules.cli._common as common

    monkeypatch.setattr(common, "MAX_LINE", 100)
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "x", "host": {"blob": "y" * 500}}) + "\n" + json.dumps({"id": "z"}) + "\n")
    code, out, _ = run("evaluate", MINI, str(src), "--as-of", "2023-01-01")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and rows[0]["answers"][0]["outcome"] == "undetermined"
    assert "longer than 100 bytes" in rows[0]["problem"] and rows[1]["record_id"] == "z"


def test_output_files_get_ordinary_permissions(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "x"}\n')
    out_file = tmp_path / "out.jsonl"
    old = os.umask(0o022)
    try:
        run("evaluate", MINI, str(src), "--as-of", "2023-08-31", "-o", str(out_file))
    finally:
        os.umask(old)
    assert oct(out_file.stat().st_mode & 0o777) == oct(0o644)
