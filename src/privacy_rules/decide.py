"""The hot path: rule statuses -> outcome (combining), and the Decision that explains it.

Combining order (docs/rule-language.md section 3): override > forbid > permit > no basis.
Everything here is a pure function of its arguments; nothing reads a clock or global state.
"""

from __future__ import annotations

import json
from datetime import date
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence

from .compile.codegen import QuestionPlan
# the interpreter (the plain definition) answers the explanations' slow paths: a failed permit's
# other conditions, an undetermined answer's unusable facts, undated dates
from .compile.interpret import compare_paths, compares_undated, holds, substitute, undated_read
from .compile.runtime import fdate, k_and, k_not, k_or, kind, latest
from .dates import MIN_ISO, SUPPORTED_RANGE, add_months, iso_cutoff, parse_date
from .errors import shown
from .model import (AppliedRule, Basis, Citation, Decision, Diagnostic, Effect, Obligation, ObligationSpec, Outcome,
                    Pack, Pred, Question, RuleStatus, Severity, Window)
from .records import LIST_DATE_PATHS, LIST_FIELDS, RELATIONSHIP_FIELDS, SCALAR_PATHS, Facts, OnOrBefore

OVERRIDE, FORBID, PERMIT, OBLIGATION = 0, 1, 2, 3
EFFECT_CODE = {Effect.OVERRIDE: OVERRIDE, Effect.FORBID: FORBID, Effect.PERMIT: PERMIT, Effect.OBLIGATION: OBLIGATION}

ALLOW_S, DENY_S, UND_S = Outcome.ALLOW.value, Outcome.DENY.value, Outcome.UNDETERMINED.value


def combine(effects: Sequence[int], statuses: Sequence[Any]) -> tuple[str, int | None, str]:
    """(outcome, index of the decisive rule or None, why) from per-rule statuses. Pure.

    ``why`` is one of override, forbid, permit, no-basis, unknown.
    """
    first_override = first_forbid = first_permit = None
    override_unknown = forbid_unknown = permit_unknown = False
    for i, s in enumerate(statuses):
        e = effects[i]
        if s is True:
            if e == OVERRIDE:
                if first_override is None:
                    first_override = i
            elif e == FORBID:
                if first_forbid is None:
                    first_forbid = i
            elif e == PERMIT and first_permit is None:
                first_permit = i
        elif s is None:
            if e == OVERRIDE:
                override_unknown = True
            elif e == FORBID:
                forbid_unknown = True
            elif e == PERMIT:
                permit_unknown = True
    if first_override is not None:
        return ALLOW_S, first_override, "override"
    if first_forbid is not None:
        # deleting what the law may oblige us to keep is a breach too: an unknown override blocks deny
        return (UND_S, None, "unknown") if override_unknown else (DENY_S, first_forbid, "forbid")
    if first_permit is not None:
        return (UND_S, None, "unknown") if forbid_unknown else (ALLOW_S, first_permit, "permit")
    if permit_unknown or override_unknown:
        return UND_S, None, "unknown"
    return DENY_S, None, "no-basis"


def window_end_of(w: Window, facts: Facts, asof: str, memo: dict[tuple[str, int], date] | None = None, *,
                  undated: str = "unknown") -> date | None | bool:
    """The last day of ``w`` for this record: a date, None when open-ended, False when it has no anchor.

    An ``open_if_absent`` window whose anchor is after as_of is open, and ends on its anchor plus
    its length (R3: the tail runs from the known effective end day, which notice has fixed).

    When the anchor depends on an undated date (``{"on_or_before": D}``) the end may not be
    known: ``undated`` says what to return then: "unknown" the end if every day of the undated
    dates gives the same one (a dated list entry later than them), else False (as if there
    were no anchor); "earliest" the earliest end it may have (the undated dates on 1900-01-01:
    a keep_until that is never too late); "latest" the latest (at their bound D, or as_of for
    a list anchor, which takes entries on or before as_of: "ended on or before" that day).
    The end is monotonic in the anchor (dates.add_months), so both are exact bounds.
    A ``pick`` window (a request's own deadline) is respond_by's, which knows no end from an
    undated request date.
    """
    if w.pick is not None:
        return respond_by(w, facts, asof)[0]
    if facts.undated:
        bounded = _bounded_anchor(w, facts, asof, undated)
        if bounded is None:  # "unknown", and the anchor reads an undated date
            low = window_end_of(w, facts, asof, memo, undated="earliest")
            return low if low == window_end_of(w, facts, asof, memo, undated="latest") else False
        facts = bounded
    anchor: str | Literal[False] | None  # an ISO date; False: a pack-defined fact that is not a date
    if w.is_list:
        name, idx = LIST_DATE_PATHS[w.anchor]
        anchor = latest(facts.lists[name], idx, None if w.count_future else asof)
        if anchor is None:
            return False
    else:
        anchor = facts.s.get(w.anchor)
        if w.anchor.startswith("facts."):
            anchor = fdate(anchor)
            if anchor is False:
                return False
        if anchor is None:
            return None if w.open_if_absent else False
        if anchor > asof and not w.open_if_absent:
            return False  # not begun: its `within` does not hold, so no end is read
        # an open_if_absent window whose anchor lies ahead (a customer who has given notice
        # and whose agreement ends on a known day) is still open, and its end is already known:
        # R3's worked example, notice 2021-01-15, effective end 2021-04-30, kept until 2024-04-30
    if memo is None:
        return add_months(date.fromisoformat(anchor), w.months)
    key = (anchor, w.months)
    end = memo.get(key)
    if end is None:
        end = add_months(date.fromisoformat(anchor), w.months)
        if len(memo) < 100_000:  # a sweep sees a few thousand distinct anchors
            memo[key] = end
    return end


def respond_by(w: Window, facts: Facts, asof: str) -> tuple[date | bool, list[str]]:
    """(the deadline of ``w``, a ``pick: earliest_unanswered`` window over a request list, and
    the late extensions it did not count). N43, Art. 12(3): each request received by as_of and
    not answered by then has its own deadline, receipt + ``w.months`` (N42: clamped, inclusive),
    or + ``w.months + w.extension_months`` when the person was told of the extension
    (``extended_on``) within the first ``w.months`` and on or before as_of; the window's end is
    the earliest of them. False when no request is open, or when a date it needs is undated
    (``{"on_or_before": D}``: the deadline is not known, so no due day is given). Pure."""
    name = w.anchor.split("[].", 1)[0]
    fields = list(LIST_FIELDS[name][0])
    ir, ia, ie = fields.index("received_on"), fields.index("answered_on"), fields.index("extended_on")
    best: date | None = None
    late: list[str] = []
    for i, row in enumerate(facts.lists[name]):
        received, answered, extended = row[ir], row[ia], row[ie]
        if type(answered) is str and answered <= asof:
            continue  # answered: its deadline no longer runs, whatever its other dates
        if any(type(v) is OnOrBefore for v in (received, answered, extended)):
            return False, []
        if received > asof or (answered is not None and answered <= asof):
            continue
        first = add_months(date.fromisoformat(received), w.months)
        end = first
        if w.extension_months and extended is not None and extended <= asof:
            if extended <= first.isoformat():
                end = add_months(date.fromisoformat(received), w.months + w.extension_months)
            else:
                late.append(f"the extension told on {extended} (`{name}[{i}].extended_on`) is after the first "
                            f"{'month' if w.months == 1 else f'{w.months} months'} (ended {first.isoformat()}), so it does "
                            "not extend the deadline (Art. 12(3))")
        if best is None or end < best:
            best = end
    return (best if best is not None else False), late


def _bounded_anchor(w: Window, facts: Facts, asof: str, side: str) -> Facts | None:
    """``facts`` with the undated dates ``w``'s anchor reads set to ``side``'s day (window_end_of),
    None for side "unknown" when there is one; ``facts`` itself when there is none."""

    locs: list[tuple[tuple[Any, ...], str]]
    if w.is_list:
        name, idx = LIST_DATE_PATHS[w.anchor]
        locs = [(("l", name, i, idx), row[idx].day) for i, row in enumerate(facts.lists[name])
                if type(row[idx]) is OnOrBefore]
    else:
        value = facts.s.get(w.anchor)
        locs = [(("s", w.anchor), value.day)] if type(value) is OnOrBefore else []
    if not locs:
        return facts
    if side == "unknown":
        return None
    if side == "earliest":
        days = [MIN_ISO] * len(locs)
    else:
        days = [day if not w.is_list or w.count_future else min(day, asof) for _, day in locs]
    return substitute(facts, [loc for loc, _ in locs], days)


def rule_keep_until(when: Iterable[Pred], windows: Mapping[str, Window], facts: Facts, asof: str,
                    memo: dict[tuple[str, int], date] | None = None) -> date | None:
    """The earliest end among a holding rule's top-level ``within`` windows; None = open-ended.

    An undated anchor counts with the earliest end it may have: never a keep_until too late."""
    end: date | None = None
    for p in when:
        if p.kind == "within":
            e = window_end_of(windows[p.arg], facts, asof, memo, undated="earliest")
            if isinstance(e, date) and (end is None or e < end):
                end = e
    return end


def keep_until_for(plan: QuestionPlan, statuses: Sequence[Any], tier: int, effects: Sequence[int],
                   windows: Mapping[str, Window], facts: Facts, asof: str,
                   memo: dict[tuple[str, int], date] | None = None) -> date | None:
    """R19: the latest end among holding rules of the deciding tier; None if any is open-ended."""
    best: date | None = None
    for i, s in enumerate(statuses):
        if s is True and effects[i] == tier:
            end = rule_keep_until(plan.rules[i].when, windows, facts, asof, memo)
            if end is None:
                return None
            if best is None or end > best:
                best = end
    return best


#: the recipient_facts field each recipient predicate needs (issue 11 item 2)
_RECIPIENT_FACT = {"processor_dpa": ("dpa", "recipient_facts.dpa"), "transfer": ("transfer", "recipient_facts.transfers"),
                   "recipient_serves": ("purposes", "recipient_facts.purposes"),
                   "categories_beyond": ("categories", "recipient_facts.categories")}


def missing_facts(preds: Iterable[Pred], pack: Pack, facts: Facts, keep_missing: tuple[str, ...],
                  question: Any = None, known: Callable[[Pred], bool] | None = None) -> list[str]:
    """Fact paths whose absence made a rule unknown (``recipient_facts.*``: a fact of an
    unlisted recipient the question did not give). ``known(p)``: the all/any/not condition ``p``
    has a known status, so nothing under it is missing (an `any` that holds by one branch does
    not lack the facts of another)."""
    out: list[str] = []
    for p in preds:
        k = p.kind
        if k in _RECIPIENT_FACT and question is not None and question.recipient is not None:
            r = pack.vocabulary.recipients.get(question.recipient)
            need, path = _RECIPIENT_FACT[k]
            if r is not None and need in r.unknown:
                if need == "transfer" and "eea" in r.unknown:
                    out.append("recipient_facts.eea")
                elif k != "categories_beyond" or question.categories is not None:
                    out.append(path)
        if k == "role" and facts.role is None:
            out.append("role")
        elif k == "subject" and facts.subjects is None:
            out.append("subject_categories")
        elif k in ("within", "expired"):
            w = pack.vocabulary.windows[p.arg]
            if not w.is_list and not w.open_if_absent and facts.s.get(w.anchor) is None:
                out.append(w.anchor)
        elif k == "fact" and facts.s.get(p.arg["path"]) is None:
            out.append(p.arg["path"])
        elif k == "unlisted" and not facts.lists[p.arg]:
            out.append(p.arg)
        elif k == "compare" and facts.undated and compares_undated((p,), pack, facts):
            # two record days compared, one known only as "on or before": unknown whatever the
            # other is (interpret.holds), so the undated day is what it lacks
            out.extend(path for path in compare_paths(p, pack.vocabulary) if type(facts.s.get(path)) is OnOrBefore)
        elif k == "compare" and p.arg["if_absent"] is None:  # an absent day leaves it unknown
            for side in (p.arg["left"], p.arg["right"]):
                if isinstance(side, tuple):
                    w = pack.vocabulary.windows[side[1]]
                    if facts.s.get(w.anchor) is None and not w.open_if_absent:
                        out.append(w.anchor)
                elif side != "as_of" and facts.s.get(side) is None:
                    out.append(side)
        elif k == "keep":
            out.extend(keep_missing)
        elif k in _CONSENT_KINDS and pack.vocabulary.consent_mechanisms is not None:
            # N53: a consent without a recorded mechanism, in a pack that says which count
            purpose = None if k == "consent_for_question" or p.arg == "any" else p.arg
            out.extend(f"consents[{i}].mechanism" for i, row in enumerate(facts.lists["consents"])
                       if row[4] is None and (purpose is None or row[0] == purpose))
        if p.children and (known is None or not known(p)):
            out.extend(missing_facts(p.children, pack, facts, keep_missing, question, known))
    return out


_CONSENT_KINDS = frozenset({"consent", "consent_for_question", "consent_withdrawn"})
_MECH_WHY = {
    "pre_ticked_box": "a pre-ticked box is no consent (Art. 4(11), Recital 32, CJEU C-673/17 Planet49)",
    "silence": "silence is no consent (Art. 4(11), Recital 32)",
    "inactivity": "inactivity is no consent (Art. 4(11), Recital 32)",
    "browser_setting": "a browser setting is not a specific, informed act of consent (Art. 4(11), N49)",
    "purchased_list": "a bought list proves no consent given to this controller (Art. 7(1))",
    "imported_list": "an imported list proves no consent given to this controller (Art. 7(1))",
    "bundled_with_terms": "consent bundled with terms is not freely given (Art. 7(2), 7(4))",
    "unknown": "how it was obtained cannot be shown (Art. 7(1))",
}


def consent_purposes(plan: QuestionPlan) -> frozenset[str | None]:
    """The purposes the consent conditions of ``plan``'s rules read (None: any purpose). Pure in
    the plan: Tables holds it, so explaining a decision does not walk every rule again (issue 12:
    the walk was 13% of ``decide``)."""
    q = plan.question
    purposes: set[str | None] = set()
    for rule in plan.rules:
        for p in _walk(rule.when):
            if p.kind == "consent_for_question":
                purposes.add(q.purpose)
            elif p.kind in ("consent", "consent_withdrawn"):
                purposes.add(None if p.arg == "any" else p.arg)
    return frozenset(purposes)


def invalid_consents(plan: QuestionPlan, pack: Pack, facts: Facts, asof: str,
                     purposes: frozenset[str | None] | None = None) -> list[str]:
    """Why each live consent a consent condition of this question reads does not count (N53):
    one phrase per consent whose mechanism the pack does not let count for its purpose on as_of.
    ``purposes``: ``consent_purposes(plan)``, computed here when not given. Pure; only answers
    that are not allow come here, and only records with consents."""
    from .compile.runtime import _live, mech_table, mechanism_counts

    if purposes is None:
        purposes = consent_purposes(plan)
    if not purposes:
        return []
    table = mech_table(pack.vocabulary)
    out = []
    for i, (purpose, _r, given, withdrawn, mech) in enumerate(facts.lists["consents"]):
        if (None in purposes or purpose in purposes) and mech is not None and _live(given, withdrawn, asof) \
                and mechanism_counts(table, mech, purpose, asof) is False:
            why = _MECH_WHY.get(mech, "the pack does not let it count")
            if mechanism_counts(table, mech, purpose, "0000-01-01") or mechanism_counts(table, mech, purpose, "9999-12-31"):
                why = "the pack lets it count only on other days (N49)"
            out.append(f"consent `consents[{i}]` for `{purpose}` does not count: it was obtained by `{mech}`; {why}")
    return out


def _walk(preds: Iterable[Pred]) -> Iterable[Pred]:
    for p in preds:
        yield p
        yield from _walk(p.children)


def undated_phrase(path: str, day: str) -> str:
    """How an answer names an undated date it needs (docs/rule-language.md)."""
    return f"the exact date of `{path}` is not known (only on or before {day})"


def undated_missing(*, pack: Pack, plan: QuestionPlan, statuses: Sequence[Any], effects: Sequence[int], facts: Facts,
                    asof: str, cuts: Mapping[str, str] | None, keep: bool | None) -> list[str]:
    """For an UNDETERMINED answer: the record paths of the undated dates that leave unknown a
    condition of a rule that could change it (``can_change``), where that condition decides
    the rule (as fact_problems: a false sibling under `all`, a true one under `any`, makes it
    irrelevant). Pure; only records with undated dates come here."""

    if cuts is None:
        day = date.fromisoformat(asof)
        cuts = {w: iso_cutoff(day, win.months) for w, win in pack.vocabulary.windows.items()}
    q = plan.question
    out: list[str] = []

    def walk(p: Pred) -> Any:
        if p.kind in ("all", "any", "not"):
            mark = len(out)
            subs = [walk(c) for c in p.children]
            status = k_and(subs) if p.kind == "all" else k_or(subs) if p.kind == "any" else k_not(subs[0])
            if status is not None:
                del out[mark:]
            return status
        status = holds(p, pack, q, facts, asof, cuts, keep)
        if status is None:
            out.extend(path for _, path, _ in undated_read(p, pack, facts))
        return status

    for i in can_change(effects, statuses):
        for p in plan.rules[i].when:
            walk(p)
    return out


def can_change(effects: Sequence[int], statuses: Sequence[Any]) -> list[int]:
    """Indices of the unknown rules whose status could still change an UNDETERMINED outcome.

    Obligation rules never change it. When a forbid holds, only an override can (deny needs
    every override false; one true gives allow); when a permit holds, forbids and overrides
    can, further permits cannot (one already gives the basis). Otherwise every unknown
    permit, forbid and override can.
    """
    held = {effects[i] for i, s in enumerate(statuses) if s is True}
    if FORBID in held:
        wanted: tuple[int, ...] = (OVERRIDE,)
    elif PERMIT in held:
        wanted = (OVERRIDE, FORBID)
    else:
        wanted = (OVERRIDE, FORBID, PERMIT)
    return [i for i, s in enumerate(statuses) if s is None and effects[i] in wanted]


# --- present facts a rule cannot use (PR317-PR319, docs/codes.md) ---------------------------
# A `facts.*` value of another kind than a `fact` condition compares with, or one that is not a
# date where a rule needs a date, leaves the condition unknown (compile/runtime.py). Absent
# facts are named in `missing_facts`; these are present, so the host needs to be told which
# value to fix and why: one record-level Diagnostic per condition that read it.

_DATE_OPS = ("before", "on_or_before", "after", "on_or_after")
_KIND_WORD = {1: "boolean", 2: "number", 3: "string"}  # runtime.BOOLEAN, NUMBER, STRING


# What a rule reads that can be present and yet unusable. Other record fields are checked when
# the record is read (records.py: `relationship.*` and `art14_informed_on` are real days in
# range, `source` and `contact_address_kind` strings), so they can only mislead a condition that
# compares them with something else (a number, or a day for a field that is no date).
NO_VALUE, RECORD_FACT, BUILTIN = 0, 1, 2
_DAY_FIELDS = frozenset(f"relationship.{k}" for k in RELATIONSHIP_FIELDS) | {"art14_informed_on"}


def reads_values(rule_when: Iterable[Pred], windows: Mapping[str, Window]) -> int:
    """BUILTIN when a condition may find a checked record field unusable (compares it with
    another kind), else RECORD_FACT when one reads a `facts.*` value (``fact``, ``happened``, a
    window) or the keep answer, else NO_VALUE. Pure; computed once per rule at compile time."""
    most = NO_VALUE
    for p in rule_when:
        k, a = p.kind, p.arg
        if k == "fact":
            path, op, value = a["path"], a["op"], a["value"]
            if path.startswith("facts."):
                most = max(most, RECORD_FACT)
            elif op in _DATE_OPS:
                if path not in _DAY_FIELDS:
                    return BUILTIN
            elif any(kind(x) != 3 for x in (value if op in ("in", "not_in") else (value,))):  # 3: runtime.STRING
                return BUILTIN
        elif k == "keep":
            most = max(most, RECORD_FACT)
        elif k in ("happened", "within", "expired"):
            path = a if k == "happened" else windows[a].anchor
            if k != "happened" and windows[a].is_list or path in _DAY_FIELDS:
                continue  # list anchors and these fields are checked days
            if not path.startswith("facts."):
                return BUILTIN  # `check` refuses it (PR203); a Pack built in Python may still hold it
            most = max(most, RECORD_FACT)
        if p.children:
            most = max(most, reads_values(p.children, windows))
            if most == BUILTIN:
                return most
    return most


def _literal(value: object) -> str:
    """A record value as JSON writes it (strings quoted, so `"1"` and `1` read apart), cut to fit a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(shown(value, 60), ensure_ascii=False)
    return shown(value, 60)


def _kind_phrase(value: object) -> str:
    k = kind(value)
    return f"the {_KIND_WORD[k]} `{_literal(value)}`" if k is not None else f"`{_literal(value)}`"


def _operand_phrase(op: str, operand: Any) -> str:
    """What a `fact` condition compares with, in words: "the number `1`", "numbers and strings (`in: [1, "a"]`)"."""
    if op in ("in", "not_in"):
        kinds = sorted({k for k in map(kind, operand) if k is not None})
        words = " and ".join(_KIND_WORD[k] + "s" for k in kinds) or "no value of any kind"
        listed = ", ".join(_literal(x) if kind(x) is not None else "null" if x is None else shown(x) for x in operand)
        return f"{words} (`{op}: [{shown(listed, 80)}]`)"
    if kind(operand) is None:
        return f"`{'null' if operand is None else shown(operand)}`, which no value matches"
    return _kind_phrase(operand)


def _kinds_wanted(op: str, operand: Any) -> str:
    """"a number", "a number or a string": the kinds a record value may have to be compared."""
    found = sorted({k for k in map(kind, operand if op in ("in", "not_in") else (operand,)) if k is not None})
    return " or ".join(f"a {_KIND_WORD[k]}" for k in found) or "a value the rule can match (the rule matches none)"


def _date_problem(path: str, value: object, rule_id: str, use: str, record_id: str) -> Diagnostic:
    """PR318 (not a date) or PR319 (a date outside the supported range) for ``value`` at ``path``."""
    if isinstance(value, str):
        try:
            parse_date(value)
        except ValueError:
            pass
        else:
            return Diagnostic(code="PR319", severity=Severity.ERROR, record_id=record_id, rule_id=rule_id,
                              message=f"`{path}` is `{shown(value)}`, outside the supported range {SUPPORTED_RANGE}, "
                                      f"but rule `{rule_id}` reads it as a date ({use})",
                              help="send the real day: a placeholder such as 9999-12-31 is not a date")
    return Diagnostic(code="PR318", severity=Severity.ERROR, record_id=record_id, rule_id=rule_id,
                      message=f"`{path}` is {_kind_phrase(value)}, not a date, but rule `{rule_id}` reads it as a "
                              f"date ({use})",
                      help=f"send `{path}` as a day, written YYYY-MM-DD")


def _leaf_problem(p: Pred, pack: Pack, facts: Facts, rule_id: str) -> Diagnostic | None:
    """The problem that makes leaf ``p`` unknown although its value is present; None if there is none.

    Called only for a leaf whose status is unknown, so a present value there is an unusable one.
    """
    k, a = p.kind, p.arg
    if k == "fact":
        path, op, operand = a["path"], a["op"], a["value"]
        value = facts.s.get(path)
        if value is None or type(value) is OnOrBefore:
            return None  # absent, or undated: missing_facts names it
        if op in _DATE_OPS:
            return _date_problem(path, value, rule_id, f"`{op}: {shown(operand)}`", facts.id)
        return Diagnostic(code="PR317", severity=Severity.ERROR, record_id=facts.id, rule_id=rule_id,
                          message=f"`{path}` is {_kind_phrase(value)}, but rule `{rule_id}` compares it with "
                                  f"{_operand_phrase(op, operand)}",
                          help=f"send `{path}` as {_kinds_wanted(op, operand)} (`true` is not `1`, `1` is not "
                               "`\"1\"`), or make the rule compare with the kind the host sends")
    if k == "happened":
        value = facts.s.get(a)
        if value is None or type(value) is OnOrBefore:
            return None
        return _date_problem(a, value, rule_id, f"`happened: {a}`", facts.id)
    if k in ("within", "expired"):
        w = pack.vocabulary.windows[a]
        if w.is_list:
            return None
        value = facts.s.get(w.anchor)
        if value is None or type(value) is OnOrBefore or fdate(value) is not False:
            return None
        return _date_problem(w.anchor, value, rule_id, f"window `{a}`", facts.id)
    return None


def fact_problems(*, pack: Pack, plan: QuestionPlan, tables: Tables, statuses: Sequence[Any], facts: Facts,
                  asof: str, cuts: Mapping[str, str] | None = None, keep: bool | None = None,
                  keep_problems: tuple[Diagnostic, ...] = ()) -> tuple[Diagnostic, ...]:
    """PR317-PR319: for an UNDETERMINED answer, the present facts that left unknown a rule that
    could change it (``can_change``), each with the rule that read it. Pure.

    A condition is named only where its unknown status reaches the rule's: under `any` a true
    sibling, under `all` a false one, makes it irrelevant. ``keep``/``keep_problems``: the keep
    answer a `keep:` condition reads, and that answer's own problems.
    """

    effects = tables.effects
    reads = tables.reads_values
    idx = [i for i in can_change(effects, statuses) if reads[i]]
    if not idx:
        return ()
    if all(reads[i] == RECORD_FACT for i in idx) and not keep_problems and \
            not any(key.startswith("facts.") for key in facts.s):
        return ()  # the common case in a sweep: no pack-defined fact in the record, so none to name
    if cuts is None:
        day = date.fromisoformat(asof)
        cuts = {w: iso_cutoff(day, win.months) for w, win in pack.vocabulary.windows.items()}
    q = plan.question
    out: list[Diagnostic] = []

    def walk(p: Pred, rule_id: str) -> Any:
        """The status of ``p``; collects the problems of the unknown leaves that make it unknown."""
        k = p.kind
        if k in ("all", "any", "not"):
            mark = len(out)
            subs = [walk(c, rule_id) for c in p.children]
            status = k_and(subs) if k == "all" else k_or(subs) if k == "any" else k_not(subs[0])
            if status is not None:
                del out[mark:]  # decided without the unknown operands: they cannot change it
            return status
        if k == "keep":
            if keep is None:
                out.extend(keep_problems)
            return keep
        status = holds(p, pack, q, facts, asof, cuts, keep)
        if status is None:
            problem = _leaf_problem(p, pack, facts, rule_id)
            if problem is not None:
                out.append(problem)
        return status

    for i in idx:
        rule = plan.rules[i]
        for p in rule.when:  # the rule is unknown: no condition is false, each unknown one counts
            walk(p, rule.id)
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True, slots=True)
class Tables:
    """Per-question values an explanation needs, built once at compile time so that building a
    Decision is assembly, not lookup (the per-record API's hot path)."""

    effects: tuple[int, ...]
    applied: tuple[Mapping[RuleStatus, AppliedRule], ...]
    cites: tuple[tuple[str, Citation], ...]
    basis: tuple[Basis | None, ...]
    heads: tuple[str, ...]  # "by `rule` (Art. 6(1)(f))"
    texts: tuple[str, ...]
    obligations: tuple[tuple[tuple[ObligationSpec, str], ...], ...]  # (spec, text in lang)
    reads_values: tuple[int, ...] = ()  # per rule: reads_values(rule.when); fact_problems looks only there
    consent_purposes: frozenset[str | None] | None = None  # consent_purposes(plan); None: not computed
    #: statuses -> _Pattern: what an explanation takes from the rule statuses alone, memoised
    #: (issue 12; pure in the key, bounded); None: not memoised (the plain way)
    patterns: dict[tuple[Any, ...], "_Pattern"] | None = field(default=None, compare=False, repr=False)


def tables_for(pack: Pack, plan: QuestionPlan, lang: str) -> Tables:
    q = plan.question
    purpose_basis = pack.vocabulary.purposes.get(q.purpose or "", {}).get("basis")
    bases = []
    for r in plan.rules:
        bid = r.basis or (purpose_basis if r.effect in (Effect.PERMIT, Effect.OVERRIDE) else None)
        bases.append(pack.vocabulary.lawful_bases.get(bid) if bid else None)
    return Tables(
        effects=tuple(EFFECT_CODE[r.effect] for r in plan.rules),
        applied=tuple(
            MappingProxyType({st: AppliedRule(rule_id=r.id, effect=r.effect, status=st, span=r.span) for st in RuleStatus})
            for r in plan.rules
        ),
        cites=tuple((r.id, r.citation) for r in plan.rules),
        basis=tuple(bases),
        heads=tuple(f"by `{r.id}`" + (f" ({b.article})" if b else "") for r, b in zip(plan.rules, bases)),
        texts=tuple((r.explain.get(lang) or r.explain.get("en") or "").strip() for r in plan.rules),
        obligations=tuple(
            tuple((o, o.text.get(lang) or o.text.get("en") or next(iter(o.text.values()), o.id)) for o in r.obligations)
            for r in plan.rules
        ),
        reads_values=tuple(reads_values(r.when, pack.vocabulary.windows) for r in plan.rules),
        consent_purposes=consent_purposes(plan),
        patterns={},
    )


_OUTCOMES = {o.value: o for o in Outcome}
_MAX_PATTERNS = 4096  # distinct rule-status patterns kept per question (the bench's records show a few hundred)

#: (outcome, decisive index, why, applied, citations, overridden ids, duties: (rule id, spec, text))
_Pattern = tuple[str, "int | None", str, tuple[AppliedRule, ...], tuple[tuple[str, Citation], ...], tuple[str, ...],
                 tuple[tuple[str, ObligationSpec, str], ...]]


def _pattern(plan: QuestionPlan, tables: Tables, statuses: tuple[Any, ...]) -> _Pattern:
    """What a Decision's explanation takes from the rule statuses alone (build_decision
    memoises it per pattern in ``tables.patterns``): the outcome, the applied rules with their
    roles, the citations, the overridden rules, and the duties the outcome brings (their due
    days read the record, so build_decision adds them). Pure."""
    effects = tables.effects
    rules = plan.rules
    outcome, idx, why = combine(effects, statuses)
    allow = outcome == ALLOW_S
    applied: list[AppliedRule] = []
    citations: list[tuple[str, Citation]] = [tables.cites[idx]] if idx is not None else []
    overridden: list[str] = []
    duties: list[tuple[str, ObligationSpec, str]] = []
    for i, s in enumerate(statuses):
        if s is None:
            applied.append(tables.applied[i][RuleStatus.UNKNOWN])
            continue
        if s is not True:
            continue
        e = effects[i]
        if i == idx:
            status = RuleStatus.DECISIVE
        elif why == "override" and e == FORBID or why == "forbid" and e == PERMIT:
            status = RuleStatus.OVERRIDDEN
            overridden.append(rules[i].id)
        else:
            status = RuleStatus.APPLIED
        applied.append(tables.applied[i][status])
        if i != idx:
            citations.append(tables.cites[i])
        on = rules[i].on_outcome
        # a permission that did not decide brings no duty; an obligation rule may name its outcomes
        if tables.obligations[i] and (allow or e != PERMIT) and (on is None or outcome in on):
            duties.extend((rules[i].id, o, text) for o, text in tables.obligations[i])
    return outcome, idx, why, tuple(applied), tuple(citations), tuple(overridden), tuple(duties)


def build_decision(*, pack: Pack, plan: QuestionPlan, tables: Tables, statuses: Sequence[Any],
                   facts: Facts, as_of: date, asof: str, keep_missing: tuple[str, ...] = (),
                   cuts: Mapping[str, str] | None = None, memo: dict[tuple[str, int], date] | None = None,
                   keep: bool | None = None, keep_problems: tuple[Diagnostic, ...] = ()) -> Decision:
    """The full, explained Decision for one evaluated question. Pure.

    ``keep``: the keep answer `keep:` conditions read (True allow, False deny, None
    undetermined); ``keep_missing``/``keep_problems``: that answer's missing facts and problems,
    named here when an unknown `keep:` condition leaves this answer undetermined.
    """
    effects = tables.effects
    rules = plan.rules
    windows = pack.vocabulary.windows
    memo_p = tables.patterns
    key = tuple(statuses)
    pattern = memo_p.get(key) if memo_p is not None else None
    if pattern is None:
        pattern = _pattern(plan, tables, key)
        if memo_p is not None:
            if len(memo_p) >= _MAX_PATTERNS:
                memo_p.clear()
            memo_p[key] = pattern
    outcome, idx, why, applied, citations, overridden, duties = pattern
    allow = outcome == ALLOW_S
    obligations: list[Obligation] = []
    late_extensions: list[str] = []
    for rule_id, o, text in duties:
        due = None
        if o.due is not None:  # an end that depends on an undated date is not known: no due day
            end = window_end_of(windows[o.due], facts, asof)
            due = end if isinstance(end, date) else None
            if windows[o.due].extension_months:
                late_extensions.extend(respond_by(windows[o.due], facts, asof)[1])
        obligations.append(Obligation(id=o.id, rule_id=rule_id, article=o.article, text=text, due_on=due))
    basis = tables.basis[idx] if allow and idx is not None else None
    keep_until = None
    if allow and plan.question.action.value == "keep":
        keep_until = keep_until_for(plan, statuses, OVERRIDE if why == "override" else PERMIT, effects, windows,
                                    facts, asof, memo)
    missing: list[str] = []
    problems: tuple[Diagnostic, ...] = ()
    if outcome == UND_S:
        day_cuts = cuts if cuts is not None else {w: iso_cutoff(as_of, win.months) for w, win in windows.items()}

        def known(p: Pred) -> bool:
            return holds(p, pack, plan.question, facts, asof, day_cuts, keep) is not None

        for i in can_change(effects, statuses):  # only facts that can change the answer are named
            missing.extend(missing_facts(rules[i].when, pack, facts, keep_missing, plan.question, known))
        if facts.undated:
            missing.extend(undated_missing(pack=pack, plan=plan, statuses=statuses, effects=effects, facts=facts,
                                           asof=asof, cuts=cuts, keep=keep))
        problems = fact_problems(pack=pack, plan=plan, tables=tables, statuses=statuses, facts=facts, asof=asof,
                                 cuts=cuts, keep=keep, keep_problems=keep_problems)
    missing_t = tuple(dict.fromkeys(missing))
    decisive = rules[idx] if idx is not None else None
    reason = _reason(outcome, why, idx, tables, keep_until, overridden, missing_t, problems, facts.undated)
    for text in dict.fromkeys(late_extensions):  # N43: say why a due day is not extended
        reason += "; " + text
    if outcome != ALLOW_S and facts.lists["consents"]:
        for text in invalid_consents(plan, pack, facts, asof, tables.consent_purposes):  # N53: say why a consent did not count
            reason += "; " + text
    if why == "no-basis":
        ended = ended_windows(pack, plan, tables, statuses, facts, asof, cuts, memo)
        if ended:
            reason += "; " + "; ".join(ended_text(*e) for e in ended)
            # deny:window-ended: the day the basis lapsed, as a field, on every question (issue 11 item 5)
            keep_until = ended_keep_until(ended)
    elif why == "forbid" and idx is not None:
        keep_until = forbid_keep_until(rules[idx].when, windows, facts, asof, memo, lambda: ended_windows(
            pack, plan, tables, statuses, facts, asof, cuts, memo, tiers=(OVERRIDE,)))
    return Decision(
        outcome=_OUTCOMES[outcome], question=plan.question, as_of=as_of, record_id=facts.id,
        pack_version=pack.version, decisive_rule=decisive.id if decisive else None,
        decisive_span=decisive.span if decisive else None,
        reason=reason,
        basis=basis, applied=applied, citations=citations, keep_until=keep_until,
        obligations=tuple(obligations), missing_facts=missing_t, problems=problems,
        recipient_source=_recipient_source(pack, plan.question),
    )


def _recipient_source(pack: Pack, q: Any) -> str | None:
    """Where a share question's recipient facts came from (issue 11 item 4): pack, register or question."""
    if q.recipient is None:
        return None
    r = pack.vocabulary.recipients.get(q.recipient)
    return None if r is None else r.source


def ended_text(rule_id: str, window: str, end: date, undated: bool = False) -> str:
    """The reason's words for one ended window (the batch's short reason uses the same): "ended
    on DAY", or "ended on or before DAY" when its anchor is an undated date."""
    return (f"`{rule_id}` no longer holds: its window `{window}` ended on {'or before ' if undated else ''}"
            f"{end.isoformat()}")


def ended_windows(pack: Pack, plan: QuestionPlan, tables: Tables, statuses: Sequence[Any], facts: Facts,
                  asof: str, cuts: Mapping[str, str] | None = None,
                  memo: dict[tuple[str, int], date] | None = None,
                  tiers: tuple[int, ...] = (PERMIT, OVERRIDE)) -> list[tuple[str, str, date, bool]]:
    """For a deny: (rule id, window id, last day, undated) for every `within` window that ended
    before as_of of a permit or override (``tiers``) that failed only because of it (every
    other condition holds). A no-basis deny asks both tiers: an override's window (statutory
    vouchers) gives a basis as a permit's does; a forbid deny asks the overrides only.

    This is what a reviewer asks first ("why not?"); it is computed with the plain predicate
    definitions, and only on this path.
    """

    out: list[tuple[str, str, date, bool]] = []
    windows = pack.vocabulary.windows
    if cuts is None:
        day = date.fromisoformat(asof)
        cuts = {w: iso_cutoff(day, windows[w].months) for w in windows}
    for i, s in enumerate(statuses):
        if s is not False or tables.effects[i] not in tiers:
            continue
        rule = plan.rules[i]
        wins = [p for p in rule.when if p.kind == "within"]
        if not wins:
            continue
        # the cheap test first (issue 12): most failed permits have no ended window, and then
        # the other conditions need not be interpreted at all; the result is the same
        ended = []
        for p in wins:
            if not_ended(windows[p.arg].anchor, facts, cuts[p.arg]):
                continue
            end = window_end_of(windows[p.arg], facts, asof, memo, undated="latest")
            if isinstance(end, date) and end.isoformat() < asof:
                ended.append((rule.id, p.arg, end,
                              bool(facts.undated) and window_end_of(windows[p.arg], facts, asof) != end))
        if not ended:
            continue
        others = [holds(p, pack, plan.question, facts, asof, cuts, None) for p in rule.when if p.kind != "within"]
        if any(o is not True for o in others if o is not None) or None in others:
            continue
        out.extend(ended)
    return out


def not_ended(anchor_path: str | None, facts: Facts, cut: str) -> bool:
    """True when a `within` window anchored on the plain date field ``anchor_path`` has surely not
    ended on as_of: no anchor (unknown or open, never "ended"), or one at or after ``cut``.
    INVARIANT: ``cut`` is the smallest anchor still inside the window on as_of (dates.cutoff,
    exact: Reg. 1182/71), so an anchor at or after it has not ended; no date maths needed. An
    undated anchor is read at its bound (its latest end). False (do the maths) for any other
    anchor: a list's, a pack-defined fact's."""
    if anchor_path is None or anchor_path not in SCALAR_PATHS:
        return False
    anchor = facts.s.get(anchor_path)
    if type(anchor) is OnOrBefore:
        anchor = anchor.day
    return anchor is None or anchor >= cut


def forbid_keep_until(when: Iterable[Pred], windows: Mapping[str, Window], facts: Facts, asof: str,
                      memo: dict[tuple[str, int], date] | None,
                      overrides: Callable[[], Iterable[tuple[Any, ...]]]) -> date | None:
    """``keep_until`` of a deny by a prohibition (issue 11 item 5): when the deciding forbid
    holds because windows ended (top-level ``expired:`` conditions), the last day of the latest
    of them (the prohibition began the day after); else the day an override that held the
    prohibition off last held (its window ended: statutory vouchers, N47/R11), from
    ``overrides`` (ended_windows of the override tier); None when neither. An end that depends
    on an undated date is not known: None (the reason text is unchanged either way)."""
    ends: list[date] = []
    for p in when:
        if p.kind == "expired":
            end = window_end_of(windows[p.arg], facts, asof, memo)
            if not isinstance(end, date):
                return None
            ends.append(end)
    if ends:
        return max(ends)
    return ended_keep_until(overrides())


def ended_keep_until(ended: Iterable[tuple[Any, ...]]) -> date | None:
    """``keep_until`` of a keep question denied because windows ended (``deny:window-ended``):
    the last day some permit still gave a basis. Per permit the **earliest** of its ended
    windows (it held only while all of them were open, as ``rule_keep_until``), and among the
    permits the **latest** (R19: kept while at least one purpose was live). None when none ended,
    or when an end is known only as "on or before" (an undated anchor): the day is not known.
    ``ended``: ended_windows' (rule id, window id, last day, undated) tuples; a 3-tuple is exact."""
    per_rule: dict[str, date] = {}
    for rid, _, end, *undated in ended:
        if undated and undated[0]:
            return None
        got = per_rule.get(rid)
        if got is None or end < got:
            per_rule[rid] = end
    return max(per_rule.values()) if per_rule else None


def _reason(outcome: str, why: str, idx: int | None, tables: Tables, keep_until: date | None,
            overridden: Sequence[str], missing: tuple[str, ...], problems: tuple[Diagnostic, ...] = (),
            undated: Mapping[str, str] | None = None) -> str:
    if why == "no-basis":
        return "no rule gives a lawful basis for this (Art. 6(1)); without one the answer is deny"
    if outcome == UND_S or idx is None:
        absent = [m for m in missing if not undated or m not in undated]
        parts = ["missing " + ", ".join(f"`{m}`" for m in absent)] if absent else []
        parts.extend(undated_phrase(m, undated[m]) for m in missing if undated and m in undated)
        if problems:  # a present value the rule cannot use: say which and why (the first; all are in problems)
            more = len(problems) - 1
            parts.append(problems[0].message + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""))
        if parts:
            return "cannot decide: " + "; ".join(parts)
        return "cannot decide: a rule that could change the answer depends on facts the record lacks"
    head = f"{outcome} {tables.heads[idx]}"
    if overridden:
        head += ", overriding " + ", ".join(f"`{o}`" for o in overridden)
    if keep_until is not None:
        head += f"; keep until {keep_until.isoformat()}"
    text = tables.texts[idx]
    return f"{head}: {text}" if text else head
