"""`check` compares condition values by kind, as the engine does: `1` is not `true`.

Before: semantic.py's `_key` and lint's normal forms compared `fact` values with Python's ==
(``True == 1``), so two rules differing only in `equals: 1` vs `equals: true` were a PR502
"duplicate rule", `in: [true, false]` with `not: {in: [1, false]}` a PR208 "can never hold"
although `true` makes it hold. Now keys keep kinds apart (numbers still by value: `1` is
`1.0`), and PR208 also finds top-level conditions on one path that admit no common kind.
Fixtures: tests/hostile/condition_kinds/*.yaml (rule files over tests/packs/mini).
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

from privacy_rules.load import LoadedYaml, load_yaml_file
from privacy_rules.model import Pack
from privacy_rules.pack import _rules, read_pack
from privacy_rules.validate import lint, semantic

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "condition_kinds"
MINI = HERE.parent / "packs" / "mini"


@functools.cache
def _base() -> tuple[Pack, LoadedYaml]:
    pack, _ = read_pack(MINI, lint=False)
    assert pack is not None
    return pack, load_yaml_file(str(MINI / "pack.yaml"))


def _pack(name: str) -> Pack:
    pack, _ = _base()
    rules = _rules(load_yaml_file(str(FIXTURES / name)), 0)
    return dataclasses.replace(pack, rules=tuple(rules))


def _lint(pack: Pack) -> list[Any]:
    _, head = _base()
    fast = list(lint.iter_lint_problems(pack, head))
    assert fast == list(lint.iter_lint_problems_plain(pack, head))
    return fast


def test_rules_differing_in_kind_are_not_duplicates() -> None:
    found = [(d.code, d.rule_id, d.message) for d in _lint(_pack("duplicates.yaml")) if d.code == "PR502"]
    # only `equals: 1.0` repeats `equals: 1` (one number); true, "1" and [true, false] vs [0, 1] differ
    assert [(c, r) for c, r, _ in found] == [("PR502", "contact.flag-decimal")]
    assert "duplicate of rule `contact.flag-number`" in found[0][2]


def test_never_holds_compares_by_kind() -> None:
    found = {d.rule_id: d for d in semantic.check_never_holds(_pack("never-holds.yaml"))}
    assert set(found) == {"contact.number-and-boolean", "contact.string-and-number", "contact.one-number-twice",
                          "contact.date-and-number"}
    assert found["contact.one-number-twice"].message == \
        "rule can never hold: its conditions contradict each other (`fact`)"
    assert found["contact.number-and-boolean"].message == \
        "rule can never hold: `facts.flag` is compared with a number and with a boolean, and a record value has one kind"
    assert "with a string and with a number" in found["contact.string-and-number"].message
    assert "with a string and with a number" in found["contact.date-and-number"].message
    assert all(d.help and d.severity.value == "warning" for d in found.values())


def test_the_rule_pr208_no_longer_flags_really_holds() -> None:
    """`in: [true, false]` and `not: {in: [1, false]}` hold for a record's `true`."""
    import privacy_rules

    pack = _pack("never-holds.yaml")
    policy = privacy_rules.compile_pack(pack)
    d = policy.decide({"id": "t", "facts": {"tier": True}}, "contact:followup:email", as_of="2024-01-01")
    assert d.decisive_rule == "contact.true-not-listed" and d.outcome.value == "allow"


def test_keys_keep_kinds_apart_and_numbers_together() -> None:
    key = semantic.value_key
    assert key(True) != key(1) and key(False) != key(0) and key("1") != key(1) and key(None) != key("null")
    assert key(1) == key(1.0) and hash(key(1)) == hash(key(1.0))
    assert semantic._key({"path": "facts.x", "op": "in", "value": (True, "a")}) != \
        semantic._key({"path": "facts.x", "op": "in", "value": (1, "a")})
    assert semantic._key(["a", {"b": [1]}]) == semantic._key(("a", {"b": (1.0,)}))
    assert semantic._key([[1]]) != semantic._key([[True]])
