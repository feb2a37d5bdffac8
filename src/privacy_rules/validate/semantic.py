"""Meaning checks on a built Pack: one generator per check, chained by iter_semantic_problems.

Shape is already right (JSON Schema); these find what a schema cannot: references to ids the
vocabulary does not define, duplicate rule ids, predicates that make no sense for the
question a rule is about, and rules that can never hold.
"""

from __future__ import annotations

import difflib
import json
import math
from datetime import date
from typing import Any, Iterable, Iterator, Mapping

from ..load import LoadedYaml
from ..model import Action, Diagnostic, Effect, Pack, Pred, Question, Rule, Severity, Span
from ..records import LIST_DATE_PATHS, RELATIONSHIP_FIELDS, SCALAR_PATHS
from ..declared import value_kind
from .facts import check_declared_facts
from .source import iter_source_problems
from ._chars import describe, first_refused, skeleton, visible

DATE_PATHS = frozenset([f"relationship.{k}" for k in RELATIONSHIP_FIELDS] + ["art14_informed_on"])
SHARE_ONLY = frozenset({"processor_dpa", "transfer", "recipient_serves", "recipient_listed", "legal_order",
                        "categories_beyond", "shares_category"})
CONTACT_ONLY = frozenset({"channel_electronic"})

#: The days a pack may name (review dates, DPA and transfer periods, mechanism validity, the
#: days `fact` conditions compare with). Records and as_of are held to the same range, so the
#: month arithmetic of a window (at most MAX_WINDOW_MONTHS) never leaves Python's years 1-9999.
MIN_DAY = date(1900, 1, 1)
MAX_DAY = date(2200, 12, 31)
#: The longest window: 100 years. Retention periods in law are years, not centuries.
MAX_WINDOW_MONTHS = 1200
_DATE_OPS = ("before", "on_or_before", "after", "on_or_after")


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
    # Compared as a reader sees them (skeleton: invisible characters dropped, NFKC, case
    # folded), so an id that only looks like a reviewed one is a duplicate too. The schema
    # already keeps ids to lowercase ASCII; this holds even if it did not.
    seen: dict[str, Rule] = {}
    for r in pack.rules:
        key = skeleton(r.id)
        if key in seen:
            first = seen[key]
            same = "" if first.id == r.id else f" (looks the same as `{visible(first.id)}`)"
            yield _err(r, "PR201", f"duplicate rule id `{visible(r.id)}`{same}",
                       f"first defined at {first.span}; rule ids must be unique across the pack")
        else:
            seen[key] = r


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
    elif k == "compare":
        yield from _check_compare(r, a, v)
    elif k in ("data_category", "shares_category") and v.data_categories and a not in v.data_categories:
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


def _check_compare(r: Rule, a: Any, v: Any) -> Iterator[Diagnostic]:
    """PR243: a `compare` operand that is not a day of the record the engines can compare: a
    date field, as_of, or the end of a window anchored on a date field (docs/rule-language.md)."""
    for side in ("left", "right"):
        operand = a[side]
        if isinstance(operand, tuple):
            w = v.windows.get(operand[1])
            if w is None:
                yield _unknown(r, "window", operand[1], v.windows)
            elif w.anchor not in DATE_PATHS or w.pick is not None:
                yield _err(r, "PR243", f"`compare` {side}: the end of window `{w.id}` (anchored on `{w.anchor}`) "
                           "cannot be compared", "use a window anchored on a relationship date or art14_informed_on")
        elif operand != "as_of" and operand not in DATE_PATHS:
            yield _err(r, "PR243", f"`compare` {side}: `{operand}` is not a date of the record",
                       "use as_of or one of: " + ", ".join(sorted(DATE_PATHS)))
    if a["left"] == a["right"]:
        yield _err(r, "PR243", "`compare` compares a day with itself", "name two different days")


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
            continue
        yield from _kinds_clash(r)


def _kinds_clash(r: Rule) -> Iterator[Diagnostic]:
    """PR208 for top-level `fact` conditions (negated or not) on one path that admit no common kind.

    A `fact` condition is true or false only for a value of a kind it compares with (else
    unknown), and a rule holds only when each top-level condition is true (a negated one false):
    `equals: 1` with `not: {equals: true}` needs a number that is a boolean.
    """
    kinds: dict[str, tuple[set[str], list[str]]] = {}  # path -> (kinds every condition admits, their kinds)
    for p in r.when:
        c = p.children[0] if p.kind == "not" else p
        if c.kind != "fact":
            continue
        path, op, value = c.arg["path"], c.arg["op"], c.arg["value"]
        if op in _DATE_OPS:
            admits = {"string"}
        else:
            admits = {k for k in map(_fact_kind, value if op in ("in", "not_in") else (value,)) if k is not None}
        if not admits:
            continue  # matches nothing at all: PR213 says so
        common, seen = kinds.setdefault(path, (set(admits), []))
        common &= admits
        seen.append(" or ".join(sorted(admits)))
        if not common:
            yield _err(r, "PR208", f"rule can never hold: `{path}` is compared with a {seen[0]} and with a "
                       f"{seen[-1]}, and a record value has one kind",
                       "remove one of the contradicting conditions, or compare with the one kind the host sends",
                       severity=Severity.WARNING)
            return


def _key(arg: Any) -> Any:
    """A hashable key of a condition's argument in which values of different kinds differ."""
    if isinstance(arg, (list, tuple)):
        return ("list", tuple(_key(x) for x in arg))
    if isinstance(arg, (frozenset, set)):
        return ("set", frozenset(_key(x) for x in arg))
    if hasattr(arg, "items"):
        return ("map", tuple(sorted((str(k), _key(v)) for k, v in arg.items())))
    return value_key(arg)


def value_key(value: Any) -> Any:
    """A hashable key for a scalar rule value that compares as `fact` conditions do (compile/runtime.py):
    kinds apart (Python's ``True == 1`` would make `equals: true` and `equals: 1` one condition),
    numbers by value within their kind (`1` and `1.0` are one number). For condition keys (PR208,
    lint's normal forms), never for deciding."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    if value is None:
        return ("null",)
    try:
        hash(value)
    except TypeError:
        return ("other", repr(value))
    return ("other", type(value).__name__, value)


def _head_error(head: LoadedYaml, path: tuple[Any, ...], code: str, message: str, help: str) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.ERROR, span=head.span_for(path), message=message, help=help)


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def check_questions(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR202 for a standard question (``pack.questions``) naming an id the vocabulary lacks.

    Every sweep asks these; an unknown id would stop each one before its first record.
    """
    for i, text in enumerate(pack.meta.get("questions") or ()):
        try:
            q = Question.parse(text)
        except ValueError as exc:  # the schema pattern keeps this out; say so if it ever lets one in
            yield _head_error(head, ("pack", "questions", i), "PR202", str(exc), "fix the question")
            continue
        for message, help_ in _unknown_ids(pack, q, text):
            yield _head_error(head, ("pack", "questions", i), "PR202", message, help_)


def _unknown_ids(pack: Pack, q: Question, text: str) -> Iterator[tuple[str, str]]:
    """(message, help) for each id question ``q`` (written ``text``) names that the vocabulary
    lacks, with a did-you-mean: the `questions` list (PR202) and question sets (PR230) alike."""
    v = pack.vocabulary
    named: list[tuple[str, str | None, Any]]
    if q.action is Action.KEEP:  # no scope: the default scope, checked with the vocabulary
        named = [("scope", q.scope, v.scopes)] if q.scope else []
    elif q.action is Action.CONTACT:
        named = [("purpose", q.purpose, v.purposes), ("channel", q.channel, v.channels)]
    else:
        named = [("recipient", q.recipient, v.recipients), ("purpose", q.purpose, v.purposes)]
    for what, value, known in named:
        if value not in known:
            close = difflib.get_close_matches(str(value), sorted(known), n=1, cutoff=0.6)
            yield (f"question `{text}`: unknown {what} `{value}`",
                   f"did you mean `{close[0]}`?" if close else f"define it under vocabulary.{what}s, or remove the question")


#: the name of the question set a retention sweep asks (``evaluate --plan``; PR234)
SWEEP_SET = "sweep"


def _set_question_problem(pack: Pack, text: str) -> tuple[str, str] | None:
    """(message, help) when question ``text`` names an id the vocabulary lacks, else None."""
    try:
        q = Question.parse(text)
    except ValueError as exc:  # the schema pattern keeps this out; a Pack built in Python may not
        return str(exc), "write keep, keep:SCOPE, contact:PURPOSE:CHANNEL or share:RECIPIENT:PURPOSE"
    return next(_unknown_ids(pack, q, text), None)


def check_question_sets(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR230-PR234 for ``pack.question_sets`` (docs/codes.md, docs/rule-language.md §1).

    PR230 a question naming an unknown id; PR231 an empty set; PR232 a set named like a
    question (``keep``, ``contact``, ``share``: `--question-set keep` and `-q keep` would read
    alike); PR233 (warning) a question listed twice; PR234 (warning) a ``sweep`` set that leaves
    out a keep scope, so a retention job following it would delete data it never asked about
    (READINGS.md #10: live newsletter subscriptions).
    """
    sets = pack.meta.get("question_sets")
    if not isinstance(sets, Mapping):
        return
    for name, texts in sets.items():
        where = ("pack", "question_sets", name)
        if name in (a.value for a in Action):
            yield _head_error(head, where, "PR232", f"question set `{name}` is named like a question",
                              f"rename it (e.g. `{name}_set`): `--question-set {name}` and `-q {name}` would read alike")
        if not isinstance(texts, (list, tuple)):
            continue  # the schema says so (PR100)
        if not texts:
            yield _head_error(head, where, "PR231", f"question set `{name}` is empty",
                              "list the questions it asks, or remove the set")
            continue
        seen: dict[Question, str] = {}
        for i, text in enumerate(texts):
            bad = _set_question_problem(pack, str(text))
            if bad is not None:
                yield _head_error(head, (*where, i), "PR230", f"question set `{name}`: {bad[0]}", bad[1])
                continue
            q = Question.parse(str(text))
            if q.action is Action.KEEP and not q.scope:
                q = Question.keep(pack.default_scope)
            if q in seen:
                yield Diagnostic(code="PR233", severity=Severity.WARNING, span=head.span_for((*where, i)),
                                 message=f"question set `{name}` asks `{q}` twice (`{seen[q]}` and `{text}`)",
                                 help="remove one: each question is asked once and written once per record")
            else:
                seen[q] = str(text)
        if name == SWEEP_SET:
            asked = {q.scope for q in seen if q.action is Action.KEEP}
            left = [s for s in pack.vocabulary.scopes if s not in asked]
            if left:
                yield Diagnostic(
                    code="PR234", severity=Severity.WARNING, span=head.span_for(where),
                    message=f"question set `sweep` does not ask keep of scope{'s' if len(left) > 1 else ''} "
                            + ", ".join(f"`{s}`" for s in left),
                    help="a retention job following the set would delete that data without asking; add "
                         + ", ".join(f"`keep:{s}`" for s in left))


def check_time_zone(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR209 for a ``time_zone`` the IANA database (as pendulum reads it) does not know.

    The command line turns it into today's date whenever no --as-of is given.
    """
    name = pack.meta.get("time_zone")
    if not isinstance(name, str):
        return
    import pendulum  # the same lookup the command line makes; pendulum is imported by dates.py anyway

    try:
        pendulum.timezone(name)
    except Exception:  # noqa: BLE001 - InvalidTimezone, but also OSError/ValueError from odd names
        yield _head_error(head, ("pack", "time_zone"), "PR209", f"unknown time zone `{visible(name)}`",
                          "write an IANA time zone name such as `Europe/Oslo` or `UTC` (case matters)")


def check_consent_mechanisms(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR240: an entry of vocabulary.consent_mechanisms naming an unknown purpose, or a period
    that ends before it starts (it could never count: N53, N49)."""
    v = pack.vocabulary
    for i, m in enumerate(v.consent_mechanisms or ()):
        for p in sorted(m.purposes or ()):
            if p not in v.purposes:
                close = difflib.get_close_matches(p, list(v.purposes), n=1)
                yield _head_error(head, ("vocabulary", "consent_mechanisms", i, "purposes"), "PR240",
                                  f"consent mechanism `{m.mechanism}`: unknown purpose `{p}`",
                                  f"did you mean `{close[0]}`?" if close else "define it under vocabulary.purposes")
        if m.valid_from is not None and m.valid_until is not None and m.valid_from > m.valid_until:
            yield _head_error(head, ("vocabulary", "consent_mechanisms", i, "valid_until"), "PR240",
                              f"consent mechanism `{m.mechanism}`: `valid_until` {m.valid_until} is before "
                              f"`valid_from` {m.valid_from}, so it never counts",
                              "swap the days, or remove the entry")


# Request lists whose entries have `answered_on` and `extended_on` (N43, Art. 12(3))
_REQUEST_ANCHORS = ("erasure_requests[].received_on", "rights_requests[].received_on")


def check_request_windows(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR241: `pick` or `extension` on a window that is not anchored on a request's receipt, or
    `extension` without `pick`; PR242: such a window read by `within`/`expired` (only an
    obligation's `due` reads it: the compiled engines and SQL compare one anchor per window)."""
    picky = set()
    for wid, w in pack.vocabulary.windows.items():
        if w.pick is None and not w.extension_months:
            continue
        picky.add(wid)
        key = "pick" if w.pick is not None else "extension"
        if w.anchor not in _REQUEST_ANCHORS:
            yield _head_error(head, ("vocabulary", "windows", wid, key), "PR241",
                              f"window `{wid}`: `{key}` needs a request's receipt as anchor, not `{w.anchor}`",
                              "anchor it on " + " or ".join(f"`{a}`" for a in _REQUEST_ANCHORS))
        elif w.pick is None:
            yield _head_error(head, ("vocabulary", "windows", wid, "extension"), "PR241",
                              f"window `{wid}`: `extension` needs `pick: earliest_unanswered`",
                              "each request has its own deadline and extension: add `pick: earliest_unanswered`")
    for r in pack.rules:
        for p in _walk(r.when):
            if p.kind in ("within", "expired") and p.arg in picky:
                yield _err(r, "PR242", f"`{p.kind}: {p.arg}` reads a window with `pick` or `extension`, "
                           "which only an obligation's `due` may read",
                           "use `erasure: unanswered` or `rights_request: unanswered` for the condition, "
                           "and the window as the obligation's `due`")


def check_window_lengths(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR210 for a window longer than MAX_WINDOW_MONTHS."""
    raw = (head.data.get("vocabulary") or {}).get("windows") or {}
    for wid, w in pack.vocabulary.windows.items():
        if w.months <= MAX_WINDOW_MONTHS:
            continue
        key = "months" if "months" in (raw.get(wid) or {}) else "years"
        written = f"{w.months} months" if key == "months" else f"{w.months // 12} years"
        yield _head_error(head, ("vocabulary", "windows", wid, key), "PR210",
                          f"window `{wid}` is {written} long, more than {MAX_WINDOW_MONTHS} months (100 years)",
                          "retention periods and deadlines are at most 100 years; check the number")


def _pack_date_paths(data: Any) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, value) of every day written in pack.yaml."""
    meta = data.get("pack") or {}
    review = meta.get("review") or {}
    for key in ("reviewed_on", "next_review"):
        yield ("pack", "review", key), review.get(key)
    vocabulary = data.get("vocabulary") or {}
    for mid, m in (vocabulary.get("transfer_mechanisms") or {}).items():
        for key in ("valid_from", "valid_until"):
            yield ("vocabulary", "transfer_mechanisms", mid, key), (m or {}).get(key)
    for rid, r in (vocabulary.get("recipients") or {}).items():
        r = r or {}
        for key in ("signed_on", "ends_on"):
            yield ("vocabulary", "recipients", rid, "dpa", key), (r.get("dpa") or {}).get(key)
        for i, t in enumerate(r.get("transfers") or ()):
            for key in ("from", "until"):
                yield ("vocabulary", "recipients", rid, "transfers", i, key), (t or {}).get(key)
    for i, m in enumerate(vocabulary.get("consent_mechanisms") or ()):
        for key in ("valid_from", "valid_until"):
            yield ("vocabulary", "consent_mechanisms", i, key), (m or {}).get(key)


def _out_of_range(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        day = date.fromisoformat(value)
    except ValueError:  # the schema reports impossible days (PR100)
        return False
    return not MIN_DAY <= day <= MAX_DAY


_RANGE_HELP = f"write a day from {MIN_DAY.isoformat()} to {MAX_DAY.isoformat()}"


def check_pack_dates(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR211 for a day in pack.yaml or in a `fact` condition outside MIN_DAY..MAX_DAY."""
    for path, value in _pack_date_paths(head.data):
        if _out_of_range(value):
            yield _head_error(head, path, "PR211",
                              f"`{_dotted(path)}` is `{value}`, outside the supported days", _RANGE_HELP)
    for r in pack.rules:
        for p in _walk(r.when):
            if p.kind == "fact" and p.arg["op"] in _DATE_OPS and _out_of_range(p.arg["value"]):
                yield _err(r, "PR211", f"`fact` condition on `{p.arg['path']}` compares with `{p.arg['value']}`, "
                           "outside the supported days", _RANGE_HELP)


# the kinds a `fact` condition compares: one definition (declared.value_kind), as the engine reads them
_fact_kind = value_kind


def _shown(value: Any) -> str:
    """A `fact` value as YAML writes it: strings quoted, so that `"1"` and `1` read apart."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if value != value else (".inf" if value > 0 else "-.inf")
    return visible(json.dumps(value, ensure_ascii=False), limit=40)


def check_fact_kinds(pack: Pack) -> Iterator[Diagnostic]:
    """PR213 for a `fact` condition that is unknown for every record; PR214 for one path
    compared with values of more than one kind, or with values that match nothing.

    A record's value only matches rule values of its own kind (boolean, number, string); of
    another kind the condition is unknown (docs/rule-language.md, "fact").
    """
    seen: dict[str, tuple[str, Rule, Any]] = {}  # facts.* path -> the first kind, rule and value
    told: set[tuple[str, str]] = set()  # (path, kind) already reported as differing from the first
    for r in pack.rules:
        for p in _walk(r.when):
            if p.kind != "fact" or p.arg["op"] in _DATE_OPS:
                continue
            path, op, value = p.arg["path"], p.arg["op"], p.arg["value"]
            builtin = not path.startswith("facts.")  # a string in every valid record
            kinds: dict[str, Any] = {}
            dead: list[Any] = []
            for x in (value if op in ("in", "not_in") else (value,)):
                k = _fact_kind(x)
                if k is None or (builtin and k != "string"):
                    dead.append(x)
                else:
                    kinds.setdefault(k, x)
            reasons = [why for why, hit in (
                (f"`{path}` is a string in every record", builtin and any(_fact_kind(x) for x in dead)),
                ("`null` matches no present value, and an absent one makes the condition unknown", None in dead),
                ("a number must be finite", any(isinstance(x, float) and not math.isfinite(x) for x in dead)),
            ) if hit]
            listed = ", ".join(f"`{_shown(x)}`" for x in dead)
            quote = " (quote a number or boolean meant as text: `\"1\"`)" if builtin else ""
            if not kinds:
                yield _err(r, "PR213", f"`fact` condition on `{path}` is unknown for every record: it compares "
                           f"with {listed} ({'; '.join(reasons)})",
                           "compare with a value the record can hold: a string, a finite number or a boolean, "
                           "of the kind the host sends" + quote)
                continue
            if dead:
                yield _err(r, "PR214", f"`fact` condition on `{path}` lists {listed}, which no record value "
                           f"matches ({'; '.join(reasons)})", "remove " + ("it" if len(dead) == 1 else "them") + quote,
                           severity=Severity.WARNING)
            if len(kinds) > 1:
                yield _err(r, "PR214", f"`fact` condition on `{path}` compares with values of different kinds ("
                           + ", ".join(f"{k} `{_shown(x)}`" for k, x in kinds.items())
                           + "): a record's value only matches values of its own kind",
                           f"use the one kind the host sends for `{path}` (the boolean `true` never equals "
                           "the number `1` or the string `\"true\"`)", severity=Severity.WARNING)
                continue
            (k, x), = kinds.items()
            first = seen.setdefault(path, (k, r, x))
            if first[0] != k and (path, k) not in told:
                told.add((path, k))
                other = first[1]
                yield _err(r, "PR214", f"`{path}` is compared with the {k} `{_shown(x)}` here and with the "
                           f"{first[0]} `{_shown(first[2])}` in rule `{other.id}`: whichever kind a record "
                           "holds, one of the two conditions is unknown",
                           f"use the one kind the host sends for `{path}` in every rule "
                           f"(the other condition is at {other.span})", severity=Severity.WARNING)


def _identifiers(pack: Pack, head: LoadedYaml) -> Iterator[tuple[str, str, Rule | None, Span | None]]:
    """(what, identifier, rule or None, span) for every identifier the pack defines or names."""
    meta = pack.meta
    yield "pack id", pack.id, None, head.span_for(("pack", "id"))
    yield "default scope", pack.default_scope, None, head.span_for(("pack", "default_scope"))
    for i, text in enumerate(meta.get("questions") or ()):
        yield "question", text, None, head.span_for(("pack", "questions", i))
    sets = meta.get("question_sets")
    for name, texts in (sets.items() if isinstance(sets, Mapping) else ()):
        yield "question set", name, None, head.span_for(("pack", "question_sets", name))
        for i, text in enumerate(texts if isinstance(texts, (list, tuple)) else ()):
            yield "question", text, None, head.span_for(("pack", "question_sets", name, i))
    for norm in meta.get("norms") or {}:
        yield "norm id", norm, None, head.span_for(("pack", "norms", norm))
    v = pack.vocabulary
    sections = {"lawful_bases": v.lawful_bases, "subject_categories": v.subject_categories, "scopes": v.scopes,
                "purposes": v.purposes, "channels": v.channels, "transfer_mechanisms": v.transfer_mechanisms,
                "recipients": v.recipients, "windows": v.windows, "data_categories": v.data_categories,
                "facts": v.facts or {}}
    for section, entries in sections.items():
        for key in entries:
            yield f"vocabulary key in `{section}`", key, None, head.span_for(("vocabulary", section, key))
    for wid, w in v.windows.items():
        yield "window anchor", w.anchor, None, head.span_for(("vocabulary", "windows", wid, "from"))
    for r in pack.rules:
        yield "rule id", r.id, r, r.span
        for o in r.obligations:
            yield "obligation id", o.id, r, r.span
        for norm in r.citation.norms:
            yield "norm id", norm, r, r.span
        for p in _walk(r.when):
            if p.kind == "fact":
                yield "fact path", p.arg["path"], r, r.span
            elif p.kind == "happened":
                yield "fact path", p.arg, r, r.span


def check_identifiers(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR212 for a control or invisible character in any identifier of the pack.

    The schema patterns already allow only visible ASCII in ids; this is the same rule on the
    built pack, so nothing downstream (codegen, reports, duplicate checks) depends on the
    schema alone.
    """
    for what, ident, rule, span in _identifiers(pack, head):
        ch = first_refused(ident)
        if ch is not None:
            yield Diagnostic(code="PR212", severity=Severity.ERROR, span=span, rule_id=None,
                             message=f"{what} `{visible(ident)}` contains the invisible or control character "
                                     f"{describe(ch)}",
                             help="remove it: ids are written in visible characters only")


def iter_pack_file_problems(head: LoadedYaml) -> Iterator[Diagnostic]:
    """PR212 for a control or invisible character in a path or the version of pack.yaml.

    Run before any listed file is opened. The schema patterns refuse the common ones; this
    also catches those a JSON Schema pattern cannot name portably (tag characters,
    unassigned and private-use code points).
    """
    meta = head.data.get("pack") or {}
    checks: list[tuple[tuple[Any, ...], Any]] = [(("pack", "version"), meta.get("version")),
                                                 (("pack", "source"), meta.get("source"))]
    for key in ("files", "scenarios"):
        checks += [((key, i), rel) for i, rel in enumerate(head.data.get(key) or ())]
    for path, value in checks:
        ch = first_refused(value) if isinstance(value, str) else None
        if ch is not None:
            yield _head_error(head, path, "PR212",
                              f"`{_dotted(path)}` value `{visible(value)}` contains the invisible or control "
                              f"character {describe(ch)}",
                              "remove it: paths and versions are written in visible characters only")


def iter_semantic_problems(pack: Pack, head: LoadedYaml) -> Iterator[Diagnostic]:
    """Every meaning problem in ``pack``; the caller sorts them."""
    yield from check_identifiers(pack, head)
    yield from check_duplicate_ids(pack)
    yield from check_questions(pack, head)
    yield from check_question_sets(pack, head)
    yield from check_time_zone(pack, head)
    yield from check_window_lengths(pack, head)
    yield from check_consent_mechanisms(pack, head)
    yield from check_request_windows(pack, head)
    yield from check_pack_dates(pack, head)
    yield from check_vocabulary(pack, head)
    yield from check_rule_references(pack)
    yield from check_targets(pack)
    yield from check_never_holds(pack)
    yield from check_fact_kinds(pack)
    yield from check_declared_facts(pack, head)  # PR223-PR225: vocabulary.facts (validate/facts.py)
    yield from iter_source_problems(pack, head)  # PR220-PR222: the policy text (validate/source.py)
