"""docs/mapping.md stays true to the bundled profiles: every host field they read is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy_rules.mapping import bundled_profiles, load_profile
from privacy_rules.mapping._model import FromField

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "mapping.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", bundled_profiles())
def test_every_host_field_of_a_bundled_profile_is_in_the_docs(name: str) -> None:
    profile = load_profile(name)
    assert f"### `{name}`" in DOC
    fields = {profile.record_id, *(f.host for f in profile.fields), *(b.field for b in profile.bounds.values())}
    for event in profile.events:
        for trigger in ((event.when,) if event.when else ()) + event.also:
            fields.add(trigger.field or trigger.pattern_text or "")
        if event.child is None:
            fields.update(s.field for _, s in event.entry if isinstance(s, FromField))
    fields.discard("")
    missing = sorted(f for f in fields if f"`{f}`" not in DOC and f not in DOC)
    assert not missing, f"document these fields of `{name}` in docs/mapping.md: {missing}"


def test_readme_links_the_mapping_docs() -> None:
    assert "(docs/mapping.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
