"""A compiled pack: decide one question, all three, or a batch of records.

Thread-safety: a Policy holds only immutable data plus two caches (question plans and as_of
contexts) whose entries are pure functions of their keys; concurrent fills race harmlessly
(both threads compute the same value, one wins). No clock, no global state (STYLE 9).
"""

from __future__ import annotations

import difflib
import os
from datetime import date
from typing import Any, Callable, Generator, Iterable, Mapping

from ._answers import check_records
from ._answers import (Answer, BatchRow, QuestionError, as_question as _question, bad_answers,
                       compact as _compact, internal_error, invalid_reason as _invalid_reason, question_sets_of,
                       select_questions, unreadable)
from ._reasons import Detailer
from .compile import interpret
from .compile.codegen import Combined, QuestionPlan, compile_question, window_indices
from .dates import iso_cutoff, parse_as_of
from .declared import declared_facts
from .decide import (ALLOW_S, OVERRIDE, PERMIT, UND_S, Tables, build_decision, combine, fact_problems,
                     keep_until_for, tables_for)
from ._lazy_decision import EXPLAIN, lazy_decision
from .model import Action, Decision, Diagnostic, Outcome, Pack, Question, Severity
from .prepared import PreparedRecord, facts_of, original, prepare as prepare_record
from .recipients import RecipientFactsError, RecipientRegister, apply_register, check_share_question, engine_for
from .records import (Facts, RecordIds, RecordInvalid, id_problems, new_scanner, normalize, normalize_fast,
                      parse_record, record_id_of)

#: What a record may be: a mapping (e.g. a dict from json.loads), or the record's JSON text.
#: Text is parsed with duplicate-key detection (records.parse_record); a dict cannot show them.
Record = Any

_MAX_CTX = 4096
_MAX_STEPS = 4096  # questions (as given) -> _Step; bounded as the as_of contexts are


class _Ctx:
    """What depends only on as_of: cut-offs per window, and a memo of window ends (pure)."""

    __slots__ = ("asof", "cut", "cuts", "ends")

    def __init__(self, asof: str, cut: tuple[str, ...], names: tuple[str, ...]) -> None:
        self.asof = asof
        self.cut = cut  # by window index, for generated code
        self.cuts = dict(zip(names, cut))  # by window id, for explanations
        self.ends: dict[tuple[str, int], date] = {}


class _Step:
    """One checked question of one Policy, with what deciding and explaining it need (issue 12:
    looked up once per call by the question as given, not by three hashes of a Question).

    ``other``: the Policy that answers it (``Policy._for``: itself unless the question describes
    a recipient the pack does not list)."""

    __slots__ = ("q", "plan", "decide", "effects", "tables", "needs_keep", "is_keep", "other", "explain", "pack",
                 "version", "rule_ids")

    def __init__(self, policy: "Policy", q: Question) -> None:
        self.q = q
        self.other = policy._for((q,)) if q.recipient_facts is not None else policy
        if self.other is not policy:  # the other Policy compiles it: the recipient is not in this pack
            return
        self.plan, self.effects = policy.plan(q)
        self.decide = self.plan.decide
        self.tables = policy._tables[q]
        self.needs_keep = self.plan.needs_keep
        self.is_keep = q == policy._keep_q
        self.pack = policy.pack
        self.version = policy.pack.version
        self.rule_ids = tuple(r.id for r in self.plan.rules)
        self.explain = self._explain  # bound once: every lazy decision of this question holds it

    def _explain(self, s: tuple[Any, ...]) -> Decision:
        """The eager Decision for a LazyDecision's state (Policy._decide_steps' layout): exactly what
        ``decide`` built before decisions were lazy (build_decision, the reference)."""
        statuses, facts, ctx, keep, keep_decision = s[EXPLAIN + 1:]
        if keep_decision is not None:
            keep_missing, keep_problems = keep_decision.missing_facts, keep_decision.problems
        else:
            keep_missing, keep_problems = (), ()
        return build_decision(pack=self.pack, plan=self.plan, tables=self.tables, statuses=statuses, facts=facts,
                              as_of=s[2], asof=ctx.asof, keep_missing=keep_missing, cuts=ctx.cuts, memo=ctx.ends,
                              keep=keep, keep_problems=keep_problems)


#: decide_all's questions: (checked questions, their steps or None, the Policy that answers them)
_Many = tuple[tuple[Question, ...], "tuple[_Step, ...] | None", "Policy"]


class Policy:
    """A Pack compiled for deciding. Build with ``compile_pack``; safe to share between threads."""

    def __init__(self, pack: Pack, *, lang: str = "en") -> None:
        self.pack = pack
        self.lang = lang
        self._windex = window_indices(pack)
        self._wnames = tuple(sorted(pack.vocabulary.windows))
        self._months = tuple(pack.vocabulary.windows[w].months for w in self._wnames)
        self._plans: dict[Question, tuple[QuestionPlan, tuple[int, ...]]] = {}
        self._tables: dict[Question, Tables] = {}
        self._checked: dict[Question, Question] = {}
        self._ctx: dict[str, _Ctx] = {}
        self._day_ctx: dict[date, _Ctx] = {}  # the same contexts by day (the per-record hot path)
        self._steps: dict[Any, _Step] = {}  # question as given (text or Question) -> its step
        self._many: dict[Any, _Many] = {}  # decide_all's questions -> steps
        self._last_many: tuple[Any, _Many] | None = None  # the last tuple of questions, by identity
        self._dates: dict[str, bool] = {}  # date string -> valid; pure, bounded (records.normalize_fast)
        # the ids a record may name (records.id_problems) and the facts it may hold (PR340)
        self._ids = RecordIds(pack.vocabulary, declared_facts(pack))
        self._keep_q = Question.keep(pack.default_scope)
        # for records with undated dates (_undated_statuses): windows by anchor, `fact` date days by path
        anchors: dict[str, list[str]] = {}
        for wid in self._wnames:
            anchors.setdefault(pack.vocabulary.windows[wid].anchor, []).append(wid)
        self._anchors = {anchor: tuple(wids) for anchor, wids in anchors.items()}
        self._fact_days = interpret.fact_starts(pack.rules)
        self._window_cuts: dict[str, dict[str, tuple[str, ...]]] = {}  # as_of -> anchor -> cut-offs
        # policies for questions describing recipients the pack does not list (issue 11 item 2),
        # keyed by what they describe; pure in the key, bounded as the other caches
        self._derived: dict[frozenset[Any], Policy] = {}
        self.standard_questions: tuple[Question, ...] = tuple(
            self.check_question(Question.parse(text)) for text in (pack.meta.get("questions") or ["keep"]))
        #: the pack's named question sets (pack.question_sets), e.g. ``sweep``: every keep scope
        self.question_sets: Mapping[str, tuple[Question, ...]] = question_sets_of(pack.meta, self.check_question)
        # INVARIANT: every question in the standard set compiles; checked here, once
        self.plan(self._keep_q)
        self._keep_step = self._step(self._keep_q)  # what `keep:` conditions read, per record

    # -- questions -------------------------------------------------------------------------
    def check_question(self, q: Question | str) -> Question:
        """The question (a Question or its text) with its default scope filled in; raises
        QuestionError on unknown ids, ValueError on malformed text, TypeError on other types."""
        q = _question(q)
        checked = self._checked.get(q)
        if checked is None:
            checked = self._check_question(q)
            self._checked[q] = checked
        return checked

    def _check_question(self, q: Question) -> Question:
        v = self.pack.vocabulary
        if q.action is Action.KEEP:
            scope = q.scope or self.pack.default_scope
            self._known("scope", scope, v.scopes)
            return q if q.scope else Question.keep(scope)
        self._known("purpose", q.purpose, v.purposes)
        if q.action is Action.CONTACT:
            self._known("channel", q.channel, v.channels)
        else:
            check_share_question(self.pack, q)  # a listed recipient, or one described (issue 11 item 2)
        return q

    def for_questions(self, qs: Iterable[Question | str]) -> "Policy":
        """This policy, or one whose pack also holds the recipients the (checked) questions
        describe (``recipient_facts``, issue 11): what the SQL path compiles from. Raises as
        ``check_question``, or QuestionError (PR347) for one id described two ways."""
        return self._for([self.check_question(q) for q in qs])

    def _for(self, qs: Iterable[Question]) -> "Policy":
        """This policy, or one whose vocabulary also holds the recipients ``qs`` describe
        (recipient_facts; recipients.py): every engine then reads them as pack recipients."""
        try:
            got = engine_for(self.pack, qs, self._derived, lambda p: Policy(p, lang=self.lang), 256)
        except RecipientFactsError as exc:
            raise QuestionError(f"{exc} ({exc.code})") from None
        return self if got is None else got

    def with_register(self, register: RecipientRegister) -> "Policy":
        """A Policy deciding with the host's processor register in force (issue 11 item 4):
        the register's DPA dates, transfers (certifications such as the DPF are transfers of a
        certification-based mechanism), EEA status and categories replace the pack's for the
        recipients it names; a recipient the pack does not list needs ``kind`` in it. Each
        share decision names the source it used (``Decision.recipient_source``). Raises
        RecipientFactsError (a ValueError; PR345/PR346) for a register this pack cannot use."""
        return Policy(apply_register(self.pack, register), lang=self.lang)

    @staticmethod
    def _known(what: str, value: str | None, known: Mapping[str, Any]) -> None:
        if value not in known:
            close = difflib.get_close_matches(str(value), list(known), n=1, cutoff=0.6)
            hint = f"; did you mean `{close[0]}`?" if close else f"; known: {', '.join(sorted(known))}"
            raise QuestionError(f"unknown {what} `{value}`{hint}")

    def plan(self, q: Question) -> tuple[QuestionPlan, tuple[int, ...]]:
        """The compiled plan for a checked question (cached)."""
        got = self._plans.get(q)
        if got is None:
            plan = compile_question(self.pack, q, self._windex)
            tables = tables_for(self.pack, plan, self.lang)
            self._tables[q] = tables
            got = (plan, tables.effects)
            self._plans[q] = got
        return got

    def _context(self, as_of: date) -> tuple[_Ctx, str]:
        asof = as_of.isoformat()
        ctx = self._ctx.get(asof)
        if ctx is None:
            ctx = _Ctx(asof, tuple(iso_cutoff(as_of, m) for m in self._months), self._wnames)
            if len(self._ctx) >= _MAX_CTX:
                self._ctx.clear()
            self._ctx[asof] = ctx
        return ctx, asof

    def _day(self, day: date) -> _Ctx:
        """``_context(day)``'s context, looked up by the day (no isoformat per call)."""
        ctx = self._day_ctx.get(day)
        if ctx is None:
            ctx = self._context(day)[0]
            if len(self._day_ctx) >= _MAX_CTX:
                self._day_ctx.clear()
            self._day_ctx[day] = ctx
        return ctx

    def _step(self, question: Question | str) -> _Step:
        """The step of a question as given (a Question or its text); raises as ``check_question``.
        Cached by the question as given: text is not parsed again, a Question not hashed thrice."""
        cacheable = type(question) is str or type(question) is Question
        if cacheable:
            step = self._steps.get(question)
            if step is not None:
                return step
        step = _Step(self, self.check_question(question))
        if cacheable:
            if len(self._steps) >= _MAX_STEPS:
                self._steps.clear()
            self._steps[question] = step
        return step

    def _steps_for(self, questions: Iterable[Question | str] | None,
                   question_set: str | None) -> _Many:
        """decide_all's questions, their steps, and the Policy that answers them (``_for``; the
        steps are None when it is another: that one compiles the questions); raises
        as ``_questions``. Cached by the questions as given when they are a tuple or a list (by
        their items) or None, with a set name or not; a tuple also by identity."""
        last = self._last_many
        if last is not None and last[0] is questions and question_set is None and type(questions) is tuple:
            return last[1]
        key: Any = None
        if type(questions) is tuple or type(questions) is list or questions is None:
            key = (None if questions is None else tuple(questions), question_set)
            try:
                got = self._many.get(key)
            except TypeError:  # an unhashable item: _questions says what is wrong with it
                key, got = None, None
            if got is not None:
                if type(questions) is tuple and question_set is None:
                    self._last_many = (questions, got)
                return got
        qs = self._questions(questions, question_set)
        other = self._for(qs)
        got = (tuple(qs), tuple(self._step(q) for q in qs) if other is self else None, other)
        if key is not None:
            if len(self._many) >= _MAX_STEPS:
                self._many.clear()
            self._many[key] = got
            if type(questions) is tuple and question_set is None:
                self._last_many = (questions, got)
        return got

    # -- one record ------------------------------------------------------------------------
    def decide(self, record: Record, question: Question | str, *, as_of: date | str) -> Decision:
        """The explained Decision for one question about one record. Pure; never mutates ``record``.

        ``record`` is a mapping, the record's JSON text (str or bytes; text is checked for
        duplicate keys too), or a PreparedRecord from ``prepare`` (checked once for many calls).
        ``question`` is a Question or its text (``"contact:newsletter:email"``).
        ``as_of`` is a ``date`` or a ``"YYYY-MM-DD"`` string in 1900-01-01..2200-12-31.

        The Decision's outcome, question, as_of, record id, pack version and deciding rule are
        known when it is returned; the rest of its explanation is built when first read, and
        is the same as if built at once (a LazyDecision: _lazy_decision.py).

        A malformed record gives an UNDETERMINED decision with ``problems``; it never raises for
        bad record data. Raises QuestionError for a question the pack does not know, ValueError
        for malformed question text or an as_of out of range, TypeError for arguments of the
        wrong type (a datetime as_of included) with a message saying what to pass.
        """
        day = parse_as_of(as_of)
        step = self._step(question)
        if step.other is not self:
            return step.other.decide(record, step.q, as_of=day)
        try:
            facts = self.facts(record)
        except RecordInvalid as exc:
            return self._invalid(step.q, day, exc.record_id, exc.problems)
        return self._decide_steps(facts, (step,), day)[0]

    def prepare(self, record: Record) -> PreparedRecord:
        """``record`` checked once (as every ``decide`` would check it), to decide many questions
        about it with ``decide``, ``decide_all`` or ``decide_batch`` of this Policy without
        checking it again. Never raises for bad record data: a malformed record prepares with
        its problems, and its decisions are the same UNDETERMINED ones. Pure."""
        return prepare_record(record, self._ids, self.facts)

    def facts(self, record: Record) -> Facts:
        """The checked, normalised record; raises RecordInvalid naming its problems (never
        anything else, whatever ``record`` is). Checks the record's form (records.py), that its
        ``facts`` hold only facts this pack declares (PR340; declared.py), and then that every
        vocabulary id it names is one this pack defines (PR321). A declared fact's ``if_absent``
        value fills an absent one. A PreparedRecord of this Policy is not checked again."""
        if type(record) is PreparedRecord:
            got = facts_of(record, self._ids)
            if got is not None:
                return got
            record = original(record)  # prepared by another Policy: its vocabulary may differ
        try:
            if isinstance(record, (str, bytes, bytearray)):
                facts = _text_decoder()(record, self._dates, self._ids)  # checked while decoded (in C)
                if facts is not None:
                    return facts
                record = parse_record(record)
            facts = normalize_fast(record, self._dates, self._ids)  # proves the ids known too
            if facts is not None:
                return facts
            facts = normalize(record, self._ids)
        except RecordInvalid:
            raise
        except Exception as exc:  # noqa: BLE001 - a host object that breaks on access is a record problem
            raise RecordInvalid(record_id_of(record), (unreadable(exc, record_id_of(record)),)) from None
        unknown = id_problems(facts, self._ids)
        if unknown:
            raise RecordInvalid(facts.id, unknown)
        return facts

    def decide_all(self, record: Record, questions: Iterable[Question | str] | None = None, *,
                   as_of: date | str, question_set: str | None = None) -> tuple[Decision, ...]:
        """Decisions for several questions about one record, the record checked once and each
        rule evaluated once (keep's answer, which other questions' `keep:` conditions read, too).

        Without ``questions`` (None): the pack's standard questions (``pack.questions`` in
        pack.yaml, e.g. keep, contact:newsletter:email, share:hubspot:relationship_management).
        Those answer keep of the default scope only: a retention job deciding what to delete
        asks ``question_set="sweep"`` instead (every keep scope: newsletter subscriptions,
        vouchers, suppression entries ..., READINGS.md #10), or another set the pack names in
        ``pack.question_sets``; ``question_set`` and ``questions`` together are a TypeError, an
        unknown set a QuestionError. An empty list asks nothing. Arguments, errors and the
        Decisions (explanations built when first read) as for ``decide``.
        """
        day = parse_as_of(as_of)
        qs, steps, other = self._steps_for(questions, question_set)
        if steps is None:
            return other.decide_all(record, qs, as_of=day)
        try:
            facts = self.facts(record)
        except RecordInvalid as exc:
            return tuple(self._invalid(q, day, exc.record_id, exc.problems) for q in qs)
        return self._decide_steps(facts, steps, day)

    def _questions(self, questions: Iterable[Question | str] | None, question_set: str | None = None) -> list[Question]:
        return select_questions(questions, question_set, self.standard_questions, self.question_sets,
                                self.check_question)

    def _decide_facts(self, facts: Facts, q: Question, as_of: date) -> Decision:
        """The (lazy) explained Decision for a checked question about checked facts."""
        return self._decide_steps(facts, (self._step(q),), as_of)[0]

    def _decide_steps(self, facts: Facts, steps: tuple[_Step, ...], day: date) -> tuple[Decision, ...]:
        """The Decisions for ``steps`` (this Policy's) about ``facts``: each rule evaluated once
        per record, keep (default scope) at most once though several questions read it; each
        Decision lazy (_lazy_decision.py) with what build_decision needs, as ``_Step._explain``
        reads it: (HEAD..., explain, statuses, facts, context, keep, keep's Decision). The hot
        path of ``decide``/``decide_all``: kept to plain local operations on purpose."""
        ctx = self._day_ctx.get(day)
        if ctx is None:
            ctx = self._day(day)
        undated = facts.undated
        keep_step = self._keep_step
        keep_res: Combined | None = None
        keep_decision: Decision | None = None
        out: list[Decision] = []
        fid = facts.id
        outcomes = _OUTCOME
        for step in steps:
            kd = None
            keep = None
            if step.is_keep:
                if keep_res is None:
                    keep_res = (self._decide_undated(step.plan, step.effects, facts, ctx, None) if undated
                                else step.decide(facts, ctx, None))
                res = keep_res
            elif step.needs_keep:
                if keep_res is None:
                    keep_res = (self._decide_undated(keep_step.plan, keep_step.effects, facts, ctx, None) if undated
                                else keep_step.decide(facts, ctx, None))
                keep = _STATUS[keep_res[0]]
                res = (self._decide_undated(step.plan, step.effects, facts, ctx, keep) if undated
                       else step.decide(facts, ctx, keep))
                if keep is None:  # keep undetermined: its missing facts and problems explain this one
                    if keep_decision is None:
                        outcome, idx, _, statuses = keep_res
                        keep_decision = lazy_decision((
                            outcomes[outcome], keep_step.q, day, fid, keep_step.version,
                            None if idx is None else keep_step.rule_ids[idx],
                            keep_step.explain, statuses, facts, ctx, None, None))
                    kd = keep_decision
            else:
                res = (self._decide_undated(step.plan, step.effects, facts, ctx, None) if undated
                       else step.decide(facts, ctx, None))
            outcome, idx, _, statuses = res
            d = lazy_decision((outcomes[outcome], step.q, day, fid, step.version,
                               None if idx is None else step.rule_ids[idx],
                               step.explain, statuses, facts, ctx, keep, kd))
            if step.is_keep and keep_decision is None:
                keep_decision = d  # the keep answer a later question's explanation may read
            out.append(d)
        return tuple(out)

    def _keep_status(self, facts: Facts, ctx: _Ctx) -> bool | None:
        """keep (default scope) as a status: True allow, False deny, None undetermined."""
        plan, effects = self.plan(self._keep_q)
        if facts.undated:
            return _STATUS[self._decide_undated(plan, effects, facts, ctx, None)[0]]
        return _STATUS[plan.decide(facts, ctx, None)[0]]

    def _decide_undated(self, plan: QuestionPlan, effects: tuple[int, ...], facts: Facts, ctx: _Ctx,
                        keep: bool | None) -> Combined:
        """``plan.decide`` for a record with undated dates (docs/rule-language.md, "Dates known
        only as on or before"). Routing costs records without one a test of ``facts.undated``
        (an empty mapping), nothing more."""
        statuses = self._undated_statuses(plan, facts, ctx, keep)
        outcome, idx, why = combine(effects, statuses)
        return outcome, idx, why, statuses

    def _undated_statuses(self, plan: QuestionPlan, facts: Facts, ctx: _Ctx, keep: bool | None) -> tuple[Any, ...]:
        """Rule statuses over the days the record's undated dates may be. The generated code knows
        exact days only, so it is run on one day of each stretch that no condition can tell apart
        (interpret.statuses_over_days: usually one or two runs); past the cap on combinations,
        the interpreter decides (interpret.statuses, the plain definition; tests/property
        checks that both agree)."""
        cuts = ctx.cuts
        if any(interpret.compares_undated(r.when, self.pack, facts) for r in plan.rules):
            # a `compare` reading an undated day is unknown: the stretches assume comparisons
            # with constants, so the interpreter decides (docs/rule-language.md)
            return interpret.statuses(plan.rules, self.pack, plan.question, facts, ctx.asof, cuts, keep)
        window_cuts = self._window_cuts.get(ctx.asof)
        if window_cuts is None:  # pure in as_of; bounded as the as_of contexts are
            if len(self._window_cuts) >= _MAX_CTX:
                self._window_cuts.clear()
            window_cuts = {anchor: tuple(cuts[w] for w in wids) for anchor, wids in self._anchors.items()}
            self._window_cuts[ctx.asof] = window_cuts
        got = interpret.statuses_over_days(lambda f: plan.evaluate(f, ctx, keep), facts, ctx.asof, window_cuts,
                                           self._fact_days, len(plan.rules))
        if got is None:
            return interpret.statuses(plan.rules, self.pack, plan.question, facts, ctx.asof, cuts, keep)
        return got

    def _invalid(self, q: Question, as_of: date, record_id: str | None,
                 problems: tuple[Diagnostic, ...]) -> Decision:
        return Decision(
            outcome=Outcome.UNDETERMINED, question=q, as_of=as_of, record_id=record_id,
            pack_version=self.pack.version, reason=_invalid_reason(problems),
            problems=problems,
        )

    # -- many records ----------------------------------------------------------------------
    def decide_batch(self, records: Iterable[Record], questions: Iterable[Question | str] | None = None, *,
                     as_of: date | str, reasons: bool = False,
                     question_set: str | None = None) -> Generator[BatchRow, None, None]:
        """Compact answers for every record, streaming, in input order: one row per record.

        Never stops on a bad record, whatever it is (a mapping, JSON text, anything else): it
        yields UNDETERMINED answers with the problem instead. ``questions`` as for
        ``decide_all`` (None: the pack's standard questions; ``question_set="sweep"``: the pack's
        sweep set, as for ``decide_all``); the arguments are checked before
        the first record is read, and raise as for ``decide``. Pure per record.

        ``reasons=True`` fills each Answer's ``basis``, ``reason_code`` and short ``reason``
        (what a retention job acts on). They cost about half again the time per record on the
        benchmark pack (the window-ended test, the missing facts of undetermined answers), so
        they are asked for, not the default.
        """
        day = parse_as_of(as_of)
        qs = self._questions(questions, question_set)
        check_records(records)
        other = self._for(qs)
        if other is not self:
            return other._batch(records, qs, day, reasons)
        return self._batch(records, qs, day, reasons)

    def _batch(self, records: Iterable[Record], qs: list[Question], as_of: date,
               reasons: bool = False) -> Generator[BatchRow, None, None]:
        ctx, asof = self._context(as_of)
        plans = [self.plan(q) for q in qs]
        need_keep = any(p.needs_keep for p, _ in plans)
        windows = self.pack.vocabulary.windows
        nq = len(qs)
        fast, cache, ids = normalize_fast, self._dates, self._ids
        scan = new_scanner()  # one per batch: a generator runs in one thread at a time
        keep_q = self._keep_q
        keep_plan = self.plan(keep_q)[0]
        keep_decide = keep_plan.decide
        keep_tables = self._tables[keep_q]
        need_keep = need_keep or keep_q in qs
        steps = [(plan, effects, q == keep_q, q.action is Action.KEEP, self._tables[q], any(self._tables[q].reads_values),
                  self._detailer(q, plan, as_of, ctx).detail if reasons else None,
                  # a deny after a window ended keeps its keep_until without reasons too (the window-ended test only)
                  self._detailer(q, plan, as_of, ctx).ended_until if not reasons else None)
                 for (plan, effects), q in zip(plans, qs)]
        outcomes = _OUTCOME
        pack = self.pack
        decode: Callable[[Any, dict[str, bool], RecordIds], Facts | None] | None = None
        for index, record in enumerate(records):
            try:
                if type(record) is dict:
                    facts = fast(record, cache, ids)  # form and vocabulary ids at once
                elif isinstance(record, (str, bytes, bytearray)):
                    if decode is None:
                        decode = _text_decoder()
                    facts = decode(record, cache, ids)  # JSON text checked while decoded (in C)
                    if facts is None:  # anything it cannot prove clean: the plain way names the problems
                        record = parse_record(record, scan)
                        facts = fast(record, cache, ids)
                elif type(record) is PreparedRecord:
                    facts = self.facts(record)  # checked by prepare (or, for another Policy's, now)
                else:
                    facts = fast(record, cache, ids)
                unknown = None
                if facts is None:
                    facts = normalize(record, ids)
                    unknown = id_problems(facts, ids)  # what the fast path proved: ids the pack defines
            except RecordInvalid as exc:
                yield BatchRow(index, exc.record_id, bad_answers(nq, exc.problems, reasons), _compact(exc.problems))
                continue
            except Exception as exc:  # noqa: BLE001 - a host object that breaks on access must not end the sweep
                rid = record_id_of(record)
                bad = (unreadable(exc, rid),)
                yield BatchRow(index, rid, bad_answers(nq, bad, reasons), _compact(bad))
                continue
            if unknown:
                yield BatchRow(index, facts.id, bad_answers(nq, unknown, reasons), _compact(unknown))
                continue
            try:
                slow = facts.undated  # undated dates: decided over their days (_decide_undated)
                keep_result = (None if not need_keep else keep_decide(facts, ctx, None) if not slow
                               else self._decide_undated(keep_plan, keep_tables.effects, facts, ctx, None))
                keep_code = None if keep_result is None else _STATUS[keep_result[0]]
                answers = []
                keep_problems: tuple[Diagnostic, ...] | None = None
                for plan, effects, is_keep_q, is_keep, tables, reads, detail, ended in steps:
                    outcome, idx, why, statuses = (keep_result if is_keep_q and keep_result is not None
                                                   else plan.decide(facts, ctx, keep_code) if not slow
                                                   else self._decide_undated(plan, effects, facts, ctx, keep_code))
                    until = None
                    problem = None
                    if outcome == UND_S:  # no decisive rule; say which present fact keeps it open (PR317-PR319)
                        if reads:
                            kp: tuple[Diagnostic, ...] = ()
                            if plan.needs_keep and keep_code is None and keep_result is not None:
                                if keep_problems is None:  # once per record, only when a `keep:` condition asks
                                    keep_problems = fact_problems(pack=pack, plan=keep_plan, tables=keep_tables,
                                                                  statuses=keep_result[3], facts=facts, asof=asof,
                                                                  cuts=ctx.cuts)
                                kp = keep_problems
                            found = fact_problems(pack=pack, plan=plan, tables=tables, statuses=statuses,
                                                  facts=facts, asof=asof, cuts=ctx.cuts, keep=keep_code,
                                                  keep_problems=kp)
                            problem = _compact(found) if found else None
                    elif is_keep and outcome == ALLOW_S:
                        tier = OVERRIDE if why == "override" else PERMIT
                        until = keep_until_for(plan, statuses, tier, effects, windows, facts, asof, ctx.ends)
                    elif ended is not None and (why == "no-basis" or why == "forbid"):
                        until = ended(statuses, facts, why, idx)
                    rule_id = plan.rules[idx].id if idx is not None else None
                    if detail is None:
                        answers.append(Answer(outcomes[outcome], rule_id, until, problem))
                    else:
                        code, reason, basis, until = detail(outcome, idx, why, statuses, facts, until)
                        answers.append(Answer(outcomes[outcome], rule_id, until, problem, basis=basis,
                                              reason_code=code, reason=reason))
            except Exception as exc:  # noqa: BLE001 - a bug must not end a sweep either: say so on this row
                bad = (internal_error(exc, facts.id),)
                yield BatchRow(index, facts.id, bad_answers(nq, bad, reasons), _compact(bad))
                continue
            yield BatchRow(index, facts.id, tuple(answers), None)


    def _detailer(self, q: Question, plan: QuestionPlan, as_of: date, ctx: _Ctx) -> Detailer:
        """Reason codes and short reasons for ``q``'s answers in one batch (_reasons.py)."""
        return Detailer(self.pack, plan, self._tables[q], ctx.asof, ctx.cuts, ctx.ends,
                        lambda facts: self._decide_facts(facts, q, as_of))


def _text_decoder() -> Callable[[Any, dict[str, bool], RecordIds], Facts | None]:
    """_record_decode.decode_facts, imported on the first record given as text (msgspec is not
    needed to load a pack, and a fresh interpreter's start-up stays short)."""
    from ._record_decode import decode_facts

    return decode_facts


_STATUS = {ALLOW_S: True, UND_S: None, "deny": False}
_OUTCOME = {o.value: o for o in Outcome}


def compile_pack(pack: Pack | str | os.PathLike[str], *, lang: str = "en", engine: str = "compiled") -> Policy:
    """A Policy for ``pack``: rules compiled to Python once; explanations in ``lang`` (en or nb).

    ``pack`` is a Pack from ``load_pack``, or the path of a pack folder (or its pack.yaml),
    which is loaded with ``load_pack`` (raising PackError for an invalid pack).

    ``engine="durable"`` returns a ``privacy_rules.engines.durable.DurablePolicy`` instead: the
    same API and answers, conditions evaluated by durable-rules (optional extra ``durable``;
    slow; an independent oracle, see README). It raises EngineUnavailable where durable-rules
    cannot be imported (Python 3.13).
    """
    if lang not in ("en", "nb"):
        raise ValueError(f"lang must be `en` or `nb`, not `{lang}`")
    if engine not in ("compiled", "durable"):
        raise ValueError(f"engine must be `compiled` or `durable`, not `{engine}`")
    if isinstance(pack, (str, os.PathLike)):
        from .pack import load_pack  # loading is a stage above compiling: imported only for a path

        pack = load_pack(pack)
    elif not isinstance(pack, Pack):
        raise TypeError(f"compile_pack takes a Pack (from load_pack) or a pack folder path, not {type(pack).__name__}")
    if engine == "durable":
        from .engines.durable import DurablePolicy  # imported only when asked for (optional extra)

        return DurablePolicy(pack, lang=lang)  # type: ignore[return-value]
    return Policy(pack, lang=lang)


__all__ = ["Policy", "compile_pack", "Answer", "BatchRow", "QuestionError", "Severity", "Record"]
