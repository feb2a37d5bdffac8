"""Fictional recipients the tests need, kept out of the shipped pack; and that pack's own CI stays green.

tests/packs/iconfirm-examples/ holds extra vocabulary and scenario files. The `examples_pack`
fixture assembles them into a temporary copy of rules/iconfirm, so the scenarios run against
the shipped rule files (none is duplicated). The shipped pack itself must pass
`privacy-rules check rules/iconfirm --strict --as-of <day>` (docs/ci.md) on every day up to its
next review, and afterwards warn only that the review is overdue (PR560).
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

import privacy_rules
from privacy_rules.load import load_yaml_file
from privacy_rules.model import Severity
from privacy_rules.scenarios import Result, load_scenarios, run_scenario
from privacy_rules.validate.lint import check_dpa_in_force, check_review_overdue, check_transfer_lawful

from ..conftest import ICONFIRM, ROOT

EXAMPLES = ROOT / "tests" / "packs" / "iconfirm-examples"
EXAMPLE_SCENARIOS = sorted((EXAMPLES / "scenarios").glob("*.yaml"))


def _extra_vocabulary() -> dict:
    return dict(load_yaml_file(str(EXAMPLES / "vocabulary.yaml")).data)


@pytest.fixture(scope="module")
def examples_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of rules/iconfirm with the example vocabulary merged in and the example scenarios added."""
    folder = tmp_path_factory.mktemp("examples") / "iconfirm"
    shutil.copytree(ICONFIRM, folder)
    head = load_yaml_file(str(folder / "pack.yaml")).data
    for section, entries in _extra_vocabulary().items():
        known = head["vocabulary"].setdefault(section, {})
        clash = sorted(set(entries) & set(known))
        assert not clash, f"iconfirm-examples redefines {section} {clash}: give the example its own id"
        known.update(entries)
    target = folder / "scenarios" / "examples"
    target.mkdir()
    for path in EXAMPLE_SCENARIOS:
        shutil.copy(path, target / path.name)
        head["scenarios"].append(f"scenarios/examples/{path.name}")
    # JSON is YAML: the loader reads it back exactly, with no formatting of ours to get wrong
    (folder / "pack.yaml").write_text(json.dumps(head, ensure_ascii=False, indent=1), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def examples_policy(examples_pack: Path) -> privacy_rules.Policy:
    return privacy_rules.compile_pack(privacy_rules.load_pack(examples_pack))


def _example_scenarios(folder: Path):
    scenarios, problems = load_scenarios([str(folder / "scenarios" / "examples" / p.name) for p in EXAMPLE_SCENARIOS])
    assert [str(d) for d in problems] == []
    return scenarios


def test_the_examples_pack_loads_and_names_only_new_ids(examples_pack: Path):
    pack, diags = privacy_rules.check_pack(examples_pack)
    assert pack is not None, [str(d) for d in diags]
    assert not [str(d) for d in diags if d.severity is Severity.WARNING]
    for rid in _extra_vocabulary()["recipients"]:
        assert rid in pack.vocabulary.recipients
    # ... and why they are not shipped: an ended DPA is a PR523 warning on every later day
    _, later = privacy_rules.check_pack(examples_pack, as_of=date(2026, 12, 2))
    assert [d.code for d in later if d.severity is Severity.WARNING] == ["PR523"]


def test_example_scenarios_pass_against_the_shipped_rules(examples_pack: Path, examples_policy: privacy_rules.Policy):
    scenarios = _example_scenarios(examples_pack)
    assert len(scenarios) >= 4
    exercised: set[str] = set()
    for s in scenarios:
        result = run_scenario(examples_policy, s)
        detail = "\n".join(str(m) for m in result.mismatches) or (result.error or "")
        assert result.result is Result.PASS, f"{s.span}: {s.name}\n{detail}"
        exercised.update(a.rule_id for a in result.decision.applied if a.status.value != "unknown")
    assert {"share.processor-without-dpa", "share.processor-dpa-transfer", "share.unlisted-processor-notice"} <= exercised


def test_the_shipped_pack_carries_no_example_only_vocabulary():
    pack = privacy_rules.load_pack(ICONFIRM)
    extra = _extra_vocabulary()
    for section, entries in extra.items():
        assert not set(entries) & set(getattr(pack.vocabulary, section)), section
    scenarios, _ = load_scenarios(pack.scenario_files)
    for s in scenarios:
        assert not any(rid in s.question for rid in extra.get("recipients", {})), f"{s.span}: {s.name}"


def test_the_shipped_pack_passes_its_own_ci_on_every_day_until_2030():
    """docs/ci.md runs `check --strict --as-of <today>` weekly; nothing in the pack may fail it by date alone."""
    pack = privacy_rules.load_pack(ICONFIRM)
    head = load_yaml_file(str(ICONFIRM / "pack.yaml"))
    next_review = date.fromisoformat(pack.meta["review"]["next_review"])
    # the full check, strict, on a few days: only the overdue review may ever warn
    for day in (date(2026, 12, 2), next_review, next_review + timedelta(days=1), date(2030, 12, 31)):
        _, diags = privacy_rules.check_pack(ICONFIRM, as_of=day)
        warnings = [d.code for d in diags if d.severity is not Severity.INFO]
        assert warnings == ([] if day <= next_review else ["PR560"]), (day, [str(d) for d in diags])
    # the date-dependent checks (DPA in force, lawful transfer, review) on every day
    day = date(2026, 11, 25)
    while day <= date(2030, 12, 31):
        found = [*check_dpa_in_force(pack, head, day), *check_transfer_lawful(pack, head, day),
                 *check_review_overdue(pack, head, day)]
        assert [d.code for d in found] == ([] if day <= next_review else ["PR560"]), (day, [str(d) for d in found])
        day += timedelta(days=1)
