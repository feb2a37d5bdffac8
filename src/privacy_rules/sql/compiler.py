"""A pack + questions + as_of -> one SQL query (a sqlglot AST) that decides every record.

The query returns one row per record and question (docs/sql.md): record_id, question, outcome,
decisive_rule, basis, keep_until, reason_code, problem_code. It is the row engine's decision
(policy.Policy.decide_batch with reasons) written in SQL:

* each rule's status is Kleene three-valued, encoded 0/1/2 (``_x``), per predicate exactly as
  compile/runtime.py defines it (the plain definitions: compile/interpret.py ``holds``);
* the combining order (docs/rule-language.md section 3; decide.combine) is unrolled per question;
* calendar cut-offs (dates.iso_cutoff: the smallest anchor still inside a window on as_of) are
  computed in Python for this as_of and bound as constants; window *ends* (keep_until) are
  integer arithmetic on the anchor's year, month and day with the clamp written out
  (``_x.end_key``), never an engine's interval arithmetic;
* a record whose values break the record format (an impossible day, a date-time, an unknown
  enum value or vocabulary id, a missing required entry field) is undetermined with reason
  ``undetermined:bad-record`` and its problem code, for every question.

A construct this compiler cannot yet express exactly is refused with SqlUnsupported naming the
rule, never compiled approximately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Sequence

from sqlglot import exp

from ..compile.runtime import (BOOLEAN, NUMBER, STRING, fact_operand, in_force, mech_table, mechanism_counts,
                               transfer_lawful)
from ..dates import iso_cutoff, parse_as_of
from ..declared import declared_facts
from ..model import CONSENT_MECHANISMS, DEFAULT_CONSENT_MECHANISMS, Action, Effect, Pack, Pred, Question, Rule
from ..records import LIST_DATE_PATHS, RELATIONSHIP_FIELDS
from ..targets import targets
from ..question_facts import QUESTION_CONSTANTS, question_constant, recipient_unknown
from ..recipients import RecipientFactsError, described_recipients, with_recipients
from . import _x as x
from ._tables import (Child, FactCols, child_tables, facts_cte, hold_scopes_cte, record_day,
                      records_ctes)
from .layout import REL_PREFIX

#: The reason codes the query gives (as _reasons.py; undetermined:internal-error never).
OUTPUT_COLUMNS = ("record_id", "question", "outcome", "decisive_rule", "basis", "keep_until", "reason_code",
                  "problem_code")

_DATE_OPS = ("before", "on_or_before", "after", "on_or_after")
_DAY_PATHS = frozenset([f"relationship.{k}" for k in RELATIONSHIP_FIELDS] + ["art14_informed_on"])
_TEXT_PATHS = frozenset(["contact_address_kind", "source"])


class SqlUnsupported(ValueError):
    """A rule uses a construct the SQL compiler does not (yet) express exactly."""

    def __init__(self, rule_id: str, what: str) -> None:
        super().__init__(f"rule `{rule_id}`: {what} cannot be compiled to SQL yet (docs/sql.md, "
                         "\"What the SQL compiler refuses\"); decide this pack with the row engine")
        self.rule_id = rule_id


@dataclass(frozen=True, slots=True)
class SqlQuery:
    """The compiled query: ``sql(dialect)`` writes it for one engine.

    ``check`` are the common table expressions that depend on the pack only (each table read,
    its days checked: the ``_p`` and ``_v`` layers); ``decide`` the rest (aggregates for this
    as_of, statuses, combining) and ``final`` the answer rows. ``sql()`` writes one statement;
    ``staged()`` writes the check layers as tables once and the decision as a query over them,
    so that many as_of days (or question sets) reuse one check of the data.
    """

    check: tuple[tuple[str, exp.Select], ...]
    decide: tuple[tuple[str, exp.Select], ...]
    final: exp.Query
    questions: tuple[Question, ...]
    as_of: date
    pack_id: str
    #: per question (in order): the tag of its columns in layer ``u`` and its rules' ids in the
    #: order of their status columns (``<tag>_s<i>``), for callers that build their own final
    #: select over ``u`` (sql/sweep.py writes answer text from the statuses)
    tags: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: per question (in order): its answer columns over layer ``u`` (record_id, then the other
    #: OUTPUT_COLUMNS as aliases), which ``final`` crosses with the question numbers
    answers: tuple[tuple[exp.Expression, ...], ...] = ()

    @property
    def query(self) -> exp.Query:
        return self._with(self.check + self.decide)

    def _with(self, ctes: tuple[tuple[str, exp.Select], ...], dialect: str | None = None) -> exp.Query:
        query = self.final.copy()
        for name, cte in ctes:
            query = query.with_(x.ident(name), as_=cte, copy=False)  # shared, never mutated
        if dialect == "postgres":
            # PostgreSQL inlines a CTE read once and then substitutes each column's expression
            # at every reference: the layers' CASEs, which read the layer below many times,
            # multiply, and planning and running one decision took its backend past 5 GB.
            # MATERIALIZED computes each layer once, as every other engine here does.
            with_ = query.args.get("with_") or query.args.get("with")
            for cte in with_.expressions if with_ is not None else []:
                cte.set("materialized", True)
        return query

    def sql(self, dialect: str = "duckdb", *, pretty: bool = True) -> str:
        return self._with(self.check + self.decide, dialect).sql(dialect=dialect, pretty=pretty)

    def staged(self, dialect: str = "duckdb", *, pretty: bool = False) -> tuple[list[str], str]:
        """(CREATE TABLE ... AS statements for the check layers, in order; the decision query
        reading them). The tables depend on the pack and the data only, never on as_of."""
        return self.check_sql(dialect, pretty=pretty), self.decide_sql(dialect, pretty=pretty)

    def check_sql(self, dialect: str = "duckdb", *, pretty: bool = False) -> list[str]:
        """CREATE TABLE ... AS statements for the check layers, in order."""
        return [exp.Create(this=exp.Table(this=x.ident(name)), kind="TABLE", expression=cte
                           ).sql(dialect=dialect, pretty=pretty) for name, cte in self.check]

    def decide_sql(self, dialect: str = "duckdb", *, pretty: bool = False) -> str:
        """The decision query over the check layers' tables."""
        return self._with(self.decide, dialect).sql(dialect=dialect, pretty=pretty)


def _column_path(path: str) -> str:
    """The records column of a scalar record path."""
    return REL_PREFIX + path.split(".", 1)[1] if path.startswith("relationship.") else path


@dataclass
class _Cond:
    status: exp.Expression  # 0/1/2
    prob: exp.Expression | None = None  # problem code (PR317-PR319) when unknown for a present value


@dataclass
class _Ctx:
    pack: Pack
    asof: str
    cuts: dict[str, str]
    children: dict[str, Child]
    facts: list[str]
    scopes: dict[str, str]
    #: window id -> its end's column (``we<i>``: the anchor plus the window's months, a key, computed
    #: in the check stage, in records_v for a record day or fact, in ``<t>_v`` per entry of a list)
    ends: dict[str, str] = field(default_factory=dict)
    keep_status: exp.Expression | None = None
    keep_prob: exp.Expression | None = None
    wants_keep: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def A(self) -> exp.Expression:
        return x.day_key(self.asof)

    def fact(self, path: str) -> FactCols:
        return FactCols(self.facts.index(path.split(".", 1)[1]))  # _pack_facts lists every one read


class _Question:
    """The statuses, keep_until ends and window-ended flags of one question's rules."""

    def __init__(self, ctx: _Ctx, q: Question) -> None:
        self.ctx = ctx
        self.q = q
        pack = ctx.pack
        self.rules: tuple[Rule, ...] = tuple(r for r in pack.rules if targets(r, q, pack))
        self.rule: Rule | None = None
        #: per rule index with several `within` windows: each window's last day when it ended
        #: (NULL otherwise), in the rule's order: the sweep words each ended window as
        #: decide.ended_windows lists them
        self.window_lapses: dict[int, list[exp.Expression]] = {}

    # -- predicates --------------------------------------------------------------------------
    def cond(self, p: Pred) -> _Cond:
        k, a = p.kind, p.arg
        c = self.ctx
        A = c.A
        if k in ("all", "any", "not"):
            subs = [self.cond(ch) for ch in p.children]
            if k == "all":
                status = x.k_and([s.status for s in subs])
            elif k == "any":
                status = x.k_or([s.status for s in subs])
            else:
                status = x.k_not(subs[0].status)
            probs = [s.prob for s in subs if s.prob is not None]
            if not probs:
                return _Cond(status)
            prob = x.case([(x.eq(status.copy(), x.st(x.U)), probs[0] if len(probs) == 1 else x.coalesce(*probs))])
            return _Cond(status, prob)
        if k == "role":
            role = x.col("role", "j")
            return _Cond(x.tri(x.eq(role.copy(), x.text(a)), x.is_null(role.copy())))
        if k == "subject":
            ids = [a] if isinstance(a, str) else list(a)
            # a status of the check stage (no as_of): records_v's column, _subject_statuses
            return _Cond(x.col(_subject_status(c.children["subject_categories"], frozenset(ids)), "j"))
        if k in ("within", "expired"):
            return self.window(k, a)
        if k == "happened":
            if a.startswith("facts."):
                f = c.fact(a)
                d = f.key()
                unusable = x.and_([f.present(), x.is_null(d.copy())])
                status = x.tri(x.and_([x.not_null(d.copy()), x.lte(d.copy(), A)]), unusable)
                return _Cond(status, x.case([(unusable.copy(), f.date_code())]))
            if a not in _DAY_PATHS:
                raise self.unsupported(f"`happened: {a}` (not a day field)")
            d = record_day(_column_path(a))
            return _Cond(x.tri(x.and_([x.not_null(d.copy()), x.lte(d.copy(), A)])))
        if k == "consent":
            return _Cond(self.consent(a, None))
        if k == "consent_for_question":
            rec = self.q.recipient if self.q.action is Action.SHARE else None
            if self.q.purpose is None:
                return _Cond(x.st(x.F))
            if a == "since_restriction":
                return _Cond(self.consent_since_restriction(self.q.purpose, rec))
            return _Cond(self.consent(self.q.purpose, rec))
        if k == "consent_withdrawn":
            purposes = sorted(c.pack.vocabulary.purposes) if a == "any" else [a]
            return _Cond(x.k_or([self.withdrawn(p_) for p_ in purposes]))
        if k == "objection":
            ch = c.children["objections"]
            kind, got, wd, cg = ch.c("kind"), ch.c("received_on"), ch.c("withdrawn_on"), ch.c("compelling_grounds_on")
            conds = [x.lte(got, A), x.or_([x.is_null(wd.copy()), x.gt(wd.copy(), A.copy())]),
                     # N44: 21(1) yields to compelling grounds documented by as_of; 21(2) is absolute
                     x.not_(x.and_([x.eq(kind.copy(), x.text("art21_1")), x.not_null(cg.copy()),
                                    x.lte(cg.copy(), A.copy())]))]
            if a != "any":
                conds.insert(0, x.eq(kind.copy(), x.text(a)))
            return _Cond(self.exists(ch, conds))
        if k == "restriction":
            ch = c.children["restrictions"]
            req, lifted, ground = ch.c("requested_on"), ch.c("lifted_on"), ch.c("ground")
            conds = [x.lte(req, A), x.or_([x.is_null(lifted.copy()), x.gt(lifted.copy(), A.copy())])]
            if a != "active":
                conds.append(x.eq(ground, x.text(a)))
            return _Cond(self.exists(ch, conds))
        if k == "erasure":
            ch = c.children["erasure_requests"]
            got, ver, cg = ch.c("received_on"), ch.c("verified_on"), ch.c("compelling_grounds_on")
            if a == "requested":
                conds = [x.lte(got, A)]
            elif a == "unanswered":  # N43: received and not answered by as_of
                ans = ch.c("answered_on")
                conds = [x.lte(got, A), x.or_([x.is_null(ans.copy()), x.gt(ans.copy(), A.copy())])]
            else:
                conds = [x.not_null(ver.copy()), x.lte(ver.copy(), A)]
                if a == "granted":
                    conds.append(x.or_([x.is_null(cg.copy()), x.gt(cg.copy(), A.copy())]))
                elif a != "verified":
                    raise self.unsupported(f"`erasure: {a}`")
            return _Cond(self.exists(ch, conds))
        if k == "unlisted":  # unknown while the record lists no entry, else false (N47, R11)
            n = c.children[a].j("n")
            return _Cond(x.tri(x.false(), x.eq(x.coalesce(n, x.num(0)), x.num(0))))
        if k == "rights_request":
            flags = []
            for name in ("rights_requests",) if a == "unanswered_rights" else ("erasure_requests", "rights_requests"):
                ch = c.children[name]
                got, ver, ans = ch.c("received_on"), ch.c("verified_on"), ch.c("answered_on")
                conds = [x.lte(got, A.copy()), x.or_([x.is_null(ans.copy()), x.gt(ans.copy(), A.copy())])]
                if a == "pending_verification":
                    conds.append(x.or_([x.is_null(ver.copy()), x.gt(ver.copy(), A.copy())]))
                flags.append(self.exists(ch, conds))
            return _Cond(x.k_or(flags))
        if k == "legal_hold":
            ch = c.children["legal_holds"]
            placed, released = ch.c("placed_on"), ch.c("released_on")
            conds = [x.lte(placed, A), x.or_([x.is_null(released.copy()), x.gt(released.copy(), A.copy())])]
            scope = (self.q.scope or c.pack.default_scope) if self.q.action is Action.KEEP else None
            if scope is not None:  # R21: a hold naming scopes covers only those
                colname = c.scopes.setdefault(scope, f"s{len(c.scopes)}")
                conds.append(x.or_([x.eq(x.coalesce(ch.c("has_scopes"), x.false()), x.false()),
                                    x.eq(x.coalesce(x.col(colname, ch.v), x.num(0)), x.num(1))]))
            return _Cond(self.exists(ch, conds))
        if k == "legal_order":
            ch = c.children["disclosure_orders"]
            if self.q.recipient is None:
                return _Cond(x.st(x.F))
            conds = [x.eq(ch.c("recipient"), x.text(self.q.recipient)), x.eq(ch.c("binding"), x.true()),
                     x.lte(ch.c("received_on"), A)]
            return _Cond(self.exists(ch, conds))
        if k == "data_category":
            ch = c.children["data_categories"]
            return _Cond(x.mul(x.num(2), ch.pivot(frozenset([a]))))
        if k == "keep":
            c.wants_keep = True
            if c.keep_status is None:  # the keep question itself never reads `keep:` (validate)
                raise self.unsupported("`keep: allowed` in a keep rule")
            kprob = None if c.keep_prob is None else x.case([(x.eq(c.keep_status.copy(), x.st(x.U)), c.keep_prob.copy())])
            return _Cond(c.keep_status.copy(), kprob)
        if k in ("processor_dpa", "transfer", "recipient_listed", "recipient_serves", "channel_electronic",
                 "categories_beyond", "shares_category"):
            value = self.constant(k, a)
            return _Cond(x.st(x.U if value is None else x.T if value else x.F))
        if k == "fact":
            return self.fact(a)
        if k == "compare":  # two days of the record (docs/rule-language.md, "Comparing two dates")
            left, right = self.day(a["left"]), self.day(a["right"])
            cmp = {"before": x.lt, "on_or_before": x.lte, "after": x.gt, "on_or_after": x.gte}[a["op"]](left, right)
            absent = x.st(x.U) if a["if_absent"] is None else x.st(x.T if a["if_absent"] else x.F)
            return _Cond(x.case([(x.or_([x.is_null(left.copy()), x.is_null(right.copy())]), absent),
                                 (cmp, x.st(x.T))], x.st(x.F)))
        raise self.unsupported(f"the predicate `{k}`")

    def day(self, operand: Any) -> exp.Expression:
        """A `compare` operand's day key, NULL when absent (runtime.cday, wend)."""
        if operand == "as_of":
            return self.ctx.A
        if isinstance(operand, tuple):  # the end of a window on a record day field (validate PR243)
            w = self.ctx.pack.vocabulary.windows[operand[1]]
            if w.anchor not in _DAY_PATHS:
                raise self.unsupported(f"`compare` on the end of window `{w.id}`")
            key = record_day(_column_path(w.anchor))
            return x.case([(x.and_([x.not_null(key.copy()), x.lte(key.copy(), self.ctx.A)]),
                            x.col(self.ctx.ends[w.id], "j"))])
        if operand not in _DAY_PATHS:
            raise self.unsupported(f"`compare` on `{operand}`")
        return record_day(_column_path(operand))

    def unsupported(self, what: str) -> SqlUnsupported:
        return SqlUnsupported(self.rule.id if self.rule else "?", what)

    def exists(self, ch: Child, conds: list[exp.Expression]) -> exp.Expression:
        """2 when some entry meets every condition, else 0: arithmetic, not a CASE (DuckDB's
        planning time grows faster than linearly with the number of CASE expressions)."""
        return x.mul(x.num(2), ch.count(x.and_(conds)))

    def live(self, ch: Child) -> list[exp.Expression]:
        # R20: counts from its given day; the withdrawal day itself counts as withdrawn
        g, w = ch.c("given_on"), ch.c("withdrawn_on")
        A = self.ctx.A
        return [x.not_null(g.copy()), x.lte(g.copy(), A), x.or_([x.is_null(w.copy()), x.gt(w.copy(), A.copy())])]

    def mechanism(self, ch: Child, purpose: str) -> tuple[exp.Expression, exp.Expression | None]:
        """(the entry's mechanism counts, its mechanism is not recorded) for ``purpose`` on this
        as_of: runtime.mechanism_counts with the pack's table folded into a constant set here
        (N53). The second is None in a pack without vocabulary.consent_mechanisms (absent counts)."""
        table = mech_table(self.ctx.pack.vocabulary)
        m = ch.c("mechanism")
        if table is None:
            return x.or_([x.is_null(m.copy()), x.in_(m.copy(), [x.text(v) for v in sorted(DEFAULT_CONSENT_MECHANISMS)])]), None
        counting = sorted({v for v in CONSENT_MECHANISMS if mechanism_counts(table, v, purpose, self.ctx.asof)})
        ok = x.in_(m.copy(), [x.text(v) for v in counting]) if counting else x.false()
        return x.and_([x.not_null(m.copy()), ok]), x.is_null(m.copy())

    def consent(self, purpose: str, recipient: str | None) -> exp.Expression:
        ch = self.ctx.children["consents"]
        conds = [x.eq(ch.c("purpose"), x.text(purpose))]
        if recipient is not None:
            conds.append(x.eq(ch.c("recipient"), x.text(recipient)))
        ok, unsure = self.mechanism(ch, purpose)
        valid = self.exists(ch, conds + self.live(ch) + [ok])
        if unsure is None:
            return valid
        maybe = ch.flag(x.and_([c.copy() for c in conds] + self.live(ch) + [unsure]))
        # 2 when a live consent counts, else 1 when one's mechanism is not recorded, else 0
        return x.k_or([valid, x.tri(x.false(), maybe)])

    def consent_since_restriction(self, purpose: str, recipient: str | None) -> exp.Expression:
        """``consent_for_question: since_restriction`` (Art. 18(2), R6): as :meth:`consent`,
        counting only consents given after every restriction active on as_of was requested
        (runtime.restriction_began). Two child tables meet only in the decision layer, so each
        side is a per-record aggregate: the latest such request, and the latest given day of a
        consent that counts (or whose mechanism is not recorded); some consent was given after
        the bound exactly when the latest one was."""
        A = self.ctx.A
        r = self.ctx.children["restrictions"]
        req, lifted = r.c("requested_on"), r.c("lifted_on")
        active = x.and_([x.lte(req.copy(), A.copy()), x.or_([x.is_null(lifted.copy()), x.gt(lifted.copy(), A.copy())])])
        began = r.agg(x.max_(x.case([(active, req.copy())])))
        ch = self.ctx.children["consents"]
        conds = [x.eq(ch.c("purpose"), x.text(purpose))]
        if recipient is not None:
            conds.append(x.eq(ch.c("recipient"), x.text(recipient)))
        ok, unsure = self.mechanism(ch, purpose)

        def after(extra: exp.Expression) -> exp.Expression:
            latest = ch.agg(x.max_(x.case([(x.and_([c.copy() for c in conds] + self.live(ch) + [extra]),
                                             ch.c("given_on"))])))
            return x.and_([x.not_null(latest.copy()), x.or_([x.is_null(began.copy()), x.gt(latest.copy(), began.copy())])])

        valid = x.tri(after(ok))
        if unsure is None:
            return valid
        # 2 when a consent that counts was given after, else 1 when one whose mechanism is not recorded was
        return x.k_or([valid, x.tri(x.false(), after(unsure))])

    def withdrawn(self, purpose: str) -> exp.Expression:
        """consent_withdrawn for one purpose: one withdrawn by as_of, and none live that counts
        (R10, R20; an invalid mechanism is no consent, N53); unknown when the only live ones have
        no recorded mechanism."""
        ch = self.ctx.children["consents"]
        A = self.ctx.A
        is_p = x.eq(ch.c("purpose"), x.text(purpose))
        ok, unsure = self.mechanism(ch, purpose)
        live = ch.flag(x.and_([is_p.copy()] + self.live(ch) + [ok]))
        w = ch.c("withdrawn_on")
        gone = ch.flag(x.and_([is_p.copy(), x.not_(x.and_(self.live(ch))), x.not_null(w.copy()), x.lte(w.copy(), A)]))
        if unsure is None:
            return x.tri(x.and_([gone, x.not_(live)]))
        maybe = ch.flag(x.and_([is_p.copy()] + self.live(ch) + [unsure]))
        return x.tri(x.and_([gone, x.not_(live), x.not_(maybe)]),
                     x.and_([gone.copy(), x.not_(live.copy()), maybe.copy()]))

    def constant(self, k: str, a: Any) -> bool | None:
        """Predicates of the question and the pack only: decided here, for this as_of (None:
        unknown, a fact an unlisted recipient was described without, issue 11 item 2)."""
        v = self.ctx.pack.vocabulary
        asof = self.ctx.asof
        if k == "channel_electronic":
            ch = v.channels.get(self.q.channel or "")
            if ch is None:
                raise self.unsupported(f"`channel_electronic` on question `{self.q}`")
            return bool(ch.get("electronic")) == bool(a)
        r = v.recipients.get(self.q.recipient or "")
        if r is None:
            raise self.unsupported(f"`{k}` on question `{self.q}` (no recipient)")
        if k in ("processor_dpa", "transfer") and recipient_unknown(self.ctx.pack, self.q, k):
            return None
        if k in QUESTION_CONSTANTS:
            return question_constant(k, a, self.q, self.ctx.pack)
        if k == "processor_dpa":
            return in_force(r.dpa_signed_on, r.dpa_ends_on, asof)
        if k == "transfer":
            if r.eea:
                return True
            spans = tuple((t.from_on, t.until_on, v.transfer_mechanisms[t.mechanism].valid_from,
                           v.transfer_mechanisms[t.mechanism].valid_until) for t in r.transfers)
            return transfer_lawful(spans, asof)
        if k == "recipient_listed":
            return r.listed_in_policy == bool(a)
        return self.q.purpose in r.purposes  # recipient_serves

    # -- windows -----------------------------------------------------------------------------
    def anchor(self, wid: str) -> tuple[exp.Expression, exp.Expression | None, exp.Expression | None]:
        """(the anchor's day key, the unusable condition, its problem code) for a scalar window."""
        w = self.ctx.pack.vocabulary.windows[wid]
        if w.anchor.startswith("facts."):
            f = self.ctx.fact(w.anchor)
            return f.key(), x.and_([f.present(), x.is_null(f.key())]), f.date_code()
        if w.anchor not in _DAY_PATHS:
            raise self.unsupported(f"window `{wid}` anchored on `{w.anchor}` (not a day field)")
        return record_day(_column_path(w.anchor)), None, None

    def latest(self, wid: str) -> exp.Expression:
        """A list window's anchor: the latest day on or before as_of (any, with count_future)."""
        w = self.ctx.pack.vocabulary.windows[wid]
        name, _idx = LIST_DATE_PATHS[w.anchor]
        field_ = w.anchor.split("[].", 1)[1]
        ch = self.ctx.children[name]
        d = self.day_of(ch, name, field_)
        if w.count_future:
            return ch.agg(x.max_(d))
        return ch.agg(x.max_(x.case([(x.lte(d.copy(), self.ctx.A), d.copy())])))

    def day_of(self, ch: Child, name: str, field_: str) -> exp.Expression:
        d = ch.c(field_)
        if name == "vouchers" and field_ == "fiscal_year_end":  # R11: 31 December of fiscal_year by default
            return x.coalesce(d, x.add(x.mul(ch.c("fiscal_year"), x.num(10000)), x.num(1231)))
        return d

    def window(self, k: str, wid: str) -> _Cond:
        w = self.ctx.pack.vocabulary.windows[wid]
        A, cut = self.ctx.A, x.day_key(self.ctx.cuts[wid])
        if w.is_list:
            d = self.latest(wid)
            if k == "within":
                return _Cond(x.tri(x.and_([x.not_null(d.copy()), x.gte(d.copy(), cut)])))
            return _Cond(x.tri(x.and_([x.not_null(d.copy()), x.lt(d.copy(), cut)])))
        d, unusable, code = self.anchor(wid)
        branches: list[tuple[exp.Expression, exp.Expression]] = []
        if unusable is not None:
            branches.append((unusable.copy(), x.st(x.U)))
        absent = x.st(x.T if k == "within" else x.F) if w.open_if_absent else x.st(x.U)
        branches.append((x.is_null(d.copy()), absent))
        # an anchor after as_of has not happened: an open relationship, or a window not yet begun
        branches.append((x.gt(d.copy(), A), x.st(x.T if (k == "within" and w.open_if_absent) else x.F)))
        if k == "within":
            branches.append((x.gte(d.copy(), cut), x.st(x.T)))
        else:
            branches.append((x.lt(d.copy(), cut.copy()), x.st(x.T)))
        status = x.case(branches, x.st(x.F))
        prob = x.case([(unusable.copy(), code)]) if unusable is not None and code is not None else None
        return _Cond(status, prob)

    def window_end(self, wid: str) -> exp.Expression:
        """The window's last day for this record (a key), NULL when open-ended or without anchor
        (decide.window_end_of: an open_if_absent window whose anchor is ahead ends on it plus
        its length); only read for a `within` condition that holds."""
        w = self.ctx.pack.vocabulary.windows[wid]
        A = self.ctx.A
        if w.is_list:
            name, _idx = LIST_DATE_PATHS[w.anchor]
            field_ = w.anchor.split("[].", 1)[1]
            ch = self.ctx.children[name]
            day = self.day_of(ch, name, field_)
            end = ch.c(self.ctx.ends[wid])  # monotone in the anchor: the latest's end is the greatest end
            if w.count_future:
                return ch.agg(x.max_(x.case([(x.not_null(day.copy()), end)])))
            return ch.agg(x.max_(x.case([(x.and_([x.not_null(day.copy()), x.lte(day.copy(), A)]), end)])))
        key = self.ctx.fact(w.anchor).key() if w.anchor.startswith("facts.") else record_day(_column_path(w.anchor))
        # an open_if_absent window with its anchor ahead is open with a known end (R3)
        begun = x.true() if w.open_if_absent else x.lte(key.copy(), A)
        return x.case([(x.and_([x.not_null(key.copy()), begun]), x.col(self.ctx.ends[wid], "j"))])

    def window_ended(self, wid: str) -> exp.Expression:
        """The window has a last day and it is before as_of (a SQL boolean, never NULL)."""
        w = self.ctx.pack.vocabulary.windows[wid]
        A, cut = self.ctx.A, x.day_key(self.ctx.cuts[wid])
        d = self.latest(wid) if w.is_list else self.anchor(wid)[0]
        return x.case([(x.and_([x.not_null(d.copy()), x.lte(d.copy(), A), x.lt(d.copy(), cut)]), x.true())], x.false())

    # -- fact conditions ---------------------------------------------------------------------
    def fact(self, a: Any) -> _Cond:
        path, op, operand = a["path"], a["op"], a["value"]
        if op not in ("equals", "not_equals", "in", "not_in", *_DATE_OPS):
            raise self.unsupported(f"the `fact` operator `{op}`")
        if path.startswith("facts."):
            return self.pack_fact(self.ctx.fact(path), op, operand)
        if op in _DATE_OPS:
            if path not in _DAY_PATHS:
                raise self.unsupported(f"`{op}` on `{path}` (not a day field)")
            d = record_day(_column_path(path))
            return _Cond(x.tri(self.compare(op, d, x.day_key(operand)), x.is_null(d.copy())))
        if path not in _DAY_PATHS and path not in _TEXT_PATHS:
            raise self.unsupported(f"a `fact` condition on `{path}`")
        raw = x.col(_column_path(path), "j")
        _name, prepared = fact_operand(op, operand)
        if op in ("equals", "not_equals"):
            kind, value = prepared
            if kind != STRING:  # a string field compared with another kind: PR213 in `check`
                raise self.unsupported(f"`{op}` of the string field `{path}` with a value that is no string")
            same = x.eq(raw.copy(), x.text(value))
        else:
            strings = prepared[STRING]
            if strings is None:
                raise self.unsupported(f"`{op}` of the string field `{path}` with no string in the list")
            same = x.in_(raw.copy(), [x.text(s) for s in sorted(strings)])
        if op in ("not_equals", "not_in"):
            same = x.not_(same)
        return _Cond(x.tri(same, x.is_null(raw.copy())))

    @staticmethod
    def compare(op: str, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        return {"before": x.lt, "on_or_before": x.lte, "after": x.gt, "on_or_after": x.gte}[op](a.copy(), b)

    def pack_fact(self, f: FactCols, op: str, operand: Any) -> _Cond:
        """runtime.fact_*: a value of another kind than the rule compares with is unknown (PR317),
        a value that is no day in range for a date comparison too (PR318/PR319)."""
        kind = f.kind()
        absent = x.is_null(kind.copy())
        if op in _DATE_OPS:
            d = f.key()
            bad = x.and_([f.present(), x.is_null(d.copy())])
            status = x.case([(absent.copy(), x.st(x.U)), (bad.copy(), x.st(x.U)),
                             (self.compare(op, d, x.day_key(operand)), x.st(x.T))], x.st(x.F))
            return _Cond(status, x.case([(bad, f.date_code())]))
        _name, prepared = fact_operand(op, operand)
        if op in ("equals", "not_equals"):
            k, value = prepared
            if k is None:  # `equals: null` or NaN: unknown for every record (PR213)
                return _Cond(x.st(x.U), x.case([(x.not_(absent), x.text("PR317"))]))
            same = x.eq(self.value_of(f, k), self.literal(k, value))
            kinds_ok = x.eq(kind.copy(), x.num(k))
        else:
            branches = []
            for kk in (BOOLEAN, NUMBER, STRING):
                values = prepared[kk]
                if values is not None:
                    branches.append((x.eq(kind.copy(), x.num(kk)),
                                     x.in_(self.value_of(f, kk), [self.literal(kk, v) for v in sorted(values, key=repr)])))
            if not branches:
                return _Cond(x.st(x.U), x.case([(x.not_(absent), x.text("PR317"))]))
            kinds_ok = x.or_([c for c, _v in branches])
            same = x.or_([x.and_([c.copy(), v]) for c, v in branches])
        if op in ("not_equals", "not_in"):
            same = x.not_(same)
        mismatch = x.and_([x.not_(absent.copy()), x.not_(kinds_ok)])
        status = x.case([(absent, x.st(x.U)), (mismatch.copy(), x.st(x.U)), (same, x.st(x.T))], x.st(x.F))
        return _Cond(status, x.case([(mismatch, x.text("PR317"))]))

    @staticmethod
    def value_of(f: FactCols, k: int) -> exp.Expression:
        return f.ref({BOOLEAN: "b", NUMBER: "n", STRING: "t"}[k])

    @staticmethod
    def literal(k: int, value: Any) -> exp.Expression:
        if k == BOOLEAN:
            return x.num(1 if value else 0)
        if k == NUMBER:
            return x.num(value)
        return x.text(value)

    # -- rules -------------------------------------------------------------------------------
    def compile_rules(self) -> list[_RuleCols]:
        """Per rule: (rule, status, problem code, keep_until end, window-ended flag, lapse day).

        The lapse day is the earliest end among the rule's ended windows (decide.ended_keep_until,
        per permit or override); read only where the window-ended flag is true."""
        out: list[_RuleCols] = []
        for rule in self.rules:
            self.rule = rule
            conds = [self.cond(p) for p in rule.when]
            status = x.k_and([c.status for c in conds])
            probs = [c.prob for c in conds if c.prob is not None]
            prob = None if not probs else probs[0] if len(probs) == 1 else x.coalesce(*probs)
            end: exp.Expression | None = None
            ended: exp.Expression | None = None
            lapse: exp.Expression | None = None
            withins = [p for p in rule.when if p.kind == "within"]
            if self.q.action is Action.KEEP and rule.effect in (Effect.PERMIT, Effect.OVERRIDE) and withins:
                end = x.least_of([self.window_end(p.arg) for p in withins])
            expireds = [p for p in rule.when if p.kind == "expired"]
            if rule.effect is Effect.FORBID and expireds:
                # decide.forbid_keep_until: a prohibition that holds because windows ended dates
                # its deny by the latest of their ends (read only where this rule decides)
                end = x.greatest_of([self.window_end(p.arg) for p in expireds])
            if rule.effect in (Effect.PERMIT, Effect.OVERRIDE) and withins:
                # _reasons.Detailer._ended: every other condition holds (a `keep:` one never does
                # there: it is read as unknown), and some window has ended (issue 11 item 5:
                # overrides too, on every question)
                others = [c.status for p, c in zip(rule.when, conds) if p.kind != "within"]
                if any(p.kind == "keep" for p in rule.when if p.kind != "within"):
                    ended = x.false()
                else:
                    ended = x.and_([x.eq(o.copy(), x.st(x.T)) for o in others] +
                                   [x.or_([self.window_ended(p.arg) for p in withins])])
                    ends = [x.case([(self.window_ended(p.arg), self.window_end(p.arg))]) for p in withins]
                    lapse = x.least_of([e.copy() for e in ends])
                    if len(ends) > 1:
                        self.window_lapses[len(out)] = ends
            out.append((rule, status, prob, end, ended, lapse))
        self.rule = None
        return out


_RuleCols = tuple[Rule, exp.Expression, exp.Expression | None, exp.Expression | None, exp.Expression | None,
                  exp.Expression | None]


def _check_questions(pack: Pack, questions: Sequence[Question | str]) -> tuple[Question, ...]:
    from ..policy import Policy  # the row engine checks questions; the same words here

    policy = Policy(pack)
    return tuple(policy.check_question(q) for q in questions)


def compile_sql(pack: Pack, questions: Sequence[Question | str], as_of: date | str) -> SqlQuery:
    """The query deciding ``questions`` for every record of the layout, on ``as_of``.

    Raises SqlUnsupported naming the rule for a construct the compiler refuses, QuestionError /
    ValueError for a question the pack does not know, ValueError for an as_of out of range.
    """
    day = parse_as_of(as_of)
    qs = _check_questions(pack, questions)
    # issue 11 item 2: recipients the questions describe join the vocabulary, as in the row
    # engine (recipients.py), so their facts fold into constants and records may name them
    try:
        pack = with_recipients(pack, described_recipients(pack, qs))
    except RecipientFactsError as exc:
        from .._answers import QuestionError

        raise QuestionError(f"{exc} ({exc.code})") from None
    if not qs:
        raise ValueError("ask at least one question")
    if len(set(qs)) != len(qs):
        raise ValueError("a question is asked twice")
    asof = day.isoformat()
    v = pack.vocabulary
    cuts = {w: iso_cutoff(day, win.months) for w, win in v.windows.items()}
    vocab = {
        "subject_categories": {"value": frozenset(v.subject_categories)},
        "data_categories": {"value": frozenset(v.data_categories)} if v.data_categories else {},
        "consents": {"purpose": frozenset(v.purposes), "recipient": frozenset(v.recipients)},
        "disclosure_orders": {"recipient": frozenset(v.recipients)},
    }
    # what the check layers pivot depends on the pack only (every scope, every fact a rule
    # reads), so they are the same for every as_of and question set
    scopes: dict[str, str] = {scope: f"s{i}" for i, scope in enumerate(sorted(v.scopes))}
    children = child_tables(lambda name: vocab.get(name, {}), scopes, _pivots(pack))
    facts = _pack_facts(pack)
    ends, record_ends = _window_ends(pack, children, facts)
    record_ends += _subject_statuses(children["subject_categories"])
    ctx = _Ctx(pack=pack, asof=asof, cuts=cuts, children=children, facts=facts, scopes=scopes, ends=ends)
    keep_q = Question.keep(pack.default_scope)

    # layer s: the keep question on the default scope first (a `keep:` condition reads its answer)
    keep_plan = _Question(ctx, keep_q)
    keep_rules = keep_plan.compile_rules()
    layer_s: list[exp.Expression] = [x.alias(x.col("id", "j"), "record_id")]  # j.* goes first
    layer_s += _status_columns("k", keep_rules, keep_plan.window_lapses)
    keep_why, keep_dec = _combine("k", keep_rules)
    keep_prob = _question_prob("k", keep_rules)
    k_status = x.case([(x.eq(keep_why.copy(), x.text("override")), x.st(x.T)),
                       (x.eq(keep_why.copy(), x.text("permit")), x.st(x.T)),
                       (x.eq(keep_why.copy(), x.text("unknown")), x.st(x.U))], x.st(x.F))
    layer_k: list[exp.Expression] = [exp.Star(), x.alias(keep_why, "k_why"), x.alias(keep_prob, "k_prob")]
    # k_status reads k_why as a column (layer d), not its CASE written out three times
    k_status = x.case([(x.eq(x.col("k_why", "j"), x.text("override")), x.st(x.T)),
                       (x.eq(x.col("k_why", "j"), x.text("permit")), x.st(x.T)),
                       (x.eq(x.col("k_why", "j"), x.text("unknown")), x.st(x.U))], x.st(x.F))
    ctx.keep_status = x.col("k_status", "j")
    ctx.keep_prob = x.col("k_prob", "j")

    plans = []
    q_cols: list[exp.Expression] = []
    for i, q in enumerate(qs):
        if q == keep_q:
            plans.append(("k", keep_plan, keep_rules))
            continue
        plan = _Question(ctx, q)
        rules = plan.compile_rules()
        q_cols += _status_columns(f"q{i}", rules, plan.window_lapses)
        plans.append((f"q{i}", plan, rules))
    layer_d, layer_q = _shared_layers(layer_s, q_cols)
    layer_d.insert(1, x.alias(k_status, "k_status"))
    layer_c: list[exp.Expression] = [exp.Star()]
    for tag, plan, rules in plans:
        if tag == "k":
            layer_c.append(x.alias(keep_dec, "k_dec"))
            continue
        why, dec = _combine(tag, rules)
        layer_c += [x.alias(why, f"{tag}_why"), x.alias(dec, f"{tag}_dec"),
                    x.alias(_question_prob(tag, rules), f"{tag}_prob")]

    # the tables: facts pivot, hold scopes, child aggregates, records; then one join, `j`
    known = declared_facts(pack)  # a facts key outside it: PR340, as Policy's RecordIds
    check: list[tuple[str, exp.Select]] = [facts_cte(ctx.facts, frozenset(known))]
    check.append(hold_scopes_cte(scopes, frozenset(v.scopes)))
    # each child table checked and grouped per record once (rows, problems, pivots: no as_of),
    # joined into records_v with the record's first problem code, `bad`
    for ch in children.values():
        check += ch.ctes()
    check += records_ctes(len(ctx.facts), frozenset(v.subject_categories),
                          [known[f].if_absent if f in known else None for f in ctx.facts], list(children.values()),
                          record_ends)
    # per as_of: only the child tables whose entries a question reads on as_of are grouped and joined
    ctes: list[tuple[str, exp.Select]] = []
    jcols: list[exp.Expression] = [exp.Column(this=exp.Star(), table=x.ident("records_v"))]
    grouped = []
    for ch in children.values():
        a_ = ch.agg_cte()
        if a_ is not None:
            ctes.append(a_)
            jcols += ch.j_columns()
            grouped.append(ch)
    j = exp.select(*jcols, copy=False).from_(exp.Table(this=x.ident("records_v")), copy=False)
    for ch in grouped:
        j = j.join(exp.Table(this=x.ident(ch.a)), on=x.eq(x.col("id", "records_v"), x.col("record_id", ch.a)),
                   join_type="LEFT", copy=False)
    ctes.append(("j", j))
    layer_s.insert(0, exp.Column(this=exp.Star(), table=x.ident("j")))
    ctes.append(("s", exp.select(*layer_s, copy=False).from_(exp.Table(this=x.ident("j")), copy=False)))
    ctes.append(("k", exp.select(*layer_k, copy=False).from_(exp.Table(this=x.ident("s")), copy=False)))
    # `j` below names the same columns, carried through s and k
    ctes.append(("d", exp.select(*layer_d, copy=False).from_(exp.Table(this=x.ident("k"), alias=exp.TableAlias(
        this=x.ident("j"))), copy=False)))
    ctes.append(("q", exp.select(*layer_q, copy=False).from_(exp.Table(this=x.ident("d"), alias=exp.TableAlias(
        this=x.ident("j"))), copy=False)))
    ctes.append(("c", exp.select(*layer_c, copy=False).from_(exp.Table(this=x.ident("q")), copy=False)))
    layer_u: list[exp.Expression] = [exp.Star()]
    layer_u += [x.alias(_keep_until_key(tag, rules, q.action is Action.KEEP), f"{tag}_ku")
                for (tag, _plan, rules), q in zip(plans, qs)]
    ctes.append(("u", exp.select(*layer_u, copy=False).from_(exp.Table(this=x.ident("c")), copy=False)))

    answers = [_answer(tag, plan, rules, q, pack) for (tag, plan, rules), q in zip(plans, qs)]
    query = _answers([[c.copy() for c in cols] for cols in answers])
    tags = tuple((tag, tuple(r.id for r, *_rest in rules)) for tag, _plan, rules in plans)
    return SqlQuery(check=tuple(check), decide=tuple(ctes), final=query, questions=qs, as_of=day, pack_id=pack.id,
                    tags=tags, answers=tuple(tuple(cols) for cols in answers))


def _ymd(prefix: str, table: str) -> tuple[exp.Expression, exp.Expression, exp.Expression]:
    """A day's (year, month, day) columns ``<prefix>y``, ``m``, ``d`` of ``table``."""
    return x.col(prefix + "y", table), x.col(prefix + "m", table), x.col(prefix + "d", table)


def _window_ends(pack: Pack, children: dict[str, Child], facts: list[str]
                 ) -> tuple[dict[str, str], list[exp.Expression]]:
    """Each window's end per anchor (the anchor's day plus the window's months, clamped: N42,
    R2, ``_x.end_key``) as a column of the check stage: it reads no as_of, and written out in
    each status that needs it, it was most of the decision's expressions. Registers the list
    windows' columns on their child table (per entry, ``<t>_v``); returns (window id -> column,
    the columns of records_v). The decision reads a column only where its anchor is a valid
    day (``end_key`` of an invalid day's parts is some number, never an error)."""
    ends: dict[str, str] = {}
    record_cols: list[exp.Expression] = []
    for i, (wid, w) in enumerate(sorted(pack.vocabulary.windows.items())):
        name = f"we{i}"
        if w.is_list:
            table, _idx = LIST_DATE_PATHS[w.anchor]
            field_ = w.anchor.split("[].", 1)[1]
            ch = children[table]
            pn = ch.name + "_p"
            y, m, d = _ymd(field_ + "__", pn)
            if table == "vouchers" and field_ == "fiscal_year_end":  # R11: 31 December of fiscal_year by default
                y, m, d = x.coalesce(y, x.col("fiscal_year", pn)), x.coalesce(m, x.num(12)), x.coalesce(d, x.num(31))
            ch.extra_v.append(x.alias(x.end_key(y, m, d, w.months), name))
        elif w.anchor.startswith("facts.") and w.anchor.split(".", 1)[1] in facts:
            k = facts.index(w.anchor.split(".", 1)[1])
            record_cols.append(x.alias(x.end_key(*_ymd(f"f{k}_", "records_p"), w.months), name))
        elif w.anchor in _DAY_PATHS:
            col = _column_path(w.anchor)
            record_cols.append(x.alias(x.end_key(*_ymd(col + "__", "records_p"), w.months), name))
        else:
            continue  # refused where a rule reads it (Question.anchor)
        ends[wid] = name
    return ends, record_cols


def _subject_status(ch: Child, ids: frozenset[str]) -> str:
    """The records_v column of the status of ``subject: ids`` (_subject_statuses)."""
    return f"{ch.name}__s{ch.pivots[ids][1:]}"


def _subject_statuses(ch: Child) -> list[exp.Expression]:
    """records_v's status of each ``subject:`` condition of the pack (no as_of in it): unknown
    while the record's subject categories are unknown (an absent list and no rows), else 2 when
    one of them is among the condition's ids, else 0. Written once here, not in every rule that
    reads it (most of Iconfirm's rules do)."""
    known = x.or_([x.eq(x.coalesce(x.col("has_subject_categories", "records_p"), x.false()), x.true()),
                   x.gt(x.coalesce(x.col(f"{ch.name}__n", "records_p"), x.num(0)), x.num(0))])
    return [x.alias(x.tri(x.eq(x.col(f"{ch.name}__{p}", "records_p"), x.num(1)), x.not_(known.copy())),
                    _subject_status(ch, ids)) for ids, p in ch.pivots.items()]


def _pivots(pack: Pack) -> dict[str, list[frozenset[str]]]:
    """The value sets the pack's rules ask about in subject_categories (`subject:`) and
    data_categories (`data_category:`): pivoted per record in the check stage, as they read no
    day. From the rules only, so the check tables serve every question set and as_of."""
    out: dict[str, list[frozenset[str]]] = {"subject_categories": [], "data_categories": []}

    def walk(p: Pred) -> None:
        if p.kind == "subject":
            out["subject_categories"].append(frozenset([p.arg] if isinstance(p.arg, str) else p.arg))
        elif p.kind == "data_category":
            out["data_categories"].append(frozenset([p.arg]))
        for c in p.children:
            walk(c)

    for rule in pack.rules:
        for p in rule.when:
            walk(p)
    return out


def _pack_facts(pack: Pack) -> list[str]:
    """Every pack-defined fact (``facts.NAME``) a rule or window reads, in a fixed order."""
    names: set[str] = set()

    def walk(p: Pred) -> None:
        if p.kind == "happened" and isinstance(p.arg, str) and p.arg.startswith("facts."):
            names.add(p.arg.split(".", 1)[1])
        elif p.kind == "fact" and str(p.arg["path"]).startswith("facts."):
            names.add(p.arg["path"].split(".", 1)[1])
        for c in p.children:
            walk(c)

    for rule in pack.rules:
        for p in rule.when:
            walk(p)
    for w in pack.vocabulary.windows.values():
        if w.anchor.startswith("facts."):
            names.add(w.anchor.split(".", 1)[1])
    return sorted(names)


def _constant(e: exp.Expression) -> bool:
    """A literal (a status, flag or NULL folded in Python): cheaper written out than shared."""
    while isinstance(e, (exp.Paren, exp.Neg, exp.Cast)):
        e = e.this
    return isinstance(e, (exp.Literal, exp.Boolean, exp.Null))


def _shared_layers(keep_cols: list[exp.Expression], q_cols: list[exp.Expression]
                   ) -> tuple[list[exp.Expression], list[exp.Expression]]:
    """Layers ``d`` and ``q``: each question's rule columns (``<tag>_s<i>``, ``_p``, ``_e``,
    ``_w``, ``_l``) with every expression computed once. Most rules read no part of the question
    (a consent, a window, an objection): the same rule asked by many questions gives the same
    SQL, so it is written once, as a column of ``d`` (or read from the keep question's column
    in layer ``s``), and ``q`` names it per question. Identity is the generated SQL text: two
    expressions that print alike compute alike."""
    known: dict[str, str] = {}
    for e in keep_cols:
        if isinstance(e, exp.Alias):
            known.setdefault(e.this.sql(), e.alias)
    texts = [e.this.sql() for e in q_cols]
    counts: dict[str, int] = {}
    for t in texts:
        counts[t] = counts.get(t, 0) + 1
    layer_d: list[exp.Expression] = [exp.Star()]
    layer_q: list[exp.Expression] = [exp.Star()]
    for e, t in zip(q_cols, texts):
        assert isinstance(e, exp.Alias)
        expr = e.this
        # k_status is itself a column of d: what reads it is computed in q
        if t not in known and counts[t] > 1 and not _constant(expr) and '"k_status"' not in t:
            known[t] = f"d{len(layer_d) - 1}"
            layer_d.append(x.alias(expr, known[t]))
        if t in known:
            layer_q.append(x.alias(x.col(known[t], "j"), e.alias))
        else:
            layer_q.append(e)
    return layer_d, layer_q


def _status_columns(tag: str, rules: list[_RuleCols], window_lapses: dict[int, list[exp.Expression]]
                    ) -> list[exp.Expression]:
    cols: list[exp.Expression] = []
    for i, (_rule, status, prob, end, ended, lapse) in enumerate(rules):
        for k, e in enumerate(window_lapses.get(i, ())):
            cols.append(x.alias(e, f"{tag}_l{i}_{k}"))
        cols.append(x.alias(status, f"{tag}_s{i}"))
        if prob is not None:
            cols.append(x.alias(prob, f"{tag}_p{i}"))
        if end is not None:
            cols.append(x.alias(end, f"{tag}_e{i}"))
        if ended is not None:
            cols.append(x.alias(ended, f"{tag}_w{i}"))
        if lapse is not None:
            cols.append(x.alias(lapse, f"{tag}_l{i}"))
    return cols


def _s(tag: str, i: int) -> exp.Expression:
    return x.col(f"{tag}_s{i}")


def _combine(tag: str, rules: list[Any]) -> tuple[exp.Expression, exp.Expression]:
    """(why, decisive index): decide.combine unrolled. why: override, forbid, permit, unknown, no-basis."""
    tiers = {e: [i for i, (r, *_rest) in enumerate(rules) if r.effect is e] for e in Effect}
    ov, fb, pm = tiers[Effect.OVERRIDE], tiers[Effect.FORBID], tiers[Effect.PERMIT]

    def any_is(idx: list[int], value: int) -> exp.Expression:
        return x.or_([x.eq(_s(tag, i), x.st(value)) for i in idx])

    ou, fu, pu = any_is(ov, x.U), any_is(fb, x.U), any_is(pm, x.U)
    why = x.case([
        (any_is(ov, x.T), x.text("override")),
        (any_is(fb, x.T), x.case([(ou.copy(), x.text("unknown"))], x.text("forbid"))),
        (any_is(pm, x.T), x.case([(fu.copy(), x.text("unknown"))], x.text("permit"))),
        (x.or_([ou.copy(), pu]), x.text("unknown")),
    ], x.text("no-basis"))
    branches: list[tuple[exp.Expression, exp.Expression]] = [(x.eq(_s(tag, i), x.st(x.T)), x.num(i)) for i in ov]
    branches.append((x.and_([any_is(fb, x.T), ou.copy()]), x.null()))
    branches += [(x.eq(_s(tag, i), x.st(x.T)), x.num(i)) for i in fb]
    branches.append((x.and_([any_is(pm, x.T), fu.copy()]), x.null()))
    branches += [(x.eq(_s(tag, i), x.st(x.T)), x.num(i)) for i in pm]
    return why, x.case(branches)


def _question_prob(tag: str, rules: list[Any]) -> exp.Expression:
    """The first problem (PR317-PR319) of an unknown rule that could change the answer
    (decide.can_change, decide.fact_problems), in rule order; NULL if none."""
    effects = [r.effect for r, *_rest in rules]
    held_f = x.or_([x.eq(_s(tag, i), x.st(x.T)) for i, e in enumerate(effects) if e is Effect.FORBID])
    held_p = x.or_([x.eq(_s(tag, i), x.st(x.T)) for i, e in enumerate(effects) if e is Effect.PERMIT])
    items = []
    for i, (rule, _status, prob, _end, _ended, _lapse) in enumerate(rules):
        if prob is None or rule.effect is Effect.OBLIGATION:
            continue
        can = [x.eq(_s(tag, i), x.st(x.U))]
        if rule.effect is Effect.FORBID:
            can.append(x.not_(held_f.copy()))
        elif rule.effect is Effect.PERMIT:
            can += [x.not_(held_f.copy()), x.not_(held_p.copy())]
        items.append(x.case([(x.and_(can), x.col(f"{tag}_p{i}"))]))
    if not items:
        return x.null()
    return items[0] if len(items) == 1 else x.coalesce(*items)


def _answers(per_question: list[list[exp.Expression]]) -> exp.Select:
    """One answer row per record and question, from layer ``u``: the records crossed with the
    question numbers (``VALUES (0), (1), ...``), each output column a CASE on the number.

    Not a UNION ALL of one SELECT per question: each branch would read ``u``, so every engine
    had to compute (or materialise) the whole decision once per question; crossed, ``u`` is read
    once and the layers below it inline into one pass."""
    if len(per_question) == 1:
        return exp.select(*per_question[0], copy=False).from_(exp.Table(this=x.ident("u")), copy=False)
    n = x.col("q_index", "qn")
    cols: list[exp.Expression] = [x.col("record_id", "u")]
    for k, first in enumerate(per_question[0][1:], start=1):
        branches = [(x.eq(n.copy(), x.num(i)), cols_[k].this) for i, cols_ in enumerate(per_question)]
        cols.append(x.alias(exp.Case(ifs=[exp.If(this=c, true=v) for c, v in branches]), first.alias))
    numbers = exp.Values(expressions=[exp.Tuple(expressions=[x.num(i)]) for i in range(len(per_question))],
                         alias=exp.TableAlias(this=x.ident("qn"), columns=[x.ident("q_index")]))
    return (exp.select(*cols, copy=False).from_(exp.Table(this=x.ident("u")), copy=False)
            .join(numbers, join_type="CROSS", copy=False))


def _answer(tag: str, plan: _Question, rules: list[Any], q: Question, pack: Pack) -> list[exp.Expression]:
    """The output columns of one question, from layer ``u``: record_id first, then the others
    aliased as OUTPUT_COLUMNS names them."""
    why, dec, bad = x.col(f"{tag}_why"), x.col(f"{tag}_dec"), x.col("bad")
    has_bad = x.not_null(bad.copy())

    def is_(e: exp.Expression, v: str) -> exp.Expression:
        return x.eq(e.copy(), x.text(v))

    outcome = x.case([(has_bad.copy(), x.text("undetermined")),
                      (x.or_([is_(why, "override"), is_(why, "permit")]), x.text("allow")),
                      (x.or_([is_(why, "forbid"), is_(why, "no-basis")]), x.text("deny"))], x.text("undetermined"))
    rule_id = x.case([(x.eq(dec.copy(), x.num(i)), x.text(r.id)) for i, (r, *_rest) in enumerate(rules)])
    purpose_basis = pack.vocabulary.purposes.get(q.purpose or "", {}).get("basis")
    bases = []
    for i, (r, *_rest) in enumerate(rules):
        bid = r.basis or (purpose_basis if r.effect in (Effect.PERMIT, Effect.OVERRIDE) else None)
        if bid and bid in pack.vocabulary.lawful_bases:
            bases.append((x.eq(dec.copy(), x.num(i)), x.text(bid)))
    allow = x.or_([is_(why, "override"), is_(why, "permit")])
    basis = x.case([(x.and_([x.not_(has_bad.copy()), allow.copy()]), x.case(bases))]) if bases else x.null()
    # keep_until on every question (issue 11 item 5: a deny after a window ended carries its end);
    # _keep_until_key gives a typed NULL where no rule of the question has one, so the UNION's
    # column is a DATE on every engine (PostgreSQL reads a bare NULL as text)
    keep_until = x.key_to_date(x.col(f"{tag}_ku"))
    ended = x.or_([x.and_([x.eq(_s(tag, i), x.st(x.F)), x.eq(x.col(f"{tag}_w{i}"), x.true())])
                   for i, (_r, _s1, _p, _e, w, _l) in enumerate(rules) if w is not None])
    prob = x.col(f"{tag}_prob") if tag != "k" else x.col("k_prob")
    reason = x.case([
        (has_bad.copy(), x.text("undetermined:bad-record")),
        (is_(why, "override"), x.text("allow:override")),
        (is_(why, "permit"), x.text("allow:permit")),
        (is_(why, "forbid"), x.text("deny:forbid")),
        (x.and_([is_(why, "no-basis"), ended]), x.text("deny:window-ended")),
        (is_(why, "no-basis"), x.text("deny:no-basis")),
        (x.not_null(prob.copy()), x.text("undetermined:unusable-fact")),
    ], x.text("undetermined:missing-fact"))
    problem = x.case([(has_bad.copy(), bad.copy()), (is_(why, "unknown"), prob.copy())])
    cols = [x.col("record_id"), x.alias(x.text(str(q)), "question"), x.alias(outcome, "outcome"),
            x.alias(x.case([(x.not_(has_bad.copy()), rule_id)]) if rules else x.null(), "decisive_rule"),
            x.alias(basis, "basis"), x.alias(keep_until, "keep_until"), x.alias(reason, "reason_code"),
            x.alias(problem, "problem_code")]
    return cols


def _keep_until_key(tag: str, rules: list[Any], keep: bool) -> exp.Expression:
    """keep_until as a day key (R19): on an allowed keep question the latest end among the
    holding rules of the deciding tier, NULL when one of them is open-ended (decide.keep_until_for);
    on a deny of any question the day its basis lapsed (decide.ended_keep_until). Computed in
    layer ``u`` once, so the answer's DATE conversion reads a column."""
    why, has_bad = x.col(f"{tag}_why"), x.not_null(x.col("bad"))

    def tier(effect: Effect) -> exp.Expression:
        holding = [(i, end) for i, (r, _s1, _p, end, _w, _l) in enumerate(rules) if r.effect is effect]
        open_ = x.or_([x.and_([x.eq(_s(tag, i), x.st(x.T)), x.is_null(x.col(f"{tag}_e{i}"))]) if end is not None
                       else x.eq(_s(tag, i), x.st(x.T)) for i, end in holding])
        ends = [x.case([(x.eq(_s(tag, i), x.st(x.T)), x.col(f"{tag}_e{i}"))]) for i, end in holding if end is not None]
        if not ends:
            # no holding rule of the tier has an end: NULL, typed (PostgreSQL reads an untyped
            # NULL-only CASE as text and then refuses to mix it with the integer keys)
            return x.typed_null("INT")
        return x.case([(open_, x.null())], x.greatest_of(ends))

    # a deny after a window ended: the day the basis lapsed, the latest among the permits and
    # overrides that failed only because a window ended (decide.ended_keep_until; the flag is the
    # reason code's, _answer); for a forbid deny among the overrides only (decide.build_decision)
    def lapsed(effects: tuple[Effect, ...]) -> exp.Expression:
        return x.greatest_of([x.case([(x.and_([x.eq(_s(tag, i), x.st(x.F)), x.eq(x.col(f"{tag}_w{i}"), x.true())]),
                                       x.col(f"{tag}_l{i}"))])
                              for i, (r, _s1, _p, _e, _w, lapse) in enumerate(rules)
                              if lapse is not None and r.effect in effects])

    branches: list[tuple[exp.Expression, exp.Expression]] = [(has_bad, x.null())]
    if keep:
        branches += [(x.eq(why.copy(), x.text("override")), tier(Effect.OVERRIDE)),
                     (x.eq(why.copy(), x.text("permit")), tier(Effect.PERMIT))]
    dec = x.col(f"{tag}_dec")
    branches += [(x.and_([x.eq(why.copy(), x.text("forbid")), x.eq(dec.copy(), x.num(i))]), x.col(f"{tag}_e{i}"))
                 for i, (r, _s1, _p, end, _w, _l) in enumerate(rules) if r.effect is Effect.FORBID and end is not None]
    for why_v, effects in (("no-basis", (Effect.PERMIT, Effect.OVERRIDE)), ("forbid", (Effect.OVERRIDE,))):
        got = lapsed(effects)
        if not isinstance(got, exp.Null):
            branches.append((x.eq(why.copy(), x.text(why_v)), got))
    if len(branches) == 1:
        return x.typed_null("INT")  # typed: see the tier's NULL above
    return x.case(branches)


__all__ = ["OUTPUT_COLUMNS", "SqlQuery", "SqlUnsupported", "compile_sql"]
