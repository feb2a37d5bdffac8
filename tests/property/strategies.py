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
