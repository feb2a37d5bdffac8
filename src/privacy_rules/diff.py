"""What changed between two versions of a pack, and which decisions flip because of it.

Two layers, both pure (no I/O, no clock; the caller streams the records in):

* :func:`diff_packs` compares two loaded packs: rules added, removed or changed (and which
  fields changed), vocabulary entries per section and id with old and new values, and pack
  metadata (``pack:`` keys such as ``default_scope`` or ``questions``).
* :func:`diff_decisions` runs both compiled packs over the same records, one record at a
  time (the stream is read once), and counts per question how many records went from one
  outcome to another, with up to :data:`MAX_EXAMPLES` example record ids per transition.

Every result is a frozen value with ``to_json()``; lists keep a fixed order (pack order for
rules, section then id for vocabulary, largest count first for flips) so output is stable.

A :class:`~privacy_rules.model.Pack` keeps the lines of its rules but not of its vocabulary
entries; :func:`read_vocabulary_spans` reads them from the pack's ``pack.yaml`` (the one
function here that reads a file) and :func:`diff_packs` / :func:`compare` take them as
arguments, so a vocabulary change can point at its line.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .errors import PackError
from .load import LoadedYaml, load_yaml_file
from .model import Basis, FactSpec, Mechanism, Outcome, Pack, Pred, Question, Recipient, Rule, Span, Window
from .policy import BatchRow, Policy, QuestionError

MAX_EXAMPLES = 5

#: Rule fields compared, in the order they are reported. ``targets`` groups the question and
#: every target list (scopes, purposes, channels, recipients, recipient_kinds).
RULE_FIELDS = ("effect", "targets", "conditions", "basis", "obligations", "citations", "explain")

#: Vocabulary sections, in the order pack.yaml documents them.
VOCABULARY_SECTIONS = ("lawful_bases", "subject_categories", "scopes", "purposes", "channels",
                       "data_categories", "transfer_mechanisms", "recipients", "windows", "facts")


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldChange:
    """One field whose value differs: ``old`` and ``new`` are plain JSON data (None = absent)."""

    field: str
    old: Any
    new: Any
    span: Span | None = None  # pack settings only: where it stands (new pack, or old when removed)

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleChange:
    """A rule added, removed or changed; ``fields`` lists what changed (empty unless changed)."""

    rule_id: str
    kind: str  # added | removed | changed
    fields: tuple[FieldChange, ...] = ()
    old_span: Span | None = None
    new_span: Span | None = None

    @property
    def span(self) -> Span | None:
        """Where to point a reader: the new rule, or the old one for a removed rule."""
        return self.new_span or self.old_span

    def to_json(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "kind": self.kind, "fields": [f.to_json() for f in self.fields],
                "old_location": _span_json(self.old_span), "new_location": _span_json(self.new_span)}


@dataclass(frozen=True, slots=True, kw_only=True)
class VocabularyChange:
    """One vocabulary entry (``section``/``id``) added, removed or changed, with both values,
    and where the entry stands in each pack's ``pack.yaml`` (None when not given)."""

    section: str
    id: str
    kind: str  # added | removed | changed
    old: Any = None
    new: Any = None
    fields: tuple[FieldChange, ...] = ()
    old_span: Span | None = None
    new_span: Span | None = None

    @property
    def span(self) -> Span | None:
        """Where to point a reader: the entry in the new pack, or in the old one when removed."""
        return self.new_span or self.old_span

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "id": self.id, "kind": self.kind, "old": self.old, "new": self.new,
                "fields": [f.to_json() for f in self.fields],
                "old_location": _span_json(self.old_span), "new_location": _span_json(self.new_span)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Flip:
    """``count`` records whose answer went from ``old`` to ``new`` (outcome values)."""

    old: str
    new: str
    count: int
    examples: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "count": self.count, "examples": list(self.examples)}


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionFlips:
    """The flips of one question. ``problem`` says why it was not asked (a pack cannot answer it).

    ``other_changes`` counts records with the same outcome but another decisive rule or
    keep-until day (a window shortened from 24 to 12 months moves keep_until for every
    prospect still inside it).
    """

    question: str
    flips: tuple[Flip, ...] = ()
    unchanged: int = 0
    other_changes: int = 0
    other_examples: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def flipped(self) -> int:
        return sum(f.count for f in self.flips)

    def to_json(self) -> dict[str, Any]:
        return {"question": self.question, "problem": self.problem, "flipped": self.flipped,
                "unchanged": self.unchanged, "flips": [f.to_json() for f in self.flips],
                "other_changes": self.other_changes, "other_examples": list(self.other_examples)}


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionDiff:
    """Flips per question over ``records`` records (``invalid`` of them could not be read)."""

    as_of: date
    records: int
    invalid: int
    questions: tuple[QuestionFlips, ...]

    @property
    def changed(self) -> bool:
        return any(q.flips or q.other_changes for q in self.questions)

    def to_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "records": self.records, "invalid": self.invalid,
                "questions": [q.to_json() for q in self.questions]}


@dataclass(frozen=True, slots=True, kw_only=True)
class PackDiff:
    """Everything that differs between two packs; ``decisions`` only when records were given."""

    old_pack: str  # the pack's folder, as given
    new_pack: str
    old_version: str
    new_version: str
    meta: tuple[FieldChange, ...] = ()
    rules: tuple[RuleChange, ...] = ()
    vocabulary: tuple[VocabularyChange, ...] = ()
    decisions: DecisionDiff | None = None

    @property
    def changed(self) -> bool:
        """True when anything a reviewer should look at differs (the `--fail-on-change` test)."""
        return bool(self.meta or self.rules or self.vocabulary) or bool(self.decisions and self.decisions.changed)

    def rules_of(self, kind: str) -> tuple[RuleChange, ...]:
        return tuple(r for r in self.rules if r.kind == kind)

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": 1,
            "old": {"pack": self.old_pack, "version": self.old_version},
            "new": {"pack": self.new_pack, "version": self.new_version},
            "changed": self.changed,
            "meta": [f.to_json() for f in self.meta],
            "rules": [r.to_json() for r in self.rules],
            "vocabulary": [v.to_json() for v in self.vocabulary],
            "decisions": self.decisions.to_json() if self.decisions else None,
        }


# --- packs ---------------------------------------------------------------------------------


VocabularySpans = Mapping[tuple[str, str], Span]
"""Where each vocabulary entry stands: ``(section, id)`` -> the span of its key in pack.yaml."""


def diff_packs(old: Pack, new: Pack, *, decisions: DecisionDiff | None = None,
               old_spans: VocabularySpans | None = None, new_spans: VocabularySpans | None = None) -> PackDiff:
    """The rule, vocabulary and metadata changes from ``old`` to ``new``. Pure.

    ``old_spans``/``new_spans`` (from :func:`read_vocabulary_spans`) give vocabulary and
    pack-setting changes their lines; without them those changes carry no location.
    """
    return PackDiff(
        old_pack=old.root, new_pack=new.root, old_version=old.version, new_version=new.version,
        meta=tuple(_setting_changes(old, new, old_spans or {}, new_spans or {})),
        rules=tuple(_rule_changes(old, new)),
        vocabulary=tuple(_vocabulary_changes(old, new, old_spans or {}, new_spans or {})),
        decisions=decisions,
    )


def vocabulary_spans(head: LoadedYaml) -> VocabularySpans:
    """``(section, id)`` -> span of the entry's key, for every vocabulary entry of a loaded
    pack.yaml (:data:`VOCABULARY_SECTIONS` only). Pure."""
    out: dict[tuple[str, str], Span] = {}
    for path, span in head.spans.items():
        if len(path) == 3 and path[0] == "vocabulary" and path[1] in VOCABULARY_SECTIONS and isinstance(path[2], str):
            out[(str(path[1]), path[2])] = span
        # pack settings too: ("pack", "time_zone"), and one level down ("pack", "norms.N3")
        elif path[:1] == ("pack",) and len(path) in (2, 3) and all(isinstance(k, str) for k in path):
            out[("pack", ".".join(str(k) for k in path[1:]))] = span
    return MappingProxyType(out)


def _setting_changes(old: Pack, new: Pack, old_spans: VocabularySpans,
                     new_spans: VocabularySpans) -> Iterator[FieldChange]:
    """The changed keys under ``pack:``, each with the line of what changed: the first changed
    entry of a mapping (``norms.N3``, ``review.next_review``), else the key itself; in the new
    pack.yaml, or in the old one when the entry was removed."""
    for f in _field_changes(_plain(dict(old.meta)), _plain(dict(new.meta))):
        where, gone = [f.field], False
        if isinstance(f.old, dict) and isinstance(f.new, dict):
            sub = next((k for k in list(f.new) + [k for k in f.old if k not in f.new]
                        if _text(f.old.get(k)) != _text(f.new.get(k))), None)
            if sub is not None:
                where.insert(0, f"{f.field}.{sub}")
                gone = sub not in f.new
        span = None
        for key in where:
            removed = f.new is None or (key != f.field and gone)
            span = (old_spans if removed else new_spans).get(("pack", key))
            if span is not None:
                break
        yield FieldChange(field=f.field, old=f.old, new=f.new, span=span)


def read_vocabulary_spans(pack: Pack) -> VocabularySpans:
    """:func:`vocabulary_spans` of ``pack``'s pack.yaml, read again from its folder (a Pack
    keeps no vocabulary lines). The file is named as ``load_pack`` names it (relative to the
    working folder when it can be). An empty mapping when the file cannot be read or parsed
    any more: the diff is still right, only without those lines."""
    path = os.path.join(pack.root, "pack.yaml")
    try:
        path = os.path.relpath(path)
    except ValueError:  # another drive on Windows: keep the path as given
        pass
    try:
        return vocabulary_spans(load_yaml_file(path))
    except PackError:
        return MappingProxyType({})


def _rule_changes(old: Pack, new: Pack) -> Iterator[RuleChange]:
    before = {r.id: r for r in old.rules}
    after = {r.id: r for r in new.rules}
    # Removed rules first, in the old pack's order; then the new pack's rules in its order.
    for r in old.rules:
        if r.id not in after:
            yield RuleChange(rule_id=r.id, kind="removed", old_span=r.span)
    for r in new.rules:
        was = before.get(r.id)
        if was is None:
            yield RuleChange(rule_id=r.id, kind="added", new_span=r.span)
            continue
        fields = tuple(_field_changes(rule_fields(was), rule_fields(r)))
        if fields:
            yield RuleChange(rule_id=r.id, kind="changed", fields=fields, old_span=was.span, new_span=r.span)


def rule_fields(rule: Rule) -> dict[str, Any]:
    """A rule's comparable fields (:data:`RULE_FIELDS`) as plain JSON data, in the YAML's words."""
    targets: dict[str, Any] = {"question": rule.question.value}
    for key in ("scopes", "purposes", "channels", "recipients", "recipient_kinds"):
        value = getattr(rule, key)
        if value is not None:
            targets[key] = list(value)
    c = rule.citation
    return {
        "effect": rule.effect.value,
        "targets": targets,
        "conditions": [pred_json(p) for p in rule.when],
        "basis": rule.basis,
        "obligations": [{"id": o.id, "article": o.article, "text": dict(o.text), "due": o.due}
                        for o in rule.obligations],
        "citations": {"norms": list(c.norms), "section": c.section, "quote": c.quote, "articles": list(c.articles)},
        "explain": dict(rule.explain),
    }


def pred_json(p: Pred) -> Any:
    """A condition back in its YAML form: ``{"within": "prospect"}``, ``{"all": [...]}``."""
    if p.kind in ("all", "any"):
        return {p.kind: [pred_json(c) for c in p.children]}
    if p.kind == "not":
        return {"not": pred_json(p.children[0])}
    if p.kind == "fact":
        arg = p.arg
        return {"fact": {"path": arg["path"], arg["op"]: _plain(arg["value"])}}
    return {p.kind: _plain(p.arg)}


def _vocabulary_changes(old: Pack, new: Pack, old_spans: VocabularySpans,
                        new_spans: VocabularySpans) -> Iterator[VocabularyChange]:
    for section in VOCABULARY_SECTIONS:
        # `facts` is None for a pack without vocabulary.facts (its rules' facts are the declared set)
        before = {k: _entry_json(v) for k, v in (getattr(old.vocabulary, section) or {}).items()}
        after = {k: _entry_json(v) for k, v in (getattr(new.vocabulary, section) or {}).items()}
        for key in sorted(set(before) | set(after)):
            a, b = before.get(key), after.get(key)
            if a == b:
                continue
            old_span = old_spans.get((section, key)) if a is not None else None
            new_span = new_spans.get((section, key)) if b is not None else None
            if a is None:
                yield VocabularyChange(section=section, id=key, kind="added", new=b, new_span=new_span)
            elif b is None:
                yield VocabularyChange(section=section, id=key, kind="removed", old=a, old_span=old_span)
            else:
                yield VocabularyChange(section=section, id=key, kind="changed", old=a, new=b,
                                       fields=tuple(_field_changes(a, b)), old_span=old_span, new_span=new_span)


def _entry_json(value: Any) -> Any:
    """A vocabulary entry as plain data in pack.yaml's words (labels included).

    Windows are compared in months (``years: 3`` equals ``months: 36``), since that is
    what decides; recipients nest their DPA and transfers as pack.yaml writes them.
    """
    if isinstance(value, Recipient):
        return {"kind": value.kind, "name": value.name, "country": value.country, "eea": value.eea,
                "listed_in_policy": value.listed_in_policy,
                "dpa": {"signed_on": _plain(value.dpa_signed_on), "ends_on": _plain(value.dpa_ends_on)},
                "transfers": [{"mechanism": t.mechanism, "from": _plain(t.from_on), "until": _plain(t.until_on)}
                              for t in value.transfers],
                "purposes": list(value.purposes)}
    if isinstance(value, Window):
        return {"from": value.anchor, "months": value.months, "open_if_absent": value.open_if_absent,
                "count_future": value.count_future}
    if isinstance(value, FactSpec):  # a changed kind or if_absent changes what records decide
        return {"kind": value.kind, "if_absent": value.if_absent, "label": _plain(value.label), "note": value.note}
    if isinstance(value, Basis):
        return {"article": value.article, "dpv": value.dpv, "label": _plain(value.label)}
    if isinstance(value, Mechanism):
        return {"article": value.article, "dpv": value.dpv, "valid_from": _plain(value.valid_from),
                "valid_until": _plain(value.valid_until), "label": _plain(value.label)}
    return _plain(value)


def _field_changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> Iterator[FieldChange]:
    for key in list(a) + [k for k in b if k not in a]:
        # compared as JSON text, not with ==: `equals: 1` -> `equals: true` changes what the rule
        # matches (a `fact` value only matches its own kind), though Python's True == 1
        if _text(a.get(key)) != _text(b.get(key)):
            yield FieldChange(field=key, old=a.get(key), new=b.get(key))


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)


def _plain(value: Any) -> Any:
    """JSON data for YAML-built values, MappingProxies, tuples, frozensets, dates and dataclasses."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (frozenset, set)):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if hasattr(value, "value"):  # enums
        return value.value
    return str(value)


def _span_json(span: Span | None) -> dict[str, Any] | None:
    return None if span is None else {"file": span.file, "line": span.line, "col": span.col}


# --- decisions ------------------------------------------------------------------------------


_EMPTY = object()


class _Feed:
    """Hands ``decide_batch`` the current record, once: lets two batch streams advance in
    lockstep over one pass of the input.

    INVARIANT (policy.decide_batch): one row is yielded per record pulled, before the next
    is pulled. A batch that read ahead would pair rows with the wrong records, so pulling
    twice without a new record raises instead.
    """

    __slots__ = ("item",)

    def __init__(self) -> None:
        self.item: Any = _EMPTY

    def __iter__(self) -> Iterator[Any]:
        while True:
            item, self.item = self.item, _EMPTY
            if item is _EMPTY:
                raise RuntimeError("decide_batch read ahead of its rows; diff needs one row per record")
            yield item


def diff_decisions(old: Policy, new: Policy, records: Iterable[Any], questions: Sequence[Question] | None = None,
                   *, as_of: date) -> DecisionDiff:
    """Per question, how many of ``records`` change outcome from ``old`` to ``new``. Pure.

    ``questions`` default to the new pack's standard questions. A question one pack cannot
    answer (an id its vocabulary lacks) is reported with ``problem`` and skipped, never raised.
    Records are read once; each is decided by both packs before the next is read. A record
    that cannot be read is undetermined in both (counted in ``invalid``, never a flip).
    Examples name records by id, or ``#N`` (1-based position) when a record has none.
    """
    asked = list(questions) if questions is not None else list(new.standard_questions)
    labels = [str(q) for q in asked]
    usable: list[int] = []
    problems: dict[int, str] = {}
    old_qs: list[Question] = []
    new_qs: list[Question] = []
    for i, q in enumerate(asked):
        why = []
        checked = []
        for name, policy in (("old", old), ("new", new)):
            try:
                checked.append(policy.check_question(q))
            except QuestionError as exc:
                why.append(f"the {name} pack cannot answer it: {exc}")
        if why:
            problems[i] = "; ".join(why)
            continue
        usable.append(i)
        old_qs.append(checked[0])
        new_qs.append(checked[1])

    counts: list[dict[tuple[str, str], int]] = [{} for _ in usable]
    examples: list[dict[tuple[str, str], list[str]]] = [{} for _ in usable]
    unchanged = [0] * len(usable)
    other = [0] * len(usable)
    other_examples: list[list[str]] = [[] for _ in usable]
    total = invalid = 0
    if usable:
        old_feed, new_feed = _Feed(), _Feed()
        old_rows = old.decide_batch(old_feed, old_qs, as_of=as_of)
        new_rows = new.decide_batch(new_feed, new_qs, as_of=as_of)
        for record in records:
            old_feed.item = new_feed.item = record
            a: BatchRow = next(old_rows)
            b: BatchRow = next(new_rows)
            total += 1
            if a.problem or b.problem:
                invalid += 1
            name = a.record_id or b.record_id or f"#{total}"
            for j, (x, y) in enumerate(zip(a.answers, b.answers)):
                if x.outcome != y.outcome:
                    key = (x.outcome.value, y.outcome.value)
                    counts[j][key] = counts[j].get(key, 0) + 1
                    seen = examples[j].setdefault(key, [])
                    if len(seen) < MAX_EXAMPLES:
                        seen.append(name)
                elif x.rule_id != y.rule_id or x.keep_until != y.keep_until:
                    other[j] += 1
                    if len(other_examples[j]) < MAX_EXAMPLES:
                        other_examples[j].append(name)
                else:
                    unchanged[j] += 1
        old_rows.close()
        new_rows.close()
    else:
        for _ in records:  # still count them, so the report says how many were read
            total += 1

    results: list[QuestionFlips] = []
    for i, label in enumerate(labels):
        if i in problems:
            results.append(QuestionFlips(question=label, problem=problems[i]))
            continue
        j = usable.index(i)
        flips = sorted((Flip(old=k[0], new=k[1], count=n, examples=tuple(examples[j][k]))
                        for k, n in counts[j].items()), key=lambda f: (-f.count, _rank(f.old), _rank(f.new)))
        results.append(QuestionFlips(question=label, flips=tuple(flips), unchanged=unchanged[j],
                                     other_changes=other[j], other_examples=tuple(other_examples[j])))
    return DecisionDiff(as_of=as_of, records=total, invalid=invalid, questions=tuple(results))


def _rank(outcome: str) -> int:
    order = [o.value for o in Outcome]
    return order.index(outcome) if outcome in order else len(order)


def compare(old: Policy, new: Policy, records: Iterable[Any] | None = None,
            questions: Sequence[Question] | None = None, *, as_of: date | None = None,
            old_spans: VocabularySpans | None = None, new_spans: VocabularySpans | None = None) -> PackDiff:
    """:func:`diff_packs` of the two policies' packs plus, given ``records`` and ``as_of``,
    :func:`diff_decisions`. Pure apart from consuming ``records``. ``old_spans``/``new_spans``
    as for :func:`diff_packs`."""
    decisions = None
    if records is not None:
        if as_of is None:
            raise TypeError("as_of is required to compare decisions")
        decisions = diff_decisions(old, new, records, questions, as_of=as_of)
    return diff_packs(old.pack, new.pack, decisions=decisions, old_spans=old_spans, new_spans=new_spans)


__all__ = ["FieldChange", "RuleChange", "VocabularyChange", "Flip", "QuestionFlips", "DecisionDiff", "PackDiff",
           "diff_packs", "diff_decisions", "compare", "rule_fields", "pred_json", "MAX_EXAMPLES", "VocabularySpans",
           "vocabulary_spans", "read_vocabulary_spans"]
