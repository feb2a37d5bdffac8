"""normalize_fast accepts exactly the clean records and builds the same Facts as normalize."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from privacy_rules.records import RecordInvalid, normalize, normalize_fast

from .strategies import records

SUBJECTS = ["prospect", "customer", "partner"]
BAD_VALUES = st.sampled_from(["2023-02-30", "2024-1-5", "2024-01-01T00:00", 5, True, None, [], {}, "x", 2024.0,
                              # issue 7: the supported date range, its ends, and values no output can carry
                              "9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01", "1900-01-01", "2200-12-31",
                              "a\ud800", ["x\udc00"], 10 ** 5000, float("nan"), float("inf"),
                              # issue 8: undated dates, clean and malformed (PR330-PR332)
                              {"on_or_before": "2024-02-29"}, {"on_or_before": "1900-01-01"},
                              {"on_or_before": "2024-02-30"}, {"on_or_before": "9999-12-31"},
                              {"on_or_before": "2024-02-29", "x": 1}, {"on_or_befor": "2024-02-29"},
                              {"on_or_before": None}, {"on_or_before": 20240229}, {"on_or_before": ["2024-02-29"]}])
# strings that are fine (paired surrogates, non-ASCII) and strings that are not (lone surrogates)
TEXTS = st.sampled_from(["newsletter", "nyhetsbrev-\u00e6\u00f8\u00e5", "\U0001F600", "\ud800", "x\udfff", "\udbff\udc00"])
KEYS = st.sampled_from(["id", "role", "consents", "relationship", "consent", "facts", "host", "vouchers",
                        "subject_categories", "objections", "source", "art14_informed_on", "systems"])


def _same(record) -> None:
    fast = normalize_fast(copy.deepcopy(record), {})
    try:
        slow = normalize(record)
    except RecordInvalid:
        assert fast is None
        return
    if fast is not None:
        for attr in fast.__slots__:
            assert getattr(fast, attr) == getattr(slow, attr), attr


@settings(max_examples=500, deadline=None)
@given(records(SUBJECTS, ["newsletter", "crm"], ["hubspot"]))
def test_fast_path_equals_plain_on_valid_records(record):
    assert normalize_fast(record, {}) is not None
    _same(record)


@settings(max_examples=500, deadline=None)
@given(records(SUBJECTS, ["newsletter", "crm"], ["hubspot"]), KEYS, BAD_VALUES, st.booleans())
def test_fast_path_never_accepts_what_plain_rejects(record, key, value, nested):
    broken = copy.deepcopy(record)
    if nested and isinstance(broken.get("relationship"), dict):
        broken["relationship"]["first_contact_on"] = value
    elif nested and broken.get("consents"):
        broken["consents"][0]["given_on"] = value
    else:
        broken[key] = value
    _same(broken)


@settings(max_examples=300, deadline=None)
@given(records(SUBJECTS, ["newsletter", "crm"], ["hubspot"]), TEXTS, st.sampled_from(
    ["id", "purpose", "recipient", "systems", "data_categories", "fact key", "fact value", "host key"]))
def test_fast_path_and_plain_agree_on_every_string(record, text, where):
    broken = copy.deepcopy(record)
    if where == "id":
        broken["id"] = text
    elif where in ("purpose", "recipient"):
        broken["consents"] = [{"purpose": "newsletter", "given_on": "2020-01-01", where: text}]
    elif where in ("systems", "data_categories"):
        broken[where] = ["a", text]
    elif where == "fact key":
        broken["facts"] = {text: 1}
    elif where == "fact value":
        broken["facts"] = {"k": text}
    else:
        broken["host"] = {text: 1}  # host is never read: no problem, whatever it holds
    _same(broken)


@settings(max_examples=300, deadline=None)
@given(records(SUBJECTS, ["newsletter", "crm"], ["hubspot"]), st.data())
def test_fast_path_equals_plain_with_undated_dates(record, data):
    # issue 8: any date may be {"on_or_before": DAY}; both paths build the same Facts
    undated = copy.deepcopy(record)
    slots = [(undated, "art14_informed_on")] if undated.get("art14_informed_on") else []
    slots += [(undated["relationship"], k) for k, v in (undated.get("relationship") or {}).items() if v]
    slots += [(e, k) for v in undated.values() if isinstance(v, list) for e in v if isinstance(e, dict)
              for k, x in e.items() if k.endswith(("_on", "_end")) and x]
    for container, key in slots:
        if data.draw(st.booleans()):
            container[key] = {"on_or_before": container[key]}
    fast = normalize_fast(copy.deepcopy(undated), {})
    assert fast is not None
    assert len(fast.undated) == sum(isinstance(c[k], dict) for c, k in slots)
    _same(undated)
