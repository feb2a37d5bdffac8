"""Profile.map_row: empty cells, missing columns, host fields, bounds, child rows, problems.

Small profiles written inline (tmp files) pin each rule of docs/mapping.md, "What a row becomes".
"""

from __future__ import annotations

import copy
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from privacy_rules.mapping import MAX_HOST_CHARS, Mapped, Profile, load_profile

BASE = """\
profile:
  id: test
  title: Test
  record_id: id
{extra_profile}
formats:
  dt: {{type: datetime, naive_zone: UTC, layouts: ["%Y-%m-%d %H:%M"]}}
bounds:
  modified: {{field: modified, as: dt, required: false}}
fields:
  stage:
    to: subject_categories
    map: {{lead: [prospect], customer: customer, other: null}}
  first: {{to: relationship.first_contact_on, as: date, required: false}}
  score: {{to: facts.score, as: int, required: false}}
{extra_fields}
events:
  - to: objections
    when: {{field: opt_out, as: bool, is: true}}
    entry: {{kind: art21_2, received_on: {{on_or_before: modified}}}}
{extra_events}
"""


def profile(tmp_path: Path, *, extra_profile: str = "", extra_fields: str = "", extra_events: str = "",
            text: str | None = None) -> Profile:
    path = tmp_path / "profile.yaml"
    path.write_text(text if text is not None else BASE.format(
        extra_profile=extra_profile, extra_fields=extra_fields, extra_events=extra_events), encoding="utf-8")
    return load_profile(path)


def run(p: Profile, row: dict[str, Any], known_on: date | None = date(2024, 3, 5), **kw: Any) -> Mapped:
    return p.map_row(row, known_on=known_on, time_zone="Europe/Oslo", **kw)


ROW = {"id": "c-1", "stage": "lead", "opt_out": "false"}


def codes(m: Mapped) -> list[str]:
    return [p.code for p in m.problems]


def test_a_minimal_row(tmp_path: Path) -> None:
    m = run(profile(tmp_path), ROW, locator="line 2")
    assert m.ok and m.locator == "line 2" and m.record_id == "c-1"
    assert m.record == {"id": "c-1", "subject_categories": ["prospect"]}


def test_empty_cells_are_absent_not_empty_strings(tmp_path: Path) -> None:
    m = run(profile(tmp_path), {**ROW, "first": "", "score": "  ", "note": "", "other": None})
    assert m.record == {"id": "c-1", "subject_categories": ["prospect"]}  # no relationship, facts or host


def test_a_value_map_to_null_leaves_the_field_absent(tmp_path: Path) -> None:
    m = run(profile(tmp_path), {**ROW, "stage": "Other"})
    assert m.record == {"id": "c-1"}


def test_a_value_map_accepts_one_id_or_a_list(tmp_path: Path) -> None:
    assert run(profile(tmp_path), {**ROW, "stage": "CUSTOMER"}).record == {"id": "c-1", "subject_categories": ["customer"]}


def test_an_unlisted_value_is_a_problem_naming_the_host_field(tmp_path: Path) -> None:
    m = run(profile(tmp_path), {**ROW, "stage": "Salesperson\x1b[2K"})
    assert m.record is None and m.record_id == "c-1"
    (p,) = m.problems
    assert p.code == "PR650" and p.record_id == "c-1"
    assert p.message == "`stage` is `Salesperson\\x1b[2K`: not a value the profile's map knows"  # escaped


def test_unusable_values_never_become_a_guess(tmp_path: Path) -> None:
    m = run(profile(tmp_path), {**ROW, "first": "31/02/2024", "score": "12.5"})
    assert m.record is None
    assert [p.message for p in m.problems] == [
        "`first` is `31/02/2024`: not a date in the form YYYY-MM-DD",
        "`score` is `12.5`: not a whole number",
    ]


def test_a_missing_required_column_is_a_problem_every_time(tmp_path: Path) -> None:
    m = run(profile(tmp_path), {"id": "c-1", "stage": "lead"})  # no opt_out column at all
    assert codes(m) == ["PR651"] and "`opt_out`" in m.problems[0].message
    m = run(profile(tmp_path), {"id": "c-1", "opt_out": "no"})
    assert codes(m) == ["PR651"] and "`stage`" in m.problems[0].message


def test_record_id_problems(tmp_path: Path) -> None:
    p = profile(tmp_path)
    assert codes(run(p, {**ROW, "id": ""})) == ["PR652"]
    assert codes(run(p, {k: v for k, v in ROW.items() if k != "id"})) == ["PR651"]
    assert codes(run(p, {**ROW, "id": "x" * 201})) == ["PR652"]
    assert run(p, {**ROW, "id": 151}).record_id == "151"  # a JSON number id
    m = run(p, {**ROW, "id": True})
    assert codes(m) == ["PR650"] and m.record_id is None


def test_problems_found_before_the_id_carry_it(tmp_path: Path) -> None:
    p = profile(tmp_path, extra_profile="  unwrap: [{field: props}]")
    m = run(p, {"id": "c-9", "props": "not an object", "stage": "lead", "opt_out": "no"})
    assert codes(m) == ["PR656"] and m.problems[0].record_id == "c-9"


# --- host ---------------------------------------------------------------------------------------------


def test_unmapped_fields_go_verbatim_under_host(tmp_path: Path) -> None:
    row = {**ROW, "Email": "kari@example.no", "Notes": "  spaced  ", "n": 5, "ok": False, "x": 1.5,
           "when": date(2024, 1, 2), "at": datetime(2024, 1, 2, 3, 4), "nested": {"a": [1, {"b": None}]}}
    m = run(profile(tmp_path), row)
    assert m.record is not None
    assert m.record["host"] == {"Email": "kari@example.no", "Notes": "  spaced  ", "n": 5, "ok": False, "x": 1.5,
                                "when": "2024-01-02", "at": "2024-01-02T03:04:00", "nested": {"a": [1, {"b": None}]}}


def test_huge_host_values_are_replaced_by_a_digest(tmp_path: Path) -> None:
    big = "x" * (MAX_HOST_CHARS + 1)
    m = run(profile(tmp_path), {**ROW, "notes": big, "blob": b"\x00\x01", "deep": ["y" * MAX_HOST_CHARS],
                                "fits": "z" * MAX_HOST_CHARS, "bad": float("nan"), "longint": 10**100})
    assert m.record is not None
    host = m.record["host"]
    assert host["fits"] == "z" * MAX_HOST_CHARS
    assert host["notes"]["chars"] == MAX_HOST_CHARS + 1 and len(host["notes"]["sha256"]) == 64
    assert "omitted" in host["notes"] and "omitted" in host["blob"] and "omitted" in host["deep"]
    assert host["bad"] == "nan" and "omitted" in host["longint"]


def test_mapping_never_modifies_the_row(tmp_path: Path) -> None:
    p = profile(tmp_path, extra_profile="  unwrap: [{field: props}]")
    row = {"id": "c-1", "props": {"stage": "lead", "opt_out": "true", "list": [1, 2]}, "modified": "2024-03-01 10:00"}
    before = copy.deepcopy(row)
    m = run(p, row)
    assert row == before and m.record is not None
    m.record["host"]["props.list" if "props.list" in m.record["host"] else "list"].append(3)
    assert row == before  # the record shares nothing with the row


def test_a_row_that_is_not_a_mapping(tmp_path: Path) -> None:
    m = run(profile(tmp_path), ["id", "c-1"])  # type: ignore[arg-type]
    assert codes(m) == ["PR656"] and m.record_id is None


# --- undated facts and their bound ----------------------------------------------------------------------


def test_undated_opt_out_is_bounded_by_the_row(tmp_path: Path) -> None:
    m = run(profile(tmp_path), {**ROW, "opt_out": "true", "modified": "2024-02-29 23:30"})  # UTC -> Oslo 1 March
    assert m.record is not None
    assert m.record["objections"] == [{"kind": "art21_2", "received_on": {"on_or_before": "2024-03-01"}}]


def test_an_empty_bound_falls_back_to_the_run_known_on_day(tmp_path: Path) -> None:
    m = run(profile(tmp_path), {**ROW, "opt_out": "yes", "modified": ""})
    assert m.record is not None and m.record["objections"][0]["received_on"] == {"on_or_before": "2024-03-05"}


def test_no_bound_at_all_is_a_problem_never_an_invented_date(tmp_path: Path) -> None:
    m = run(profile(tmp_path), {**ROW, "opt_out": "yes"}, known_on=None)
    assert codes(m) == ["PR653"] and "`opt_out` is `yes`" in m.problems[0].message


def test_a_bound_after_the_known_on_day_is_a_problem(tmp_path: Path) -> None:
    m = run(profile(tmp_path), {**ROW, "opt_out": "true", "modified": "2024-03-06 10:00"})
    assert codes(m) == ["PR654"]
    assert run(profile(tmp_path), {**ROW, "opt_out": "false", "modified": "2024-03-06 10:00"}).ok  # unused bound


def test_a_malformed_bound_is_a_problem_even_when_unused(tmp_path: Path) -> None:
    m = run(profile(tmp_path), {**ROW, "modified": "yesterday"})
    assert codes(m) == ["PR650"] and "`modified` is `yesterday`" in m.problems[0].message


def test_known_on_and_time_zone_are_the_callers_to_get_right(tmp_path: Path) -> None:
    p = profile(tmp_path)
    with pytest.raises(TypeError):
        p.map_row(ROW, known_on=datetime(2024, 3, 5), time_zone="Europe/Oslo")
    with pytest.raises(TypeError):
        p.map_row(ROW, known_on="2024-03-05", time_zone="Europe/Oslo")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        p.map_row(ROW, known_on=None, time_zone="Europe/Olso")


def test_one_value_read_twice_is_one_problem(tmp_path: Path) -> None:
    p = profile(tmp_path, extra_fields="  opt_out: {to: facts.opted_out, as: bool}")
    m = run(p, {**ROW, "opt_out": "ja"})
    assert codes(m) == ["PR650"]
    assert run(p, {**ROW, "opt_out": "no"}).record == {"id": "c-1", "subject_categories": ["prospect"],
                                                       "facts": {"opted_out": False}}


# --- patterns, flags, filled --------------------------------------------------------------------------


PATTERN = """\
  - to: objections
    when: {fields: "Opted out of email: *", as: bool, is: true}
    entry: {kind: art21_2, received_on: {on_or_before: known_on}}"""


def test_pattern_fields_each_make_an_entry_and_equal_entries_are_kept_once(tmp_path: Path) -> None:
    p = profile(tmp_path, extra_events=PATTERN)
    row = {**ROW, "Opted out of email: News": "true", "Opted out of email: Service": "true",
           "Opted out of email: Other": "false"}
    m = run(p, row)
    assert m.record is not None
    assert m.record["objections"] == [{"kind": "art21_2", "received_on": {"on_or_before": "2024-03-05"}}]
    assert "host" not in m.record  # the matched columns were read, not dropped into host


def test_a_required_pattern_needs_at_least_one_column(tmp_path: Path) -> None:
    m = run(profile(tmp_path, extra_events=PATTERN), ROW)
    assert codes(m) == ["PR651"] and "Opted out of email: *" in m.problems[0].message


def test_flags_from_a_multi_select(tmp_path: Path) -> None:
    p = profile(tmp_path, extra_fields="""\
  basis:
    as: {type: text, split: ";"}
    required: false
    flags:
      facts.consent: ["Freely given consent from contact"]
      facts.li_prospect: ["Legitimate interest - prospect/lead"]""")
    m = run(p, {**ROW, "basis": "Legitimate interest \u2013 prospect/lead; ;"})
    assert m.record is not None and m.record["facts"] == {"consent": False, "li_prospect": True}
    assert codes(run(p, {**ROW, "basis": "Legitimate interest - other"})) == ["PR650"]
    assert "facts" not in (run(p, {**ROW, "basis": ""}).record or {})


def test_filled_trigger_and_entry_fields(tmp_path: Path) -> None:
    p = profile(tmp_path, extra_events="""\
  - to: erasure_requests
    when: {field: erasure_on, filled: true, required: false}
    entry:
      received_on: {field: erasure_on, as: date}
      verified_on: {field: verified_on, as: date}""")
    m = run(p, {**ROW, "erasure_on": "2024-01-31", "verified_on": ""})
    assert m.record is not None and m.record["erasure_requests"] == [{"received_on": "2024-01-31"}]
    assert codes(run(p, {**ROW, "erasure_on": "2024-01-31"})) == ["PR651"]  # verified_on column missing
    assert run(p, ROW).ok  # no erasure column: optional trigger


def test_database_values_fill_a_date_column_and_a_split_list(tmp_path: Path) -> None:
    """A table in PostgreSQL or DuckDB has DATE columns and arrays where a CSV has text: a DATE
    fills a `filled: true` trigger (docs/mapping.md: "any non-empty value, e.g. a date column"),
    and a text[] is a `;`-separated cell already split."""
    p = profile(tmp_path, extra_fields="""\
  systems: {to: systems, as: {type: text, split: ";"}, required: false}""", extra_events="""\
  - to: erasure_requests
    when: {field: erasure_on, filled: true, required: false}
    entry: {received_on: {field: erasure_on, as: date}}""")
    m = run(p, {**ROW, "erasure_on": date(2024, 1, 31), "systems": ["hubspot", " ", None, "m365"]})
    assert m.record is not None and m.record["erasure_requests"] == [{"received_on": "2024-01-31"}]
    assert m.record["systems"] == ["hubspot", "m365"]
    # the entry still checks the value: a date-time is not a date, a list item must be text
    assert codes(run(p, {**ROW, "erasure_on": datetime(2024, 1, 31, 12)})) == ["PR650"]
    assert codes(run(p, {**ROW, "systems": ["hubspot", 1.5]})) == ["PR650"]
    assert "erasure_requests" not in (run(p, {**ROW, "erasure_on": None}).record or {})


def test_an_entry_missing_a_required_field_is_a_problem(tmp_path: Path) -> None:
    p = profile(tmp_path, extra_events="""\
  - to: objections
    when: {field: objected, as: bool, is: true, required: false}
    entry: {kind: art21_1, received_on: {field: objected_on, as: date}}""")
    m = run(p, {**ROW, "objected": "yes", "objected_on": ""})
    assert codes(m) == ["PR657"] and "received_on" in m.problems[0].message


# --- unwrap and field names ------------------------------------------------------------------------------


def test_unwrap_and_collisions(tmp_path: Path) -> None:
    p = profile(tmp_path, extra_profile="  unwrap: [{field: properties}, {field: Individual, prefix: 'Individual.'}]")
    m = run(p, {"id": "c-1", "properties": {"stage": "lead", "opt_out": "false"}, "Individual": None})
    assert m.record == {"id": "c-1", "subject_categories": ["prospect"]}
    m = run(p, {"id": "c-1", "stage": "lead", "properties": {"stage": "customer", "opt_out": "false"}})
    assert codes(m) == ["PR656"]


def test_case_insensitive_field_names(tmp_path: Path) -> None:
    p = profile(tmp_path, extra_profile="  field_names: case_insensitive")
    assert run(p, {"ID": "c-1", "Stage": "lead", "OPT_OUT": "false"}).record == {
        "id": "c-1", "subject_categories": ["prospect"]}
    assert codes(run(p, {**ROW, "Stage": "lead"})) == ["PR656"]  # `stage` and `Stage`


# --- child tables ------------------------------------------------------------------------------------------


CHILD = """\
children:
  log: {key: person}
"""
CHILD_EVENT = """\
  - to: restrictions
    from: log
    when: {field: status, is: active}
    entry: {requested_on: {field: on, as: date}}"""


def child_profile(tmp_path: Path, required: bool = True) -> Profile:
    text = BASE.format(extra_profile="", extra_fields="", extra_events=CHILD_EVENT)
    text = text.replace("fields:\n", CHILD.replace("person}", "person" + ("" if required else ", required: false") + "}")
                        + "fields:\n", 1)
    if not required:
        text = text.replace("to: restrictions", "to: consents").replace(
            "entry: {requested_on: {field: on, as: date}}", "entry: {purpose: newsletter, given_on: {field: on, as: date}}")
    return profile(tmp_path, text=text)


def test_child_rows_make_entries(tmp_path: Path) -> None:
    p = child_profile(tmp_path)
    assert p.children["log"].key == "person"
    log = [{"person": "c-1", "status": "active", "on": "2024-01-02", "by": "portal"},
           {"person": "c-1", "status": "lifted", "on": "2023-01-01"}]
    m = run(p, ROW, children={"log": log})
    assert m.record is not None
    assert m.record["restrictions"] == [{"requested_on": "2024-01-02"}]
    assert m.record["host"] == {"log[]": [{"by": "portal"}, {"status": "lifted", "on": "2023-01-01"}]}
    assert run(p, ROW, children={"log": []}).record == {"id": "c-1", "subject_categories": ["prospect"]}


def test_required_child_rows_must_be_given(tmp_path: Path) -> None:
    p = child_profile(tmp_path)
    assert codes(run(p, ROW)) == ["PR655"]
    assert codes(run(p, ROW, children={})) == ["PR655"]
    assert codes(run(p, ROW, children={"log": "rows"})) == ["PR655"]  # type: ignore[dict-item]


def test_a_child_row_of_another_record_is_refused(tmp_path: Path) -> None:
    m = run(child_profile(tmp_path), ROW, children={"log": [{"person": "c-2", "status": "active", "on": "2024-01-02"}]})
    assert codes(m) == ["PR655"] and "`c-2`" in m.problems[0].message


def test_an_optional_consent_log_may_be_left_out(tmp_path: Path) -> None:
    p = child_profile(tmp_path, required=False)
    assert run(p, ROW).ok
    m = run(p, ROW, children={"log": [{"person": "c-1", "status": "active", "on": "2024-01-02"}]})
    assert m.record is not None and m.record["consents"] == [{"purpose": "newsletter", "given_on": "2024-01-02"}]


# --- the profile says what it needs ------------------------------------------------------------------------


def test_required_and_missing_fields(tmp_path: Path) -> None:
    p = profile(tmp_path)
    assert p.required_fields() == ("id", "stage", "opt_out")
    assert p.missing_fields(["id", "stage", "email"]) == ("opt_out",)


def test_map_row_is_safe_from_many_threads(tmp_path: Path) -> None:
    p = profile(tmp_path, extra_events=PATTERN)
    rows = [{**ROW, "id": f"c-{i}", "opt_out": "true" if i % 2 else "false", "modified": "2024-02-29 23:30",
             "Opted out of email: X": "no"} for i in range(200)]
    expected = [run(p, r) for r in rows]
    results: list[list[Mapped]] = []

    def work() -> None:
        results.append([run(p, r) for r in rows])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected for r in results)


def test_a_list_of_conditions_must_all_hold(tmp_path: Path) -> None:
    p = profile(tmp_path, extra_events="""\
  - to: rights_requests
    when:
      - {field: export_requested, as: bool, is: true, required: false}
      - {field: channel, in: [portal, E-mail]}
    entry: {kind: portability, received_on: {on_or_before: known_on}}""")
    request = [{"kind": "portability", "received_on": {"on_or_before": "2024-03-05"}}]
    assert (run(p, {**ROW, "export_requested": "yes", "channel": "e-mail"}).record or {}).get("rights_requests") == request
    assert "rights_requests" not in (run(p, {**ROW, "export_requested": "yes", "channel": "phone"}).record or {})
    assert "rights_requests" not in (run(p, {**ROW, "export_requested": "no", "channel": "portal"}).record or {})
    m = run(p, {**ROW, "export_requested": "no"})  # `channel` is required even when the first condition fails
    assert codes(m) == ["PR651"] and "`channel`" in m.problems[0].message


def test_patterns_match_in_linear_time_and_without_case_when_asked() -> None:
    from privacy_rules.mapping._model import Glob

    glob = Glob(parts=("Opted out of email: ", ""))
    assert glob.fullmatch("Opted out of email: News") and glob.fullmatch("Opted out of email: ")
    assert not glob.fullmatch("opted out of email: News") and not glob.fullmatch("Unsubscribed")
    hostile = Glob(parts=("a",) * 12 + ("b",))  # a*a*...*b: catastrophic for a backtracking regex
    assert not hostile.fullmatch("a" * 100_000)
    assert Glob(parts=("hs_", "_", ""), fold=True).fullmatch("HS_EMAIL_OPTOUT_123".casefold())
    assert not Glob(parts=("ab", "ba")).fullmatch("aba")  # the pieces may not overlap
