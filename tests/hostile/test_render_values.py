"""The review document shows condition values as YAML literals, so their kinds read apart.

Before: `fact` values were printed with ``str()``: `true` as `True`, and strings without quotes,
so `equals: "1"` and `equals: 1` (different conditions: a record's `1` matches only the second)
looked the same to a reviewer, and so did `equals: "true"` and `equals: true`. Now booleans are
`true`/`false`, numbers bare, strings bare only when they cannot read as another kind (else
quoted), dates as written; the HTML/Markdown escaping is unchanged. Fixture:
tests/hostile/render_values/rules.yaml (over tests/packs/mini).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import privacy_rules
from privacy_rules.render import render_pack
from privacy_rules.render._view import yaml_literal

HERE = Path(__file__).resolve().parent
MINI = HERE.parent / "packs" / "mini"
RULES = HERE / "render_values" / "rules.yaml"


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> privacy_rules.Pack:
    folder = tmp_path_factory.mktemp("render") / "pack"
    shutil.copytree(MINI, folder)
    head = (folder / "pack.yaml").read_text(encoding="utf-8")
    (folder / "pack.yaml").write_text(head.replace("files: [rules.yaml]", "files: [rules.yaml, values.yaml]"),
                                      encoding="utf-8")
    assert "values.yaml" in (folder / "pack.yaml").read_text(encoding="utf-8")
    shutil.copy(RULES, folder / "values.yaml")
    return privacy_rules.load_pack(folder)


# (what the rule file says, what the Markdown shows)
SHOWN = [
    ('equals: "1"', 'is `"1"`'),
    ("equals: 1", "is `1`"),
    ("equals: true", "is `true`"),
    ('equals: "true"', 'is `"true"`'),
    ('equals: "NO"', 'is `"NO"`'),
    ("equals: 1.5", "is `1.5`"),
    ("equals: gold", "is `gold`"),
    ('equals: ""', 'is `""`'),
    ('equals: "a: b"', 'is `"a: b"`'),
    ("in: [false, 0, \"0\", gold]", 'is one of `false`, `0`, `"0"`, `gold`'),
    ("on_or_after: 2020-01-01", "is on or after `2020-01-01`"),
    ('equals: "2020-01-01"', "is `2020-01-01`"),  # a string either way (YAML 1.2 has no date type)
]


@pytest.mark.parametrize(("written", "shown"), SHOWN, ids=[w for w, _ in SHOWN])
def test_markdown_shows_each_value_as_yaml_writes_it(pack: privacy_rules.Pack, written: str, shown: str) -> None:
    text = render_pack(pack, lang="en", fmt="markdown")
    assert shown in text, written


def test_no_python_spelling_is_left(pack: privacy_rules.Pack) -> None:
    for lang in ("en", "nb"):
        for fmt in ("markdown", "html"):
            text = render_pack(pack, lang=lang, fmt=fmt)
            assert "`True`" not in text and "`False`" not in text and ">True<" not in text and ">False<" not in text
    html = render_pack(pack, lang="nb", fmt="html")
    assert "<code>&#34;1&#34;</code>" in html and "<code>1</code>" in html and "<code>true</code>" in html
    assert "er en av" in html  # the Norwegian phrase around the values


def test_negated_conditions_show_literals_too(pack: privacy_rules.Pack) -> None:
    text = render_pack(pack, lang="en", fmt="markdown")
    assert 'is not `"true"`' in text


def test_escaping_still_applies(pack: privacy_rules.Pack) -> None:
    md = render_pack(pack, lang="en", fmt="markdown")
    html = render_pack(pack, lang="en", fmt="html")
    # a control character is a visible escape inside JSON quotes; a backtick gets a longer fence;
    # markup is shown, not obeyed
    assert '"a\\u001bb"' in md and "\x1b" not in md and "\x1b" not in html
    assert '``"`x`"``' in md
    assert "<b>" not in html and "&lt;b&gt;" in html


@pytest.mark.parametrize(("value", "literal"), [
    (True, "true"), (False, "false"), (None, "null"), (0, "0"), (-2, "-2"), (1.0, "1.0"), (1e20, "1e+20"),
    (float("nan"), ".nan"), (float("inf"), ".inf"), ("1", '"1"'), ("-1", '"-1"'), ("0x1F", '"0x1F"'),
    (".5", '".5"'), ("1e3", '"1e3"'), ("null", '"null"'), ("~", '"~"'), ("yes", '"yes"'), ("Off", '"Off"'),
    ("", '""'), (" a", '" a"'), ("a ", '"a "'), ("-x", '"-x"'), ("#x", '"#x"'), ("x #y", '"x #y"'),
    ("a\nb", '"a\\nb"'), ("gold", "gold"), ("Oslo kommune", "Oslo kommune"), ("x#y", "x#y"),
    ("2024-02-29", "2024-02-29"), ("ø", "ø"), ('"q"', '"\\"q\\""'),
])
def test_yaml_literal(value: object, literal: str) -> None:
    assert yaml_literal(value) == literal
