"""Canonical records: strict checking and normalisation into the facts the evaluator reads.

A record is untrusted host data. Every object in it is closed: an unknown key is a problem,
not something to skip, so a typo in a fact name (`consent` for `consents`) can never pass
silently (docs/rule-language.md, section 4). Host-only data goes under ``host`` (ignored);
pack-defined facts under ``facts``, whose keys are closed by the pack (the facts it declares,
declared.py): checked where a pack decides the record (``normalize(record, ids)``, PR340).

Normalisation turns each date into its validated ISO string: ISO dates order like the dates
they name, so the hot path compares strings and never parses (research/peerbench.md).
The shape here mirrors schemas/record.schema.json; tests/unit/test_records.py checks that
both name the same fields.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from types import MappingProxyType
from typing import Any, Callable, Iterable, Iterator, Mapping

from .dates import MAX_DAY, MAX_ISO, MIN_DAY, MIN_ISO, SUPPORTED_RANGE, in_supported_range, parse_date
from .errors import shown
from .model import CONSENT_MECHANISMS, Diagnostic, FactSpec, Severity, Vocabulary

# field -> kind; kinds: date, str, ids (a list of ids of the pack's vocabulary: [a-z][a-z0-9_]*),
# names (a list of non-empty strings), enum:<a|b>, bool, int. Which `str` fields hold one id of
# the vocabulary is ENTRY_IDS (kept apart: other modules read these kinds as JSON types).
RELATIONSHIP_FIELDS: Mapping[str, str] = {
    "first_contact_on": "date",
    "downloaded_on": "date",
    "customer_since": "date",
    "customer_ended_on": "date",
    "cooperation_ended_on": "date",
    "role_ended_on": "date",
    "last_activity_on": "date",
    "inbound_request_on": "date",
}

TOP_SCALARS: Mapping[str, str] = {
    "id": "str",
    "role": "enum:controller|processor",
    "contact_address_kind": "enum:personal|impersonal",
    "source": "enum:self|website|linkedin|public_register|private_register",
    "art14_informed_on": "date",
}

# list field -> (entry fields in tuple order, required fields)
LIST_FIELDS: Mapping[str, tuple[Mapping[str, str], frozenset[str]]] = {
    # mechanism: how the consent was obtained (model.CONSENT_MECHANISMS; N53, Planet49)
    "consents": ({"purpose": "str", "recipient": "str", "given_on": "date", "withdrawn_on": "date",
                  "mechanism": "enum:" + "|".join(CONSENT_MECHANISMS)},
                 frozenset({"purpose", "given_on"})),
    "objections": ({"kind": "enum:art21_1|art21_2", "received_on": "date", "withdrawn_on": "date",
                    "compelling_grounds_on": "date"}, frozenset({"kind", "received_on"})),
    "restrictions": ({"requested_on": "date", "lifted_on": "date",
                      "ground": "enum:art18_1_a|art18_1_b|art18_1_c|art18_1_d"}, frozenset({"requested_on"})),
    # extended_on: the person was told of the two-month extension (Art. 12(3), N43)
    "erasure_requests": ({"received_on": "date", "verified_on": "date", "answered_on": "date",
                          "compelling_grounds_on": "date", "extended_on": "date"}, frozenset({"received_on"})),
    "rights_requests": ({"kind": "enum:access|rectification|erasure|restriction|objection|portability",
                         "received_on": "date", "verified_on": "date", "answered_on": "date",
                         "extended_on": "date"},
                        frozenset({"kind", "received_on"})),
    "legal_holds": ({"placed_on": "date", "released_on": "date", "matter": "str", "scopes": "ids"},
                    frozenset({"placed_on"})),
    "disclosure_orders": ({"recipient": "str", "received_on": "date", "binding": "bool", "reference": "str"},
                          frozenset({"recipient", "received_on", "binding"})),
    "vouchers": ({"fiscal_year": "int", "fiscal_year_end": "date"}, frozenset({"fiscal_year"})),
}

# Entry fields holding one id of the pack's vocabulary (record.schema.json $defs/id): checked
# as kind `id`, the id form, and where a Policy decides, against the vocabulary (PR320, PR321).
ENTRY_IDS: Mapping[str, frozenset[str]] = {"consents": frozenset({"purpose", "recipient"}),
                                           "disclosure_orders": frozenset({"recipient"})}
# LIST_FIELDS with the kinds the checker holds entries to (`id` for the fields above)
ENTRY_KINDS: Mapping[str, Mapping[str, str]] = {
    name: {f: "id" if f in ENTRY_IDS.get(name, ()) else kind for f, kind in fields.items()}
    for name, (fields, _) in LIST_FIELDS.items()
}
# top-level lists -> kind: ids of the pack's vocabulary, or free names (systems: informational)
ID_LISTS: Mapping[str, str] = {"subject_categories": "ids", "data_categories": "ids", "systems": "names"}
MAX_ID_LENGTH = 200  # a record's own `id` (record.schema.json maxLength)
#: Problems listed per record; past it one PR322 problem gives the exact count of the rest, so
#: a 30 KB line of bad entries cannot turn into a megabyte of answer (issue 7, the caps audit).
MAX_PROBLEMS = 20
TOP_FIELDS = frozenset(TOP_SCALARS) | {"relationship", "facts", "host"} | frozenset(LIST_FIELDS) | frozenset(ID_LISTS)
# Top-level fields record.schema.json gives no null: a list or an object, or left out. A null
# `objections` is no register of objections; read as "none recorded" it could give an allow.
NOT_NULL = frozenset(TOP_FIELDS - TOP_SCALARS.keys())

# Scalar paths a rule may read (happened, fact, window from).
SCALAR_PATHS = frozenset(
    [f"relationship.{k}" for k in RELATIONSHIP_FIELDS] + ["contact_address_kind", "source", "art14_informed_on"]
)
# List paths a window may take its anchor from: path -> (list field, index in the entry tuple).
LIST_DATE_PATHS: Mapping[str, tuple[str, int]] = {
    f"{name}[].{field}": (name, i)
    for name, (fields, _) in LIST_FIELDS.items()
    for i, (field, kind) in enumerate(fields.items())
    if kind == "date"
}

MAX_LIST = 10_000  # entries per list; a register this long is a host bug, not a person

#: The one key of an undated date (docs/rule-language.md, "Dates known only as on or before").
UNDATED_KEY = "on_or_before"


@dataclass(frozen=True, slots=True)
class OnOrBefore:
    """A date the host knows only as "on or before ``day``" (``{"on_or_before": "YYYY-MM-DD"}``):
    the set of days MIN_ISO..``day``. ``day`` is a checked ISO day in range.

    Hosts keep opt-outs and "forget me" as booleans without a date (HubSpot ``hs_email_optout``,
    Salesforce ``ShouldForget``); the mapping profiles bound them by the export or last-modified
    day instead of inventing a date. A condition that reads one is evaluated over every day of
    the set (compile/interpret.py): true or false only if it is so for each of them.
    """

    day: str


class Facts:
    """A checked, normalised record. Internal to the engine; treat as immutable.

    A plain ``__slots__`` class, not a frozen dataclass: attribute reads are the hot path.
    """

    __slots__ = ("id", "role", "subjects", "s", "lists", "data_categories", "systems", "undated")

    def __init__(self, id: str, role: str | None, subjects: frozenset[str] | None, s: dict[str, Any],
                 lists: Mapping[str, tuple[tuple[Any, ...], ...]], data_categories: frozenset[str],
                 systems: tuple[str, ...], undated: Mapping[str, str] | None = None) -> None:
        self.id = id
        self.role = role
        self.subjects = subjects
        self.s = s  # scalar path -> value (dates as ISO strings); absent or null = not present
        self.lists = lists  # list field -> tuple of entry tuples in LIST_FIELDS order
        self.data_categories = data_categories
        self.systems = systems
        # record path of each undated date (`objections[0].received_on`) -> its bound day; empty
        # (falsy) for almost every record: the engines test it to route a record with undated
        # dates away from exact-day evaluation (Policy._undated_statuses, DurablePolicy).
        self.undated: Mapping[str, str] = undated or _NO_UNDATED


_NO_UNDATED: Mapping[str, str] = MappingProxyType({})


class RecordInvalid(Exception):
    """The record cannot be evaluated; ``problems`` say why, each naming the field.

    ``position`` is the (line, column) of a JSON syntax error (PR310) in a record given as text.
    """

    def __init__(self, record_id: str | None, problems: tuple[Diagnostic, ...], *,
                 position: tuple[int, int] | None = None) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.record_id = record_id
        self.problems = problems
        self.position = position


# --- records given as JSON text ---------------------------------------------------------------
# A host holding JSON (a JSONL line, an HTTP body) passes the text; parsing here catches what a
# dict can no longer show. json.loads keeps the last of two equal keys, so a second
# `"objections": []` would hide an Art. 21(2) objection and turn a deny into an allow: a
# duplicate key at any depth is a record problem. So are text that is not UTF-8, nesting too
# deep for the parser, numbers too long to convert, NaN/Infinity (not JSON), and lone surrogates.

_SURROGATE = re.compile("[\ud800-\udfff]")
_WS = re.compile(r"[ \t\n\r]*")
_BOM = b"\xef\xbb\xbf"
Scanner = Callable[[str, int], "tuple[Any, int]"]


class _Duplicate(Exception):
    """Raised by the object hook at the first object that names a key twice."""


class _Constant(Exception):
    """Raised for NaN, Infinity and -Infinity, which Python's json accepts but JSON does not."""


def fiscal_year_end(fiscal_year: Any) -> str:
    """A voucher's fiscal year end when the record does not state it: 31 December (R11);
    ``fiscal_year`` is a checked int."""
    return f"{fiscal_year:04d}-12-31"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise _Duplicate
    return d


def _no_constant(name: str) -> Any:
    raise _Constant(name)


def new_scanner() -> Scanner:
    """A JSON scanner for :func:`parse_record`. Build one per thread (or per batch) and reuse it:
    building costs about as much as parsing a short record."""
    # Measured on 100k benchmark lines (benchmarks/bench.py records, ~370 bytes each): the
    # object_pairs_hook costs ~1.0 us a line over the same scanner without it (4.5 vs 3.5 us),
    # and calling the scanner directly saves most of what json.loads spends on set-up (4.0 us),
    # so duplicate-safe parsing costs ~0.5 us a line more than the json.loads the CLI used
    # before, about 2% of a 3-question decision. Cheaper tricks (counting ':' against the keys
    # parsed) need a Python walk of the value that costs as much as the hook.
    decoder = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    scan: Scanner = decoder.scan_once  # type: ignore[attr-defined]  # set in __init__; typeshed omits it
    return scan


def parse_record(text: str | bytes | bytearray, scan: Scanner | None = None) -> Any:
    """The JSON value in ``text``; raises RecordInvalid (PR307, PR309-PR313) if it is not usable.

    Bytes must be UTF-8 (a leading byte-order mark is skipped). The value is not yet checked as
    a record (``normalize`` does that). Pure; ``scan`` is a scanner from :func:`new_scanner`.
    """
    if isinstance(text, str):
        s = str.__str__(text)
        raw_surrogates = not s.isascii() and _SURROGATE.search(s) is not None
    else:
        raw = bytes(text)
        if raw[:3] == _BOM:
            raw = raw[3:]
        try:
            s = raw.decode("utf-8")  # strict: refuses encoded surrogates too
        except UnicodeDecodeError as exc:
            raise RecordInvalid(None, (_problem(
                None, "PR311", f"not valid UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}",
                "write records as UTF-8 (RFC 8259); convert the host's export, e.g. from Latin-1"),)) from None
        raw_surrogates = False
    if scan is None:
        scan = new_scanner()
    try:
        # json.loads without its per-call set-up: leading/trailing whitespace, then one value
        idx = _WS.match(s, 0).end() if s[:1] in " \t\n\r" else 0  # type: ignore[union-attr]
        try:
            value, end = scan(s, idx)
        except StopIteration as stop:
            raise json.JSONDecodeError("Expecting value", s, stop.value) from None
        if end != len(s):
            tail = s[end:] if len(s) - end < 3 else None  # a JSONL line ends in "\n" (or "\r\n")
            if tail != "\n" and tail != "\r\n":
                end = _WS.match(s, end).end()  # type: ignore[union-attr]
                if end != len(s):
                    raise json.JSONDecodeError("Extra data", s, end)
    except _Duplicate:
        try:
            rid, problems = _text_problems(s)
        except Exception as exc:  # noqa: BLE001 - a second problem further on (too deep, ...)
            raise _unusable(exc) from None
        raise RecordInvalid(rid, problems) from None
    except Exception as exc:  # noqa: BLE001 - every way the parser fails is named by _unusable
        raise _unusable(exc) from None
    if raw_surrogates or "\\u" in s:
        # a lone surrogate comes from a `\ud800` escape (or, in str text, the character itself);
        # rare, so only then walk the value to name where it is
        try:
            rid, problems = _text_problems(s)
        except Exception as exc:  # noqa: BLE001 - the second parse runs a few frames deeper
            raise _unusable(exc) from None
        if problems:
            raise RecordInvalid(rid, problems)
    return value


def _unusable(exc: BaseException) -> RecordInvalid:
    """The record problem for an exception the JSON parser raised."""
    if isinstance(exc, json.JSONDecodeError):
        where = f"column {exc.colno}" if exc.lineno == 1 else f"line {exc.lineno}, column {exc.colno}"
        return RecordInvalid(None, (_problem(None, "PR310", f"not valid JSON: {exc.msg} ({where})",
                                             "send one JSON object per record"),), position=(exc.lineno, exc.colno))
    elif isinstance(exc, _Constant):
        p = _problem(None, "PR310", f"not valid JSON: `{exc.args[0]}` is not a JSON value",
                     "send numbers as finite decimals; leave out a fact whose value is unknown")
    elif isinstance(exc, RecursionError):
        p = _problem(None, "PR312", "nested too deeply to read (arrays or objects inside each other, hundreds "
                     "of levels)", "a record is a few levels deep; check how the host builds it")
    elif isinstance(exc, ValueError):  # int() refuses more than sys.get_int_max_str_digits() digits
        p = _problem(None, "PR313", f"a number has more than {sys.get_int_max_str_digits()} digits",
                     "no fact in a record is a number that long; check how the host builds it")
    else:  # MemoryError and the like: still this record's problem, never the sweep's end
        p = _problem(None, "PR315", f"cannot read the record: {type(exc).__name__}",
                     "check how the host builds this record")
    return RecordInvalid(None, (p,))


class _Obj(list):  # type: ignore[type-arg]
    """A JSON object as its (key, value) pairs, duplicates kept: for naming problems only."""


def _text_problems(s: str) -> tuple[str | None, tuple[Diagnostic, ...]]:
    """(record id, problems) for duplicate keys and lone surrogates in ``s``, each with its path.

    The error path: parses ``s`` again keeping every pair (``s`` is known to parse).
    """
    value = json.JSONDecoder(object_pairs_hook=_Obj, parse_constant=_no_constant).decode(s)
    rid = None
    if type(value) is _Obj:
        ids = [v for k, v in value if k == "id"]
        if len(ids) == 1 and isinstance(ids[0], str) and ids[0]:
            rid = record_id_of({"id": ids[0]})
    return rid, capped(_walk_text_problems(value, rid), lambda: rid)


def _walk_text_problems(value: Any, rid: str | None) -> Iterator[Diagnostic]:
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if type(node) is _Obj:
            seen: set[str] = set()
            children = []
            for key, child in node:
                where = f"{path}.{shown(key)}" if path else shown(key)
                if _lone(key):
                    yield _surrogate(rid, where, " (a key)")
                if key in seen:
                    yield _problem(
                        rid, "PR307", f"duplicate key `{shown(key)}` in " + (f"`{path}`" if path else "the record"),
                        "name each key once: JSON keeps only one of the values, so the other fact would be lost")
                seen.add(key)
                children.append((child, where))
            stack.extend(reversed(children))
        elif type(node) is list:
            stack.extend(reversed([(child, f"{path}[{i}]") for i, child in enumerate(node)]))
        elif type(node) is str and _lone(node):
            yield _surrogate(rid, path or "the record")


def _escaped(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def record_id_of(record: Any) -> str | None:
    """The record's id if it has a usable one, for messages about a broken record; never raises.

    At most 200 characters, with lone surrogates escaped, so any output can carry it.
    """
    try:
        if isinstance(record, Mapping):
            rid = record.get("id")
            if isinstance(rid, str) and rid:
                rid = str.__str__(rid[:200])
                return rid if rid.isascii() or not _SURROGATE.search(rid) else _escaped(rid)
    except Exception:  # noqa: BLE001 - a host mapping that breaks on access has no usable id
        pass
    return None


def normalize(record: Any, ids: RecordIds | None = None) -> Facts:
    """Facts for one record; raises RecordInvalid with the problems found (the first MAX_PROBLEMS, then
    a PR322 counting the rest). Pure; never mutates.

    ``record`` is a mapping, or JSON text (str or bytes), parsed by :func:`parse_record`. With
    ``ids`` (the pack's, as a Policy decides), a ``facts`` key the pack does not declare is a
    problem too (PR340), and a declared fact's ``if_absent`` value fills an absent one; the
    vocabulary ids are checked apart (:func:`id_problems`).
    """
    if isinstance(record, (str, bytes, bytearray)):
        record = parse_record(record)
    problems = capped(_check(record, ids), lambda: record_id_of(record))
    if problems:
        raise RecordInvalid(record_id_of(record), problems)
    facts = _build(record)
    if ids is not None and ids.fact_defaults:
        s = facts.s
        for path, value in ids.fact_defaults:
            if s.get(path) is None:
                s[path] = value
    return facts


@dataclass(frozen=True, slots=True, kw_only=True)
class MoreProblems(Diagnostic):
    """PR322, the last problem of a record that has more than MAX_PROBLEMS: how many are not
    listed (``hidden``), so the count stays exact while the answer stays short."""

    hidden: int = 0


def capped(problems: Iterable[Diagnostic], record_id: Callable[[], str | None]) -> tuple[Diagnostic, ...]:
    """The first MAX_PROBLEMS of ``problems``, then one MoreProblems counting the rest (all of
    them: the count is exact). ``record_id`` is called only when a summary is needed."""
    it = iter(problems)
    first = tuple(islice(it, MAX_PROBLEMS))
    hidden = sum(1 for _ in it)
    if not hidden:
        return first
    return first + (MoreProblems(
        code="PR322", severity=Severity.ERROR, record_id=record_id(), hidden=hidden,
        message=f"and {hidden} more problem{'s' if hidden != 1 else ''} in this record (the first "
                f"{MAX_PROBLEMS} are listed)",
        help="fix the problems listed first: they are usually one mistake repeated in many entries"),)


def _problem(rid: str | None, code: str, message: str, help: str | None = None) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.ERROR, message=message, record_id=rid, help=help)


def _unknown(rid: str | None, where: str, key: Any, allowed: frozenset[str] | Mapping[str, Any]) -> Diagnostic:
    name = f"{where}{shown(key)}" if isinstance(key, str) else f"{where}{shown(key)} (a {type(key).__name__} key)"
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6) if isinstance(key, str) and len(key) < 100 else []
    hint = f"did you mean `{where}{close[0]}`?" if close else (
        "host-only data belongs under `host`; pack-defined facts under `facts`" if not where
        else f"allowed here: {', '.join(sorted(allowed))}")
    return _problem(rid, "PR301", f"unknown field `{name}`", hint)


_DATE_HELP = "dates are days: write YYYY-MM-DD"
_RANGE_HELP = (f"send the real day (between {SUPPORTED_RANGE}); a placeholder such as 9999-12-31 or "
               "0001-01-01 is not a fact: leave the field out only if the event has not happened")
_SURROGATE_HELP = ("text must be valid Unicode: a `\\ud800`-style escape without its pair is not a character; "
                   "fix the host's encoding")


def _surrogate(rid: str | None, path: str, what: str = "") -> Diagnostic:
    return _problem(rid, "PR309", f"`{path}`{what} holds a lone surrogate (an unpaired \\uD800-\\uDFFF escape)",
                    _SURROGATE_HELP)


def _lone(text: str) -> bool:
    """True when ``text`` holds a lone surrogate (which no UTF-8 output can carry)."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def _check_value(rid: str | None, path: str, kind: str, value: Any) -> Iterator[Diagnostic]:
    if value is None:
        return
    if kind == "date":
        if isinstance(value, Mapping):
            yield from _check_undated(rid, path, value)
            return
        try:
            day = parse_date(value)
        except ValueError as exc:
            yield _problem(rid, "PR303", f"`{path}`: {exc}", _DATE_HELP)
        else:
            if not in_supported_range(day):
                yield _problem(rid, "PR308", f"`{path}` `{day.isoformat()}` is outside the supported range "
                               f"{SUPPORTED_RANGE}", _RANGE_HELP)
    elif kind == "str":
        if not isinstance(value, str):
            yield _problem(rid, "PR302", f"`{path}` must be a string, not {_type_name(value)}")
        elif _lone(value):
            yield _surrogate(rid, path)
    elif kind == "id":
        if not isinstance(value, str):
            yield _problem(rid, "PR302", f"`{path}` must be a string, not {_type_name(value)}")
        elif _lone(value):
            yield _surrogate(rid, path)
        elif ID_FULL(value) is None:
            yield _not_an_id(rid, path, value)
    elif kind == "ids" or kind == "names":
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            yield _problem(rid, "PR302", f"`{path}` must be a list of strings")
        elif any(_lone(v) for v in value):
            yield _surrogate(rid, path)
        else:
            for i, v in enumerate(value):
                if kind == "ids" and ID_FULL(v) is None:
                    yield _not_an_id(rid, f"{path}[{i}]", v)
                elif not v:
                    yield _problem(rid, "PR320", f"`{path}[{i}]` is empty",
                                   "name each system (e.g. `hubspot`), or leave the entry out")
    elif kind == "bool":
        if not isinstance(value, bool):
            yield _problem(rid, "PR302", f"`{path}` must be true or false, not {_type_name(value)}")
    elif kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            yield _problem(rid, "PR302", f"`{path}` must be a whole number, not {_type_name(value)}")
        elif not MIN_DAY.year <= value <= MAX_DAY.year:
            yield _problem(rid, "PR302", f"`{path}` `{shown(value)}` is not a plausible year",
                           f"years run from {MIN_DAY.year} to {MAX_DAY.year}")
    elif kind.startswith("enum:"):
        choices = kind[5:].split("|")
        if value not in choices:
            yield _problem(rid, "PR306", f"`{path}` is `{shown(value)}`; expected one of {', '.join(choices)}")


_UNDATED_HELP = ("a date known only as \"on or before\" a day is written {\"on_or_before\": \"YYYY-MM-DD\"}, the day "
                 "being the export, sync or last-modified day; send the exact day instead when the host has it")


def _check_undated(rid: str | None, path: str, value: Mapping[Any, Any]) -> Iterator[Diagnostic]:
    """PR330-PR332 for an undated date ``{"on_or_before": DAY}`` at ``path``."""
    keys = list(value)
    if keys != [UNDATED_KEY]:
        extra = [k for k in keys if k != UNDATED_KEY]
        what = (f"has no `{UNDATED_KEY}`" if UNDATED_KEY not in value else
                f"has `{shown(extra[0])}` besides `{UNDATED_KEY}`")
        yield _problem(rid, "PR330", f"`{path}` is an object that {what}; a date is a day `YYYY-MM-DD` or "
                       f"`{{\"{UNDATED_KEY}\": \"YYYY-MM-DD\"}}`", _UNDATED_HELP)
        return
    bound = value[UNDATED_KEY]
    try:
        day = parse_date(bound)
    except ValueError as exc:
        yield _problem(rid, "PR331", f"`{path}.{UNDATED_KEY}`: {exc}",
                       "the bound is a day, written YYYY-MM-DD (the export or last-modified day)")
    else:
        if not in_supported_range(day):
            yield _problem(rid, "PR332", f"`{path}.{UNDATED_KEY}` `{day.isoformat()}` is outside the supported "
                           f"range {SUPPORTED_RANGE}", "send the real export or last-modified day as the bound")


ID_FULL = re.compile(r"[a-z][a-z0-9_]*").fullmatch  # record.schema.json $defs/id, the whole string
_ID_HELP = ("ids are lowercase ASCII letters, digits and underscores, starting with a letter, as the pack's "
            "vocabulary writes them: map the host's value to the pack's id")


def _not_an_id(rid: str | None, path: str, value: str) -> Diagnostic:
    return _problem(rid, "PR320", f"`{path}` `{shown(value)}` is not an id", _ID_HELP)


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def _check(record: Any, ids: RecordIds | None = None) -> Iterator[Diagnostic]:
    if not isinstance(record, Mapping):
        yield _problem(None, "PR305", f"a record must be a JSON object, not {_type_name(record)}")
        return
    rid = record_id_of(record)
    if rid is None:
        yield _problem(None, "PR305", "record has no `id` (a non-empty string)", "give every record its host id")
    elif _lone(record["id"]):
        yield _surrogate(rid, "id")
    elif len(record["id"]) > MAX_ID_LENGTH:
        yield _problem(rid, "PR320", f"`id` is {len(record['id'])} characters long, more than {MAX_ID_LENGTH}",
                       "send the host's own record id; ids of more than 200 characters are refused")
    for key in record:
        if key not in TOP_FIELDS:
            yield _unknown(rid, "", key, TOP_FIELDS)
        elif key in NOT_NULL and record[key] is None:
            what = "an object" if key in ("relationship", "facts", "host") else "a list"
            yield _problem(rid, "PR302", f"`{key}` must be {what}, not null",
                           "leave the field out when the host has nothing for it; null is not a value here")
    for key, kind in TOP_SCALARS.items():
        if key in record and key != "id":
            yield from _check_value(rid, key, kind, record[key])
    rel = record.get("relationship")
    if rel is not None:
        if not isinstance(rel, Mapping):
            yield _problem(rid, "PR302", f"`relationship` must be an object, not {_type_name(rel)}")
        else:
            for key, value in rel.items():
                if key not in RELATIONSHIP_FIELDS:
                    yield _unknown(rid, "relationship.", key, RELATIONSHIP_FIELDS)
                else:
                    yield from _check_value(rid, f"relationship.{key}", "date", value)
    for name, kind in ID_LISTS.items():
        items = record.get(name)
        if items is not None:
            yield from _check_value(rid, name, kind, items)
    facts = record.get("facts")
    if facts is not None:
        if not isinstance(facts, Mapping):
            yield _problem(rid, "PR302", f"`facts` must be an object, not {_type_name(facts)}")
        else:
            for key, value in facts.items():
                if not isinstance(key, str):
                    yield _problem(rid, "PR302", "`facts` keys must be strings")
                    continue
                if _lone(key):
                    yield _surrogate(rid, "facts", f" key `{shown(key)}`")
                    continue
                if ids is not None and ids.facts is not None and key not in ids.facts:
                    yield _unknown_fact(rid, key, ids.facts)  # and the value's own problem, if any
                if value is not None and not isinstance(value, (str, int, float, bool)):
                    yield _problem(rid, "PR302", f"`facts.{shown(key)}` must be a string, number, boolean or null")
                elif isinstance(value, float) and not math.isfinite(value):
                    yield _problem(rid, "PR302", f"`facts.{shown(key)}` must be a finite number, not `{value}`")
                elif isinstance(value, str) and _lone(value):
                    yield _surrogate(rid, f"facts.{shown(key)}")
    host = record.get("host")
    if host is not None and not isinstance(host, Mapping):
        yield _problem(rid, "PR302", f"`host` must be an object, not {_type_name(host)}")
    for name, (fields, required) in LIST_FIELDS.items():
        items = record.get(name)
        if items is None:
            continue
        if not isinstance(items, (list, tuple)):
            yield _problem(rid, "PR302", f"`{name}` must be a list, not {_type_name(items)}")
            continue
        if len(items) > MAX_LIST:
            yield _problem(rid, "PR302", f"`{name}` has {len(items)} entries; at most {MAX_LIST} are accepted")
            continue
        for i, entry in enumerate(items):
            where = f"{name}[{i}]"
            if not isinstance(entry, Mapping):
                yield _problem(rid, "PR302", f"`{where}` must be an object, not {_type_name(entry)}")
                continue
            for key in entry:
                if key not in fields:
                    yield _unknown(rid, f"{where}.", key, fields)
            for key in sorted(required):
                if entry.get(key) is None:
                    yield _problem(rid, "PR304", f"`{where}` has no `{key}`",
                                   f"every entry in `{name}` needs {', '.join(sorted(required))}")
            for key, kind in ENTRY_KINDS[name].items():
                if key in entry:
                    yield from _check_value(rid, f"{where}.{key}", kind, entry[key])


def _iso(value: Any) -> Any:
    """The checked date ``value`` as an ISO string, an OnOrBefore, or None."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return OnOrBefore(_iso(value[UNDATED_KEY]))
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # already checked to be a valid YYYY-MM-DD string (str subclasses become str)


def _build(record: Mapping[str, Any]) -> Facts:
    facts = _build_facts(record)
    undated = {}
    for path, value in facts.s.items():
        if type(value) is OnOrBefore:
            undated[path] = value.day
    for name, (fields, _) in LIST_FIELDS.items():
        for i, row in enumerate(facts.lists[name]):
            for field, value in zip(fields, row):
                if type(value) is OnOrBefore:
                    undated[f"{name}[{i}].{field}"] = value.day
    if undated:
        facts.undated = MappingProxyType(undated)
    return facts


def _build_facts(record: Mapping[str, Any]) -> Facts:
    s: dict[str, Any] = {}
    rel = record.get("relationship") or {}
    for key in RELATIONSHIP_FIELDS:
        value = rel.get(key)
        if value is not None:
            s[f"relationship.{key}"] = _iso(value)
    for key in ("contact_address_kind", "source"):
        if record.get(key) is not None:
            s[key] = record[key]
    if record.get("art14_informed_on") is not None:
        s["art14_informed_on"] = _iso(record["art14_informed_on"])
    for key, value in (record.get("facts") or {}).items():
        if value is not None:
            s[f"facts.{key}"] = value
    lists: dict[str, tuple[tuple[Any, ...], ...]] = {}
    for name, (fields, _) in LIST_FIELDS.items():
        items = record.get(name) or ()
        rows = []
        for entry in items:
            row = tuple(_iso(entry.get(k)) if kind == "date" else
                        (tuple(entry[k]) if kind == "ids" and entry.get(k) is not None else entry.get(k))
                        for k, kind in fields.items())
            if name == "vouchers" and row[1] is None:
                # R11: the fiscal year is the calendar year unless the record says otherwise
                row = (row[0], fiscal_year_end(row[0]))
            rows.append(row)
        lists[name] = tuple(rows)
    subjects = record.get("subject_categories")
    return Facts(
        id=record["id"],
        role=record.get("role"),
        subjects=frozenset(subjects) if subjects is not None else None,
        s=s,
        lists=lists,
        data_categories=frozenset(record.get("data_categories") or ()),
        systems=tuple(record.get("systems") or ()),
    )


# --- fast path -----------------------------------------------------------------------------
# The checked builder above is the plain definition. The fast path below accepts only what
# it can prove clean in one pass over plain dicts, lists and strings; anything else (a
# problem, a date object subclass, a tuple) returns None and the plain path decides, so the
# two cannot disagree on what is accepted (tests/property/test_records_fastpath.py).

_ENUMS = {
    kind: frozenset(kind[5:].split("|"))
    for kind in {*TOP_SCALARS.values(), *(k for fields, _ in LIST_FIELDS.values() for k in fields.values())}
    if kind.startswith("enum:")
}
_REL_PATH = {k: f"relationship.{k}" for k in RELATIONSHIP_FIELDS}
_REL_KEYS = frozenset(RELATIONSHIP_FIELDS)
_LIST_SPECS = tuple(
    (name, tuple(ENTRY_KINDS[name].items()), frozenset(fields), tuple(sorted(required)))
    for name, (fields, required) in LIST_FIELDS.items()
)
_EMPTY: tuple[tuple[Any, ...], ...] = ()


def ok_date(value: str, cache: dict[str, bool]) -> bool:
    """``value`` is a real YYYY-MM-DD day in the supported range (memoised in ``cache``; the
    record checker's fast path and _record_decode's share it)."""
    ok = cache.get(value)
    if ok is None:
        try:
            parse_date(value)
            ok = MIN_ISO <= value <= MAX_ISO  # a valid YYYY-MM-DD orders like its day
        except ValueError:
            ok = False
        if len(cache) < 200_000:  # bounded: a sweep sees a few thousand distinct days
            cache[value] = ok
    return ok


def _fast_undated(value: Any, cache: dict[str, bool]) -> OnOrBefore | None:
    """The OnOrBefore a clean ``{"on_or_before": DAY}`` is; None for anything else (the checker names it)."""
    if type(value) is not dict or len(value) != 1:
        return None
    day = value.get(UNDATED_KEY)
    return OnOrBefore(day) if type(day) is str and ok_date(day, cache) else None


def _fast_value(kind: str, value: Any, cache: dict[str, bool]) -> bool:
    t = type(value)
    if kind == "date":
        return t is str and ok_date(value, cache)
    if kind == "id":
        return t is str and ID_FULL(value) is not None  # ASCII by its pattern: no surrogate to look for
    if kind == "str":
        return t is str and (value.isascii() or _SURROGATE.search(value) is None)
    if kind == "bool":
        return t is bool
    if kind == "int":
        return t is int and _MIN_YEAR <= value <= _MAX_YEAR
    if kind == "ids":
        return t is list and _plain_ids(value)
    return t is str and value in _ENUMS[kind]


def _plain_ids(values: list[Any]) -> bool:
    """Every item a str in the id form."""
    for v in values:
        if type(v) is not str or ID_FULL(v) is None:
            return False
    return True


_MIN_YEAR, _MAX_YEAR = MIN_DAY.year, MAX_DAY.year


# Read-only: shared by every record without event lists (the common case in a sweep).
EMPTY_LISTS: Mapping[str, tuple[tuple[Any, ...], ...]] = MappingProxyType({name: () for name in LIST_FIELDS})
_SPEC = {name: (fields, keys, required) for name, fields, keys, required in _LIST_SPECS}
# key -> how to read it: 0 id, 1 role, 2 enum scalar, 3 date scalar, 4 relationship, 5 id list,
# 6 facts, 7 host, 8 event list
_KIND: dict[str, int] = {"id": 0, "role": 1, "contact_address_kind": 2, "source": 2, "art14_informed_on": 3,
                         "relationship": 4, "subject_categories": 5, "data_categories": 5, "systems": 5,
                         "facts": 6, "host": 7, **{name: 8 for name in LIST_FIELDS}}


def normalize_fast(record: Any, cache: dict[str, bool], ids: RecordIds | None = None) -> Facts | None:
    """Facts for a clean record in one pass over its keys, or None to let ``normalize`` decide.

    Pure but for ``cache``, which maps date strings to validity; the caller owns it (a Policy
    keeps one). Cost follows what the record holds: absent lists cost nothing. With ``ids``,
    a record is clean only if ``id_problems(facts, ids)`` would also find nothing: a set
    lookup per id, cheaper than matching the id pattern (every vocabulary id has the form).
    """
    if type(record) is not dict:
        return None
    rid = role = subjects = None
    s: dict[str, Any] = {}
    own: dict[str, tuple[tuple[Any, ...], ...]] | None = None  # the event lists, once the record has one
    und: dict[str, str] | None = None  # undated dates by record path, once the record has one
    cats: Any = ()
    systems: Any = ()
    for key, value in record.items():
        kind = _KIND.get(key)
        if kind is None:
            return None
        if value is None:
            if kind > 3:  # relationship, the lists, facts, host: never null (NOT_NULL)
                return None
            continue
        if kind == 8:
            if type(value) is not list or len(value) > MAX_LIST:
                return None
            if value:
                fields, keys, required = _SPEC[key]
                rows: list[tuple[Any, ...]] = []
                for entry in value:
                    if type(entry) is not dict or not keys.issuperset(entry):
                        return None
                    for name in required:
                        if entry.get(name) is None:
                            return None
                    row: list[Any] = []
                    for name, fkind in fields:
                        v = entry.get(name)
                        if v is not None:
                            if not _fast_value(fkind, v, cache):
                                bound = _fast_undated(v, cache) if fkind == "date" else None
                                if bound is None:
                                    return None
                                if und is None:
                                    und = {}
                                und[f"{key}[{len(rows)}].{name}"] = bound.day
                                v = bound
                            elif fkind == "ids":
                                v = tuple(v)
                        row.append(v)
                    if key == "vouchers" and row[1] is None:
                        row[1] = fiscal_year_end(row[0])
                    rows.append(tuple(row))
                if own is None:
                    own = dict(EMPTY_LISTS)
                own[key] = tuple(rows)
        elif kind == 4:
            if type(value) is not dict or not _REL_KEYS.issuperset(value):
                return None
            for name, v in value.items():
                if v is not None:
                    if type(v) is not str or (cache.get(v) is not True and not ok_date(v, cache)):
                        if (v := _fast_undated(v, cache)) is None:
                            return None
                        if und is None:
                            und = {}
                        und[_REL_PATH[name]] = v.day
                    s[_REL_PATH[name]] = v
        elif kind == 0:
            if (type(value) is not str or not value or len(value) > MAX_ID_LENGTH
                    or (not value.isascii() and _SURROGATE.search(value))):
                return None
            rid = value
        elif kind == 5:
            if type(value) is not list:
                return None
            if key == "systems":
                for x in value:
                    if type(x) is not str or not x:
                        return None
                if value and not "".join(value).isascii() and _SURROGATE.search("".join(value)):
                    return None
                systems = value
            else:
                known = None if ids is None else ids.subjects if key == "subject_categories" else ids.data_categories
                if known is not None:
                    for x in value:
                        if type(x) is not str or x not in known:
                            return None
                else:
                    for x in value:
                        if type(x) is not str or ID_FULL(x) is None:
                            return None
                if key == "subject_categories":
                    subjects = frozenset(value)
                else:
                    cats = value
        elif kind == 1 or kind == 2:
            if type(value) is not str or value not in _ENUMS[TOP_SCALARS[key]]:
                return None
            if kind == 1:
                role = value
            else:
                s[key] = value
        elif kind == 3:
            if type(value) is not str or not ok_date(value, cache):
                if (value := _fast_undated(value, cache)) is None:
                    return None
                if und is None:
                    und = {}
                und[key] = value.day
            s[key] = value
        elif kind == 6:
            if type(value) is not dict:
                return None
            declared = None if ids is None else ids.facts
            for name, v in value.items():
                if type(name) is not str or (not name.isascii() and _SURROGATE.search(name)):
                    return None
                if declared is not None and name not in declared:
                    return None  # PR340: the plain path names it
                if v is not None:
                    t = type(v)
                    if t is str:
                        if not v.isascii() and _SURROGATE.search(v):
                            return None
                    elif t is float:
                        if not math.isfinite(v):
                            return None
                    elif t is not int and t is not bool:
                        return None
                    s["facts." + name] = v
        elif type(value) is not dict:  # host
            return None
    if rid is None or (ids is not None and own is not None and unknown_in_lists(own, ids)):
        return None
    if ids is not None and ids.fact_defaults:
        for path, v in ids.fact_defaults:
            if s.get(path) is None:
                s[path] = v
    # EMPTY_LISTS is shared by every record without event lists (the common case in a sweep)
    return Facts(rid, role, subjects, s, EMPTY_LISTS if own is None else own, frozenset(cats), tuple(systems),
                 None if und is None else MappingProxyType(und))


# --- ids of the pack's vocabulary ------------------------------------------------------------
# The checks above are the record schema's, the same for every pack. A record also names ids of
# the pack's vocabulary (a subject category, a purpose consented to, a recipient); one the pack
# does not define would be silently meaningless: `data_categories: ["Special_Category"]` drops
# the special-category obligation, a consent for `newsleter` is no consent. So an unknown id is
# a record problem (PR321), as an unknown field is (PR301). Checked on Facts, after the form:
# cheap set operations on the fast path, messages only when one fails.

_CONSENT_PURPOSE = list(LIST_FIELDS["consents"][0]).index("purpose")
_CONSENT_RECIPIENT = list(LIST_FIELDS["consents"][0]).index("recipient")
_ORDER_RECIPIENT = list(LIST_FIELDS["disclosure_orders"][0]).index("recipient")
_HOLD_SCOPES = list(LIST_FIELDS["legal_holds"][0]).index("scopes")


class RecordIds:
    """The ids a pack defines, per kind, for the record fields that name them. Immutable.

    ``data_categories`` is None when the pack defines none: its rules may then name any
    category (validate/semantic.py), so the record's are not checked either. ``systems`` has
    no vocabulary in a pack and is never checked.

    ``facts``: the keys a record's ``facts`` may hold (declared.declared_facts: the pack's
    ``vocabulary.facts``, else the facts its rules read); None (no ``facts`` argument) leaves
    them unchecked. ``fact_defaults``: (path, value) of each declared ``if_absent``.
    """

    __slots__ = ("subjects", "data_categories", "purposes", "recipients", "scopes", "facts", "fact_defaults")

    def __init__(self, vocabulary: Vocabulary, facts: Mapping[str, FactSpec] | None = None) -> None:
        self.subjects = frozenset(vocabulary.subject_categories)
        self.data_categories = frozenset(vocabulary.data_categories) if vocabulary.data_categories else None
        self.purposes = frozenset(vocabulary.purposes)
        self.recipients = frozenset(vocabulary.recipients)
        self.scopes = frozenset(vocabulary.scopes)
        self.facts = None if facts is None else frozenset(facts)
        self.fact_defaults: tuple[tuple[str, Any], ...] = tuple(
            (f"facts.{name}", spec.if_absent) for name, spec in sorted((facts or {}).items())
            if spec.if_absent is not None)


def id_problems(facts: Facts, ids: RecordIds) -> tuple[Diagnostic, ...]:
    """() when every vocabulary id ``facts`` names is one ``ids`` holds; else the PR321 problems
    (at most MAX_PROBLEMS and a count of the rest). Pure."""
    subjects = facts.subjects
    cats = ids.data_categories
    if ((subjects and not subjects <= ids.subjects)
            or (cats is not None and facts.data_categories and not facts.data_categories <= cats)
            or (facts.lists is not EMPTY_LISTS and unknown_in_lists(facts.lists, ids))):
        return capped(_id_problems(facts, ids), lambda: facts.id)
    return ()


def unknown_in_lists(lists: Mapping[str, tuple[tuple[Any, ...], ...]], ids: RecordIds) -> bool:
    purposes, recipients = ids.purposes, ids.recipients
    for row in lists["consents"]:
        if row[_CONSENT_PURPOSE] not in purposes:
            return True
        recipient = row[_CONSENT_RECIPIENT]
        if recipient is not None and recipient not in recipients:
            return True
    for row in lists["disclosure_orders"]:
        if row[_ORDER_RECIPIENT] not in recipients:
            return True
    for row in lists["legal_holds"]:
        scopes = row[_HOLD_SCOPES]
        if scopes is not None and not ids.scopes.issuperset(scopes):
            return True
    return False


def _id_problems(facts: Facts, ids: RecordIds) -> Iterator[Diagnostic]:
    """Every unknown id, in record order (sets in sorted order)."""
    rid = facts.id
    for value in sorted(facts.subjects - ids.subjects if facts.subjects else ()):
        yield _unknown_id(rid, "subject category", value, "subject_categories", ids.subjects)
    if ids.data_categories is not None:
        for value in sorted(facts.data_categories - ids.data_categories):
            yield _unknown_id(rid, "data category", value, "data_categories", ids.data_categories)
    for i, row in enumerate(facts.lists["consents"]):
        if row[_CONSENT_PURPOSE] not in ids.purposes:
            yield _unknown_id(rid, "purpose", row[_CONSENT_PURPOSE], f"consents[{i}].purpose", ids.purposes)
        recipient = row[_CONSENT_RECIPIENT]
        if recipient is not None and recipient not in ids.recipients:
            yield _unknown_id(rid, "recipient", recipient, f"consents[{i}].recipient", ids.recipients)
    for i, row in enumerate(facts.lists["disclosure_orders"]):
        if row[_ORDER_RECIPIENT] not in ids.recipients:
            yield _unknown_id(rid, "recipient", row[_ORDER_RECIPIENT], f"disclosure_orders[{i}].recipient",
                              ids.recipients)
    for i, row in enumerate(facts.lists["legal_holds"]):
        for j, scope in enumerate(row[_HOLD_SCOPES] or ()):
            if scope not in ids.scopes:
                yield _unknown_id(rid, "scope", scope, f"legal_holds[{i}].scopes[{j}]", ids.scopes)


_PLURAL = {"subject category": "subject categories", "data category": "data categories", "purpose": "purposes",
           "recipient": "recipients", "scope": "scopes"}


def _unknown_id(rid: str, what: str, value: str, path: str, known: frozenset[str]) -> Diagnostic:
    close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6) if len(value) < 100 else []
    if close:
        hint = f"did you mean `{close[0]}`?"
    elif known:
        names = sorted(known)
        hint = f"known {_PLURAL[what]}: {', '.join(names[:12])}" + (", ..." if len(names) > 12 else "")
    else:
        hint = f"the pack defines no {_PLURAL[what]}: leave the value out"
    return _problem(rid, "PR321", f"unknown {what} `{shown(value)}` in `{path}`", hint)


# --- keys of `facts` the pack does not declare (PR340) --------------------------------------
# `facts` is the one open object of a record: its keys are the pack's. A key the pack does not
# declare is a misspelling or data the rules never read; read as "absent", a misspelt date
# that a `happened:` condition reads would turn a deny into an allow. So it is a record
# problem, with the declared key it most resembles.

_FACT_HELP = "Data the pack's rules do not read goes under `host`, the record's open object, not under `facts`."


def _looks(text: str) -> str:
    """``text`` as a reader compares it: compatibility forms folded, case folded, outer spaces dropped."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _oddities(key: str) -> str:
    """What makes ``key`` hard to tell from a declared name: outer spaces, a non-ASCII character."""
    notes = []
    if key != key.strip():
        notes.append("note the space before or after it")
    odd = next((ch for ch in key if not ch.isascii()), None)
    if odd is not None:
        notes.append(f"it contains U+{ord(odd):04X} {unicodedata.name(odd, '').lower()}".rstrip())
    if key.strip().isascii() and key != key.lower():
        notes.append("fact names are lowercase")
    return f" ({'; '.join(notes)})" if notes else ""


def _unknown_fact(rid: str | None, key: str, known: frozenset[str]) -> Diagnostic:
    names = sorted(known)
    close: list[str] = []
    if len(key) < 100:
        close = [n for n in names if _looks(n) == _looks(key)][:1] or \
            difflib.get_close_matches(_looks(key), names, n=1, cutoff=0.6)
    if close:
        hint = f"did you mean `facts.{close[0]}`?"
    elif names:
        hint = "the pack declares: " + ", ".join(names[:12]) + (", ..." if len(names) > 12 else ".")
    else:
        hint = "the pack declares no facts."
    return _problem(rid, "PR340", f"unknown fact `facts.{shown(key)}`{_oddities(key)}: the pack declares no such fact",
                    f"{hint} {_FACT_HELP}")
