"""The Iconfirm pack's scenario files, run as pytest cases (one case per scenario), plus coverage.

The same scenarios run through `privacy-rules test rules/iconfirm`; here each one is a test id
so a failure names the scenario and shows the expected/actual diff.
"""

from __future__ import annotations

import pytest

import privacy_rules
from privacy_rules.scenarios import Result, coverage, load_scenarios, run_scenario

from ..conftest import ICONFIRM

_pack = privacy_rules.load_pack(ICONFIRM)
_policy = privacy_rules.compile_pack(_pack)
SCENARIOS, LOAD_PROBLEMS = load_scenarios(_pack.scenario_files)


def test_scenario_files_load_cleanly():
    assert [str(d) for d in LOAD_PROBLEMS] == []
    assert len(SCENARIOS) >= 100


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f"{s.span.file.split('/')[-1]}:{s.span.line}:{s.name}" for s in SCENARIOS])
def test_scenario(scenario):
    result = run_scenario(_policy, scenario)
    detail = "\n".join(str(m) for m in result.mismatches) or (result.error or "")
    reason = result.decision.reason if result.decision else ""
    assert result.result is Result.PASS, f"{scenario.span}: {scenario.name}\n{detail}\nreason: {reason}"


def test_every_rule_is_exercised_and_every_decision_norm_cited():
    cov = coverage(_policy, [run_scenario(_policy, s) for s in SCENARIOS])
    assert cov.rules_unexercised == ()
    assert cov.norms_uncited == ()


def test_pack_accounts_for_all_55_norms():
    norms = _pack.meta["norms"]
    assert {f"N{i}" for i in range(1, 56)} <= set(norms)
    assert {f"R{i}" for i in range(1, 23)} <= set(norms)


def test_docs_norm_map_is_current():
    from pathlib import Path

    from privacy_rules.normmap import norm_map_markdown

    doc = Path(ICONFIRM).parents[1] / "docs" / "iconfirm.md"
    assert doc.read_text(encoding="utf-8") == norm_map_markdown(_pack), (
        "docs/iconfirm.md is stale: run `python -m privacy_rules.normmap rules/iconfirm > docs/iconfirm.md`")
