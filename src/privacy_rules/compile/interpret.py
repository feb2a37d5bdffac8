"""The plain definition of every predicate: a tree-walking interpreter, no code generation.

Slow and obvious on purpose. The generated evaluators (codegen.py) inline, hoist and
short-circuit; tests/property/test_codegen_equals_plain.py checks that they give exactly
these statuses for generated records and every question (STYLE: a fast path equals the
plain definition).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..dates import in_supported_range, parse_date
from ..model import Action, Pack, Pred, Question, Recipient, Rule, Vocabulary
from ..records import LIST_DATE_PATHS, Facts
from . import runtime as rt


def holds(p: Pred, pack: Pack, q: Question, facts: Facts, asof: str, cuts: Mapping[str, str], keep: Any) -> Any:
    """True, False or None (unknown) for one predicate (Any: ``fact`` compares rule data of any shape)."""
    k, a = p.kind, p.arg
    v = pack.vocabulary
    sub = [holds(c, pack, q, facts, asof, cuts, keep) for c in p.children]
    if k == "all":
        return rt.k_and(sub)
    if k == "any":
        return rt.k_or(sub)
    if k == "not":
        return rt.k_not(sub[0])
    if k == "role":
        return None if facts.role is None else facts.role == a
    if k == "subject":
        wanted = {a} if isinstance(a, str) else set(a)
        return None if facts.subjects is None else bool(facts.subjects & wanted)
    if k in ("within", "expired"):
        w = v.windows[a]
        if w.is_list:
            name, idx = LIST_DATE_PATHS[w.anchor]
            fn = rt.lwithin if k == "within" else rt.lexpired
            return fn(facts.lists[name], idx, None if w.count_future else asof, cuts[a])
        value = facts.s.get(w.anchor)
        if w.anchor.startswith("facts."):
            value = rt.fdate(value)
            if value is False:
                return None
        fn2 = rt.within if k == "within" else rt.expired
        return fn2(value, asof, cuts[a], w.open_if_absent)
    if k == "happened":
        return rt.fhappened(facts.s.get(a), asof)
    if k == "consent":
        return rt.consent(facts.lists["consents"], a, None, asof)
    if k == "consent_for_question":
        return rt.consent(facts.lists["consents"], q.purpose, q.recipient if q.action is Action.SHARE else None, asof)
    if k == "consent_withdrawn":
        return rt.consent_withdrawn(facts.lists["consents"], None if a == "any" else a, asof)
    if k == "objection":
        return rt.objection(facts.lists["objections"], None if a == "any" else a, asof)
    if k == "restriction":
        return rt.restriction(facts.lists["restrictions"], None if a == "active" else a, asof)
    if k == "erasure":
        return rt.erasure(facts.lists["erasure_requests"], a, asof)
    if k == "rights_request":
        check = rt.pending_verification if a == "pending_verification" else rt.unanswered
        return check(facts.lists["erasure_requests"], facts.lists["rights_requests"], asof)
    if k == "legal_hold":
        scope = (q.scope or pack.default_scope) if q.action is Action.KEEP else None
        return rt.legal_hold(facts.lists["legal_holds"], scope, asof)
    if k == "legal_order":
        return rt.legal_order(facts.lists["disclosure_orders"], q.recipient, asof)
    if k == "data_category":
        return a in facts.data_categories
    if k == "keep":
        return keep
    if k == "processor_dpa":
        r = _recipient(v, q)
        return rt.in_force(r.dpa_signed_on, r.dpa_ends_on, asof)
    if k == "transfer":
        r = _recipient(v, q)
        if r.eea:
            return True
        return any(
            (t.from_on is None or t.from_on <= asof) and (t.until_on is None or asof <= t.until_on)
            and rt.in_force(v.transfer_mechanisms[t.mechanism].valid_from or "0000-01-01",
                            v.transfer_mechanisms[t.mechanism].valid_until, asof)
            for t in r.transfers
        )
    if k == "recipient_listed":
        return _recipient(v, q).listed_in_policy == bool(a)
    if k == "recipient_serves":
        return q.purpose in _recipient(v, q).purposes
    if k == "channel_electronic":
        channel = v.channels.get(q.channel or "")
        if channel is None:  # contact-only (validate.semantic.CONTACT_ONLY); a contact question names one
            raise ValueError(f"`channel_electronic` needs a contact question naming a known channel, not `{q}`")
        return bool(channel.get("electronic")) == bool(a)
    if k == "fact":
        return fact(facts.s.get(a["path"]), a["op"], a["value"])
    raise ValueError(f"unknown predicate `{k}`")


def kind_of(value: object) -> str | None:
    """The kind a `fact` condition compares: "boolean", "number" (int or float, not bool, finite),
    "string"; None for anything else (null, NaN, infinity, a list)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):  # never math.isfinite(): an int past 1e308 has no float (OverflowError)
        return "number"
    if isinstance(value, float):
        return "number" if math.isfinite(value) else None
    if isinstance(value, str):
        return "string"
    return None


def fact(value: object, op: str, operand: Any) -> bool | None:
    """The plain definition of a `fact` condition (docs/rule-language.md): True, False, or None.

    Unknown when the value is absent, or of another kind than the rule compares it with: a
    record's `true` never equals a rule's `1`. Written from the documented table, apart from
    runtime.fact_*, so that the property tests compare two independent implementations.
    """
    if value is None:
        return None
    if op in ("before", "on_or_before", "after", "on_or_after"):
        if not isinstance(value, str):
            return None
        try:
            day = parse_date(value)
        except ValueError:
            return None
        if not in_supported_range(day):
            return None
        bound = parse_date(operand)
        return {"before": day < bound, "on_or_before": day <= bound,
                "after": day > bound, "on_or_after": day >= bound}[op]
    k = kind_of(value)
    if k is None:
        return None
    if op in ("equals", "not_equals"):
        if kind_of(operand) != k:
            return None
        same = _same(value, operand)
        return same if op == "equals" else not same
    if op in ("in", "not_in"):
        candidates = [x for x in operand if kind_of(x) == k]
        if not candidates:
            return None
        found = any(_same(value, x) for x in candidates)
        return found if op == "in" else not found
    raise ValueError(f"unknown `fact` operator `{op}`")


def _same(a: object, b: object) -> bool:
    # two values of one kind: Python's == is then the rule language's (numbers by value, exactly:
    # 1 == 1.0); bool() because a subclass (numpy.float64) may answer numpy.bool_
    return bool(a == b)


def _recipient(v: Vocabulary, q: Question) -> Recipient:
    """The question's recipient: recipient predicates are share-only (validate.semantic.SHARE_ONLY)
    and a checked share question names a known recipient (Policy.check_question)."""
    r = v.recipients.get(q.recipient or "")
    if r is None:
        raise ValueError(f"a recipient predicate needs a share question naming a known recipient, not `{q}`")
    return r


def statuses(rules: tuple[Rule, ...], pack: Pack, q: Question, facts: Facts, asof: str, cuts: Mapping[str, str],
             keep: Any) -> tuple[Any, ...]:
    """One status per rule: the Kleene AND of its conditions."""
    return tuple(rt.k_and(holds(p, pack, q, facts, asof, cuts, keep) for p in r.when) for r in rules)
