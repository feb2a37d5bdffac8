"""docs/ci.md and .pre-commit-hooks.yaml: the configuration they show is valid and agrees."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CI_DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")


def _yaml_blocks() -> list[object]:
    return [yaml.safe_load(b) for b in re.findall(r"^```yaml\n(.*?)^```$", CI_DOC, flags=re.DOTALL | re.MULTILINE)]


def test_hook_manifest_exposes_check_and_test() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    check = hooks["privacy-rules-check"]
    assert check["entry"] == "privacy-rules check" and check["language"] == "python"
    assert check["pass_filenames"] is False and re.search(check["files"], "rules/iconfirm/keep.yaml")
    assert hooks["privacy-rules-test"]["entry"] == "privacy-rules test"


def test_every_yaml_example_in_ci_doc_parses() -> None:
    blocks = [b for b in _yaml_blocks() if b is not None]   # a block of comments only is None
    assert len(blocks) >= 2


def test_pre_commit_example_uses_the_hooks_this_repository_offers() -> None:
    offered = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    configs = [b for b in _yaml_blocks() if isinstance(b, dict) and "repos" in b]
    assert configs
    used = {h["id"] for c in configs for r in c["repos"] for h in r["hooks"]}
    assert used and used <= offered
    for c in configs:
        for r in c["repos"]:
            for h in r["hooks"]:
                assert h["args"][0] == "rules/iconfirm", "the hooks have no default pack: args name it"


def test_workflow_example_runs_check_test_and_diff() -> None:
    workflows = [b for b in _yaml_blocks() if isinstance(b, dict) and "jobs" in b]
    assert len(workflows) == 1
    runs = "\n".join(s.get("run", "") for job in workflows[0]["jobs"].values() for s in job["steps"])
    uses = [s.get("uses", "") for job in workflows[0]["jobs"].values() for s in job["steps"]]
    assert "privacy-rules check" in runs and "--strict --format github" in runs and "--format sarif" in runs
    assert "privacy-rules test" in runs and "--min-coverage 100" in runs
    assert "privacy-rules diff" in runs and "--records" in runs and "--fail-on-change" in runs
    assert any(u.startswith("github/codeql-action/upload-sarif") for u in uses)
