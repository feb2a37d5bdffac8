"""Hostile records through the Python API (issue 7, items 3 and 5): every one is that record's
undetermined answer with a problem code, never an exception and never an allow.

The crafted inputs are files under tests/hostile/records/, named after the code they must give
(the fuzz seed corpus); the tests below also build whole classes of them (every date field,
every range boundary, every kind of broken host object).
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any, Iterator

import pytest

import privacy_rules
from privacy_rules import Outcome, Question
from privacy_rules.dates import MAX_DAY, MIN_DAY
from privacy_rules.records import LIST_FIELDS, RELATIONSHIP_FIELDS, RecordInvalid, normalize, normalize_fast, parse_record

HERE = Path(__file__).resolve().parent
FIXTURES = sorted((HERE / "records").iterdir())
AS_OF = date(2026, 11, 25)
NEWSLETTER = Question.contact("newsletter", "email")


def _code(path: Path) -> str:
    return path.name.split("-")[0].upper()


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_every_hostile_record_is_undetermined_with_its_code(path: Path, iconfirm: privacy_rules.Policy) -> None:
    raw = path.read_bytes()
    code = _code(path)
    for text in (raw, raw.decode("utf-8", "surrogateescape") if code != "PR311" else raw):
        for d in iconfirm.decide_all(text, as_of=AS_OF):
            assert d.outcome is Outcome.UNDETERMINED
            assert code in [p.code for p in d.problems], [str(p) for p in d.problems]
        rows = list(iconfirm.decide_batch([text, text], as_of=AS_OF))
        assert len(rows) == 2
        assert all(a.outcome is Outcome.UNDETERMINED for r in rows for a in r.answers)
        assert all(r.problem and code in r.problem for r in rows)
        # whatever the record held, its id and problem can be written as UTF-8
        for r in rows:
            json.dumps([r.record_id, r.problem], ensure_ascii=False).encode("utf-8")


def test_a_duplicate_key_can_no_longer_hide_an_objection(iconfirm: privacy_rules.Policy) -> None:
    text = (HERE / "records" / "pr307-duplicate-objections.json").read_text()
    # what the host's json.loads sees: the last "objections" wins, the Art. 21(2) objection is gone
    assert iconfirm.decide(json.loads(text), NEWSLETTER, as_of=AS_OF).outcome is Outcome.ALLOW
    # given as text, the duplicate is a record problem naming the key
    d = iconfirm.decide(text, NEWSLETTER, as_of=AS_OF)
    assert d.outcome is Outcome.UNDETERMINED and d.record_id == "dup-1"
    assert [(p.code, p.message) for p in d.problems] == [("PR307", "duplicate key `objections` in the record")]
    # without the duplicate the same text is decided as the objection says
    single = text.replace(', "objections": []', "")
    assert iconfirm.decide(single, NEWSLETTER, as_of=AS_OF).outcome is Outcome.DENY


def test_duplicate_keys_are_found_at_any_depth_with_their_path() -> None:
    text = '{"id": "x", "consents": [{"purpose": "a", "given_on": "2020-01-01"}, ' \
           '{"purpose": "b", "purpose": "c", "given_on": "2020-01-01"}], "host": {"a": {"b": 1, "b": 2}}}'
    with pytest.raises(RecordInvalid) as err:
        parse_record(text)
    assert [p.message for p in err.value.problems] == [
        "duplicate key `purpose` in `consents[1]`", "duplicate key `b` in `host.a`"]
    assert err.value.record_id == "x"


def test_text_records_parse_like_json_loads_when_clean(iconfirm: privacy_rules.Policy) -> None:
    lines = (Path(__file__).resolve().parents[2] / "examples" / "records.jsonl").read_bytes().splitlines()
    for raw in lines:
        assert parse_record(raw) == json.loads(raw)
        assert parse_record(b"\xef\xbb\xbf  " + raw + b" \r\n") == json.loads(raw)  # BOM, whitespace
    as_dicts = list(iconfirm.decide_batch([json.loads(r) for r in lines], as_of=AS_OF))
    assert list(iconfirm.decide_batch(lines, as_of=AS_OF)) == as_dicts
    assert list(iconfirm.decide_batch([r.decode() for r in lines], as_of=AS_OF)) == as_dicts


def test_paired_surrogates_are_characters_not_problems(mini: privacy_rules.Policy) -> None:
    rec = parse_record('{"id": "emoji-\\ud83d\\ude00", "host": {"note": "back\\\\ud800slash"}}')
    assert rec["id"] == "emoji-\U0001F600" and rec["host"]["note"] == "back\\ud800slash"
    assert mini.decide(rec, "keep", as_of=AS_OF).problems == ()


# --- the supported date range (1900-01-01..2200-12-31) --------------------------------------------


def _date_paths() -> Iterator[tuple[str, Any]]:
    """(label, function putting a date into a record) for every date field a record has."""
    for field in RELATIONSHIP_FIELDS:
        yield f"relationship.{field}", lambda rec, day, f=field: rec.setdefault("relationship", {}).__setitem__(f, day)
    yield "art14_informed_on", lambda rec, day: rec.__setitem__("art14_informed_on", day)
    for name, (fields, required) in LIST_FIELDS.items():
        for field, kind in fields.items():
            if kind != "date":
                continue
            entry = {k: _filler(fields[k], k) for k in required}

            def put(rec: dict[str, Any], day: str, name: str = name, field: str = field,
                    entry: dict[str, Any] = entry) -> None:
                rec[name] = [dict(entry, **{field: day})]

            yield f"{name}[].{field}", put


def _filler(kind: str, field: str) -> Any:
    if field == "recipient":  # an id the Iconfirm pack defines (PR321 otherwise)
        return "police"
    return {"date": "2020-01-01", "str": "newsletter", "int": 2020, "bool": True, "ids": ["x"]}.get(
        kind, kind[5:].split("|")[0] if kind.startswith("enum:") else None)


DATE_PATHS = list(_date_paths())


@pytest.mark.parametrize("label, put", DATE_PATHS, ids=[label for label, _ in DATE_PATHS])
@pytest.mark.parametrize("day, ok", [("0001-01-01", False), ("1899-12-31", False), ("1900-01-01", True),
                                     ("2200-12-31", True), ("2201-01-01", False), ("9999-12-31", False)])
def test_every_record_date_must_lie_in_the_supported_range(label: str, put: Any, day: str, ok: bool,
                                                           iconfirm: privacy_rules.Policy) -> None:
    rec: dict[str, Any] = {"id": "d-1", "role": "controller", "subject_categories": ["customer"]}
    put(rec, day)
    codes = [p.code for p in iconfirm.decide(rec, "keep", as_of=AS_OF).problems]
    assert ("PR308" not in codes) if ok else (codes == ["PR308"]), codes
    # fast path and plain checker agree, and no answer computes past the calendar
    assert (normalize_fast(copy.deepcopy(rec), {}) is not None) == ok
    for as_of in (MIN_DAY, AS_OF, MAX_DAY):
        for row in iconfirm.decide_batch([rec], as_of=as_of):
            assert (row.problem is None) == ok, row.problem


def test_a_date_object_outside_the_range_is_refused_too(mini: privacy_rules.Policy) -> None:
    rec = {"id": "d-2", "subject_categories": ["prospect"], "relationship": {"first_contact_on": date(9999, 12, 31)}}
    d = mini.decide(rec, "keep", as_of=AS_OF)
    assert [p.code for p in d.problems] == ["PR308"]


def test_a_pack_defined_date_fact_outside_the_range_is_unknown_not_an_overflow(iconfirm: privacy_rules.Policy) -> None:
    base = {"id": "pf-1", "role": "processor", "subject_categories": ["platform_end_user"],
            "relationship": {"cooperation_ended_on": "2026-01-31"}, "systems": ["iconfirm_platform"]}
    for far in ("9999-12-31", "0001-01-01"):
        rec = dict(base, facts={"deletion_instructed_on": far})
        for d in iconfirm.decide_all(rec, as_of=AS_OF):
            assert d.outcome is not Outcome.ALLOW or "deletion_instructed_on" not in str(d.to_json())
        assert list(iconfirm.decide_batch([rec], as_of=AS_OF))[0].problem is None


@pytest.mark.parametrize("as_of", ["0001-01-01", "0001-01-05", "1899-12-31", "2201-01-01", "9999-12-31",
                                   date(1, 1, 1), date(9999, 12, 31)])
def test_as_of_outside_the_range_is_a_value_error_naming_it(as_of: Any, mini: privacy_rules.Policy) -> None:
    for call in (lambda: mini.decide({"id": "x"}, "keep", as_of=as_of),
                 lambda: mini.decide_all({"id": "x"}, as_of=as_of),
                 lambda: mini.decide_batch([{"id": "x"}], as_of=as_of)):
        with pytest.raises(ValueError, match=r"outside the supported range 1900-01-01\.\.2200-12-31"):
            call()


@pytest.mark.parametrize("as_of", [MIN_DAY, MAX_DAY])
def test_as_of_at_the_range_ends_decides_every_question(as_of: date, iconfirm: privacy_rules.Policy) -> None:
    lines = (Path(__file__).resolve().parents[2] / "examples" / "records.jsonl").read_bytes().splitlines()
    rows = list(iconfirm.decide_batch(lines, as_of=as_of))
    # the same record problems as on any day (the examples hold one typo on purpose), no PR316
    assert [r.problem for r in rows] == [r.problem for r in iconfirm.decide_batch(lines, as_of=AS_OF)]


# --- lone surrogates, huge numbers, non-finite numbers in dict records ---------------------------


@pytest.mark.parametrize("rec, code", [
    ({"id": "a\ud800"}, "PR309"),
    ({"id": "x", "consents": [{"purpose": "news\udfff", "given_on": "2020-01-01"}]}, "PR309"),
    ({"id": "x", "systems": ["hub\ud900spot"]}, "PR309"),
    ({"id": "x", "facts": {"k\udc00": 1}}, "PR309"),
    ({"id": "x", "facts": {"k": "v\udc00"}}, "PR309"),
    ({"id": "x", "\ud800": 1}, "PR301"),
    ({"id": "x", "role": "\ud800"}, "PR306"),
    ({"id": "x", "facts": {"k": float("nan")}}, "PR302"),
    ({"id": "x", "facts": {"k": float("inf")}}, "PR302"),
    ({"id": "x", "vouchers": [{"fiscal_year": 10 ** 5000}]}, "PR302"),
    ({"id": "x", "role": 10 ** 5000}, "PR306"),
    ({"id": "x", "relationship": {"first_contact_on": 10 ** 5000}}, "PR303"),
    ({"id": "x", "relationship": {"first_contact_on": "2024-01-01" * 100_000}}, "PR303"),
])
def test_dict_records_with_unwritable_or_unprintable_values(rec: dict[str, Any], code: str,
                                                            mini: privacy_rules.Policy) -> None:
    assert normalize_fast(rec, {}) is None
    d = mini.decide(rec, "keep", as_of=AS_OF)
    # the mini pack declares no facts: a `facts` key is also PR340 (tests/hostile/test_fact_keys.py)
    assert d.outcome is Outcome.UNDETERMINED and [p.code for p in d.problems if p.code != "PR340"] == [code]
    text = json.dumps(d.to_json(), ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogate reaches the output
    assert len(text) < 5_000  # no value is echoed whole
    row = next(mini.decide_batch([rec], ["keep"], as_of=AS_OF))
    json.dumps([row.record_id, row.problem], ensure_ascii=False).encode("utf-8")


# --- decide_batch never raises, whatever it is given ---------------------------------------------


class _Exploding(dict):  # type: ignore[type-arg]
    def get(self, *a: Any) -> Any:
        raise RuntimeError("connection closed")

    def items(self) -> Any:
        raise RuntimeError("connection closed")

    def __iter__(self) -> Any:
        raise RuntimeError("connection closed")


class _BadHash:
    """A key that hashes while the dict is built, then never again."""

    armed = False

    def __hash__(self) -> int:
        if self.armed:
            raise RuntimeError("no hash")
        return 1

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no eq")


def _bad_key_record() -> dict[Any, Any]:
    key = _BadHash()
    rec = {key: 1}
    key.armed = True
    return rec


class _BadStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str")


class _RaisesBadStr(dict):  # type: ignore[type-arg]
    def __iter__(self) -> Any:
        raise _BadStr()


def _cyclic() -> dict[str, Any]:
    rec: dict[str, Any] = {"id": "cyc", "host": {}}
    rec["host"]["self"] = rec
    rec["facts"] = {}
    return rec


def _hostile_objects() -> list[Any]:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    return [None, 5, 2.5, float("nan"), [], (), {}, set(), object(), _Exploding(id="boom"), _RaisesBadStr(),
            {"id": "x", "facts": _Exploding()}, _bad_key_record(), {"id": "x", "host": deep}, _cyclic(),
            "", " ", "\ud800", b"", b"\xff\xfe", bytearray(b'{"id": "ba"}'), "[" * 100_000, "{" * 100_000,
            '{"id": "x", "host": ' + "[" * 100_000 + "}", "1" * 10_000, "NaN", "-Infinity", '"\\ud800"',
            {"id": 10 ** 5000}, {"id": "x" * 1_000_000}]


def test_decide_batch_never_raises_and_gives_one_row_per_record(iconfirm: privacy_rules.Policy) -> None:
    objs = _hostile_objects()
    rows = list(iconfirm.decide_batch(objs, as_of=AS_OF))
    assert [r.index for r in rows] == list(range(len(objs)))
    for r in rows:
        assert all(a.outcome is not Outcome.ALLOW for a in r.answers) or r.record_id in ("cyc", "ba"), r
        json.dumps([r.record_id, r.problem], ensure_ascii=False).encode("utf-8")
        if r.problem:
            assert r.problem[:2] == "PR" and all(a.outcome is Outcome.UNDETERMINED for a in r.answers)


def test_decide_never_raises_on_hostile_objects_either(mini: privacy_rules.Policy) -> None:
    for obj in _hostile_objects():
        d = mini.decide(obj, "keep", as_of=AS_OF)
        if d.problems:
            assert d.outcome is Outcome.UNDETERMINED
        json.dumps(d.to_json(), ensure_ascii=False).encode("utf-8")


def test_a_bug_while_deciding_one_record_is_reported_on_its_row(mini: privacy_rules.Policy,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import privacy_rules.policy as policy_module

    good = {"id": "p-1", "subject_categories": ["prospect"], "relationship": {"first_contact_on": "2021-08-31"}}
    calls = iter([ZeroDivisionError("boom"), None])

    def flaky(*args: Any, **kw: Any) -> Any:
        exc = next(calls, None)
        if exc is not None:
            raise exc
        return real(*args, **kw)

    real = policy_module.keep_until_for
    monkeypatch.setattr(policy_module, "keep_until_for", flaky)
    rows = list(mini.decide_batch([good, dict(good, id="p-2")], ["keep"], as_of=date(2023, 8, 31)))
    assert rows[0].answers[0].outcome is Outcome.UNDETERMINED and rows[0].problem is not None
    assert rows[0].problem.startswith("PR316 internal error deciding this record: ZeroDivisionError: boom")
    assert rows[1].answers[0].outcome is Outcome.ALLOW and rows[1].problem is None


def test_text_records_are_not_modified_and_dicts_still_are_not(mini: privacy_rules.Policy) -> None:
    rec = {"id": "p-1", "subject_categories": ["prospect"], "relationship": {"first_contact_on": "2021-08-31"}}
    before = copy.deepcopy(rec)
    mini.decide_all(rec, as_of=AS_OF)
    assert rec == before
    raw = bytearray(json.dumps(rec).encode())
    mini.decide_all(raw, as_of=AS_OF)
    assert bytes(raw) == json.dumps(rec).encode()


def test_normalize_takes_text_too() -> None:
    assert normalize('{"id": "t"}').id == "t"
    with pytest.raises(RecordInvalid):
        normalize('{"id": "t", "id": "u"}')


def test_the_record_schema_states_the_same_range() -> None:
    from privacy_rules.validate.schema import validate_instance

    for day, ok in (("1899-12-31", False), ("1900-01-01", True), ("2200-12-31", True), ("2201-01-01", False),
                    ("9999-12-31", False), ("0001-01-01", False)):
        rec = {"id": "s", "relationship": {"first_contact_on": day}}
        assert (validate_instance(rec, "record.schema.json") == []) == ok, day
