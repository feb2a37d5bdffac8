"""Helpers the generated evaluators call. Pure functions of their arguments.

Three-valued: True holds, False does not, None unknown (a needed fact is missing).
Dates arrive as validated ISO strings, which order exactly like the dates they name.
An event dated after ``asof`` has not happened yet.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any, Callable, Iterable, Literal, Mapping, TypeAlias

from ..dates import MAX_ISO, MIN_ISO, add_months, parse_date

# a three-valued status: True holds, False does not, None unknown
Status: TypeAlias = bool | None


def k_and(values: Iterable[Status]) -> Status:
    unknown = False
    for v in values:
        if v is False:
            return False
        if v is None:
            unknown = True
    return None if unknown else True


def k_or(values: Iterable[Status]) -> Status:
    unknown = False
    for v in values:
        if v is True:
            return True
        if v is None:
            unknown = True
    return None if unknown else False


def k_not(value: Status) -> Status:
    return None if value is None else not value


# N42/R2: cut = the earliest anchor whose window end (anchor + N months, clamped, inclusive)
# is on or after as_of, so "anchor >= cut" is exactly "as_of <= window end" (dates.cutoff).
def within(anchor: str | None, asof: str, cut: str, open_if_absent: bool) -> Status:
    if anchor is None:
        return True if open_if_absent else None
    if anchor > asof:
        return open_if_absent  # not happened yet: an open relationship, or a window not yet begun
    return anchor >= cut


def expired(anchor: str | None, asof: str, cut: str, open_if_absent: bool) -> Status:
    if anchor is None:
        return False if open_if_absent else None
    if anchor > asof:
        return False
    return anchor < cut


def _latest(rows: tuple[tuple[Any, ...], ...], idx: int, asof: str | None) -> str | None:
    """The latest date at ``idx`` on or before asof; asof None counts every entry (count_future)."""
    best = None
    for row in rows:
        d = row[idx]
        if d is not None and (asof is None or d <= asof) and (best is None or d > best):
            best = d
    return best


def lwithin(rows: tuple[tuple[Any, ...], ...], idx: int, asof: str | None, cut: str) -> bool:
    d = _latest(rows, idx, asof)
    return d is not None and d >= cut


def lexpired(rows: tuple[tuple[Any, ...], ...], idx: int, asof: str | None, cut: str) -> bool:
    d = _latest(rows, idx, asof)
    return d is not None and d < cut


def latest(rows: tuple[tuple[Any, ...], ...], idx: int, asof: str | None) -> str | None:
    return _latest(rows, idx, asof)


def fdate(value: object) -> str | Literal[False] | None:
    """A pack-defined fact used as a date: the ISO string, None when absent, False when not a date."""
    if value is None:
        return None
    return value if isinstance(value, str) and _is_date(value) else False


def fwithin(value: object, asof: str, cut: str, open_if_absent: bool) -> Status:
    d = fdate(value)
    return None if d is False else within(d, asof, cut, open_if_absent)


def fexpired(value: object, asof: str, cut: str, open_if_absent: bool) -> Status:
    d = fdate(value)
    return None if d is False else expired(d, asof, cut, open_if_absent)


def fhappened(value: object, asof: str) -> Status:
    # a malformed date is unknown, never "has not happened": that could allow by accident
    d = fdate(value)
    return None if d is False else happened(d, asof)


# --- comparing two days of the record (docs/rule-language.md, "Comparing two dates") ---------
# An operand's day: an ISO string, None when absent, False when not usable (a pack-defined fact
# that is no date, an undated {"on_or_before": D} date): the comparison is then unknown.

def cday(value: object) -> str | Literal[False] | None:
    """A record date field as a compare operand (an OnOrBefore is not an exact day: False)."""
    if value is None:
        return None
    return value if isinstance(value, str) else False


def wend(anchor: object, asof: str, months: int) -> str | Literal[False] | None:
    """The last day of a scalar window as a compare operand: anchor + months (N42/R2: clamped,
    end inclusive) when the anchor happened on or before as_of; None when it has no end (absent,
    or not yet happened); False when the anchor is not usable."""
    if anchor is None:
        return None
    if not isinstance(anchor, str):
        return False
    if anchor > asof:
        return None
    return add_months(parse_date(anchor), months).isoformat()


def compare(left: object, right: object, op: str, if_absent: bool | None) -> Status:
    """``left op right`` for two operand days (ISO strings order like their days); unknown
    when either is unusable, ``if_absent`` (None: unknown) when either is absent."""
    if left is False or right is False:
        return None
    if left is None or right is None:
        return if_absent
    assert isinstance(left, str) and isinstance(right, str)
    if op == "before":
        return left < right
    if op == "on_or_before":
        return left <= right
    if op == "after":
        return left > right
    return left >= right


def happened(value: object, asof: str) -> bool:
    return isinstance(value, str) and value <= asof


#: The optional dates of list entries that a condition kind reads as "has not happened by
#: as_of" when absent (null or missing), in every pack: condition kind -> the entry dates the
#: functions below test with ``is None or ... > asof``. A date after as_of reads the same way.
#: docs/rule-language.md ("Absent facts"), the README and the review document list these; a
#: test checks the lists against this table and this table against the decisions.
ABSENT_ENTRY_DATES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "consent": ("consents[].withdrawn_on",),  # not withdrawn: the consent is in force (R20)
    "consent_withdrawn": ("consents[].withdrawn_on",),
    "objection": ("objections[].withdrawn_on", "objections[].compelling_grounds_on"),  # it stands (N44)
    "restriction": ("restrictions[].lifted_on",),  # still active
    "erasure": ("erasure_requests[].verified_on", "erasure_requests[].compelling_grounds_on"),  # R16
    "rights_request": ("erasure_requests[].verified_on", "erasure_requests[].answered_on",
                       "erasure_requests[].extended_on", "rights_requests[].verified_on",
                       "rights_requests[].answered_on", "rights_requests[].extended_on"),  # N43: not extended
    "legal_hold": ("legal_holds[].released_on",),  # still in place (R21)
})


def _live(given: str | None, withdrawn: str | None, asof: str) -> bool:
    # R20: a consent counts from its given date; the withdrawal day itself counts as withdrawn
    return given is not None and given <= asof and (withdrawn is None or withdrawn > asof)


#: model.DEFAULT_CONSENT_MECHANISMS, repeated here so the hot path imports no model
_DEFAULT_MECHS = frozenset({"double_opt_in", "ticked_box", "written"})


def mech_table(vocabulary: Any) -> tuple[tuple[str, frozenset[str] | None, str | None, str | None], ...] | None:
    """A pack's vocabulary.consent_mechanisms as the engines bind it at compile time: per entry
    (mechanism, purposes or None for every purpose, valid_from or None, valid_until or None);
    None when the pack declares none (the engine's default)."""
    mechs = vocabulary.consent_mechanisms
    if mechs is None:
        return None
    return tuple((m.mechanism, m.purposes, m.valid_from, m.valid_until) for m in mechs)


def mechanism_counts(table: Any, mechanism: str | None, purpose: str, asof: str) -> Status:
    """Whether a consent obtained by ``mechanism`` counts as consent for ``purpose`` on as_of
    (N53; Art. 4(11), 7; Recital 32; Planet49). ``table`` None (no vocabulary.consent_mechanisms):
    the three default mechanisms count, an absent mechanism counts (the record format before
    mechanisms existed), every other does not. With a table: an absent mechanism is unknown (a
    missing fact), a present one counts when an entry names it for the purpose and as_of."""
    if table is None:
        return mechanism is None or mechanism in _DEFAULT_MECHS
    if mechanism is None:
        return None
    for m, purposes, start, end in table:
        if m == mechanism and (purposes is None or purpose in purposes) and \
                (start is None or start <= asof) and (end is None or asof <= end):
            return True
    return False


def consent(rows: tuple[tuple[Any, ...], ...], purpose: str | None, recipient: str | None, asof: str,
            mechs: Any = None, after: str | None = None) -> Status:
    """A live consent for ``purpose`` (and ``recipient``) whose mechanism counts: True; none
    that counts but one whose mechanism is absent (a pack declaring mechanisms): unknown; else
    False. An invalid mechanism is no consent (N53): it never makes this true or unknown.
    ``after``: only consents given strictly after that day count (``since_restriction``:
    restriction_began)."""
    # rows: (purpose, recipient, given_on, withdrawn_on, mechanism)
    unknown = False
    for p, r, given, withdrawn, m in rows:
        if after is not None and (given is None or given <= after):
            continue
        if p == purpose and (recipient is None or r == recipient) and _live(given, withdrawn, asof):
            ok = mechanism_counts(mechs, m, p, asof)
            if ok:
                return True
            if ok is None:
                unknown = True
    return None if unknown else False


def consent_withdrawn(rows: tuple[tuple[Any, ...], ...], purpose: str | None, asof: str,
                      mechs: Any = None) -> Status:
    """A consent (for ``purpose``, or any when None) was withdrawn by as_of and no consent that
    counts is live again (R10, R20): True; withdrawn, and the only live consents have an absent
    mechanism (a pack declaring mechanisms): unknown. A live consent with an invalid mechanism
    is no consent and so does not undo the withdrawal (N53)."""
    live: dict[str, Status] = {}
    withdrawn: set[str] = set()
    for p, _r, given, gone, m in rows:
        if purpose is not None and p != purpose:
            continue
        if _live(given, gone, asof):
            ok = mechanism_counts(mechs, m, p, asof)
            if ok or (ok is None and live.get(p) is not True):
                live[p] = ok
        elif gone is not None and gone <= asof:
            withdrawn.add(p)
    unknown = False
    for p in withdrawn:
        got = live.get(p, False)
        if got is False:
            return True
        if got is None:
            unknown = True
    return None if unknown else False


def objection(rows: tuple[tuple[Any, ...], ...], kind: str | None, asof: str) -> bool:
    # rows: (kind, received_on, withdrawn_on, compelling_grounds_on)
    for k, received, withdrawn, compelling in rows:
        if kind is not None and k != kind:
            continue
        if received > asof or (withdrawn is not None and withdrawn <= asof):
            continue
        # N44: 21(1) yields to documented compelling grounds; 21(2) is absolute
        if k == "art21_1" and compelling is not None and compelling <= asof:
            continue
        return True
    return False


def restriction(rows: tuple[tuple[Any, ...], ...], ground: str | None, asof: str) -> bool:
    # rows: (requested_on, lifted_on, ground)
    for requested, lifted, g in rows:
        if requested <= asof and (lifted is None or lifted > asof) and (ground is None or g == ground):
            return True
    return False


def restriction_began(rows: tuple[tuple[Any, ...], ...], asof: str) -> str | None:
    """The latest day a restriction active on ``asof`` was requested (None: none is active).

    Art. 18(2), R6: the consent that allows processing during a restriction is one given for
    processing *during* it, so a consent counts only when given after every active restriction
    was requested; a consent given on that day or before does not (the person asked for the
    freeze and has not agreed to continued use)."""
    # rows: (requested_on, lifted_on, ground); active as in restriction()
    began = None
    for requested, lifted, _g in rows:
        if requested <= asof and (lifted is None or lifted > asof) and (began is None or requested > began):
            began = requested
    return began


def erasure(rows: tuple[tuple[Any, ...], ...], mode: str, asof: str) -> bool:
    """rows: (received_on, verified_on, answered_on, compelling_grounds_on).

    requested: received; unanswered: received and not answered by as_of (N43);
    verified: identity verified (R16: only this requires erasure);
    granted: verified and no compelling grounds documented by as_of (R16, customers/partners).
    """
    for received, ver, answered, compelling, _ext in rows:
        if mode == "requested":
            if received <= asof:
                return True
        elif mode == "unanswered":  # N43: received and not yet answered (the answer duty holds)
            if received <= asof and (answered is None or answered > asof):
                return True
        elif ver is not None and ver <= asof:
            if mode == "verified" or compelling is None or compelling > asof:
                return True
    return False


def pending_verification(erasures: tuple[tuple[Any, ...], ...], rights: tuple[tuple[Any, ...], ...],
                         asof: str) -> bool:
    for received, ver, answered, _grounds, _ext in erasures:
        if received <= asof and (ver is None or ver > asof) and (answered is None or answered > asof):
            return True
    for _kind, received, ver, answered, _ext in rights:
        if received <= asof and (ver is None or ver > asof) and (answered is None or answered > asof):
            return True
    return False


def unanswered(erasures: tuple[tuple[Any, ...], ...], rights: tuple[tuple[Any, ...], ...], asof: str) -> bool:
    """Some erasure or rights request was received by as_of and not answered by then (N43)."""
    for received, _ver, answered, _grounds, _ext in erasures:
        if received <= asof and (answered is None or answered > asof):
            return True
    for _kind, received, _ver, answered, _ext in rights:
        if received <= asof and (answered is None or answered > asof):
            return True
    return False


def legal_hold(rows: tuple[tuple[Any, ...], ...], scope: str | None, asof: str) -> bool:
    # R21: a hold keeps "the relevant subset": a hold naming scopes covers only those
    for placed, released, _matter, scopes in rows:
        if placed <= asof and (released is None or released > asof) and \
                (scopes is None or scope is None or scope in scopes):
            return True
    return False


def legal_order(rows: tuple[tuple[Any, ...], ...], recipient: str | None, asof: str) -> bool:
    # R12: only a binding order naming this recipient; a voluntary request is not one
    for r, received, binding, _ref in rows:
        if r == recipient and binding is True and received <= asof:
            return True
    return False


def in_force(start: str | None, end: str | None, asof: str) -> bool:
    """A DPA or mechanism in force on as_of: start and end days inclusive."""
    return start is not None and start <= asof and (end is None or asof <= end)


def transfer_lawful(spans: tuple[tuple[str | None, str | None, str | None, str | None], ...], asof: str) -> bool:
    # N50/R14: some transfer the recipient relies on is in use on as_of, under a mechanism
    # that is itself valid on as_of (Privacy Shield ends 2020-07-15, DPF starts 2023-07-10)
    for used_from, used_until, valid_from, valid_until in spans:
        if (used_from is None or used_from <= asof) and (used_until is None or asof <= used_until) and \
                (valid_from is None or valid_from <= asof) and (valid_until is None or asof <= valid_until):
            return True
    return False


def _is_date(text: str) -> bool:
    # a pack-defined fact read as a date: a real day in the supported range (dates.MIN_DAY..MAX_DAY);
    # 9999-12-31 is a host placeholder, not a fact, and window arithmetic on it would overflow
    try:
        parse_date(text)
    except ValueError:
        return False
    return MIN_ISO <= text <= MAX_ISO


# The kinds a `fact` comparison keeps apart (docs/rule-language.md, "fact"). Python's own
# equality would let a record's `true` equal a rule's `1` (True == 1), so `in: [0, 1]` would
# match `false`. A value of another kind than the rule compares with is a malformed fact:
# unknown, never true or false, so it can never make an allow. Numbers are finite (records.py
# refuses others, PR302; a rule's `.nan` compares with nothing).
BOOLEAN, NUMBER, STRING = 1, 2, 3
# the hot path's lookup: a bound dict.get (a MappingProxy's costs a third more); never mutated
_KIND_OF: Callable[[type], int | None] = {bool: BOOLEAN, int: NUMBER, float: NUMBER, str: STRING}.get
_isfinite = math.isfinite
_DATE_OPS = ("before", "on_or_before", "after", "on_or_after")

# A prepared operand (fact_operand), built once at compile time so that the hot path does no
# kind analysis of the rule's side: equals/not_equals (kind, value); in/not_in one frozenset
# per kind, indexed by kind (None: the list holds no element of that kind). Within one kind
# Python's == is the comparison the rule language means (1 == 1.0 for numbers).
KindSets: TypeAlias = tuple[None, frozenset[Any] | None, frozenset[Any] | None, frozenset[Any] | None]


def kind(value: object) -> int | None:
    """BOOLEAN, NUMBER (int or float, not bool; finite), STRING, or None for anything else."""
    return _exact(value)[1]


def _exact(value: object) -> tuple[object, int | None]:
    """``value`` as its exact built-in type, and its kind; (None, None) if it has no kind.

    Subclasses (an IntEnum, numpy.float64) reach ``fact`` only through the Python API; their
    ``==`` may answer a non-bool (numpy.bool_), which a generated evaluator would misread.
    """
    if isinstance(value, bool):
        return bool(value), BOOLEAN
    if isinstance(value, int):
        return int(value), NUMBER
    if isinstance(value, float):
        return (float(value), NUMBER) if math.isfinite(value) else (None, None)
    if isinstance(value, str):
        return str.__str__(value), STRING
    return None, None


def fact_operand(op: str, operand: Any) -> tuple[str, Any]:
    """(the runtime function for ``op``, its prepared operand): what codegen binds per condition.

    Any: ``operand`` is the rule's validated value in the shape ``op`` takes (a scalar, a list
    or tuple for in/not_in, an ISO day for date comparisons).
    """
    if op in ("equals", "not_equals"):
        plain, k = _exact(operand)
        return ("fact_eq" if op == "equals" else "fact_ne"), (k, plain)
    if op in ("in", "not_in"):
        groups: dict[int, set[Any]] = {}
        for x in operand:
            plain, k = _exact(x)
            if k is not None:
                groups.setdefault(k, set()).add(plain)
        sets: KindSets = (None, _group(groups, BOOLEAN), _group(groups, NUMBER), _group(groups, STRING))
        return ("fact_in" if op == "in" else "fact_not_in"), sets
    if op in _DATE_OPS:
        return "fact_" + op, operand
    raise ValueError(f"unknown `fact` operator `{op}`")


def _group(groups: dict[int, set[Any]], k: int) -> frozenset[Any] | None:
    return frozenset(groups[k]) if k in groups else None


# The four functions below inline the record value's kind (measured: a helper call doubles
# their cost): one type lookup for the exact built-in types JSON gives, _exact for the rest.
def fact_eq(value: object, operand: tuple[int | None, object]) -> Status:
    t = type(value)
    k = _KIND_OF(t)
    if k is None:
        if value is None:
            return None
        value, k = _exact(value)  # a subclass of a kind (an IntEnum), or no kind at all
        if k is None:
            return None
    elif t is float and not _isfinite(value):  # type: ignore[arg-type]  # t is float
        return None
    ok, x = operand
    return value == x if k == ok else None


def fact_ne(value: object, operand: tuple[int | None, object]) -> Status:
    t = type(value)
    k = _KIND_OF(t)
    if k is None:
        if value is None:
            return None
        value, k = _exact(value)
        if k is None:
            return None
    elif t is float and not _isfinite(value):  # type: ignore[arg-type]  # t is float
        return None
    ok, x = operand
    return value != x if k == ok else None


def fact_in(value: object, sets: KindSets) -> Status:
    t = type(value)
    k = _KIND_OF(t)
    if k is None:
        if value is None:
            return None
        value, k = _exact(value)
        if k is None:
            return None
    elif t is float and not _isfinite(value):  # type: ignore[arg-type]  # t is float
        return None
    same = sets[k]
    return None if same is None else value in same


def fact_not_in(value: object, sets: KindSets) -> Status:
    t = type(value)
    k = _KIND_OF(t)
    if k is None:
        if value is None:
            return None
        value, k = _exact(value)
        if k is None:
            return None
    elif t is float and not _isfinite(value):  # type: ignore[arg-type]  # t is float
        return None
    same = sets[k]
    return None if same is None else value not in same


def _day(value: object) -> str | None:
    # a date comparison on something that is not a date in the supported range: cannot decide
    return value if isinstance(value, str) and _is_date(value) else None


def fact_before(value: object, day: str) -> Status:
    d = _day(value)
    return None if d is None else d < day


def fact_on_or_before(value: object, day: str) -> Status:
    d = _day(value)
    return None if d is None else d <= day


def fact_after(value: object, day: str) -> Status:
    d = _day(value)
    return None if d is None else d > day


def fact_on_or_after(value: object, day: str) -> Status:
    d = _day(value)
    return None if d is None else d >= day


def fact(value: object, op: str, operand: Any) -> Status:
    """A `fact` condition on ``value``: True, False, or None (unknown) when the value is absent or
    of another kind than the rule compares it with (equals/not_equals: the operand's kind;
    in/not_in: the kind of some element, membership then among the elements of that kind;
    date comparisons: a date in the supported range). Prepares the operand on every call: the
    generated evaluators call the prepared form (fact_operand) instead.
    """
    name, prepared = fact_operand(op, operand)
    result: Status = FACT_FUNCTIONS[name](value, prepared)
    return result


#: fact_operand's function names: the only ``_rt.fact_*`` calls codegen emits.
FACT_FUNCTIONS: Mapping[str, Callable[[object, Any], Status]] = MappingProxyType({
    "fact_eq": fact_eq, "fact_ne": fact_ne, "fact_in": fact_in, "fact_not_in": fact_not_in,
    "fact_before": fact_before, "fact_on_or_before": fact_on_or_before, "fact_after": fact_after,
    "fact_on_or_after": fact_on_or_after,
})
