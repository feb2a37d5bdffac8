"""Semantic lint: findings about a valid pack that a reviewer should look at (codes PR5xx).

Each check is a generator of Diagnostics (STYLE 6); ``iter_lint_problems`` chains them. Lint
never changes what a pack decides. Severity says how much it matters; `check --strict`
makes warnings fail. Codes are stable and documented in docs/codes.md.

"Conflict" has a precise meaning here. Combining is override > forbid > permit
(docs/rule-language.md section 3), so a permit and a forbid about the same situation are
never left unresolved: the forbid wins. What a reviewer needs to know is when that
resolution makes a rule dead text, a sentence of the policy that can never decide anything:

* PR501: a permit that can never decide, because for every question it can hold for, a
  forbid targets that question too and holds whenever the permit holds (shadowed);
* PR502: a rule with the same effect, targets and conditions as an earlier one (duplicate);
* PR503: a rule that targets no question the vocabulary allows, or whose conditions are
  false for every question it targets whatever the record says (unreachable).

Targets are compared as the finite sets of questions the vocabulary allows (every scope;
every purpose x channel; every recipient x purpose), so `recipient_kinds: [processor]` and a
list of every processor are the same targets. Conditions are compared as written (top
level, ANDed), with a few sound entailments (`subject: a` entails `subject: [a, b]`) and the
predicates whose value the question alone fixes (`recipient_serves`, `recipient_listed`,
`channel_electronic`, `processor_dpa` of a recipient without a DPA, `transfer` of an EEA
recipient). The checks are sound but not complete: a finding is always real, while a
shadowing that needs reasoning about dates is not found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from ..declared import fact_reads
from ..load import LoadedYaml
from ..model import Action, Diagnostic, Effect, Pack, Pred, Question, Recipient, Rule, Severity
from ..targets import targets
from .semantic import value_key

# Predicates whose value the question alone can fix (see _const).
_QUESTION_KINDS = frozenset({"recipient_serves", "recipient_listed", "channel_electronic", "processor_dpa",
                             "transfer"})
_CONSENT_ARTICLE = re.compile(r"6\s*\(\s*1\s*\)\s*\(\s*a\s*\)")


# --- the questions a pack can be asked, and which of them each rule is about ----------------


def _all_questions(pack: Pack, action: Action) -> tuple[Question, ...]:
    v = pack.vocabulary
    if action is Action.KEEP:
        return tuple(Question.keep(s) for s in v.scopes)
    if action is Action.CONTACT:
        return tuple(Question.contact(p, c) for p in v.purposes for c in v.channels)
    return tuple(Question.share(r, p) for r in v.recipients for p in v.purposes)


def _const(p: Pred, q: Question | None, pack: Pack) -> bool | None:
    """The predicate's value when the question alone fixes it, whatever the record; None otherwise."""
    k = p.kind
    if k == "all":
        return _and(_const(c, q, pack) for c in p.children)
    if k == "any":
        values = [_const(c, q, pack) for c in p.children]
        return True if True in values else (False if all(x is False for x in values) else None)
    if k == "not":
        inner = _const(p.children[0], q, pack)
        return None if inner is None else not inner
    if q is None or k not in _QUESTION_KINDS:
        return None
    v = pack.vocabulary
    if q.action is Action.CONTACT and k == "channel_electronic":
        channel = v.channels.get(q.channel or "")
        return None if channel is None else bool(channel.get("electronic")) == bool(p.arg)
    r = v.recipients.get(q.recipient or "") if q.action is Action.SHARE else None
    if r is None:
        return None
    if k == "recipient_serves":
        return q.purpose in r.purposes
    if k == "recipient_listed":
        return r.listed_in_policy == bool(p.arg)
    if k == "processor_dpa":
        return False if r.dpa_signed_on is None else None  # in force depends on as_of
    if k == "transfer":
        if r.eea:
            return True
        return False if not r.transfers else None
    return None


def _and(values: Iterable[bool | None]) -> bool | None:
    out: bool | None = True
    for x in values:
        if x is False:
            return False
        if x is None:
            out = None
    return out


def _holds_for(rule: Rule, q: Question, pack: Pack) -> bool | None:
    return _and(_const(p, q, pack) for p in rule.when)


@dataclass(frozen=True, slots=True)
class _Index:
    """What the pairwise checks (PR501, PR530) look up instead of comparing every pair of rules.

    ``targeted``/``live``: per rule (by pack order), the questions it targets and those it can
    hold for. ``forbids``: the forbid rules in pack order; the masks below are bit sets over
    it (bit ``j`` = ``forbids[j]``), built once, so one AND narrows 2,500 forbids to the few
    that can matter. ``forbid_targets``: question -> the forbids that target it.
    ``required``: normal form of a condition -> the forbids that have it at the top level and
    need it implied by the other rule's conditions (see _required). ``guard_any``,
    ``guard_question``, ``guard_consent``: forbids with a top-level ``not: {consent...}``
    (any, ``consent_for_question``, ``consent: PURPOSE``; see _denies_without_consent).
    """

    targeted: tuple[tuple[Question, ...], ...]
    live: tuple[tuple[Question, ...], ...]
    forbids: tuple[Rule, ...]
    forbid_targets: Mapping[Question, int]
    required: Mapping[Any, int]
    guard_any: int
    guard_question: int
    guard_consent: Mapping[Any, int]


def _index(pack: Pack) -> _Index:
    questions = {a: _all_questions(pack, a) for a in Action}
    targeted: list[tuple[Question, ...]] = []
    live: list[tuple[Question, ...]] = []
    by_targets: dict[Any, tuple[Question, ...]] = {}  # rules with the same targets target the same questions
    for r in pack.rules:
        key = (r.question, r.scopes, r.purposes, r.channels, r.recipients, r.recipient_kinds)
        qs = by_targets.get(key)
        if qs is None:
            qs = by_targets[key] = tuple(q for q in questions[r.question] if targets(r, q, pack))
        targeted.append(qs)
        # _holds_for is never False without a predicate the question can fix: skip the loop
        if any(p.kind in _QUESTION_KINDS for p in _walk(r.when)):
            live.append(tuple(q for q in qs if _holds_for(r, q, pack) is not False))
        else:
            live.append(qs)
    forbids: list[Rule] = []
    forbid_targets: dict[Question, int] = {}
    required: dict[Any, int] = {}
    guard_any = guard_question = 0
    guard_consent: dict[Any, int] = {}
    for i, r in enumerate(pack.rules):
        if r.effect is not Effect.FORBID:
            continue
        bit = 1 << len(forbids)
        forbids.append(r)
        for q in targeted[i]:
            forbid_targets[q] = forbid_targets.get(q, 0) | bit
        for key in _required(r):
            required[key] = required.get(key, 0) | bit
        for c in r.when:
            if c.kind == "not" and c.children[0].kind in ("consent", "consent_for_question"):
                inner = c.children[0]
                guard_any |= bit
                if inner.kind == "consent_for_question":
                    guard_question |= bit
                else:
                    arg = _hashable(inner.arg)
                    guard_consent[arg] = guard_consent.get(arg, 0) | bit
    return _Index(targeted=tuple(targeted), live=tuple(live), forbids=tuple(forbids),
                  forbid_targets=MappingProxyType(forbid_targets), required=MappingProxyType(required),
                  guard_any=guard_any, guard_question=guard_question, guard_consent=MappingProxyType(guard_consent))


def _index_plain(pack: Pack) -> _Index:
    """_Index by the plain definition (every rule against every question), without the bit sets:
    what the plain checks use, so that tests compare _index's shortcuts too."""
    questions = {a: _all_questions(pack, a) for a in Action}
    targeted, live = [], []
    for r in pack.rules:
        qs = tuple(q for q in questions[r.question] if targets(r, q, pack))
        targeted.append(qs)
        live.append(tuple(q for q in qs if _holds_for(r, q, pack) is not False))
    empty: Mapping[Any, int] = MappingProxyType({})
    return _Index(targeted=tuple(targeted), live=tuple(live), forbids=(), forbid_targets=empty, required=empty,
                  guard_any=0, guard_question=0, guard_consent=empty)


def _required(f: Rule) -> frozenset[Any]:
    """Normal forms of ``f``'s top-level conditions that another rule must state for ``f`` to follow from it.

    A leaf condition (not all/any/not) that the question cannot fix and that is not `subject`
    is implied by conditions ``given`` (``_implied``, for any question) only when a condition
    of ``given``, or an operand of a nested `all`, has the same normal form: ``_const`` gives
    None for it and ``_entails`` has no other case for such a leaf. So a forbid with such a
    condition the permit does not state can neither cover it (PR501: the condition would be
    pending and not question-only) nor deny it when consent is missing (PR530).
    """
    return frozenset(_norm(c) for c in f.when
                     if c.kind not in ("all", "any", "not", "subject") and c.kind not in _QUESTION_KINDS)


def _not_excluded(index: _Index, rule: Rule) -> int:
    """The forbids whose _required normal forms ``rule`` all states (as a bit set over index.forbids)."""
    stated = {_norm(g) for g in _positive(rule.when)}
    mask = -1
    for key, forbids in index.required.items():
        if key not in stated:
            mask &= ~forbids
    return mask


def _bits(index: _Index, mask: int) -> Iterator[Rule]:
    """The forbids in bit set ``mask``, in pack order."""
    while mask:
        low = mask & -mask
        yield index.forbids[low.bit_length() - 1]
        mask ^= low


# --- conditions: normal form and entailment ----------------------------------------------


def _subjects(p: Pred) -> frozenset[str]:
    return frozenset([p.arg] if isinstance(p.arg, str) else p.arg)


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _norm(p: Pred) -> Any:
    """A hashable normal form: `subject: a` = `subject: [a]`, operand order of all/any ignored,
    values compared by kind (semantic.value_key)."""
    if p.kind in ("all", "any"):
        return (p.kind, frozenset(_norm(c) for c in p.children))
    if p.kind == "not":
        return ("not", _norm(p.children[0]))
    if p.kind == "subject":
        return ("subject", _subjects(p))
    if p.kind == "fact":
        value = p.arg["value"]
        # by kind, as the runtime compares: `equals: 1` and `equals: true` are different conditions
        vkey = tuple(value_key(x) for x in value) if isinstance(value, (tuple, list)) else value_key(value)
        return ("fact", p.arg["path"], p.arg["op"], vkey)
    return (p.kind, value_key(p.arg) if not isinstance(p.arg, (tuple, list)) else
            tuple(value_key(x) for x in p.arg))


def _entails(a: Pred, b: Pred) -> bool:
    """True when ``a`` being true makes ``b`` true, for every record and question."""
    if _norm(a) == _norm(b):
        return True
    if a.kind == "all":
        return any(_entails(c, b) for c in a.children)
    if b.kind == "any":
        return any(_entails(a, c) for c in b.children)
    if a.kind == "subject" and b.kind == "subject":
        return _subjects(a) <= _subjects(b)
    if b.kind == "not":
        inner = b.children[0]
        if a.kind == "not" and a.children[0].kind == inner.kind == "subject":
            return _subjects(inner) <= _subjects(a.children[0])
        # within W true means as_of <= end, so expired W is false (and the other way round)
        if {a.kind, inner.kind} == {"within", "expired"} and a.arg == inner.arg:
            return True
    return False


def _implied(c: Pred, given: Sequence[Pred], q: Question | None, pack: Pack) -> bool:
    """True when condition ``c`` holds whenever every condition in ``given`` holds (for question ``q``)."""
    if _const(c, q, pack) is True or any(_entails(g, c) for g in given):
        return True
    if c.kind == "all":
        return all(_implied(x, given, q, pack) for x in c.children)
    if c.kind == "any":
        return any(_implied(x, given, q, pack) for x in c.children)
    return False


def _question_only(p: Pred) -> bool:
    """True when only the question (never the record) decides ``p``."""
    if p.kind in ("all", "any", "not"):
        return all(_question_only(c) for c in p.children)
    return p.kind in _QUESTION_KINDS


def _covers(f: Rule, p: Rule, questions: Sequence[Question], pack: Pack,
            implied: Callable[[Pred], bool] | None = None) -> bool:
    """True when rule ``f`` targets every one of ``questions`` and holds whenever ``p`` holds on it.

    ``implied(c)``, when given, must equal ``_implied(c, p.when, None, pack)`` (a memo of it).
    """
    if not questions:
        return False
    if implied is None:
        pending = [c for c in f.when if not _implied(c, p.when, None, pack)]
    else:
        pending = [c for c in f.when if not implied(c)]
    if not all(_question_only(c) for c in pending):
        return False
    return all(targets(f, q, pack) and all(_implied(c, p.when, q, pack) for c in pending) for q in questions)


def _show(p: Pred) -> str:
    if p.kind in ("all", "any"):
        return f"{p.kind}: [...]"
    if p.kind == "not":
        return "not: {" + _show(p.children[0]) + "}"
    if p.kind == "subject" and not isinstance(p.arg, str):
        return f"subject: [{', '.join(p.arg)}]"
    if p.kind == "fact":
        return f"fact: {p.arg['path']} {p.arg['op']} ..."
    arg = p.arg
    if isinstance(arg, bool):
        arg = "true" if arg else "false"
    return f"{p.kind}: {arg}"


def _rule_diag(rule: Rule, code: str, severity: Severity, message: str, help: str) -> Diagnostic:
    return Diagnostic(code=code, severity=severity, message=message, span=rule.span, rule_id=rule.id, help=help)


# --- PR50x: rules that can never decide -------------------------------------------------


def _shadow_diag(p: Rule, f: Rule) -> Diagnostic:
    return _rule_diag(
        p, "PR501", Severity.WARNING,
        f"permit can never decide: forbid `{f.id}` targets every question it is about "
        f"and holds whenever it holds",
        f"forbid beats permit (docs/rule-language.md, section 3); narrow `{f.id}` (at {f.span}) "
        "with a condition this permit excludes, or remove the permit")


def check_shadowed_permits(pack: Pack, index: _Index) -> Iterator[Diagnostic]:
    """PR501: a permit that never decides because a forbid holds whenever it holds (forbid beats permit).

    Names the first such forbid in pack order, as check_shadowed_permits_plain does (tests
    compare the two); only forbids that target every question the permit can hold for and
    whose _required conditions the permit states are tried.
    """
    for i, p in enumerate(pack.rules):
        live = index.live[i]
        if p.effect is not Effect.PERMIT or not live:
            continue
        mask = -1
        for q in live:
            mask &= index.forbid_targets.get(q, 0)
            if not mask:
                break
        if mask:
            mask &= _not_excluded(index, p)
        if not mask:
            continue
        # _implied(c, p.when, None) depends on c only through _norm(c) (every case of _const,
        # _entails and _implied reads c's normal form), and forbids share conditions: memo by it
        memo: dict[Any, bool] = {}

        def implied(c: Pred, p: Rule = p, memo: dict[Any, bool] = memo) -> bool:
            key = _norm(c)
            known = memo.get(key)
            if known is None:
                known = memo[key] = _implied(c, p.when, None, pack)
            return known
        for f in _bits(index, mask):
            if _covers(f, p, live, pack, implied):
                yield _shadow_diag(p, f)
                break


def check_shadowed_permits_plain(pack: Pack, index: _Index) -> Iterator[Diagnostic]:
    """PR501, the plain definition: every permit against every forbid (quadratic; for tests and benchmarks)."""
    forbids = [r for r in pack.rules if r.effect is Effect.FORBID]
    for i, p in enumerate(pack.rules):
        live = index.live[i]
        if p.effect is not Effect.PERMIT or not live:
            continue
        for f in forbids:
            if f.question is p.question and _covers(f, p, live, pack):
                yield _shadow_diag(p, f)
                break


def check_duplicate_rules(pack: Pack, index: _Index) -> Iterator[Diagnostic]:
    """PR502: a rule with the same effect, targets and conditions as an earlier one."""
    seen: dict[Any, Rule] = {}
    for i, r in enumerate(pack.rules):
        if not index.targeted[i]:
            continue  # PR503 says more
        key: Any = (r.question, r.effect, frozenset(index.targeted[i]), frozenset(_norm(p) for p in r.when))
        if r.effect is Effect.OBLIGATION:
            key += (frozenset(o.id for o in r.obligations),)
        first = seen.get(key)
        if first is None:
            seen[key] = r
            continue
        what = ("adds the same obligations again" if r.effect is Effect.OBLIGATION
                else "it never decides: the first in pack order does")
        yield _rule_diag(
            r, "PR502", Severity.WARNING,
            f"duplicate of rule `{first.id}`: same effect, targets and conditions; {what}",
            f"remove one of the two (the first is at {first.span}), or make their targets or conditions differ")


def _empty_reason(r: Rule, pack: Pack) -> str:
    v = pack.vocabulary
    if r.question is Action.KEEP:
        return "the vocabulary defines no scopes" if not v.scopes else "none of its scopes is in the vocabulary"
    if not v.purposes or (r.purposes is not None and not set(r.purposes) & set(v.purposes)):
        return "none of its purposes is in the vocabulary" if v.purposes else "the vocabulary defines no purposes"
    if r.question is Action.CONTACT:
        return "none of its channels is in the vocabulary" if v.channels else "the vocabulary defines no channels"
    if not v.recipients:
        return "the vocabulary defines no recipients"
    kinds = ", ".join(f"`{k}`" for k in r.recipient_kinds or ())
    if r.recipients is not None and r.recipient_kinds is not None:
        names = ", ".join(f"`{x}`" for x in r.recipients)
        return f"none of its recipients ({names}) is of kind {kinds}"
    if r.recipient_kinds is not None:
        return f"no recipient in the vocabulary is of kind {kinds}"
    return "none of its recipients is in the vocabulary"


def check_unreachable_rules(pack: Pack, index: _Index) -> Iterator[Diagnostic]:
    """PR503: a rule about no question the vocabulary allows, or false for every question it is about."""
    for i, r in enumerate(pack.rules):
        if not index.targeted[i]:
            yield _rule_diag(
                r, "PR503", Severity.WARNING,
                f"targets no question the vocabulary allows: {_empty_reason(r, pack)}",
                "fix the rule's targets (`scopes`, `purposes`, `channels`, `recipients`, `recipient_kinds`), "
                "add the missing entry to the vocabulary, or remove the rule")
        elif not index.live[i]:
            q = index.targeted[i][0]
            cond = next(p for p in r.when if _const(p, q, pack) is False)
            yield _rule_diag(
                r, "PR503", Severity.WARNING,
                f"can never hold: on every question it targets, a condition is false whatever the record "
                f"says (e.g. `{_show(cond)}` on `{q}`)",
                "check the rule's targets against the vocabulary (a recipient's `purposes`, `dpa`, `eea`, "
                "`transfers`; a channel's `electronic`), or remove the rule")


# --- PR510: vocabulary nothing uses -------------------------------------------------------


def _walk(preds: Iterable[Pred]) -> Iterator[Pred]:
    for p in preds:
        yield p
        yield from _walk(p.children)


def check_unused_vocabulary(pack: Pack, head: LoadedYaml, index: _Index) -> Iterator[Diagnostic]:
    """PR510: vocabulary entries that no rule, standard question or other vocabulary entry uses.

    Sections: lawful bases, subject categories, scopes, purposes, channels, recipients,
    windows and transfer mechanisms (not data categories: see below).
    """
    v = pack.vocabulary
    preds = [p for r in pack.rules for p in _walk(r.when)]
    standard = [_parse_question(t) for t in pack.meta.get("questions") or ()]
    targeted = [q for qs in index.targeted for q in qs] + [q for q in standard if q is not None]
    used: dict[str, set[str]] = {
        "lawful_bases": {r.basis for r in pack.rules if r.basis} | {str(p.get("basis")) for p in v.purposes.values()},
        "subject_categories": {s for p in preds if p.kind == "subject" for s in _subjects(p)},
        "scopes": {pack.default_scope} | {q.scope for q in targeted if q.scope},
        "purposes": {q.purpose for q in targeted if q.purpose}
        | {p.arg for p in preds if p.kind in ("consent", "consent_withdrawn")}
        | {x for rec in v.recipients.values() for x in rec.purposes},
        "channels": {q.channel for q in targeted if q.channel},
        "recipients": {q.recipient for q in targeted if q.recipient},
        "windows": {p.arg for p in preds if p.kind in ("within", "expired")}
        | {o.due for r in pack.rules for o in r.obligations if o.due},
        "transfer_mechanisms": {t.mechanism for rec in v.recipients.values() for t in rec.transfers},
    }
    # section -> (what it is, why it counts as unused, how it would be used)
    why = {
        "lawful_bases": ("lawful basis", "no rule or purpose names it", "name it as a rule's or a purpose's `basis`"),
        "subject_categories": ("subject category", "no `subject` condition names it",
                               "name it in a `subject` condition"),
        "scopes": ("scope", "no keep rule targets it and it is not the default scope",
                   "target it with a keep rule's `scopes`"),
        "purposes": ("purpose", "no rule targets it or checks consent for it, and no recipient serves it",
                     "target it with a contact or share rule's `purposes`"),
        "channels": ("channel", "no contact rule targets it, so every contact over it is denied (no lawful basis)",
                     "target it with a contact rule"),
        "recipients": ("recipient", "no share rule targets it, so every share with it is denied (no lawful basis)",
                       "target it with a share rule's `recipients` or `recipient_kinds`"),
        "windows": ("window", "no `within`, `expired` or obligation `due` names it",
                    "name it in a `within` or `expired` condition or an obligation's `due`"),
        "transfer_mechanisms": ("transfer mechanism", "no recipient's `transfers` name it",
                                "name it in a recipient's `transfers`"),
    }
    # data_categories are left out: they list what a record may hold (N9's closed list), so an
    # entry no rule names still describes the records; it is not dead vocabulary.
    for section, (what, reason, use) in why.items():
        for entry in getattr(v, section):
            if entry not in used[section]:
                yield Diagnostic(
                    code="PR510", severity=Severity.INFO, span=head.span_for(("vocabulary", section, entry)),
                    message=f"unused {what} `{entry}`: {reason}",
                    help=f"{use}, or remove it from vocabulary.{section} if the policy does not need it")


def check_unused_facts(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR511: a fact vocabulary.facts declares that no rule or window reads.

    Records may carry it (it is declared), but it changes no answer: often a rule that was
    never written, or data that belongs under the record's `host`.
    """
    declared = pack.vocabulary.facts
    if not declared:
        return
    read = {r.name for r in fact_reads(pack)}
    for name in declared:
        if name not in read:
            yield Diagnostic(
                code="PR511", severity=Severity.WARNING, span=head.span_for(("vocabulary", "facts", name)),
                message=f"declared fact `{name}` is read by no rule or window, so it changes no answer",
                help=f"write the rule that reads `facts.{name}`, or remove it from vocabulary.facts and let hosts "
                     "carry the data under the record's `host`")


def _parse_question(text: str) -> Question | None:
    try:
        return Question.parse(text)
    except ValueError:
        return None


# --- PR52x: processors, DPAs and transfers ---------------------------------------------


def _recipient_span(head: LoadedYaml, r: Recipient, *rest: str | int) -> Any:
    return head.span_for(("vocabulary", "recipients", r.id, *rest))


def check_processor_dpa(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR520: a processor without a data processing agreement (Art. 28(3))."""
    for r in pack.vocabulary.recipients.values():
        if r.kind == "processor" and r.dpa_signed_on is None:
            yield Diagnostic(
                code="PR520", severity=Severity.WARNING, span=_recipient_span(head, r),
                message=f"processor `{r.id}` has no data processing agreement (`dpa.signed_on` is absent)",
                help="sign a DPA (Art. 28(3)) and record it as `dpa: {signed_on: YYYY-MM-DD}`; until then no "
                     "data may go to it, so keep a forbid such as `not: {processor_dpa: in_force}`")


# Recital 32, CJEU C-673/17 Planet49: these are never consent, whatever a pack says
_NEVER_CONSENT = ("pre_ticked_box", "silence", "inactivity")


def check_consent_mechanisms(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR570: vocabulary.consent_mechanisms lets a mechanism count that the law says is no consent."""
    for i, m in enumerate(pack.vocabulary.consent_mechanisms or ()):
        if m.mechanism in _NEVER_CONSENT:
            yield Diagnostic(
                code="PR570", severity=Severity.WARNING,
                span=head.span_for(("vocabulary", "consent_mechanisms", i, "mechanism")),
                message=f"`{m.mechanism}` is listed as a mechanism that counts as consent",
                help="silence, pre-ticked boxes and inactivity are no consent (Art. 4(11), Recital 32, CJEU C-673/17 "
                     "Planet49); remove the entry, so such consents count as none")


def check_transfer_mechanism(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR521: a recipient outside the EEA that names no transfer mechanism (Art. 44)."""
    for r in pack.vocabulary.recipients.values():
        if not r.eea and not r.transfers:
            where = f" (`{r.country}`)" if r.country else ""
            yield Diagnostic(
                code="PR521", severity=Severity.WARNING, span=_recipient_span(head, r),
                message=f"recipient `{r.id}` is outside the EEA{where} and names no transfer mechanism",
                help="list under `transfers` what the transfer rests on (adequacy, Art. 45; SCCs, Art. 46(2)(c)) "
                     "and from when, or set `eea: true` if the recipient is in the EEA")


def check_transfer_periods(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR522: a transfer whose period is empty or never overlaps its mechanism's validity."""
    v = pack.vocabulary
    for r in v.recipients.values():
        for i, t in enumerate(r.transfers):
            m = v.transfer_mechanisms.get(t.mechanism)
            start, end = _s(t.from_on), _s(t.until_on)
            span = _recipient_span(head, r, "transfers", i)
            if start and end and end < start:
                yield Diagnostic(
                    code="PR522", severity=Severity.WARNING, span=span,
                    message=f"recipient `{r.id}`: the transfer under `{t.mechanism}` ends ({end}) before it starts ({start})",
                    help="fix the transfer's `from` and `until` dates")
                continue
            if m is None:
                continue  # PR202
            vf, vu = _s(m.valid_from), _s(m.valid_until)
            if (start and vu and vu < start) or (end and vf and end < vf):
                validity = " ".join(x for x in (f"from {vf}" if vf else "", f"until {vu}" if vu else "") if x)
                period = " ".join(x for x in (f"from {start}" if start else "", f"until {end}" if end else "") if x)
                yield Diagnostic(
                    code="PR522", severity=Severity.WARNING, span=span,
                    message=f"recipient `{r.id}`: the transfer under `{t.mechanism}` ({period or 'always'}) never "
                            f"falls within the mechanism's validity ({validity})",
                    help="fix the transfer's dates, or name the mechanism it really rested on in that period; "
                         "as written it never makes a transfer lawful")


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


def check_dpa_in_force(pack: Pack, head: LoadedYaml, as_of: date | None) -> Iterator[Diagnostic]:
    """PR523: as of ``as_of``, a processor's recorded DPA is not (yet or any longer) in force."""
    if as_of is None:
        return
    day = as_of.isoformat()
    for r in pack.vocabulary.recipients.values():
        if r.kind != "processor" or r.dpa_signed_on is None:
            continue
        if str(r.dpa_signed_on) > day:
            state = f"takes effect only on {r.dpa_signed_on}"
        elif r.dpa_ends_on is not None and str(r.dpa_ends_on) < day:
            state = f"ended on {r.dpa_ends_on}"
        else:
            continue
        yield Diagnostic(
            code="PR523", severity=Severity.WARNING, span=_recipient_span(head, r, "dpa"),
            message=f"processor `{r.id}`: its data processing agreement {state}; as of {day} it is not in force",
            help="record the current DPA under `dpa`, or stop using the processor")


def check_transfer_lawful(pack: Pack, head: LoadedYaml, as_of: date | None) -> Iterator[Diagnostic]:
    """PR524: as of ``as_of``, no transfer a recipient outside the EEA lists is lawful."""
    if as_of is None:
        return
    day = as_of.isoformat()
    v = pack.vocabulary
    for r in v.recipients.values():
        if r.eea or not r.transfers:
            continue  # PR521 covers a recipient with no transfers
        lawful = False
        for t in r.transfers:
            m = v.transfer_mechanisms.get(t.mechanism)
            if m is None:
                lawful = True  # PR202 already; do not guess
                break
            bounds = (_s(t.from_on), _s(t.until_on), _s(m.valid_from), _s(m.valid_until))
            if (bounds[0] is None or bounds[0] <= day) and (bounds[1] is None or day <= bounds[1]) and \
                    (bounds[2] is None or bounds[2] <= day) and (bounds[3] is None or day <= bounds[3]):
                lawful = True
                break
        if not lawful:
            names = ", ".join(f"`{t.mechanism}`" for t in r.transfers)
            yield Diagnostic(
                code="PR524", severity=Severity.WARNING, span=_recipient_span(head, r, "transfers"),
                message=f"recipient `{r.id}` is outside the EEA and none of its transfers ({names}) is lawful "
                        f"as of {day}",
                help="record the mechanism the transfer rests on now (e.g. SCCs, Art. 46(2)(c)) under `transfers`, "
                     "or stop the transfer; `transfer: lawful` is false for it meanwhile")


# --- PR530: consent as a basis that is never checked -------------------------------------


def _is_consent(pack: Pack, basis_id: str | None) -> bool:
    b = pack.vocabulary.lawful_bases.get(basis_id or "")
    if b is None:
        return False
    return b.id == "consent" or b.dpv == "eu-gdpr:A6-1-a" or bool(_CONSENT_ARTICLE.search(b.article))


def _positive(preds: Iterable[Pred]) -> Iterator[Pred]:
    """Conditions that must be true for the rule to hold: the top level and nested `all`."""
    for p in preds:
        yield p
        if p.kind == "all":
            yield from _positive(p.children)


def _checks_consent(rule: Rule, q: Question) -> bool:
    for p in _positive(rule.when):
        if p.kind == "consent_for_question" and p.arg in (True, "since_restriction") and q.action is not Action.KEEP:
            return True
        if p.kind == "consent" and (q.action is Action.KEEP or p.arg == q.purpose):
            return True
    return False


def _denies_without_consent(f: Rule, rule: Rule, q: Question, pack: Pack) -> bool:
    """True when forbid ``f`` targets ``q`` and holds whenever ``rule`` holds and consent is missing."""
    if not targets(f, q, pack):
        return False
    guard = None
    for c in f.when:
        if c.kind == "not" and c.children[0].kind in ("consent", "consent_for_question"):
            inner = c.children[0]
            if inner.kind == "consent_for_question" or q.action is Action.KEEP or inner.arg == q.purpose:
                guard = c
                continue
        if not _implied(c, rule.when, q, pack):
            return False
    return guard is not None


def _consent_diag(r: Rule, unchecked: Sequence[str]) -> Diagnostic:
    what = ", ".join(f"`{x}`" for x in unchecked)
    example = f"consent: {unchecked[0]}" if r.question is not Action.KEEP else "consent: PURPOSE"
    return _rule_diag(
        r, "PR530", Severity.WARNING,
        f"permit rests on consent for {what} but never checks that a consent is given",
        f"add `{example}` (or `consent_for_question: true`) to `when`, or name the basis the rule "
        f"really rests on; consent is only a basis where it was given (Art. 6(1)(a), 7(1))")


def check_consent_basis(pack: Pack, index: _Index) -> Iterator[Diagnostic]:
    """PR530: a permit resting on consent (Art. 6(1)(a)) that can allow without a consent being checked.

    Same findings as check_consent_basis_plain (tests compare the two); only forbids that
    target the question, have a consent guard that fits it and whose _required conditions the
    permit states are tried (any other forbid makes _denies_without_consent false).
    """
    consent_basis: dict[str | None, bool] = {}
    for i, r in enumerate(pack.rules):
        if r.effect is not Effect.PERMIT:
            continue
        unchecked: list[str] = []
        stated = -1 if not index.live[i] else _not_excluded(index, r)
        for q in index.live[i]:
            basis = r.basis
            if basis is None and q.purpose is not None:
                basis = pack.vocabulary.purposes.get(q.purpose, {}).get("basis")
            is_consent = consent_basis.get(basis)
            if is_consent is None:
                is_consent = consent_basis[basis] = _is_consent(pack, basis)
            if not is_consent or _checks_consent(r, q):
                continue
            guards = index.guard_any if q.action is Action.KEEP else \
                index.guard_question | index.guard_consent.get(q.purpose, 0)
            mask = index.forbid_targets.get(q, 0) & guards & stated
            if any(_denies_without_consent(f, r, q, pack) for f in _bits(index, mask)):
                continue
            label = q.purpose or q.scope or str(q)
            if label not in unchecked:
                unchecked.append(label)
        if unchecked:
            yield _consent_diag(r, unchecked)


def check_consent_basis_plain(pack: Pack, index: _Index) -> Iterator[Diagnostic]:
    """PR530, the plain definition: every permit's questions against every forbid (for tests and benchmarks)."""
    forbids = [r for r in pack.rules if r.effect is Effect.FORBID]
    for i, r in enumerate(pack.rules):
        if r.effect is not Effect.PERMIT:
            continue
        unchecked: list[str] = []
        for q in index.live[i]:
            basis = r.basis
            if basis is None and q.purpose is not None:
                basis = pack.vocabulary.purposes.get(q.purpose, {}).get("basis")
            if not _is_consent(pack, basis) or _checks_consent(r, q):
                continue
            if any(_denies_without_consent(f, r, q, pack) for f in forbids):
                continue
            label = q.purpose or q.scope or str(q)
            if label not in unchecked:
                unchecked.append(label)
        if unchecked:
            yield _consent_diag(r, unchecked)


# --- PR56x: the pack's review ---------------------------------------------------------


def check_review_overdue(pack: Pack, head: LoadedYaml, as_of: date | None) -> Iterator[Diagnostic]:
    """PR560: the pack's next legal review (e.g. the LI balancing test, Art. 24(1)) is overdue."""
    review = pack.meta.get("review") or {}
    nxt = review.get("next_review")
    if as_of is None or not nxt:
        return
    if date.fromisoformat(nxt) < as_of:
        yield Diagnostic(
            code="PR560", severity=Severity.WARNING, span=head.span_for(("pack", "review", "next_review")),
            message=f"the pack's review was due on {nxt} and is overdue as of {as_of.isoformat()}",
            help="review the pack against the policy and the law (e.g. redo the legitimate-interest "
                 "balancing test), then update `review.reviewed_on` and `review.next_review`",
        )


def check_review_dates(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR561: the next review is not after the last one; PR562: no next review is planned."""
    review = pack.meta.get("review") or {}
    done, nxt = review.get("reviewed_on"), review.get("next_review")
    if done and nxt and str(nxt) <= str(done):
        yield Diagnostic(
            code="PR561", severity=Severity.WARNING, span=head.span_for(("pack", "review", "next_review")),
            message=f"the next review ({nxt}) is not after the last one ({done})",
            help="set `review.next_review` to a day after `review.reviewed_on` (e.g. a year later)")
    if not nxt:
        where = ("pack", "review") if review else ("pack",)
        yield Diagnostic(
            code="PR562", severity=Severity.INFO, span=head.span_for(where),
            message="the pack plans no next review (`review.next_review` is absent)",
            help="record `review: {reviewer: ..., reviewed_on: YYYY-MM-DD, next_review: YYYY-MM-DD}` so that "
                 "`check --as-of` can warn when the review is overdue (Art. 24(1): measures are reviewed)")


def iter_lint_problems(pack: Pack, head: LoadedYaml, as_of: date | None = None) -> Iterator[Diagnostic]:
    """Every lint finding for ``pack``; ``as_of`` enables date-dependent checks (PR523, PR524, PR560).

    Meant for a pack without semantic errors (read_pack runs lint only then): on one with
    unknown ids the findings would repeat the PR2xx errors in other words. Pure; the same
    findings in the same order as iter_lint_problems_plain, without comparing every pair of
    rules (a 5,000-rule pack takes well under a second).
    """
    return _iter_lint(pack, head, as_of, _index, check_shadowed_permits, check_consent_basis)


def iter_lint_problems_plain(pack: Pack, head: LoadedYaml, as_of: date | None = None) -> Iterator[Diagnostic]:
    """iter_lint_problems by the plain definitions (_index_plain, and PR501 and PR530 pairwise): the reference
    the indexed checks are tested against (tests/property/test_lint_fast_equals_plain.py) and
    timed against (benchmarks/bench_check.py). Quadratic in the number of rules."""
    return _iter_lint(pack, head, as_of, _index_plain, check_shadowed_permits_plain, check_consent_basis_plain)


def _iter_lint(pack: Pack, head: LoadedYaml, as_of: date | None, make_index: Callable[[Pack], _Index],
               shadowed: Callable[[Pack, _Index], Iterator[Diagnostic]],
               consent: Callable[[Pack, _Index], Iterator[Diagnostic]]) -> Iterator[Diagnostic]:
    index = make_index(pack)
    yield from shadowed(pack, index)
    yield from check_duplicate_rules(pack, index)
    yield from check_unreachable_rules(pack, index)
    yield from check_unused_vocabulary(pack, head, index)
    yield from check_unused_facts(pack, head)
    yield from check_processor_dpa(pack, head)
    yield from check_transfer_mechanism(pack, head)
    yield from check_consent_mechanisms(pack, head)
    yield from check_transfer_periods(pack, head)
    yield from check_dpa_in_force(pack, head, as_of)
    yield from check_transfer_lawful(pack, head, as_of)
    yield from consent(pack, index)
    yield from check_review_overdue(pack, head, as_of)
    yield from check_review_dates(pack, head)


# Every code this module emits, with its severity; docs/codes.md documents each (a test checks).
CODES: Mapping[str, Severity] = MappingProxyType({
    "PR501": Severity.WARNING, "PR502": Severity.WARNING, "PR503": Severity.WARNING, "PR570": Severity.WARNING,
    "PR510": Severity.INFO, "PR511": Severity.WARNING,
    "PR520": Severity.WARNING, "PR521": Severity.WARNING, "PR522": Severity.WARNING,
    "PR523": Severity.WARNING, "PR524": Severity.WARNING,
    "PR530": Severity.WARNING,
    "PR560": Severity.WARNING, "PR561": Severity.WARNING, "PR562": Severity.INFO,
})
