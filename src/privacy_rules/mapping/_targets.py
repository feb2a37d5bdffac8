"""What the canonical record format lets a profile write, and of which kind each field is.

Taken from records.py, which mirrors schemas/record.schema.json (tests/unit/test_records.py
keeps the two equal), so a profile can never target a field the record checker would refuse.
Kinds: ``date``, ``str``, ``bool``, ``int``, ``ids`` (a list of ids), ``strs`` (a list of
strings), ``fact`` (a scalar fact) and ``enum:a|b``.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Mapping

from ..records import ID_LISTS, LIST_FIELDS, RELATIONSHIP_FIELDS, TOP_SCALARS

__all__ = ["ENTRY_FIELDS", "EVENT_LISTS", "ID", "LIST_TARGETS", "SCALAR_TARGETS", "VOCABULARY_OF", "target_kind"]

#: An id of the pack (subject category, purpose ...), as the record schema's `$defs/id`.
ID = re.compile(r"[a-z][a-z0-9_]*")

#: Scalar fields a `fields:` entry may write (not `id`: that is `profile.record_id`).
SCALAR_TARGETS: Mapping[str, str] = MappingProxyType({
    **{k: v for k, v in TOP_SCALARS.items() if k != "id"},
    **{f"relationship.{k}": v for k, v in RELATIONSHIP_FIELDS.items()},
})
#: List fields a `fields:` entry may add to.
LIST_TARGETS: Mapping[str, str] = MappingProxyType(
    {name: ("strs" if name == "systems" else "ids") for name in ID_LISTS})
#: Event lists an `events:` item may add entries to: list -> (entry field -> kind, required).
EVENT_LISTS = LIST_FIELDS
ENTRY_FIELDS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {name: fields for name, (fields, _required) in LIST_FIELDS.items()})

#: Where the pack's vocabulary defines the ids a target holds: (list or field, entry field) ->
#: vocabulary section. Checked only when a pack is given (check-profile --pack).
VOCABULARY_OF: Mapping[tuple[str, str | None], str] = MappingProxyType({
    ("subject_categories", None): "subject_categories",
    ("data_categories", None): "data_categories",
    ("consents", "purpose"): "purposes",
    ("consents", "recipient"): "recipients",
    ("disclosure_orders", "recipient"): "recipients",
    ("legal_holds", "scopes"): "scopes",
})


def target_kind(path: str) -> str | None:
    """The kind of canonical field ``path`` (``facts.NAME`` -> ``fact``), or None if the record
    format has no such field for a profile to write."""
    if path in SCALAR_TARGETS:
        return SCALAR_TARGETS[path]
    if path in LIST_TARGETS:
        return LIST_TARGETS[path]
    if path.startswith("facts.") and len(path) > len("facts."):
        return "fact"
    return None


def all_targets() -> list[str]:
    """Every field name a `to:` may hold, for did-you-mean (facts.NAME as `facts.<name>`)."""
    return [*SCALAR_TARGETS, *LIST_TARGETS, "facts.<name>"]
