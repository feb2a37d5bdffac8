"""CI output formats of `check`, `test` and `diff` (cli/report.py): JUnit, SARIF, GitHub, text."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tomllib
import xml.etree.ElementTree as ET
from importlib.metadata import version
from pathlib import Path

import jsonschema
import pytest

from privacy_rules.cli import report
from privacy_rules.cli._codes import parse_codes_doc, read_codes_doc
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
    "    expect: {outcome: allow, keep_until: '2023-09-30'}\n"
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
    (rule,) = driver["rules"]
    assert rule["id"] == "PR202" and rule["shortDescription"] == {"text": "unknown reference"}
    assert "helpUri" not in rule  # a relative link would point into the user's repository
    assert rule["help"]["markdown"].startswith("**Unknown reference.** Severity: error.")
    assert rule["help"]["markdown"].endswith("Fix: correct the spelling, or define the entry under `vocabulary` in pack.yaml.")
    assert rule["help"]["text"].startswith("Unknown reference. Severity: error.\n\nA rule or vocabulary entry")
    assert "    tests/packs/broken/unknown-purpose/rules.yaml:44:5: error PR202" in rule["help"]["text"]
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
    assert failure.get("message") == "outcome: expected allow, got deny; keep_until: expected 2023-09-30, got 2023-08-31"
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
        "%0A- expected keep_until: 2023-09-30%0A+ actual   keep_until: 2023-08-31"
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


# --- SARIF help from docs/codes.md (issue 7, item 17) ---------------------------------------------


def test_the_package_ships_docs_codes_md_unchanged():
    shipped = ROOT / "src" / "privacy_rules" / "docs" / "codes.md"
    assert shipped.read_bytes() == (ROOT / "docs" / "codes.md").read_bytes(), (
        "src/privacy_rules/docs/codes.md is the copy of docs/codes.md that SARIF help is read from: "
        "run `cp docs/codes.md src/privacy_rules/docs/codes.md`")
    assert read_codes_doc() == shipped.read_text(encoding="utf-8")  # what the installed package reads
    with open(ROOT / "pyproject.toml", "rb") as fh:
        package_data = tomllib.load(fh)["tool"]["setuptools"]["package-data"]["privacy_rules"]
    assert "docs/codes.md" in package_data  # so a wheel carries it too


def test_every_code_section_parses_into_help():
    docs = (ROOT / "docs" / "codes.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^## (PR\d{3})\n\n\*\*(.+?)\.\*\*", docs, flags=re.MULTILINE))
    parsed = parse_codes_doc(docs)
    assert documented and set(parsed) == set(documented)
    for code, title in documented.items():
        doc = parsed[code]
        assert doc.title.lower() == title.lower() and doc.title[1:] == title[1:], code
        assert doc.markdown.startswith(f"**{title}.**") and "## " not in doc.markdown, code
        assert "**" not in doc.text and doc.text.startswith(f"{title}."), code
    assert parsed["PR523"].title == "DPA not in force on the day checked"  # acronyms keep their case


def test_relative_links_in_help_become_absolute_only_under_a_base():
    text = "## PR999\n\n**Made up.** See [the language](rule-language.md#3) and [PR501](#pr501), [x](https://a.b/c).\n"
    bare = parse_codes_doc(text)["PR999"].markdown
    assert bare == "**Made up.** See the language and PR501, [x](https://a.b/c)."
    based = parse_codes_doc(text, docs_url="https://d.example/docs/")["PR999"].markdown
    assert based == ("**Made up.** See [the language](https://d.example/docs/rule-language.md#3) and "
                     "[PR501](https://d.example/docs/codes.md#pr501), [x](https://a.b/c).")


@pytest.mark.parametrize("base", ["https://docs.example.org/privacy-rules/docs", "https://docs.example.org/d/"])
def test_help_uri_only_when_a_base_is_given(base: str, scenarios: Path):
    code, out, _ = run("check", UNKNOWN_PURPOSE, "--format", "sarif", "--help-uri-base", base)
    (rule,) = sarif_valid(out)["runs"][0]["tool"]["driver"]["rules"]
    assert code == 1 and rule["helpUri"] == base.rstrip("/") + "/codes.md#pr202"
    code, out, _ = run("test", MINI, "--scenarios", str(scenarios), "--format", "sarif", "--help-uri-base", base)
    rules = {r["id"]: r for r in sarif_valid(out)["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["scenario-fail"]["helpUri"] == base.rstrip("/") + "/rule-language.md#5-scenario-tests-privacy-rules-test-pack"
    assert rules["scenario-fail"]["help"]["text"].startswith("A scenario of the pack's tests expects")


@pytest.mark.parametrize("base", ["docs/", "codes.md", "//host/docs/", "https://", "https://a b/", "x"])
def test_help_uri_base_must_be_absolute(base: str):
    code, out, err = run("check", MINI, "--format", "sarif", "--help-uri-base", base)
    assert code == 2 and out == "" and "is not an absolute URL" in err


@pytest.mark.parametrize("folder", sorted((ROOT / "tests" / "packs" / "broken").iterdir()), ids=lambda p: p.name)
def test_every_sarif_rule_has_help_and_no_relative_link(folder: Path):
    _, out, _ = run("check", str(folder.relative_to(ROOT)), "--format", "sarif")
    for rule in sarif_valid(out)["runs"][0]["tool"]["driver"]["rules"]:
        assert rule["help"]["text"] and rule["help"]["markdown"].startswith("**") and "helpUri" not in rule


# --- diff: vocabulary changes carry the line of the entry in pack.yaml -------------------------


@pytest.fixture
def vocab_change(tmp_path: Path) -> tuple[str, str]:
    """MINI with a window changed, a purpose added and a transfer mechanism removed."""
    folder = tmp_path / "v2"
    shutil.copytree(ROOT / MINI, folder)
    pack = folder / "pack.yaml"
    text = pack.read_text()
    text = text.replace("prospect: {from: relationship.first_contact_on, months: 24}",
                        "prospect: {from: relationship.first_contact_on, months: 12}")
    text = text.replace('    crm: {basis: legitimate_interest, label: {en: "crm", nb: "crm"}}\n',
                        '    crm: {basis: legitimate_interest, label: {en: "crm", nb: "crm"}}\n'
                        '    survey: {basis: legitimate_interest, label: {en: "survey", nb: "survey"}}\n')
    text = text.replace('    sccs: {article: "Art. 46(2)(c)", label: {en: "sccs", nb: "sccs"}}\n', "")
    pack.write_text(text)
    return MINI, os.path.relpath(pack)


def test_diff_github_vocabulary_changes_point_at_their_line(vocab_change: tuple[str, str]):
    old, new_file = vocab_change
    code, out, _ = run("diff", old, str(Path(new_file).parent), "--format", "github")
    lines = [line for line in out.splitlines() if "title=vocabulary" in line]
    assert code == 0 and lines == [
        f"::notice file={new_file},line=28,col=5,title=vocabulary added::vocabulary `purposes.survey` added",
        f"::notice file={MINI}/pack.yaml,line=32,col=5,title=vocabulary removed::"
        "vocabulary `transfer_mechanisms.sccs` removed",  # removed: the old pack's line, the old file named
        f"::notice file={new_file},line=49,col=5,title=vocabulary changed::vocabulary `windows.prospect` changed"
        "%0Amonths: 24 -> 12",
    ]


def test_diff_sarif_and_junit_vocabulary_changes_carry_lines(vocab_change: tuple[str, str]):
    old, new_file = vocab_change
    code, out, _ = run("diff", old, str(Path(new_file).parent), "--format", "sarif")
    found = {r["ruleId"]: r["locations"][0]["physicalLocation"] for r in sarif_valid(out)["runs"][0]["results"]}
    assert found["vocabulary-removed"] == {"artifactLocation": {"uri": f"{MINI}/pack.yaml"},
                                           "region": {"startLine": 32, "startColumn": 5}}
    assert found["vocabulary-changed"]["region"] == {"startLine": 49, "startColumn": 5}
    assert found["vocabulary-added"]["artifactLocation"]["uri"] == report.uri_for(new_file)
    code, out, _ = run("diff", old, str(Path(new_file).parent), "--format", "junit")
    cases = {c.get("name"): c for c in ET.fromstring(out).iter("testcase")}
    assert (cases["purposes.survey added"].get("file"), cases["purposes.survey added"].get("line")) == (new_file, "28")
    assert cases["transfer_mechanisms.sccs removed"].get("line") == "32"
    data = json.loads(run("diff", old, str(Path(new_file).parent), "--format", "json")[1])
    removed = [v for v in data["vocabulary"] if v["kind"] == "removed"][0]
    assert removed["old_location"] == {"file": f"{MINI}/pack.yaml", "line": 32, "col": 5}
    assert removed["new_location"] is None


# --- diff: pack-setting changes carry the line too ----------------------------------------------


@pytest.fixture
def setting_change(tmp_path: Path) -> tuple[str, str]:
    """The Iconfirm pack with its time zone, one norm's title and the reviewer changed, and its
    standard questions removed (a setting only the old pack.yaml has a line for)."""
    folder = tmp_path / "iconfirm-v2"
    shutil.copytree(ROOT / "rules" / "iconfirm", folder)
    pack = folder / "pack.yaml"
    text = pack.read_text()
    for old, new in (("time_zone: Europe/Oslo", "time_zone: Europe/Berlin"),
                     ('title: "DPA with each platform customer"', 'title: "DPA with every platform customer"'),
                     ('reviewer: "(to be assigned)"', 'reviewer: "Kari Nordmann"')):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    lines = text.splitlines(keepends=True)
    lines = [line for line in lines if not line.startswith("  questions:")]
    pack.write_text("".join(lines))
    return "rules/iconfirm", os.path.relpath(pack)


def _line_of(path: str, start: str) -> int:
    return next(n for n, line in enumerate(Path(path).read_text().splitlines(), 1) if line.startswith(start))


def test_diff_pack_setting_changes_point_at_their_line(setting_change: tuple[str, str]):
    old, new_file = setting_change
    new = str(Path(new_file).parent)
    old_file = f"{old}/pack.yaml"
    expected = {  # the changed entry of a mapping (norms.N3, review.reviewer), else the key
        "time_zone": (new_file, _line_of(new_file, "  time_zone:"), 3),
        "norms": (new_file, _line_of(new_file, "    N3:"), 5),
        "review": (new_file, _line_of(new_file, "    reviewer:"), 5),
        "questions": (old_file, _line_of(old_file, "  questions:"), 3),  # removed: the old pack's line
    }
    code, out, _ = run("diff", old, new, "--format", "github")
    found = {}
    for line in out.splitlines():
        if "title=pack changed" in line:
            props, _, message = line.partition("::")[2].partition("::")
            attrs = dict(p.split("=", 1) for p in props.split(" ", 1)[1].split(","))
            found[message.split()[1].rstrip(":")] = (attrs["file"], int(attrs["line"]), int(attrs["col"]))
    assert code == 0 and found == expected
    results = sarif_valid(run("diff", old, new, "--format", "sarif")[1])["runs"][0]["results"]
    regions = sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results
                     if r["ruleId"] == "pack-changed")
    assert regions == sorted(line for _, line, _ in expected.values())
    cases = {c.get("name"): c for c in ET.fromstring(run("diff", old, new, "--format", "junit")[1]).iter("testcase")}
    assert {k: (cases[f"pack {k}"].get("file"), int(cases[f"pack {k}"].get("line"))) for k in expected} == \
        {k: (f, line) for k, (f, line, _) in expected.items()}
