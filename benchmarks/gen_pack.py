#!/usr/bin/env python
"""Generate a large, valid, realistic rule pack from the Iconfirm pack (for benchmarks and tests).

    python benchmarks/gen_pack.py OUT_DIR [--rules N] [--files F] [--seed S]

The pack keeps Iconfirm's pack.yaml (vocabulary, norms, review, questions, and the policy text
`source` names when it lies inside the pack, copied; no `scenarios`) and holds N rules spread evenly over F rule files. Every rule is built from one of
Iconfirm's rules (its question, effect, basis, cites, explain, obligations and the file's
`role`), with its targets and conditions varied from the Iconfirm vocabulary and from the
conditions Iconfirm's rules of the same question use. On top of that, a few percent of the
rules are made to be what lint looks for:

* duplicates of an earlier rule under a new id (PR502);
* permits shadowed by an earlier forbid (its targets and conditions, plus one more: PR501);
* share rules that can never hold (`recipient_serves` on recipients that serve none of the
  rule's purposes) or that target no question (a recipient list with a kind none of them has)
  (PR503).

The pack passes `privacy-rules check` without errors (warnings and infos are expected).
Deterministic: the same (N, F, seed) always gives the same files, byte for byte.
"""

from __future__ import annotations

import argparse
import copy
import random
import shutil
import sys
from pathlib import Path
from typing import Any, Sequence

import yaml

ROOT = Path(__file__).resolve().parent.parent
ICONFIRM = ROOT / "rules" / "iconfirm"

#: Share of generated rules (per mille) made a duplicate, a shadowed permit, or unreachable.
DUPLICATE, SHADOWED, UNREACHABLE = 30, 30, 20


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


class _Source:
    """The Iconfirm pack as plain data: pack.yaml, its rules with their file's `when`, condition pools."""

    def __init__(self, folder: Path) -> None:
        self.head = _load(folder / "pack.yaml")
        self.templates: list[tuple[tuple[Any, ...], dict[str, Any]]] = []  # (file-level when, rule)
        # question -> top-level conditions Iconfirm's rules of that question use (never `role`,
        # which belongs to the file)
        self.pool: dict[str, list[Any]] = {"keep": [], "contact": [], "share": []}
        for name in self.head["files"]:
            data = _load(folder / name)
            file_when = tuple(data.get("when") or ())
            for rule in data["rules"]:
                self.templates.append((file_when, rule))
                for cond in rule.get("when") or ():
                    if "role" not in cond and cond not in self.pool[rule["question"]]:
                        self.pool[rule["question"]].append(cond)
        voc = self.head["vocabulary"]
        self.scopes = list(voc["scopes"])
        self.purposes = list(voc["purposes"])
        self.channels = list(voc["channels"])
        self.recipients = voc["recipients"]


def _subset(r: random.Random, items: Sequence[str], most: int = 4) -> list[str]:
    return r.sample(list(items), r.randint(1, min(most, len(items))))


def _vary(r: random.Random, src: _Source, rule: dict[str, Any], new_id: str) -> dict[str, Any]:
    """A copy of ``rule`` named ``new_id``, with its targets and conditions varied."""
    out = copy.deepcopy(rule)
    out["id"] = new_id
    q = out["question"]
    if r.random() < 0.9:
        if q == "keep":
            out["scopes"] = _subset(r, src.scopes)
        else:
            out["purposes"] = _subset(r, src.purposes)
        if q == "contact" and r.random() < 0.5:
            out["channels"] = _subset(r, src.channels, 3)
        if q == "share" and r.random() < 0.4:
            out.pop("recipient_kinds", None)
            out["recipients"] = _subset(r, list(src.recipients), 3)
    when = list(out.get("when") or ())
    if len(when) > 1 and r.random() < 0.3:
        when.pop(r.randrange(len(when)))
    if src.pool[q] and r.random() < 0.6:
        extra = r.choice(src.pool[q])
        if extra not in when:
            when.append(copy.deepcopy(extra))
    if when:
        out["when"] = when
    else:
        out.pop("when", None)
    return out


def _shadowed(r: random.Random, src: _Source, forbid: dict[str, Any], new_id: str,
              permits: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A permit about the forbid's targets with the forbid's conditions and one more."""
    same = [p for p in permits if p["question"] == forbid["question"]] or list(permits)
    base = copy.deepcopy(r.choice(same))
    out = {k: v for k, v in base.items() if k not in ("scopes", "purposes", "channels", "recipients",
                                                         "recipient_kinds", "when")}
    out["id"] = new_id
    out["question"] = forbid["question"]
    for key in ("scopes", "purposes", "channels", "recipients", "recipient_kinds"):
        if key in forbid:
            out[key] = copy.deepcopy(forbid[key])
    when = copy.deepcopy(list(forbid.get("when") or ()))
    extra = r.choice(src.pool[forbid["question"]])
    if extra not in when:
        when.append(copy.deepcopy(extra))
    out["when"] = when
    if out["question"] == "keep" and "basis" not in out:
        out["basis"] = "legitimate_interest"
    return out


def _unreachable(r: random.Random, src: _Source, rule: dict[str, Any], new_id: str) -> dict[str, Any]:
    """A share rule about no question, or one that holds for none of the questions it targets."""
    out = copy.deepcopy(rule)
    out["id"] = new_id
    out["question"] = "share"
    for key in ("scopes", "channels", "recipient_kinds", "recipients", "purposes"):
        out.pop(key, None)
    if out["effect"] == "obligation":
        out["effect"] = "forbid"
        out.pop("obligations", None)
        out.pop("on_outcome", None)
    if out["effect"] in ("forbid", "obligation"):
        out.pop("basis", None)
    elif "basis" not in out:
        out["basis"] = "legitimate_interest"
    when = [c for c in (out.get("when") or ()) if _fits_share(c)]
    names = sorted(src.recipients)
    if r.random() < 0.5:
        # recipients of one kind, targeted by another kind: no question at all
        kinds = sorted({v["kind"] for v in src.recipients.values()})
        kind = r.choice(kinds)
        out["recipients"] = [n for n in names if src.recipients[n]["kind"] == kind][:3]
        out["recipient_kinds"] = [r.choice([k for k in kinds if k != kind])]
    else:
        # a purpose none of the named recipients serves, and `recipient_serves: true`
        recipient = r.choice(names)
        served = set(src.recipients[recipient].get("purposes") or ())
        out["recipients"] = [recipient]
        out["purposes"] = [r.choice([p for p in src.purposes if p not in served])]
        when.append({"recipient_serves": "question_purpose"})
    if when:
        out["when"] = when
    else:
        out.pop("when", None)
    return out


def _fits_share(cond: Any) -> bool:
    text = repr(cond)
    return not any(k in text for k in ("channel_electronic", "'keep'", "'role'"))


def generate(n_rules: int, n_files: int, seed: int, folder: Path = ICONFIRM) -> dict[str, Any]:
    """{file name: plain data} for the whole pack (pack.yaml and the rule files); pure."""
    r = random.Random(seed)
    src = _Source(folder)
    n_files = max(1, min(n_files, n_rules))
    made: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for i in range(n_rules):
        roll = r.randrange(1000)
        new_id = f"gen.r{i:05d}"
        earlier_forbids = [(w, x) for w, x in made if x["effect"] == "forbid" and x.get("when")]
        permits = [x for _, x in src.templates if x["effect"] == "permit"]
        if made and roll < DUPLICATE:
            file_when, rule = r.choice(made)
            rule = dict(copy.deepcopy(rule), id=new_id)
        elif earlier_forbids and roll < DUPLICATE + SHADOWED:
            file_when, forbid = r.choice(earlier_forbids)
            rule = _shadowed(r, src, forbid, new_id, permits)
        elif roll < DUPLICATE + SHADOWED + UNREACHABLE:
            file_when, template = r.choice(src.templates)
            rule = _unreachable(r, src, template, new_id)
        else:
            file_when, template = r.choice(src.templates)
            rule = _vary(r, src, template, new_id)
        made.append((file_when, rule))
    # Rules sharing a file share its `when`: group by role, then cut into files in order.
    by_role: dict[str, list[dict[str, Any]]] = {}
    for file_when, rule in made:
        role = next((c["role"] for c in file_when if "role" in c), "controller")
        by_role.setdefault(role, []).append(rule)
    out: dict[str, Any] = {}
    names: list[str] = []
    roles = sorted(by_role)
    per_role = {role: max(1, round(n_files * len(by_role[role]) / n_rules)) for role in roles}
    for role in roles:
        rules = by_role[role]
        k = per_role[role]
        size = -(-len(rules) // k)
        for j in range(0, len(rules), size):
            name = f"{role}-{len(names):03d}.yaml"
            names.append(name)
            out[name] = {"when": [{"role": role}], "rules": rules[j:j + size]}
    head = copy.deepcopy(src.head)
    head["pack"]["id"] = "generated"
    head["pack"]["name"] = f"Generated pack: {n_rules} rules from Iconfirm (seed {seed})"
    if _policy_text(folder, head) is None:
        head["pack"].pop("source", None)
    head.pop("scenarios", None)
    head["files"] = names
    out["pack.yaml"] = head
    return out


def _policy_text(folder: Path, head: Any) -> str | None:
    """The pack's `source` (the policy text its quotes are checked against, PR220-PR222) when it
    is a file inside ``folder``; None otherwise (the generated pack then has no `source`)."""
    source = head["pack"].get("source")
    if not isinstance(source, str) or Path(source).is_absolute() or ".." in Path(source).parts:
        return None
    return source if (folder / source).is_file() else None


def write_pack(out_dir: Path, n_rules: int, n_files: int = 50, seed: int = 1, folder: Path = ICONFIRM) -> Path:
    """Write the generated pack into ``out_dir`` (created if missing); returns the pack.yaml path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = generate(n_rules, n_files, seed, folder)
    for name, data in files.items():
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
        (out_dir / name).write_text(text, encoding="utf-8")
    source = _policy_text(folder, files["pack.yaml"])
    if source is not None:
        (out_dir / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / source, out_dir / source)
    return out_dir / "pack.yaml"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--rules", type=int, default=5000, help="number of rules (default 5000)")
    ap.add_argument("--files", type=int, default=50, help="number of rule files (default 50)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    path = write_pack(args.out_dir, args.rules, args.files, args.seed)
    print(f"wrote {path.parent} ({args.rules} rules)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
