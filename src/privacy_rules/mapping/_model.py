"""The frozen parts of a checked profile, and :class:`Mapped`, what mapping one row gives.

Built once by the loader (``_build.py``) from a profile that passed every check, then shared by
every row and every thread: tuples and read-only mappings only (STYLE 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..model import Diagnostic, Span
from .convert import Format, match_key

__all__ = [
    "Bound",
    "Glob",
    "ChildTable",
    "Const",
    "EventSpec",
    "FieldSpec",
    "FromField",
    "Mapped",
    "Trigger",
    "Undated",
    "ValueMap",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ValueMap:
    """Host value -> canonical value; keys are :func:`~.convert.match_key` forms."""

    entries: Mapping[str, Any]
    case_sensitive: bool = False

    def lookup(self, text: str) -> tuple[bool, Any]:
        """``(True, output)`` for a listed value (output None: a known value that says nothing),
        ``(False, None)`` for a value the map does not list."""
        key = match_key(text, case_sensitive=self.case_sensitive)
        if key in self.entries:
            return True, self.entries[key]
        return False, None


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    """One entry of ``fields``: host field ``host`` -> canonical ``to`` (or boolean ``flags``)."""

    host: str
    to: str | None
    fmt: Format
    value_map: ValueMap | None = None
    # flags: (fact name, match keys that make it true), in profile order
    flags: tuple[tuple[str, frozenset[str]], ...] = ()
    case_sensitive: bool = False
    required: bool = True
    span: Span | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Glob:
    """A field-name pattern where `*` stands for any text; matched without backtracking.

    ``parts`` are the literal pieces between the stars (case-folded when ``fold``). Matching
    finds the pieces left to right with ``str.find``, so a hostile pattern or field name costs
    linear time, where a regular expression with several `.*` could take exponential time.
    """

    parts: tuple[str, ...]
    fold: bool = False

    def fullmatch(self, name: str) -> bool:
        text = name.casefold() if self.fold else name
        first, *middle, last = self.parts  # INVARIANT: the checker requires a `*` (PR612): two parts at least
        if len(text) < len(first) + len(last) or not text.startswith(first) or not text.endswith(last):
            return False
        at, end = len(first), len(text) - len(last)
        for part in middle:
            found = text.find(part, at, end)
            if found < 0:
                return False
            at = found + len(part)
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class Trigger:
    """``when:`` of an event: which host field(s), read how, and which values yield an entry.

    ``values`` are match keys (text, case-folded unless ``case_sensitive``) or booleans/ints.
    """

    field: str | None
    pattern: Glob | None
    pattern_text: str | None
    fmt: Format
    values: tuple[Any, ...]
    filled: bool = False  # any non-empty value yields an entry (`values` is then empty)
    case_sensitive: bool = False
    required: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Const:
    """An entry field with the same value on every entry, e.g. ``kind: art21_2``."""

    value: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class FromField:
    """An entry field read from a host (or child) field."""

    field: str
    fmt: Format
    value_map: ValueMap | None = None
    required: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Undated:
    """An entry date known only as "on or before" the bound ``bound`` (a name, or ``known_on``)."""

    bound: str


EntrySource = Const | FromField | Undated


@dataclass(frozen=True, slots=True, kw_only=True)
class EventSpec:
    """One item of ``events``: entries of list ``to``, from a flat trigger or a child table."""

    to: str
    when: Trigger | None
    child: str | None
    entry: tuple[tuple[str, EntrySource], ...]
    also: tuple[Trigger, ...] = ()  # further conditions (one field each) that must all hold
    span: Span | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Bound:
    """A named bound for undated facts: the day of host field ``field``."""

    name: str
    field: str
    fmt: Format
    required: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildTable:
    """A child table: one row per event; each row's ``key`` holds the parent's ``parent_key``
    (None: the record id). ``required: False`` only for tables whose absence can only deny."""

    name: str
    key: str
    parent_key: str | None = None
    required: bool = True
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Mapped:
    """What mapping one host row gives.

    ``record`` is the canonical record (a new dict the caller owns), or None when the row has
    problems: then ``problems`` name the host fields and values that could not be read, and the
    row is *undetermined* for every question, never decided on a guess.
    ``record_id`` is the row's id when it could be read, also for a row with problems.
    ``locator`` is where the row came from ("line 12", "row 12"), as the caller gave it.
    """

    record: dict[str, Any] | None
    problems: tuple[Diagnostic, ...]
    locator: str
    record_id: str | None = None

    @property
    def ok(self) -> bool:
        """True when the row gave a record (no problems)."""
        return self.record is not None
