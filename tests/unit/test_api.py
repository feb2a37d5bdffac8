"""The public API is what __init__ documents, and nothing more (pypa/build's test_module)."""

from __future__ import annotations

import re

import privacy_rules


def test_all_matches_dir_and_is_documented():
    assert sorted(dir(privacy_rules)) == sorted(privacy_rules.__all__)
    doc = privacy_rules.__doc__ or ""
    for name in ("load_pack", "check_pack", "compile_pack", "decide", "decide_all", "decide_batch", "explain",
                 "Outcome", "render_pack"):
        assert name in doc, name


def test_every_exported_name_exists():
    for name in privacy_rules.__all__:
        assert getattr(privacy_rules, name) is not None


def test_importing_does_not_import_optional_engines():
    import subprocess
    import sys

    code = "import sys, privacy_rules; print(sorted(m for m in sys.modules if m.split('.')[0] == 'durable'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_version_is_pep440():
    from importlib.metadata import version

    assert re.fullmatch(r"\d+\.\d+\.\d+.*", version("privacy-rules"))


def test_compile_pack_selects_the_engine(mini_pack):
    import pytest

    with pytest.raises(ValueError, match="engine must be"):
        privacy_rules.compile_pack(mini_pack, engine="opa")
    try:
        policy = privacy_rules.compile_pack(mini_pack, engine="durable")
    except privacy_rules.PrivacyRulesError as exc:  # EngineUnavailable where durable cannot import
        pytest.skip(f"durable-rules cannot be imported here: {exc}")
    from datetime import date

    rec = {"id": "p", "subject_categories": ["prospect"], "relationship": {"first_contact_on": "2021-08-31"}}
    compiled = privacy_rules.compile_pack(mini_pack)
    q = privacy_rules.Question.keep()
    assert policy.decide(rec, q, as_of=date(2023, 8, 31)).to_json() == compiled.decide(rec, q, as_of=date(2023, 8, 31)).to_json()
