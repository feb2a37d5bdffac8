"""Recipients the pack does not list, and processor facts from the host (issue 11, items 2 and 4).

Every engine reads a share question's recipient from ``pack.vocabulary.recipients`` and folds
its facts (DPA, transfers, purposes, categories) into constants per question. So both features
are one operation here: a pack whose vocabulary holds the recipient as the question describes
it (``recipient_facts``) or as the host's processor register records it, and nothing else
changed. The rules, their order and the pack's own vocabulary stay as they are; the engines
compile from the derived pack as from any other (codegen, interpreter, durable, SQL).

A fact that is not given is **not known** (``Recipient.unknown``): the predicates that read it
are unknown, so an answer that depends on it is undetermined, never allow (DESIGN, "never
allow by accident"). Pure functions; no I/O but ``load_recipient_register``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, MutableMapping, TypeVar

from .model import RECIPIENT_FACT_KINDS, Pack, Question, Recipient, RecipientFacts

#: a register file larger than this is refused (untrusted input: size limit)
MAX_REGISTER_BYTES = 4 * 1024 * 1024
#: at most this many recipients in one register
MAX_REGISTER_RECIPIENTS = 10_000


class RecipientFactsError(ValueError):
    """Recipient facts (a question's or a register's) that this pack cannot use; the message
    names the recipient and the fact. ``code``: PR345 (register file), PR346 (a fact names an
    id the pack does not define), PR347 (facts for a recipient the notice names, in a question)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RecipientRegister:
    """A host's processor register: recipient id -> the facts it records (issue 11 item 4).

    For a recipient the pack lists, each fact given replaces the pack's for the decision (DPA
    dates, transfers and certifications, EEA, categories); facts left out keep the pack's. A
    recipient the pack does not list needs ``kind`` and is judged as an unlisted recipient
    (item 2). ``source`` names the file, for explanations."""

    entries: Mapping[str, RecipientFacts]
    source: str = "register"


def recipient_from_facts(rid: str, facts: RecipientFacts, *, source: str = "question") -> Recipient:
    """The Recipient an unlisted recipient's facts describe; facts not given are unknown."""
    unknown = set()
    if not facts.dpa_known:
        unknown.add("dpa")
    if facts.eea is None or (facts.eea is False and not facts.transfers_known):
        unknown.add("transfer")
    if facts.eea is None:
        unknown.add("eea")  # which of eea / transfers to ask for (decide.missing_facts)
    if facts.purposes is None:
        unknown.add("purposes")
    if facts.categories is None:
        unknown.add("categories")
    kind = RECIPIENT_FACT_KINDS[facts.kind or ""]
    return Recipient(
        id=rid, kind=kind, name=facts.name or rid, eea=bool(facts.eea), listed_in_policy=False,
        dpa_signed_on=facts.dpa_signed_on, dpa_ends_on=facts.dpa_ends_on, transfers=facts.transfers,
        purposes=facts.purposes or (), country=facts.country, categories=facts.categories,
        unknown=frozenset(unknown), source=source)


def recipient_with_register(r: Recipient, facts: RecipientFacts) -> Recipient:
    """The pack's recipient with the register's facts in place of its own, where given."""
    changes: dict[str, Any] = {"source": "register"}
    if facts.dpa_known:
        changes.update(dpa_signed_on=facts.dpa_signed_on, dpa_ends_on=facts.dpa_ends_on)
    if facts.transfers_known:
        changes["transfers"] = facts.transfers
    if facts.eea is not None:
        changes["eea"] = facts.eea
    if facts.country is not None:
        changes["country"] = facts.country
    if facts.categories is not None:
        changes["categories"] = facts.categories
    return dataclasses.replace(r, **changes)


def check_facts(pack: Pack, rid: str, facts: RecipientFacts, where: str) -> None:
    """RecipientFactsError (PR346) when the facts name a transfer mechanism, purpose or data
    category the pack does not define: such a fact would silently never match."""
    v = pack.vocabulary
    for t in facts.transfers:
        if t.mechanism not in v.transfer_mechanisms:
            raise RecipientFactsError("PR346", f"{where} `{rid}`: unknown transfer mechanism `{t.mechanism}`; "
                                      f"known: {', '.join(sorted(v.transfer_mechanisms))}")
    for p in facts.purposes or ():
        if p not in v.purposes:
            raise RecipientFactsError("PR346", f"{where} `{rid}`: unknown purpose `{p}`")
    if v.data_categories:
        for c in facts.categories or ():
            if c not in v.data_categories:
                raise RecipientFactsError("PR346", f"{where} `{rid}`: unknown data category `{c}`")


def with_recipients(pack: Pack, recipients: Mapping[str, Recipient]) -> Pack:
    """``pack`` with ``recipients`` added to (or replacing ones in) its vocabulary; the same
    pack when there are none. The version stays the pack's: the decision names the source of
    the recipient's facts instead (Decision.recipient_source)."""
    if not recipients:
        return pack
    merged = dict(pack.vocabulary.recipients)
    merged.update(recipients)
    vocabulary = dataclasses.replace(pack.vocabulary, recipients=MappingProxyType(merged))
    return dataclasses.replace(pack, vocabulary=vocabulary)


def apply_register(pack: Pack, register: RecipientRegister) -> Pack:
    """``pack`` with the register's facts in force (item 4); RecipientFactsError (PR346) for a
    fact naming an unknown id, or (PR345) an unlisted recipient without ``kind``."""
    out: dict[str, Recipient] = {}
    for rid, facts in register.entries.items():
        check_facts(pack, rid, facts, "register entry")
        known = pack.vocabulary.recipients.get(rid)
        if known is not None:
            if facts.kind is not None and RECIPIENT_FACT_KINDS[facts.kind] != known.kind:
                raise RecipientFactsError("PR345", f"register entry `{rid}`: kind `{facts.kind}` contradicts the "
                                          f"pack, where `{rid}` is a {known.kind}")
            out[rid] = recipient_with_register(known, facts)
        else:
            if facts.kind is None:
                raise RecipientFactsError("PR345", f"register entry `{rid}` is not a recipient the pack lists, so it "
                                          "needs `kind` (processor, independent_controller, public_authority, police)")
            out[rid] = recipient_from_facts(rid, facts, source="register")
    return with_recipients(pack, out)


def described_recipients(pack: Pack, questions: Iterable[Question]) -> dict[str, Recipient]:
    """The recipients the questions describe (``recipient_facts``), by id. RecipientFactsError
    for facts about a recipient the pack lists (PR347: the notice's recipients keep the
    pack's vocabulary, or a register's), an id described twice in two ways (PR347), or a fact
    naming an unknown id (PR346)."""
    out: dict[str, Recipient] = {}
    seen: dict[str, RecipientFacts] = {}
    for q in questions:
        facts = q.recipient_facts
        if facts is None or q.recipient is None:
            continue
        rid = q.recipient
        known = pack.vocabulary.recipients.get(rid)
        if known is not None and known.source != "question":
            raise RecipientFactsError("PR347", f"recipient `{rid}` is in the pack's vocabulary: its facts come from "
                                      "the pack (or the host's register, --recipient-facts), not from the question")
        if rid in seen:
            if seen[rid] != facts:
                raise RecipientFactsError("PR347", f"recipient `{rid}` is described twice, differently")
            continue
        check_facts(pack, rid, facts, "recipient")
        seen[rid] = facts
        out[rid] = recipient_from_facts(rid, facts)
    return out


def register_from_json(data: Any, source: str = "register") -> RecipientRegister:
    """A RecipientRegister from its JSON form ``{"recipients": {ID: facts}}``; RecipientFactsError
    (PR345) naming what is wrong."""
    if not isinstance(data, Mapping) or set(data) - {"recipients", "format_version"} or "recipients" not in data:
        raise RecipientFactsError("PR345", f"`{source}`: a recipient register is an object with `recipients` "
                                  "(recipient id -> facts) and optionally `format_version: 1`")
    if data.get("format_version", 1) != 1:
        raise RecipientFactsError("PR345", f"`{source}`: unknown format_version `{data.get('format_version')}`")
    items = data["recipients"]
    if not isinstance(items, Mapping) or len(items) > MAX_REGISTER_RECIPIENTS:
        raise RecipientFactsError("PR345", f"`{source}`: `recipients` must map recipient ids to their facts "
                                  f"(at most {MAX_REGISTER_RECIPIENTS})")
    entries: dict[str, RecipientFacts] = {}
    for rid, facts in items.items():
        if not isinstance(rid, str) or not rid.isidentifier() or rid.lower() != rid or len(rid) > 100:
            raise RecipientFactsError("PR345", f"`{source}`: `{str(rid)[:40]}` is not a recipient id")
        try:
            entries[rid] = RecipientFacts.from_json(facts, need_kind=False, where=f"recipients.{rid}")
        except ValueError as exc:
            raise RecipientFactsError("PR345", f"`{source}`: {exc}") from None
    return RecipientRegister(entries=MappingProxyType(entries), source=source)


def load_recipient_register(path: str | Path) -> RecipientRegister:
    """The processor register in ``path`` (YAML or JSON, read with the pack's bounded safe
    loader: no tags, bounded aliases, size limit). Raises RecipientFactsError (PR345) for a
    file that cannot be read or is not a register."""
    from .errors import PackError
    from .load import load_yaml_file

    try:
        loaded = load_yaml_file(path, max_bytes=MAX_REGISTER_BYTES)  # JSON is YAML too
    except PackError as exc:
        first = exc.diagnostics[0] if exc.diagnostics else None
        raise RecipientFactsError("PR345", f"cannot read recipient register `{path}`: "
                                  f"{first.message if first else exc}") from None
    return register_from_json(loaded.data, source=str(path))


__all__ = ["RecipientFactsError", "RecipientRegister", "apply_register", "described_recipients",
           "load_recipient_register", "recipient_from_facts", "register_from_json", "with_recipients"]


def check_share_question(pack: Pack, q: Question) -> None:
    """QuestionError unless the share question ``q`` can be asked of ``pack``: its recipient
    is in the vocabulary, or described by ``recipient_facts`` (and then not one the pack
    lists); its categories and facts name ids the pack defines."""
    import difflib

    from ._answers import QuestionError

    v = pack.vocabulary
    if q.categories and v.data_categories:
        for c in q.categories:
            if c not in v.data_categories:
                close = difflib.get_close_matches(c, list(v.data_categories), n=1, cutoff=0.6)
                hint = f"; did you mean `{close[0]}`?" if close else f"; known: {', '.join(sorted(v.data_categories))}"
                raise QuestionError(f"unknown data category `{c}`{hint}")
    rid = q.recipient or ""
    known = v.recipients.get(rid)
    if q.recipient_facts is not None:
        try:
            if known is None or known.source != "question":
                described_recipients(pack, [q])
        except RecipientFactsError as exc:
            raise QuestionError(f"{exc} ({exc.code})") from None
        return
    if known is None:
        close = difflib.get_close_matches(rid, list(v.recipients), n=1, cutoff=0.6)
        hint = f"; did you mean `{close[0]}`?" if close else f"; known: {', '.join(sorted(v.recipients))}"
        raise QuestionError(f"unknown recipient `{rid}`{hint}; a recipient the pack does not list can be described "
                            "with `recipient_facts` (kind, dpa, eea, transfers, purposes, categories)")


def described_key(pack: Pack, questions: Iterable[Question]) -> frozenset[tuple[str, RecipientFacts]]:
    """What the questions describe that ``pack`` does not list: the key of a derived policy
    (empty: none needed)."""
    listed = pack.vocabulary.recipients
    return frozenset((q.recipient, q.recipient_facts) for q in questions
                     if q.recipient_facts is not None and q.recipient is not None and q.recipient not in listed)


_E = TypeVar("_E")


def engine_for(pack: Pack, questions: Iterable[Question],
               cache: MutableMapping[frozenset[tuple[str, RecipientFacts]], _E],
               build: Callable[[Pack], _E], limit: int) -> _E | None:
    """The engine ``build`` makes for ``pack`` plus the recipients ``questions`` describe, from
    ``cache`` (cleared when it holds ``limit``); None when they describe none (the engine of
    ``pack`` itself answers). Policy and the durable facade share it (issue 11 item 2); raises
    RecipientFactsError for one id described two ways."""
    qs = list(questions)
    key = described_key(pack, qs)
    if not key:
        return None
    got = cache.get(key)
    if got is None:
        got = build(with_recipients(pack, described_recipients(pack, [q for q in qs if q.recipient_facts is not None])))
        if len(cache) >= limit:
            cache.clear()
        cache[key] = got
    return got
