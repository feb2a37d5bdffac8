"""pipeline.items with a mapping profile (a stub with privacy_rules.mapping's interface): child
rows grouped by the profile's keys, mapped problems make the row undetermined, an unreadable
child row fails the run."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping, Sequence

import pytest

from privacy_rules.model import Diagnostic, Severity
from privacy_rules.pipeline import items
from privacy_rules.sources import SourceError
from privacy_rules.sources._csv import CsvSource


@dataclass(frozen=True)
class _Table:
    key: str
    parent_key: str | None = None


@dataclass(frozen=True)
class _Mapped:
    record: dict[str, Any] | None
    problems: tuple[Diagnostic, ...]
    locator: str
    record_id: str | None = None


@dataclass
class _Profile:
    record_id: str = "Id"
    case_insensitive: bool = False
    children: Mapping[str, _Table] = field(default_factory=dict)
    calls: list[tuple[Mapping[str, Any], Any, str]] = field(default_factory=list)

    def map_row(self, row: Mapping[str, Any], *, known_on: date | None, time_zone: str,
                children: Mapping[str, Sequence[Mapping[str, Any]]] | None = None, locator: str = "") -> _Mapped:
        self.calls.append((row, children, locator))
        if row.get("Id") == "bad":
            return _Mapped(None, (Diagnostic(code="PR650", severity=Severity.ERROR, message="`Date` is `x`"),),
                           locator, "bad")
        rid = str(row.get("Id") or row.get("ID"))
        return _Mapped({"id": rid, "consents": [dict(c) for c in (children or {}).get("consents", [])]}, (),
                       locator, rid)


def _csv(text: str, name: str = "t.csv") -> CsvSource:
    return CsvSource(io.BytesIO(text.encode()), name)


def test_child_rows_are_grouped_by_the_profile_keys() -> None:
    prof = _Profile(children={"consents": _Table(key="PartyId", parent_key="IndividualId")})
    parents = _csv("Id,IndividualId\nc1,i1\nc2,i2\nc3,\nbad,i1\n")
    kids = _csv("PartyId,purpose\ni1,newsletter\ni2,crm\ni1,events\n,orphan\n", "consents.csv")
    got = list(items(parents, profile=prof, known_on=date(2024, 3, 5), children={"consents": kids}))
    assert [(i.record_id, i.record) for i in got[:3]] == [
        (None, {"id": "c1", "consents": [{"PartyId": "i1", "purpose": "newsletter"},
                                         {"PartyId": "i1", "purpose": "events"}]}),
        (None, {"id": "c2", "consents": [{"PartyId": "i2", "purpose": "crm"}]}),
        (None, {"id": "c3", "consents": []}),  # no parent key: no child rows (the profile decides)
    ]
    bad = got[3]
    assert bad.record is None and bad.record_id == "bad" and bad.problems[0].code == "PR650"
    assert [c[2] for c in prof.calls] == ["line 2", "line 3", "line 4", "line 5"]


def test_keys_compare_as_text_and_case_insensitive_profiles_find_their_fields() -> None:
    prof = _Profile(record_id="id", case_insensitive=True, children={"consents": _Table(key="CONTACT")})
    parents = _csv("ID\n 1001\n")
    kids = _csv("contact,purpose\n1001 ,newsletter\n", "c.csv")
    got = list(items(parents, profile=prof, children={"consents": kids}))
    kids_given = prof.calls[0][1]
    assert kids_given == {"consents": [{"contact": "1001 ", "purpose": "newsletter"}]} and got[0].record is not None


def test_an_unreadable_child_row_or_an_unknown_table_fails_the_run() -> None:
    prof = _Profile(children={"consents": _Table(key="PartyId")})
    with pytest.raises(SourceError, match=r"line 3 of child table `consents`: PR702"):
        list(items(_csv("Id\nc1\n"), profile=prof, children={"consents": _csv("PartyId,purpose\nc1,a\nc1\n")}))
    with pytest.raises(SourceError, match="the profile has no child table `consent`"):
        list(items(_csv("Id\nc1\n"), profile=prof, children={"consent": _csv("PartyId\nc1\n")}))
    with pytest.raises(SourceError, match="child tables go with a mapping profile"):
        list(items(_csv("id\nc1\n"), children={"consents": _csv("PartyId\nc1\n")}))


def test_child_options_need_a_profile_on_the_command_line() -> None:
    from privacy_rules.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code = main(["evaluate", "tests/packs/mini", "tests/data/sources/records.csv", "--child", "consents=x.csv"],
                stdout=out, stderr=err)
    assert code == 2 and "--child goes with --profile" in err.getvalue()
    code = main(["evaluate", "tests/packs/mini", "tests/data/sources/records.csv", "--known-on", "2024-01-01"],
                stdout=out, stderr=err)
    assert code == 2 and "--known-on goes with --profile" in err.getvalue()
