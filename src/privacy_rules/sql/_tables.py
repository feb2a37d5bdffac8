"""The first layers of the query: each table read, its days checked, each child table aggregated.

Per table, three common table expressions:

* ``<t>_p`` (parts): the row, with each text day split into year, month and day integers where
  it has the ISO form (else NULL);
* ``<t>_v`` (valid): each day as its key (``_x.valid_key``), and the row's problem code: the
  record-format problems (PR302-PR308) and, apart, unknown vocabulary ids (PR321);
* ``<t>_a`` (aggregate, child tables): one row per record_id with the first problem codes and
  every flag the rules need (``MAX(CASE WHEN <entry condition> THEN 1 ELSE 0 END)``), each
  registered by the compiler through :meth:`Child.flag` and :meth:`Child.agg`.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

from sqlglot import exp

from ..records import LIST_FIELDS, TOP_SCALARS
from . import _x as x
from .layout import DATA_CATEGORIES, FACTS, HOLD_SCOPES, LISTS, RECORDS, SUBJECTS, Column, Table

Cte = tuple[str, exp.Select]

_ENUMS: dict[tuple[str, str], tuple[str, ...]] = {}
for _name, (_fields, _req) in LIST_FIELDS.items():
    for _f, _k in _fields.items():
        if _k.startswith("enum:"):
            _ENUMS[(_name, _f)] = tuple(_k[5:].split("|"))
for _f, _k in TOP_SCALARS.items():
    if _k.startswith("enum:"):
        _ENUMS[("records", _f)] = tuple(_k[5:].split("|"))


def _parts_cols(c: Column, src: str) -> list[exp.Expression]:
    """The ``_p`` layer's (year, month, day) columns of a day: integers, NULL unless ISO form."""
    y, m, d = x.date_parts(x.iso_text(x.col(c.name, src)))
    return [x.alias(y, c.name + "__y"), x.alias(m, c.name + "__m"), x.alias(d, c.name + "__d")]


def parts(c: Column, table: str) -> tuple[exp.Expression, exp.Expression, exp.Expression]:
    """The day's (year, month, day) columns in ``table`` (the ``_p`` layer, or ``_v`` after it)."""
    return x.col(c.name + "__y", table), x.col(c.name + "__m", table), x.col(c.name + "__d", table)


def vparts(c: Column, table: str) -> tuple[exp.Expression, exp.Expression, exp.Expression]:
    """The day's (year, month, day) as columns of the ``_v`` layer (for window ends)."""
    return x.col(c.name + "__y", table), x.col(c.name + "__m", table), x.col(c.name + "__d", table)


def _codes_first(items: list[exp.Expression]) -> exp.Expression:
    if not items:
        return x.null()
    return items[0] if len(items) == 1 else x.coalesce(items[0], *items[1:])


def _column_code(table: Table, c: Column, src: str, required: bool, vocab: frozenset[str] | None) -> tuple[
        exp.Expression | None, exp.Expression | None]:
    """(form problem code, vocabulary problem code) of one column of a row, as expressions."""
    raw = x.col(c.name, src)
    form: list[tuple[exp.Expression, exp.Expression]] = []
    if required:
        form.append((x.is_null(raw.copy()), x.text("PR304")))
    if c.date:
        y, m, d = parts(c, src)
        return x.date_code(raw, y, m, d) if not required else x.case(form, x.date_code(raw, y, m, d)), None
    enum = _ENUMS.get((table.list_field or table.name, c.name))
    if enum is not None:
        form.append((x.and_([x.not_null(raw.copy()), x.not_(x.in_(raw.copy(), [x.text(v) for v in enum]))]),
                     x.text("PR306")))
    if table.list_field == "vouchers" and c.name == "fiscal_year":
        form.append((x.or_([x.lt(raw.copy(), x.num(x.MIN_YEAR)), x.gt(raw.copy(), x.num(x.MAX_YEAR))]),
                     x.text("PR302")))
    vcode = None
    if vocab is not None:
        vcode = x.case([(x.and_([x.not_null(raw.copy()), x.not_(x.in_(raw.copy(), [x.text(v) for v in sorted(vocab)]))]),
                         x.text("PR321"))])
    return (x.case(form) if form else None), vcode


class Child:
    """One child table's three layers, and the aggregates the compiler registers on it."""

    def __init__(self, table: Table, vocab: Mapping[str, frozenset[str]], scopes: Mapping[str, str] | None = None,
                 pivots: Sequence[frozenset[str]] = ()) -> None:
        self.table = table
        self.name = table.name
        self.vocab = vocab  # column -> the ids it may hold (PR321)
        self.aggs: list[exp.Expression] = []
        self._seen: dict[exp.Expression, str] = {}
        self.scopes = scopes  # legal_holds: scope id -> column of legal_hold_scopes_a
        # subject_categories, data_categories: the id sets the pack's rules ask about ("some row's
        # value is one of them"), each a 0/1 column of the check stage (as_of plays no part)
        #: check-stage columns of ``<t>_v`` computed from the ``_p`` layer (window ends, ``we<i>``)
        self.extra_v: list[exp.Expression] = []
        self.pivots: dict[frozenset[str], str] = {ids: f"p{i}" for i, ids in enumerate(sorted(
            set(pivots), key=lambda s: sorted(s)))}

    @property
    def v(self) -> str:
        return self.name + "_v"

    @property
    def a(self) -> str:
        return self.name + "_a"

    @property
    def g(self) -> str:
        return self.name + "_g"

    def c(self, name: str) -> exp.Column:
        """A column of the checked row (in conditions of :meth:`flag`)."""
        try:
            col: Column | None = self.table.column(name)
        except KeyError:  # a scope column of legal_holds
            col = None
        if col is not None and col.date:
            return x.col(name + "__k", self.v)
        return x.col(name, self.v)

    def day_parts(self, name: str) -> tuple[exp.Expression, exp.Expression, exp.Expression]:
        return vparts(self.table.column(name), self.v)

    def agg(self, expr: exp.Expression) -> exp.Expression:
        """Register an aggregate over the checked rows; its column in ``<t>_a`` (NULL for a record
        without rows: the caller says what that means)."""
        key = expr  # sqlglot expressions hash and compare by structure
        name = self._seen.get(key)
        if name is None:
            name = f"a{len(self.aggs)}"
            self._seen[key] = name
            self.aggs.append(x.alias(expr, name))
        return self.j(name)

    def j(self, name: str) -> exp.Column:
        """A column of this table's aggregate as the joined CTE ``j`` names it (``<table>__<col>``)."""
        return x.col(f"{self.name}__{name}", "j")

    def j_columns(self) -> list[exp.Expression]:
        """This table's aggregates for this as_of, renamed for ``j`` (the per-record columns that
        do not depend on as_of are columns of ``records_v`` already: :meth:`g_columns`)."""
        return [x.alias(x.col(f"a{i}", self.a), f"{self.name}__a{i}") for i in range(len(self.aggs))]

    def g_columns(self) -> list[exp.Expression]:
        """The check stage's per-record columns of this table, as ``records_p`` joins them: its
        first form and vocabulary problems, its number of rows (NULL without rows) and each pivot
        (0 without rows)."""
        cols = [x.alias(x.col(n, self.g), f"{self.name}__{n}") for n in ("form", "vocab", "n")]
        cols += [x.alias(x.coalesce(x.col(p, self.g), x.num(0)), f"{self.name}__{p}") for p in self.pivots.values()]
        return cols

    def pivot(self, ids: frozenset[str]) -> exp.Expression:
        """1 when some row of the record has a value in ``ids``, else 0 (a set the pack's rules
        name: collected before compiling, ``compiler._pivots``)."""
        return self.j(self.pivots[ids])

    def flag(self, cond: exp.Expression) -> exp.Expression:
        """A SQL boolean, never NULL: some row of the record meets ``cond`` (NULL reads false)."""
        return x.eq(self.count(cond), x.num(1))

    def count(self, cond: exp.Expression) -> exp.Expression:
        """1 when some row of the record meets ``cond``, else 0 (a NULL condition reads false:
        MAX skips the NULL its cast gives, and a record without rows gets the COALESCE's 0)."""
        return x.coalesce(self.agg(x.max_(x.cast(exp.Paren(this=cond), "INT"))), x.num(0))

    def form_code(self) -> exp.Expression:
        return self.j("form")

    def vocab_code(self) -> exp.Expression:
        return self.j("vocab")

    def ctes(self) -> list[Cte]:
        t, src = self.table, self.name
        required = frozenset(LIST_FIELDS[t.list_field][1]) if t.list_field else frozenset()
        cols: list[exp.Expression] = [x.col(c.name, src) for c in t.columns]
        for c in t.columns:
            if c.date:
                cols += _parts_cols(c, src)
        if self.scopes is not None:  # legal_holds: which scopes each hold names
            cols += [x.col(colname, HOLD_SCOPES.name + "_a") for colname in self.scopes.values()]
            cols.append(x.alias(x.col("vocab", HOLD_SCOPES.name + "_a"), "scopes_vocab"))
        p = exp.select(*cols, copy=False).from_(exp.Table(this=x.ident(src)), copy=False)
        if self.scopes is not None:
            ha = HOLD_SCOPES.name + "_a"
            p = p.join(exp.Table(this=x.ident(ha)), on=x.and_([
                x.eq(x.col("record_id", src), x.col("record_id", ha)),
                x.eq(x.col("entry_no", src), x.col("entry_no", ha))]), join_type="LEFT", copy=False)
        pn = src + "_p"
        vcols: list[exp.Expression] = [x.col(c.name, pn) for c in t.columns]
        form: list[exp.Expression] = []
        vocab: list[exp.Expression] = []
        for c in t.columns:
            if c.name in ("record_id", "entry_no") or c.name == "has_scopes":
                continue
            if c.date:
                vcols.append(x.alias(x.valid_key(*parts(c, pn)), c.name + "__k"))
                vcols += list(parts(c, pn))
            if t is SUBJECTS or t is DATA_CATEGORIES:
                form.append(x.case([(x.is_null(x.col(c.name, pn)), x.text("PR302"))]))
                if c.name in self.vocab:
                    _f, vc = _column_code(t, c, pn, False, self.vocab[c.name])
                    if vc is not None:
                        vocab.append(vc)
                continue
            fc, vc = _column_code(t, c, pn, c.name in required, self.vocab.get(c.name))
            if fc is not None:
                form.append(fc)
            if vc is not None:
                vocab.append(vc)
        if t.list_field == "disclosure_orders":
            pass  # binding: BOOLEAN; a NULL binding is PR304 (required), above
        if self.scopes is not None:
            cols_s = list(self.scopes.values())
            vcols += [x.col(cname, pn) for cname in cols_s]
            vocab.append(x.col("scopes_vocab", pn))
        vcols += self.extra_v
        vcols.append(x.alias(_codes_first(form), "c_form"))
        vcols.append(x.alias(_codes_first(vocab), "c_vocab"))
        v = exp.select(*vcols, copy=False).from_(exp.Table(this=x.ident(pn)), copy=False)
        gcols: list[exp.Expression] = [x.col("record_id", self.v),
                                       x.alias(x.min_(x.col("c_form", self.v)), "form"),
                                       x.alias(x.min_(x.col("c_vocab", self.v)), "vocab"),
                                       x.alias(exp.Count(this=exp.Star()), "n")]
        for ids, pname in self.pivots.items():
            value = x.col("value", self.v)
            cond = x.eq(value, x.text(next(iter(ids)))) if len(ids) == 1 else x.in_(value, [x.text(i) for i in sorted(ids)])
            gcols.append(x.alias(x.max_(x.cast(exp.Paren(this=cond), "INT")), pname))
        g = exp.select(*gcols, copy=False).from_(exp.Table(this=x.ident(self.v)), copy=False).group_by(x.col("record_id", self.v))
        return [(pn, p), (self.v, v), (self.g, g)]

    def agg_cte(self) -> Cte | None:
        """``<t>_a``: the aggregates the questions register for this as_of, one row per record
        with rows; None when they register none (the table then joins no decision)."""
        if not self.aggs:
            return None
        acols: list[exp.Expression] = [x.col("record_id", self.v), *self.aggs]
        a = exp.select(*acols, copy=False).from_(exp.Table(this=x.ident(self.v)), copy=False).group_by(x.col("record_id", self.v))
        return (self.a, a)


def hold_scopes_cte(scopes: Mapping[str, str], known: frozenset[str]) -> Cte:
    """legal_hold_scopes per hold: one 0/1 column per scope a question asks about, and PR321
    for a scope the pack does not define (PR302 for a NULL scope)."""
    src = HOLD_SCOPES.name
    s = x.col("scope", src)
    cols: list[exp.Expression] = [x.col("record_id", src), x.col("entry_no", src)]
    for scope, cname in scopes.items():
        cols.append(x.alias(x.max_(x.case([(x.eq(s.copy(), x.text(scope)), x.num(1))], x.num(0))), cname))
    code = x.case([(x.is_null(s.copy()), x.text("PR302")),
                   (x.not_(x.in_(s.copy(), [x.text(v) for v in sorted(known)])), x.text("PR321"))])
    cols.append(x.alias(x.min_(code), "vocab"))
    q = exp.select(*cols, copy=False).from_(exp.Table(this=x.ident(src)), copy=False).group_by(x.col("record_id", src), x.col("entry_no", src))
    return (src + "_a", q)


class FactCols:
    """The pivoted columns of one pack-defined fact (``facts.NAME``) in ``records_v``."""

    def __init__(self, i: int) -> None:
        self.i = i
        self.t, self.n, self.b = f"f{i}_t", f"f{i}_n", f"f{i}_b"

    def ref(self, suffix: str) -> exp.Column:
        return x.col(f"f{self.i}_{suffix}", "j")

    def kind(self) -> exp.Expression:
        """1 boolean, 2 number, 3 string, NULL absent (runtime.BOOLEAN, NUMBER, STRING)."""
        return x.case([(x.not_null(self.ref("b")), x.num(1)), (x.not_null(self.ref("n")), x.num(2)),
                       (x.not_null(self.ref("t")), x.num(3))])

    def present(self) -> exp.Expression:
        return x.or_([x.not_null(self.ref(s)) for s in ("b", "n", "t")])

    def key(self) -> exp.Expression:
        return self.ref("k")

    def day_parts(self) -> tuple[exp.Expression, exp.Expression, exp.Expression]:
        return self.ref("y"), self.ref("m"), self.ref("d")

    def date_code(self) -> exp.Expression:
        """PR319 for a real day outside 1900..2200, else PR318 (not a date); for a present value."""
        y, m, d = self.day_parts()
        return x.case([(x.and_([x.not_null(self.ref("t")), x.real_day(y, m, d)]), x.text("PR319"))], x.text("PR318"))


def facts_cte(names: list[str], declared: frozenset[str]) -> Cte:
    """facts pivoted per record: for each fact a rule reads, its text, number and boolean (0/1)
    value; and the record's form problem: a name twice (PR307), a row with two values (PR302),
    a name the pack does not declare (PR340, declared.declared_facts; a row with no value too:
    a record's ``{"name": null}`` is still a key the pack must know)."""
    src = FACTS.name
    name = x.col("name", src)
    unknown = x.not_(x.in_(name.copy(), [x.text(n) for n in sorted(declared)])) if declared else x.true()
    cols: list[exp.Expression] = [x.col("record_id", src)]
    values = [x.col("value_text", src), x.col("value_number", src), x.col("value_boolean", src)]
    nonnull = [x.case([(x.not_null(v), x.num(1))], x.num(0)) for v in values]
    many = x.gt(x.add(x.add(nonnull[0], nonnull[1]), nonnull[2]), x.num(1))
    dup = x.gt(exp.Count(this=exp.Star()), exp.Count(this=exp.Distinct(expressions=[name.copy()])))
    cols.append(x.alias(x.case([(dup, x.text("PR307")),
                                   (x.eq(x.max_(x.case([(many, x.num(1))], x.num(0))), x.num(1)), x.text("PR302")),
                                   (x.eq(x.max_(x.case([(unknown, x.num(1))], x.num(0))), x.num(1)), x.text("PR340"))]),
                           "form"))
    for i, fact in enumerate(names):
        is_it = x.eq(name.copy(), x.text(fact))
        b = x.case([(x.eq(x.col("value_boolean", src), x.true()), x.num(1)),
                    (x.eq(x.col("value_boolean", src), x.false()), x.num(0))])
        cols.append(x.alias(x.max_(x.case([(is_it.copy(), x.col("value_text", src))])), f"f{i}_t"))
        cols.append(x.alias(x.max_(x.case([(is_it.copy(), x.col("value_number", src))])), f"f{i}_n"))
        cols.append(x.alias(x.max_(x.case([(is_it.copy(), b)])), f"f{i}_b"))
    q = exp.select(*cols, copy=False).from_(exp.Table(this=x.ident(src)), copy=False).group_by(x.col("record_id", src))
    return ("facts_a", q)


def _fact_value(i: int, suffix: str, default: bool | int | float | str | None) -> exp.Expression:
    """Column ``f{i}_{suffix}`` of facts_a, or the declared ``if_absent`` value when the fact has
    no value (no row, or a record without facts rows: records.normalize fills it the same way)."""
    got = x.col(f"f{i}_{suffix}", "facts_a")
    if default is None:
        return got
    if isinstance(default, bool):
        value = x.num(int(default)) if suffix == "b" else None
    elif isinstance(default, (int, float)):
        value = x.num(float(default)) if suffix == "n" else None
    else:
        value = x.text(default) if suffix == "t" else None
    absent = x.and_([x.is_null(x.col(f"f{i}_{s}", "facts_a")) for s in ("t", "n", "b")])
    return x.alias(x.case([(absent, value if value is not None else x.null())], got), f"f{i}_{suffix}")


def records_ctes(n_facts: int, subjects_vocab: frozenset[str],
                 defaults: list[bool | int | float | str | None] | None = None,
                 children: Sequence[Child] = (), extra: Sequence[exp.Expression] = ()) -> list[Cte]:
    """records_p and records_v: the record's scalars checked, its facts pivoted in (with each
    declared ``if_absent`` value, ``defaults[i]``, where fact i has none), each child table's
    per-record columns joined (``Child.g_columns``), and ``bad``: the record's first problem
    code, its own or its child rows' (every answer of the record is then undetermined);
    ``extra``: more columns of records_v over records_p's (window ends, ``we<i>``)."""
    src = RECORDS.name
    cols: list[exp.Expression] = [x.col(c.name, src) for c in RECORDS.columns]
    for c in RECORDS.columns:
        if c.date:
            cols += _parts_cols(c, src)
    cols.append(x.alias(x.col("form", "facts_a"), "facts_form"))
    for i in range(n_facts):
        default = defaults[i] if defaults else None
        for s in ("t", "n", "b"):
            cols.append(_fact_value(i, s, default))
        t = _fact_value(i, "t", default)
        y, m, d = x.date_parts(x.iso_text(t.this if isinstance(t, exp.Alias) else t))
        cols += [x.alias(y, f"f{i}_y"), x.alias(m, f"f{i}_m"), x.alias(d, f"f{i}_d")]
    for ch in children:
        cols += ch.g_columns()
    p = exp.select(*cols, copy=False).from_(exp.Table(this=x.ident(src)), copy=False).join(
        exp.Table(this=x.ident("facts_a")), on=x.eq(x.col("id", src), x.col("record_id", "facts_a")), join_type="LEFT", copy=False)
    for ch in children:
        p = p.join(exp.Table(this=x.ident(ch.g)), on=x.eq(x.col("id", src), x.col("record_id", ch.g)),
                   join_type="LEFT", copy=False)
    pn = "records_p"
    vcols: list[exp.Expression] = [exp.Star()]
    form: list[exp.Expression] = []
    rid = x.col("id", pn)
    form.append(x.case([(x.or_([x.is_null(rid.copy()), x.eq(x.length(rid.copy()), x.num(0))]), x.text("PR305")),
                        (x.gt(x.length(rid.copy()), x.num(200)), x.text("PR320"))]))
    for c in RECORDS.columns:
        if c.name in ("id", "has_subject_categories"):
            continue
        if c.date:
            vcols.append(x.alias(x.valid_key(*parts(c, pn)), c.name + "__k"))
        fc, _vc = _column_code(RECORDS, c, pn, False, None)
        if fc is not None:
            form.append(fc)
    form.append(x.col("facts_form", pn))
    for i in range(n_facts):
        vcols.append(x.alias(x.valid_key(x.col(f"f{i}_y", pn), x.col(f"f{i}_m", pn), x.col(f"f{i}_d", pn)),
                             f"f{i}_k"))
    vcols += extra
    vcols.append(x.alias(_codes_first(form), "c_form"))
    if children:
        # the record's own problems first, then its child rows' form, then vocabulary problems
        bad = [f.copy() for f in form] + [x.col(f"{ch.name}__form", pn) for ch in children]
        bad += [x.col(f"{ch.name}__vocab", pn) for ch in children]
        vcols.append(x.alias(_codes_first(bad), "bad"))
    v = exp.select(*vcols, copy=False).from_(exp.Table(this=x.ident(pn)), copy=False)
    return [(pn, p), ("records_v", v)]


def record_day(name: str) -> exp.Expression:
    """The key of a record day column (records_v), NULL when absent."""
    return x.col(name + "__k", "j")


def record_day_parts(name: str) -> tuple[exp.Expression, exp.Expression, exp.Expression]:
    return x.col(name + "__y", "j"), x.col(name + "__m", "j"), x.col(name + "__d", "j")


def child_tables(vocab_of: Callable[[str], Mapping[str, frozenset[str]]], scopes: Mapping[str, str],
                 pivots: Mapping[str, Sequence[frozenset[str]]] | None = None) -> dict[str, Child]:
    """Every child table; ``pivots``: per table, the value sets the pack's rules ask about."""
    piv = pivots or {}
    out = {SUBJECTS.name: Child(SUBJECTS, vocab_of(SUBJECTS.name), pivots=piv.get(SUBJECTS.name, ())),
           DATA_CATEGORIES.name: Child(DATA_CATEGORIES, vocab_of(DATA_CATEGORIES.name),
                                       pivots=piv.get(DATA_CATEGORIES.name, ()))}
    for name, table in LISTS.items():
        out[name] = Child(table, vocab_of(name), scopes if name == "legal_holds" else None)
    return out


__all__ = ["Child", "FactCols", "Cte", "child_tables", "facts_cte", "hold_scopes_cte", "records_ctes", "record_day",
           "record_day_parts", "parts"]
