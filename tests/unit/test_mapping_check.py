"""`privacy-rules check-profile` and the profile checker: broken profiles under tests/profiles/broken/
(each folder: profile.yaml, expected.txt = the full text report, optional args.txt), the bundled
profiles against the Iconfirm pack, and the report formats."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from privacy_rules import PackError
from privacy_rules.cli.main import main
from privacy_rules.mapping import bundled_profiles, check_profile, load_profile
from privacy_rules.model import Severity

ROOT = Path(__file__).resolve().parents[2]
BROKEN = sorted(p for p in (ROOT / "tests" / "profiles" / "broken").iterdir() if p.is_dir())


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # diagnostics print paths relative to the working folder


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("folder", BROKEN, ids=[p.name for p in BROKEN])
def test_broken_profile_reports_file_line_col_and_exits_1(folder: Path) -> None:
    args = (folder / "args.txt").read_text().split() if (folder / "args.txt").exists() else []
    code, out, err = run("check-profile", str((folder / "profile.yaml").relative_to(ROOT)), *args)
    assert (code, err) == (1, "")
    assert out == (folder / "expected.txt").read_text(encoding="utf-8")


def test_every_profile_code_has_a_broken_case_or_a_mapper_test() -> None:
    seen = set()
    for folder in BROKEN:
        seen.update(word for word in (folder / "expected.txt").read_text().split() if word.startswith("PR6"))
    seen = {s.rstrip(":") for s in seen}
    # PR616 (unknown bundled id) is tested below; PR650-PR657 are row problems (test_mapping_mapper.py)
    assert {f"PR6{n:02d}" for n in range(1, 16)} <= seen | {"PR616"}


def test_python_tag_never_runs() -> None:
    marker = Path("/tmp/pwned-profile")
    marker.unlink(missing_ok=True)
    run("check-profile", "tests/profiles/broken/python-tag/profile.yaml")
    assert not marker.exists()


@pytest.mark.parametrize("name", bundled_profiles())
def test_bundled_profiles_are_valid_against_the_iconfirm_pack(name: str) -> None:
    code, out, _ = run("check-profile", name, "--pack", "rules/iconfirm", "--strict")
    assert code == 0, out
    assert out.startswith(f"{name}: profile `{name}`,") and "0 errors, 0 warnings" in out


@pytest.mark.parametrize("name", bundled_profiles())
def test_bundled_profiles_load_by_id_and_by_path(name: str) -> None:
    by_id = load_profile(name)
    by_path = load_profile(ROOT / "src" / "privacy_rules" / "profiles" / f"{name}.yaml")
    assert by_id.id == by_path.id == name
    assert by_id.version == by_path.version and len(by_id.version) == 64
    assert by_id.source == f"<bundled>/{name}.yaml"


def test_unknown_bundled_id_suggests_the_close_one() -> None:
    code, out, _ = run("check-profile", "hubspot-exprt")
    assert code == 1
    assert out.splitlines()[:2] == ["error PR616: no bundled profile `hubspot-exprt` and no such file",
                                    "  help: did you mean `hubspot-export`?"]
    with pytest.raises(PackError) as info:
        load_profile("salesfroce")
    assert info.value.diagnostics[0].code == "PR616"


def test_missing_file_is_pr001() -> None:
    result, diags = check_profile("tests/profiles/no-such-profile.yaml")
    assert result is None and diags[0].code == "PR001"


def test_load_profile_raises_with_every_error() -> None:
    with pytest.raises(PackError) as info:
        load_profile(ROOT / "tests" / "profiles" / "broken" / "entry-fields" / "profile.yaml")
    assert [d.code for d in info.value.diagnostics] == ["PR612", "PR604", "PR602", "PR602"]


def test_warnings_do_not_stop_loading() -> None:
    path = ROOT / "tests" / "profiles" / "broken" / "unused-declarations" / "profile.yaml"
    profile, diags = check_profile(path)
    assert profile is not None and {d.severity for d in diags} == {Severity.WARNING}
    assert run("check-profile", str(path.relative_to(ROOT)))[0] == 0  # without --strict


def test_an_invalid_pack_is_a_usage_error() -> None:
    code, _, err = run("check-profile", "generic-csv", "--pack", "tests/packs/broken/unknown-purpose")
    assert code == 2 and "PR202" in err


def test_json_report() -> None:
    code, out, _ = run("check-profile", "tests/profiles/broken/unknown-target/profile.yaml", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["format_version"] == 1 and data["valid"] is False
    assert data["diagnostics"][0]["code"] == "PR602" and data["diagnostics"][0]["line"] == 3
    code, out, _ = run("check-profile", "hubspot-api", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["valid"] is True and data["id"] == "hubspot-api" and data["events"] == 2


def test_sarif_junit_and_github_reports() -> None:
    path = "tests/profiles/broken/bad-zone/profile.yaml"
    sarif = json.loads(run("check-profile", path, "--format", "sarif")[1])
    result = sarif["runs"][0]["results"][0]
    assert result["ruleId"] == "PR607" and result["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert sarif["runs"][0]["tool"]["driver"]["rules"][0]["help"]["text"]  # the docs/codes.md section
    junit = ET.fromstring(run("check-profile", path, "--format", "junit")[1])
    assert junit.get("failures") == "1"
    github = run("check-profile", path, "--format", "github")[1]
    assert github.startswith("::error file=tests/profiles/broken/bad-zone/profile.yaml,line=3,col=24,title=PR607::")
    ok = ET.fromstring(run("check-profile", "generic-csv", "--format", "junit")[1])
    assert ok.get("failures") == "0" and ok.get("tests") == "1"
