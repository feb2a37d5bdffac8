"""privacy_rules._answers: the one wording of a bad record's problems, shared by the engines."""

from __future__ import annotations

from datetime import date

import pytest

from privacy_rules import Question
from privacy_rules._answers import compact, invalid_reason
from privacy_rules.model import Diagnostic, Severity
from privacy_rules.policy import Policy
from privacy_rules.records import RecordInvalid

P1 = Diagnostic(code="PR301", severity=Severity.ERROR, message="`x` is not a date", help="write YYYY-MM-DD")
P2 = Diagnostic(code="PR302", severity=Severity.ERROR, message="unknown field `y`")


def test_invalid_reason_names_the_first_problem_and_counts_the_rest() -> None:
    assert invalid_reason([P1]) == "the record cannot be evaluated: `x` is not a date (write YYYY-MM-DD)"
    assert invalid_reason([P2, P1]) == "the record cannot be evaluated: unknown field `y`; and 1 more problem"
    assert invalid_reason([P2, P1, P1]).endswith("; and 2 more problems")


def test_compact_puts_every_problem_on_one_line() -> None:
    assert compact([P1, P2]) == "PR301 `x` is not a date (write YYYY-MM-DD); PR302 unknown field `y`"


BAD = {"id": "bad", "relationship": {"first_contact_on": "2023-02-30"}, "consent": []}


def test_compiled_policy_words_bad_records_with_these_helpers(mini: Policy) -> None:
    # the durable engine imports the same helpers, so both engines word a bad record alike
    with pytest.raises(RecordInvalid) as info:
        mini.facts(BAD)
    problems = info.value.problems
    assert len(problems) > 1
    day = date(2022, 1, 1)
    assert mini.decide(BAD, Question.keep(), as_of=day).reason == invalid_reason(problems)
    row, = mini.decide_batch([BAD], [Question.keep()], as_of=day)
    assert row.problem == compact(problems)
