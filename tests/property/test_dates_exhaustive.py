"""Fast date paths checked against the plain N42/R2 definition (pendulum).

DESIGN.md "Time": test every fast path against the plain definition over every day of several
years, 29 February included.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy_rules.dates import (
    add_months,
    add_months_plain,
    cutoff,
    iso_cutoff,
    parse_date,
    window_end,
)

ONE_DAY = timedelta(days=1)
FIRST = date(2010, 1, 1)
LAST = date(2032, 12, 31)
ALL_DAYS = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]

ADD_MONTHS_WINDOWS = (1, 12, 24, 36, 60, -1)
CUTOFF_WINDOWS = (1, 12, 24, 36)
ANCHOR_SPREAD = 40  # days either side of as_of - N months


def test_range_includes_every_29_february() -> None:
    leap_days = [d for d in ALL_DAYS if d.month == 2 and d.day == 29]
    assert [d.year for d in leap_days] == [2012, 2016, 2020, 2024, 2028, 2032]


@pytest.mark.parametrize("months", ADD_MONTHS_WINDOWS)
def test_add_months_equals_plain_every_day(months: int) -> None:
    mismatches = [
        (d, add_months(d, months), add_months_plain(d, months))
        for d in ALL_DAYS
        if add_months(d, months) != add_months_plain(d, months)
    ]
    assert mismatches == []


@cache
def _plain_end(anchor: date, months: int) -> date:
    return add_months_plain(anchor, months)


@pytest.mark.parametrize("months", CUTOFF_WINDOWS)
def test_cutoff_equivalence_every_day(months: int) -> None:
    """(anchor + N months >= as_of)  <=>  (anchor >= cutoff(as_of, N)), plain definition."""
    mismatches = []
    for as_of in ALL_DAYS:
        cut = cutoff(as_of, months)
        iso_cut = iso_cutoff(as_of, months)
        assert iso_cut == cut.isoformat()
        centre = add_months_plain(as_of, -months)
        for offset in range(-ANCHOR_SPREAD, ANCHOR_SPREAD + 1):
            anchor = centre + timedelta(days=offset)
            open_plain = _plain_end(anchor, months) >= as_of
            if open_plain != (anchor >= cut) or open_plain != (anchor.isoformat() >= iso_cut):
                mismatches.append((as_of, months, anchor, cut))
        # cutoff is the *smallest* open anchor.
        assert _plain_end(cut, months) >= as_of
        assert _plain_end(cut - ONE_DAY, months) < as_of
        assert window_end(cut, months) >= as_of
    assert mismatches == []


def test_naive_cutoff_is_wrong_on_29_february() -> None:
    """Document the trap: as_of - N months is not the cut-off at month ends."""
    as_of = date(2024, 2, 29)
    naive = add_months_plain(as_of, -24)
    assert naive == date(2022, 2, 28)
    # The naive cut-off says anchor 2022-02-28 (= naive) is still open on 2024-02-29, but under
    # R2 its window ended the day before.
    assert add_months_plain(naive, 24) == date(2024, 2, 28) < as_of
    assert cutoff(as_of, 24) == date(2022, 3, 1)


def test_where_the_naive_cutoff_is_wrong() -> None:
    """Every as_of day in 2010-2032 on which ``as_of - N months`` is not the true cut-off.

    The naive cut-off is never too late (it only ever keeps too much), it is wrong by exactly
    one day each time, and for N = 1 it is wrong on six or seven days a year: 29/30/31 March
    (depending on leap years), 31 May, 31 July, 31 October and 31 December. For N = 12, 24 and
    36 it is wrong only on 29 February.
    """
    for months in CUTOFF_WINDOWS:
        wrong = []
        for as_of in ALL_DAYS:
            naive = add_months_plain(as_of, -months)
            true = cutoff(as_of, months)
            assert naive <= true <= naive + ONE_DAY
            if naive != true:
                wrong.append(as_of)
        if months == 1:
            in_2023 = [d.isoformat() for d in wrong if d.year == 2023]
            in_2024 = [d.isoformat() for d in wrong if d.year == 2024]
            assert in_2023 == [
                "2023-03-29", "2023-03-30", "2023-03-31",
                "2023-05-31", "2023-07-31", "2023-10-31", "2023-12-31",
            ]  # fmt: skip
            assert in_2024 == [
                "2024-03-30", "2024-03-31",
                "2024-05-31", "2024-07-31", "2024-10-31", "2024-12-31",
            ]  # fmt: skip
        else:
            assert {(d.month, d.day) for d in wrong} == {(2, 29)}
            assert [d.year for d in wrong] == [2012, 2016, 2020, 2024, 2028, 2032]


@settings(max_examples=2000, deadline=None, database=None)
@given(
    d=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    months=st.integers(min_value=-1200, max_value=1200),
)
def test_add_months_equals_plain_random(d: date, months: int) -> None:
    assert add_months(d, months) == add_months_plain(d, months)


@settings(max_examples=500, deadline=None, database=None)
@given(
    as_of=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    months=st.integers(min_value=0, max_value=1200),
    offset=st.integers(min_value=-40, max_value=40),
)
def test_cutoff_equivalence_random(as_of: date, months: int, offset: int) -> None:
    anchor = add_months_plain(as_of, -months) + timedelta(days=offset)
    assert (add_months_plain(anchor, months) >= as_of) == (anchor >= cutoff(as_of, months))


@settings(max_examples=400, deadline=None, database=None)
@given(
    st.one_of(
        st.text(alphabet="0123456789-WT:+ /.", min_size=0, max_size=16),
        # Right shape, any characters (incl. non-ASCII digits) in the digit positions.
        st.from_regex(r"\A[\s\S]{4}-[\s\S]{2}-[\s\S]{2}\Z"),
        st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"),
    )
)
def test_parse_date_accepts_only_canonical_strings(text: str) -> None:
    """Anything parse_date accepts is exactly the ISO form of the date it returns."""
    try:
        result = parse_date(text)
    except ValueError as exc:
        assert "YYYY-MM-DD" in str(exc)
        assert f"`{text}`" in str(exc)
    else:
        assert result.isoformat() == text


@settings(max_examples=500, deadline=None, database=None)
@given(st.dates())
def test_parse_date_round_trips_every_date(d: date) -> None:
    assert parse_date(d.isoformat()) == d
    assert parse_date(d) == d
