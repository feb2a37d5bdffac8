"""Hypothesis strategies for canonical records, dates near window boundaries included."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from privacy_rules.model import CONSENT_MECHANISMS

# Anchors that stress calendar months: 29 Feb, 31 Aug, month ends, and ordinary days.
SPECIAL = [date(2020, 2, 29), date(2024, 2, 29), date(2021, 8, 31), date(2022, 2, 28), date(2023, 3, 1),
           date(2019, 12, 31), date(2021, 4, 30), date(2023, 1, 31)]


def days(lo: date = date(2016, 1, 1), hi: date = date(2030, 12, 31)) -> st.SearchStrategy[date]:
    near = st.builds(lambda d, k: d + timedelta(days=k), st.sampled_from(SPECIAL), st.integers(-3, 3))
    return st.one_of(st.dates(lo, hi), near)


def iso(lo: date = date(2016, 1, 1), hi: date = date(2030, 12, 31)) -> st.SearchStrategy[str]:
    return days(lo, hi).map(date.isoformat)


def maybe(s: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), s)


# --- `fact` values of every kind (docs/rule-language.md, "Fact comparisons") ------------------
# Values that Python's == mixes across kinds (True == 1 == 1.0, False == 0 == -0.0), strings that
# spell numbers, booleans and days, and numbers a double cannot tell apart (2**53 + 1, 10**20 + 1).
FACT_BOOLEANS = [True, False]
FACT_NUMBERS = [0, 1, -1, 2, 1.0, 0.0, -0.0, 2.5, 2**53, 2**53 + 1, float(2**53), 10**20, 10**20 + 1, 1e20, 1e-7]
FACT_STRINGS = ["1", "0", "true", "false", "a", "b", "", "2024-02-29", "2023-01-01", "9999-12-31"]
FACT_SCALARS = FACT_BOOLEANS + FACT_NUMBERS + FACT_STRINGS
#: the pack-defined facts generated records carry and generated `fact` conditions read
FACT_NAMES = ["flag", "n", "label", "day"]


def fact_values() -> st.SearchStrategy[object]:
    """A record's `facts.*` value: any kind (a small integer often, so that numbers meet)."""
    return st.one_of(st.sampled_from(FACT_SCALARS), st.integers(-2, 3), st.booleans(),
                     iso(date(2016, 1, 1), date(2030, 12, 31)))


def fact_operands(op: str) -> st.SearchStrategy[object]:
    """A rule's value for ``op``: a scalar of any kind (null and .nan too: `check` refuses them,
    the engines must still agree on them), a list of mixed kinds for in/not_in, a day otherwise."""
    scalar = st.one_of(st.sampled_from(FACT_SCALARS), st.integers(-2, 3),
                       st.sampled_from([None, float("nan"), float("inf")]))
    if op in ("equals", "not_equals"):
        return scalar
    if op in ("in", "not_in"):
        return st.lists(scalar, min_size=1, max_size=4).map(tuple)
    return iso(date(2016, 1, 1), date(2030, 12, 31))


FACT_OPS = ["equals", "not_equals", "in", "not_in", "before", "on_or_before", "after", "on_or_after"]


def fact_conditions(paths: list[str] | None = None) -> st.SearchStrategy[tuple[str, str, object]]:
    """(path, op, operand) of a `fact` condition, on the generated `facts.*` paths by default."""
    paths = paths or [f"facts.{n}" for n in FACT_NAMES]
    return st.tuples(st.sampled_from(paths), st.sampled_from(FACT_OPS)).flatmap(
        lambda po: fact_operands(po[1]).map(lambda v: (po[0], po[1], v)))


def declaring_fact_names(pack: Any) -> Any:
    """``pack`` declaring FACT_NAMES as its facts (vocabulary.facts), so that generated records may
    carry them whatever the generated rules read (a record's other keys are PR340)."""
    import dataclasses
    from types import MappingProxyType

    from privacy_rules.model import FactSpec

    facts = dict(pack.vocabulary.facts or {})
    facts.update({n: FactSpec(id=n, kind=None) for n in FACT_NAMES})
    return dataclasses.replace(pack, vocabulary=dataclasses.replace(pack.vocabulary, facts=MappingProxyType(facts)))


def records(subjects: list[str], purposes: list[str], recipients: list[str],
            facts: list[str] = FACT_NAMES) -> st.SearchStrategy[dict]:
    """Records naming only the given ids and carrying only the pack-declared ``facts`` (a pack's
    own list: declared.declared_facts; another key makes the record PR340)."""
    rel = st.fixed_dictionaries({}, optional={
        "first_contact_on": iso(), "downloaded_on": iso(), "customer_since": iso(),
        "customer_ended_on": maybe(iso()), "cooperation_ended_on": maybe(iso()), "role_ended_on": maybe(iso()),
        "last_activity_on": iso(), "inbound_request_on": maybe(iso()),
    })
    consent = st.fixed_dictionaries({"purpose": st.sampled_from(purposes), "given_on": iso()},
                                    optional={"withdrawn_on": maybe(iso()), "recipient": st.sampled_from(recipients),
                                              "mechanism": maybe(st.sampled_from(CONSENT_MECHANISMS))})
    objection = st.fixed_dictionaries({"kind": st.sampled_from(["art21_1", "art21_2"]), "received_on": iso()},
                                      optional={"withdrawn_on": maybe(iso()), "compelling_grounds_on": maybe(iso())})
    restriction = st.fixed_dictionaries({"requested_on": iso()}, optional={
        "lifted_on": maybe(iso()), "ground": st.sampled_from(["art18_1_a", "art18_1_b", "art18_1_c", "art18_1_d"])})
    erasure = st.fixed_dictionaries({"received_on": iso()}, optional={"verified_on": maybe(iso()),
                                                                      "answered_on": maybe(iso())})
    rights = st.fixed_dictionaries({"kind": st.sampled_from(["access", "portability", "erasure"]), "received_on": iso()},
                                   optional={"verified_on": maybe(iso()), "answered_on": maybe(iso())})
    hold = st.fixed_dictionaries({"placed_on": iso()}, optional={"released_on": maybe(iso())})
    order = st.fixed_dictionaries({"recipient": st.sampled_from(recipients), "received_on": iso(),
                                   "binding": st.booleans()})
    voucher = st.fixed_dictionaries({"fiscal_year": st.integers(2015, 2028)})
    small = dict(max_size=2)
    return st.fixed_dictionaries(
        {"id": st.from_regex(r"[a-z]{1,3}-[0-9]{1,4}", fullmatch=True)},
        optional={
            "role": st.sampled_from(["controller", "controller", "processor"]),
            "subject_categories": st.lists(st.sampled_from(subjects), min_size=0, max_size=2, unique=True),
            "relationship": rel,
            "contact_address_kind": st.sampled_from(["personal", "impersonal"]),
            "source": st.sampled_from(["self", "website", "linkedin", "public_register", "private_register"]),
            "art14_informed_on": iso(),
            "facts": st.dictionaries(st.sampled_from(facts or ["-"]), maybe(fact_values()), max_size=3 if facts else 0),
            "consents": st.lists(consent, **small),
            "objections": st.lists(objection, max_size=1),
            "restrictions": st.lists(restriction, max_size=1),
            "erasure_requests": st.lists(erasure, max_size=1),
            "rights_requests": st.lists(rights, max_size=1),
            "legal_holds": st.lists(hold, max_size=1),
            "disclosure_orders": st.lists(order, max_size=1),
            "vouchers": st.lists(voucher, **small),
            "data_categories": st.lists(st.sampled_from(["special_category", "contact_information"]), max_size=1,
                                        unique=True),
        },
    )


# --- hostile inputs (tests/hostile/test_fuzz.py) ----------------------------------------------
# Values a host system or an attacker can put into a record. The fuzz harness decides whether a
# mutated record is malformed with an oracle of its own (schemas/record.schema.json), never by
# asking the code under test, so these pools only need to be nasty, not labelled.

# Days that exist but sit at the edges of what date arithmetic can hold.
EDGE_DATES = ["0001-01-01", "0001-01-05", "0001-12-31", "1900-02-28", "2000-02-29", "2200-12-31", "9998-12-31",
              "9999-01-31", "9999-12-01", "9999-12-31"]
# Strings that look like days but are not YYYY-MM-DD days.
BAD_DATES = ["2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "0000-01-01", "2024-1-5", "20240105",
             "2024-02-29T00:00:00", "2024-02-29T23:59:59+01:00", "2024-02-29 00:00", "2024-W09-4", "+2024-01-01",
             "-001-01-01", "10000-01-01", " 2024-01-01", "2024-01-01\n", "2024-01-01\x00", "\uff12024-01-01",
             "٢٠٢٤-٠١-٠١", "2024-01-0\U0001d7ce", "", "null", "today"]
# Text that breaks terminals, XML, JSON encoders or look-alike checks.
HOSTILE_TEXT = ["\ud800", "a\udfffb", "\x00", "\x1b[32mALLOW\x1b[0m", "\x1b]0;owned\x07", "\r", "id\n", "id ",
                "\u202eevil", "\u2066x\u2069", "\u2028", "\u2029", "\x85", "\x9b31m", "\ufffe", "\uffff",
                "\ufeff", "\u200b", "\U0010ffff", "\U0001f600", "../../etc/passwd", "%s%n{0}{record}", "${jndi:x}",
                "<![CDATA[]]>", "</testcase>", "&amp;", "`", "*", "x" * 5000]
HUGE_INTS = [10**4300, 10**4301, -(10**4301), 2**63, -(2**63) - 1, 2**1024]
# Drawn by index: hypothesis prints a strategy's arguments in its reports, and str() of a
# 4,301-digit int raises.
huge_ints = st.integers(0, len(HUGE_INTS) - 1).map(lambda i: HUGE_INTS[i])
ODD_NUMBERS = [0, -1, 1899, 1900, 2200, 2201, 2024.0, 2024.5, float("nan"), float("inf"), float("-inf"), 1e308,
               -0.0, True, False]


def safe_repr(value: object, depth: int = 4, width: int = 400) -> str:
    """repr that survives what repr does not: 5,000-deep nesting and 4,301-digit ints."""
    def walk(v: object, d: int) -> str:
        if isinstance(v, bool) or v is None or isinstance(v, float):
            return repr(v)
        if isinstance(v, int):
            return repr(v) if v.bit_length() < 1000 else f"<int of ~{int(v.bit_length() * 0.30103)} digits>"
        if isinstance(v, str):
            return repr(v[:60] + ("..." if len(v) > 60 else ""))
        if isinstance(v, dict):
            if d <= 0:
                return "{...}"
            return "{" + ", ".join(f"{walk(k, d - 1)}: {walk(x, d - 1)}" for k, x in list(v.items())[:8]) + \
                (", ..." if len(v) > 8 else "") + "}"
        if isinstance(v, (list, tuple)):
            if d <= 0:
                return "[...]"
            return "[" + ", ".join(walk(x, d - 1) for x in list(v)[:8]) + (", ..." if len(v) > 8 else "") + "]"
        return f"<{type(v).__name__}>"

    text = walk(value, depth)
    return text if len(text) <= width else text[:width] + "..."


class Mutated:
    """A mutated record and the mutation kinds applied; repr is safe to print (see safe_repr)."""

    __slots__ = ("value", "kinds")

    def __init__(self, value: object, kinds: tuple[str, ...]) -> None:
        self.value = value
        self.kinds = kinds

    def __repr__(self) -> str:
        return f"Mutated({safe_repr(self.value, depth=6, width=2000)}, kinds={self.kinds})"


def nested(depth: int, kind: str = "dict") -> object:
    """A value nested ``depth`` levels deep, built without recursion."""
    value: object = 1
    for _ in range(depth):
        value = {"a": value} if kind == "dict" else [value]
    return value


def hostile_scalars() -> st.SearchStrategy[object]:
    return st.one_of(
        st.sampled_from(EDGE_DATES), st.sampled_from(BAD_DATES), st.sampled_from(HOSTILE_TEXT),
        huge_ints, st.sampled_from(ODD_NUMBERS), st.none(), st.text(max_size=8),
        st.integers(), st.sampled_from(["prospect", "customer", "controller", "processor", "newsletter", "art21_2",
                                        "personal", "self", "hubspot", "email"]),
    )


def hostile_values() -> st.SearchStrategy[object]:
    """Scalars, small containers, and rare deep or long ones (JSON-shaped; no Python-only types)."""
    small = st.recursive(hostile_scalars(), lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=6)),
                                                     inner, max_size=3)), max_leaves=6)
    deep = st.builds(nested, st.sampled_from([70, 1100, 5000]), st.sampled_from(["dict", "list"]))
    return st.one_of(small, small, small, deep)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside ``value`` (dict keys and list indices), the root included."""
    out: list[tuple] = [prefix]
    stack = [(value, prefix)]
    while stack:
        node, path = stack.pop()
        if len(path) > 6:  # records are shallow; below this is host data or a planted deep value
            continue
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            out.append(path + (key,))
            stack.append((child, path + (key,)))
    return out


def _parent(root: object, path: tuple) -> object:
    for key in path[:-1]:
        root = root[key]  # type: ignore[index]
    return root


RECORD_MUTATIONS = ("replace", "odd_date", "add_key", "drop_key", "hostile_text", "huge_int", "deep", "long_list",
                    "not_an_object", "duplicate_entry")


@st.composite
def mutated_records(draw: st.DrawFn, base: st.SearchStrategy[dict], kinds: tuple[str, ...] = RECORD_MUTATIONS,
                    max_mutations: int = 3) -> Mutated:
    """Mutated(record, mutation kinds applied): a valid record from ``base`` with 1..max_mutations
    hostile edits at random places. Whether the result is still a valid record is for the
    caller's oracle to say."""
    import copy

    record: object = copy.deepcopy(draw(base))
    applied: list[str] = []
    for _ in range(draw(st.integers(1, max_mutations))):
        kind = draw(st.sampled_from(kinds))
        paths = _paths(record)
        path = draw(st.sampled_from(paths))
        if kind == "not_an_object":
            record = draw(st.one_of(st.lists(st.just(record), max_size=1), hostile_scalars()))
            applied.append(kind)
            break
        if kind == "long_list":
            entry = draw(st.sampled_from([{"purpose": "newsletter", "given_on": "2020-01-01"}, 1, None, {}]))
            field = draw(st.sampled_from(["consents", "objections", "vouchers", "subject_categories", "systems"]))
            if isinstance(record, dict):
                record[field] = [copy.deepcopy(entry) for _ in range(draw(st.sampled_from([10_000, 10_001])))]
                applied.append(kind)
            continue
        target = record
        if kind == "add_key":
            containers = [p for p in paths if isinstance(_get(record, p), dict)]
            if not containers:
                continue
            where = _get(record, draw(st.sampled_from(containers)))
            key = draw(st.one_of(st.sampled_from(["consent", "Id", "id ", "host", "facts", "relationship",
                                                  "__proto__", "\ud800", "\x1b[2J", ""]), st.text(max_size=8)))
            where[key] = draw(hostile_values())  # type: ignore[index]
            applied.append(kind)
            continue
        if not path:  # the root: only whole-record edits apply
            continue
        parent = _parent(target, path)
        key = path[-1]
        if kind == "drop_key":
            if isinstance(parent, (dict, list)):
                del parent[key]
        elif kind == "duplicate_entry":
            if isinstance(parent, list):
                parent.append(parent[key])  # the same object twice: no deepcopy of a 5,000-deep value
            else:
                continue
        else:
            value = {
                "replace": hostile_values(),
                "odd_date": st.sampled_from(EDGE_DATES + BAD_DATES),
                "hostile_text": st.sampled_from(HOSTILE_TEXT),
                "huge_int": huge_ints,
                "deep": st.builds(nested, st.sampled_from([70, 1100, 5000]), st.sampled_from(["dict", "list"])),
            }[kind]
            parent[key] = draw(value)  # type: ignore[index]
        applied.append(kind)
    return Mutated(record, tuple(applied))


def _get(root: object, path: tuple) -> object:
    for key in path:
        root = root[key]  # type: ignore[index]
    return root


def valid_edge_records(base: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    """Valid records whose dates sit at the edges of the calendar (0001-01-01 .. 9999-12-31)."""
    @st.composite
    def build(draw: st.DrawFn) -> dict:
        import copy

        record = copy.deepcopy(draw(base))
        dates = [p for p in _paths(record) if isinstance(_get(record, p), str) and p and p[-1] != "id"
                 and len(_get(record, p)) == 10 and _get(record, p)[4] == "-"]  # type: ignore[index, arg-type]
        for path in draw(st.lists(st.sampled_from(dates), max_size=3)) if dates else ():
            _parent(record, path)[path[-1]] = draw(st.sampled_from(EDGE_DATES))  # type: ignore[index]
        if draw(st.booleans()):
            record.setdefault("vouchers", []).append(
                {"fiscal_year": draw(st.sampled_from([1900, 2023, 2200])),
                 "fiscal_year_end": draw(st.sampled_from([None, "9999-12-31", "0001-01-01", "2200-12-31"]))})
        return record

    return build()
