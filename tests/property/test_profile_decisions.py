"""Hypothesis (issue 8 item 7): a profile applied to generated host rows gives the same decisions
as the canonical records a person would write for them.

The host rows are written to a CSV file as the host exports it and swept the way `evaluate
--profile` sweeps them (open_source -> evaluate_source with the bundled profile). The canonical
records are built below by plain functions written from docs/mapping.md's tables, not from the
profiles or the mapper. Both go to the Iconfirm pack with its standard questions; every answer's
outcome, decisive rule, reason code and keep_until must agree.

Profiles: `generic-csv` (canonical column names, `;` lists, the consent pair, dated and undated
objections, restriction, erasure, legal hold) and `hubspot-export` (HubSpot's column labels,
option labels, naive date-times in the portal's zone, the legal-basis multi-select, undated
opt-outs bounded by Last Modified Date). Days straddle the windows' ends as of the known-on day
(prospect 24 months, customer/cooperation/role tails 3 years), 29 February included.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import privacy_rules
from privacy_rules.mapping import load_profile
from privacy_rules.pipeline import evaluate_source
from privacy_rules.sources import open_source

ROOT = Path(__file__).resolve().parents[2]
POLICY = privacy_rules.compile_pack(str(ROOT / "rules" / "iconfirm"))
KNOWN_ON = date(2024, 3, 5)  # the export day, and the sweep's as_of
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.function_scoped_fixture])

# days around the windows' ends as of KNOWN_ON: 24 months back is 2022-03-05, 3 years 2021-03-05
EDGES = [date(2022, 3, 4), date(2022, 3, 5), date(2022, 3, 6), date(2021, 3, 4), date(2021, 3, 5),
         date(2021, 3, 6), date(2020, 2, 29), date(2024, 2, 29), KNOWN_ON]
DAYS = st.one_of(st.sampled_from(EDGES), st.dates(date(2019, 1, 1), KNOWN_ON))
MAYBE_DAY = st.one_of(st.none(), DAYS)


def _iso(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


def _sweep(tmp: Path, profile: str, header: list[str], rows: list[dict[str, str]]) -> list[list[tuple[Any, ...]]]:
    path = tmp / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        writer.writerows([[r.get(h, "") for h in header] for r in rows])
    with open_source(str(path)) as src:
        return [_key(r.answers) for r in evaluate_source(POLICY, src, as_of=KNOWN_ON, profile=load_profile(profile),
                                                         known_on=KNOWN_ON)]


def _decide(records: list[dict[str, Any]]) -> list[list[tuple[Any, ...]]]:
    return [_key(r.answers) for r in POLICY.decide_batch(records, None, as_of=KNOWN_ON, reasons=True)]


def _key(answers: Any) -> list[tuple[Any, ...]]:
    return [(a.outcome.value, a.rule_id, a.reason_code, a.keep_until) for a in answers]


# --- generic-csv ----------------------------------------------------------------------------------

GENERIC_DATES = ["first_contact_on", "customer_since", "customer_ended_on", "cooperation_ended_on", "role_ended_on",
                 "last_activity_on", "inbound_request_on", "art14_informed_on", "newsletter_consent_given_on",
                 "newsletter_consent_withdrawn_on", "direct_marketing_objection_on", "general_objection_on",
                 "restriction_requested_on", "restriction_lifted_on", "erasure_received_on", "erasure_verified_on",
                 "erasure_answered_on", "legal_hold_placed_on", "legal_hold_released_on"]
GENERIC_HEADER = ["id", "role", "subject_categories", "contact_address_kind", "source", "systems",
                  "marketing_opt_out", *GENERIC_DATES]
CATEGORIES = ["prospect", "customer", "partner", "newsletter_subscriber", "privacy_professional"]


@st.composite
def generic_row(draw: st.DrawFn, n: int) -> dict[str, str]:
    row = {"id": f"g-{n}", "role": draw(st.sampled_from(["controller", "controller", "processor", ""])),
           "subject_categories": ";".join(draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3))),
           "contact_address_kind": draw(st.sampled_from(["personal", "impersonal", ""])),
           "source": draw(st.sampled_from(["self", "linkedin", "website", "public_register", ""])),
           "systems": draw(st.sampled_from(["hubspot", "hubspot;m365", ""])),
           "marketing_opt_out": draw(st.sampled_from(["false", "no", "", "true", "yes"]))}
    for col in GENERIC_DATES:
        row[col] = _iso(draw(MAYBE_DAY) if draw(st.integers(0, 2)) == 0 else None)
    return row


def generic_record(row: dict[str, str]) -> dict[str, Any]:
    """The canonical record a person writes for a generic-csv row (docs/mapping.md, generic-csv)."""
    rec: dict[str, Any] = {"id": row["id"]}
    if row["role"]:
        rec["role"] = row["role"]
    cats: list[str] = []
    for c in row["subject_categories"].split(";"):
        if c.strip() and c.strip() not in cats:
            cats.append(c.strip())
    rec["subject_categories"] = cats
    rel = {k: row[k] for k in ("first_contact_on", "customer_since", "customer_ended_on", "cooperation_ended_on",
                               "role_ended_on", "last_activity_on", "inbound_request_on") if row[k]}
    if rel:
        rec["relationship"] = rel
    for k in ("contact_address_kind", "source", "art14_informed_on"):
        if row[k]:
            rec[k] = row[k]
    if row["systems"]:
        rec["systems"] = row["systems"].split(";")
    if row["newsletter_consent_given_on"]:
        consent = {"purpose": "newsletter", "given_on": row["newsletter_consent_given_on"]}
        if row["newsletter_consent_withdrawn_on"]:
            consent["withdrawn_on"] = row["newsletter_consent_withdrawn_on"]
        rec["consents"] = [consent]
    objections: list[dict[str, Any]] = []
    if row["direct_marketing_objection_on"]:
        objections.append({"kind": "art21_2", "received_on": row["direct_marketing_objection_on"]})
    if row["general_objection_on"]:
        objections.append({"kind": "art21_1", "received_on": row["general_objection_on"]})
    if row["marketing_opt_out"] in ("true", "yes"):  # a flag without a date: on or before the export day
        undated = {"kind": "art21_2", "received_on": {"on_or_before": KNOWN_ON.isoformat()}}
        if undated not in objections:
            objections.append(undated)
    if objections:
        rec["objections"] = objections
    if row["restriction_requested_on"]:
        r = {"requested_on": row["restriction_requested_on"]}
        if row["restriction_lifted_on"]:
            r["lifted_on"] = row["restriction_lifted_on"]
        rec["restrictions"] = [r]
    if row["erasure_received_on"]:
        e = {"received_on": row["erasure_received_on"]}
        if row["erasure_verified_on"]:
            e["verified_on"] = row["erasure_verified_on"]
        if row["erasure_answered_on"]:
            e["answered_on"] = row["erasure_answered_on"]
        rec["erasure_requests"] = [e]
    if row["legal_hold_placed_on"]:
        h = {"placed_on": row["legal_hold_placed_on"]}
        if row["legal_hold_released_on"]:
            h["released_on"] = row["legal_hold_released_on"]
        rec["legal_holds"] = [h]
    return rec


@SETTINGS
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(*[generic_row(i) for i in range(1, n + 1)])))
def test_generic_csv_rows_decide_as_their_canonical_records(tmp_path: Path, rows: tuple[dict[str, str], ...]) -> None:
    assert _sweep(tmp_path, "generic-csv", GENERIC_HEADER, list(rows)) == _decide([generic_record(r) for r in rows])


# --- hubspot-export ---------------------------------------------------------------------------------

STAGES = {"Subscriber": ["newsletter_subscriber"], "Lead": ["prospect"], "Marketing Qualified Lead": ["prospect"],
          "Sales Qualified Lead": ["prospect"], "Opportunity": ["prospect"], "Customer": ["customer"],
          "Evangelist": ["customer"], "Other": []}
BASES = {"legal_basis_consent": "Freely given consent from contact",
         "legal_basis_li_prospect": "Legitimate interest \u2013 prospect/lead",
         "legal_basis_li_customer": "Legitimate interest \u2013 existing customer",
         "legal_basis_li_other": "Legitimate interest - other",
         "legal_basis_contract": "Performance of a contract",
         "legal_basis_not_applicable": "Not applicable"}
SOURCES = {"The person": "self", "Website": "website", "LinkedIn": "linkedin", "Public register": "public_register",
           "Private register": "private_register"}
HS_DATETIMES = {"Became a Customer Date": "customer_since", "Last Activity Date": "last_activity_on",
                "First contact date": "first_contact_on", "Customer relationship ended": "customer_ended_on",
                "Cooperation ended": "cooperation_ended_on", "Left role date": "role_ended_on",
                "Inbound request date": "inbound_request_on"}
OPT_OUTS = ["Opted out of email: Customer Service Communication", "Opted out of email: Marketing Information"]
HS_HEADER = ["Record ID", "Email", "Create Date", "Last Modified Date", "Lifecycle Stage", "Lead Status",
             "Legal basis for processing contact's data", "Unsubscribed from all email", *OPT_OUTS,
             *HS_DATETIMES, "Art. 14 information sent", "Data source", "Contact address kind"]


def _hs_time(day: date, minute: int) -> str:
    """A date-time as the export writes it: the portal's wall clock, no offset."""
    return f"{day.isoformat()} {minute // 60:02d}:{minute % 60:02d}"


@st.composite
def hubspot_row(draw: st.DrawFn, n: int) -> dict[str, str]:
    row = {"Record ID": str(1000 + n), "Email": f"person{n}@example.com",
           "Lifecycle Stage": draw(st.sampled_from(sorted(STAGES))),
           "Lead Status": draw(st.sampled_from(["", "", "New", "Open", "Unqualified", "Bad Timing"])),
           "Legal basis for processing contact's data": ";".join(draw(st.lists(st.sampled_from(sorted(BASES.values())),
                                                                               max_size=2, unique=True))),
           "Unsubscribed from all email": draw(st.sampled_from(["false", "false", "true"])),
           "Data source": draw(st.sampled_from(["", *SOURCES])),
           "Contact address kind": draw(st.sampled_from(["", "Personal", "Impersonal"]))}
    for col in OPT_OUTS:
        row[col] = draw(st.sampled_from(["false", "false", "false", "true", ""]))
    minute = st.integers(0, 24 * 60 - 1)
    created = draw(DAYS)
    row["Create Date"] = _hs_time(created, draw(minute))
    modified = draw(st.one_of(st.none(), st.dates(created, KNOWN_ON)))
    row["Last Modified Date"] = _hs_time(modified, draw(minute)) if modified else ""
    for col in [*HS_DATETIMES, "Art. 14 information sent"]:
        day = draw(MAYBE_DAY) if draw(st.integers(0, 1)) == 0 else None
        # the custom date properties are written as days or as midnight date-times
        row[col] = "" if day is None else draw(st.sampled_from([day.isoformat(), _hs_time(day, 0)]))
    return row


def hubspot_record(row: dict[str, str]) -> dict[str, Any]:
    """The canonical record a person writes for a HubSpot export row (docs/mapping.md, hubspot-export)."""
    rec: dict[str, Any] = {"id": row["Record ID"], "role": "controller"}
    cats = list(STAGES[row["Lifecycle Stage"]])
    if row["Lead Status"] and "prospect" not in cats:
        cats.append("prospect")
    if cats:
        rec["subject_categories"] = cats
    rel = {key: row[col][:10] for col, key in HS_DATETIMES.items() if row[col]}
    if rel:
        rec["relationship"] = rel
    if row["Contact address kind"]:
        rec["contact_address_kind"] = row["Contact address kind"].lower()
    if row["Data source"]:
        rec["source"] = SOURCES[row["Data source"]]
    if row["Art. 14 information sent"]:
        rec["art14_informed_on"] = row["Art. 14 information sent"][:10]
    flags = [row["Unsubscribed from all email"], *(row[c] for c in OPT_OUTS)]
    if "true" in flags:  # one objection: equal entries are one; bounded by the last modification
        bound = row["Last Modified Date"][:10] or KNOWN_ON.isoformat()
        rec["objections"] = [{"kind": "art21_2", "received_on": {"on_or_before": bound}}]
    rec["systems"] = ["hubspot"]
    # the pack declares only this fact (PR340); the creation day and HubSpot's legal-basis label
    # are no rule's input and stay under `host` as the host wrote them (reading HS4)
    rec["facts"] = {"unsubscribed_from_all_email": row["Unsubscribed from all email"] == "true"}
    host = {"Email": row["Email"], "Create Date": row["Create Date"]}
    if row["Legal basis for processing contact's data"]:
        host["Legal basis for processing contact's data"] = row["Legal basis for processing contact's data"]
    rec["host"] = host
    return rec


@SETTINGS
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(*[hubspot_row(i) for i in range(1, n + 1)])))
def test_hubspot_export_rows_decide_as_their_canonical_records(tmp_path: Path,
                                                               rows: tuple[dict[str, str], ...]) -> None:
    assert _sweep(tmp_path, "hubspot-export", HS_HEADER, list(rows)) == _decide([hubspot_record(r) for r in rows])
