"""Every YAML file of a pack starts with the yaml-language-server schema comment (docs/ci.md).

Editors with the YAML language server (VS Code's YAML extension, Neovim, JetBrains) read the
comment on line 1 and then validate and complete the file against the project's JSON Schema.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = [ROOT / "rules", ROOT / "tests" / "packs" / "mini", ROOT / "tests" / "packs" / "lint"]
FILES = sorted(p for folder in FOLDERS for p in folder.rglob("*.yaml"))
COMMENT = re.compile(r"# yaml-language-server: \$schema=(\S+)")


def _schema_for(path: Path) -> str:
    if path.name == "pack.yaml":
        return "pack.schema.json"
    if "scenarios" in path.relative_to(ROOT).parts:
        return "scenarios.schema.json"
    return "rules.schema.json"


def test_there_are_files_to_check() -> None:
    assert any(p.parent.name == "iconfirm" for p in FILES) and len(FILES) > 10


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_yaml_file_names_its_schema_on_line_1(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = COMMENT.fullmatch(first)
    assert match, f"line 1 should be `# yaml-language-server: $schema=RELATIVE/PATH/{_schema_for(path)}`"
    target = (path.parent / match[1]).resolve()
    assert target.is_file(), f"{match[1]} does not exist relative to {path.parent}"
    assert target == (ROOT / "schemas" / _schema_for(path)).resolve()
