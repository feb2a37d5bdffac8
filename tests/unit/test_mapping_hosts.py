"""End to end: realistic host exports mapped by the bundled profiles, compared with the canonical
records a person wrote by hand for them (tests/profiles/hosts/<host>/expected*.jsonl).

Each folder holds the host data as the vendor writes it (a HubSpot contacts export CSV with the
real column labels, a HubSpot CRM v3 API page, a Salesforce Contact + Individual export and REST
query result with ContactPointTypeConsent rows, a generic CSV with a consent log), a run.json
(profile, known-on day, time zone, child tables) and the expected records. Reading files is the
sources layer's job; here the csv and json modules read them, as a test harness.
"""

from __future__ import annotations

import copy
import csv
import json
from datetime import date
from pathlib import Path
from typing import Any, Iterator

import pytest

import privacy_rules
from privacy_rules import Question
from privacy_rules.mapping import Mapped, load_profile
from privacy_rules.records import normalize

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ROOT / "tests" / "profiles" / "hosts"
ICONFIRM = ROOT / "rules" / "iconfirm"


def _rows(path: Path) -> tuple[list[dict[str, Any]], str]:
    """(rows, locator word) of a host file, read as plainly as a harness can."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh)), "row"
    data = json.loads(path.read_text(encoding="utf-8"))
    if "results" in data:  # HubSpot CRM v3 page
        return data["results"], "result"
    return data["records"], "record"  # Salesforce REST query result


def _cases() -> Iterator[tuple[str, Path, Path]]:
    for folder in sorted(HOSTS.iterdir()):
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        yield folder.name, folder / run["rows"], folder / "expected.jsonl"
        api = folder / "contacts-api.json"
        if api.exists():
            yield f"{folder.name}-api", api, folder / "expected-api.jsonl"


CASES = list(_cases())


def _map_all(rows_file: Path) -> list[Mapped]:
    folder = rows_file.parent
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    profile = load_profile(run["profile"])
    rows, word = _rows(rows_file)
    before = copy.deepcopy(rows)
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name, spec in (run.get("children") or {}).items():
        with (folder / spec["file"]).open(newline="", encoding="utf-8") as fh:
            for child in csv.DictReader(fh):
                groups.setdefault(name, {}).setdefault(child[spec["key"]], []).append(child)
    out = []
    for n, row in enumerate(rows, start=1):
        children = {name: groups.get(name, {}).get(row.get(spec["parent"]) or "", [])
                    for name, spec in (run.get("children") or {}).items()}
        out.append(profile.map_row(row, known_on=date.fromisoformat(run["known_on"]), time_zone=run["time_zone"],
                                   children=children or None, locator=f"{word} {n}"))
    assert rows == before, "mapping must never modify the host rows"
    return out


@pytest.mark.parametrize(("rows_file", "expected_file"), [(r, e) for _, r, e in CASES], ids=[c[0] for c in CASES])
def test_host_rows_map_to_the_records_a_person_wrote(rows_file: Path, expected_file: Path) -> None:
    mapped = _map_all(rows_file)
    expected = [json.loads(line) for line in expected_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(mapped) == len(expected)
    for got, want in zip(mapped, expected):
        assert got.locator == want["locator"]
        if want["record"] is None:
            assert got.record is None, f"{got.locator}: expected problems, got a record"
            assert got.record_id == want["record_id"], "a row with problems still names its record"
            codes = [(p.code, p.message) for p in got.problems]
            assert len(codes) == len(want["problems"]), codes
            for (code, message), (want_code, want_start) in zip(codes, want["problems"]):
                assert code == want_code and message.startswith(want_start), (code, message)
                assert all(p.record_id == want["record_id"] for p in got.problems)
        else:
            assert got.problems == (), [str(p) for p in got.problems]
            assert got.record == want["record"], got.locator
            assert list(got.record) == [k for k in want["record"]], "keys in the record schema's order"


def _has_undated(value: Any) -> bool:
    if isinstance(value, dict):
        return "on_or_before" in value or any(_has_undated(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_undated(v) for v in value)
    return False


def _expected_records() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, _rows_file, expected_file in CASES:
        for line in expected_file.read_text(encoding="utf-8").splitlines():
            want = json.loads(line)
            if want["record"] is not None:
                yield f"{name}:{want['record']['id']}", want["record"]


EXPECTED = list(_expected_records())


def _exact(value: Any) -> Any:
    """``value`` with every ``{"on_or_before": DAY}`` written as DAY (for the shape check only)."""
    if isinstance(value, dict):
        if set(value) == {"on_or_before"}:
            return value["on_or_before"]
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return value


@pytest.mark.parametrize("record", [r for _, r in EXPECTED], ids=[i for i, _ in EXPECTED])
def test_expected_records_are_canonical(record: dict[str, Any]) -> None:
    # The hand-written records must be records the engine takes, `{"on_or_before": DAY}` dates
    # included (issue 8 item 2), and read the same as with DAY in their place but for those dates.
    facts = normalize(record)
    exact = normalize(_exact(record))
    assert set(facts.undated) == {p for p in _undated_paths(record)}
    assert facts.id == exact.id and facts.role == exact.role and facts.subjects == exact.subjects


def _undated_paths(record: dict[str, Any]) -> Iterator[str]:
    for key, value in record.items():
        if key == "relationship":
            yield from (f"relationship.{k}" for k, v in value.items() if _has_undated(v))
        elif isinstance(value, list):
            for i, entry in enumerate(value):
                if isinstance(entry, dict):
                    yield from (f"{key}[{i}].{k}" for k, v in entry.items() if _has_undated(v))
        elif _has_undated(value):
            yield key


def test_undated_records_are_decided_with_the_dates_they_have() -> None:
    # The positive contract of issue 8 item 2: a record with an undated objection is read, the
    # date as the days up to its bound, never refused and never read as "no objection".
    record = dict(next(r for _, r in EXPECTED if _has_undated(r)))
    facts = normalize(record)
    assert facts.undated and all(len(day) == 10 for day in facts.undated.values())
    policy = privacy_rules.compile_pack(privacy_rules.load_pack(ICONFIRM))
    latest = max(facts.undated.values())
    for d in policy.decide_all(record, as_of=latest):
        assert d.problems == (), [str(p) for p in d.problems]


@pytest.fixture(scope="module")
def iconfirm() -> privacy_rules.Policy:
    return privacy_rules.compile_pack(privacy_rules.load_pack(ICONFIRM))


def _mapped_record(case: str, record_id: str) -> dict[str, Any]:
    rows_file = next(r for name, r, _ in CASES if name == case)
    found = next(m for m in _map_all(rows_file) if m.record_id == record_id)
    assert found.record is not None
    return found.record


def test_generic_prospect_decides_like_the_hand_written_record(iconfirm: privacy_rules.Policy) -> None:
    record = _mapped_record("generic-csv", "g-1")
    day = date(2025, 3, 1)
    keep = iconfirm.decide(record, Question.keep(), as_of=day)
    assert keep.outcome.value == "allow" and keep.keep_until == date(2025, 3, 1)
    late = iconfirm.decide(record, Question.keep(), as_of=date(2025, 3, 2))
    assert late.outcome.value == "deny"


def test_hubspot_prospect_without_opt_out_decides(iconfirm: privacy_rules.Policy) -> None:
    record = _mapped_record("hubspot-export", "1001")
    keep = iconfirm.decide(record, Question.keep(), as_of=date(2024, 3, 5))
    assert keep.outcome.value == "allow" and keep.keep_until == date(2025, 3, 1)  # N28, R1: first contact + 24 months


def test_hubspot_unsubscribed_customer_is_never_contacted_for_marketing(iconfirm: privacy_rules.Policy) -> None:
    record = _mapped_record("hubspot-export", "1002")
    for question in (Question.contact("newsletter", "email"), Question.contact("relationship_management", "email"),
                     Question.contact("relationship_management", "phone")):
        assert iconfirm.decide(record, question, as_of=date(2024, 3, 5)).outcome.value == "deny"


def test_salesforce_forget_this_individual_denies_keep(iconfirm: privacy_rules.Policy) -> None:
    record = _mapped_record("salesforce", "003F000006")
    assert iconfirm.decide(record, Question.keep(), as_of=date(2024, 3, 5)).outcome.value != "allow"
