"""Small sqlglot expression builders: literals, identifiers, three-valued statuses, days as keys.

Nothing here formats SQL text. Identifiers come only from the fixed layout (layout.py) and
from names the compiler has checked against a strict pattern; values from a rule file or the
pack (ids, dates, numbers) enter the query only as sqlglot literal nodes.

**Statuses** are integers, never SQL NULL: 2 holds, 1 unknown, 0 does not hold. Kleene logic
is then explicit and the same on every engine: AND is the least, OR the greatest, NOT is
``2 - x`` (docs/rule-language.md: false AND unknown = false, true OR unknown = true, NOT
unknown = unknown). SQL's own NULL logic agrees for AND/OR/NOT on booleans but not for ``IN``
and ``NOT IN`` with NULLs, nor in ``CASE WHEN``, ``COALESCE`` and ``LEAST`` (BigQuery and
Snowflake return NULL if any argument is NULL; DuckDB, PostgreSQL and Spark skip NULLs), so
statuses never pass through NULL.

**Days** are integer keys ``YYYYMMDD`` (1900-01-01 is 19000101): they order like the days,
compare exactly on every engine, and need no DATE casts, whose text formats, failure modes
(PostgreSQL has no TRY_CAST; Spark's CAST fails only in ANSI mode) and month arithmetic differ.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from sqlglot import exp

F, U, T = 0, 1, 2  # status encoding

_IDENT = re.compile(r"[a-z][a-z0-9_]{0,62}")


class SqlBuildError(ValueError):
    """An identifier or literal the builders refuse (a bug: names are validated before)."""


def ident(name: str) -> exp.Identifier:
    """A quoted identifier for a name of the layout or one the compiler generated."""
    if not _IDENT.fullmatch(name):
        raise SqlBuildError(f"refusing identifier `{name!r}`")
    return exp.to_identifier(name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.Column(this=ident(name), table=ident(table) if table else None)


def num(value: int | float) -> exp.Expression:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SqlBuildError(f"refusing number literal `{value!r}`")
    if value < 0:
        return exp.Neg(this=exp.Literal.number(-value))
    return exp.Literal.number(value)


def text(value: str) -> exp.Literal:
    if not isinstance(value, str):
        raise SqlBuildError(f"refusing string literal `{value!r}`")
    return exp.Literal.string(value)


def null() -> exp.Null:
    return exp.Null()


def typed_null(to: str) -> exp.Expression:
    """``CAST(NULL AS to)``: where a NULL alone decides an expression's type (a CASE whose every
    branch is NULL, a UNION column), PostgreSQL and Spark cannot infer the type the other rows have."""
    return exp.Cast(this=exp.Null(), to=exp.DataType.build(to))


def true() -> exp.Boolean:
    return exp.Boolean(this=True)


def false() -> exp.Boolean:
    return exp.Boolean(this=False)


def _bool_const(e: exp.Expression) -> bool | None:
    """True/False for a literal TRUE/FALSE (through parentheses), else None."""
    while isinstance(e, exp.Paren):
        e = e.this
    if isinstance(e, exp.Boolean):
        return bool(e.this)
    return None


def case(branches: Sequence[tuple[exp.Expression, exp.Expression]], default: exp.Expression | None = None) -> exp.Expression:
    """``CASE WHEN ...``, folded in Python where a condition is a constant (a window, question or
    pack constant for this as_of): a FALSE branch is never taken, a TRUE one always is. Folded
    only so far as the result keeps a typed branch: a CASE whose every branch is dropped and that
    has no ELSE stays as written (a bare NULL has no type on PostgreSQL)."""
    kept: list[tuple[exp.Expression, exp.Expression]] = []
    for c, v in branches:
        const = _bool_const(c)
        if const is False:
            continue
        if const is True:
            if not kept:
                return v
            default = v
            break
        kept.append((c, v))
    if not kept:
        if default is not None:
            return default
        if not branches:
            return null()
        kept = [tuple(branches[0])]  # type: ignore[list-item]
    branches = kept
    node = exp.Case(ifs=[exp.If(this=c, true=v) for c, v in branches])
    if default is not None:
        node.set("default", default)
    return node


def _connective(parts: Iterable[exp.Expression], node: type[exp.And] | type[exp.Or], absorbing: bool) -> exp.Expression:
    """``a AND b ...`` / ``a OR b ...`` folded: a part equal to ``absorbing`` decides it, a part
    equal to its opposite is dropped, no part left gives the opposite."""
    items = []
    for p in parts:
        const = _bool_const(p)
        if const is absorbing:
            return true() if absorbing else false()
        if const is None:
            items.append(p)
    if not items:
        return false() if absorbing else true()
    out: exp.Expression = items[0]
    for p in items[1:]:
        out = node(this=out, expression=p)
    return exp.Paren(this=out) if len(items) > 1 else out


def and_(parts: Iterable[exp.Expression]) -> exp.Expression:
    """``a AND b ...``; a FALSE part makes it FALSE, a TRUE part is dropped (SQL's AND agrees:
    FALSE AND NULL is FALSE, TRUE AND x is x)."""
    return _connective(parts, exp.And, False)


def or_(parts: Iterable[exp.Expression]) -> exp.Expression:
    """``a OR b ...``; a TRUE part makes it TRUE, a FALSE part is dropped (TRUE OR NULL is TRUE)."""
    return _connective(parts, exp.Or, True)


def not_(e: exp.Expression) -> exp.Expression:
    const = _bool_const(e)
    if const is not None:
        return false() if const else true()
    return exp.Not(this=exp.Paren(this=e))


def eq(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.EQ(this=a, expression=b)


def neq(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.NEQ(this=a, expression=b)


def lt(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.LT(this=a, expression=b)


def lte(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.LTE(this=a, expression=b)


def gt(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.GT(this=a, expression=b)


def gte(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.GTE(this=a, expression=b)


def is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e, expression=exp.Null())


def not_null(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.Is(this=e, expression=exp.Null()))


def in_(e: exp.Expression, values: Sequence[exp.Expression]) -> exp.Expression:
    """``e IN (...)`` for a non-NULL ``e`` and non-NULL literals only (two-valued there)."""
    if not values:
        return false()
    return exp.In(this=e, expressions=list(values))


# Arithmetic is always parenthesised: sqlglot writes the tree as built, without adding the
# parentheses operator precedence needs (Mul(Add(a, b), c) would print as `a + b * c`).
def add(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Paren(this=exp.Add(this=a, expression=b))


def sub(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Paren(this=exp.Sub(this=a, expression=b))


def mul(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Paren(this=exp.Mul(this=a, expression=b))


def mod(a: exp.Expression, b: int) -> exp.Expression:
    return exp.Mod(this=exp.Paren(this=a), expression=num(b))


def coalesce(first: exp.Expression, *rest: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=first, expressions=list(rest))


_TYPE_CACHE: dict[str, exp.DataType] = {}


def cast(e: exp.Expression, to: str) -> exp.Expression:
    t = _TYPE_CACHE.get(to)
    if t is None:  # DataType.build parses its argument: once per type name
        t = _TYPE_CACHE.setdefault(to, exp.DataType.build(to))
    return exp.Cast(this=e, to=t.copy())


def substring(e: exp.Expression, start: int, length: int) -> exp.Expression:
    return exp.Substring(this=e, start=num(start), length=num(length))


def length(e: exp.Expression) -> exp.Expression:
    return exp.Length(this=e)


def least(first: exp.Expression, *rest: exp.Expression) -> exp.Expression:
    """``LEAST(...)`` of arguments that are never NULL (statuses; COALESCEd days).

    Marked ``ignore_nulls``: with no NULL argument both semantics agree, and sqlglot's DuckDB
    writer otherwise wraps each LEAST in ``CASE WHEN a IS NULL OR b IS NULL ...`` that repeats
    every argument, which doubles the text at each level of nesting (a rule's Kleene AND of ORs
    of ANDs grew to thousands of lines per status and most of the decision's run time)."""
    return exp.Least(this=first, expressions=list(rest), ignore_nulls=True)


def greatest(first: exp.Expression, *rest: exp.Expression) -> exp.Expression:
    """``GREATEST(...)`` of arguments that are never NULL (see ``least``)."""
    return exp.Greatest(this=first, expressions=list(rest), ignore_nulls=True)


def max_(e: exp.Expression) -> exp.Expression:
    return exp.Max(this=e)


def min_(e: exp.Expression) -> exp.Expression:
    return exp.Min(this=e)


# --- three-valued statuses (0, 1, 2; never NULL) ----------------------------------------------
def st(value: int) -> exp.Expression:
    return num(value)


def k_and(items: Sequence[exp.Expression]) -> exp.Expression:
    """Kleene AND of statuses: the least (false < unknown < true); true for none."""
    items = [i for i in items if not _is_const(i, T)]
    if any(_is_const(i, F) for i in items):
        return st(F)
    if not items:
        return st(T)
    if len(items) == 1:
        return items[0]
    return least(items[0], *items[1:])


def k_or(items: Sequence[exp.Expression]) -> exp.Expression:
    """Kleene OR of statuses: the greatest; false for none."""
    items = [i for i in items if not _is_const(i, F)]
    if any(_is_const(i, T) for i in items):
        return st(T)
    if not items:
        return st(F)
    if len(items) == 1:
        return items[0]
    return greatest(items[0], *items[1:])


def k_not(item: exp.Expression) -> exp.Expression:
    """Kleene NOT: 2 - x (unknown stays unknown)."""
    if isinstance(item, exp.Literal) and item.is_int:
        return st(T - int(item.this))
    return sub(st(T), item)


def tri(true_when: exp.Expression, unknown_when: exp.Expression | None = None) -> exp.Expression:
    """A status from two-valued SQL conditions: unknown first, then true, else false. The
    conditions may be NULL: CASE takes a NULL condition as not met, so NULL reads false here."""
    branches: list[tuple[exp.Expression, exp.Expression]] = []
    if unknown_when is not None:
        branches.append((unknown_when, st(U)))
    branches.append((true_when, st(T)))
    return case(branches, st(F))


def _is_const(e: exp.Expression, value: int) -> bool:
    return isinstance(e, exp.Literal) and e.is_int and int(e.this) == value


# --- days -------------------------------------------------------------------------------------
MIN_YEAR, MAX_YEAR = 1900, 2200


def day_key(iso: str) -> exp.Expression:
    """The literal key of a validated ISO day (a constant computed in Python)."""
    return num(int(iso[0:4]) * 10000 + int(iso[5:7]) * 100 + int(iso[8:10]))


def iso_form(x: exp.Expression) -> exp.Expression:
    """``x`` has the form YYYY-MM-DD: ASCII digits, dashes at 5 and 8, nothing else.

    TRANSLATE maps each ASCII digit to ``#`` (and a ``#`` to ``x``), so the result equals
    ``####-##-##`` exactly for that form. No regular expression (their ``$`` and full-match
    rules differ between engines) and no cast (PostgreSQL has no TRY_CAST).
    """
    return eq(exp.Translate(this=x.copy(), from_=text("#0123456789"), to=text("x##########")),
              text("####-##-##"))


def iso_text(x: exp.Expression) -> exp.Expression:
    """``x`` when it has the ISO form, else NULL: the only text the day casts below ever see."""
    return case([(iso_form(x), x.copy())])


def date_parts(t: exp.Expression) -> tuple[exp.Expression, exp.Expression, exp.Expression]:
    """(year, month, day) integers of ``t``, an ``iso_text`` (NULL stays NULL): ten characters of
    ASCII digits and dashes, so the casts cannot fail."""
    return tuple(cast(substring(t.copy(), s, n), "INT") for s, n in ((1, 4), (6, 2), (9, 2)))  # type: ignore[return-value]


def is_leap(y: exp.Expression) -> exp.Expression:
    return and_([eq(mod(y.copy(), 4), num(0)),
                 or_([neq(mod(y.copy(), 100), num(0)), eq(mod(y.copy(), 400), num(0))])])


def days_in_month(y: exp.Expression, m: exp.Expression) -> exp.Expression:
    return case([(eq(m.copy(), num(2)), case([(is_leap(y), num(29))], num(28))),
                 (in_(m.copy(), [num(4), num(6), num(9), num(11)]), num(30))], num(31))


def real_day(y: exp.Expression, m: exp.Expression, d: exp.Expression) -> exp.Expression:
    """(y, m, d) names a real calendar day with a year >= 1; a plain condition, no CASE (NULL
    parts give NULL, read as false where it is used)."""
    return and_([gte(y.copy(), num(1)), gte(m.copy(), num(1)), lte(m.copy(), num(12)), gte(d.copy(), num(1)),
                 or_([lte(d.copy(), num(28)),
                      and_([neq(m.copy(), num(2)), lte(d.copy(), num(30))]),
                      and_([in_(m.copy(), [num(i) for i in (1, 3, 5, 7, 8, 10, 12)]), eq(d.copy(), num(31))]),
                      and_([eq(m.copy(), num(2)), eq(d.copy(), num(29)), is_leap(y)])])])


def in_range(y: exp.Expression) -> exp.Expression:
    return and_([gte(y.copy(), num(MIN_YEAR)), lte(y.copy(), num(MAX_YEAR))])


def key_of(y: exp.Expression, m: exp.Expression, d: exp.Expression) -> exp.Expression:
    return add(add(mul(y.copy(), num(10000)), mul(m.copy(), num(100))), d.copy())


def valid_key(y: exp.Expression, m: exp.Expression, d: exp.Expression) -> exp.Expression:
    """The day key when (y, m, d) is a real day in 1900..2200, else NULL."""
    return case([(and_([real_day(y, m, d), in_range(y)]), key_of(y, m, d))])


def date_code(raw: exp.Expression, y: exp.Expression, m: exp.Expression, d: exp.Expression) -> exp.Expression:
    """NULL for an absent or valid day; PR308 for a real day outside 1900..2200; else PR303."""
    return case([(is_null(raw.copy()), null()),
                 (and_([real_day(y, m, d), in_range(y)]), null()),
                 (real_day(y, m, d), text("PR308"))], text("PR303"))


def end_key(y: exp.Expression, m: exp.Expression, d: exp.Expression, months: int) -> exp.Expression:
    """The key of (y, m, d) + ``months`` calendar months, clamped to the month's last day (N42,
    R2; dates.add_months): integer arithmetic only, with the month carry and the clamp written
    out, so no engine's interval rules (end-of-month, normalising) apply. ``months`` >= 0.

    (y, m, d) must be a real day for the result to mean one (callers read it only where the
    day's key is not NULL). For whole years the month stays and only 29 February can need the
    clamp (to 28 in a year that is not leap): the short form, most of the windows there are."""
    years, rest = divmod(months, 12)
    if rest == 0:
        ey = add(y.copy(), num(years))
        feb29 = and_([eq(m.copy(), num(2)), eq(d.copy(), num(29)), not_(is_leap(ey))])
        return key_of(ey, m, case([(feb29, num(28))], d.copy()))
    m0 = add(sub(m.copy(), num(1)), num(rest))  # 0..22
    carry = case([(gte(m0.copy(), num(12)), num(1))], num(0))
    ey = add(add(y.copy(), num(years)), carry.copy())
    em = sub(add(m0.copy(), num(1)), mul(num(12), carry.copy()))
    dim = days_in_month(ey, em)
    ed = case([(gt(d.copy(), dim.copy()), dim)], d.copy())
    return key_of(ey, em, ed)


def key_to_date(key: exp.Expression) -> exp.Expression:
    """A DATE from a day key (always a valid day: the key of a checked day or a window end).

    The key's eight digits parsed with the format ``%Y%m%d`` (sqlglot writes each engine's
    function: STRPTIME on DuckDB, TO_TIMESTAMP on PostgreSQL, TO_DATE on Spark and Snowflake,
    PARSE_TIMESTAMP on BigQuery, each cast to DATE): on DuckDB 3x faster than cutting the text
    into ``YYYY-MM-DD`` and casting it, which was a sixth of the bench decision's time. Not
    MAKE_DATE of the key's parts, faster still: sqlglot writes it for PostgreSQL as
    DATE_FROM_PARTS, which PostgreSQL does not have. (StrToDate writes Snowflake's DATE(x, f),
    which sqlglot reads back as TO_DATE: the golden test wants the text to parse back alike.)"""
    parsed = exp.TsOrDsToDate(this=cast(key, "VARCHAR"), format=text("%Y%m%d"))
    return case([(not_null(key.copy()), parsed)])


_NO_DAY_HIGH, _NO_DAY_LOW = 99999999, 0  # beyond every day key, below every day key


def least_of(items: Sequence[exp.Expression]) -> exp.Expression:
    """The least non-NULL of ``items``, NULL if all are NULL: LEAST over COALESCEd sentinels
    (engines differ on LEAST with NULL arguments, so none is passed)."""
    if not items:
        return null()
    if len(items) == 1:
        return items[0]
    big = num(_NO_DAY_HIGH)
    inner = least(*[coalesce(e, big.copy()) for e in items])
    return case([(lt(inner, big.copy()), inner.copy())])


def greatest_of(items: Sequence[exp.Expression]) -> exp.Expression:
    """The greatest non-NULL of ``items``, NULL if all are NULL."""
    if not items:
        return null()
    if len(items) == 1:
        return items[0]
    low = num(_NO_DAY_LOW)
    inner = greatest(*[coalesce(e, low.copy()) for e in items])
    return case([(gt(inner, low.copy()), inner.copy())])


def alias(e: exp.Expression, name: str) -> exp.Expression:
    """``e AS "name"``: aliases are quoted like every other identifier (Snowflake folds unquoted
    names to upper case, so a quoted reference would not find an unquoted alias)."""
    return exp.Alias(this=e, alias=ident(name))
