"""The review document as values: what the templates show, in the chosen language.

``build_view(pack, lang=..., report=..., as_of=...) -> Review`` is pure: it reads the pack (and a
scenario report if given) and never the clock or the file system. Text from rule files stays
plain text here, split into segments (``Seg``) that say whether a piece is code (an id, a path)
or an internal link; the templates decide how to escape and mark it up.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Iterable, Mapping

from ..declared import declared_facts, fact_reads
from ..model import Action, Effect, Pack, Pred, Rule, RuleStatus, Window
from ._text import COMBINING, COMBINING_NOTES, COMPARE_TEXT, FACT_NEGATION, FACT_OPS, LANG_NAME, PHRASES, UI, WINDOW

# docs/rule-language.md, "Combining": the order in which the tiers are consulted.
EFFECT_ORDER = (Effect.OVERRIDE, Effect.FORBID, Effect.PERMIT, Effect.OBLIGATION)
QUESTION_ORDER = (Action.KEEP, Action.CONTACT, Action.SHARE)
# anchor prefix of each vocabulary table's rows, so rules and other tables can link to an entry
ROW_PREFIX = {"lawful_bases": "basis", "purposes": "purpose", "recipients": "recipient",
              "transfer_mechanisms": "mechanism", "windows": "window", "channels": "channel",
              "subject_categories": "subject", "scopes": "scope", "data_categories": "data-category",
              "facts": "fact", "consent_mechanisms": "consent-mechanism"}


@dataclass(frozen=True, slots=True)
class Seg:
    """A piece of text; ``code`` marks an id or path, ``link`` an anchor id in this document (no ``#``)."""

    text: str
    code: bool = False
    link: str | None = None


Segs = tuple[Seg, ...]
Cell = tuple[Segs, ...]  # one table cell: lines of segments


@dataclass(frozen=True, slots=True)
class Cond:
    """One condition in plain words; combinators (all of, none of) carry their operands."""

    segs: Segs
    children: tuple["Cond", ...] = ()


@dataclass(frozen=True, slots=True)
class Ref:
    id: str
    label: str | None = None
    anchor: str | None = None


@dataclass(frozen=True, slots=True)
class ScenarioRef:
    name: str
    where: str
    result: str


@dataclass(frozen=True, slots=True)
class ObligationView:
    id: str
    article: str | None
    text: str
    due: Segs | None


@dataclass(frozen=True, slots=True)
class RuleView:
    id: str
    anchor: str
    effect: str
    effect_label: str
    targets: tuple[tuple[str, tuple[Ref, ...]], ...]
    conditions: tuple[Cond, ...]
    basis: Segs | None
    obligations: tuple[ObligationView, ...]
    explain: str
    explain_lang: str  # the language the explain text is written in (the other one when the chosen is missing)
    explain_note: str | None  # set when the text is only written in the other language
    norms: tuple[Ref, ...]
    section: str | None
    quote: str | None
    articles: tuple[str, ...]
    where: str | None
    scenarios: tuple[ScenarioRef, ...] | None  # None: scenarios were not run


@dataclass(frozen=True, slots=True)
class GroupView:
    effect: str
    anchor: str
    title: str
    rules: tuple[RuleView, ...]


@dataclass(frozen=True, slots=True)
class QuestionView:
    action: str
    anchor: str
    title: str
    short: str
    groups: tuple[GroupView, ...]
    rule_count: int


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    cells: tuple[Cell, ...]
    anchor: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    anchor: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class Coverage:
    scenarios_run: bool
    total: int
    passed: int
    failed: int
    errors: int
    rules_total: int
    rules_exercised: int
    rules_unexercised: tuple[Ref, ...]
    norms_uncited: tuple[Ref, ...]
    norms_unruled: tuple[Ref, ...]
    norms_documentation: tuple[Ref, ...]
    norms_table: Table | None
    problems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AbsentDate:
    """A date the pack reads as "has not happened" when the record lacks it (docs/rule-language.md §2).

    ``windows``: ids of scalar-anchored windows with ``open_if_absent`` on this date;
    ``happened``: whether some rule has a ``happened`` condition on it; ``rules``: ids of the
    rules whose conditions read it through either, in pack order.
    """

    path: str
    windows: tuple[str, ...]
    happened: bool
    rules: tuple[str, ...]
    kinds: tuple[str, ...] = ()  # list-entry dates: the condition kinds that read it (runtime.ABSENT_ENTRY_DATES)
    compared: tuple[bool, ...] = ()  # (False,) when a `compare` with `if_absent: false` reads this date


@dataclass(frozen=True, slots=True)
class TocEntry:
    anchor: str
    title: str
    children: tuple["TocEntry", ...] = ()


@dataclass(frozen=True, slots=True)
class Review:
    lang: str
    L: Mapping[str, str]
    pack_name: str
    header: tuple[tuple[str, Segs], ...]
    combining: tuple[str, ...]
    combining_notes: tuple[str, ...]
    absent: Table | None  # None: no absent date means "has not happened" in this pack
    toc: tuple[TocEntry, ...]
    questions: tuple[QuestionView, ...]
    vocabulary: tuple[Table, ...]
    coverage: Coverage


# --- small helpers -----------------------------------------------------------------------


def anchor(prefix: str, ident: str) -> str:
    """An id attribute / fragment: only [a-z0-9._-], so it is safe in HTML, Markdown and URLs."""
    return prefix + "-" + re.sub(r"[^a-z0-9._-]", "-", str(ident).lower())


def _text(s: str) -> Segs:
    return (Seg(s),) if s else ()


def _code(s: Any, link: str | None = None) -> Segs:
    return (Seg(str(s), code=True, link=link),)


def _join(parts: Iterable[Segs], sep: str = ", ") -> Segs:
    out: list[Seg] = []
    for i, p in enumerate(parts):
        if i:
            out.append(Seg(sep))
        out.extend(p)
    return tuple(out)


def _fill(template: str, fields: Mapping[str, Segs]) -> Segs:
    """Segments of ``template`` with each ``{name}`` replaced by ``fields[name]``; literals stay text."""
    out: list[Seg] = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        if literal:
            out.append(Seg(literal))
        if name is not None:
            out.extend(fields[name])
    return tuple(out)


def _label(entry: Mapping[str, Any] | None, lang: str) -> str | None:
    labels = (entry or {}).get("label") or {}
    return _pick(labels, lang)[0] or None


def _json(value: Any) -> str:
    """A fact value as YAML and JSON write it (`false`, `0`, `"no"`)."""
    return json.dumps(value, ensure_ascii=False)


def _pick(texts: Mapping[str, str], lang: str) -> tuple[str, str | None]:
    """(text in ``lang``, or in the other language; the language used when it is not ``lang``)."""
    if texts.get(lang):
        return str(texts[lang]), None
    for other in sorted(texts):
        if texts.get(other):
            return str(texts[other]), other
    return "", None


def _ref_segs(ident: str, label: str | None, link: str | None = None) -> Segs:
    return _code(ident, link) + (_text(f" ({label})") if label else ())


def _date(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


# YAML 1.2 core scalars that are not strings (load.py reads rule files with exactly these), plus
# YAML 1.1's booleans (`yes`, `NO`: strings here, booleans to many readers and tools); and what
# else a plain scalar cannot be: empty, padded, starting with an indicator, holding `: ` or
# ` #`, or a character a reader cannot see.
_NOT_A_STRING = re.compile(
    r"(?:true|True|TRUE|false|False|FALSE|~|null|Null|NULL"
    r"|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))")
_PLAIN_UNSAFE = re.compile(r"^[\s\-?:,\[\]{}#&*!|>'\"%@`]|: |\s#|:$|\s$|[^\S ]|"
                           "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def yaml_literal(value: Any) -> str:
    """A condition value as YAML writes it, so that a reviewer reads its kind: `true`/`false`,
    numbers bare, `null`, dates as written (a YYYY-MM-DD day), and a string bare unless it would
    read as another kind or is not a plain scalar (`"1"`, `"true"`, `""`), then double-quoted
    with JSON's escapes. Pure; the templates still escape the result for HTML or Markdown."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # more digits than Python prints (sys.get_int_max_str_digits)
            return f"(a number of about {int(value.bit_length() * 0.30103) + 1} digits)"
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if not text or _NOT_A_STRING.fullmatch(text) or _PLAIN_UNSAFE.search(text):
        return json.dumps(text, ensure_ascii=False)
    return text


def _walk(preds: Iterable[Pred]) -> Iterable[Pred]:
    for p in preds:
        yield p
        yield from _walk(p.children)


def _quotes(info: Mapping[str, Any]) -> tuple[str, ...]:
    quote = info.get("quote")
    if isinstance(quote, str):
        return (quote,)
    return tuple(str(q) for q in quote) if isinstance(quote, (list, tuple)) else ()


def absent_dates(pack: Pack) -> tuple[AbsentDate, ...]:
    """Every date of the record whose absence the pack reads as "has not happened", sorted by path.

    Derived from the pack alone: the anchors of windows with ``open_if_absent`` (scalar anchors
    only: a list anchor with no entries is no window whatever the flag says) and the paths of
    every ``happened`` condition, negated or not, at any depth; and the end dates of list
    entries (``consents[].withdrawn_on`` ...) that the condition kinds the pack's rules use read
    as "has not happened" (compile.runtime.ABSENT_ENTRY_DATES). Pure.
    """
    from ..compile.runtime import ABSENT_ENTRY_DATES

    windows: dict[str, list[str]] = {}
    for wid, w in pack.vocabulary.windows.items():
        if w.open_if_absent and not w.is_list:
            windows.setdefault(w.anchor, []).append(wid)
    happened: set[str] = set()
    rules: dict[str, list[str]] = {}
    kinds: dict[str, list[str]] = {}
    compared: dict[str, list[bool]] = {}
    for r in sorted(pack.rules, key=lambda r: r.order):
        for p in _walk(r.when):
            path: str | None = None
            if p.kind == "happened":
                path = str(p.arg)
                happened.add(path)
            elif p.kind in ("within", "expired"):
                used = pack.vocabulary.windows.get(str(p.arg))
                if used is not None and used.open_if_absent and not used.is_list:
                    path = used.anchor
            elif p.kind == "compare" and p.arg.get("if_absent") is False:
                # an absent day makes the comparison false: "has not happened" (R3: an end day
                # not recorded has not come). `if_absent: true` reads absence the other way
                # (R8: a start not recorded has come), so it is not listed here
                for side in (p.arg["left"], p.arg["right"]):
                    if isinstance(side, str) and side != "as_of":
                        if p.arg["if_absent"] not in compared.setdefault(side, []):
                            compared[side].append(p.arg["if_absent"])
                        if r.id not in rules.setdefault(side, []):
                            rules[side].append(r.id)
            if path is not None and r.id not in rules.setdefault(path, []):
                rules[path].append(r.id)
            for entry in ABSENT_ENTRY_DATES.get(p.kind, ()):
                if p.kind not in kinds.setdefault(entry, []):
                    kinds[entry].append(p.kind)
                if r.id not in rules.setdefault(entry, []):
                    rules[entry].append(r.id)
    return tuple(AbsentDate(path=path, windows=tuple(windows.get(path, ())), happened=path in happened,
                            rules=tuple(rules.get(path, ())), kinds=tuple(kinds.get(path, ())),
                            compared=tuple(sorted(compared.get(path, ()))))
                 for path in sorted(set(windows) | happened | set(kinds) | set(compared)))


# --- the builder ---------------------------------------------------------------------------


class _Builder:
    def __init__(self, pack: Pack, lang: str, report: Any | None, as_of: date | None) -> None:
        if lang not in UI:
            raise ValueError(f"unknown language `{lang}`; use one of {sorted(UI)}")
        self.pack, self.lang, self.report, self.as_of = pack, lang, report, as_of
        self.L = UI[lang]
        self.v = pack.vocabulary
        self.norm_meta: Mapping[str, Any] = pack.meta.get("norms") or {}

    # labels of vocabulary entries
    def label(self, section: str, ident: str) -> str | None:
        if section == "lawful_bases":
            b = self.v.lawful_bases.get(ident)
            return _pick(b.label, self.lang)[0] or None if b else None
        if section == "recipients":
            r = self.v.recipients.get(ident)
            return r.name if r else None
        if section == "recipient_kinds":
            return self.L.get(f"kind_{ident}")
        entries = getattr(self.v, section, {})
        return _label(entries.get(ident), self.lang)

    def link(self, section: str, ident: str) -> str | None:
        """The anchor of a vocabulary entry's table row, or None when there is no such entry."""
        entries = getattr(self.v, section, {})
        return anchor(ROW_PREFIX[section], ident) if section in ROW_PREFIX and ident in entries else None

    def ref(self, section: str, ident: str) -> Segs:
        return _ref_segs(ident, self.label(section, ident), self.link(section, ident))

    def length(self, months: int) -> str:
        # Whole years from three up read as the policy does ("tre år"); shorter periods stay in
        # months ("24 måneder"): the pack keeps only the month count, not how the author wrote it.
        if months % 12 == 0 and months >= 36:
            n = months // 12
            return f"{n} {self.L['year'] if n == 1 else self.L['years']}"
        return f"{months} {self.L['month'] if months == 1 else self.L['months']}"

    def window_desc(self, w: Window) -> Segs:
        texts = WINDOW[self.lang]
        key = "scalar" if not w.is_list else ("list_future" if w.count_future else "list")
        segs = _fill(texts[key], {"n": _text(self.length(w.months)), "anchor": _code(w.anchor)})
        if w.open_if_absent:
            segs += _fill(texts["open_if_absent"], {"anchor": _code(w.anchor)})
        return segs

    def window_ref(self, wid: str) -> tuple[Segs, Segs]:
        w = self.v.windows.get(wid)
        return _code(wid, self.link("windows", wid)), (self.window_desc(w) if w else _text("?"))

    # conditions
    def cond(self, pred: Pred, negated: bool = False) -> Cond:
        if pred.kind == "not" and pred.children:
            return self.cond(pred.children[0], not negated)
        if pred.kind in ("all", "any"):
            pos, neg = PHRASES[(pred.kind, "*")][self.lang]
            return Cond(segs=_text(neg if negated else pos), children=tuple(self.cond(c) for c in pred.children))
        return Cond(segs=self.leaf(pred, negated))

    def leaf(self, pred: Pred, negated: bool) -> Segs:
        kind, arg = pred.kind, pred.arg
        if kind == "fact":
            op = FACT_NEGATION[arg["op"]] if negated else arg["op"]
            value = arg["value"]
            # as YAML literals, so that `equals: "1"`, `equals: 1` and `equals: true` read apart;
            # a list in the order the pack keeps it (pack._fact_values: by kind, then value)
            shown = (_join(_code(yaml_literal(x)) for x in value) if isinstance(value, (tuple, list))
                     else _code(yaml_literal(value)))
            return _fill(FACT_OPS[self.lang][op], {"path": _code(arg["path"]), "v": shown})
        if kind == "compare":  # two days of the record (docs/rule-language.md)
            texts = COMPARE_TEXT[self.lang]
            op = FACT_NEGATION[arg["op"]] if negated else arg["op"]
            absent = arg["if_absent"]
            if absent is not None and negated:
                absent = not absent
            note = texts["absent_unknown" if absent is None else "absent_true" if absent else "absent_false"]
            return _fill(FACT_OPS[self.lang][op], {"path": self.day(arg["left"]), "v": self.day(arg["right"])}) + \
                _text(note)
        fields: dict[str, Segs] = {}
        key: tuple[str, str]
        if kind == "subject":
            cats = (arg,) if isinstance(arg, str) else tuple(arg)
            fields["cats"] = _join(self.ref("subject_categories", c) for c in cats)
            key = (kind, "one" if len(cats) == 1 else "many")
        elif kind in ("recipient_listed", "channel_electronic"):
            key = (kind, "true")
            negated = negated if arg else not negated
        else:
            key = (kind, str(arg)) if (kind, str(arg)) in PHRASES else (kind, "*")
        if key not in PHRASES:
            key = ("unknown", "*")
            fields["raw"] = _code(f"{kind}: {yaml_literal(arg)}")
        if kind in ("within", "expired"):
            fields["w"], fields["wdesc"] = self.window_ref(str(arg))
        elif kind == "happened":
            fields["path"] = _code(arg)
        elif kind in ("consent", "consent_withdrawn"):
            fields["p"] = self.ref("purposes", str(arg))
        elif kind in ("data_category", "shares_category"):
            fields["c"] = self.ref("data_categories", str(arg))
        elif kind == "keep":
            fields["scope"] = self.ref("scopes", self.pack.default_scope)
        pos, neg = PHRASES[key][self.lang]
        return _fill(neg if negated else pos, fields)

    def day(self, operand: Any) -> Segs:
        """A `compare` operand in words: a record field, the day asked about, a window's end."""
        texts = COMPARE_TEXT[self.lang]
        if operand == "as_of":
            return _text(texts["as_of"])
        if isinstance(operand, tuple):
            return _fill(texts["window_end"], {"w": self.window_ref(operand[1])[0]})
        return _code(operand)

    # rules
    def scenario_map(self) -> dict[str, list[ScenarioRef]] | None:
        if self.report is None:
            return None
        out: dict[str, list[ScenarioRef]] = {}
        for r in self.report.results:
            if r.decision is None:
                continue
            sref = ScenarioRef(name=r.scenario.name, where=f"{r.scenario.span.file}:{r.scenario.span.line}",
                               result=r.result.value)
            seen: set[str] = set()
            for a in r.decision.applied:
                # a rule is exercised when it held or decided (scenarios.coverage): unknown does not count
                if a.status is not RuleStatus.UNKNOWN and a.rule_id not in seen:
                    seen.add(a.rule_id)
                    out.setdefault(a.rule_id, []).append(sref)
        return out

    def rule(self, rule: Rule, scenarios: dict[str, list[ScenarioRef]] | None) -> RuleView:
        L, lang = self.L, self.lang
        targets = []
        for attr, section in (("scopes", "scopes"), ("purposes", "purposes"), ("channels", "channels"),
                              ("recipients", "recipients"), ("recipient_kinds", "recipient_kinds")):
            values = getattr(rule, attr)
            if values:
                targets.append((L[f"t_{attr}"], tuple(Ref(id=x, label=self.label(section, x), anchor=self.link(section, x))
                                                      for x in values)))
        basis: Segs | None = None
        if rule.basis:
            b = self.v.lawful_bases.get(rule.basis)
            parts = [self.ref("lawful_bases", rule.basis)]
            if b is not None:
                parts.append(_text(b.article) + (_text(" ") + _code(b.dpv) if b.dpv else ()))
            basis = _join(parts, "; ")
        elif rule.effect in (Effect.PERMIT, Effect.OVERRIDE):
            basis = _text(L["basis_from_purpose"])
        obligations = []
        for o in rule.obligations:
            due = None
            if o.due:
                wid, wdesc = self.window_ref(o.due)
                due = _text(L["due"] + " ") + wid + _text(" (") + wdesc + _text(")")
            obligations.append(ObligationView(id=o.id, article=o.article, text=_pick(o.text, lang)[0], due=due))
        explain, other = _pick(rule.explain, lang)
        note = f"{L['only_in']} {LANG_NAME[lang][other]}" if other else None
        c = rule.citation
        return RuleView(
            id=rule.id, anchor=anchor("rule", rule.id), effect=rule.effect.value,
            effect_label=L[f"effect_{rule.effect.value}"], targets=tuple(targets),
            conditions=tuple(self.cond(p) for p in rule.when), basis=basis, obligations=tuple(obligations),
            explain=explain, explain_lang=other or lang, explain_note=note,
            norms=tuple(Ref(id=n, label=(self.norm_meta.get(n) or {}).get("title"),
                            anchor=anchor("norm", n) if n in self.norm_meta else None) for n in c.norms),
            section=c.section, quote=c.quote, articles=c.articles,
            where=f"{rule.span.file}:{rule.span.line}" if rule.span else None,
            scenarios=None if scenarios is None else tuple(scenarios.get(rule.id, ())),
        )

    def questions(self) -> tuple[QuestionView, ...]:
        scenarios = self.scenario_map()
        out = []
        for action in QUESTION_ORDER:
            rules = sorted((r for r in self.pack.rules if r.question is action), key=lambda r: r.order)
            groups = []
            for effect in EFFECT_ORDER:
                members = tuple(self.rule(r, scenarios) for r in rules if r.effect is effect)
                if members:
                    groups.append(GroupView(effect=effect.value, anchor=anchor(f"q-{action.value}", effect.value),
                                            title=self.L[f"effect_{effect.value}_long"], rules=members))
            out.append(QuestionView(action=action.value, anchor=f"q-{action.value}", title=self.L[f"q_{action.value}"],
                                    short=self.L[f"q_{action.value}_short"], groups=tuple(groups),
                                    rule_count=len(rules)))
        return tuple(out)

    # vocabulary tables
    def yes(self, value: Any) -> Cell:
        return (_text(self.L["yes"] if value else self.L["no"]),)

    def vocabulary(self) -> tuple[Table, ...]:
        L, lang, v = self.L, self.lang, self.v
        tables = []

        def table(name: str, headers: Iterable[str], rows: Iterable[Row]) -> None:
            rows = tuple(replace(r, anchor=anchor(ROW_PREFIX[name], r.key)) for r in rows)
            if rows:
                tables.append(Table(name=name, anchor=f"v-{name.replace('_', '-')}", title=L[f"v_{name}"],
                                    headers=tuple(L[h] for h in headers), rows=rows))

        table("lawful_bases", ("c_id", "c_label", "c_article", "c_dpv"), (
            Row(key=k, cells=((_code(k),), (_text(_pick(b.label, lang)[0]),), (_text(b.article),),
                       (_code(b.dpv),) if b.dpv else ()))
            for k, b in v.lawful_bases.items()))
        table("purposes", ("c_id", "c_label", "c_basis", "c_direct_marketing", "c_categories"), (
            Row(key=k, cells=((_code(k),), (_text(_label(p, lang) or ""),),
                              (self.basis_cell(p.get("basis")),), self.yes(p.get("direct_marketing")),
                              self.categories_cell(p.get("categories"))))
            for k, p in v.purposes.items()))
        table("recipients", ("c_id", "c_name", "c_kind", "c_country", "c_eea", "c_listed", "c_dpa", "c_transfers",
                             "c_purposes", "c_categories"), (self.recipient_row(r) for r in v.recipients.values()))
        table("transfer_mechanisms", ("c_id", "c_label", "c_article", "c_dpv", "c_valid_from", "c_valid_until"), (
            Row(key=k, cells=((_code(k),), (_text(_pick(m.label, lang)[0]),), (_text(m.article or ""),),
                              (_code(m.dpv),) if m.dpv else (),
                              (_text(_date(m.valid_from) if m.valid_from else "—"),),
                              (_text(_date(m.valid_until) if m.valid_until else L["open_ended"]),)))
            for k, m in v.transfer_mechanisms.items()))
        # N53, N49: which ways of obtaining consent count, per purpose and day asked (rule-language.md)
        table("consent_mechanisms", ("c_mechanism", "c_purposes", "c_valid_from", "c_valid_until", "c_note"), (
            Row(key=f"{m.mechanism}-{i}", cells=(
                (_code(m.mechanism),),
                (_join(_code(p, self.link("purposes", p)) for p in sorted(m.purposes)),) if m.purposes
                else (_text(L["all_purposes"]),),
                (_text(_date(m.valid_from) if m.valid_from else "—"),),
                (_text(_date(m.valid_until) if m.valid_until else L["open_ended"]),),
                (_text(m.note or ""),)))
            for i, m in enumerate(v.consent_mechanisms or ())))
        table("windows", ("c_id", "c_anchor", "c_length", "c_open_if_absent", "c_count_future"), (
            Row(key=k, cells=((_code(k),), (_code(w.anchor),), (_text(self.length(w.months)),),
                              self.yes(w.open_if_absent), self.yes(w.count_future)))
            for k, w in v.windows.items()))
        table("channels", ("c_id", "c_label", "c_electronic"), (
            Row(key=k, cells=((_code(k),), (_text(_label(c, lang) or ""),), self.yes(c.get("electronic"))))
            for k, c in v.channels.items()))
        table("subject_categories", ("c_id", "c_label"), (
            Row(key=k, cells=((_code(k),), (_text(_label(c, lang) or ""),))) for k, c in v.subject_categories.items()))
        table("scopes", ("c_id", "c_label", "c_default"), (
            Row(key=k, cells=((_code(k),), (_text(_label(c, lang) or ""),), self.yes(k == self.pack.default_scope)))
            for k, c in v.scopes.items()))
        table("data_categories", ("c_id", "c_label"), (
            Row(key=k, cells=((_code(k),), (_text(_label(c, lang) or ""),))) for k, c in v.data_categories.items()))
        table("facts", ("c_id", "c_label", "c_kind", "c_if_absent", "c_note"), (
            Row(key=k, cells=((_code(f"facts.{k}"),), (_text(_pick(f.label, lang)[0]),), (_text(f.kind or "—"),),
                              (_code(_json(f.if_absent)),) if f.if_absent is not None else (_text("—"),),
                              (_text(f.note or ""),)))
            for k, f in declared_facts(self.pack).items()))
        return tuple(tables)

    def basis_cell(self, basis_id: str | None) -> Segs:
        if not basis_id:
            return _text("—")
        b = self.v.lawful_bases.get(basis_id)
        return _code(basis_id, self.link("lawful_bases", basis_id)) + (_text(f" ({b.article})") if b else ())

    def categories_cell(self, cats: Any) -> Cell:
        """The data categories a recipient or purpose is limited to (issue 11 item 3); "no limit" when none."""
        if cats is None:
            return (_text(self.L["no_limit"]),)
        return (_join(_code(c, self.link("data_categories", c)) for c in cats),) if cats else (_text(self.L["none"]),)

    def recipient_row(self, r: Any) -> Row:
        L = self.L
        if r.dpa_signed_on:
            ends = f"{L['dpa_ends']} {_date(r.dpa_ends_on)}" if r.dpa_ends_on else L["dpa_open"]
            dpa: Cell = (_text(f"{L['dpa_signed']} {_date(r.dpa_signed_on)}"), _text(ends))
        else:
            dpa = (_text(L["dpa_missing"] if r.kind == "processor" else L["dpa_not_applicable"]),)
        transfers: list[Segs] = []
        for t in r.transfers:
            period = f"{L['from']} {_date(t.from_on) if t.from_on else '—'}" + (
                f" {L['until']} {_date(t.until_on)}" if t.until_on else "")
            m = self.v.transfer_mechanisms.get(t.mechanism)
            if m is None or not (m.valid_from or m.valid_until):
                validity = L["always_valid"]
            else:
                validity = L["mechanism_valid"] + " " + " ".join(filter(None, (
                    f"{L['from']} {_date(m.valid_from)}" if m.valid_from else "",
                    f"{L['until']} {_date(m.valid_until)}" if m.valid_until else "")))
            article = f"{m.article}; " if m is not None and m.article else ""
            transfers.append(_code(t.mechanism, self.link("transfer_mechanisms", t.mechanism))
                             + _text(f": {period} ({article}{validity})"))
        if not transfers:
            transfers.append(_text(L["not_needed_eea"] if r.eea else L["no_transfers"]))
        kind = L.get(f"kind_{r.kind}", r.kind)
        return Row(key=r.id, cells=(
            (_code(r.id),), (_text(r.name),), (_text(kind),), (_text(r.country or "—"),), self.yes(r.eea),
            self.yes(r.listed_in_policy), dpa, tuple(transfers),
            (_join(_code(p, self.link("purposes", p)) for p in r.purposes),) if r.purposes else (_text(L["none"]),),
            self.categories_cell(r.categories),
        ))

    # coverage
    def coverage(self) -> Coverage:
        L = self.L
        rule_ids = [r.id for r in self.pack.rules]
        cited_by_rules: dict[str, list[str]] = {}
        for r in self.pack.rules:
            for n in r.citation.norms:
                cited_by_rules.setdefault(n, []).append(r.id)
        cited_by_scenarios: dict[str, int] = {}
        results = self.report.results if self.report is not None else ()
        for res in results:
            for n in res.scenario.norms:
                cited_by_scenarios[n] = cited_by_scenarios.get(n, 0) + 1

        def norm_ref(n: str) -> Ref:
            return Ref(id=n, label=(self.norm_meta.get(n) or {}).get("title"), anchor=anchor("norm", n))

        documentation = tuple(norm_ref(n) for n, info in self.norm_meta.items()
                              if (info or {}).get("covered_by") == "documentation")
        unruled = tuple(norm_ref(n) for n, info in self.norm_meta.items()
                        if (info or {}).get("covered_by") == "rules" and n not in cited_by_rules)
        norms_table = None
        if self.norm_meta:
            rows = []
            for n, info in self.norm_meta.items():
                info = info or {}
                rows.append(Row(key=n, anchor=anchor("norm", n), cells=(
                    (_code(n),), (_text(str(info.get("title", ""))),), (_text(str(info.get("covered_by", ""))),),
                    (_join(_code(rid, anchor("rule", rid)) for rid in cited_by_rules.get(n, ())),)
                    if n in cited_by_rules else (_text("—"),),
                    (_text(str(cited_by_scenarios.get(n, 0)) if self.report is not None else "—"),),
                    self.rests_on(info),
                    (_text(str(info.get("note", ""))),),
                )))
            norms_table = Table(name="norms", anchor="coverage-norms", title=L["norms_table"],
                                headers=tuple(L[h] for h in ("c_id", "c_title", "c_covered_by", "c_cited_by_rules",
                                                             "c_cited_by_scenarios", "c_rests_on", "c_note")),
                                rows=tuple(rows))
        if self.report is None:
            return Coverage(scenarios_run=False, total=0, passed=0, failed=0, errors=0, rules_total=len(rule_ids),
                            rules_exercised=0, rules_unexercised=(), norms_uncited=(), norms_unruled=unruled,
                            norms_documentation=documentation, norms_table=norms_table, problems=())
        cov = self.report.coverage
        by_result = {"pass": 0, "fail": 0, "error": 0}
        for res in results:
            by_result[res.result.value] = by_result.get(res.result.value, 0) + 1
        return Coverage(
            scenarios_run=True, total=len(results), passed=by_result["pass"], failed=by_result["fail"],
            errors=by_result["error"], rules_total=cov.rules_total, rules_exercised=len(cov.rules_exercised),
            rules_unexercised=tuple(Ref(id=i, anchor=anchor("rule", i)) for i in cov.rules_unexercised),
            norms_uncited=tuple(norm_ref(n) for n in cov.norms_uncited), norms_unruled=unruled,
            norms_documentation=documentation, norms_table=norms_table,
            problems=tuple(str(d) for d in self.report.diagnostics),
        )

    def rests_on(self, info: Mapping[str, Any]) -> Cell:
        """The norm's quoted policy sentences (in the policy's language, as written) and its law, one per line."""
        lines: list[Segs] = [_text(f"«{q}»") for q in _quotes(info)]
        if info.get("grounds"):
            lines.append(_text(f"{self.L['grounds']}: {info['grounds']}"))
        return tuple(lines) or (_text("—"),)

    def absent(self) -> Table | None:
        rows = []
        for a in absent_dates(self.pack):
            by: list[Segs] = [_fill(self.L["absent_window"], {"w": _code(w, self.link("windows", w))})
                              for w in a.windows]
            if a.happened:
                by.append(_fill(self.L["absent_happened"], {"h": _code("happened")}))
            by += [_fill(self.L["absent_entry"], {"k": _code(k)}) for k in a.kinds]
            by += [_fill(self.L["absent_compare_false"], {"c": _code("compare")}) for _v in a.compared]
            rows.append(Row(key=a.path, anchor=anchor("absent", a.path), cells=(
                (_code(a.path),), tuple(by),
                (_join(_code(rid, anchor("rule", rid)) for rid in a.rules),) if a.rules else (_text("—"),),
            )))
        reads: dict[str, list[str]] = {}
        for read in fact_reads(self.pack):
            if read.rule is not None and read.rule.id not in reads.setdefault(read.name, []):
                reads[read.name].append(read.rule.id)
        for name, f in declared_facts(self.pack).items():
            if f.if_absent is None:
                continue
            path = f"facts.{name}"
            rules = reads.get(name, [])
            rows.append(Row(key=path, anchor=anchor("absent", path), cells=(
                (_code(path),), (_fill(self.L["absent_value"], {"v": _code(_json(f.if_absent))}),),
                (_join(_code(rid, anchor("rule", rid)) for rid in rules),) if rules else (_text("—"),),
            )))
        if not rows:
            return None
        return Table(name="absent_dates", anchor="absent-dates-table", title=self.L["absent"],
                     headers=tuple(self.L[h] for h in ("c_date", "c_absent_by", "c_absent_rules")), rows=tuple(rows))

    def header(self) -> tuple[tuple[str, Segs], ...]:
        L, meta = self.L, self.pack.meta
        review = meta.get("review") or {}
        rows: list[tuple[str, Segs]] = [
            (L["pack_name"], _text(self.pack.name)),
            (L["pack_id"], _code(self.pack.id)),
            (L["version"], _code(self.pack.version)),
            (L["controller"], _text(str(meta.get("controller") or L["not_given"]))),
        ]
        for key in ("jurisdiction", "time_zone"):
            if meta.get(key):
                rows.append((L[key], _text(str(meta[key]))))
        rows.append((L["default_scope"], self.ref("scopes", self.pack.default_scope)))
        if meta.get("source"):
            source = str(meta["source"])
            # a path is relative to the pack folder (check refuses one outside it, PR220); a URL stands alone
            where = () if re.match(r"^https?://", source, re.IGNORECASE) else _text(f" ({L['source_in_pack']})")
            rows.append((L["source"], _code(source) + where))
        for key in ("reviewer", "reviewed_on", "next_review"):
            rows.append((L[key], _text(_date(review[key]) if review.get(key) else L["not_given"])))
        if self.as_of is not None:
            rows.append((L["generated_for"], _text(self.as_of.isoformat())))
        rows.append((L["rule_count"], _text(str(len(self.pack.rules)))))
        if self.report is not None:
            rows.append((L["scenario_count"], _text(str(len(self.report.results)))))
        return tuple(rows)

    def build(self) -> Review:
        L = self.L
        questions = self.questions()
        vocabulary = self.vocabulary()
        toc = (
            TocEntry(anchor="about", title=L["about"]),
            TocEntry(anchor="combining", title=L["combining"]),
            TocEntry(anchor="absent-dates", title=L["absent"]),
            TocEntry(anchor="questions", title=L["questions"], children=tuple(
                TocEntry(anchor=q.anchor, title=f"{q.short} ({q.rule_count})",
                         children=tuple(TocEntry(anchor=g.anchor, title=f"{L['effect_' + g.effect]} ({len(g.rules)})")
                                        for g in q.groups))
                for q in questions)),
            TocEntry(anchor="vocabulary", title=L["vocabulary"],
                     children=tuple(TocEntry(anchor=t.anchor, title=t.title) for t in vocabulary)),
            TocEntry(anchor="coverage", title=L["coverage"]),
        )
        return Review(lang=self.lang, L=L, pack_name=self.pack.name, header=self.header(),
                      combining=COMBINING[self.lang], combining_notes=COMBINING_NOTES[self.lang],
                      absent=self.absent(), toc=toc,
                      questions=questions, vocabulary=vocabulary, coverage=self.coverage())


def build_view(pack: Pack, *, lang: str = "en", report: Any | None = None, as_of: date | None = None) -> Review:
    """The review document's content for ``pack`` in ``lang``; pure, raises ValueError for an unknown language."""
    return _Builder(pack, lang, report, as_of).build()
