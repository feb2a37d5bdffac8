"""Conversions of host values (privacy_rules.mapping.convert), boundary case by boundary case.

A date-time's day depends on the zone: 2024-02-29T23:30:00Z is 2024-03-01 in Europe/Oslo. DST
days, 29 February, epoch milliseconds of negative and huge values, yes/no words and dash spellings
are each pinned here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from privacy_rules.mapping.convert import (
    Format,
    Unusable,
    is_empty,
    match_key,
    to_bool,
    to_day,
    to_int,
    to_text,
    zone_named,
)

OSLO = ZoneInfo("Europe/Oslo")
UTC = ZoneInfo("UTC")
ISO = Format(type="datetime", naive_zone="reject")
ISO_MS = Format(type="datetime", naive_zone="reject", epoch_ms=True)
DAY = Format(type="date")
DAY_MS = Format(type="date", epoch_ms=True)
BOOL = Format(type="bool")


def day_of(value: object, fmt: Format = ISO, zone: ZoneInfo = OSLO) -> date:
    return to_day(value, fmt, zone)


# --- date-times: the day in the pack's zone ---------------------------------------------------


@pytest.mark.parametrize(("text", "oslo_day"), [
    ("2024-02-29T23:30:00Z", "2024-03-01"),        # the example: Oslo is UTC+1 in winter
    ("2024-02-29T22:59:59Z", "2024-02-29"),        # one second before Oslo's midnight
    ("2024-02-29T23:00:00Z", "2024-03-01"),        # Oslo's midnight exactly
    ("2024-02-29T23:30:00.000Z", "2024-03-01"),    # HubSpot's form
    ("2024-02-29T23:30:00.000+0000", "2024-03-01"),  # Salesforce's form (offset without colon)
    ("2024-02-29T23:30:00.123456789Z", "2024-03-01"),  # nanoseconds are cut, not refused
    ("2024-03-01T00:30:00+01:00", "2024-03-01"),
    ("2024-02-29T18:00:00-08:00", "2024-03-01"),   # Pacific evening = Oslo's next morning
    ("2024-06-30T21:59:59Z", "2024-06-30"),        # summer: Oslo is UTC+2
    ("2024-06-30T22:00:00Z", "2024-07-01"),
    ("2023-12-31T23:00:00Z", "2024-01-01"),        # the year changes too
    ("2024-02-29 12:00:00Z", "2024-02-29"),        # a space for the T
])
def test_aware_date_times_fall_on_the_day_in_the_pack_zone(text: str, oslo_day: str) -> None:
    assert day_of(text).isoformat() == oslo_day


def test_the_same_instant_is_another_day_in_another_zone() -> None:
    assert day_of("2024-02-29T23:30:00Z", zone=UTC) == date(2024, 2, 29)
    assert day_of("2024-02-29T23:30:00Z", zone=ZoneInfo("Asia/Tokyo")) == date(2024, 3, 1)
    assert day_of("2024-03-01T05:00:00Z", zone=ZoneInfo("America/Los_Angeles")) == date(2024, 2, 29)


def test_naive_date_times_need_their_zone() -> None:
    with pytest.raises(Unusable, match="without a time zone offset"):
        day_of("2024-02-29T23:30:00")
    pack = Format(type="datetime", naive_zone="pack", layouts=("%Y-%m-%d %H:%M",))
    assert day_of("2024-02-29 23:30", pack) == date(2024, 2, 29)  # written in Oslo: the day as written
    in_utc = Format(type="datetime", naive_zone="UTC", layouts=("%Y-%m-%d %H:%M",))
    assert day_of("2024-02-29 23:30", in_utc) == date(2024, 3, 1)  # written in UTC: Oslo's next day
    assert day_of("2024-02-29 22:59", in_utc) == date(2024, 2, 29)


def test_a_datetime_format_reads_plain_dates_as_their_own_day() -> None:
    assert day_of("2024-02-29") == date(2024, 2, 29)
    assert day_of(date(2024, 2, 29)) == date(2024, 2, 29)
    date_layout = Format(type="datetime", naive_zone="reject", layouts=("%d.%m.%Y",))
    assert day_of("29.02.2024", date_layout) == date(2024, 2, 29)


def test_datetime_objects_from_databases() -> None:
    assert day_of(datetime(2024, 2, 29, 23, 30, tzinfo=timezone.utc)) == date(2024, 3, 1)
    with pytest.raises(Unusable, match="without a time zone offset"):
        day_of(datetime(2024, 2, 29, 23, 30))
    in_utc = Format(type="datetime", naive_zone="UTC")
    assert day_of(datetime(2024, 2, 29, 23, 30), in_utc) == date(2024, 3, 1)


# --- daylight-saving days -----------------------------------------------------------------------


def test_dst_spring_forward_in_the_pack_zone_keeps_the_written_day() -> None:
    # 2024-03-31 02:30 does not exist in Oslo, but a value written in the pack's own zone is read
    # as the day written: the day cannot depend on the missing hour.
    same = Format(type="datetime", naive_zone="pack", layouts=("%Y-%m-%d %H:%M",))
    assert day_of("2024-03-31 02:30", same) == date(2024, 3, 31)


def test_dst_gap_in_another_zone_is_unusable() -> None:
    oslo_naive = Format(type="datetime", naive_zone="Europe/Oslo", layouts=("%Y-%m-%d %H:%M",))
    with pytest.raises(Unusable, match="does not exist in Europe/Oslo"):
        day_of("2024-03-31 02:30", oslo_naive, zone=UTC)
    assert day_of("2024-03-31 03:30", oslo_naive, zone=UTC) == date(2024, 3, 31)
    assert day_of("2024-03-31 00:30", oslo_naive, zone=UTC) == date(2024, 3, 30)  # 23:30Z the day before


def test_dst_fold_is_unusable_only_when_its_two_readings_are_different_days() -> None:
    oslo_naive = Format(type="datetime", naive_zone="Europe/Oslo", layouts=("%Y-%m-%d %H:%M",))
    # 2024-10-27 02:30 happens twice in Oslo (00:30Z and 01:30Z): the same UTC day either way
    assert day_of("2024-10-27 02:30", oslo_naive, zone=UTC) == date(2024, 10, 27)
    # in UTC-1 the two readings are 23:30 on the 26th and 00:30 on the 27th: no honest day
    with pytest.raises(Unusable, match="occurs twice"):
        day_of("2024-10-27 02:30", oslo_naive, zone=ZoneInfo("Etc/GMT+1"))


def test_aware_values_on_dst_days() -> None:
    assert day_of("2024-03-30T23:30:00Z") == date(2024, 3, 31)  # 00:30 CET
    assert day_of("2024-03-31T21:59:00Z") == date(2024, 3, 31)  # 23:59 CEST
    assert day_of("2024-03-31T22:00:00Z") == date(2024, 4, 1)   # the offset is already +2
    assert day_of("2024-10-26T22:30:00Z") == date(2024, 10, 27)  # 00:30 CEST
    assert day_of("2024-10-27T22:59:00Z") == date(2024, 10, 27)  # 23:59 CET


# --- plain dates and 29 February -------------------------------------------------------------------


def test_29_february() -> None:
    assert to_day("2024-02-29", DAY, OSLO) == date(2024, 2, 29)
    with pytest.raises(Unusable, match="not a real date"):
        to_day("2023-02-29", DAY, OSLO)
    with pytest.raises(Unusable, match="not a real date"):
        day_of("2023-02-29T12:00:00Z")
    dotted = Format(type="date", layouts=("%d.%m.%Y",))
    assert to_day("29.02.2024", dotted, OSLO) == date(2024, 2, 29)
    with pytest.raises(Unusable, match="layouts"):
        to_day("29.02.2023", dotted, OSLO)


@pytest.mark.parametrize("text", ["2024-2-29x", "20240229", "29/02/2024", "2024-02-29T10:00", "", "tomorrow"])
def test_plain_dates_refuse_other_forms(text: str) -> None:
    with pytest.raises(Unusable):
        to_day(text, DAY, OSLO)


def test_layouts_are_tried_in_order() -> None:
    fmt = Format(type="date", layouts=("%d.%m.%Y", "%Y-%m-%d"))
    assert to_day("01.03.2024", fmt, OSLO) == date(2024, 3, 1)
    assert to_day("2024-03-01", fmt, OSLO) == date(2024, 3, 1)


def test_a_date_format_refuses_date_times() -> None:
    with pytest.raises(Unusable, match="a date and time, not a date"):
        to_day(datetime(2024, 2, 29, 12, 0), DAY, OSLO)


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01"])
def test_placeholder_days_are_outside_the_supported_range(text: str) -> None:
    with pytest.raises(Unusable, match="outside the supported range"):
        to_day(text, DAY, OSLO)
    with pytest.raises(Unusable, match="outside the supported range"):
        day_of(text + "T12:00:00Z")


@pytest.mark.parametrize("text", ["20240229T2330", "2024-W09-4T10:00:00Z", "2024-02-29T24:00:00Z",
                                  "2024-02-29T23:30:00+25:00", "2024-02-29T23:60:00Z", "2024-02-29T23:30:00 Z"])
def test_iso_forms_no_host_writes_are_refused(text: str) -> None:
    with pytest.raises(Unusable):
        day_of(text)


# --- epoch milliseconds (HubSpot API) ----------------------------------------------------------------


def test_epoch_ms_as_hubspot_sends_them() -> None:
    assert day_of("1709249400000", ISO_MS) == date(2024, 3, 1)   # 2024-02-29T23:30Z
    assert day_of(1709249400000, ISO_MS) == date(2024, 3, 1)
    assert day_of("1709249400000", ISO_MS, zone=UTC) == date(2024, 2, 29)
    with pytest.raises(Unusable):
        day_of("1709249400000", ISO)  # epoch ms only where the format says so


def test_epoch_ms_date_properties_are_midnight_utc() -> None:
    assert to_day("1430438400000", DAY_MS, OSLO) == date(2015, 5, 1)  # HubSpot's docs: 01 May 2015
    # The UTC day, not the zone's: midnight UTC is still 30 April in Los Angeles.
    assert to_day("1430438400000", DAY_MS, ZoneInfo("America/Los_Angeles")) == date(2015, 5, 1)
    with pytest.raises(Unusable, match="not midnight UTC"):
        to_day("1709249400000", DAY_MS, OSLO)


def test_negative_epoch_ms() -> None:
    assert day_of("-2208988800000", ISO_MS, zone=UTC) == date(1900, 1, 1)  # the first supported day
    assert to_day(-2208988800000, DAY_MS, OSLO) == date(1900, 1, 1)
    with pytest.raises(Unusable, match="outside the supported range"):
        day_of(-2208988800001, ISO_MS, zone=UTC)  # 1899-12-31T23:59:59.999Z


@pytest.mark.parametrize("value", [10**16, -(10**16), 10**17, "99999999999999999", 2**63, -(2**70)])
def test_huge_epoch_ms_are_unusable_not_errors(value: object) -> None:
    with pytest.raises(Unusable):
        day_of(value, ISO_MS)


@pytest.mark.parametrize("value", [20240229, "20240229", 0, "0", 999999999, -5])
def test_short_numbers_are_not_read_as_epoch_ms(value: object) -> None:
    # 20240229 is a day without dashes, not 5.6 hours after 1970-01-01
    with pytest.raises(Unusable):
        day_of(value, ISO_MS)


def test_booleans_are_not_epoch_ms() -> None:
    with pytest.raises(Unusable):
        day_of(True, ISO_MS)


# --- booleans --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("true", True), ("Yes", True), ("YES", True), (" TRUE ", True), ("1", True), (1, True), (True, True),
    ("false", False), ("no", False), ("No", False), ("0", False), (0, False), (False, False),
])
def test_boolean_words(value: object, expected: bool) -> None:
    assert to_bool(value, BOOL) is expected


@pytest.mark.parametrize("value", ["ja", "nei", "y", "n", "on", "2", 2, 1.0, "true;false", [True]])
def test_unknown_boolean_words_are_unusable_never_false(value: object) -> None:
    with pytest.raises(Unusable):
        to_bool(value, BOOL)


def test_locale_words_in_a_stated_list() -> None:
    norsk = Format(type="bool", true_words=frozenset({"ja", "sant"}), false_words=frozenset({"nei", "usant"}))
    assert to_bool("Ja", norsk) is True and to_bool("NEI", norsk) is False
    with pytest.raises(Unusable):
        to_bool("yes", norsk)  # the stated list replaces the defaults


@pytest.mark.parametrize("value", [None, "", "   ", "\t\n"])
def test_empty_cells_are_absent(value: object) -> None:
    assert is_empty(value)


@pytest.mark.parametrize("value", ["0", "false", 0, False, "-"])
def test_values_that_are_not_empty(value: object) -> None:
    assert not is_empty(value)


# --- text, numbers and dash spellings ---------------------------------------------------------------


def test_dash_spellings_match() -> None:
    hubspot = "Legitimate interest \u2013 prospect/lead"  # as HubSpot stores it (en dash)
    for spelling in ("Legitimate interest - prospect/lead", "legitimate interest \u2014 prospect/lead",
                     "Legitimate interest \u2212 prospect/lead", "Legitimate  interest \u2011 prospect/lead",
                     "LEGITIMATE INTEREST \u2012 PROSPECT/LEAD"):
        assert match_key(spelling) == match_key(hubspot)
    assert match_key("Lead", case_sensitive=True) != match_key("lead", case_sensitive=True)
    assert match_key("Caf\u00e9") == match_key("Cafe\u0301")  # NFC


def test_text() -> None:
    assert to_text("  Kari ") == "Kari"
    assert to_text(151) == "151"
    for bad in (True, 1.5, [1], {"a": 1}, 10**100):
        with pytest.raises(Unusable):
            to_text(bad)


def test_whole_numbers() -> None:
    assert to_int("2022") == 2022 and to_int(" 2022 ") == 2022 and to_int(2022) == 2022
    for bad in ("2022.0", 2022.0, True, "twenty", "1" * 19):
        with pytest.raises(Unusable):
            to_int(bad)


def test_zone_names() -> None:
    assert zone_named("Europe/Oslo").key == "Europe/Oslo"
    for bad in ("Europe/Olso", "", "../etc/passwd", "/etc/localtime", " UTC", "Europe\x00Oslo"):
        with pytest.raises(ValueError):
            zone_named(bad)


def test_every_day_of_a_leap_year_round_trips_through_utc_instants() -> None:
    # Oslo midnight of each day, as a UTC instant in every form a host writes, gives that day.
    start = date(2024, 1, 1)
    for n in range(366):
        day = start + timedelta(days=n)
        midnight = datetime(day.year, day.month, day.day, tzinfo=OSLO)
        instant = midnight.astimezone(timezone.utc)
        ms = int(instant.timestamp() * 1000)
        assert day_of(instant.strftime("%Y-%m-%dT%H:%M:%SZ")) == day
        assert day_of(str(ms), ISO_MS) == day
        assert day_of(str(ms - 1), ISO_MS) == day - timedelta(days=1)  # one millisecond earlier
