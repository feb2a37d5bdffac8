"""Plumbing shared by the engines (policy.Policy, engines.durable.DurablePolicy): the compact
answer types, how the API's arguments are read, and how a record's problems are worded.

Both engines must accept the same arguments and word a bad record exactly alike (the durable
engine is a differential oracle for the compiled one), so this lives here, once, and both
import it: imports go one way (engines -> this module), never from one engine into another.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Sequence

from .errors import shown
from .model import Basis, Diagnostic, Outcome, Question, Severity


class QuestionError(ValueError):
    """A question names something the pack's vocabulary does not define."""


class Answer(NamedTuple):
    """One compact batch answer: outcome, decisive rule id, keep_until (the same types as on
    ``Decision``: an ``Outcome`` and a ``date`` or None; the CLI writes them as strings; as on
    ``Decision``, a keep denied with ``deny:window-ended`` carries the ended window's last
    day, with or without ``reasons``), and
    ``problem``: for an UNDETERMINED answer of a readable record, the facts present but unusable
    by a rule that could change it (PR317-PR319, as ``compact`` writes them), else None.

    What a retention job acts on comes after, filled by ``decide_batch(..., reasons=True)``
    (None otherwise; later fields have defaults, so code that builds an Answer from the first
    three keeps working): ``basis``, the lawful basis of an ALLOW (as ``Decision.basis``);
    ``reason_code``, one of ``REASON_CODES`` such as ``deny:window-ended``; ``reason``, the
    short reason (the start of ``Decision.reason``).
    """

    outcome: Outcome
    rule_id: str | None
    keep_until: date | None
    problem: str | None = None
    basis: Basis | None = None
    reason_code: str | None = None
    reason: str | None = None


class BatchRow(NamedTuple):
    """All answers for one record of a batch, in the order of the questions asked."""

    index: int  # type: ignore[assignment]  # shadows tuple.index; the name is public API
    record_id: str | None
    answers: tuple[Answer, ...]
    problem: str | None


def invalid_reason(problems: Sequence[Diagnostic]) -> str:
    """The ``reason`` of an UNDETERMINED decision for a record that cannot be evaluated.

    ``problems`` is non-empty (RecordInvalid always carries at least one).
    """
    first = problems[0]
    text = "the record cannot be evaluated: " + first.message + (f" ({first.help})" if first.help else "")
    # the last problem may stand for many (records.MoreProblems, PR322): count those it hides
    more = len(problems) - 1 + max(getattr(problems[-1], "hidden", 0) - 1, 0)
    if more:
        text += f"; and {more} more problem{'s' if more > 1 else ''}"
    return text


def bad_answers(n: int, problems: Sequence[Diagnostic], reasons: bool = True) -> tuple[Answer, ...]:
    """``n`` UNDETERMINED answers for a record that cannot be evaluated (PR316: a bug); with
    ``reasons``, their reason code and short reason too (see ``Answer``)."""
    if not reasons:
        return (Answer(Outcome.UNDETERMINED, None, None),) * n
    code = "undetermined:internal-error" if problems[0].code == "PR316" else "undetermined:bad-record"
    return (Answer(Outcome.UNDETERMINED, None, None, reason_code=code, reason=invalid_reason(problems)),) * n


def compact(problems: Sequence[Diagnostic]) -> str:
    """Every problem on one line, ``CODE message (help)`` joined by ``; ``: a batch row's ``problem``."""
    return "; ".join(f"{p.code} {p.message}" + (f" ({p.help})" if p.help else "") for p in problems)


def unreadable(exc: BaseException, record_id: str | None) -> Diagnostic:
    """PR315: reading the record raised (a host mapping that breaks on access)."""
    return Diagnostic(code="PR315", severity=Severity.ERROR, record_id=record_id,
                      message=f"cannot read the record: {type(exc).__name__}: {_exc_text(exc)}",
                      help="pass plain dicts, lists, strings, numbers and booleans (or the record's JSON text)")


def internal_error(exc: BaseException, record_id: str | None) -> Diagnostic:
    """PR316: deciding a checked record raised: a bug, reported on the record's row."""
    return Diagnostic(code="PR316", severity=Severity.ERROR, record_id=record_id,
                      message=f"internal error deciding this record: {type(exc).__name__}: {_exc_text(exc)}",
                      help="this is a bug in privacy-rules; please report it with the record (its answers are "
                           "undetermined)")


def _exc_text(exc: BaseException) -> str:
    try:
        return shown(str(exc), 200)
    except Exception:  # noqa: BLE001 - an exception whose str() breaks
        return "(no message)"


def checked_questions(questions: Iterable[Question | str] | None, standard: Sequence[Question],
                      check: Callable[[Question | str], Question]) -> list[Question]:
    """``questions`` as checked Questions: None means ``standard``; a bare question (not in a
    list) is a TypeError saying what to pass. Shared by Policy and the durable facade."""
    if questions is None:
        return list(standard)
    if isinstance(questions, (str, Question)):
        raise TypeError("questions must be a list of questions (Question or text such as "
                        "'contact:newsletter:email'), or None for the pack's standard questions; "
                        f"to ask one question pass [{shown(str(questions))!r}]")
    try:
        items = list(questions)
    except TypeError:
        raise TypeError("questions must be a list of questions (Question or text such as "
                        "'contact:newsletter:email'), or None for the pack's standard questions, "
                        f"not {type(questions).__name__}") from None
    return [check(q) for q in items]


def check_records(records: Any) -> None:
    """TypeError unless ``records`` is an iterable of records (``decide_batch``'s first
    argument). One record at top level is refused: iterating a mapping gives its keys and a
    JSON text its characters, one undetermined row each, which says nothing. Never iterates
    ``records`` (a generator or a cursor is read once, by the batch). Shared by both engines."""
    what = ("records must be an iterable of records (each a mapping or its JSON text), such as a list or a "
            "generator")
    if isinstance(records, Mapping):
        raise TypeError(f"{what}, not one record ({type(records).__name__}): pass [record], or use decide_all")
    if isinstance(records, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"{what}, not one {type(records).__name__}: pass [text] for one record's JSON text, or "
                        "text.splitlines() for JSON Lines")
    if not isinstance(records, Iterable) and not hasattr(records, "__getitem__"):
        raise TypeError(f"{what}, not {type(records).__name__}")


def question_sets_of(meta: Mapping[str, Any], check: Callable[[Question | str], Question]
                     ) -> dict[str, tuple[Question, ...]]:
    """``pack.question_sets`` as checked Questions per set name (``check`` raises for an unknown
    id: `check` refuses such a pack, PR230). Shared by Policy and the durable facade."""
    sets = meta.get("question_sets") or {}
    return {str(name): tuple(check(Question.parse(str(t))) for t in texts) for name, texts in sets.items()}


def select_questions(questions: Iterable[Question | str] | None, question_set: str | None,
                     standard: Sequence[Question], sets: Mapping[str, tuple[Question, ...]],
                     check: Callable[[Question | str], Question]) -> list[Question]:
    """The questions to ask: ``questions`` (as ``checked_questions``), or the pack's set named
    ``question_set``; neither gives the standard questions. Both is a TypeError; a set the
    pack does not define is a QuestionError naming the ones it does."""
    if question_set is None:
        return checked_questions(questions, standard, check)
    if questions is not None:
        raise TypeError("pass questions or question_set, not both")
    if not isinstance(question_set, str):
        raise TypeError(f"question_set must be the name of one of the pack's question sets, not "
                        f"{type(question_set).__name__}")
    got = sets.get(question_set)
    if got is None:
        import difflib

        close = difflib.get_close_matches(question_set, list(sets), n=1, cutoff=0.6)
        hint = (f"; did you mean `{close[0]}`?" if close else
                f"; the pack defines: {', '.join(f'`{n}`' for n in sets)}" if sets else
                "; the pack defines none (pack.question_sets in pack.yaml)")
        raise QuestionError(f"unknown question set `{shown(question_set)}`{hint}")
    return list(got)


def as_question(value: Any) -> Question:
    """A Question from a Question or its text; TypeError saying what to pass for anything else."""
    if isinstance(value, Question):
        return value
    if isinstance(value, str):
        return Question.parse(value)
    raise TypeError("a question must be a privacy_rules.Question or text such as 'keep', 'contact:newsletter:email' "
                    f"or 'share:hubspot:relationship_management', not {type(value).__name__}")


__all__ = ["Answer", "BatchRow", "QuestionError", "as_question", "bad_answers", "check_records", "checked_questions",
           "compact", "internal_error", "invalid_reason", "question_sets_of", "select_questions", "unreadable"]
