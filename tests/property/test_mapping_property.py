"""Hypothesis: a profile applied to generated host rows gives the same canonical record as the
direct construction, and no host row makes map_row raise.

The direct construction below is written independently of the mapper: it starts from the facts
(instants, days, categories, opt-outs), writes them the ways the host does (ISO with `Z`, ISO with
`.000Z`, epoch milliseconds, en dash or hyphen, any order of a multi-select), and builds the
record a person would write from the facts themselves.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privacy_rules.mapping import load_profile
from privacy_rules.records import normalize

OSLO = ZoneInfo("Europe/Oslo")
HUBSPOT_API = load_profile("hubspot-api")
GENERIC = load_profile("generic-csv")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

STAGES = {"subscriber": ["newsletter_subscriber"], "lead": ["prospect"], "marketingqualifiedlead": ["prospect"],
          "salesqualifiedlead": ["prospect"], "opportunity": ["prospect"], "customer": ["customer"],
          "evangelist": ["customer"], "other": []}
LEAD_STATUSES = ["NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED",
                 "BAD_TIMING"]
BASES = {  # HubSpot's legal-basis options (hs_legal_basis), kept under `host` (HS4)
    "legal_basis_consent": "Freely given consent from contact",
    "legal_basis_li_prospect": "Legitimate interest \u2013 prospect/lead",
    "legal_basis_li_customer": "Legitimate interest \u2013 existing customer",
    "legal_basis_li_other": "Legitimate interest - other",
    "legal_basis_contract": "Performance of a contract",
    "legal_basis_not_applicable": "Not applicable",
}
# Instants whose epoch ms have at least ten digits and whose days lie in 1900..2200.
INSTANTS = st.datetimes(datetime(1901, 1, 1), datetime(2199, 12, 1), timezones=st.just(timezone.utc)).filter(
    lambda t: abs(t.timestamp()) > 1e6)
SPECIAL_INSTANTS = st.sampled_from([
    datetime(2024, 2, 29, 23, 30, tzinfo=timezone.utc), datetime(2024, 2, 29, 22, 59, 59, tzinfo=timezone.utc),
    datetime(2024, 3, 30, 23, 0, tzinfo=timezone.utc), datetime(2024, 3, 31, 22, 0, tzinfo=timezone.utc),
    datetime(2024, 10, 26, 22, 30, tzinfo=timezone.utc), datetime(2023, 12, 31, 23, 0, tzinfo=timezone.utc)])
DAYS = st.dates(date(1901, 1, 1), date(2199, 12, 1))


def written_instant(draw: st.DrawFn, moment: datetime) -> str:
    form = draw(st.sampled_from(["z", "ms-z", "epoch", "offset"]))
    if form == "z":
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
    if form == "ms-z":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if form == "offset":
        shift = draw(st.sampled_from([-8, -1, 1, 2, 9]))
        local = moment.astimezone(timezone(timedelta(hours=shift)))
        return local.strftime("%Y-%m-%dT%H:%M:%S") + f"{'+' if shift >= 0 else '-'}{abs(shift):02d}:00"
    return str(int(moment.timestamp() * 1000))


def written_day(draw: st.DrawFn, day: date) -> str:
    midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    ms = int(midnight.timestamp() * 1000)
    # epoch ms of fewer than ten digits (days within 12 of 1970-01-01) are refused on purpose
    if draw(st.booleans()) or abs(ms) < 10**9:
        return day.isoformat()
    return str(ms)


def oslo_day(moment: datetime) -> str:
    return moment.astimezone(OSLO).date().isoformat()


@st.composite
def hubspot_contacts(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], date]:
    """(API result object, the record a person would write, known-on day)."""
    rid = str(draw(st.integers(1, 10**12)))
    stage = draw(st.sampled_from(sorted(STAGES)))
    status = draw(st.one_of(st.none(), st.sampled_from(LEAD_STATUSES)))
    modified = draw(st.one_of(INSTANTS, SPECIAL_INSTANTS))
    activity = draw(st.one_of(st.none(), INSTANTS, SPECIAL_INSTANTS))
    first = draw(st.one_of(st.none(), DAYS))
    ended = draw(st.one_of(st.none(), DAYS))
    opt_out = draw(st.booleans())
    subscriptions = draw(st.dictionaries(st.integers(1, 9999999), st.booleans(), min_size=1, max_size=3))
    bases = draw(st.lists(st.sampled_from(sorted(BASES)), unique=True, max_size=3))
    dash = draw(st.sampled_from(["\u2013", "-", "\u2014", " - "]))
    known_on = datetime.fromisoformat(oslo_day(modified)).date() + timedelta(days=draw(st.integers(0, 30)))

    props: dict[str, Any] = {
        "hs_object_id": rid, "email": f"p{rid}@example.no",
        "lastmodifieddate": written_instant(draw, modified),
        "lifecyclestage": stage.upper() if draw(st.booleans()) else stage,
        "hs_lead_status": status,
        "notes_last_updated": written_instant(draw, activity) if activity else None,
        "first_contact_date": written_day(draw, first) if first else "",
        "customer_relationship_ended_date": written_day(draw, ended) if ended else None,
        "cooperation_ended_date": None, "role_ended_date": "",
        "hs_legal_basis": ";".join(BASES[b].replace("\u2013", dash) for b in bases) or None,
        "hs_email_optout": draw(st.sampled_from(["true", "True", "TRUE"])) if opt_out else "false",
    }
    for sub, out in subscriptions.items():
        props[f"hs_email_optout_{sub}"] = "true" if out else draw(st.sampled_from(["false", "", None]))
    row = {"id": rid, "properties": props, "archived": False}

    record: dict[str, Any] = {"id": rid, "role": "controller"}
    categories = STAGES[stage] + (["prospect"] if status else [])
    if categories:
        record["subject_categories"] = list(dict.fromkeys(categories))
    relationship = {}
    if activity:
        relationship["last_activity_on"] = oslo_day(activity)
    if first:
        relationship["first_contact_on"] = first.isoformat()
    if ended:
        relationship["customer_ended_on"] = ended.isoformat()
    if relationship:
        record["relationship"] = relationship
    if opt_out or any(subscriptions.values()):
        record["objections"] = [{"kind": "art21_2", "received_on": {"on_or_before": oslo_day(modified)}}]
    record["systems"] = ["hubspot"]
    # the only fact the Iconfirm pack declares that HubSpot gives (contact.unsubscribed-from-all-email)
    record["facts"] = {"unsubscribed_from_all_email": opt_out}
    # HubSpot's legal-basis label is no fact a rule reads (HS4): it stays under `host` as sent
    record["host"] = {"hs_object_id": rid, "email": f"p{rid}@example.no", "archived": False,
                      **({"hs_legal_basis": props["hs_legal_basis"]} if props["hs_legal_basis"] else {})}
    return row, record, known_on


def _same(got: dict[str, Any] | None, want: dict[str, Any]) -> None:
    assert got is not None
    assert {k: v for k, v in got.items() if k != "relationship"} == {k: v for k, v in want.items() if k != "relationship"}
    assert got.get("relationship", {}) == want.get("relationship", {})


@SETTINGS
@given(hubspot_contacts())
def test_hubspot_api_rows_map_to_the_direct_construction(case: tuple[dict[str, Any], dict[str, Any], date]) -> None:
    row, record, known_on = case
    mapped = HUBSPOT_API.map_row(row, known_on=known_on, time_zone="Europe/Oslo")
    assert mapped.problems == (), [str(p) for p in mapped.problems]
    _same(mapped.record, record)


GENERIC_COLUMNS = ["id", "role", "subject_categories", "first_contact_on", "downloaded_on", "customer_since",
                   "customer_ended_on", "cooperation_ended_on", "role_ended_on", "last_activity_on",
                   "inbound_request_on", "contact_address_kind", "source", "art14_informed_on",
                   "newsletter_consent_given_on", "newsletter_consent_withdrawn_on", "direct_marketing_objection_on",
                   "general_objection_on", "compelling_grounds_on", "marketing_opt_out", "restriction_requested_on",
                   "restriction_lifted_on", "erasure_received_on", "erasure_verified_on", "erasure_answered_on",
                   "legal_hold_placed_on", "legal_hold_released_on"]
RELATIONSHIP = ["first_contact_on", "downloaded_on", "customer_since", "customer_ended_on", "cooperation_ended_on",
                "role_ended_on", "last_activity_on", "inbound_request_on"]


@st.composite
def generic_people(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, Any], date]:
    """(CSV row as csv.DictReader gives it, the canonical record, known-on day)."""
    cell: dict[str, str] = {c: "" for c in GENERIC_COLUMNS}
    rid = draw(st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True))
    cell["id"] = rid
    record: dict[str, Any] = {"id": rid}
    role = draw(st.sampled_from(["", "controller", "processor"]))
    if role:
        cell["role"], record["role"] = role, role
    cats = draw(st.lists(st.sampled_from(["prospect", "customer", "partner", "newsletter_subscriber"]), unique=True,
                         min_size=1, max_size=3))
    cell["subject_categories"] = draw(st.sampled_from([";", "; ", " ; "])).join(cats)
    record["subject_categories"] = cats
    relationship = {}
    for name in RELATIONSHIP:
        day = draw(st.one_of(st.none(), DAYS))
        if day:
            cell[name], relationship[name] = day.isoformat(), day.isoformat()
    if relationship:
        record["relationship"] = relationship
    kind = draw(st.sampled_from(["", "personal", "impersonal"]))
    if kind:
        cell["contact_address_kind"], record["contact_address_kind"] = kind, kind
    given_on = draw(st.one_of(st.none(), DAYS))
    if given_on:
        withdrawn = draw(st.one_of(st.none(), DAYS))
        cell["newsletter_consent_given_on"] = given_on.isoformat()
        consent = {"purpose": "newsletter", "given_on": given_on.isoformat()}
        if withdrawn:
            cell["newsletter_consent_withdrawn_on"] = withdrawn.isoformat()
            consent["withdrawn_on"] = withdrawn.isoformat()
        record["consents"] = [consent]
    objections = []
    dm = draw(st.one_of(st.none(), DAYS))
    if dm:
        cell["direct_marketing_objection_on"] = dm.isoformat()
        objections.append({"kind": "art21_2", "received_on": dm.isoformat()})
    known_on = draw(DAYS)
    opted = draw(st.booleans())
    cell["marketing_opt_out"] = draw(st.sampled_from(["yes", "true", "1"])) if opted else draw(
        st.sampled_from(["no", "false", "0", ""]))
    if opted:
        undated = {"kind": "art21_2", "received_on": {"on_or_before": known_on.isoformat()}}
        objections.append(undated)
    if objections:
        record["objections"] = objections
    erasure = draw(st.one_of(st.none(), DAYS))
    if erasure:
        cell["erasure_received_on"] = erasure.isoformat()
        record["erasure_requests"] = [{"received_on": erasure.isoformat()}]
    return cell, record, known_on


@SETTINGS
@given(generic_people())
def test_generic_csv_rows_map_to_the_direct_construction(case: tuple[dict[str, str], dict[str, Any], date]) -> None:
    row, record, known_on = case
    mapped = GENERIC.map_row(row, known_on=known_on, time_zone="Europe/Oslo", children={})
    assert mapped.problems == (), [str(p) for p in mapped.problems]
    _same(mapped.record, record)


def _exact(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"on_or_before"}:
            return value["on_or_before"]
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return value


HOST_VALUES = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(
    ["true", "false", "yes", "ja", "2024-02-29", "2024-02-29T23:30:00Z", "1709249400000", "lead", "customer",
     "Customer - Direct", "OptIn", "", "  ", "31/02/2024", "9999-12-31", "hs_email_optout_1"]),
    st.integers(-(10**20), 10**20), st.booleans(), st.floats(allow_nan=True))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["hubspot-export", "hubspot-api", "salesforce", "generic-csv"]),
       st.dictionaries(st.text(max_size=12), HOST_VALUES, max_size=8), st.data())
def test_no_host_row_makes_map_row_raise(name: str, extra: dict[str, Any], data: st.DataObject) -> None:
    profile = load_profile(name)
    # start from a row with every required field, so that generated values reach the conversions
    row: dict[str, Any] = {field: data.draw(HOST_VALUES) for field in profile.required_fields()}
    row.update(extra)
    if name == "hubspot-api":
        row = {"id": row.pop("id", "1"), "properties": row}
    mapped = profile.map_row(row, known_on=date(2024, 3, 5), time_zone="Europe/Oslo",
                             children={t: [] for t in profile.children})
    if mapped.record is not None:
        normalize(_exact(mapped.record))  # whatever it makes is a canonical record
    else:
        assert mapped.problems and all(p.code.startswith("PR6") for p in mapped.problems)
