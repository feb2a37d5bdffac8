"""Record checking: closed objects, strict dates, clear messages naming the field (docs section 4)."""

from __future__ import annotations

from datetime import date

import pytest

from privacy_rules.records import (LIST_FIELDS, RELATIONSHIP_FIELDS, TOP_FIELDS, RecordInvalid, normalize)
from privacy_rules.validate.schema import load_schema


def problems(record) -> list[str]:
    with pytest.raises(RecordInvalid) as exc:
        normalize(record)
    return [f"{p.code} {p.message}" + (f" | {p.help}" if p.help else "") for p in exc.value.problems]


@pytest.mark.parametrize(
    "record, expected",
    [
        ({"id": "a", "consent": []}, "PR301 unknown field `consent` | did you mean `consents`?"),
        ({"id": "a", "relationship": {"first_contact": "2020-01-01"}},
         "PR301 unknown field `relationship.first_contact` | did you mean `relationship.first_contact_on`?"),
        ({"id": "a", "consents": [{"purpose": "n", "given": "2020-01-01"}]},
         "PR301 unknown field `consents[0].given` | did you mean `consents[0].given_on`?"),
        ({"id": "a", "relationship": {"first_contact_on": "2023-02-30"}},
         "PR303 `relationship.first_contact_on`: `2023-02-30` is not a real date; write YYYY-MM-DD"),
        ({"id": "a", "relationship": {"first_contact_on": "2023-02-01T10:00:00+01:00"}},
         "PR303 `relationship.first_contact_on`: `2023-02-01T10:00:00+01:00` is a date and time"),
        ({"id": "a", "relationship": {"first_contact_on": "2023-02-01T10:00:00"}},
         "PR303 `relationship.first_contact_on`: `2023-02-01T10:00:00` is a date and time"),
        ({"id": "a", "role": "owner"}, "PR306 `role` is `owner`; expected one of controller, processor"),
        ({"id": "a", "consents": [{"purpose": "n"}]}, "PR304 `consents[0]` has no `given_on`"),
        ({"id": "a", "vouchers": [{"fiscal_year": "2022"}]}, "PR302 `vouchers[0].fiscal_year` must be a whole number"),
        ({"id": "a", "disclosure_orders": [{"recipient": "p", "received_on": "2020-01-01", "binding": "yes"}]},
         "PR302 `disclosure_orders[0].binding` must be true or false"),
        ({"id": "a", "subject_categories": "prospect"}, "PR302 `subject_categories` must be a list of strings"),
        ({"id": "a", "objections": {"kind": "art21_2"}}, "PR302 `objections` must be a list, not an object"),
        ({"relationship": {}}, "PR305 record has no `id`"),
        ([1, 2], "PR305 a record must be a JSON object, not a list"),
        ({"id": "a", "facts": {"tier": {"nested": 1}}}, "PR302 `facts.tier` must be a string, number, boolean or null"),
    ],
)
def test_bad_records_name_the_field(record, expected):
    assert any(p.startswith(expected) for p in problems(record)), problems(record)


def test_every_problem_is_reported_not_just_the_first():
    found = problems({"id": "a", "consent": [], "role": "x", "relationship": {"first_contact_on": "2023-02-30"}})
    assert [p.split()[0] for p in found] == ["PR301", "PR306", "PR303"]


def test_host_fields_are_ignored_and_facts_kept():
    facts = normalize({"id": "a", "host": {"hs_legal_basis": "Legitimate interest", "anything": [1, {"x": 2}]},
                       "facts": {"tier": "gold", "n": 3}})
    assert facts.s == {"facts.tier": "gold", "facts.n": 3}


def test_dates_become_iso_strings_and_date_objects_are_accepted():
    facts = normalize({"id": "a", "relationship": {"first_contact_on": date(2024, 2, 29), "role_ended_on": None},
                       "vouchers": [{"fiscal_year": 2022}, {"fiscal_year": 2023, "fiscal_year_end": "2024-06-30"}]})
    assert facts.s == {"relationship.first_contact_on": "2024-02-29"}
    # R11: the fiscal year is the calendar year unless the record says otherwise
    assert facts.lists["vouchers"] == ((2022, "2022-12-31"), (2023, "2024-06-30"))


def test_record_field_names_match_the_schema():
    schema = load_schema("record.schema.json")
    props = schema["properties"]
    assert set(props) == set(TOP_FIELDS)
    assert set(props["relationship"]["properties"]) == set(RELATIONSHIP_FIELDS)
    for name, (fields, required) in LIST_FIELDS.items():
        item = props[name]["items"]
        assert set(item["properties"]) == set(fields), name
        assert set(item.get("required", [])) == set(required), name


def test_datetime_objects_naive_and_aware_are_not_days():
    from datetime import datetime, timezone

    for value in (datetime(2024, 2, 29, 12, 0), datetime(2024, 2, 29, tzinfo=timezone.utc)):
        found = problems({"id": "a", "relationship": {"first_contact_on": value}})
        assert found[0].startswith("PR303 `relationship.first_contact_on`: `2024-02-29") and "date and time" in found[0]
