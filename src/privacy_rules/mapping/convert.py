"""Host values -> canonical values: text, whole numbers, booleans and days, one pure function each.

Every function takes one host value and a :class:`Format` (the profile's conversion) and returns
the canonical value, or raises :class:`Unusable` with a short phrase saying why the value cannot
be read (``not a date or date-time in the layouts ...``). The mapper turns that phrase into a
record problem naming the host field and its value; nothing here guesses or falls back.

Days are what the engine reads (docs/rule-language.md section 4), so date-times become the day
they fall on **in the pack's time zone**: 2024-02-29T23:30:00Z is 2024-03-01 in Europe/Oslo.
A date-time written without an offset is read in the format's ``naive_zone``; when that zone is
not the pack's, a wall-clock time skipped by a daylight-saving change (02:30 on 2024-03-31 in
Oslo) is unusable, and one that occurs twice is unusable only when its two readings fall on
different days in the pack's zone.

Pure, no state, thread-safe. Zones are ``zoneinfo.ZoneInfo`` objects (the IANA database).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..dates import MAX_DAY, MIN_DAY, SUPPORTED_RANGE

__all__ = [
    "DEFAULT_FALSE",
    "DEFAULT_TRUE",
    "Format",
    "TYPES",
    "Unusable",
    "is_empty",
    "match_key",
    "to_bool",
    "to_day",
    "to_int",
    "to_text",
    "zone_named",
]

#: The conversion types a profile can name.
TYPES = ("text", "date", "datetime", "bool", "int")
#: Words read as true / false when a bool format names none (compared case-folded, stripped).
DEFAULT_TRUE: tuple[str, ...] = ("true", "yes", "1")
DEFAULT_FALSE: tuple[str, ...] = ("false", "no", "0")

# |epoch ms| above this is tens of thousands of years away: refused before any arithmetic.
_MAX_EPOCH_MS = 10**16
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# ISO 8601 date-times as hosts write them: `T` or a space, seconds and fraction optional,
# `Z` or an offset with or without `:` (Salesforce writes +0000). Basic forms (20240229T2330)
# and week dates are not accepted: no host here writes them, and each accepted form is a
# chance to misread a value.
_ISO_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?"
)
# Ten digits at least: an 8-digit 20240229 is a day written without dashes, not 5.6 hours after
# 1970-01-01; every epoch-ms value of 1970-01-12 or later (or 1969-12-20 or earlier) has ten.
_EPOCH_TEXT = re.compile(r"-?\d{10,17}")
_MIN_EPOCH_MS = 10**9
_INT_TEXT = re.compile(r"[+-]?\d{1,18}")
# Dashes people and vendors write for `-`: HubSpot stores `Legitimate interest – prospect/lead`
# with U+2013 but shows it with a hyphen; hyphen, non-breaking hyphen, figure dash, en and em
# dash, horizontal bar, minus sign, small and full-width hyphen-minus.
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"})


class Unusable(ValueError):
    """A host value a conversion cannot read; ``str()`` says why, e.g. ``not a date``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Format:
    """One conversion of a profile (docs/mapping.md, *Formats*); immutable, shared by every row.

    ``naive_zone`` is ``None`` (not a datetime format), an IANA zone name, ``"pack"`` (the
    run's time zone) or ``"reject"``. ``true_words``/``false_words`` are case-folded.
    """

    type: str
    name: str = ""  # the format's name in the profile, or "" for an inline format: for messages
    split: str | None = None
    layouts: tuple[str, ...] = ()
    naive_zone: str | None = None
    epoch_ms: bool = False
    true_words: frozenset[str] = field(default_factory=lambda: frozenset(DEFAULT_TRUE))
    false_words: frozenset[str] = field(default_factory=lambda: frozenset(DEFAULT_FALSE))


def is_empty(value: Any) -> bool:
    """True for a value that is absent: None, or text that is empty or only white space.

    An empty CSV cell is how a host says "no value"; it is never the empty string as a fact.
    """
    return value is None or (isinstance(value, str) and not value.strip())


def match_key(text: str, *, case_sensitive: bool = False) -> str:
    """``text`` as value maps compare it: NFC, dashes as ``-``, runs of white space as one space,
    case-folded unless ``case_sensitive``. `Legitimate interest – prospect/lead` and
    `legitimate interest - prospect/lead` give the same key."""
    key = " ".join(unicodedata.normalize("NFC", text).translate(_DASHES).split())
    return key if case_sensitive else key.casefold()


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    return f"a {type(value).__name__}"


def to_text(value: Any) -> str:
    """The text of ``value``, surrounding white space removed. Whole numbers are written in
    decimal (a JSON id `151`); booleans, decimals, lists and objects are unusable."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > 256:
            raise Unusable("a number too long to be an id")
        return str(value)
    raise Unusable(f"{_kind(value)}, not text")


def to_int(value: Any) -> int:
    """A whole number from an int or its digits as text (at most 18); anything else is unusable.

    A decimal such as ``2022.0`` is refused rather than truncated."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    raise Unusable("not a whole number")


def to_bool(value: Any, fmt: Format) -> bool:
    """True or false: a JSON boolean, or a word of ``fmt.true_words``/``false_words`` (a whole
    number 1/0 counts as the word "1"/"0"). Anything else is unusable: an unknown word is never
    read as false, so a localised `Ja` in an opt-out column cannot pass as "not opted out"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        word = str(value)
    elif isinstance(value, str):
        word = value.strip().casefold()
    else:
        raise Unusable(f"{_kind(value)}, not true or false")
    if word in fmt.true_words:
        return True
    if word in fmt.false_words:
        return False
    words = ", ".join(sorted(fmt.true_words)) + " / " + ", ".join(sorted(fmt.false_words))
    raise Unusable(f"not a word read as true or false ({words})")


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone ``name``; raises ValueError for a name the zone database does not have."""
    if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name or "\x00" in name:
        raise ValueError(f"`{name}` is not an IANA time zone name")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"`{name}` is not an IANA time zone name") from None


def to_day(value: Any, fmt: Format, zone: tzinfo) -> date:
    """The calendar day of ``value`` under a ``date`` or ``datetime`` format; ``zone`` is the
    pack's time zone (the day a date-time falls on there). Raises :class:`Unusable`.

    Accepted: ``datetime.date`` objects (a database or Parquet date); for ``datetime`` also
    ``datetime.datetime`` objects; text in ISO 8601 or one of ``fmt.layouts``; with
    ``fmt.epoch_ms`` whole epoch milliseconds (int or digits). The day must lie in the
    supported range (1900-01-01..2200-12-31): a host placeholder such as 9999-12-31 is not a day.
    """
    if fmt.type == "date":
        day = _plain_day(value, fmt)
    else:
        day = _zoned_day(value, fmt, zone)
    if not MIN_DAY <= day <= MAX_DAY:
        raise Unusable(f"outside the supported range {SUPPORTED_RANGE}")
    return day


def _plain_day(value: Any, fmt: Format) -> date:
    if isinstance(value, datetime):
        raise Unusable("a date and time, not a date")
    if isinstance(value, date):
        return date(value.year, value.month, value.day)
    if fmt.epoch_ms and _is_epoch(value):
        instant = _from_epoch_ms(value)
        # A HubSpot date property is midnight UTC of its day; any other instant means the
        # property is a date-time, and which day it is would depend on a zone nobody stated.
        if instant.time() != datetime.min.time():
            raise Unusable("epoch milliseconds that are not midnight UTC, so not a date")
        return instant.date()
    if not isinstance(value, str):
        raise Unusable(f"{_kind(value)}, not a date")
    text = value.strip()
    if not fmt.layouts:
        return _iso_day(text)
    for layout in fmt.layouts:
        try:
            return datetime.strptime(text, layout).date()
        except ValueError:
            continue
    raise Unusable(f"not a date in the layouts {_layouts(fmt)}")


def _iso_day(text: str) -> date:
    found = _ISO_DAY.fullmatch(text)
    if found is None:
        raise Unusable("not a date in the form YYYY-MM-DD")
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        raise Unusable("not a real date") from None


def _zoned_day(value: Any, fmt: Format, zone: tzinfo) -> date:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return date(value.year, value.month, value.day)  # a date is its own day in every zone
    elif fmt.epoch_ms and _is_epoch(value):
        moment = _from_epoch_ms(value)
    elif isinstance(value, str):
        parsed = _parse_datetime_text(value.strip(), fmt)
        if isinstance(parsed, date) and not isinstance(parsed, datetime):
            return parsed
        moment = parsed
    else:
        raise Unusable(f"{_kind(value)}, not a date or date-time")
    if moment.tzinfo is None or moment.utcoffset() is None:
        return _naive_day(moment, fmt, zone)
    return moment.astimezone(zone).date()


def _parse_datetime_text(text: str, fmt: Format) -> datetime | date:
    found = _ISO_DATETIME.fullmatch(text)
    if found is not None:
        return _iso_datetime(found)
    if _ISO_DAY.fullmatch(text):
        return _iso_day(text)
    for layout in fmt.layouts:
        try:
            parsed = datetime.strptime(text, layout)
        except ValueError:
            continue
        if not any(d in layout for d in ("%H", "%M", "%S", "%f", "%z")):
            return parsed.date()  # a date-only layout: the day as written
        return parsed
    extra = f" or the layouts {_layouts(fmt)}" if fmt.layouts else ""
    raise Unusable(f"not a date or date-time in ISO 8601{extra}")


def _iso_datetime(found: re.Match[str]) -> datetime:
    year, month, day, hour, minute = (int(found[i]) for i in range(1, 6))
    second = int(found[6] or 0)
    micro = int((found[7] or "0")[:6].ljust(6, "0"))
    tz: tzinfo | None = None
    if found[8]:
        tz = timezone.utc
    elif found[9]:
        hours, minutes = int(found[10]), int(found[11] or 0)
        if hours > 23 or minutes > 59:
            raise Unusable("a date-time with an impossible offset")
        offset = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-offset if found[9] == "-" else offset)
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        raise Unusable("not a real date and time") from None


def _naive_day(moment: datetime, fmt: Format, zone: tzinfo) -> date:
    where = fmt.naive_zone
    if where is None or where == "reject":
        raise Unusable("a date and time without a time zone offset")
    local = zone if where == "pack" else zone_named(where)
    if local is zone or _same_zone(local, zone):
        return moment.date()  # written in the pack's own zone: the day as written
    first = moment.replace(tzinfo=local, fold=0)
    second = moment.replace(tzinfo=local, fold=1)
    # A wall-clock time in a daylight-saving gap does not survive the round trip through UTC.
    if first.astimezone(timezone.utc).astimezone(local).replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise Unusable(f"a time that does not exist in {_zone_label(local)} (skipped by a daylight-saving change)")
    day_first, day_second = first.astimezone(zone).date(), second.astimezone(zone).date()
    if day_first != day_second:
        raise Unusable(f"a time that occurs twice in {_zone_label(local)} (a daylight-saving change) "
                       "and falls on different days in the pack's time zone")
    return day_first


def _same_zone(a: tzinfo, b: tzinfo) -> bool:
    return isinstance(a, ZoneInfo) and isinstance(b, ZoneInfo) and a.key == b.key


def _zone_label(zone: tzinfo) -> str:
    return zone.key if isinstance(zone, ZoneInfo) else str(zone)


def _is_epoch(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True  # a small int is refused by _from_epoch_ms, never read as a layout
    return isinstance(value, str) and _EPOCH_TEXT.fullmatch(value.strip()) is not None


def _from_epoch_ms(value: Any) -> datetime:
    number = value if isinstance(value, int) else int(str(value).strip())
    if abs(number) < _MIN_EPOCH_MS:
        raise Unusable("too few digits for epoch milliseconds (a day near 1970-01-01); write the day or "
                       "a date-time instead")
    if abs(number) > _MAX_EPOCH_MS:
        raise Unusable(f"epoch milliseconds outside the supported range {SUPPORTED_RANGE}")
    try:
        return _EPOCH + timedelta(milliseconds=number)
    except OverflowError:  # past year 9999
        raise Unusable(f"epoch milliseconds outside the supported range {SUPPORTED_RANGE}") from None


def _layouts(fmt: Format) -> str:
    return ", ".join(f"`{layout}`" for layout in fmt.layouts)
