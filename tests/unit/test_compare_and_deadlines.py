"""`compare` (two days of the record) and request deadlines (`pick`, `extension`): the plain
definitions (runtime, decide.respond_by) and the checks that refuse what they cannot read."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from privacy_rules.compile import runtime as rt
from privacy_rules.decide import respond_by
from privacy_rules.model import Window
from privacy_rules.records import OnOrBefore, normalize


@pytest.mark.parametrize("left, op, right, if_absent, expected", [
    ("2024-02-28", "before", "2024-02-29", None, True),
    ("2024-02-29", "before", "2024-02-29", None, False),
    ("2024-02-29", "on_or_before", "2024-02-29", None, True),
    ("2024-03-01", "on_or_before", "2024-02-29", None, False),
    ("2024-03-01", "after", "2024-02-29", None, True),
    ("2024-02-29", "on_or_after", "2024-02-29", None, True),
    (None, "on_or_before", "2024-02-29", None, None),      # absent: unknown (a missing fact)
    (None, "on_or_before", "2024-02-29", True, True),      # R8: absent counts as started
    ("2024-02-29", "after", None, False, False),
    (False, "after", "2024-02-29", True, None),             # unusable (undated): unknown, never if_absent
])
def test_compare_is_three_valued(left, op, right, if_absent, expected) -> None:  # type: ignore[no-untyped-def]
    assert rt.compare(left, right, op, if_absent) is expected


def test_window_end_operand_clamps_and_needs_a_past_anchor() -> None:
    assert rt.wend("2020-02-29", "2024-01-01", 24) == "2022-02-28"  # N42/R2: clamped
    assert rt.wend("2024-03-01", "2024-02-29", 24) is None  # not yet happened: no end
    assert rt.wend(None, "2024-02-29", 24) is None
    assert rt.wend(OnOrBefore("2024-01-01"), "2024-02-29", 24) is False
    assert rt.cday(OnOrBefore("2024-01-01")) is False


WINDOW = Window(id="w", anchor="rights_requests[].received_on", months=1, pick="earliest_unanswered",
                extension_months=2)


def _facts(*requests: dict) -> object:
    return normalize({"id": "r", "rights_requests": [{"kind": "access", **r} for r in requests]})


@pytest.mark.parametrize("told, as_of, due, late", [
    (None, "2024-02-20", date(2024, 2, 10), False),
    ("2024-02-09", "2024-02-20", date(2024, 4, 10), False),   # the day before the first month ends
    ("2024-02-10", "2024-02-20", date(2024, 4, 10), False),   # on the last day
    ("2024-02-11", "2024-02-20", date(2024, 2, 10), True),    # the day after: not extended, said why
    ("2024-02-15", "2024-02-12", date(2024, 2, 10), False),   # not told yet on as_of
])
def test_extension_counts_only_within_the_first_month(told, as_of, due, late) -> None:  # type: ignore[no-untyped-def]
    req = {"received_on": "2024-01-10"} | ({"extended_on": told} if told else {})
    end, notes = respond_by(WINDOW, _facts(req), as_of)
    assert end == due and bool(notes) is late


def test_earliest_open_request_is_due_and_answered_ones_do_not_count() -> None:
    facts = _facts({"received_on": "2024-01-31"}, {"received_on": "2024-01-10", "answered_on": "2024-01-20"},
                   {"received_on": "2024-01-20", "extended_on": "2024-01-25"})
    assert respond_by(WINDOW, facts, "2024-02-01")[0] == date(2024, 2, 29)  # 31 Jan + 1 month, clamped
    assert respond_by(WINDOW, facts, "2024-01-09")[0] is False  # nothing received yet
    extended_only = _facts({"received_on": "2023-11-30", "extended_on": "2023-12-30"})
    assert respond_by(WINDOW, extended_only, "2024-02-01")[0] == date(2024, 2, 29)  # 30 Nov + 3 months


def test_pick_and_compare_are_checked(mini_pack) -> None:  # type: ignore[no-untyped-def]
    from privacy_rules.validate.semantic import _check_compare, check_request_windows

    windows = dict(mini_pack.vocabulary.windows)
    windows["bad"] = dataclasses.replace(WINDOW, id="bad", anchor="relationship.first_contact_on")
    v = dataclasses.replace(mini_pack.vocabulary, windows=windows)
    pack = dataclasses.replace(mini_pack, vocabulary=v)

    class _Head:
        data: dict = {}

        def span_for(self, path):  # type: ignore[no-untyped-def]
            return None

    assert [d.code for d in check_request_windows(pack, _Head())] == ["PR241"]
    rule = pack.rules[0]
    arg = {"left": "relationship.first_contact_on", "op": "after", "right": ("window_end", "bad"), "if_absent": None}
    assert [d.code for d in _check_compare(rule, arg, v)] == ["PR243"]
    arg = {"left": "source", "op": "after", "right": "as_of", "if_absent": None}
    assert [d.code for d in _check_compare(rule, arg, v)] == ["PR243"]
