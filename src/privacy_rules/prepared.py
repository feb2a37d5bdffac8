"""A record checked once, for deciding many questions about it (issue 12).

``Policy.prepare(record)`` checks and normalises a record the way every ``decide`` call would,
and returns a PreparedRecord; ``decide``, ``decide_all`` and ``decide_batch`` of the same Policy
take it in place of the record and skip the check. The answers are those for the record as it
was when prepared (tests/property/test_lazy_decision.py). A malformed record prepares too: its
decisions are the same UNDETERMINED ones with the same problems.

Another Policy (another pack, or the same pack compiled again) checks the record again, as
given to ``prepare``: its vocabulary decides which ids a record may name. Do not change a
record (a dict) after preparing it if it may reach another Policy.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any, Callable

from .model import Diagnostic
from .records import Facts, RecordInvalid


class PreparedRecord:
    """A record checked by one Policy (``Policy.prepare``). Immutable; safe to share between threads.

    ``record_id``: the record's id (None when it has none); ``problems``: why it cannot be
    decided (empty for a record that checked clean).
    """

    __slots__ = ("record_id", "problems", "_facts", "_checker", "_record")

    record_id: str | None
    problems: tuple[Diagnostic, ...]
    _facts: Facts | None
    _checker: object  # the checking Policy's record vocabulary (RecordIds): who may skip the check
    _record: Any  # the record as given, for a Policy with another vocabulary

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        state = "ok" if self._facts is not None else f"{len(self.problems)} problem(s)"
        return f"PreparedRecord(record_id={self.record_id!r}, {state})"


_NEW = object.__new__
_SET = {name: getattr(PreparedRecord, name).__set__ for name in PreparedRecord.__slots__}


def prepared(record: Any, checker: object, facts: Facts | None, record_id: str | None,
             problems: tuple[Diagnostic, ...]) -> PreparedRecord:
    """A PreparedRecord (for Policy.prepare): ``facts`` None when ``problems`` say why not."""
    p: PreparedRecord = _NEW(PreparedRecord)
    for name, value in (("record_id", record_id), ("problems", problems), ("_facts", facts),
                        ("_checker", checker), ("_record", record)):
        _SET[name](p, value)
    return p


def facts_of(p: PreparedRecord, checker: object) -> Facts | None:
    """The checked facts when ``checker`` checked ``p`` (RecordInvalid with its problems when it
    did not check clean); None when another Policy's checker did: check ``original(p)`` again."""
    if p._checker is not checker:
        return None
    if p._facts is None:
        raise RecordInvalid(p.record_id, p.problems)
    return p._facts


def prepare(record: Any, checker: object, check: Callable[[Any], Facts]) -> PreparedRecord:
    """``record`` checked by ``check`` (which raises RecordInvalid), prepared for ``checker``'s
    engine (Policy.prepare and the durable facade's): a record it prepared already, clean or
    not, is returned as it is; one another engine prepared is checked again, as given."""
    if type(record) is PreparedRecord:
        try:
            if facts_of(record, checker) is not None:
                return record
        except RecordInvalid:
            return record  # checked by this engine already, with its problems
        record = original(record)
    try:
        facts = check(record)
    except RecordInvalid as exc:
        return prepared(record, checker, None, exc.record_id, exc.problems)
    return prepared(record, checker, facts, facts.id, ())


def original(p: PreparedRecord) -> Any:
    """The record as given to ``prepare``."""
    return p._record


__all__ = ["PreparedRecord", "prepare", "prepared", "facts_of", "original"]
