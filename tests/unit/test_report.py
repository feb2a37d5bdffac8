"""CI output formats of `check`, `test` and `diff` (cli/report.py): JUnit, SARIF, GitHub, text."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from importlib.metadata import version
from pathlib import Path

import jsonschema
import pytest

from privacy_rules.cli import report
from privacy_rules.cli.main import main
from privacy_rules.model import Diagnostic, Severity, Span

ROOT = Path(__file__).resolve().parents[2]
MINI = "tests/packs/mini"
UNKNOWN_PURPOSE = "tests/packs/broken/unknown-purpose"
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

FAILING_SCENARIOS = (
    "scenarios:\n"
    "  - name: wrong on purpose\n"
    "    as_of: '2023-09-01'\n"
    "    record: {id: p, subject_categories: [prospect], relationship: {first_contact_on: '2021-08-31'}}\n"
    "    question: keep\n"
    "    expect: {outcome: allow, keep_until: '2023-08-31'}\n"
    "  - name: kept on the last day\n"
    "    as_of: '2023-08-31'\n"
    "    record: {id: p, subject_categories: [prospect], relationship: {first_contact_on: '2021-08-31'}}\n"
    "    question: keep\n"
    "    expect: {outcome: allow}\n"
    "  - name: unknown scope\n"
    "    as_of: '2023-08-31'\n"
    "    record: {id: p}\n"
    "    question: keep:nope\n"
    "    expect: {outcome: allow}\n"
)


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # diagnostics print paths relative to the working folder


@pytest.fixture
def scenarios(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(FAILING_SCENARIOS)
    return path


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def sarif_valid(text: str) -> dict:
    log = json.loads(text)
    cls = jsonschema.validators.validator_for(SARIF_SCHEMA)
    assert cls is jsonschema.Draft7Validator  # the OASIS schema is draft-07
    validator = cls(SARIF_SCHEMA, format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    return log


def test_vendored_schema_is_the_oasis_one():
    jsonschema.Draft7Validator.check_schema(SARIF_SCHEMA)
    assert SARIF_SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert SARIF_SCHEMA["$id"].endswith("/sarif-schema-2.1.0.json")
    assert SARIF_SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]


def test_the_schema_rejects_a_broken_log():
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": [{"level": "fatal"}]}]}
    assert list(jsonschema.Draft7Validator(SARIF_SCHEMA).iter_errors(bad))


# --- check ----------------------------------------------------------------------------------


def test_check_sarif_validates_and_points_at_the_rule():
    code, out, _ = run("check", UNKNOWN_PURPOSE, "--format", "sarif")
    log = sarif_valid(out)
    assert code == 1 and log["version"] == "2.1.0"
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "privacy-rules" and driver["version"] == version("privacy-rules")
    assert driver["rules"] == [{"id": "PR202", "shortDescription": {"text": "unknown reference"},
                                "helpUri": "docs/codes.md#pr202"}]
    (result,) = run_["results"]
    assert result["ruleId"] == "PR202" and result["level"] == "error"
    assert result["message"]["text"].startswith("rule `contact.newsletter`: unknown purpose `newsleter`")
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "tests/packs/broken/unknown-purpose/rules.yaml"
    assert location["region"] == {"startLine": 44, "startColumn": 5}


def test_check_sarif_of_a_valid_pack_has_only_notes():
    code, out, _ = run("check", MINI, "--format", "sarif")
    log = sarif_valid(out)
    assert code == 0 and {r["level"] for r in log["runs"][0]["results"]} <= {"note"}  # lint infos at most


def test_check_github_lines_are_exact():
    code, out, _ = run("check", UNKNOWN_PURPOSE, "--format", "github")
    assert code == 1
    assert out.splitlines() == [
        "::error file=tests/packs/broken/unknown-purpose/rules.yaml,line=44,col=5,title=PR202::"
        "rule `contact.newsletter`: unknown purpose `newsleter`%0Ahelp: did you mean `newsletter`?",
        "tests/packs/broken/unknown-purpose: invalid, 1 errors",
    ]


def test_check_junit_one_testcase_per_diagnostic():
    code, out, _ = run("check", UNKNOWN_PURPOSE, "--format", "junit")
    root = ET.fromstring(out)
    assert code == 1 and (root.get("tests"), root.get("failures")) == ("1", "1")
    (case,) = root.iter("testcase")
    assert case.get("file") == "tests/packs/broken/unknown-purpose/rules.yaml" and case.get("line") == "44"
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "PR202"
    assert failure.text.startswith("tests/packs/broken/unknown-purpose/rules.yaml:44:5: error PR202")


def test_check_junit_clean_pack_is_one_passing_testcase():
    code, out, _ = run("check", MINI, "--format", "junit")
    root = ET.fromstring(out)
    cases = list(root.iter("testcase"))
    assert code == 0 and root.get("failures") == "0" and root.get("errors") == "0"
    assert [c.get("name") for c in cases if c.find("failure") is None][0] == "pack is valid"


@pytest.mark.parametrize("folder", sorted((ROOT / "tests" / "packs" / "broken").iterdir()), ids=lambda p: p.name)
def test_every_broken_pack_gives_valid_sarif_and_junit(folder: Path):
    rel = str(folder.relative_to(ROOT))
    code, out, _ = run("check", rel, "--format", "sarif")
    log = sarif_valid(out)
    assert code == 1 and log["runs"][0]["results"]
    code, out, _ = run("check", rel, "--format", "junit")
    assert code == 1 and int(ET.fromstring(out).get("failures")) >= 1


def test_check_as_of_turns_on_the_review_check(tmp_path: Path):
    folder = tmp_path / "reviewed"
    shutil.copytree(ROOT / MINI, folder)
    pack_yaml = folder / "pack.yaml"
    pack_yaml.write_text(pack_yaml.read_text().replace(
        "  default_scope: record\n",
        "  default_scope: record\n  review: {reviewer: Legal, reviewed_on: 2020-01-01, next_review: 2021-01-01}\n"))
    code, out, _ = run("check", str(folder))
    assert code == 0 and "PR560" not in out  # no clock: without --as-of the check is off
    code, out, _ = run("check", str(folder), "--as-of", "2024-01-01")
    assert code == 0 and "warning PR560: the pack's review was due on 2021-01-01" in out
    assert run("check", str(folder), "--as-of", "2024-01-01", "--strict")[0] == 1
    code, _, err = run("check", str(folder), "--as-of", "2024-02-30")
    assert code == 2 and "--as-of" in err


def test_check_text_and_json_are_unchanged():
    code, out, _ = run("check", UNKNOWN_PURPOSE)
    assert code == 1 and out == (
        "tests/packs/broken/unknown-purpose/rules.yaml:44:5: error PR202: rule `contact.newsletter`: "
        "unknown purpose `newsleter`\n  help: did you mean `newsletter`?\n"
        "tests/packs/broken/unknown-purpose: invalid, 1 errors\n")
    data = json.loads(run("check", UNKNOWN_PURPOSE, "--format", "json")[1])
    assert list(data) == ["format_version", "pack", "valid", "rules", "diagnostics"]


# --- test -----------------------------------------------------------------------------------


def test_test_junit_suite_per_file_and_case_per_scenario(scenarios: Path):
    code, out, _ = run("test", MINI, "--scenarios", str(scenarios), "--format", "junit")
    root = ET.fromstring(out)
    assert code == 1
    (suite,) = root.iter("testsuite")
    assert suite.get("name") == str(scenarios)
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert list(cases) == ["wrong on purpose", "kept on the last day", "unknown scope"]
    failed = cases["wrong on purpose"]
    assert (failed.get("file"), failed.get("line")) == (str(scenarios), "2")
    failure = failed.find("failure")
    assert failure.get("message") == "outcome: expected allow, got deny; keep_until: expected 2023-08-31, got null"
    assert failure.text.splitlines()[:3] == [f"{scenarios}:2:5: FAIL wrong on purpose",
                                            "  - expected outcome: allow", "  + actual   outcome: deny"]
    assert list(cases["kept on the last day"]) == []
    assert cases["unknown scope"].find("error").get("message").startswith("unknown scope `nope`")


def test_test_junit_of_a_passing_pack():
    code, out, _ = run("test", MINI, "--format", "junit")
    root = ET.fromstring(out)
    assert code == 0 and (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "0", "0")
    assert [s.get("name") for s in root.iter("testsuite")] == ["tests/packs/mini/scenarios/basic.yaml"]


def test_test_junit_reports_low_coverage():
    code, out, _ = run("test", MINI, "--format", "junit", "--min-coverage", "50")
    root = ET.fromstring(out)
    assert code == 1 and root.get("failures") == "1"
    assert "below --min-coverage 50%" in next(root.iter("failure")).get("message")


def test_test_sarif_points_at_the_failing_scenario(scenarios: Path):
    code, out, _ = run("test", MINI, "--scenarios", str(scenarios), "--format", "sarif")
    log = sarif_valid(out)
    results = log["runs"][0]["results"]
    assert code == 1 and [r["ruleId"] for r in results] == ["scenario-fail", "scenario-error"]
    where = results[0]["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == scenarios.as_uri()  # outside the working folder: absolute
    assert where["region"] == {"startLine": 2, "startColumn": 5}
    assert results[0]["message"]["text"].startswith("wrong on purpose: outcome: expected allow, got deny")


def test_sarif_uris_stay_relative_inside_the_working_folder():
    assert report.uri_for("tests/packs/mini/scenarios/basic.yaml") == "tests/packs/mini/scenarios/basic.yaml"
    assert report.uri_for("rules/my pack/keep.yaml") == "rules/my%20pack/keep.yaml"
    assert report.uri_for("/tmp/a b.yaml") == "file:///tmp/a%20b.yaml"


def test_test_github_lines_are_exact(scenarios: Path):
    code, out, _ = run("test", MINI, "--scenarios", str(scenarios), "--format", "github")
    assert code == 1
    assert out.splitlines() == [
        f"::error file={scenarios},line=2,col=5,title=scenario failed::wrong on purpose"
        "%0A- expected outcome: allow%0A+ actual   outcome: deny"
        "%0A- expected keep_until: 2023-08-31%0A+ actual   keep_until: null"
        "%0Areason: no rule gives a lawful basis for this (Art. 6(1)); without one the answer is deny; "
        "`keep.prospect` no longer holds: its window `prospect` ended on 2023-08-31",
        f"::error file={scenarios},line=12,col=5,title=scenario error::unknown scope"
        "%0Aerror: unknown scope `nope`; known: record, voucher",
        "PASS 1/3  FAIL 1/3  ERROR 1/3",
    ]


def test_test_text_and_json_are_unchanged(scenarios: Path):
    code, out, _ = run("test", MINI, "--scenarios", str(scenarios))
    assert code == 1 and out.splitlines()[:3] == [f"{scenarios}:2:5: FAIL wrong on purpose",
                                                 "  - expected outcome: allow", "  + actual   outcome: deny"]
    data = json.loads(run("test", MINI, "--format", "json")[1])
    assert list(data) == ["format_version", "pack", "pack_version", "summary", "results", "diagnostics", "coverage"]
    assert data["summary"] == {"pass": 3, "fail": 0, "error": 0, "total": 3}


# --- diff -----------------------------------------------------------------------------------


def test_diff_sarif_and_github(tmp_path: Path):
    folder = tmp_path / "v2"
    shutil.copytree(ROOT / MINI, folder)
    rules = folder / "rules.yaml"
    rules.write_text(rules.read_text().replace('explain: {en: "bookkeeping", nb: "bokføring"}',
                                               'explain: {en: "bookkeeping (5 years)", nb: "bokføring"}'))
    code, out, _ = run("diff", MINI, str(folder), "--format", "sarif")
    log = sarif_valid(out)
    (result,) = log["runs"][0]["results"]
    assert code == 0 and result["ruleId"] == "rule-changed" and result["level"] == "note"
    assert result["message"]["text"] == "rule `keep.vouchers` changed: explain"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 35, "startColumn": 5}
    code, out, _ = run("diff", MINI, str(folder), "--format", "github", "--fail-on-change")
    rel = Path(os.path.relpath(rules))
    assert code == 1 and out.splitlines()[0] == (
        f"::error file={rel},line=35,col=5,title=rule changed::rule `keep.vouchers` changed: explain")


# --- pieces ---------------------------------------------------------------------------------


def test_github_escaping_follows_the_toolkit():
    line = report.github_line("error", "50% done\r\nnext", span=Span(file="a,b:c.yaml", line=1, col=2),
                              title="T:1,2")
    # a CR is a control character: shown as `\x0d` (escape()), never a carriage return in the log
    assert line == "::error file=a%2Cb%3Ac.yaml,line=1,col=2,title=T%3A1%2C2::50%25 done\\x0d%0Anext"
    assert report.github_line("notice", "plain") == "::notice::plain"


def test_text_is_coloured_only_when_asked():
    d = Diagnostic(code="PR202", severity=Severity.ERROR, message="unknown purpose `x`",
                   span=Span(file="r.yaml", line=1, col=1), help="did you mean `y`?")
    plain = report.check_report("text", pack="p", result=None, diags=[d])
    coloured = report.check_report("text", pack="p", result=None, diags=[d], color=True)
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_use_color_needs_a_terminal_and_no_NO_COLOR(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert report.use_color(_Tty()) and not report.use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not report.use_color(_Tty())


def test_code_titles_match_docs_codes():
    docs = (ROOT / "docs" / "codes.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^## (PR\d{3})\n\n\*\*(.+?)\.\*\*", docs, flags=re.MULTILINE))
    assert documented, "docs/codes.md has no code sections"
    for code, title in documented.items():
        assert report.CODE_TITLES.get(code, "").lower() == title.lower(), code
