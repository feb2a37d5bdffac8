"""The Iconfirm pack stands on its own: its policy text ships in the pack and every norm says what it rests on.

Also the `quote` / `grounds` fields of `pack.norms` (schemas/pack.schema.json) and the PR222
check against the policy text, on copies of the real pack.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import privacy_rules

from ..conftest import ICONFIRM, MINI

POLICY = ICONFIRM / "policy" / "personvernerklaering-iconfirm.txt"


def _norms() -> dict:
    return dict(privacy_rules.load_pack(ICONFIRM).meta["norms"])


def test_the_policy_text_ships_inside_the_pack():
    pack = privacy_rules.load_pack(ICONFIRM)
    source = (ICONFIRM / pack.meta["source"]).resolve()
    assert source == POLICY.resolve() and source.is_relative_to(ICONFIRM.resolve())
    assert source.read_text(encoding="utf-8").startswith("Personvernerklæring for Iconfirm")
    # the team's translation and analysis travels with it, without pointers out of the repository
    norms_md = (ICONFIRM / "policy" / "norms.md").read_text(encoding="utf-8")
    assert "shared/policy" not in norms_md
    for name in ("pack.yaml", "READINGS.md", "NEEDS.md"):
        assert "shared/policy" not in (ICONFIRM / name).read_text(encoding="utf-8"), name


def test_check_finds_no_problem_with_the_policy_text_or_the_quotes():
    _, diags = privacy_rules.check_pack(ICONFIRM)
    assert [str(d) for d in diags if d.code.startswith("PR22")] == []


def test_every_norm_quotes_its_sentence_or_names_its_law():
    norms = _norms()
    for nid, info in norms.items():
        assert info.get("quote") or info.get("grounds"), f"{nid} says nothing about what it rests on"
    # N1-N41 come from the policy text, the readings R1-R22 interpret sentences of it; N42-N55 are law
    for i in range(1, 42):
        assert norms[f"N{i}"].get("quote"), f"N{i}"
    for i in range(1, 23):
        assert norms[f"R{i}"].get("quote"), f"R{i}"
    for i in range(42, 56):
        assert norms[f"N{i}"].get("grounds") and not norms[f"N{i}"].get("quote"), f"N{i}"


def test_quotes_are_whole_sentences_of_the_policy_text():
    text = POLICY.read_text(encoding="utf-8")
    for nid, info in _norms().items():
        quote = info.get("quote")
        for q in [quote] if isinstance(quote, str) else list(quote or ()):
            words = r"\s+".join(re.escape(w) for w in q.split())
            # starts a line (after a list marker) or follows the end of a sentence; ends a sentence
            start = r"(?:^[ \t]*(?:•|\d+\.)?[ \t]*|(?<=[.:])\s+)"
            assert re.search(start + words, text, flags=re.MULTILINE), f"{nid}: not a whole sentence: {q[:50]}"
            assert q.rstrip()[-1] in ".:", f"{nid}: ends mid-sentence: {q[-40:]}"


@pytest.fixture
def iconfirm_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "iconfirm"
    shutil.copytree(ICONFIRM, folder)
    return folder


def test_the_copy_mistake_in_norms_md_n1_is_caught(iconfirm_copy: Path):
    """norms.md quotes N1 with straight quotes ("vi"); the policy text has typographic ones (“vi”)."""
    norms_md = (iconfirm_copy / "policy" / "norms.md").read_text(encoding="utf-8")
    as_in_norms_md = re.search(r"«(Iconfirm AS \(videre omtalt som \"vi\".*?)»", norms_md)
    assert as_in_norms_md
    pack_yaml = iconfirm_copy / "pack.yaml"
    text = pack_yaml.read_text(encoding="utf-8")
    original = "Iconfirm AS (videre omtalt som “vi” eller “Iconfirm”) er opptatt av at du skal ha tillit til oss"
    assert original in text
    text = text.replace(original, as_in_norms_md[1].split(" og hvordan")[0].replace('"', '\\"'))
    pack_yaml.write_text(text, encoding="utf-8")
    pack, diags = privacy_rules.check_pack(iconfirm_copy)
    found = [d for d in diags if d.code == "PR222"]
    assert pack is not None and len(found) == 1 and "norm `N1`" in found[0].message
    assert found[0].span is not None and found[0].span.line == text.splitlines().index(
        next(line for line in text.splitlines() if 'omtalt som \\"vi\\"' in line)) + 1


def test_an_outside_source_refuses_the_real_pack(iconfirm_copy: Path):
    """The pack as it was before: `source: ../../../shared/policy/...` is now an error."""
    pack_yaml = iconfirm_copy / "pack.yaml"
    text = pack_yaml.read_text(encoding="utf-8")
    pack_yaml.write_text(text.replace("source: policy/personvernerklaering-iconfirm.txt",
                                      "source: ../../../shared/policy/personvernerklaering-iconfirm.txt"),
                         encoding="utf-8")
    pack, diags = privacy_rules.check_pack(iconfirm_copy)
    assert pack is None and [d.code for d in diags if d.severity.value == "error"] == ["PR220"]


@pytest.mark.parametrize("value, ok", [
    ('"Vi lagrer."', True),
    ('["Vi lagrer.", "Vi sletter."]', True),
    ("[]", False),
    ('""', False),
    ("5", False),
    ('[{"nb": "Vi lagrer."}]', False),
])
def test_schema_quote_is_a_sentence_or_a_list_of_sentences(tmp_path: Path, value: str, ok: bool):
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    head = folder / "pack.yaml"
    head.write_text(head.read_text(encoding="utf-8").replace(
        "  default_scope: record\n",
        "  default_scope: record\n  norms:\n    N28: {title: Prospects, covered_by: rules, quote: " + value
        + ", grounds: \"markedsføringsloven § 15\"}\n"), encoding="utf-8")
    pack, diags = privacy_rules.check_pack(folder)
    assert (pack is not None) == ok, [str(d) for d in diags]
    if not ok:
        assert [d.code for d in diags if d.severity.value == "error"] == ["PR100"]
