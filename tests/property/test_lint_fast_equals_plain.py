"""validate/lint.py: the indexed lint gives exactly the findings of the plain pairwise definitions.

``iter_lint_problems`` looks up, per permit, only the forbids that can shadow it (PR501) or
deny it when consent is missing (PR530); ``iter_lint_problems_plain`` compares every permit
with every forbid. Both must give the same diagnostics (codes, messages, spans, rule ids,
order) on:

* packs from benchmarks/gen_pack.py (Iconfirm's rules varied, with duplicates, shadowed
  permits and unreachable rules), seeded;
* 400 small seeded packs over Iconfirm's vocabulary, from Iconfirm's conditions and
  nested all/any/not, subject lists and predicates the question fixes, where permits are
  often made from a forbid (its targets or fewer, its conditions restated inside `all`, a
  narrower subject, one more condition) and forbids from a permit with a consent guard.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import random
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from privacy_rules.load import LoadedYaml, load_yaml_file, load_yaml_text
from privacy_rules.model import Pack
from privacy_rules.pack import _rules, read_pack
from privacy_rules.validate import lint

ROOT = Path(__file__).resolve().parents[2]
ICONFIRM = ROOT / "rules" / "iconfirm"


@lru_cache(maxsize=None)
def _gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("privacy_rules_gen_pack", ROOT / "benchmarks" / "gen_pack.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _same(pack: Pack, head: LoadedYaml) -> list[str]:
    fast = list(lint.iter_lint_problems(pack, head))
    plain = list(lint.iter_lint_problems_plain(pack, head))
    assert fast == plain
    return [d.code for d in fast]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_packs(seed: int, tmp_path: Path) -> None:
    _gen().write_pack(tmp_path, 400, 4, seed)
    pack, diags = read_pack(tmp_path, lint=False)
    assert pack is not None, [str(d) for d in diags if d.severity.value == "error"]
    codes = _same(pack, load_yaml_file(str(tmp_path / "pack.yaml")))
    # the generator makes every kind of rule-level finding
    assert {"PR501", "PR502", "PR503", "PR530"} <= set(codes)


# --- small packs, seeded ------------------------------------------------------------------
# Seeded rather than hypothesis: drawing ~20 nested rules per example through hypothesis took
# ~0.3 s, plain random ~1 ms. A failure names the seed and prints the rule file.


@lru_cache(maxsize=None)
def _base() -> tuple[Pack, LoadedYaml, Any]:
    pack, _ = read_pack(ICONFIRM, lint=False)
    assert pack is not None
    return pack, load_yaml_file(str(ICONFIRM / "pack.yaml")), _gen()._Source(ICONFIRM)


EXTRA = [{"recipient_serves": "question_purpose"}, {"recipient_listed": True}, {"recipient_listed": False},
         {"channel_electronic": True}, {"channel_electronic": False}, {"processor_dpa": "in_force"},
         {"transfer": "lawful"}, {"subject": "customer"}, {"subject": ["customer", "partner"]},
         {"subject": ["customer", "partner", "prospect"]}, {"consent": "newsletter"}, {"consent_for_question": True},
         {"role": "controller"}, {"fact": {"path": "source", "in": ["website", "self"]}},
         # values that Python's == mixes up (True == 1) but conditions keep apart: normal forms by kind
         {"fact": {"path": "facts.flag", "equals": 1}}, {"fact": {"path": "facts.flag", "equals": True}},
         {"fact": {"path": "facts.flag", "equals": 1.0}}, {"fact": {"path": "facts.flag", "equals": "1"}},
         {"fact": {"path": "facts.flag", "in": [True, False]}}, {"fact": {"path": "facts.flag", "in": [0, 1]}}]
GUARDS = [{"not": {"consent_for_question": True}}, {"not": {"consent": "newsletter"}},
          {"not": {"consent": "web_tracking"}}, {"not": {"consent": "third_party_disclosure"}}]
TARGETS = ("scopes", "purposes", "channels", "recipients", "recipient_kinds")


def _condition(r: random.Random, source: Any, question: str, depth: int = 0) -> Any:
    roll = r.randrange(10)
    if depth < 2 and roll == 0:
        return {"not": _condition(r, source, question, depth + 1)}
    if depth < 2 and roll in (1, 2):
        return {r.choice(["all", "any"]): [_condition(r, source, question, depth + 1) for _ in range(r.randint(1, 3))]}
    return copy.deepcopy(r.choice(source.pool[question] + EXTRA))


def _targets(r: random.Random, source: Any, question: str) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def pick(items: Any) -> list[str]:
        return r.sample(sorted(items), r.randint(1, min(4, len(items))))
    if question == "keep":
        if r.random() < 0.5:
            out["scopes"] = pick(source.scopes)
        return out
    if r.random() < 0.5:
        out["purposes"] = pick(source.purposes)
    if question == "contact" and r.random() < 0.5:
        out["channels"] = pick(source.channels)
    if question == "share":
        if r.random() < 0.5:
            out["recipients"] = pick(source.recipients)
        if r.random() < 0.25:
            out["recipient_kinds"] = pick({"processor", "authority", "third_party"})
    return out


def _restated(r: random.Random, c: Any) -> Any:
    """``c``, or a condition that implies it: inside `all`, or a narrower subject list."""
    how = r.randrange(4)
    if how == 1:
        return {"all": [copy.deepcopy(c), {"restriction": "active"}]}
    if how == 2 and isinstance(c, dict) and isinstance(c.get("subject"), list) and len(c["subject"]) > 1:
        return {"subject": c["subject"][:-1]}
    return copy.deepcopy(c)


def _fewer(r: random.Random, targets: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(targets)
    for key, values in out.items():
        if len(values) > 1 and r.random() < 0.5:
            out[key] = values[:-1]
    return out


def _rule(r: random.Random, source: Any, i: int, made: list[dict[str, Any]]) -> dict[str, Any]:
    kind = r.choice(["free", "free", "shadowed", "guard"])
    forbids = [x for x in made if x["effect"] == "forbid"]
    permits = [x for x in made if x["effect"] == "permit"]
    if kind == "shadowed" and forbids:
        f = r.choice(forbids)
        when = [_restated(r, c) for c in f.get("when", [])]
        if r.random() < 0.5:
            when.append(_condition(r, source, f["question"]))
        rule = dict(_fewer(r, {k: f[k] for k in TARGETS if k in f}), question=f["question"], effect="permit",
                    basis=r.choice(["consent", "legitimate_interest"]), when=when)
    elif kind == "guard" and permits:
        p = r.choice(permits)
        when = [copy.deepcopy(c) for c in p.get("when", []) if r.random() < 0.5]
        when.insert(r.randint(0, len(when)), copy.deepcopy(r.choice(GUARDS)))
        rule = dict({k: copy.deepcopy(p[k]) for k in TARGETS if k in p}, question=p["question"], effect="forbid",
                    when=when)
    else:
        question = r.choice(["keep", "contact", "share"])
        effect = r.choice(["permit", "permit", "forbid", "forbid", "override"])
        rule = dict(_targets(r, source, question), question=question, effect=effect,
                    when=[_condition(r, source, question) for _ in range(r.randint(0, 3))])
        if effect != "forbid":
            rule["basis"] = r.choice(["consent", "legitimate_interest", "legal_obligation"])
    if not rule["when"]:
        del rule["when"]
    rule["id"] = f"r{i}"
    return rule


@pytest.mark.parametrize("block", range(4))
def test_small_packs(block: int) -> None:
    pack, head, source = _base()
    found: set[str] = set()
    for seed in range(block * 100, block * 100 + 100):
        r = random.Random(seed)
        made: list[dict[str, Any]] = []
        for i in range(r.randint(1, 25)):
            made.append(_rule(r, source, i, made))
        file_when = r.choice([[], [{"role": "controller"}]])
        text = yaml.safe_dump(dict({"when": file_when} if file_when else {}, rules=made), sort_keys=False)
        rules = _rules(load_yaml_text(text, path=f"seed-{seed}.yaml"), 0)
        try:
            found |= set(_same(dataclasses.replace(pack, rules=tuple(rules)), head))
        except AssertionError:
            print(f"seed {seed}:\n{text}")
            raise
    assert {"PR501", "PR502", "PR503", "PR530"} <= found
