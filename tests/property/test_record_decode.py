"""_record_decode.decode_facts (records given as JSON text, checked by msgspec while decoded)
accepts only what the plain checker accepts, and builds the same Facts (issue 12, item 2).

The plain checker here is what Policy.facts did for text before the fast path: parse_record
(duplicate keys, lone surrogates, NaN, huge numbers, nesting), normalize_fast, normalize and
id_problems. decode_facts may refuse more (the plain path then decides and names the problem);
it must never accept a record the plain path refuses, nor build other Facts.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from privacy_rules._record_decode import decode_facts
from privacy_rules.records import (Facts, RecordIds, RecordInvalid, id_problems, normalize, normalize_fast,
                                   parse_record)

from privacy_rules.declared import declared_facts

from .strategies import BAD_DATES, EDGE_DATES, _paths, declaring_fact_names, mutated_records, records

SUBJECTS = ["prospect", "customer", "partner", "newsletter_subscriber"]
PURPOSES = ["newsletter", "relationship_management"]
RECIPIENTS = ["hubspot"]


@pytest.fixture(scope="module")
def ids(iconfirm: Any) -> RecordIds:
    # the Iconfirm pack's ids, with the generated records' fact names declared (else they are PR340)
    pack = declaring_fact_names(iconfirm.pack)
    return RecordIds(pack.vocabulary, declared_facts(pack))


def plain(text: str | bytes, ids: RecordIds) -> Facts | None:
    """The checker without the msgspec path: Facts, or None where it names a problem."""
    try:
        record = parse_record(text)
        facts = normalize_fast(record, {}, ids)
        if facts is None:
            facts = normalize(record, ids)
            if id_problems(facts, ids):
                return None
        return facts
    except RecordInvalid:
        return None
    except Exception:  # noqa: BLE001 - a record the plain path calls unreadable
        return None


def check(text: str | bytes, ids: RecordIds) -> bool:
    """decode_facts agrees with the plain checker on ``text``; True when it accepted it."""
    fast = decode_facts(text, {}, ids)
    if fast is None:
        return False
    slow = plain(text, ids)
    assert slow is not None, f"fast path accepted a record the checker refuses: {text[:300]!r}"
    for attr in Facts.__slots__:
        got, want = getattr(fast, attr), getattr(slow, attr)
        if attr == "undated":
            got, want = dict(got), dict(want)
        assert got == want, (attr, got, want)
        if attr == "s":  # equal values of equal types: True == 1 == 1.0 must not hide a changed type
            assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in want.items()}
    return True


def dumps(value: Any, dup: int | None = None, colon: str = ": ", comma: str = ", ") -> str:
    """JSON text of ``value``; the dict whose id() is ``dup`` names its first key twice."""
    if isinstance(value, dict):
        parts = [json.dumps(k) + colon + dumps(v, dup, colon, comma) for k, v in value.items()]
        if id(value) == dup and value:
            k, v = next(iter(value.items()))
            parts.append(json.dumps(k) + colon + dumps(v, dup, colon, comma))
        return "{" + comma.join(parts) + "}"
    if isinstance(value, list):
        return "[" + comma.join(dumps(v, dup, colon, comma) for v in value) + "]"
    return json.dumps(value)


def base() -> st.SearchStrategy[dict]:
    return records(SUBJECTS, PURPOSES, RECIPIENTS)


@settings(max_examples=400, deadline=None)
@given(base(), st.sampled_from([(": ", ", "), (":", ","), (": ", ",\n ")]), st.booleans())
def test_valid_records_are_accepted_with_equal_facts(ids, record, seps, as_bytes):
    text = dumps(record, colon=seps[0], comma=seps[1])
    # every record the checker accepts takes the fast path (the generator writes no undated dates)
    assert check(text.encode() if as_bytes else text, ids) == (plain(text, ids) is not None)


@settings(max_examples=400, deadline=None)
@given(base(), st.data())
def test_a_key_named_twice_is_never_accepted(ids, record, data):
    dicts = [p for p in _paths(record) if isinstance(_get(record, p), dict) and _get(record, p)]
    target = _get(record, data.draw(st.sampled_from(dicts)))
    text = dumps(record, dup=id(target), colon=data.draw(st.sampled_from([": ", ":", " : ", "\t:"])))
    assert decode_facts(text, {}, ids) is None
    assert plain(text, ids) is None  # PR307: the plain path names it


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_records(base()), st.booleans())
def test_hostile_records_agree(ids, mutated, ensure_ascii):
    try:
        text = json.dumps(mutated.value, ensure_ascii=ensure_ascii)
    except (RecursionError, ValueError):  # nested deeper than json.dumps goes, or a huge int
        assume(False)
        return
    check(text, ids)
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        return
    check(raw, ids)


BAD_TEXT_VALUES = BAD_DATES + EDGE_DATES + [
    "2024-01-01T00:00", "2024-01-01T00:00:00Z", "2023-02-29", "2024-02-30", "2024-1-5", " 2024-01-05",
    "2024-01-05 ", "\uff12024-01-05", "1899-12-31", "2201-01-01", 20240105, 2024, 2024.0, True, None, [], {},
    {"on_or_before": "2024-02-29"}, {"on_or_before": "2024-02-30"}, "Controller", "consent", "x" * 201, "",
    10**19, -(2**63) - 1, 1e308, "\u00e6\u00f8\u00e5", "\U0001F600"]


@settings(max_examples=600, deadline=None)
@given(base(), st.sampled_from(BAD_TEXT_VALUES), st.data())
def test_odd_values_anywhere_agree(ids, record, value, data):
    record = copy.deepcopy(record)
    paths = [p for p in _paths(record) if p]
    if paths and data.draw(st.booleans()):
        path = data.draw(st.sampled_from(paths))
        parent = _get(record, path[:-1])
        parent[path[-1]] = value  # type: ignore[index]
    else:
        record[data.draw(st.sampled_from(["id", "role", "source", "art14_informed_on", "relationship", "consent",
                                          "facts", "host", "systems", "vouchers", "subject_categories"]))] = value
    for ensure_ascii in (True, False):
        check(json.dumps(record, ensure_ascii=ensure_ascii), ids)


def _get(root: Any, path: tuple) -> Any:
    for key in path:
        root = root[key]
    return root


@pytest.mark.parametrize("text", [
    b'\xef\xbb\xbf{"id": "a"}',  # a BOM: parse_record skips it, msgspec refuses: the plain path decides
    '{"id": "a"}\r\n', '  {"id": "a"}  \n', '{"id": "a"} {"id": "b"}', '{"id": "a", "host": {"x": NaN}}',
    '{"id": "a", "host": {"x": Infinity}}', '{"id": "a", "host": {"x": 1e400}}',
    '{"id": "a", "host": {"x": ' + "9" * 5000 + "}}", '{"id": "a", "host": {"x": ' + "9" * 30 + "}}",
    '{"id": "a\\ud800"}', '{"id": "\\u0061"}', '{"id": "a", "host": {"k\\u0022:": 1, "k": 2, "k": 3}}',
    '{"id": "a", "host": {"q": "\\":", "k": 1, "k": 2}}', '{"id": "a", "host": {"q": "\\":"}}',
    b'{"id": "a", "host": {"x": "\xed\xa0\x80"}}', b'{"id": "a", "host": {"x": "\xff"}}',
    '{"id": "a", "host": ' + "[" * 1100 + "]" * 1100 + "}", '{"id": "a", "host": ' + "[" * 300 + "]" * 300 + "}",
    '{"id": "a", "relationship": null}', '{"id": "a", "role": null, "source": null}', '{"id": null}', '{}', '[]',
    '"{\\"id\\": \\"a\\"}"', '{"id": "a", "vouchers": [{"fiscal_year": 2024}]}',
    '{"id": "a", "vouchers": [{"fiscal_year": true}]}', '{"id": "a", "vouchers": [{"fiscal_year": 2024.0}]}',
    '{"id": "a", "disclosure_orders": [{"recipient": "hubspot", "received_on": "2024-01-01", "binding": 1}]}',
    '{"id": "a", "subject_categories": ["prospect", "prospect"]}', '{"id": "a", "subject_categories": ["Prospect"]}',
    '{"id": "a", "facts": {"nope": 1}}', '{"id": "a", "host": null}', '{"id": "a", "host": []}',
    '{"id": "a", "systems": [""]}', '{"id": "a", "systems": ["crm"]}', '{"id": "a", "data_categories": ["x"]}',
    '{"id": "a", "consents": [{"purpose": "newsletter", "given_on": "2024-02-29", "recipient": null}]}',
    '{"id": "a", "consents": [{"purpose": "newsletter", "given_on": "2023-02-29"}]}',
    '{"id": "a", "legal_holds": [{"placed_on": "2024-01-01", "scopes": ["relationship_record"]}]}',
    '{"id": "a", "legal_holds": [{"placed_on": "2024-01-01", "scopes": ["Nope"]}]}',
])
def test_hostile_texts_agree(ids, text):
    check(text, ids)


def test_most_bench_shaped_records_take_the_fast_path(ids):
    # not a timing: the path must actually be used for ordinary records, or it is dead weight
    record = {"id": "r-1", "role": "controller", "subject_categories": ["customer"],
              "relationship": {"customer_since": "2020-02-29", "customer_ended_on": None},
              "consents": [{"purpose": "newsletter", "given_on": "2024-02-29", "mechanism": "double_opt_in"}],
              "host": {"name": "\u00c5se", "tags": [1, 2.5, None, {"a": "b"}]}}
    assert check(json.dumps(record, ensure_ascii=False), ids)
    assert check(json.dumps(record, ensure_ascii=False).encode() + b"\n", ids)
