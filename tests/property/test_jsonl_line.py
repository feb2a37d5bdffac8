"""``sinks.jsonl_line`` (written from its parts) equals ``json.dumps`` of its object.

The row engine's JSON Lines output, the SQL path's text (which must match it byte for byte)
and the decision service's batch lines all rest on this; the plain definition is
``json.dumps(jsonl_object(...), ensure_ascii=False) + "\\n"``, what jsonl_line was before it
was written by hand (issue 12).
"""

from __future__ import annotations

import json
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from privacy_rules._answers import Answer
from privacy_rules.model import Basis, Outcome
from privacy_rules.pipeline import Result
from privacy_rules.sinks import jsonl_line, jsonl_object

# every code point, the surrogates, the control characters, quotes and backslashes included
TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=12) | \
    st.sampled_from(['"', "\\", "\x00", "\x1f", "\x7f", "\u2028", "\ud800", "a\"b\\c\n\t\r\b\f", "é"])
MAYBE = st.none() | TEXT
BASIS = st.none() | st.builds(Basis, id=TEXT, article=TEXT)
ANSWER = st.builds(Answer, outcome=st.sampled_from(list(Outcome)), rule_id=MAYBE,
                   keep_until=st.none() | st.dates(date(1900, 1, 1), date(2200, 12, 31)), problem=MAYBE,
                   basis=BASIS, reason_code=MAYBE, reason=MAYBE)
INT = st.integers(-(2 ** 70), 2 ** 70)


@settings(max_examples=600, deadline=None)
@given(row=INT, locator=TEXT, line=st.none() | INT, record_id=MAYBE, problem=MAYBE,
       answers=st.lists(ANSWER, max_size=4), questions=st.lists(TEXT, min_size=4, max_size=4))
def test_jsonl_line_is_json_dumps_of_its_object(row, locator, line, record_id, problem, answers, questions):
    r = Result(row, locator, line, record_id, tuple(answers), problem)
    got = jsonl_line(r, questions)
    assert got == json.dumps(jsonl_object(r, questions), ensure_ascii=False) + "\n"
    assert got.endswith("}\n") and "\n" not in got[:-1]  # one line: the service appends to it


def test_values_of_other_types_are_written_as_json_dumps_writes_them() -> None:
    """A host's record id may reach a Result as something other than text (a subclass of str,
    a bool): the fast path only takes plain str and int, everything else goes through json."""

    class Sub(str):
        pass

    a = Answer(Outcome.ALLOW, Sub('x"y'), None, None)
    r = Result(True, Sub("line 1"), 3, Sub("id\x01"), (a,), None)  # type: ignore[arg-type]
    got = jsonl_line(r, [Sub("keep")])
    assert got == json.dumps(jsonl_object(r, [Sub("keep")]), ensure_ascii=False) + "\n"
    assert '"row": true' in got and '"record_id": "id\\u0001"' in got
