"""The plain definition of every predicate: a tree-walking interpreter, no code generation.

Slow and obvious on purpose. The generated evaluators (codegen.py) inline, hoist and
short-circuit; tests/property/test_codegen_equals_plain.py checks that they give exactly
these statuses for generated records and every question (STYLE: a fast path equals the
plain definition).

Undated dates (records.OnOrBefore, ``{"on_or_before": D}``) are evaluated here and only here:
the engines route a record that holds one to :func:`statuses` (Policy, DurablePolicy), so the
generated code never meets one. Such a date is the set of days MIN_ISO..D, and a condition
that reads it is true if it is true for every day of the set, false if false for every day,
else unknown (docs/rule-language.md, "Dates known only as on or before"). :func:`statuses`
applies this to each rule's conditions as a whole (all the undated dates they read, every
combination of their days), :func:`holds` to the condition it is given. Exactly, not
approximately: every condition compares a record date with a constant (as_of, a window's
cut-off, a `fact` operand), never with another record date (a list window's "latest entry"
is the OR over entries), so its value is constant on the days between two such constants;
one day of each stretch stands for the whole stretch (:func:`_over_days`).
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any, Iterator, Mapping

from ..dates import MIN_ISO, in_supported_range, parse_date
from ..declared import value_kind
from ..model import Action, Pack, Pred, Question, Recipient, Rule, Vocabulary
from ..question_facts import QUESTION_CONSTANTS, question_constant, recipient_unknown
from ..records import LIST_DATE_PATHS, LIST_FIELDS, Facts, OnOrBefore
from . import runtime as rt

#: Cap on the day combinations one condition is evaluated at (the product over the undated
#: dates it reads of their stretches, at most 4 each). Past it the condition is unknown: sound,
#: as an unknown condition never gives allow or deny by itself (docs/rule-language.md).
MAX_COMBINATIONS = 4096

# the event lists each condition kind reads (the scalar ones read the path in their argument)
_READS: Mapping[str, tuple[str, ...]] = {
    "consent": ("consents",), "consent_for_question": ("consents",), "consent_withdrawn": ("consents",),
    "objection": ("objections",), "restriction": ("restrictions",), "erasure": ("erasure_requests",),
    "rights_request": ("erasure_requests", "rights_requests"), "legal_hold": ("legal_holds",),
    "legal_order": ("disclosure_orders",),
}
_DATE_OPS = ("before", "on_or_before", "after", "on_or_after")

# A location of a date in Facts: ("s", path) or ("l", list name, entry index, field index).
Loc = tuple[Any, ...]


def holds(p: Pred, pack: Pack, q: Question, facts: Facts, asof: str, cuts: Mapping[str, str], keep: Any) -> Any:
    """True, False or None (unknown) for one predicate (Any: ``fact`` compares rule data of any shape).

    A leaf that reads an undated date is evaluated over the days it may be (module docstring).
    """
    k, a = p.kind, p.arg
    if facts.undated and _compares_undated(p, pack, facts):
        # a `compare` of an undated day with another record day is unknown: the day stretches
        # below assume comparisons with constants only. Its branches are evaluated apart
        # (Kleene over sound statuses stays sound, docs/rule-language.md "Comparing two dates")
        if k == "compare":
            return None
        sub = [holds(c, pack, q, facts, asof, cuts, keep) for c in p.children]
        return rt.k_and(sub) if k == "all" else rt.k_or(sub) if k == "any" else rt.k_not(sub[0])
    if facts.undated:
        read = undated_read(p, pack, facts)
        if read:
            return _over_days(p, pack, q, facts, asof, cuts, keep, read)
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
        return rt.consent(facts.lists["consents"], a, None, asof, rt.mech_table(v))
    if k == "consent_for_question":
        after = rt.restriction_began(facts.lists["restrictions"], asof) if a == "since_restriction" else None
        return rt.consent(facts.lists["consents"], q.purpose, q.recipient if q.action is Action.SHARE else None, asof,
                          rt.mech_table(v), after)
    if k == "consent_withdrawn":
        return rt.consent_withdrawn(facts.lists["consents"], None if a == "any" else a, asof, rt.mech_table(v))
    if k == "objection":
        return rt.objection(facts.lists["objections"], None if a == "any" else a, asof)
    if k == "restriction":
        return rt.restriction(facts.lists["restrictions"], None if a == "active" else a, asof)
    if k == "erasure":
        return rt.erasure(facts.lists["erasure_requests"], a, asof)
    if k == "unlisted":
        return rt.unlisted(facts.lists[a])
    if k == "rights_request":
        check = rt.pending_verification if a == "pending_verification" else rt.unanswered
        erasures = () if a == "unanswered_rights" else facts.lists["erasure_requests"]  # N43: rights requests alone
        return check(erasures, facts.lists["rights_requests"], asof)
    if k == "legal_hold":
        scope = (q.scope or pack.default_scope) if q.action is Action.KEEP else None
        return rt.legal_hold(facts.lists["legal_holds"], scope, asof)
    if k == "legal_order":
        return rt.legal_order(facts.lists["disclosure_orders"], q.recipient, asof)
    if k == "data_category":
        return a in facts.data_categories
    if k == "keep":
        return keep
    if k in ("processor_dpa", "transfer") and recipient_unknown(pack, q, k):
        return None  # an unlisted recipient described without this fact (issue 11 item 2)
    if k in QUESTION_CONSTANTS:
        return question_constant(k, a, q, pack)
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
    if k == "compare":
        return rt.compare(_day(a["left"], v, facts, asof), _day(a["right"], v, facts, asof), a["op"], a["if_absent"])
    raise ValueError(f"unknown predicate `{k}`")


def _day(operand: Any, v: Vocabulary, facts: Facts, asof: str) -> Any:
    """A `compare` operand's day (runtime.cday / wend / fdate)."""
    if operand == "as_of":
        return asof
    if isinstance(operand, tuple):
        w = v.windows[operand[1]]
        anchor = facts.s.get(w.anchor)
        return rt.wend(rt.fdate(anchor) if w.anchor.startswith("facts.") else anchor, asof, w.months)
    value = facts.s.get(operand)
    return rt.fdate(value) if operand.startswith("facts.") else rt.cday(value)


def _with_as_of(p: Pred) -> str | None:
    """The record path of a `compare` of one plain record day with ``as_of`` (either side), else
    None: such a comparison is with a constant, so an undated day is evaluated over the days it
    may be, as `happened` is."""
    left, right = p.arg["left"], p.arg["right"]
    if right == "as_of" and isinstance(left, str) and left != "as_of":
        return str(left)
    if left == "as_of" and isinstance(right, str) and right != "as_of":
        return str(right)
    return None


def compare_paths(p: Pred, v: Vocabulary) -> list[str]:
    """The record paths a `compare` reads (a window_end operand reads its anchor)."""
    out = []
    for side in (p.arg["left"], p.arg["right"]):
        if isinstance(side, tuple):
            out.append(v.windows[side[1]].anchor)
        elif side != "as_of":
            out.append(side)
    return out


def compares_undated(preds: tuple[Pred, ...], pack: Pack, facts: Facts) -> bool:
    """Some `compare` among ``preds`` reads a day the record has only as undated."""
    return any(_compares_undated(p, pack, facts) for p in preds)


def _compares_undated(p: Pred, pack: Pack, facts: Facts) -> bool:
    if p.kind == "compare":
        if _with_as_of(p) is not None:  # one record day against as_of: a constant, stretched below
            return False
        return any(type(facts.s.get(path)) is OnOrBefore for path in compare_paths(p, pack.vocabulary))
    return any(_compares_undated(c, pack, facts) for c in p.children)


def undated_read(p: Pred, pack: Pack, facts: Facts) -> list[tuple[Loc, str, str]]:
    """The undated dates condition ``p`` reads (its leaves, for all/any/not): (location, record
    path, bound day), each once."""
    if p.children:
        seen: dict[Loc, tuple[Loc, str, str]] = {}
        for c in p.children:
            for item in undated_read(c, pack, facts):
                seen.setdefault(item[0], item)
        return list(seen.values())
    k, a = p.kind, p.arg
    out: list[tuple[Loc, str, str]] = []
    path = None
    lists: tuple[str, ...] = _READS.get(k, ())
    only: int | None = None  # a list window reads one field of each entry
    if k in ("within", "expired"):
        w = pack.vocabulary.windows[a]
        if w.is_list:
            name, only = LIST_DATE_PATHS[w.anchor]
            lists = (name,)
        else:
            path = w.anchor
    elif k == "happened":
        path = a
    elif k == "compare" and (against_as_of := _with_as_of(p)) is not None:  # R3: an end day vs as_of
        path = against_as_of
    elif k == "consent_for_question" and a == "since_restriction":  # also when each restriction began
        lists = ("consents", "restrictions")
    elif k == "fact":
        path = a["path"]
    if path is not None:
        value = facts.s.get(path)
        if type(value) is OnOrBefore:
            out.append((("s", path), path, value.day))
    for name in lists:
        fields = list(LIST_FIELDS[name][0])
        for i, row in enumerate(facts.lists[name]):
            for j, value in enumerate(row):
                if type(value) is OnOrBefore and (only is None or j == only):
                    out.append((("l", name, i, j), f"{name}[{i}].{fields[j]}", value.day))
    return out


_FIELD_INDEX: Mapping[str, Mapping[str, int]] = {
    name: {field: j for j, field in enumerate(fields)} for name, (fields, _) in LIST_FIELDS.items()}


def undated_locations(facts: Facts) -> list[tuple[Loc, str, str]]:
    """Every undated date of ``facts``: (location, record path, bound day), from ``facts.undated``
    (``objections[1].received_on`` is entry 1 of objections, its field received_on)."""
    out: list[tuple[Loc, str, str]] = []
    for path, day in facts.undated.items():
        if "[" not in path:  # a scalar path
            out.append((("s", path), path, day))
        else:
            name, rest = path.split("[", 1)
            index, field = rest.split("].", 1)
            out.append((("l", name, int(index), _FIELD_INDEX[name][field]), path, day))
    return out


def anchor_key(loc: Loc) -> str:
    """The path a window anchor or a `fact` condition names for the date at ``loc``
    (``relationship.first_contact_on``, ``erasure_requests[].received_on``)."""
    if loc[0] == "s":
        return str(loc[1])
    _, name, _, j = loc
    return f"{name}[].{list(LIST_FIELDS[name][0])[j]}"


def fact_starts(rules: tuple[Rule, ...]) -> dict[str, set[str]]:
    """path -> the days where a `fact` date comparison on it changes value (as _starts)."""
    out: dict[str, set[str]] = {}

    def walk(p: Pred) -> None:
        if p.kind == "fact" and p.arg["op"] in _DATE_OPS:
            out.setdefault(p.arg["path"], set()).update(_starts(p, "1900-01-01", {})[1:])
        for c in p.children:
            walk(c)

    for r in rules:
        for p in r.when:
            walk(p)
    return out


def statuses_over_days(evaluate: Any, facts: Facts, asof: str, window_cuts: Mapping[str, tuple[str, ...]],
                       fact_days: Mapping[str, set[str]], n: int) -> tuple[Any, ...] | None:
    """What :func:`statuses` gives with undated dates, from an exact-day evaluator: ``evaluate(facts)``
    gives the ``n`` rule statuses of a record without undated dates (a generated evaluator).

    Each undated date is set to one day of each stretch on which no condition of the pack can
    change value (after as_of; the cut-off of a window anchored on that field, ``window_cuts``;
    the days of `fact` date comparisons on it, ``fact_days``), for every combination; a rule
    keeps its status if every combination gives it, else unknown. Exact, as :func:`statuses`:
    a rule's value changes only at its own conditions' days, all among these. None when there
    are more than MAX_COMBINATIONS combinations (the caller then takes :func:`statuses`).
    """
    read = undated_locations(facts)
    after = _next_day(asof)
    days = []
    total = 1
    for loc, _path, bound in read:
        key = anchor_key(loc)
        starts = {after, *fact_days.get(key, ()), *window_cuts.get(key, ())}
        d = [MIN_ISO, *sorted(b for b in starts if MIN_ISO < b <= bound)]
        total *= len(d)
        days.append(d)
    if total > MAX_COMBINATIONS:
        return None
    locs = [loc for loc, _, _ in read]
    result: list[Any] | None = None
    for combo in itertools.product(*days):
        got = evaluate(substitute(facts, locs, combo))
        if result is None:
            result = list(got)
        else:
            for i in range(n):
                if result[i] is not None and got[i] is not result[i]:
                    result[i] = None
    assert result is not None  # one combination at least
    return tuple(result)


def _next_day(iso: str) -> str:
    return (date.fromisoformat(iso) + timedelta(days=1)).isoformat()


def _starts(p: Pred, asof: str, cuts: Mapping[str, str]) -> list[str]:
    """The days where ``p``'s value may change, as a date it reads goes up (each the first day
    of a stretch on which the value is constant). Record dates meet as_of only as
    ``d <= as_of`` / ``d > as_of``, a window's cut-off only as ``d >= cut`` / ``d < cut``
    (compile/runtime.py), a `fact` operand as its operator says; all/any/not: their leaves'."""
    if p.children:
        return [day for c in p.children for day in _starts(c, asof, cuts)]
    out = [_next_day(asof)]
    if p.kind in ("within", "expired"):
        out.append(cuts[p.arg])
    elif p.kind == "fact" and p.arg["op"] in _DATE_OPS:
        day = p.arg["value"]
        out.append(day if p.arg["op"] in ("before", "on_or_after") else _next_day(day))
    return out


def _over_days(p: Pred, pack: Pack, q: Question, facts: Facts, asof: str, cuts: Mapping[str, str], keep: Any,
               read: list[tuple[Loc, str, str]]) -> Any:
    """Leaf ``p`` over every day its undated dates may be: True / False if so on all, else None."""
    starts = _starts(p, asof, cuts)
    days = [[MIN_ISO, *sorted({b for b in starts if MIN_ISO < b <= bound})] for _, _, bound in read]
    total = 1
    for d in days:
        total *= len(d)
    if total > MAX_COMBINATIONS:
        return None
    seen: set[Any] = set()
    for combo in itertools.product(*days):
        seen.add(holds(p, pack, q, substitute(facts, [loc for loc, _, _ in read], combo), asof, cuts, keep))
        if len(seen) > 1 or None in seen:
            return None
    return seen.pop()


def substitute(facts: Facts, locs: list[Loc], days: Iterator[str] | tuple[str, ...] | list[str]) -> Facts:
    """``facts`` with the dates at ``locs`` replaced by ``days`` (and no undated dates left to
    route on: the caller reads only those). Pure: a new Facts, the input is not changed."""
    s = facts.s
    lists = facts.lists
    rows: dict[tuple[str, int], list[Any]] = {}
    for loc, day in zip(locs, days):
        if loc[0] == "s":
            if s is facts.s:
                s = dict(s)
            s[loc[1]] = day
        else:
            _, name, i, j = loc
            row = rows.get((name, i))
            if row is None:
                row = rows[(name, i)] = list(lists[name][i])
            row[j] = day
    if rows:
        changed = dict(lists)
        for (name, i), row in rows.items():
            entries = list(changed[name])
            entries[i] = tuple(row)
            changed[name] = tuple(entries)
        lists = changed
    return Facts(facts.id, facts.role, facts.subjects, s, lists, facts.data_categories, facts.systems)


# The kind a `fact` condition compares ("boolean", "number", "string"; None for null, NaN, a list):
# one definition, in declared.py, shared with `check` (validate/semantic.py, validate/facts.py).
kind_of = value_kind


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
    """One status per rule: the Kleene AND of its conditions. With undated dates, each rule's
    conditions are evaluated together over the days those dates may be (module docstring)."""
    if facts.undated:
        return tuple(holds(Pred(kind="all", children=r.when), pack, q, facts, asof, cuts, keep) for r in rules)
    return tuple(rt.k_and(holds(p, pack, q, facts, asof, cuts, keep) for p in r.when) for r in rules)
