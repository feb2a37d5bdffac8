"""Records given as JSON text, decoded and checked in C (msgspec), for the batch's hot path.

A record given as text (a JSONL line, an HTTP body) is decoded straight into typed Structs by
msgspec: closed objects (``forbid_unknown_fields``), required fields, enums and list caps are
checked while decoding, in C, instead of building dicts for ``records.normalize_fast`` to walk
again (issue 12: parsing plus checking was ~30% of a batch decision over JSON lines).

The Structs are generated from the checker's own tables (records.RELATIONSHIP_FIELDS,
TOP_SCALARS, LIST_FIELDS, ID_LISTS), which tests/unit/test_records.py keeps equal to
schemas/record.schema.json: one definition of the record's form, not a second copy.

**Only an accepting fast path.** ``decode_facts`` returns Facts only for text it can prove
clean; for anything else it returns None and the caller runs the plain path
(records.parse_record, normalize_fast, normalize), which names every problem with its
did-you-mean hint. So problems and decisions stay byte-identical; what has to hold is that
everything accepted here is accepted there with equal Facts
(tests/property/test_record_decode.py). What msgspec does not check the way parse_record does
is refused here before or after decoding:

* a key given twice (msgspec keeps the last, silently): the number of ``":`` in the text must
  equal that in the re-encoded Structs (see ``_no_duplicate_keys``);
* ``\\u`` escapes (a lone surrogate ``\\ud800`` among them), a BOM, NaN/Infinity, ints of more
  than 64 bits: refused (msgspec refuses the last three itself);
* nesting near the interpreter's recursion limit: text with more than ``_MAX_BRACKETS``
  opening brackets goes the plain way, which says PR312 where it must;
* undated dates (``{"on_or_before": D}``): not a string, so msgspec refuses the record and the
  plain path decides it.

Dates stay ISO strings (the hot path compares strings) and are checked with the same
``records.ok_date`` as the fast path, range included.
"""

from __future__ import annotations

from typing import Any, Literal, Union

import msgspec
from msgspec import UNSET, UnsetType

from .dates import MAX_DAY, MIN_DAY
from .records import (EMPTY_LISTS, ENTRY_KINDS, ID_FULL, ok_date, unknown_in_lists, ID_LISTS,
                      LIST_FIELDS, MAX_ID_LENGTH, MAX_LIST, RELATIONSHIP_FIELDS, TOP_SCALARS, Facts, RecordIds,
                      fiscal_year_end)

#: Text with more opening brackets than this goes the plain way: its nesting could be deep
#: enough for the two parsers to stop at different depths (PR312). Brackets inside strings
#: only make the count larger (the safe direction).
_MAX_BRACKETS = 400
# A quote followed by white space (`"a" : 1`, pretty-printed text, a string that begins with a
# space) goes the plain way: a key with white space before its colon would escape the count of
# `":` (_no_duplicate_keys). Four substring scans cost less than a regular expression.


def _scalar(kind: str) -> Any:
    if kind.startswith("enum:"):
        return Literal[tuple(kind[5:].split("|"))]
    return {"date": str, "str": str, "id": str, "bool": bool, "int": int, "ids": list[str]}[kind]


def _optional(t: Any) -> Any:
    return Union[t, None, UnsetType]


def _entry_struct(name: str) -> Any:
    fields, required = LIST_FIELDS[name]
    kinds = ENTRY_KINDS[name]
    spec: list[Any] = [(f, _scalar(kinds[f])) for f in fields if f in required]
    spec += [(f, _optional(_scalar(kinds[f])), UNSET) for f in fields if f not in required]
    return msgspec.defstruct(f"_{name}", spec, forbid_unknown_fields=True)


_Relationship = msgspec.defstruct("_relationship", [(f, _optional(str), UNSET) for f in RELATIONSHIP_FIELDS],
                                  forbid_unknown_fields=True)
_ENTRY_STRUCTS = {name: _entry_struct(name) for name in LIST_FIELDS}
_FactValue = Union[str, int, float, bool, None]
_top: list[Any] = [("id", str)]
_top += [(f, _optional(_scalar(k)), UNSET) for f, k in TOP_SCALARS.items() if f != "id"]
_top += [("relationship", Union[_Relationship, UnsetType], UNSET)]
_top += [(f, Union[list[str], UnsetType], UNSET) for f in ID_LISTS]
_top += [(name, Union[list[s], UnsetType], UNSET) for name, s in _ENTRY_STRUCTS.items()]  # type: ignore[valid-type]
_top += [("facts", Union[dict[str, _FactValue], UnsetType], UNSET), ("host", Union[dict[str, Any], UnsetType], UNSET)]
_Record = msgspec.defstruct("_Record", _top, forbid_unknown_fields=True)

_DECODE = msgspec.json.Decoder(_Record).decode
_ENCODE = msgspec.json.Encoder().encode
_FIELDS = {name: tuple(fields) for name, (fields, _) in LIST_FIELDS.items()}
_REL_PATHS = tuple((f, f"relationship.{f}") for f in RELATIONSHIP_FIELDS)
_MIN_YEAR, _MAX_YEAR = MIN_DAY.year, MAX_DAY.year


def decode_facts(text: str | bytes | bytearray, cache: dict[str, bool], ids: RecordIds) -> Facts | None:
    """Facts for a clean record given as JSON text, or None to let the plain path decide.

    Equal to ``normalize_fast(parse_record(text), cache, ids)`` whenever it is not None. Pure
    but for ``cache`` (date string -> valid, as normalize_fast's).
    """
    if type(text) is str:
        try:
            raw = text.encode("utf-8")  # a lone surrogate cannot be encoded: the plain path names it
        except UnicodeEncodeError:
            return None
    elif type(text) is bytes:
        raw = text
    else:
        return None
    # the same tests as `b"\\u" in raw or raw.count(b"{") + raw.count(b"[") > _MAX_BRACKETS or
    # b'" ' in raw or ...`, cheapest first: a one-byte search before each two-byte one (which
    # costs about twice as much), the brackets counted only in a line long enough to hold that many
    if ((b"\\" in raw and b"\\u" in raw) or (len(raw) > _MAX_BRACKETS and raw.count(b"{") + raw.count(b"[") > _MAX_BRACKETS)
            or b'" ' in raw or (b"\n" in raw and b'"\n' in raw) or (b"\t" in raw and b'"\t' in raw)
            or (b"\r" in raw and b'"\r' in raw)):  # see _no_duplicate_keys
        return None
    try:
        rec = _DECODE(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    if not _no_duplicate_keys(raw, rec):
        return None
    return _facts(rec, cache, ids)


def _no_duplicate_keys(raw: bytes, rec: Any) -> bool:
    """True when no object in ``raw`` names a key twice.

    Every key in ``raw`` ends in ``":`` (no quote is followed by white space: checked by
    the caller), and inside strings ``":`` can only be ``\\":`` (no ``\\u`` escapes: checked), so
    ``raw.count(b'":')`` = keys in the text + such string content. Re-encoding the decoded
    Structs writes each key once (absent fields are UNSET and left out; a null given is
    written) and string content the same way, so the counts are equal exactly when no key
    was dropped as a duplicate."""
    return raw.count(b'":') == _ENCODE(rec).count(b'":')


def _facts(rec: Any, cache: dict[str, bool], ids: RecordIds) -> Facts | None:
    rid = rec.id
    if not rid or len(rid) > MAX_ID_LENGTH:
        return None
    s: dict[str, Any] = {}
    rel = rec.relationship
    if rel is not UNSET:
        for name, path in _REL_PATHS:
            v = getattr(rel, name)
            if v is not UNSET and v is not None:
                if cache.get(v) is not True and not ok_date(v, cache):
                    return None
                s[path] = v
    v = rec.contact_address_kind
    if v is not UNSET and v is not None:
        s["contact_address_kind"] = v
    v = rec.source
    if v is not UNSET and v is not None:
        s["source"] = v
    v = rec.art14_informed_on
    if v is not UNSET and v is not None:
        if not ok_date(v, cache):
            return None
        s["art14_informed_on"] = v
    role = rec.role
    if role is UNSET:
        role = None
    subjects = None
    value = rec.subject_categories
    if value is not UNSET:
        if not ids.subjects.issuperset(value):
            return None
        subjects = frozenset(value)
    cats: Any = ()
    value = rec.data_categories
    if value is not UNSET:
        known = ids.data_categories
        if known is not None:
            if not known.issuperset(value):
                return None
        else:
            for x in value:
                if ID_FULL(x) is None:
                    return None
        cats = value
    systems: Any = ()
    value = rec.systems
    if value is not UNSET:
        for x in value:
            if not x:
                return None
        systems = value
    own: dict[str, tuple[tuple[Any, ...], ...]] | None = None
    for name, fields in _FIELDS.items():
        entries = getattr(rec, name)
        if entries is UNSET or not entries:
            continue
        if len(entries) > MAX_LIST:
            return None
        kinds = ENTRY_KINDS[name]
        rows = []
        for entry in entries:
            row: list[Any] = []
            for f in fields:
                v = getattr(entry, f)
                if v is UNSET:
                    v = None
                elif v is not None:
                    kind = kinds[f]
                    if kind == "date":
                        if cache.get(v) is not True and not ok_date(v, cache):
                            return None
                    elif kind == "id":
                        if ID_FULL(v) is None:
                            return None
                    elif kind == "ids":
                        for x in v:
                            if ID_FULL(x) is None:
                                return None
                        v = tuple(v)
                    elif kind == "int":
                        if not _MIN_YEAR <= v <= _MAX_YEAR:
                            return None
                row.append(v)
            if name == "vouchers" and row[1] is None:
                row[1] = fiscal_year_end(row[0])
            rows.append(tuple(row))
        if own is None:
            own = dict(EMPTY_LISTS)
        own[name] = tuple(rows)
    value = rec.facts
    if value is not UNSET:
        declared = ids.facts
        for name, v in value.items():
            if declared is not None and name not in declared:
                return None  # PR340: the plain path names it
            if v is not None:
                if type(v) is float and not (v == v and v not in (float("inf"), float("-inf"))):
                    return None
                s["facts." + name] = v
    if own is not None and unknown_in_lists(own, ids):
        return None
    if ids.fact_defaults:
        for path, v in ids.fact_defaults:
            if s.get(path) is None:
                s[path] = v
    return Facts(rid, role, subjects, s, EMPTY_LISTS if own is None else own, frozenset(cats), tuple(systems), None)
