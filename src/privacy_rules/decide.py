"""The hot path: rule statuses -> outcome (combining), and the Decision that explains it.

Combining order (docs/rule-language.md section 3): override > forbid > permit > no basis.
Everything here is a pure function of its arguments; nothing reads a clock or global state.
"""

from __future__ import annotations

from datetime import date
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterable, Literal, Mapping, Sequence

from .compile.codegen import QuestionPlan
from .compile.runtime import fdate, latest
from .dates import add_months
from .model import (AppliedRule, Basis, Citation, Decision, Effect, Obligation, ObligationSpec, Outcome, Pack, Pred,
                    RuleStatus, Window)
from .records import LIST_DATE_PATHS, Facts

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


def window_end_of(w: Window, facts: Facts, asof: str, memo: dict[tuple[str, int], date] | None = None) -> date | None | bool:
    """The last day of ``w`` for this record: a date, None when open-ended, False when it has no anchor."""
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
        if anchor is None or anchor > asof:
            return None if w.open_if_absent else False
    if memo is None:
        return add_months(date.fromisoformat(anchor), w.months)
    key = (anchor, w.months)
    end = memo.get(key)
    if end is None:
        end = add_months(date.fromisoformat(anchor), w.months)
        if len(memo) < 100_000:  # a sweep sees a few thousand distinct anchors
            memo[key] = end
    return end


def rule_keep_until(when: Iterable[Pred], windows: Mapping[str, Window], facts: Facts, asof: str,
                    memo: dict[tuple[str, int], date] | None = None) -> date | None:
    """The earliest end among a holding rule's top-level ``within`` windows; None = open-ended."""
    end: date | None = None
    for p in when:
        if p.kind == "within":
            e = window_end_of(windows[p.arg], facts, asof, memo)
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


def missing_facts(preds: Iterable[Pred], pack: Pack, facts: Facts, keep_missing: tuple[str, ...]) -> list[str]:
    """Fact paths whose absence made a rule unknown."""
    out: list[str] = []
    for p in preds:
        k = p.kind
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
        elif k == "keep":
            out.extend(keep_missing)
        out.extend(missing_facts(p.children, pack, facts, keep_missing))
    return out


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
    )


_OUTCOMES = {o.value: o for o in Outcome}


def build_decision(*, pack: Pack, plan: QuestionPlan, tables: Tables, statuses: Sequence[Any],
                   facts: Facts, as_of: date, asof: str, keep_missing: tuple[str, ...] = (),
                   cuts: Mapping[str, str] | None = None, memo: dict[tuple[str, int], date] | None = None) -> Decision:
    """The full, explained Decision for one evaluated question. Pure."""
    effects = tables.effects
    outcome, idx, why = combine(effects, statuses)
    rules = plan.rules
    windows = pack.vocabulary.windows
    allow = outcome == ALLOW_S
    applied: list[AppliedRule] = []
    citations: list[tuple[str, Citation]] = [tables.cites[idx]] if idx is not None else []
    obligations: list[Obligation] = []
    overridden: list[str] = []
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
            for o, text in tables.obligations[i]:
                due = None
                if o.due is not None:
                    end = window_end_of(windows[o.due], facts, asof)
                    due = end if isinstance(end, date) else None
                obligations.append(Obligation(id=o.id, rule_id=rules[i].id, article=o.article, text=text, due_on=due))
    basis = tables.basis[idx] if allow and idx is not None else None
    keep_until = None
    if allow and plan.question.action.value == "keep":
        keep_until = keep_until_for(plan, statuses, OVERRIDE if why == "override" else PERMIT, effects, windows,
                                    facts, asof, memo)
    missing: list[str] = []
    if outcome == UND_S:
        for i, s in enumerate(statuses):
            if s is None and effects[i] != OBLIGATION:  # duties never change the outcome
                missing.extend(missing_facts(rules[i].when, pack, facts, keep_missing))
    missing_t = tuple(dict.fromkeys(missing))
    decisive = rules[idx] if idx is not None else None
    reason = _reason(outcome, why, idx, tables, keep_until, overridden, missing_t)
    if why == "no-basis":
        ended = _ended_permits(pack, plan, tables, statuses, facts, asof, cuts, memo)
        if ended:
            reason += "; " + "; ".join(ended)
    return Decision(
        outcome=_OUTCOMES[outcome], question=plan.question, as_of=as_of, record_id=facts.id,
        pack_version=pack.version, decisive_rule=decisive.id if decisive else None,
        decisive_span=decisive.span if decisive else None,
        reason=reason,
        basis=basis, applied=tuple(applied), citations=tuple(citations), keep_until=keep_until,
        obligations=tuple(obligations), missing_facts=missing_t,
    )


def _ended_permits(pack: Pack, plan: QuestionPlan, tables: Tables, statuses: Sequence[Any], facts: Facts,
                   asof: str, cuts: Mapping[str, str] | None = None,
                   memo: dict[tuple[str, int], date] | None = None) -> list[str]:
    """For a no-basis deny: permits that failed only because their window has ended, with the end day.

    This is what a reviewer asks first ("why not?"); it is computed with the plain predicate
    definitions, and only on this path.
    """
    from .compile.interpret import holds  # the slow path: only explanations of no-basis denies need it
    from .dates import iso_cutoff

    out = []
    windows = pack.vocabulary.windows
    if cuts is None:
        day = date.fromisoformat(asof)
        cuts = {w: iso_cutoff(day, windows[w].months) for w in windows}
    for i, s in enumerate(statuses):
        if s is not False or tables.effects[i] != PERMIT:
            continue
        rule = plan.rules[i]
        wins = [p for p in rule.when if p.kind == "within"]
        if not wins:
            continue
        others = [holds(p, pack, plan.question, facts, asof, cuts, None) for p in rule.when if p.kind != "within"]
        if any(o is not True for o in others if o is not None) or None in others:
            continue
        for p in wins:
            end = window_end_of(windows[p.arg], facts, asof, memo)
            if isinstance(end, date) and end.isoformat() < asof:
                out.append(f"`{rule.id}` no longer holds: its window `{p.arg}` ended on {end.isoformat()}")
    return out


def _reason(outcome: str, why: str, idx: int | None, tables: Tables, keep_until: date | None,
            overridden: list[str], missing: tuple[str, ...]) -> str:
    if why == "no-basis":
        return "no rule gives a lawful basis for this (Art. 6(1)); without one the answer is deny"
    if outcome == UND_S or idx is None:
        if missing:
            return "cannot decide: missing " + ", ".join(f"`{m}`" for m in missing)
        return "cannot decide: a rule that could change the answer depends on facts the record lacks"
    head = f"{outcome} {tables.heads[idx]}"
    if overridden:
        head += ", overriding " + ", ".join(f"`{o}`" for o in overridden)
    if keep_until is not None:
        head += f"; keep until {keep_until.isoformat()}"
    text = tables.texts[idx]
    return f"{head}: {text}" if text else head
