"""Unit tests for privacy_rules.dates (norms.md N42, R2 and the §7 worked examples)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pendulum
import pytest

from privacy_rules.dates import (
    add_months,
    add_months_plain,
    cutoff,
    iso_cutoff,
    parse_date,
    window_end,
)

ONE_DAY = timedelta(days=1)

# norms.md §7: (anchor, months, last allowed day inclusive). Years are 12 months; vouchers are
# end of financial year (calendar year) + 5 years.
SECTION_7 = [
    pytest.param(date(2021, 8, 31), 24, date(2023, 8, 31), id="prospect-2021-08-31"),
    pytest.param(date(2020, 2, 29), 24, date(2022, 2, 28), id="prospect-2020-02-29"),
    pytest.param(date(2024, 2, 29), 24, date(2026, 2, 28), id="prospect-2024-02-29-saturday"),
    pytest.param(date(2022, 2, 28), 24, date(2024, 2, 28), id="prospect-2022-02-28-not-29th"),
    pytest.param(date(2023, 3, 1), 24, date(2025, 3, 1), id="prospect-2023-03-01-not-730-days"),
    pytest.param(date(2022, 9, 14), 24, date(2024, 9, 14), id="prospect-2022-09-14-saturday"),
    pytest.param(date(2019, 8, 31), 36, date(2022, 8, 31), id="tail-2019-08-31"),
    pytest.param(date(2020, 2, 29), 36, date(2023, 2, 28), id="tail-2020-02-29"),
    pytest.param(date(2021, 2, 28), 36, date(2024, 2, 28), id="tail-2021-02-28"),
    pytest.param(date(2021, 4, 30), 36, date(2024, 4, 30), id="tail-effective-end-2021-04-30"),
    pytest.param(date(2022, 12, 31), 60, date(2027, 12, 31), id="voucher-fy-2022"),
    pytest.param(date(2019, 12, 31), 60, date(2024, 12, 31), id="voucher-fy-2019"),
    pytest.param(date(2024, 1, 31), 1, date(2024, 2, 29), id="rights-2024-01-31"),
    pytest.param(date(2023, 1, 31), 1, date(2023, 2, 28), id="rights-2023-01-31"),
]


def _open_on(anchor: date, months: int, day: date) -> bool:
    """Plain R2 reading: open through window_end inclusive."""
    return day <= window_end(anchor, months)


@pytest.mark.parametrize(("anchor", "months", "last_day"), SECTION_7)
def test_section_7_window_end(anchor: date, months: int, last_day: date) -> None:
    assert window_end(anchor, months) == last_day
    assert add_months(anchor, months) == last_day
    assert add_months_plain(anchor, months) == last_day


@pytest.mark.parametrize(("anchor", "months", "last_day"), SECTION_7)
def test_section_7_inclusive_end(anchor: date, months: int, last_day: date) -> None:
    assert _open_on(anchor, months, last_day - ONE_DAY)
    assert _open_on(anchor, months, last_day)
    assert not _open_on(anchor, months, last_day + ONE_DAY)


@pytest.mark.parametrize(("anchor", "months", "last_day"), SECTION_7)
def test_section_7_via_cutoff(anchor: date, months: int, last_day: date) -> None:
    assert anchor >= cutoff(last_day - ONE_DAY, months)
    assert anchor >= cutoff(last_day, months)
    assert not anchor >= cutoff(last_day + ONE_DAY, months)
    # The ISO-string form orders the same way.
    iso = anchor.isoformat()
    assert iso >= iso_cutoff(last_day, months)
    assert not iso >= iso_cutoff(last_day + ONE_DAY, months)


def test_no_weekend_extension() -> None:
    # 2022-09-14 + 24 months = 2024-09-14, a Saturday; Monday 2024-09-16 is a deny.
    end = window_end(date(2022, 9, 14), 24)
    assert end.weekday() == 5
    assert not _open_on(date(2022, 9, 14), 24, date(2024, 9, 16))


def test_calendar_months_not_day_count() -> None:
    assert add_months(date(2023, 3, 1), 24) == date(2025, 3, 1)
    assert date(2023, 3, 1) + timedelta(days=730) == date(2025, 2, 28)


def test_add_months_negative_and_year_crossing() -> None:
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2024, 1, 15), -1) == date(2023, 12, 15)
    assert add_months(date(2023, 12, 31), 2) == date(2024, 2, 29)
    assert add_months(date(2100, 1, 29), 1) == date(2100, 2, 28)  # 2100 is not a leap year
    assert add_months(date(2000, 1, 29), 1) == date(2000, 2, 29)  # 2000 is
    assert add_months(date(2024, 5, 17), 0) == date(2024, 5, 17)


def test_add_months_returns_plain_date() -> None:
    assert type(add_months(date(2024, 1, 31), 1)) is date
    assert type(add_months_plain(date(2024, 1, 31), 1)) is date


def test_cutoff_trap_2024_02_29() -> None:
    as_of = date(2024, 2, 29)
    naive = add_months(as_of, -24)
    assert naive == date(2022, 2, 28)
    assert window_end(naive, 24) == date(2024, 2, 28) < as_of  # naive cut-off would keep it
    assert cutoff(as_of, 24) == date(2022, 3, 1)
    assert iso_cutoff(as_of, 24) == "2022-03-01"
    assert window_end(date(2022, 3, 1), 24) >= as_of


def test_cutoff_one_month_at_month_end() -> None:
    # Anchors 2024-02-29 .. end up on 2024-03-29, so on 03-30 and 03-31 the first open anchor
    # is 2024-03-01 (+1 month = 2024-04-01).
    assert cutoff(date(2024, 3, 29), 1) == date(2024, 2, 29)
    assert cutoff(date(2024, 3, 30), 1) == date(2024, 3, 1)
    assert cutoff(date(2024, 3, 31), 1) == date(2024, 3, 1)


# --------------------------------------------------------------------------------------------
# parse_date
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-05", date(2024, 1, 5)),
        ("2024-02-29", date(2024, 2, 29)),
        ("2000-02-29", date(2000, 2, 29)),
        ("1999-12-31", date(1999, 12, 31)),
        ("0001-01-01", date(1, 1, 1)),
        ("9999-12-31", date(9999, 12, 31)),
    ],
)
def test_parse_date_good_strings(text: str, expected: date) -> None:
    result = parse_date(text)
    assert result == expected
    assert type(result) is date


def test_parse_date_accepts_date_objects() -> None:
    d = date(2024, 2, 29)
    assert parse_date(d) is d
    converted = parse_date(pendulum.Date(2024, 2, 29))
    assert converted == d
    assert type(converted) is date


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2023-02-29", "is not a real date"),
        ("2023-02-30", "is not a real date"),
        ("2024-13-01", "is not a real date"),
        ("2024-04-31", "is not a real date"),
        ("0000-01-01", "is not a real date"),
        ("2024-01-01T10:00", "is a date and time"),
        ("2024-01-01T10:00:00+02:00", "is a date and time"),
        ("2024-01-01T10:00Z", "is a date and time"),
        ("2024-01-01 10:00", "is a date and time"),
        ("2024-1-5", "is not a date in the form"),
        ("20240105", "is not a date in the form"),
        ("2024-W01-1", "is not a date in the form"),
        ("2024/01/05", "is not a date in the form"),
        ("05.01.2024", "is not a date in the form"),
        (" 2024-01-05", "is not a date in the form"),
        ("2024-01-05 ", "is not a date in the form"),
        ("2024-01-0a", "is not a date in the form"),
        ("2024-01-\u0661\u0662", "is not a date in the form"),  # Arabic-Indic digits
        ("", "is not a date in the form"),
    ],
)
def test_parse_date_bad_strings(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_date(text)
    message = str(excinfo.value)
    assert f"`{text}`" in message
    assert fragment in message
    assert "YYYY-MM-DD" in message
    assert message[0] == "`"
    rest = message.replace(f"`{text}`", "").replace("YYYY-MM-DD", "")
    assert rest == rest.lower()


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 1, 1, 10, 0),
        datetime(2024, 1, 1),
        datetime(2024, 1, 1, 10, 0, tzinfo=timezone.utc),
        pendulum.datetime(2024, 1, 1, 10, 0, tz="Europe/Oslo"),
    ],
)
def test_parse_date_rejects_datetime_objects(value: datetime) -> None:
    with pytest.raises(ValueError, match="is a date and time") as excinfo:
        parse_date(value)
    message = str(excinfo.value)
    assert value.isoformat() in message
    assert "YYYY-MM-DD" in message


@pytest.mark.parametrize("value", [True, False, 20240105, 2024.0, None, b"2024-01-05", [2024, 1, 5]])
def test_parse_date_rejects_non_strings(value: object) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_date(value)
    message = str(excinfo.value)
    assert f"`{value!r}`" in message
    assert "YYYY-MM-DD" in message
    assert "is not a date" in message
