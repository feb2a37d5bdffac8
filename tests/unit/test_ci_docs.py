"""docs/ci.md and .pre-commit-hooks.yaml: the configuration they show is valid, agrees, and
names nothing that does not exist (issue 7, item 15: `rev: v0.1.0` was a tag no one made,
`OWNER` a placeholder, `privacy-rules==0.1.0` a package no index holds)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CI_DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
MANIFEST = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")

# Words that stand for something the reader must fill in.
_PLACEHOLDER = re.compile(r"\b(?:OWNER|YOUR(?:[_-][A-Z]+)*|CHANGEME|TODO|FIXME|XXX)\b"
                          r"|(?i:<(?:[a-z]+[-_ ])*(?:url|owner|org|user|repo|tag|rev|commit|version)>)"
                          r"|(?i:\bexample\.(?:com|org|net)\b)")


def _is_revision_of_this_repository(rev: str) -> bool:
    """True for a full commit hash or a tag that this repository's git history holds."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return False  # cannot show it exists: not good enough for a doc that tells people to pin it
    if re.fullmatch(r"[0-9a-f]{40}", rev):
        ref = f"{rev}^{{commit}}"
    else:
        ref = f"refs/tags/{rev}^{{commit}}"
    proc = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", ref],
                          capture_output=True, text=True)
    return proc.returncode == 0


def _pip_targets(text: str) -> list[str]:
    """What each `pip install` in ``text`` installs (options dropped)."""
    targets: list[str] = []
    for line in re.findall(r"pip install ([^\n`#|;&]+)", text):
        words = shlex.split(line)
        targets += [w for w in words if not w.startswith("-")]
    return targets


def placeholder_problems(doc: str) -> list[str]:
    """Everything in ``doc`` (docs/ci.md text) a reader could not use as written."""
    problems = [f"placeholder `{m.group(0)}`" for m in _PLACEHOLDER.finditer(doc)]
    for block in re.findall(r"^```yaml\n(.*?)^```$", doc, flags=re.DOTALL | re.MULTILINE):
        data = yaml.safe_load(block)
        if not isinstance(data, dict):
            continue
        for repo in data.get("repos", ()):
            if repo.get("repo") in ("local", "meta"):
                continue
            rev = str(repo.get("rev", ""))
            if not _is_revision_of_this_repository(rev):
                problems.append(f"`rev: {rev}` is not a commit or tag of this repository")
    for target in _pip_targets(doc):
        # privacy-rules is not on a package index: only a path (a checkout, a submodule) installs it
        if not re.match(r"\.{0,2}/|\.(\[|$)", target):
            problems.append(f"`pip install {target}` installs from an index or URL, not from a checkout")
    return problems


def test_ci_doc_has_no_placeholders_and_pins_only_what_exists() -> None:
    assert placeholder_problems(CI_DOC) == []
    assert placeholder_problems(MANIFEST) == []


def test_the_placeholder_check_catches_what_the_doc_used_to_say() -> None:
    old = (
        "```yaml\nrepos:\n  - repo: https://github.com/OWNER/privacy-rules\n    rev: v0.1.0\n"
        "    hooks:\n      - id: privacy-rules-check\n```\n"
        '        run: python -m pip install "privacy-rules==0.1.0"   # or: pip install "git+https://x/y@v0.1.0"\n'
    )
    problems = placeholder_problems(old)
    assert "placeholder `OWNER`" in problems
    assert "`rev: v0.1.0` is not a commit or tag of this repository" in problems
    assert "`pip install privacy-rules==0.1.0` installs from an index or URL, not from a checkout" in problems
    assert "`pip install git+https://x/y@v0.1.0` installs from an index or URL, not from a checkout" in problems
    for bad in ("<your-org>", "<URL>", "https://example.com/x", "YOUR_ORG", "rev: <commit>"):
        assert placeholder_problems(bad), bad


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs this git checkout")
def test_a_real_commit_of_this_repository_passes() -> None:
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    doc = f"```yaml\nrepos:\n  - repo: https://git.invalid/privacy-rules\n    rev: {head}\n    hooks: []\n```\n"
    assert placeholder_problems(doc) == []
    assert placeholder_problems(doc.replace(head, "0" * 40))  # a hash no one committed


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
    offered = {h["id"]: h for h in yaml.safe_load(MANIFEST)}
    configs = [b for b in _yaml_blocks() if isinstance(b, dict) and "repos" in b]
    assert configs
    used = {h["id"] for c in configs for r in c["repos"] for h in r["hooks"]}
    assert used and used <= set(offered)
    for c in configs:
        for r in c["repos"]:
            for h in r["hooks"]:
                assert h["args"][0] == "rules/iconfirm", "the hooks have no default pack: args name it"
                if r["repo"] == "local":  # a local hook states what the manifest would: they must agree
                    want = offered[h["id"]]
                    assert h["entry"] == want["entry"] and h["name"] == want["name"]
                    assert h["language"] in ("system", "python") and h["pass_filenames"] is False


def test_workflow_example_runs_check_test_and_diff() -> None:
    workflows = [b for b in _yaml_blocks() if isinstance(b, dict) and "jobs" in b]
    assert len(workflows) == 1
    runs = "\n".join(s.get("run", "") for job in workflows[0]["jobs"].values() for s in job["steps"])
    uses = [s.get("uses", "") for job in workflows[0]["jobs"].values() for s in job["steps"]]
    assert "privacy-rules check" in runs and "--strict --format github" in runs and "--format sarif" in runs
    assert "privacy-rules test" in runs and "--min-coverage 100" in runs
    assert "privacy-rules diff" in runs and "--records" in runs and "--fail-on-change" in runs
    assert any(u.startswith("github/codeql-action/upload-sarif") for u in uses)


def test_readme_and_docs_point_only_inside_the_repository():
    # A user's clone has the repository and nothing beside it: the README once cited
    # `../shared/research/durable_rules.md`, a path outside it. Every relative link in the README
    # and docs/ resolves to a file in the repository, and the README names no `../` path.
    bad = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z][a-z0-9+.-]*:|#", target):
                continue  # a URL or an anchor in the same page
            path = (doc.parent / target.split("#", 1)[0]).resolve()
            if ROOT.resolve() not in path.parents or not path.exists():
                bad.append(f"{doc.relative_to(ROOT)}: ({target})")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    bad += [f"README.md: `{p}`" for p in re.findall(r"`(\.\./[^`]*)`", readme)]
    assert bad == []
    assert "docs/durable-rules.md" in readme and (ROOT / "docs" / "durable-rules.md").exists()
