"""Frozen value types shared by every stage: spans, diagnostics, questions, decisions.

Nothing here does I/O or holds state; every value is immutable (tuples, not lists) so a
decision can be handed across threads and cached without copying (STYLE 3).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping


class Outcome(str, enum.Enum):
    """The three answers. Hosts treat UNDETERMINED as deny unless they choose otherwise."""

    ALLOW = "allow"
    DENY = "deny"
    UNDETERMINED = "undetermined"


class Action(str, enum.Enum):
    KEEP = "keep"
    CONTACT = "contact"
    SHARE = "share"


class Effect(str, enum.Enum):
    """How a rule takes part in combining (docs/rule-language.md, "Combining")."""

    PERMIT = "permit"  # gives a lawful basis
    FORBID = "forbid"  # a prohibition: objection, restriction, erasure, expired window
    OVERRIDE = "override"  # a legal obligation or claim that beats prohibitions (Art. 17(3)(b),(e))
    OBLIGATION = "obligation"  # adds duties to the decision, never changes the outcome


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """Where something stands in a source file; line and col are 1-based."""

    file: str
    line: int
    col: int
    end_line: int | None = None
    end_col: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """One problem a user can fix. ``str()`` is the line CI prints."""

    code: str
    severity: Severity
    message: str
    span: Span | None = None
    rule_id: str | None = None
    record_id: str | None = None
    help: str | None = None

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span else ""
        who = ""
        if self.rule_id:
            who = f"rule `{self.rule_id}`: "
        elif self.record_id:
            who = f"record `{self.record_id}`: "
        text = f"{where}{self.severity.value} {self.code}: {who}{self.message}"
        if self.help:
            text += f"\n  help: {self.help}"
        return text

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "severity": self.severity.value, "message": self.message}
        if self.span:
            out["file"], out["line"], out["col"] = self.span.file, self.span.line, self.span.col
        for key in ("rule_id", "record_id", "help"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


_ID = re.compile(r"[a-z][a-z0-9_]*")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SHARE_TEXT = re.compile(r"share:([a-z][a-z0-9_]*):([a-z][a-z0-9_]*)(?:\[([a-z0-9_,\s]*)\])?")
_MAX_CATEGORIES = 100
_MAX_TRANSFERS = 100

#: kinds a share question may give an unlisted recipient (recipient_facts.kind), and the pack
#: recipient kind each is judged as: an independent controller is a third party (N16, N53), the
#: police a public authority (R12)
RECIPIENT_FACT_KINDS: Mapping[str, str] = {"processor": "processor", "independent_controller": "third_party",
                                           "public_authority": "authority", "police": "authority"}


def _fact_day(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError(f"recipient_facts `{where}` must be a day written YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"recipient_facts `{where}` is not a calendar day: `{value}`") from None
    return value


def _fact_ids(value: Any, where: str, limit: int = _MAX_CATEGORIES) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or len(value) > limit:
        raise ValueError(f"`{where}` must be a list of ids (at most {limit})")
    for item in value:
        if not isinstance(item, str) or not _ID.fullmatch(item):
            raise ValueError(f"`{where}` must hold ids (lowercase letters, digits, _), not `{str(item)[:40]}`")
    return tuple(sorted(set(value)))


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientFacts:
    """What a share question says about a recipient the pack does not list (issue 11 item 2),
    or what a host's processor register says about one (item 4).

    Every field but ``kind`` may be left out, and then is **not known**: a rule that needs it
    is unknown, so the answer is undetermined, never allow. ``dpa_known`` / ``transfers_known``
    tell "absent" (unknown) from "none" (``dpa: null``: no DPA; ``transfers: []``: no transfer
    mechanism). ``eea`` None: not known whether the recipient is in the EEA.
    """

    kind: str | None = None          # a RECIPIENT_FACT_KINDS key; None only in a register entry for a pack recipient
    name: str | None = None
    country: str | None = None
    eea: bool | None = None
    dpa_known: bool = False
    dpa_signed_on: str | None = None
    dpa_ends_on: str | None = None
    transfers_known: bool = False
    transfers: tuple["Transfer", ...] = ()
    purposes: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None

    _KEYS = ("kind", "name", "country", "eea", "dpa", "transfers", "purposes", "categories")

    @classmethod
    def from_json(cls, data: Any, *, need_kind: bool = True, where: str = "recipient_facts") -> "RecipientFacts":
        """RecipientFacts from JSON data; ValueError naming the bad key. Pure."""
        if not isinstance(data, Mapping):
            raise ValueError(f"`{where}` must be an object with `kind`")
        extra = sorted(str(k) for k in data if k not in cls._KEYS)
        if extra:
            raise ValueError(f"unknown field `{extra[0][:40]}` in `{where}`; expected one of {list(cls._KEYS)}")
        kind = data.get("kind")
        if kind is None and need_kind:
            raise ValueError(f"`{where}` needs `kind`: one of {', '.join(RECIPIENT_FACT_KINDS)}")
        if kind is not None and kind not in RECIPIENT_FACT_KINDS:
            raise ValueError(f"`{where}.kind` must be one of {', '.join(RECIPIENT_FACT_KINDS)}, not `{str(kind)[:40]}`")
        name, country = data.get("name"), data.get("country")
        for key, value in (("name", name), ("country", country)):
            if value is not None and (not isinstance(value, str) or len(value) > 200):
                raise ValueError(f"`{where}.{key}` must be text (at most 200 characters)")
        eea = data.get("eea")
        if eea is not None and not isinstance(eea, bool):
            raise ValueError(f"`{where}.eea` must be true or false")
        out: dict[str, Any] = {"kind": kind, "name": name, "country": country, "eea": eea}
        if "dpa" in data:
            dpa = data["dpa"]
            out["dpa_known"] = True
            if dpa is not None:  # null: no DPA in force at any time (R13: an unauthorised third party)
                if not isinstance(dpa, Mapping) or "signed_on" not in dpa or set(dpa) - {"signed_on", "ends_on"}:
                    raise ValueError(f"`{where}.dpa` must be null or {{signed_on: DAY, ends_on: DAY or null}}")
                out["dpa_signed_on"] = _fact_day(dpa["signed_on"], "dpa.signed_on")
                if dpa.get("ends_on") is not None:
                    out["dpa_ends_on"] = _fact_day(dpa["ends_on"], "dpa.ends_on")
        if "transfers" in data:
            got = data["transfers"]
            if not isinstance(got, (list, tuple)) or len(got) > _MAX_TRANSFERS:
                raise ValueError(f"`{where}.transfers` must be a list (at most {_MAX_TRANSFERS}) of "
                                 "{mechanism, from, until}")
            items = []
            for i, t in enumerate(got):
                if not isinstance(t, Mapping) or "mechanism" not in t or set(t) - {"mechanism", "from", "until"}:
                    raise ValueError(f"`{where}.transfers[{i}]` must be {{mechanism: ID, from: DAY, until: DAY}}")
                mech = t["mechanism"]
                if not isinstance(mech, str) or not _ID.fullmatch(mech):
                    raise ValueError(f"`{where}.transfers[{i}].mechanism` must be a transfer mechanism id")
                items.append(Transfer(
                    mechanism=mech,
                    from_on=None if t.get("from") is None else _fact_day(t["from"], f"transfers[{i}].from"),
                    until_on=None if t.get("until") is None else _fact_day(t["until"], f"transfers[{i}].until")))
            out["transfers_known"] = True
            out["transfers"] = tuple(items)
        for key in ("purposes", "categories"):
            if data.get(key) is not None:
                out[key] = _fact_ids(data[key], f"{where}.{key}")
        return cls(**out)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("kind", "name", "country", "eea"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.dpa_known:
            out["dpa"] = None if self.dpa_signed_on is None else {"signed_on": self.dpa_signed_on,
                                                                  "ends_on": self.dpa_ends_on}
        if self.transfers_known:
            out["transfers"] = [{"mechanism": t.mechanism, "from": t.from_on, "until": t.until_on}
                                for t in self.transfers]
        for key in ("purposes", "categories"):
            if getattr(self, key) is not None:
                out[key] = list(getattr(self, key))
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    """What is asked about one record: keep (scope), contact (purpose, channel), share (recipient, purpose).

    A share question may also say which data categories would go (``categories``, issue 11
    item 3; None: not said, the question's meaning before categories existed) and describe a
    recipient the pack does not list (``recipient_facts``, item 2).
    """

    action: Action
    scope: str | None = None
    purpose: str | None = None
    channel: str | None = None
    recipient: str | None = None
    categories: tuple[str, ...] | None = None
    recipient_facts: RecipientFacts | None = None

    @classmethod
    def keep(cls, scope: str | None = None) -> "Question":
        return cls(action=Action.KEEP, scope=scope)

    @classmethod
    def contact(cls, purpose: str, channel: str) -> "Question":
        return cls(action=Action.CONTACT, purpose=purpose, channel=channel)

    @classmethod
    def share(cls, recipient: str, purpose: str, *, categories: Any = None,
              recipient_facts: RecipientFacts | Mapping[str, Any] | None = None) -> "Question":
        """A share question; ``categories`` (ids, order and repeats do not matter) and
        ``recipient_facts`` (a RecipientFacts or its JSON form) are optional. ValueError on
        malformed ones."""
        cats = None if categories is None else _fact_ids(list(categories), "categories")
        facts = (recipient_facts if recipient_facts is None or isinstance(recipient_facts, RecipientFacts)
                 else RecipientFacts.from_json(recipient_facts))
        return cls(action=Action.SHARE, recipient=recipient, purpose=purpose, categories=cats, recipient_facts=facts)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Question":
        """Question from its JSON form; raises ValueError naming the bad key."""
        if not isinstance(data, Mapping):
            raise ValueError("a question must be an object with `action`")
        allowed = {"action", "scope", "purpose", "channel", "recipient", "categories", "recipient_facts"}
        extra = sorted(set(data) - allowed)
        if extra:
            raise ValueError(f"unknown question field `{extra[0]}`; expected one of {sorted(allowed)}")
        try:
            action = Action(data.get("action"))
        except ValueError:
            raise ValueError(f"question action must be keep, contact or share, not `{data.get('action')}`") from None
        values = {k: data.get(k) for k in ("scope", "purpose", "channel", "recipient")}
        for key, value in values.items():
            if value is not None and not isinstance(value, str):
                raise ValueError(f"question `{key}` must be a string")
        need = {Action.KEEP: (), Action.CONTACT: ("purpose", "channel"), Action.SHARE: ("recipient", "purpose")}[action]
        for key in need:
            if not values[key]:
                raise ValueError(f"a {action.value} question needs `{key}`")
        unused = {Action.KEEP: ("purpose", "channel", "recipient", "categories", "recipient_facts"),
                  Action.CONTACT: ("scope", "recipient", "categories", "recipient_facts"),
                  Action.SHARE: ("scope", "channel")}[action]
        for key in unused:
            if data.get(key) is not None:
                raise ValueError(f"a {action.value} question takes no `{key}`")
        if action is Action.SHARE:
            return cls.share(values["recipient"] or "", values["purpose"] or "", categories=(
                None if data.get("categories") is None else _fact_ids(data["categories"], "categories")),
                recipient_facts=None if data.get("recipient_facts") is None
                else RecipientFacts.from_json(data["recipient_facts"]))
        return cls(action=action, **values)

    @classmethod
    def parse(cls, text: str) -> "Question":
        """Question from the CLI form: ``keep``, ``keep:scope``, ``contact:purpose:channel``,
        ``share:recipient:purpose`` or ``share:recipient:purpose[category,category]``.
        ValueError for malformed text; TypeError for anything but a str."""
        if not isinstance(text, str):
            raise TypeError("Question.parse takes the question's text, such as 'keep', 'contact:newsletter:email' or "
                            f"'share:hubspot:relationship_management', not {type(text).__name__}")
        parts = text.split(":")
        head = parts[0]
        if head == "keep" and len(parts) <= 2:
            return cls.keep(parts[1] if len(parts) == 2 and parts[1] else None)
        if head == "contact" and len(parts) == 3 and all(parts[1:]):
            return cls.contact(parts[1], parts[2])
        if head == "share" and len(parts) == 3 and all(parts[1:]):
            m = _SHARE_TEXT.fullmatch(text)
            if m is None:
                if "[" in text:
                    raise ValueError(f"cannot read question `{text[:200]}`; write the data categories as "
                                     "share:RECIPIENT:PURPOSE[category,category]")
                return cls.share(parts[1], parts[2])
            cats = None
            if m.group(3) is not None:
                cats = [c.strip() for c in m.group(3).split(",") if c.strip()]
            return cls.share(m.group(1), m.group(2), categories=cats)
        raise ValueError(
            f"cannot read question `{text}`; write keep, keep:SCOPE, contact:PURPOSE:CHANNEL or share:RECIPIENT:PURPOSE"
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action._value_}
        for key in ("scope", "purpose", "channel", "recipient"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.categories is not None:
            out["categories"] = list(self.categories)
        if self.recipient_facts is not None:
            out["recipient_facts"] = self.recipient_facts.to_json()
        return out

    def __str__(self) -> str:
        if self.action is Action.KEEP:
            return "keep" + (f":{self.scope}" if self.scope else "")
        if self.action is Action.CONTACT:
            return f"contact:{self.purpose}:{self.channel}"
        cats = "" if self.categories is None else "[" + ",".join(self.categories) + "]"
        # recipient_facts have no text form: to_json carries them
        return f"share:{self.recipient}:{self.purpose}{cats}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    """What a rule rests on: norm numbers, the policy section and sentence, GDPR articles."""

    norms: tuple[str, ...] = ()
    section: str | None = None
    quote: str | None = None
    articles: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"norms": list(self.norms), "section": self.section, "quote": self.quote, "articles": list(self.articles)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Basis:
    """A lawful basis from the pack's vocabulary, e.g. ``legitimate_interest`` = Art. 6(1)(f)."""

    id: str
    article: str
    dpv: str | None = None
    # {en, nb}: for people (the review document); not part of the decision's identity
    label: Mapping[str, str] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "article": self.article, "dpv": self.dpv}


@dataclass(frozen=True, slots=True, kw_only=True)
class Obligation:
    """A duty that comes with a decision, e.g. respond by a date (Art. 12(3))."""

    id: str
    rule_id: str
    article: str | None
    text: str
    due_on: date | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "article": self.article,
            "text": self.text,
            "due_on": self.due_on.isoformat() if self.due_on else None,
        }


class RuleStatus(str, enum.Enum):
    DECISIVE = "decisive"
    APPLIED = "applied"  # held, agreed with the outcome, was not the deciding one
    OVERRIDDEN = "overridden"  # held, but a stronger tier decided the other way
    UNKNOWN = "unknown"  # could not be evaluated: a fact it needs is missing


@dataclass(frozen=True, slots=True, kw_only=True)
class AppliedRule:
    rule_id: str
    effect: Effect
    status: RuleStatus
    span: Span | None = None

    def to_json(self) -> dict[str, Any]:
        # `_value_`, not `.value`: the enum property costs a descriptor call, and a Decision's
        # JSON writes one of these per rule that applied
        out: dict[str, Any] = {"rule_id": self.rule_id, "effect": self.effect._value_, "status": self.status._value_}
        if self.span:
            out["file"], out["line"] = self.span.file, self.span.line
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The answer to one question about one record, with everything needed to reproduce and explain it."""

    outcome: Outcome
    question: Question
    as_of: date
    record_id: str | None
    pack_version: str
    decisive_rule: str | None = None
    decisive_span: Span | None = None
    reason: str = ""
    basis: Basis | None = None
    applied: tuple[AppliedRule, ...] = ()
    citations: tuple[tuple[str, Citation], ...] = ()
    keep_until: date | None = None
    obligations: tuple[Obligation, ...] = ()
    missing_facts: tuple[str, ...] = ()
    problems: tuple[Diagnostic, ...] = field(default=())
    #: share questions: where the recipient's facts came from: "pack" (its vocabulary),
    #: "register" (the host's processor register) or "question" (recipient_facts); issue 11
    recipient_source: str | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOW

    @property
    def overridden(self) -> tuple[str, ...]:
        return tuple(a.rule_id for a in self.applied if a.status is RuleStatus.OVERRIDDEN)

    def to_json(self) -> dict[str, Any]:
        """Decision as JSON data; validates against schemas/decision.schema.json."""
        return {
            "format_version": 1,
            "record_id": self.record_id,
            "question": self.question.to_json(),
            "as_of": self.as_of.isoformat(),
            "pack_version": self.pack_version,
            "outcome": self.outcome._value_,
            "reason": self.reason,
            "decisive_rule": self.decisive_rule,
            "basis": self.basis.to_json() if self.basis else None,
            "keep_until": self.keep_until.isoformat() if self.keep_until else None,
            "applied": [a.to_json() for a in self.applied],
            "overridden": list(self.overridden),
            "citations": [dict(rule_id=rid, **c.to_json()) for rid, c in self.citations],
            "obligations": [o.to_json() for o in self.obligations],
            "missing_facts": list(self.missing_facts),
            "problems": [p.to_json() for p in self.problems],
            "recipient_source": self.recipient_source,
        }


# --- the pack: what load + validate produce and compile consumes ---------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Pred:
    """One condition of a rule: ``kind`` is the predicate key (``within``), ``arg`` its value.

    Combinators (``all``, ``any``, ``not``) keep their operands in ``children``.
    """

    kind: str
    arg: Any = None
    children: tuple["Pred", ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ObligationSpec:
    id: str
    article: str | None
    text: Mapping[str, str]
    due: str | None = None  # window id


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One rule of a pack, as written, with where it stands."""

    id: str
    question: Action
    effect: Effect
    basis: str | None
    when: tuple[Pred, ...]
    scopes: tuple[str, ...] | None = None
    purposes: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None
    recipients: tuple[str, ...] | None = None
    recipient_kinds: tuple[str, ...] | None = None
    obligations: tuple[ObligationSpec, ...] = ()
    citation: Citation = Citation()
    explain: Mapping[str, str] = field(default_factory=dict)
    span: Span | None = None
    order: int = 0  # position in pack order: files order, then file order
    on_outcome: tuple[str, ...] | None = None  # obligation rules: the outcomes their duties come with


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """A period per N42/R2: ``anchor`` + ``months`` calendar months, end inclusive."""

    id: str
    anchor: str  # a scalar path (relationship.first_contact_on) or a list path (vouchers[].fiscal_year_end)
    months: int
    open_if_absent: bool = False
    count_future: bool = False  # list anchors: entries dated after as_of count (a fiscal year not yet ended)
    #: "earliest_unanswered": a request list's window ends on the earliest deadline among the
    #: entries received by as_of and not answered by then (each request has its own, N43);
    #: only read as an obligation's ``due`` (validate PR241, PR242)
    pick: str | None = None
    #: months added to an entry's deadline when its ``extended_on`` is within the first
    #: ``months`` after receipt and on or before as_of (Art. 12(3): two more months, N43)
    extension_months: int = 0

    @property
    def is_list(self) -> bool:
        return "[]." in self.anchor


@dataclass(frozen=True, slots=True, kw_only=True)
class FactSpec:
    """A pack-defined fact a record may carry as ``facts.<id>`` (vocabulary.facts, docs/rule-language.md).

    ``kind``: date, boolean, number or string; None for a fact derived from rules that compare it
    with no one kind (a pack without ``vocabulary.facts``). ``if_absent``: the value an absent
    fact is read as (None: absent stays absent, so a condition on it is unknown). ``declared``:
    False when the pack has no ``vocabulary.facts`` and the fact was derived from what its rules read.
    """

    id: str
    kind: str | None
    label: Mapping[str, str] = field(default_factory=dict, compare=False)
    note: str | None = None
    if_absent: bool | int | float | str | None = None
    declared: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer:
    mechanism: str
    from_on: str | None
    until_on: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    id: str
    kind: str  # processor | third_party | authority
    name: str
    eea: bool
    listed_in_policy: bool
    dpa_signed_on: str | None
    dpa_ends_on: str | None
    transfers: tuple[Transfer, ...]
    purposes: tuple[str, ...]
    country: str | None = None
    #: what the recipient may receive (its commitment: the DPA's subject matter, N21, R11);
    #: None: the pack states none, so `categories_beyond: recipient` never holds
    categories: tuple[str, ...] | None = None
    #: facts not known (issue 11 item 2): "dpa", "transfer", "purposes", "categories"; a
    #: predicate that needs one is unknown, never true
    unknown: frozenset[str] = frozenset()
    #: where the facts come from: "pack" (vocabulary), "register" (the host's processor
    #: register, item 4) or "question" (recipient_facts, item 2)
    source: str = "pack"


@dataclass(frozen=True, slots=True, kw_only=True)
class Mechanism:
    id: str
    article: str | None
    dpv: str | None
    valid_from: str | None
    valid_until: str | None
    label: Mapping[str, str] = field(default_factory=dict, compare=False)  # {en, nb}: for people


@dataclass(frozen=True, slots=True, kw_only=True)
class Vocabulary:
    lawful_bases: Mapping[str, Basis]
    subject_categories: Mapping[str, Mapping[str, Any]]
    scopes: Mapping[str, Mapping[str, Any]]
    purposes: Mapping[str, Mapping[str, Any]]
    channels: Mapping[str, Mapping[str, Any]]
    transfer_mechanisms: Mapping[str, Mechanism]
    recipients: Mapping[str, Recipient]
    windows: Mapping[str, Window]
    data_categories: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: vocabulary.facts; None when pack.yaml has none (then the facts the rules read are the
    #: declared set: declared.declared_facts)
    facts: Mapping[str, FactSpec] | None = None
    #: vocabulary.consent_mechanisms; None when pack.yaml has none (then the engine's default:
    #: DEFAULT_CONSENT_MECHANISMS count, an absent mechanism counts, every other one does not)
    consent_mechanisms: tuple[ConsentMechanism, ...] | None = None


#: How a consent may have been obtained (``consents[].mechanism``; N53, Art. 4(11), 7, Recital 32,
#: CJEU C-673/17 Planet49). A closed list: a host value outside it is a record problem (PR306).
CONSENT_MECHANISMS = ("double_opt_in", "ticked_box", "written", "pre_ticked_box", "silence", "inactivity",
                      "browser_setting", "purchased_list", "imported_list", "bundled_with_terms", "unknown")
#: The mechanisms that give a freely given, specific, informed and unambiguous indication by a
#: clear affirmative act (Art. 4(11), Recital 32) in a pack without ``vocabulary.consent_mechanisms``.
#: Pre-ticked boxes, silence and inactivity are no consent (Recital 32, Planet49); a bought or
#: imported list proves no consent given to this controller (Art. 7(1)); consent bundled with
#: terms is not freely given (Art. 7(2), 7(4)); a browser setting is not a specific act (N49
#: from 2025); `unknown` says the controller cannot show how it was obtained (Art. 7(1)).
DEFAULT_CONSENT_MECHANISMS = frozenset({"double_opt_in", "ticked_box", "written"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentMechanism:
    """One entry of vocabulary.consent_mechanisms: ``mechanism`` counts as valid consent for
    ``purposes`` (None: every purpose) on the days ``valid_from``..``valid_until`` (as_of,
    inclusive; None: unbounded). The period is about the day asked, not the day given: a
    browser-setting cookie consent stops counting on 1 January 2025 (N49), it does not carry over."""

    mechanism: str
    purposes: frozenset[str] | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Pack:
    """A loaded and validated policy pack. ``version`` is a content hash of its files."""

    id: str
    name: str
    root: str
    meta: Mapping[str, Any]
    vocabulary: Vocabulary
    rules: tuple[Rule, ...]
    version: str
    default_scope: str
    files: tuple[str, ...]
    scenario_files: tuple[str, ...] = ()

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)
