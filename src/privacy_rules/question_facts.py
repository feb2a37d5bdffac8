"""Predicates the question and the pack alone decide, shared by every engine (codegen, the
interpreter, the durable facade, the SQL compiler), so that they fold them the same way.

``recipient_serves`` and ``recipient_listed`` were folded in each engine before; the data
categories a share question names (issue 11 item 3) and the facts of a recipient the pack does
not list (item 2: a fact not given is unknown) are the reason they live in one place now.
Pure functions of (question, pack); as_of-dependent ones (a DPA in force, a lawful transfer)
stay in the engines, which ask ``recipient_unknown`` first.
"""

from __future__ import annotations

from typing import Any

from .model import Pack, Question, Recipient

#: predicates decided by the question and the pack alone (true, false or unknown)
QUESTION_CONSTANTS = frozenset({"recipient_serves", "recipient_listed", "categories_beyond", "shares_category"})

#: which fact of ``Recipient.unknown`` each recipient predicate reads
_NEEDS = {"processor_dpa": "dpa", "transfer": "transfer", "recipient_serves": "purposes"}


def recipient_of(pack: Pack, q: Question) -> Recipient:
    """The question's recipient (share predicates are share-only, validate.semantic.SHARE_ONLY,
    and a checked share question names a recipient of the pack it is decided by)."""
    r = pack.vocabulary.recipients.get(q.recipient or "")
    if r is None:
        raise ValueError(f"a recipient predicate needs a share question naming a known recipient, not `{q}`")
    return r


def recipient_unknown(pack: Pack, q: Question, kind: str) -> bool:
    """True when the fact ``kind`` (processor_dpa, transfer, recipient_serves) reads is not
    known for this recipient (an unlisted recipient described without it): the predicate is
    unknown, never true or false."""
    need = _NEEDS.get(kind)
    return need is not None and need in recipient_of(pack, q).unknown


def question_constant(kind: str, arg: Any, q: Question, pack: Pack) -> bool | None:
    """The value of a QUESTION_CONSTANTS predicate for this question: True, False or None
    (unknown: a fact of an unlisted recipient that was not given)."""
    if kind == "shares_category":
        # N51 and the like: only a question that names its categories can be said to share one
        return q.categories is not None and arg in q.categories
    if kind == "categories_beyond":
        if q.categories is None:  # a question without categories keeps its meaning (item 3)
            return False
        if arg == "purpose":
            allowed = pack.vocabulary.purposes.get(q.purpose or "", {}).get("categories")
            return False if allowed is None else not set(q.categories) <= set(allowed)
        r = recipient_of(pack, q)
        if r.categories is None:
            return None if "categories" in r.unknown else False
        return not set(q.categories) <= set(r.categories)
    r = recipient_of(pack, q)
    if kind == "recipient_listed":
        return r.listed_in_policy == bool(arg)
    if kind == "recipient_serves":
        return None if "purposes" in r.unknown else q.purpose in r.purposes
    raise ValueError(f"`{kind}` is not a question constant")


__all__ = ["QUESTION_CONSTANTS", "question_constant", "recipient_of", "recipient_unknown"]
