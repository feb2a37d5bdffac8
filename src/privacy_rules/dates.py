"""Calendar-date handling for retention windows and deadlines.

Every period in the policy is counted in calendar months (years are 12 months), following
norms.md **N42** (Reg. (EEC, Euratom) 1182/71 Art. 3(1) and 3(2)(c); domstolloven § 148) as
read by **R2**:

* ``end = anchor + N months``; if the same-numbered day does not exist in the final month, the
  period ends on that month's last day (2020-02-29 + 24 months = 2022-02-28).
* A same-numbered day is never rolled to a month end (2022-02-28 + 24 months = 2024-02-28,
  not 2024-02-29).
* The end day is **inclusive**: keeping is allowed through ``end`` and denied from the next day.
* **No weekend or holiday extension** (R2: a retention cap limits storage; it is not a time
  limit for someone to act).
* Never a day count: 24 months is not 730 days.

``add_months_plain`` is *the* definition (pendulum does the arithmetic). ``add_months`` is a
fast pure-Python equivalent used in hot paths; the test suite checks them against each other
for every day of 2010-2032 and on random dates in 1900-2200.

Public API:

* :func:`parse_date` - strict ``YYYY-MM-DD`` / ``datetime.date`` input.
* :data:`MIN_DAY` / :data:`MAX_DAY` - the supported range for record dates and ``as_of``.
* :func:`parse_as_of` - ``as_of`` as the API takes it (a day in the supported range).
* :func:`add_months_plain` - reference definition of N42/R2 (pendulum).
* :func:`add_months` - fast equivalent.
* :func:`window_end` - last allowed day (inclusive) of an N-month window.
* :func:`cutoff` / :func:`iso_cutoff` - the smallest anchor still inside its window on a day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pendulum

from .errors import shown

__all__ = [
    "MIN_DAY",
    "MAX_DAY",
    "MIN_ISO",
    "MAX_ISO",
    "SUPPORTED_RANGE",
    "parse_date",
    "in_supported_range",
    "parse_as_of",
    "add_months_plain",
    "add_months",
    "window_end",
    "cutoff",
    "iso_cutoff",
]

#: The days a record date or an ``as_of`` may name. A record date outside them is a record
#: problem (PR308), an ``as_of`` outside them a usage error: a host placeholder such as
#: 9999-12-31 ("never") or 0001-01-01 ("unknown") is not a fact, and the bound keeps every
#: window end and cut-off inside ``datetime.date``: windows are at most 1200 months, so anchors
#: in 1900..2200 end by 2300 and cut-offs for as_of in 1900..2200 start from 1800.
MIN_DAY: date = date(1900, 1, 1)
MAX_DAY: date = date(2200, 12, 31)
MIN_ISO: str = MIN_DAY.isoformat()
MAX_ISO: str = MAX_DAY.isoformat()
SUPPORTED_RANGE: str = f"{MIN_ISO}..{MAX_ISO}"

#: Days per month in a common year (index 0 = January). February is fixed up for leap years.
_DAYS_IN_MONTH: tuple[int, ...] = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def parse_date(value: object) -> date:
    """Return ``value`` as a :class:`datetime.date`, strictly.

    Accepted:

    * a ``datetime.date`` that is not a ``datetime.datetime`` (date subclasses such as
      ``pendulum.Date`` are converted to a plain ``date``);
    * a string of exactly ``YYYY-MM-DD`` (10 characters, ASCII digits and two dashes) naming a
      real calendar day.

    Everything else raises :class:`ValueError` with a message that quotes the value and says
    what to write: date-times (objects or strings, naive or aware), impossible days
    (``2023-02-30``), other layouts (``2024-1-5``, ``20240105``), and non-strings (``int``,
    ``bool``, ``None``, ...).
    """
    if type(value) is str:
        # Hot path. ``date.fromisoformat`` on Python 3.11 also accepts "20240105",
        # "2024-W01-1" and similar ISO forms, so check the shape first: with dashes at 4 and 7
        # and length 10 it only accepts ASCII-digit YYYY-MM-DD.
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(_string_error(value))
    if isinstance(value, datetime):
        raise ValueError(
            f"`{value.isoformat()}` is a date and time; write the day only as YYYY-MM-DD"
        )
    if isinstance(value, date):
        if type(value) is date:
            return value
        return date(value.year, value.month, value.day)
    if isinstance(value, str):  # str subclass: judge its plain text
        return parse_date(str.__str__(value))
    raise ValueError(
        f"`{shown(value)}` is not a date ({type(value).__name__}); write the day as a string YYYY-MM-DD"
    )


def in_supported_range(day: date) -> bool:
    """True when ``day`` lies in :data:`MIN_DAY`..:data:`MAX_DAY` (both inclusive)."""
    return MIN_DAY <= day <= MAX_DAY


def parse_as_of(value: object) -> date:
    """``as_of`` as the API takes it: a ``datetime.date`` or a strict ``YYYY-MM-DD`` string.

    Raises TypeError for anything else (a ``datetime`` included: a decision is about a day, and
    which day a date-time falls on depends on a time zone the caller must choose), and
    ValueError naming the problem for a malformed string or a day outside
    :data:`SUPPORTED_RANGE`. Pure.
    """
    if type(value) is not date:
        if isinstance(value, datetime):
            raise TypeError(f"as_of must be a day (datetime.date or 'YYYY-MM-DD'), not a datetime "
                            f"(`{value.isoformat()}`); pass `{value.isoformat()[:10]}` or value.date() for the day you mean")
        if not isinstance(value, (date, str)):
            raise TypeError(f"as_of must be a datetime.date or a 'YYYY-MM-DD' string, not {type(value).__name__}")
        value = parse_date(value)
    if not MIN_DAY <= value <= MAX_DAY:
        raise ValueError(f"as_of `{value.isoformat()}` is outside the supported range {SUPPORTED_RANGE}")
    return value


def _string_error(s: str) -> str:
    """Explain why ``s`` is not a ``YYYY-MM-DD`` day (error path only; may be slow)."""
    digits = s[:4] + s[5:7] + s[8:]
    if len(s) == 10 and s[4] == "-" and s[7] == "-" and digits.isascii() and digits.isdigit():
        return f"`{s}` is not a real date; write YYYY-MM-DD"
    if len(s) <= 64 and any(c in s for c in "Tt: ") and s.strip() == s:
        try:
            datetime.fromisoformat(s)
        except ValueError:
            pass
        else:
            return f"`{shown(s)}` is a date and time; write the day only as YYYY-MM-DD"
    return f"`{shown(s)}` is not a date in the form YYYY-MM-DD; write e.g. 2024-01-05"


# --------------------------------------------------------------------------------------------
# Month arithmetic (N42, R2)
# --------------------------------------------------------------------------------------------


def add_months_plain(d: date, months: int) -> date:
    """``d + months`` calendar months, clamped to the month's last day (N42, R2).

    This is the plain, reference definition; it delegates to pendulum. Examples:
    2020-02-29 + 24 = 2022-02-28; 2022-02-28 + 24 = 2024-02-28 (not rolled to the 29th);
    2021-08-31 + 24 = 2023-08-31.
    """
    result = pendulum.Date(d.year, d.month, d.day).add(months=months)
    return date(result.year, result.month, result.day)


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def add_months(d: date, months: int) -> date:
    """Fast pure-Python equivalent of :func:`add_months_plain` (N42, R2).

    Same-numbered day in the target month, clamped to that month's last day. Equal to
    :func:`add_months_plain` for every input (checked exhaustively for 2010-2032 and by
    hypothesis for 1900-2200, months -1200..1200).
    """
    year, month0 = divmod(d.year * 12 + d.month - 1 + months, 12)
    month = month0 + 1
    day = d.day
    if day > 28:
        last = _days_in_month(year, month)
        if day > last:
            day = last
    return date(year, month, day)


def window_end(anchor: date, months: int) -> date:
    """Last day (inclusive) of the ``months``-month window that starts at ``anchor``.

    R2: keeping is **allowed through this day inclusive** and denied from the next day.
    There is **no weekend or holiday extension**: if the day is a Saturday, the following
    Monday is already a deny.
    """
    return add_months(anchor, months)


def cutoff(as_of: date, months: int) -> date:
    """Smallest anchor whose ``months``-month window is still open on ``as_of``.

    For every anchor::

        window_end(anchor, months) >= as_of   <=>   anchor >= cutoff(as_of, months)

    which holds because ``window_end`` is monotone non-decreasing in the anchor. Hot paths can
    therefore compare anchors against one precomputed cut-off instead of doing month
    arithmetic per record.
    """
    # Why not the naive cut-off ``as_of - N months``? Clamping makes ``+N`` and ``-N`` months
    # non-inverse at month ends. Example (DESIGN.md "Time"): as_of 2024-02-29, N = 24. The
    # naive cut-off is 2024-02-29 - 24 months = 2022-02-28, which says anchor 2022-02-28 is
    # still open; but window_end(2022-02-28, 24) = 2024-02-28 < 2024-02-29 (R2: not rolled to
    # the 29th), so that anchor is expired on 2024-02-29. The correct cut-off is 2022-03-01.
    # For N = 1 it is wrong on six or seven days a year (29-31 March, 31 May, 31 July,
    # 31 October, 31 December); for N = 12, 24, 36 on 29 February. It is never too strict,
    # only too lenient, so the error keeps data one day too long.
    #
    # The true cut-off is never before ``naive``: an anchor a < naive either lies in an earlier
    # month (so a + N months lands in a month before as_of) or in naive's month with a smaller
    # day number (so a + N months keeps that day number, which is < as_of's day). We start a
    # few days earlier anyway for safety and step forward; at most a handful of steps are
    # needed (the cut-off is at most the first day of the month after naive).
    naive = add_months(as_of, -months)
    a = naive - timedelta(days=3)
    one_day = timedelta(days=1)
    while add_months(a, months) < as_of:
        a += one_day
    return a


def iso_cutoff(as_of: date, months: int) -> str:
    """:func:`cutoff` as an ISO ``YYYY-MM-DD`` string.

    ISO date strings of this fixed form sort exactly like the dates, so hot paths can test
    ``anchor_iso >= iso_cutoff(as_of, months)`` on raw strings without parsing each record.
    """
    return cutoff(as_of, months).isoformat()
