"""Meaning checks on a built Pack: one generator per check, chained by iter_semantic_problems.

Shape is already right (JSON Schema); these find what a schema cannot: references to ids the
vocabulary does not define, duplicate rule ids, predicates that make no sense for the
question a rule is about, and rules that can never hold.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterable, Iterator

from ..load import LoadedYaml
from ..model import Action, Diagnostic, Effect, Pack, Pred, Rule, Severity
from ..records import LIST_DATE_PATHS, RELATIONSHIP_FIELDS, SCALAR_PATHS
from .source import iter_source_problems

DATE_PATHS = frozenset([f"relationship.{k}" for k in RELATIONSHIP_FIELDS] + ["art14_informed_on"])
SHARE_ONLY = frozenset({"processor_dpa", "transfer", "recipient_serves", "recipient_listed", "legal_order"})
CONTACT_ONLY = frozenset({"channel_electronic"})


def _err(rule: Rule | None, code: str, message: str, help: str | None = None,
         severity: Severity = Severity.ERROR) -> Diagnostic:
    return Diagnostic(code=code, severity=severity, message=message, span=rule.span if rule else None,
                      rule_id=rule.id if rule else None, help=help)


def _unknown(rule: Rule | None, what: str, value: str, known: Iterable[str]) -> Diagnostic:
    known = sorted(known)
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    hint = f"did you mean `{close[0]}`?" if close else (
        f"define it under vocabulary.{what}s in pack.yaml" if known else f"the pack defines no {what}s")
    return _err(rule, "PR202", f"unknown {what.replace('_', ' ')} `{value}`", hint)


def _walk(preds: Iterable[Pred]) -> Iterator[Pred]:
    for p in preds:
        yield p
        yield from _walk(p.children)


def check_duplicate_ids(pack: Pack) -> Iterator[Diagnostic]:
    seen: dict[str, Rule] = {}
    for r in pack.rules:
        if r.id in seen:
            first = seen[r.id]
            yield _err(r, "PR201", f"duplicate rule id `{r.id}`",
                       f"first defined at {first.span}; rule ids must be unique across the pack")
        else:
            seen[r.id] = r


def check_vocabulary(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    v = pack.vocabulary
    if pack.default_scope not in v.scopes:
        yield Diagnostic(code="PR202", severity=Severity.ERROR, span=head.span_for(("pack", "default_scope")),
                         message=f"unknown scope `{pack.default_scope}` as default_scope",
                         help="define it under vocabulary.scopes")
    for pid, purpose in v.purposes.items():
        basis = purpose.get("basis")
        if basis is not None and basis not in v.lawful_bases:
            close = difflib.get_close_matches(str(basis), list(v.lawful_bases), n=1)
            yield Diagnostic(code="PR202", severity=Severity.ERROR,
                             span=head.span_for(("vocabulary", "purposes", pid, "basis")),
                             message=f"purpose `{pid}`: unknown lawful basis `{basis}`",
                             help=f"did you mean `{close[0]}`?" if close else "define it under vocabulary.lawful_bases")
    for rid, rec in v.recipients.items():
        for i, t in enumerate(rec.transfers):
            if t.mechanism not in v.transfer_mechanisms:
                yield Diagnostic(code="PR202", severity=Severity.ERROR,
                                 span=head.span_for(("vocabulary", "recipients", rid, "transfers", i)),
                                 message=f"recipient `{rid}`: unknown transfer mechanism `{t.mechanism}`",
                                 help="define it under vocabulary.transfer_mechanisms")
        for p in rec.purposes:
            if p not in v.purposes:
                yield Diagnostic(code="PR202", severity=Severity.ERROR,
                                 span=head.span_for(("vocabulary", "recipients", rid, "purposes")),
                                 message=f"recipient `{rid}`: unknown purpose `{p}`",
                                 help="define it under vocabulary.purposes")
    for wid, w in v.windows.items():
        if w.anchor not in DATE_PATHS and w.anchor not in LIST_DATE_PATHS and not w.anchor.startswith("facts."):
            yield Diagnostic(code="PR203", severity=Severity.ERROR,
                             span=head.span_for(("vocabulary", "windows", wid, "from")),
                             message=f"window `{wid}` is anchored on `{w.anchor}`, which is not a date in the record",
                             help="anchor on facts.* or one of: " + ", ".join(sorted(DATE_PATHS | set(LIST_DATE_PATHS))))
        if w.count_future and not w.is_list:
            yield Diagnostic(code="PR203", severity=Severity.WARNING,
                             span=head.span_for(("vocabulary", "windows", wid, "count_future")),
                             message=f"window `{wid}`: `count_future` only changes list anchors (`list[].field`)",
                             help="remove it, or use open_if_absent for a scalar anchor")


def check_rule_references(pack: Pack) -> Iterator[Diagnostic]:
    v = pack.vocabulary
    for r in pack.rules:
        if r.basis is not None and r.basis not in v.lawful_bases:
            yield _unknown(r, "lawful_basis", r.basis, v.lawful_bases)
        for name, values, known in (("scope", r.scopes, v.scopes), ("purpose", r.purposes, v.purposes),
                                    ("channel", r.channels, v.channels), ("recipient", r.recipients, v.recipients)):
            for value in values or ():
                if value not in known:
                    yield _unknown(r, name, value, known)
        for o in r.obligations:
            if o.due is not None and o.due not in v.windows:
                yield _unknown(r, "window", o.due, v.windows)
        for p in _walk(r.when):
            yield from _check_pred(pack, r, p)


def _check_pred(pack: Pack, r: Rule, p: Pred) -> Iterator[Diagnostic]:
    v = pack.vocabulary
    k, a = p.kind, p.arg
    if k == "subject":
        for s in ([a] if isinstance(a, str) else a):
            if s not in v.subject_categories:
                yield _unknown(r, "subject_category", s, v.subject_categories)
    elif k in ("within", "expired"):
        if a not in v.windows:
            yield _unknown(r, "window", a, v.windows)
    elif k in ("consent", "consent_withdrawn"):
        if a != "any" and a not in v.purposes:
            yield _unknown(r, "purpose", a, v.purposes)
    elif k == "happened" and a not in DATE_PATHS and not a.startswith("facts."):
        yield _err(r, "PR203", f"`happened: {a}` does not name a date in the record",
                   "use one of: " + ", ".join(sorted(DATE_PATHS)))
    elif k == "fact":
        path = a["path"]
        if path not in SCALAR_PATHS and not path.startswith("facts."):
            yield _err(r, "PR203", f"`fact` path `{path}` is not a scalar field of the record",
                       "use relationship.*, contact_address_kind, source, art14_informed_on or facts.*")
    elif k == "data_category" and v.data_categories and a not in v.data_categories:
        yield _unknown(r, "data_category", a, v.data_categories)
    if k in SHARE_ONLY and r.question is not Action.SHARE:
        yield _err(r, "PR204", f"predicate `{k}` is about a recipient; it only fits a share rule")
    if k in CONTACT_ONLY and r.question is not Action.CONTACT:
        yield _err(r, "PR204", f"predicate `{k}` is about a channel; it only fits a contact rule")
    if k == "keep" and r.question is Action.KEEP:
        yield _err(r, "PR204", "a keep rule cannot ask `keep: allowed` about itself",
                   "state the keep conditions directly")
    if k == "consent_for_question" and r.question is Action.KEEP:
        yield _err(r, "PR204", "`consent_for_question` needs a question with a purpose (contact or share)",
                   "use `consent: PURPOSE` in keep rules")


def check_targets(pack: Pack) -> Iterator[Diagnostic]:
    for r in pack.rules:
        if r.scopes is not None and r.question is not Action.KEEP:
            yield _err(r, "PR205", "`scopes` only targets keep rules")
        if r.channels is not None and r.question is not Action.CONTACT:
            yield _err(r, "PR205", "`channels` only targets contact rules")
        if (r.recipients is not None or r.recipient_kinds is not None) and r.question is not Action.SHARE:
            yield _err(r, "PR205", "`recipients` and `recipient_kinds` only target share rules")
        if r.purposes is not None and r.question is Action.KEEP:
            yield _err(r, "PR205", "`purposes` targets contact and share rules; keep rules use `scopes`")
        if r.effect in (Effect.PERMIT, Effect.OVERRIDE) and r.basis is None and r.question is Action.KEEP:
            yield _err(r, "PR206", f"a keep rule with effect `{r.effect.value}` needs a `basis`",
                       "name the lawful basis (Art. 6(1)) that allows keeping")
        if r.effect in (Effect.FORBID, Effect.OBLIGATION) and r.basis is not None:
            yield _err(r, "PR206", f"a `{r.effect.value}` rule gives no lawful basis; remove `basis`",
                       severity=Severity.WARNING)
        if r.on_outcome is not None and r.effect is not Effect.OBLIGATION:
            yield _err(r, "PR205", "`on_outcome` only fits obligation rules (other rules decide the outcome)")
        if r.effect is Effect.OBLIGATION and not r.obligations:
            yield _err(r, "PR207", "an obligation rule without `obligations` can never add anything",
                       severity=Severity.WARNING)


def check_never_holds(pack: Pack) -> Iterator[Diagnostic]:
    """A rule whose conditions contradict each other at the top level can never apply."""
    for r in pack.rules:
        top = {(p.kind, _key(p.arg)) for p in r.when if p.kind != "not"}
        negated = {(p.children[0].kind, _key(p.children[0].arg)) for p in r.when if p.kind == "not"}
        clash = top & negated
        windows = {p.arg for p in r.when if p.kind == "within"} & {p.arg for p in r.when if p.kind == "expired"}
        roles = {p.arg for p in r.when if p.kind == "role"}
        if clash or windows or len(roles) > 1:
            what = next(iter(clash))[0] if clash else ("within/expired " + next(iter(windows)) if windows else "role")
            yield _err(r, "PR208", f"rule can never hold: its conditions contradict each other (`{what}`)",
                       "remove one of the contradicting conditions", severity=Severity.WARNING)


def _key(arg: Any) -> Any:
    if isinstance(arg, (list, tuple)):
        return tuple(arg)
    if hasattr(arg, "items"):
        return tuple(sorted((k, _key(v) if not isinstance(v, frozenset) else tuple(sorted(v)))
                            for k, v in arg.items()))
    return arg


def iter_semantic_problems(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """Every meaning problem in ``pack``; the caller sorts them."""
    yield from check_duplicate_ids(pack)
    yield from check_vocabulary(pack, head)
    yield from check_rule_references(pack)
    yield from check_targets(pack)
    yield from check_never_holds(pack)
    yield from iter_source_problems(pack, head)  # PR220-PR222: the policy text (validate/source.py)
