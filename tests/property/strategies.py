"""Hypothesis strategies for canonical records, dates near window boundaries included."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

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


def records(subjects: list[str], purposes: list[str], recipients: list[str]) -> st.SearchStrategy[dict]:
    rel = st.fixed_dictionaries({}, optional={
        "first_contact_on": iso(), "downloaded_on": iso(), "customer_since": iso(),
        "customer_ended_on": maybe(iso()), "cooperation_ended_on": maybe(iso()), "role_ended_on": maybe(iso()),
        "last_activity_on": iso(), "inbound_request_on": maybe(iso()),
    })
    consent = st.fixed_dictionaries({"purpose": st.sampled_from(purposes), "given_on": iso()},
                                    optional={"withdrawn_on": maybe(iso()), "recipient": st.sampled_from(recipients)})
    objection = st.fixed_dictionaries({"kind": st.sampled_from(["art21_1", "art21_2"]), "received_on": iso()},
                                      optional={"withdrawn_on": maybe(iso()), "compelling_grounds_on": maybe(iso())})
    restriction = st.fixed_dictionaries({"requested_on": iso()}, optional={
        "lifted_on": maybe(iso()), "ground": st.sampled_from(["art18_1_a", "art18_1_b", "art18_1_c", "art18_1_d"])})
    erasure = st.fixed_dictionaries({"received_on": iso()}, optional={"verified_on": maybe(iso())})
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
            "facts": st.dictionaries(st.sampled_from(FACT_NAMES), maybe(fact_values()), max_size=3),
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
