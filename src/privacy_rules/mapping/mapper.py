"""A checked profile, and what it does: one host row (plus its child rows) -> one canonical record.

:class:`Profile` is immutable; :meth:`Profile.map_row` is a pure function of (row, children,
known_on, time_zone): it reads no clock and keeps nothing between calls, so one profile serves
many threads. It never modifies the row.

What a row becomes (docs/mapping.md):

* every mapped host field is converted (conversions in ``convert.py``) and written to its
  canonical field; a value it cannot read is a **record problem** naming the host field and its
  value, and the row then has no record (it is undetermined), never a guessed value;
* an empty cell (``None``, ``""`` or only spaces) is *absent*: the canonical field is left out,
  as if the host had no value, never the empty string;
* events (consents, objections ...) come from flat columns (an opt-out flag that is true) or
  child rows; a vendor boolean with no date becomes ``{"on_or_before": DAY}``, DAY the tightest
  day the host knows (a bound column such as the last-modified day, else the run's known-on
  day), never an invented exact date;
* every host field the profile does not read goes verbatim under ``host`` (see
  :data:`MAX_HOST_CHARS` for huge values).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from ..model import Diagnostic, Severity
from ..errors import shown
from ..validate._chars import visible
from ._model import Bound, ChildTable, Const, EventSpec, FieldSpec, FromField, Mapped, Trigger, Undated, ValueMap
from ._targets import EVENT_LISTS, ID, LIST_TARGETS, SCALAR_TARGETS
from .convert import Format, Unusable, is_empty, match_key, to_bool, to_day, to_int, to_text, zone_named

__all__ = ["MAX_HOST_CHARS", "Profile"]

#: A host value longer than this (text, or a list or object as JSON) is not copied into
#: ``host``: it is replaced by ``{"omitted": ..., "chars": N, "sha256": HEX}``. ``host`` is
#: never read by the engine; copying a 5 MB notes field into every record would only cost
#: memory and output. The digest still lets an auditor match the value in the source.
MAX_HOST_CHARS = 10_000
_MAX_ID_CHARS = 200  # the record schema's maxLength for `id`
# Canonical record keys in the record schema's order, so records read the same every time.
_ORDER = ("id", "role", "subject_categories", "relationship", "contact_address_kind", "source",
          "art14_informed_on", *EVENT_LISTS, "data_categories", "systems", "facts", "host")


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """A mapping profile that passed every check (``load_profile``); see docs/mapping.md.

    ``children`` names the child tables the source layer must group and pass to
    :meth:`map_row` (list name -> table with its join ``key``). ``version`` is the SHA-256 of
    the profile file's bytes, so output can say which profile made it.
    """

    id: str
    title: str
    source: str
    version: str
    record_id: str
    vendor: str | None = None
    description: str | None = None
    case_insensitive: bool = False
    unwrap: tuple[tuple[str, str], ...] = ()
    bounds: Mapping[str, Bound]
    constants: Mapping[str, Any]
    fields: tuple[FieldSpec, ...] = ()
    events: tuple[EventSpec, ...] = ()
    children: Mapping[str, ChildTable]

    # --- what the profile needs ---------------------------------------------------------------

    def required_fields(self) -> tuple[str, ...]:
        """Host fields every row must have (``required: true``), in profile order, each once."""
        names: list[str] = [self.record_id]
        names += [b.field for b in self.bounds.values() if b.required]
        names += [f.host for f in self.fields if f.required]
        for event in self.events:
            if event.child is None:
                for trig in ((event.when,) if event.when is not None else ()) + event.also:
                    if trig.field is not None and trig.required:
                        names.append(trig.field)
                names += [s.field for _, s in event.entry if isinstance(s, FromField) and s.required]
        return tuple(dict.fromkeys(names))

    def missing_fields(self, names: Iterable[str]) -> tuple[str, ...]:
        """The required host fields not among ``names`` (a CSV header, the columns of a table).

        A source can call this once before reading rows and stop with one clear message
        instead of one record problem per row. ``unwrap`` containers are not looked into.
        """
        have = set(names)
        if self.case_insensitive:
            have = {n.casefold() for n in have}
            return tuple(n for n in self.required_fields() if n.casefold() not in have)
        if self.unwrap:
            return ()  # the fields live inside nested objects: only rows can tell
        return tuple(n for n in self.required_fields() if n not in have)

    # --- mapping ------------------------------------------------------------------------------

    def map_row(self, row: Mapping[str, Any], *, known_on: date | None, time_zone: str,
                children: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
                locator: str = "") -> Mapped:
        """The canonical record for ``row`` (one host record as a mapping of field -> value).

        ``known_on`` is the run's known-on day (the export or sync day, ``--known-on``): the
        bound of undated facts when the row has no tighter one. ``time_zone`` is the pack's
        time zone (the day a date-time falls on). ``children`` maps each child table of
        :attr:`children` to this parent's child rows (grouping them is the source's job).
        ``locator`` ("line 12") is echoed in the result.

        Pure; never raises for bad host data (that is a problem in the result). Raises
        ValueError for a ``time_zone`` that is not an IANA zone and TypeError for a
        ``known_on`` that is not a ``datetime.date``: those are the caller's mistakes.
        """
        zone = zone_named(time_zone)
        if known_on is not None and (type(known_on) is not date):
            if isinstance(known_on, datetime):
                raise TypeError("known_on must be a day (datetime.date), not a datetime")
            if not isinstance(known_on, date):
                raise TypeError(f"known_on must be a datetime.date or None, not {type(known_on).__name__}")
            known_on = date(known_on.year, known_on.month, known_on.day)
        return _RowMapper(self, zone, known_on).run(row, children, locator)


# --- one row --------------------------------------------------------------------------------


class _Bad:
    """Marks a bound whose cell was unusable (already reported)."""


_BAD = _Bad()


def _show(value: Any) -> str:
    """A host value inside backticks: controls and invisible characters escaped, shortened."""
    if isinstance(value, str):
        if len(value) <= 80 and value.isascii() and value.isprintable():
            return value  # the common case, and field names are shown for every field read
        return visible(value, 80)
    return visible(shown(value, 80), 200)


class _RowMapper:
    """The state of mapping one row; made per call, never shared."""

    def __init__(self, profile: Profile, zone: Any, known_on: date | None) -> None:
        self.p = profile
        self.zone = zone
        self.known_on = known_on
        self.problems: list[Diagnostic] = []
        self.rid: str | None = None
        self.consumed: set[str] = set()
        self.flat: dict[str, Any] = {}
        self.index: dict[str, str] = {}  # case-folded name -> name (case_insensitive profiles)
        self.bound_days: dict[str, date | None | _Bad] = {}
        # prefixes of unwrapped objects that were null: their fields are present and empty
        # (a Salesforce Contact without an Individual has no opt-out flags set)
        self.null_prefixes: list[str] = []

    # --- problems ---

    def problem(self, code: str, message: str, help: str | None = None) -> None:
        if any(p.code == code and p.message == message for p in self.problems):
            return  # one host value read twice (a field and an event) is one problem
        self.problems.append(Diagnostic(code=code, severity=Severity.ERROR, message=message,
                                        record_id=self.rid, help=help))

    def unusable(self, where: str, value: Any, reason: str, help: str | None = None) -> None:
        self.problem("PR650", f"{where} is `{_show(value)}`: {reason}", help)

    # --- reading fields ---

    def get(self, name: str, source: Mapping[str, Any] | None = None) -> tuple[bool, Any]:
        """(present, value) of host field ``name`` in the row (or in a child row ``source``)."""
        if source is not None:
            if name in source:
                return True, source[name]
            if self.p.case_insensitive:
                folded = name.casefold()
                for key in source:
                    if isinstance(key, str) and key.casefold() == folded:
                        return True, source[key]
            return False, None
        if name in self.flat:
            self.consumed.add(name)
            return True, self.flat[name]
        if self.p.case_insensitive:
            real = self.index.get(name.casefold())
            if real is not None:
                self.consumed.add(real)
                return True, self.flat[real]
        for prefix in self.null_prefixes:
            if name.startswith(prefix) or (self.p.case_insensitive and name.casefold().startswith(prefix.casefold())):
                return True, None
        return False, None

    def run(self, row: Mapping[str, Any], children: Mapping[str, Sequence[Mapping[str, Any]]] | None,
            locator: str) -> Mapped:
        if not isinstance(row, Mapping):
            self.problem("PR656", f"a host row must be a mapping of field names to values, not {type(row).__name__}")
            return Mapped(record=None, problems=tuple(self.problems), locator=locator)
        self.flatten(row)
        self.read_id()
        self.read_bounds()
        scalars: dict[str, Any] = {}
        lists: dict[str, list[Any]] = {}
        facts: dict[str, Any] = {}
        host: dict[str, Any] = {}
        for spec in self.p.fields:
            self.read_field(spec, scalars, lists, facts)
        events: dict[str, list[dict[str, Any]]] = {}
        for event in self.p.events:
            self.read_event(event, events, children, host)
        for key, value in self.p.constants.items():
            if key in LIST_TARGETS:
                lists.setdefault(key, [])[:0] = list(value)  # constants first, then row values
            elif key == "facts":
                facts.update(value)
            else:
                scalars[key] = value
        for name, value in self.flat.items():
            if name not in self.consumed and not is_empty(value):
                host[name] = _host_value(value)
        if self.problems:
            return Mapped(record=None, problems=tuple(self.problems), locator=locator, record_id=self.rid)
        return Mapped(record=self.assemble(scalars, lists, facts, events, host), problems=(), locator=locator,
                      record_id=self.rid)

    def flatten(self, row: Mapping[str, Any]) -> None:
        containers = {field for field, _ in self.p.unwrap}
        folded_containers = {c.casefold() for c in containers}
        for key, value in row.items():
            if not isinstance(key, str):
                self.problem("PR656", f"host field name `{_show(key)}` is not text")
                continue
            inside = key in containers or (self.p.case_insensitive and key.casefold() in folded_containers)
            if not inside:
                self.flat[key] = value
        for field, prefix in self.p.unwrap:
            present, nested = self._top(row, field)
            if not present:
                continue
            if nested is None:
                if prefix:
                    self.null_prefixes.append(prefix)
                continue
            if not isinstance(nested, Mapping):
                self.problem("PR656", f"`{_show(field)}` is {_kind(nested)}, not an object of fields",
                             "the profile unwraps this field: the host must send an object (or null) there")
                continue
            for key, value in nested.items():
                name = f"{prefix}{key}"
                if name in self.flat:
                    self.problem("PR656", f"host field `{_show(name)}` occurs twice (once inside `{_show(field)}`)",
                                 "rename one of them in the host, or unwrap with a `prefix`")
                    continue
                self.flat[name] = value
        if self.p.case_insensitive:
            for name in self.flat:
                folded = name.casefold()
                if folded in self.index and self.index[folded] != name:
                    self.problem("PR656", f"host fields `{_show(self.index[folded])}` and `{_show(name)}` differ only "
                                          "in case", "the profile matches field names without case: keep one")
                self.index.setdefault(folded, name)

    def _top(self, row: Mapping[str, Any], name: str) -> tuple[bool, Any]:
        if name in row:
            return True, row[name]
        if self.p.case_insensitive:
            for key in row:
                if isinstance(key, str) and key.casefold() == name.casefold():
                    return True, row[key]
        return False, None

    def read_id(self) -> None:
        name = self.p.record_id
        present, value = self.get(name)
        if not present:
            self.problem("PR651", f"the row has no `{_show(name)}` (the record id)",
                         "export or select the id field; without it no answer can name the record")
            return
        if is_empty(value):
            self.problem("PR652", f"`{_show(name)}` (the record id) is empty", "give every row its host id")
            return
        try:
            text = to_text(value)
        except Unusable as exc:
            self.unusable(f"`{_show(name)}` (the record id)", value, str(exc))
            return
        if len(text) > _MAX_ID_CHARS:
            self.problem("PR652", f"`{_show(name)}` (the record id) is {len(text)} characters long, more than "
                                  f"{_MAX_ID_CHARS}", "map a shorter host id")
            return
        self.rid = text
        # problems found before the id was known get it too
        self.problems = [p if p.record_id else _with_rid(p, text) for p in self.problems]

    def read_bounds(self) -> None:
        for name, bound in self.p.bounds.items():
            present, value = self.get(bound.field)
            if not present:
                if bound.required:
                    self.problem("PR651", f"the row has no `{_show(bound.field)}`",
                                 f"export or select it: undated facts are bounded by it (bound `{name}`)")
                    self.bound_days[name] = _BAD
                else:
                    self.bound_days[name] = None
                continue
            if is_empty(value):
                self.bound_days[name] = None
                continue
            try:
                self.bound_days[name] = to_day(value, bound.fmt, self.zone)
            except Unusable as exc:
                self.unusable(f"`{_show(bound.field)}`", value, str(exc), _format_help(bound.fmt))
                self.bound_days[name] = _BAD

    def read_field(self, spec: FieldSpec, scalars: dict[str, Any], lists: dict[str, list[Any]],
                   facts: dict[str, Any]) -> None:
        present, value = self.get(spec.host)
        if not present:
            if spec.required:
                self.problem("PR651", f"the row has no `{_show(spec.host)}`",
                             "include this field in the export or the query: the profile needs it in every row")
            return
        if is_empty(value):
            return
        where = f"`{_show(spec.host)}`"
        if spec.flags:
            self.read_flags(spec, value, where, facts)
            return
        assert spec.to is not None  # INVARIANT: the checker requires `to` or `flags` (PR612)
        values = self.convert_all(spec.fmt, value, where)
        if values is None:
            return
        if spec.to in LIST_TARGETS:
            out = lists.setdefault(spec.to, [])
            for piece in values:
                mapped = self.mapped(spec.value_map, piece, where)
                if mapped is _MISSING:
                    continue
                for item in ([] if mapped is None else mapped if isinstance(mapped, list) else [mapped]):
                    if spec.to != "systems" and not (isinstance(item, str) and ID.fullmatch(item)):
                        self.unusable(where, value, "not an id (lowercase letters, digits and `_`)",
                                      "map the host's values to the pack's ids with `map`")
                        break
                    out.append(item)
            return
        result = self.mapped(spec.value_map, values[0], where)
        if result is _MISSING or result is None:
            return
        if isinstance(result, date):
            result = result.isoformat()
        kind = SCALAR_TARGETS.get(spec.to, "fact")
        if kind.startswith("enum:") and result not in kind[5:].split("|"):
            choices = kind[5:].split("|")
            self.unusable(where, value, f"not one of {', '.join(choices)}",
                          "map the host's values to these with `map`")
            return
        if spec.to.startswith("facts."):
            facts[spec.to[len("facts."):]] = result
        else:
            scalars[spec.to] = result

    def read_flags(self, spec: FieldSpec, value: Any, where: str, facts: dict[str, Any]) -> None:
        pieces = self.convert_all(spec.fmt, value, where)
        if pieces is None:
            return
        case = spec.case_sensitive
        found: set[str] = set()
        for piece in pieces:
            key = match_key(str(piece), case_sensitive=case)
            hits = [fact for fact, keys in spec.flags if key in keys]
            if not hits:
                self.unusable(where, piece, "not a value the profile knows",
                              "add the value to one of the field's `flags` (or tell the profile's owner)")
                return
            found.update(hits)
        for fact, _ in spec.flags:
            facts[fact[len("facts."):]] = fact in found

    def convert_all(self, fmt: Format, value: Any, where: str) -> list[Any] | None:
        """The converted value(s) of a non-empty cell: several for a split cell; None after a problem."""
        try:
            if fmt.type == "text":
                if fmt.split is not None and isinstance(value, (list, tuple)):
                    # a database array (PostgreSQL text[], DuckDB VARCHAR[]) is the cell already split
                    return [t for t in (to_text(v) for v in value if not is_empty(v)) if t]
                text = to_text(value)
                if fmt.split is None:
                    return [text]
                return [p.strip() for p in text.split(fmt.split) if p.strip()]
            if fmt.type in ("date", "datetime"):
                return [to_day(value, fmt, self.zone)]
            if fmt.type == "bool":
                return [to_bool(value, fmt)]
            return [to_int(value)]
        except Unusable as exc:
            self.unusable(where, value, str(exc), _format_help(fmt))
            return None

    def mapped(self, value_map: ValueMap | None, piece: Any, where: str) -> Any:
        """``piece`` through the value map (or itself without one); _MISSING after a problem."""
        if value_map is None:
            return piece
        found, out = value_map.lookup(str(piece))
        if not found:
            self.unusable(where, piece, "not a value the profile's map knows",
                          "add the value to the field's `map` (null if it says nothing), so it is never guessed")
            return _MISSING
        return list(out) if isinstance(out, (list, tuple)) else out

    # --- events ---

    def read_event(self, event: EventSpec, events: dict[str, list[dict[str, Any]]],
                   children: Mapping[str, Sequence[Mapping[str, Any]]] | None, host: dict[str, Any]) -> None:
        out = events.setdefault(event.to, [])
        if event.child is not None:
            self.read_child_event(event, out, children, host)
            return
        trigger = event.when
        assert trigger is not None  # INVARIANT: a flat event has `when` (PR612)
        hits = [(name, value) for name, value in self.trigger_fields(trigger)
                if self.triggered(trigger, value, f"`{_show(name)}`")]
        if not self.all_hold(event.also, None, ""):
            return
        for name, value in hits:
            entry = self.build_entry(event, None, f"`{_show(name)}` is `{_show(value)}`")
            if entry is not None and entry not in out:
                out.append(entry)

    def trigger_fields(self, trigger: Trigger) -> list[tuple[str, Any]]:
        if trigger.field is not None:
            present, value = self.get(trigger.field)
            if not present:
                if trigger.required:
                    self.problem("PR651", f"the row has no `{_show(trigger.field)}`",
                                 "export or select this field: without it an event (an opt-out, a consent ...) "
                                 "could be missed")
                return []
            return [(trigger.field, value)]
        assert trigger.pattern is not None
        hits = [(name, value) for name, value in self.flat.items() if trigger.pattern.fullmatch(name)]
        self.consumed.update(name for name, _ in hits)
        if not hits and trigger.required:
            self.problem("PR651", f"the row has no field matching `{_show(trigger.pattern_text)}`",
                         "export or select those fields (e.g. every subscription's opt-out): without them an "
                         "opt-out could be missed")
        return hits

    def triggered(self, trigger: Trigger, value: Any, where: str) -> bool:
        if is_empty(value):
            return False
        if trigger.filled and trigger.fmt.type == "text":
            # "any non-empty value": a DATE or TIMESTAMP from a database fills a date column as its
            # text does in a CSV; the entry's own fields convert (and check) the value.
            return True
        values = self.convert_all(trigger.fmt, value, where)
        if values is None:
            return False
        if trigger.filled:
            return True
        for piece in values:
            probe = match_key(piece, case_sensitive=trigger.case_sensitive) if isinstance(piece, str) else piece
            if any(probe == v and type(probe) is type(v) for v in trigger.values):
                return True
        return False

    def all_hold(self, conditions: Sequence[Trigger], child: Mapping[str, Any] | None, label: str) -> bool:
        """True when every condition (one field each) holds on the row or on ``child``. Every
        condition is read, so a missing or unusable field is reported even when another fails."""
        holds = True
        for trig in conditions:
            assert trig.field is not None  # INVARIANT: listed and child conditions name one field (PR612)
            present, value = self.get(trig.field, child)
            where = f"`{_show(trig.field)}`" if child is None else f"{label}: `{_show(trig.field)}`"
            if not present:
                if trig.required:
                    self.problem("PR651", f"{'the row' if child is None else label} has no `{_show(trig.field)}`")
                holds = False
            elif not self.triggered(trig, value, where):
                holds = False
        return holds

    def read_child_event(self, event: EventSpec, out: list[dict[str, Any]],
                         children: Mapping[str, Sequence[Mapping[str, Any]]] | None, host: dict[str, Any]) -> None:
        name = event.child
        assert name is not None
        table = self.p.children[name]
        rows = None if children is None else children.get(name)
        if rows is None and not table.required:
            return  # an optional consent log: none given, none recorded (the checker allows no other)
        if rows is None:
            self.problem("PR655", f"the child rows of `{name}` were not given",
                         f"pass the `{name}` rows of this record (an empty list when it has none): without them "
                         "its events cannot be known")
            return
        if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
            self.problem("PR655", f"the child rows of `{name}` must be a list of rows, not {type(rows).__name__}")
            return
        parent = self.rid
        if table.parent_key is not None:
            present, raw = self.get(table.parent_key)
            parent = None if not present or is_empty(raw) else _id_text(raw)
            if rows and parent is None:
                self.problem("PR655", f"`{name}` rows were given, but `{_show(table.parent_key)}` (which they point "
                                      "at) is empty", "a child row must belong to the record it is given with")
                return
        leftovers: list[dict[str, Any]] = []
        for n, child in enumerate(rows, start=1):
            label = f"`{name}` row {n}"
            if not isinstance(child, Mapping):
                self.problem("PR655", f"{label} is {_kind(child)}, not a row of fields")
                continue
            present, key = self.get(table.key, child)
            if not present or is_empty(key) or parent is None or _id_text(key) != parent:
                target = "the record id" if table.parent_key is None else f"`{_show(table.parent_key)}`"
                self.problem("PR655", f"{label} belongs to `{_show(key) if present else '?'}`, not to this record "
                                      f"(its `{_show(table.key)}` must be {target})",
                             "group child rows by their key before mapping; a row of another record must never "
                             "add to (or hide) this record's events")
                continue
            used = {table.key}
            conditions = ((event.when,) if event.when is not None else ()) + event.also
            used.update(t.field for t in conditions if t.field is not None)
            if not self.all_hold(conditions, child, label):
                # a row that makes no entry (an OptOut row) is kept whole: its status is the news
                leftovers.append(_rest(child, {table.key}, self.p.case_insensitive))
                continue
            entry = self.build_entry(event, child, label, used)
            if entry is not None and entry not in out:
                out.append(entry)
            leftovers.append(_rest(child, used, self.p.case_insensitive))
        if any(leftovers):
            key = f"{name}[]"
            if key in self.flat:
                self.problem("PR656", f"host field `{_show(key)}` has the name under which the unread fields of "
                                      f"child table `{name}` are kept", "rename the host field")
                return
            host[key] = [{k: _host_value(v) for k, v in rest.items()} for rest in leftovers]

    def build_entry(self, event: EventSpec, child: Mapping[str, Any] | None, cause: str,
                    used: set[str] | None = None) -> dict[str, Any] | None:
        entry: dict[str, Any] = {}
        ok = True
        _fields, required = EVENT_LISTS[event.to]
        for key, source in event.entry:
            if isinstance(source, Const):
                if source.value is not None:
                    entry[key] = list(source.value) if isinstance(source.value, (list, tuple)) else source.value
                continue
            if isinstance(source, Undated):
                bound = self.bound_for(source.bound, cause, f"{event.to}[].{key}")
                if bound is None:
                    ok = False
                else:
                    entry[key] = {"on_or_before": bound.isoformat()}
                continue
            assert isinstance(source, FromField)
            if used is not None:
                used.add(source.field)
            present, value = self.get(source.field, child)
            where = f"`{_show(source.field)}`" if child is None else f"{cause}: `{_show(source.field)}`"
            if not present:
                if source.required:
                    self.problem("PR651", f"{'the row' if child is None else cause} has no `{_show(source.field)}`")
                    ok = False
                continue
            if is_empty(value):
                continue
            values = self.convert_all(source.fmt, value, where)
            if values is None:
                ok = False
                continue
            kind = _fields[key]
            if kind == "ids":
                items: list[Any] = []
                for piece in values:
                    mapped = self.mapped(source.value_map, piece, where)
                    if mapped is _MISSING:
                        ok = False
                    elif mapped is not None:
                        items += mapped if isinstance(mapped, list) else [mapped]
                if items:
                    entry[key] = items
                continue
            result = self.mapped(source.value_map, values[0], where)
            if result is _MISSING:
                ok = False
                continue
            if result is None:
                continue
            if isinstance(result, date):
                result = result.isoformat()
            if kind.startswith("enum:") and result not in kind[5:].split("|"):
                self.unusable(where, value, f"not one of {', '.join(kind[5:].split('|'))}",
                              "map the host's values to these with `map`")
                ok = False
                continue
            if kind == "str" and ID.fullmatch(str(result)) is None and key in ("purpose", "recipient"):
                self.unusable(where, value, "not an id of the pack", "map the host's values to the pack's ids with `map`")
                ok = False
                continue
            entry[key] = result
        if not ok:
            return None
        missing = sorted(k for k in required if k not in entry)
        if missing:
            self.problem("PR657", f"{cause}, but the `{event.to}` entry it makes has no `{missing[0]}`",
                         f"every entry of `{event.to}` needs {', '.join(sorted(required))}: fill the host field the "
                         "profile reads it from")
            return None
        return entry

    def bound_for(self, name: str, cause: str, what: str) -> date | None:
        """The "on or before" day for an undated fact, or None after a problem."""
        if name == "known_on":
            if self.known_on is None:
                self.problem("PR653", f"{cause}, but the day it happened is unknown and the run gives no known-on day",
                             "give the run's known-on day (the export or sync day, `--known-on`)")
            return self.known_on
        bound = self.p.bounds[name]
        day = self.bound_days.get(name)
        if isinstance(day, _Bad):
            return None  # already reported
        if day is None:
            if self.known_on is None:
                self.problem("PR653", f"{cause}, but the day it happened is unknown: `{_show(bound.field)}` is empty "
                                      "and the run gives no known-on day",
                             "give the run's known-on day (the export or sync day, `--known-on`)")
            return self.known_on
        if self.known_on is not None and day > self.known_on:
            self.problem("PR654", f"`{_show(bound.field)}` is {day.isoformat()}, after the run's known-on day "
                                  f"{self.known_on.isoformat()}",
                         "the known-on day must be the day the data was exported or synced; a record cannot "
                         "have changed after it")
            return None
        return day

    # --- the record ---

    def assemble(self, scalars: dict[str, Any], lists: dict[str, list[Any]], facts: dict[str, Any],
                 events: dict[str, list[dict[str, Any]]], host: dict[str, Any]) -> dict[str, Any]:
        assert self.rid is not None
        parts: dict[str, Any] = {"id": self.rid}
        relationship = {k[len("relationship."):]: v for k, v in scalars.items() if k.startswith("relationship.")}
        if relationship:
            parts["relationship"] = relationship
        for key, value in scalars.items():
            if not key.startswith("relationship."):
                parts[key] = value
        for key, values in lists.items():
            if values:
                parts[key] = list(dict.fromkeys(values))  # each id once, first occurrence first
        for key, entries in events.items():
            if entries:
                parts[key] = entries
        if facts:
            parts["facts"] = facts
        if host:
            parts["host"] = host
        return {key: parts[key] for key in _ORDER if key in parts}


class _Missing:
    """A map lookup that failed (already reported)."""


_MISSING: Any = _Missing()


def _with_rid(problem: Diagnostic, rid: str) -> Diagnostic:
    return Diagnostic(code=problem.code, severity=problem.severity, message=problem.message, span=problem.span,
                      rule_id=problem.rule_id, record_id=rid, help=problem.help)


def _id_text(value: Any) -> str | None:
    try:
        return to_text(value)
    except Unusable:
        return None


def _rest(child: Mapping[str, Any], used: set[str], case_insensitive: bool) -> dict[str, Any]:
    gone = {u.casefold() for u in used} if case_insensitive else used
    return {k: v for k, v in child.items() if isinstance(k, str) and not is_empty(v)
            and (k.casefold() if case_insensitive else k) not in gone}


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def _format_help(fmt: Format) -> str | None:
    if fmt.type in ("date", "datetime"):
        shown_layouts = ", ".join(["ISO 8601"] * (fmt.type == "datetime" or not fmt.layouts)
                                  + [f"`{layout}`" for layout in fmt.layouts])
        name = f" `{fmt.name}`" if fmt.name else ""
        return (f"the format{name} reads {shown_layouts}"
                + (" and epoch milliseconds" if fmt.epoch_ms else "")
                + "; fix the value in the host, or add its layout to the profile")
    if fmt.type == "bool":
        return (f"true is {', '.join(sorted(fmt.true_words))}; false is {', '.join(sorted(fmt.false_words))}; "
                "add the host's word to the format's `true` or `false` list")
    return None


def _host_value(value: Any) -> Any:
    """``value`` as it goes under ``host``: JSON data, verbatim up to :data:`MAX_HOST_CHARS`."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value if len(value) <= MAX_HOST_CHARS else _omitted("text longer than the limit", value.encode(
            "utf-8", "surrogatepass"), len(value))
    if isinstance(value, int):
        return value if value.bit_length() <= 256 else {"omitted": "a number too long to copy",
                                                        "bits": value.bit_length()}
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        return _omitted("a binary value", raw, len(raw))
    if isinstance(value, (list, tuple, Mapping)):
        plain = _nested(value)
        text = json.dumps(plain, ensure_ascii=False)
        if len(text) > MAX_HOST_CHARS:
            return _omitted("a nested value longer than the limit", text.encode("utf-8", "surrogatepass"), len(text))
        return plain
    return {"omitted": f"a {type(value).__name__} value"}


def _nested(value: Any) -> Any:
    """A list or object from a JSON or Parquet source as plain JSON data (keys as text)."""
    if isinstance(value, Mapping):
        return {str(k): _nested(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nested(v) for v in value]
    return _host_value(value) if not isinstance(value, str) else value


def _omitted(what: str, raw: bytes, size: int) -> dict[str, Any]:
    return {"omitted": f"{what} ({MAX_HOST_CHARS} characters)", "chars": size,
            "sha256": hashlib.sha256(raw).hexdigest()}

