"""The answers of a sweep written by DuckDB, byte for byte as the row engine writes them.

``privacy-rules evaluate --engine duckdb`` (cli/_duck.py) loads the records into the layout
tables (sql/ingest.py), then runs the compiled decision query (sql/compiler.py) once over all of
them. This module turns the query's answers into the output text of ``evaluate``: the JSON line
of sinks.jsonl_line, or the long rows of sinks.long_rows as csv.writer writes them (which the
Parquet and table sinks stage as CSV before loading). The text is built in SQL, from constants
computed here in Python (the rule heads, bases and articles of decide.tables_for, JSON- and
CSV-escaped by json and csv themselves) and the few values that vary per record (the record id,
the locator, keep_until, which rules an override or a prohibition overrode).

The row engine stays the oracle: an answer whose words the SQL cannot give exactly (the reason
of an undetermined answer names the missing facts; a deny:window-ended names the window and
the day it ended) makes its record ``text IS NULL``, and the caller decides that record with
the row engine (``raw``, its JSON text) and writes its Result in place. The four codes written
here, ``allow:permit``, ``allow:override``, ``deny:forbid``, ``deny:no-basis``, are the
answers a retention job mostly sees.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Sequence

from sqlglot import exp

from .._reasons import NO_BASIS_TEXT
from ..decide import FORBID, OVERRIDE, PERMIT, tables_for
from ..model import Action, Question
from ..policy import Policy
from . import _x as x
from .compiler import SqlQuery, compile_sql

#: the reason codes whose answer text the SQL writes (the rest: the row engine's)
SQL_CODES = ("allow:permit", "allow:override", "deny:forbid", "deny:no-basis")
#: and deny:window-ended of a keep question, when every permit whose window ended has one
#: `within` window: the reason names it and its last day, which the query gives (the lapse day)
WINDOW_ENDED = "deny:window-ended"

#: the wide table of answers, one row per record (``row``; per question j: o_j, r_j, ku_j, rc_j,
#: fo_j and po_j: the forbid and permit rules that hold, as "`a`, `b`")
WIDE = "pr_answers"
META = "pr_meta"


class SweepUnsupported(ValueError):
    """The pack's texts hold characters the SQL text builder does not write (control characters);
    the CLI falls back to the row engine."""


def _lit(text: str) -> exp.Expression:
    return exp.Literal.string(text)


def _cat(*parts: exp.Expression | str) -> exp.Expression:
    """``a || b || ...``; every part must be non-NULL (DuckDB's || gives NULL for a NULL part)."""
    nodes = [_lit(p) if isinstance(p, str) else p for p in parts if not (isinstance(p, str) and p == "")]
    if not nodes:
        return _lit("")
    out = nodes[0]
    for n in nodes[1:]:
        out = exp.DPipe(this=out, expression=n, safe=True)
    return out


def _replace(e: exp.Expression, old: str, new: str) -> exp.Expression:
    return exp.Anonymous(this="replace", expressions=[e, _lit(old), _lit(new)])


def _contains(e: exp.Expression, part: str) -> exp.Expression:
    return exp.Anonymous(this="contains", expressions=[e.copy(), _lit(part)])


def json_esc(e: exp.Expression) -> exp.Expression:
    """The inside of a JSON string as json.dumps(ensure_ascii=False) writes it, for text without
    control characters (the caller routes those to the row engine): ``\\`` and ``"`` escaped."""
    return _replace(_replace(e, "\\", "\\\\"), '"', '\\"')


def csv_field(e: exp.Expression) -> exp.Expression:
    """A field as csv.writer (QUOTE_MINIMAL, lineterminator "\\n") writes it: quoted when it
    holds the delimiter, the quote or a newline; an inner quote doubled."""
    needs = x.or_([_contains(e, ","), _contains(e, '"'), _contains(e, "\n")])
    return x.case([(needs, _cat('"', _replace(e.copy(), '"', '""'), '"'))], e.copy())


def _csv_const(value: str | None) -> str:
    if value is None or value == "":
        return ""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([value])
    return buf.getvalue()[:-1]


def _json_const(value: str | None) -> str:
    return json.dumps(value, ensure_ascii=False)


def _safe(text: str, what: str) -> str:
    if any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in text) or "\x00" in text:
        raise SweepUnsupported(f"{what} holds a control character; the SQL path writes no such text")
    return text


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    effect: int
    head: str  # "by `rule` (Art. 6(1)(f))"
    basis: str | None
    article: str | None
    within: tuple[str, ...] = ()  # the windows of its `within` conditions, in order


@dataclass(frozen=True, slots=True)
class _Q:
    text: str
    tag: str
    rules: tuple[_Rule, ...]
    keep: bool = False


@dataclass(frozen=True, slots=True)
class SweepQuery:
    """The SQL of one sweep: ``check`` (CREATE TABLE ... AS, the check layers), ``wide`` (CREATE
    TABLE pr_answers AS: the decision, one row per record), and the text query per output
    kind (:meth:`text_sql`)."""

    compiled: SqlQuery
    questions: tuple[_Q, ...]
    as_of: date
    pack_version: str

    # -- the decision, one row per record -------------------------------------------------------
    def check_sql(self) -> list[str]:
        return self.compiled.check_sql("duckdb")

    def _ended_cols(self, j: int, q: _Q, have: set[str]) -> list[exp.Expression]:
        """we_j: the words of a deny:window-ended answer after the no-basis text (per permit or
        override whose window ended, "`rule` no longer holds: its window `w` ended on DAY", as
        decide.ended_text and ended_windows: every ended window of the rule, in its order); wx_j:
        true when such a rule's window days are not columns of the query, whose words the row
        engine then writes."""
        texts, other = [], []
        for i, r in enumerate(q.rules):
            if r.effect not in (PERMIT, OVERRIDE) or not r.within or f"{q.tag}_w{i}" not in have:
                continue
            flag = x.and_([x.eq(x.col(f"{q.tag}_s{i}"), x.st(x.F)), x.eq(x.col(f"{q.tag}_w{i}"), x.true())])
            # one ended window: the rule's lapse day; several: each window's own (NULL while
            # open), in the rule's order, as decide.ended_windows lists them
            lapses = ([f"{q.tag}_l{i}"] if len(r.within) == 1
                      else [f"{q.tag}_l{i}_{k}" for k in range(len(r.within))])
            if all(c in have for c in lapses):
                for window, c in zip(r.within, lapses):
                    day = x.cast(x.key_to_date(x.col(c)), "VARCHAR")
                    texts.append(x.case([(x.and_([flag.copy(), x.not_null(x.col(c))]),
                                          _cat(f"`{r.id}` no longer holds: its window `{window}` ended on ", day))]))
            else:
                other.append(flag)
        we = exp.Anonymous(this="concat_ws", expressions=[_lit("; "), *texts]) if texts else _lit("")
        wx = x.or_(other) if other else x.false()
        return [x.alias(we, f"we{j}"), x.alias(x.coalesce(wx, x.false()), f"wx{j}")]

    def wide_sql(self) -> str:
        named_columns = self._u_columns()
        cols: list[exp.Expression] = [x.alias(x.cast(x.col("record_id"), "BIGINT"), "row")]
        for j, (q, answer) in enumerate(zip(self.questions, self.compiled.answers)):
            named = {e.alias: e.this for e in answer if isinstance(e, exp.Alias)}
            cols += [x.alias(named["outcome"].copy(), f"o{j}"), x.alias(named["decisive_rule"].copy(), f"r{j}"),
                     x.alias(named["keep_until"].copy(), f"ku{j}"), x.alias(named["reason_code"].copy(), f"rc{j}")]
            for name, effect in ((f"fo{j}", FORBID), (f"po{j}", PERMIT)):
                held = [x.case([(x.eq(x.col(f"{q.tag}_s{i}"), x.st(x.T)), _lit(f"`{r.id}`"))])
                        for i, r in enumerate(q.rules) if r.effect == effect]
                cols.append(x.alias(exp.Anonymous(this="concat_ws", expressions=[_lit(", "), *held])
                                    if held else _lit(""), name))
            cols += self._ended_cols(j, q, set(named_columns))
        sel = exp.select(*cols).from_(exp.Table(this=x.ident("u")))
        for name, cte in self.compiled.decide:
            sel = sel.with_(x.ident(name), as_=cte, copy=False)
        return exp.Create(this=exp.Table(this=x.ident(WIDE)), kind="TABLE", expression=sel).sql(dialect="duckdb")

    def _u_columns(self) -> list[str]:
        """The status columns layer ``u`` has (``<tag>_s<i>``, ``_w<i>``, ``_l<i>`` ...)."""
        out: list[str] = []
        for _name, cte in self.compiled.decide:
            out += [e.alias for e in cte.expressions if isinstance(e, exp.Alias)]
        return out

    # -- answer text --------------------------------------------------------------------------
    def _ok(self, table: str | None = "w") -> exp.Expression:
        """The SQL writes this record's answers: every answer's code is one it words exactly."""
        parts = []
        for j, q in enumerate(self.questions):
            rc = x.col(f"rc{j}", table)
            ok = x.in_(rc, [_lit(c) for c in SQL_CODES])
            ok = x.or_([ok, x.and_([x.eq(rc.copy(), _lit(WINDOW_ENDED)), x.not_(x.col(f"wx{j}", table))])])
            parts.append(ok)
        return x.and_(parts)

    def _reason(self, j: int, q: _Q) -> exp.Expression:
        rc, rule, ku = x.col(f"rc{j}", "w"), x.col(f"r{j}", "w"), x.col(f"ku{j}", "w")
        kutext = x.case([(x.is_null(ku.copy()), _lit(""))], _cat("; keep until ", x.cast(ku.copy(), "VARCHAR")))

        def over(col: str) -> exp.Expression:
            c = x.col(col, "w")
            return x.case([(x.eq(c.copy(), _lit("")), _lit(""))], _cat(", overriding ", c.copy()))

        def heads(outcome: str, effect: int) -> exp.Expression:
            return x.case([(x.eq(rule.copy(), _lit(r.id)), _lit(f"{outcome} {r.head}")) for r in q.rules
                           if r.effect == effect] or [(x.false(), _lit(""))], _lit(""))

        return x.case([
            (x.eq(rc.copy(), _lit("deny:no-basis")), _lit(NO_BASIS_TEXT)),
            (x.eq(rc.copy(), _lit(WINDOW_ENDED)), _cat(NO_BASIS_TEXT + "; ", x.col(f"we{j}", "w"))),
            (x.eq(rc.copy(), _lit("allow:permit")), _cat(heads("allow", PERMIT), kutext.copy())),
            (x.eq(rc.copy(), _lit("allow:override")), _cat(heads("allow", OVERRIDE), over(f"fo{j}"), kutext.copy())),
            # a forbid deny's keep_until (the day its window ended, decide.forbid_keep_until) is
            # not in its words: _reasons.Detailer.detail heads it with the decision's, None
            (x.eq(rc.copy(), _lit("deny:forbid")), _cat(heads("deny", FORBID), over(f"po{j}"))),
        ], _lit(""))

    def _by_rule(self, j: int, q: _Q, value: Any, render: Any, null: str) -> exp.Expression:
        """A per-rule constant of an allow answer (basis, article), rendered; ``null`` otherwise."""
        rule, rc = x.col(f"r{j}", "w"), x.col(f"rc{j}", "w")
        branches = [(x.eq(rule.copy(), _lit(r.id)), _lit(render(value(r)))) for r in q.rules if value(r) is not None]
        if not branches:
            return _lit(null)
        allow = x.in_(rc.copy(), [_lit("allow:permit"), _lit("allow:override")])
        return x.case([(allow, x.case(branches, _lit(null)))], _lit(null))

    def _rule_text(self, j: int, q: _Q, render: Any, null: str) -> exp.Expression:
        rule = x.col(f"r{j}", "w")
        return x.case([(x.eq(rule.copy(), _lit(r.id)), _lit(render(r.id))) for r in q.rules] or
                      [(x.false(), _lit(null))], _lit(null))

    def _answer_json(self, j: int, q: _Q) -> exp.Expression:
        ku = x.col(f"ku{j}", "w")
        ku_json = x.case([(x.is_null(ku.copy()), _lit("null"))], _cat('"', x.cast(ku.copy(), "VARCHAR"), '"'))
        return _cat('{"question": ', _json_const(q.text), ', "outcome": "', x.col(f"o{j}", "w"), '", "rule_id": ',
                    self._rule_text(j, q, _json_const, "null"), ', "keep_until": ', ku_json,
                    ', "problem": null, "basis": ', self._by_rule(j, q, lambda r: r.basis, _json_const, "null"),
                    ', "article": ', self._by_rule(j, q, lambda r: r.article, _json_const, "null"),
                    ', "reason_code": "', x.col(f"rc{j}", "w"), '", "reason": "', json_esc(self._reason(j, q)), '"}')

    def _jsonl(self) -> exp.Expression:
        line = x.col("line", "m")
        parts: list[exp.Expression | str] = [
            '{"line": ', x.case([(x.is_null(line.copy()), _lit("null"))], x.cast(line.copy(), "VARCHAR")),
            ', "record_id": "', json_esc(x.col("rid", "m")), '", "answers": [']
        for j, q in enumerate(self.questions):
            if j:
                parts.append(", ")
            parts.append(self._answer_json(j, q))
        parts += ['], "problem": null, "row": ', x.cast(x.col("row", "m"), "VARCHAR"), ', "locator": "',
                  json_esc(x.col("locator", "m")), '"}\n']
        return _cat(*parts)

    def _long(self) -> exp.Expression:
        head: list[exp.Expression | str] = [x.cast(x.col("row", "m"), "VARCHAR"), ",", csv_field(x.col("locator", "m")), ",",
                csv_field(x.col("rid", "m")), ","]
        tail = "," + _csv_const(self.as_of.isoformat()) + "," + _csv_const(self.pack_version) + "\n"
        parts: list[exp.Expression | str] = []
        for j, q in enumerate(self.questions):
            parts += [e.copy() if isinstance(e, exp.Expression) else e for e in head]
            parts += [_csv_const(q.text) + ",", x.col(f"o{j}", "w"), ",", self._rule_text(j, q, _csv_const, ""), ",",
                      self._by_rule(j, q, lambda r: r.basis, _csv_const, ""), ",",
                      self._by_rule(j, q, lambda r: r.article, _csv_const, ""), ",",
                      x.coalesce(x.cast(x.col(f"ku{j}", "w"), "VARCHAR"), _lit("")), ",", x.col(f"rc{j}", "w"), ",",
                      csv_field(self._reason(j, q)), "," + tail]  # the empty problem, as_of, pack_version
        return _cat(*parts)

    def text_sql(self, kind: str, *, limit: tuple[int, int] | None = None) -> str:
        """SELECT row, text, raw, locator, line, rid, len over the wide table and the meta table, in row order:
        ``text`` the record's output text (``kind`` jsonl, or csv for the long rows), NULL when
        the row engine must decide it, and then ``raw`` its JSON text (NULL for a JSON Lines
        line, which the caller re-reads: ``len`` is its length in bytes). ``limit``: rows
        (first, last)."""
        text = self._jsonl() if kind == "jsonl" else self._long()
        ok = self._ok()
        sel = exp.select(x.col("row", "m"), x.alias(x.case([(ok, text)]), "text"),
                         x.alias(x.case([(ok.copy(), x.null())], x.col("raw", "m")), "raw"),
                         x.col("locator", "m"), x.col("line", "m"), x.col("rid", "m"), x.col("len", "m"))
        # every row of pr_meta: one the layout does not hold (a JSON line the SQL path does not
        # vouch for) has no answers, so NULL text: the row engine's
        sel = sel.from_(exp.Table(this=x.ident(META), alias=exp.TableAlias(this=x.ident("m"))))
        sel = sel.join(exp.Table(this=x.ident(WIDE), alias=exp.TableAlias(this=x.ident("w"))),
                       on=x.eq(x.col("row", "w"), x.col("row", "m")), join_type="LEFT")
        if limit is not None:
            sel = sel.where(x.and_([x.gte(x.col("row", "m"), x.num(limit[0])), x.lte(x.col("row", "m"), x.num(limit[1]))]))
        return sel.order_by(x.col("row", "m")).sql(dialect="duckdb")

    def tally_sql(self, last_row: int | None = None) -> str:
        """Per question: (j, outcome, reason code, count) of the rows the SQL writes (up to ``last_row``)."""
        selects = []
        for j in range(len(self.questions)):
            sel = exp.select(x.alias(x.num(j), "j"), x.col(f"o{j}"), x.col(f"rc{j}"),
                             exp.Count(this=exp.Star())).from_(exp.Table(this=x.ident(WIDE)))
            cond = [self._ok(None)]
            if last_row is not None:
                cond.append(x.lte(x.col("row"), x.num(last_row)))
            selects.append(sel.where(x.and_(cond)).group_by(x.col(f"o{j}"), x.col(f"rc{j}")))
        q: exp.Query = selects[0]
        for s in selects[1:]:
            q = exp.union(q, s, distinct=False)
        return q.sql(dialect="duckdb")


def sweep_query(policy: Policy, questions: Sequence[Question], as_of: date) -> SweepQuery:
    """Compile the sweep for ``questions`` on ``as_of``; raises SqlUnsupported (the compiler's
    refusal, naming the rule) or SweepUnsupported."""
    policy = policy.for_questions(questions)  # recipients the questions describe (issue 11): the pack's for SQL
    pack = policy.pack
    compiled = compile_sql(pack, list(questions), as_of)
    qs = []
    for (tag, ids), q in zip(compiled.tags, questions):
        plan = policy.plan(q)[0]
        tables = tables_for(pack, plan, policy.lang)
        if tuple(r.id for r in plan.rules) != ids:  # the status columns must be the row engine's rules
            raise SweepUnsupported(f"the SQL rules of `{q}` are not the row engine's")
        rules = tuple(_Rule(r.id, tables.effects[i], _safe(tables.heads[i], f"rule `{r.id}`"),
                            b.id if (b := tables.basis[i]) else None,
                            _safe(b.article, f"rule `{r.id}`'s article") if b and b.article is not None else None,
                            tuple(str(p.arg) for p in r.when if p.kind == "within"))
                      for i, r in enumerate(plan.rules))
        qs.append(_Q(_safe(str(q), "a question"), tag, rules, q.action is Action.KEEP))
    return SweepQuery(compiled, tuple(qs), as_of, _safe(pack.version, "the pack version"))


__all__ = ["META", "SQL_CODES", "SweepQuery", "SweepUnsupported", "WIDE", "csv_field", "json_esc", "sweep_query"]
