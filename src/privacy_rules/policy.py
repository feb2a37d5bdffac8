"""A compiled pack: decide one question, all three, or a batch of records.

Thread-safety: a Policy holds only immutable data plus two caches (question plans and as_of
contexts) whose entries are pure functions of their keys; concurrent fills race harmlessly
(both threads compute the same value, one wins). No clock, no global state (STYLE 9).
"""

from __future__ import annotations

import difflib
from datetime import date, datetime
from typing import Any, Iterable, Iterator, Mapping, NamedTuple, Sequence

from .compile.codegen import QuestionPlan, compile_question, window_indices
from .dates import iso_cutoff, parse_date
from .decide import ALLOW_S, OVERRIDE, PERMIT, UND_S, Tables, build_decision, keep_until_for, tables_for
from .model import Action, Decision, Diagnostic, Outcome, Pack, Question, Severity
from .records import Facts, RecordInvalid, normalize, normalize_fast, record_id_of

_MAX_CTX = 4096


class QuestionError(ValueError):
    """A question names something the pack's vocabulary does not define."""


class Answer(NamedTuple):
    """One compact batch answer: outcome, decisive rule id, keep_until (ISO) or None."""

    outcome: str
    rule_id: str | None
    keep_until: str | None


class BatchRow(NamedTuple):
    """All answers for one record of a batch, in the order of the questions asked."""

    index: int
    record_id: str | None
    answers: tuple[Answer, ...]
    problem: str | None


class _Ctx:
    """What depends only on as_of: cut-offs per window, and a memo of window ends (pure)."""

    __slots__ = ("asof", "cut", "cuts", "ends")

    def __init__(self, asof: str, cut: tuple[str, ...], names: tuple[str, ...]) -> None:
        self.asof = asof
        self.cut = cut  # by window index, for generated code
        self.cuts = dict(zip(names, cut))  # by window id, for explanations
        self.ends: dict[tuple[str, int], date] = {}


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
        self._dates: dict[str, bool] = {}  # date string -> valid; pure, bounded (records.normalize_fast)
        self._keep_q = Question.keep(pack.default_scope)
        self.standard_questions: tuple[Question, ...] = tuple(
            self.check_question(Question.parse(text)) for text in (pack.meta.get("questions") or ["keep"]))
        # INVARIANT: every question in the standard set compiles; checked here, once
        self.plan(self._keep_q)

    # -- questions -------------------------------------------------------------------------
    def check_question(self, q: Question) -> Question:
        """The question with its default scope filled in; raises QuestionError on unknown ids."""
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
            self._known("recipient", q.recipient, v.recipients)
        return q

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

    # -- one record ------------------------------------------------------------------------
    def decide(self, record: Mapping[str, Any], question: Question, *, as_of: date) -> Decision:
        """The explained Decision for one question about one record. Pure; never mutates ``record``.

        A malformed record gives an UNDETERMINED decision with ``problems``; it never raises for
        bad record data. Raises QuestionError for a question the pack does not know, and
        TypeError/ValueError for a bad ``as_of`` (it must be a date, not a datetime).
        """
        as_of = _as_of(as_of)
        q = self.check_question(question)
        try:
            facts = self.facts(record)
        except RecordInvalid as exc:
            return self._invalid(q, as_of, exc.record_id, exc.problems)
        return self._decide_facts(facts, q, as_of)

    def facts(self, record: Any) -> Facts:
        """The checked, normalised record; raises RecordInvalid naming every problem."""
        facts = normalize_fast(record, self._dates)
        return facts if facts is not None else normalize(record)

    def decide_all(self, record: Mapping[str, Any], questions: Sequence[Question] | None = None, *,
                   as_of: date) -> tuple[Decision, ...]:
        """Decisions for several questions about one record, the record checked once.

        Without ``questions``: the pack's standard questions (``pack.questions`` in pack.yaml,
        e.g. keep, contact:newsletter:email, share:hubspot:relationship_management), so one
        call answers keep, contact and share the way a nightly CRM sweep asks them.
        """
        as_of = _as_of(as_of)
        qs = [self.check_question(q) for q in (questions or self.standard_questions)]
        try:
            facts = self.facts(record)
        except RecordInvalid as exc:
            return tuple(self._invalid(q, as_of, exc.record_id, exc.problems) for q in qs)
        return tuple(self._decide_facts(facts, q, as_of) for q in qs)

    def _decide_facts(self, facts: Facts, q: Question, as_of: date) -> Decision:
        ctx, asof = self._context(as_of)
        plan, effects = self.plan(q)
        keep_code = None
        keep_missing: tuple[str, ...] = ()
        if plan.needs_keep:
            keep_code = self._keep_status(facts, ctx)
            if keep_code is None:  # only then does anyone need to know what keep is missing
                keep_missing = self._decide_facts(facts, self._keep_q, as_of).missing_facts
        statuses = plan.evaluate(facts, ctx, keep_code)
        return build_decision(pack=self.pack, plan=plan, tables=self._tables[q], statuses=statuses, facts=facts,
                              as_of=as_of, asof=asof, keep_missing=keep_missing, cuts=ctx.cuts, memo=ctx.ends)

    def _keep_status(self, facts: Facts, ctx: _Ctx) -> bool | None:
        """keep (default scope) as a status: True allow, False deny, None undetermined."""
        return _STATUS[self.plan(self._keep_q)[0].decide(facts, ctx, None)[0]]

    def _invalid(self, q: Question, as_of: date, record_id: str | None,
                 problems: tuple[Diagnostic, ...]) -> Decision:
        return Decision(
            outcome=Outcome.UNDETERMINED, question=q, as_of=as_of, record_id=record_id,
            pack_version=self.pack.version, reason=_invalid_reason(problems),
            problems=problems,
        )

    # -- many records ----------------------------------------------------------------------
    def decide_batch(self, records: Iterable[Any], questions: Sequence[Question], *, as_of: date) -> Iterator[BatchRow]:
        """Compact answers for every record, streaming, in input order. Never stops on a bad record:
        it yields UNDETERMINED answers with the problem instead. Pure per record."""
        as_of = _as_of(as_of)
        qs = [self.check_question(q) for q in questions]
        ctx, asof = self._context(as_of)
        plans = [self.plan(q) for q in qs]
        need_keep = any(p.needs_keep for p, _ in plans)
        windows = self.pack.vocabulary.windows
        und = tuple(Answer(UND_S, None, None) for _ in qs)
        fast, cache = normalize_fast, self._dates
        keep_q = self._keep_q
        keep_decide = self.plan(keep_q)[0].decide
        need_keep = need_keep or keep_q in qs
        steps = [(plan, effects, q == keep_q, q.action is Action.KEEP) for (plan, effects), q in zip(plans, qs)]
        for index, record in enumerate(records):
            try:
                facts = fast(record, cache) or normalize(record)
            except RecordInvalid as exc:
                yield BatchRow(index, exc.record_id, und, _compact(exc.problems))
                continue
            except Exception as exc:  # a host object that breaks on access must not end the sweep
                yield BatchRow(index, record_id_of(record), und, f"cannot read record: {exc}")
                continue
            keep_result = keep_decide(facts, ctx, None) if need_keep else None
            keep_code = None if keep_result is None else _STATUS[keep_result[0]]
            answers = []
            for plan, effects, is_keep_q, is_keep in steps:
                outcome, idx, why, statuses = keep_result if is_keep_q else plan.decide(facts, ctx, keep_code)
                until = None
                if is_keep and outcome == ALLOW_S:
                    tier = OVERRIDE if why == "override" else PERMIT
                    end = keep_until_for(plan, statuses, tier, effects, windows, facts, asof, ctx.ends)
                    until = end.isoformat() if end else None
                answers.append(Answer(outcome, plan.rules[idx].id if idx is not None else None, until))
            yield BatchRow(index, facts.id, tuple(answers), None)


_STATUS = {ALLOW_S: True, UND_S: None, "deny": False}


def _invalid_reason(problems: Sequence[Diagnostic]) -> str:
    first = problems[0]
    text = "the record cannot be evaluated: " + first.message + (f" ({first.help})" if first.help else "")
    if len(problems) > 1:
        text += f"; and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''}"
    return text


def _compact(problems: Sequence[Diagnostic]) -> str:
    return "; ".join(f"{p.code} {p.message}" + (f" ({p.help})" if p.help else "") for p in problems)


def _as_of(value: Any) -> date:
    if type(value) is date:
        return value
    if isinstance(value, datetime) or not isinstance(value, date):
        if isinstance(value, str):
            return parse_date(value)
        raise TypeError(f"as_of must be a datetime.date (a day), not {type(value).__name__}")
    return value


def compile_pack(pack: Pack, *, lang: str = "en", engine: str = "compiled") -> Policy:
    """A Policy for ``pack``: rules compiled to Python once; explanations in ``lang`` (en or nb).

    ``engine="durable"`` returns a ``privacy_rules.engines.durable.DurablePolicy`` instead: the
    same API and answers, conditions evaluated by durable-rules (optional extra ``durable``;
    slow; an independent oracle, see README). It raises EngineUnavailable where durable-rules
    cannot be imported (Python 3.13).
    """
    if lang not in ("en", "nb"):
        raise ValueError(f"lang must be `en` or `nb`, not `{lang}`")
    if engine == "durable":
        from .engines.durable import DurablePolicy  # imported only when asked for (optional extra)

        return DurablePolicy(pack, lang=lang)  # type: ignore[return-value]
    if engine != "compiled":
        raise ValueError(f"engine must be `compiled` or `durable`, not `{engine}`")
    return Policy(pack, lang=lang)


__all__ = ["Policy", "compile_pack", "Answer", "BatchRow", "QuestionError", "Severity"]
