"""docs/codes.md documents every diagnostic code the library can emit, one section each."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"PR\d{3}")


def _documented() -> set[str]:
    text = (ROOT / "docs" / "codes.md").read_text(encoding="utf-8")
    # `## PR501` headings give the anchors #pr501 that SARIF help links and annotations point at
    return set(re.findall(r"^## (PR\d{3})$", text, flags=re.MULTILINE))


def _used() -> set[str]:
    used: set[str] = set()
    for path in (ROOT / "src" / "privacy_rules").rglob("*.py"):
        used |= set(CODE.findall(path.read_text(encoding="utf-8")))
    return used


def test_every_code_in_the_source_has_a_section() -> None:
    missing = sorted(_used() - _documented())
    assert not missing, f"add a `## CODE` section to docs/codes.md for: {', '.join(missing)}"


def test_every_section_is_a_code_the_source_uses() -> None:
    stale = sorted(_documented() - _used())
    assert not stale, f"docs/codes.md documents codes nothing emits: {', '.join(stale)}"


def test_sections_are_in_code_order() -> None:
    text = (ROOT / "docs" / "codes.md").read_text(encoding="utf-8")
    order = re.findall(r"^## (PR\d{3})$", text, flags=re.MULTILINE)
    assert order == sorted(order) and len(order) == len(set(order))
