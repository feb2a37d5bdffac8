"""The public API is what __init__ documents, and nothing more (pypa/build's test_module)."""

from __future__ import annotations

import re

import privacy_rules


def test_all_matches_dir_and_is_documented():
    assert sorted(dir(privacy_rules)) == sorted(privacy_rules.__all__)
    doc = privacy_rules.__doc__ or ""
    for name in ("load_pack", "check_pack", "compile_pack", "decide", "decide_all", "decide_batch", "explain",
                 "Outcome", "render_pack"):
        assert name in doc, name


def test_every_exported_name_exists():
    for name in privacy_rules.__all__:
        assert getattr(privacy_rules, name) is not None


def test_importing_does_not_import_optional_engines():
    import subprocess
    import sys

    code = "import sys, privacy_rules; print(sorted(m for m in sys.modules if m.split('.')[0] == 'durable'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_version_is_pep440():
    from importlib.metadata import version

    assert re.fullmatch(r"\d+\.\d+\.\d+.*", version("privacy-rules"))


def test_compile_pack_selects_the_engine(mini_pack):
    import pytest

    with pytest.raises(ValueError, match="engine must be"):
        privacy_rules.compile_pack(mini_pack, engine="opa")
    try:
        policy = privacy_rules.compile_pack(mini_pack, engine="durable")
    except privacy_rules.PrivacyRulesError as exc:  # EngineUnavailable where durable cannot import
        pytest.skip(f"durable-rules cannot be imported here: {exc}")
    from datetime import date

    rec = {"id": "p", "subject_categories": ["prospect"], "relationship": {"first_contact_on": "2021-08-31"}}
    compiled = privacy_rules.compile_pack(mini_pack)
    q = privacy_rules.Question.keep()
    assert policy.decide(rec, q, as_of=date(2023, 8, 31)).to_json() == compiled.decide(rec, q, as_of=date(2023, 8, 31)).to_json()


# --- issue 7 item 13: the obvious argument forms, the same across decide / decide_all / decide_batch ---

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
REC = {"id": "p-1", "subject_categories": ["prospect"], "relationship": {"first_contact_on": "2021-08-31"}}


def _engines(mini_pack):
    import pytest

    yield privacy_rules.compile_pack(mini_pack)
    try:
        yield privacy_rules.compile_pack(mini_pack, engine="durable")
    except privacy_rules.PrivacyRulesError as exc:  # EngineUnavailable where durable cannot import
        pytest.skip(f"durable-rules cannot be imported here: {exc}")


def test_compile_pack_takes_a_path_or_a_pack_and_says_what_else(mini_pack):
    import pytest

    from_path = privacy_rules.compile_pack(str(ROOT / "tests" / "packs" / "mini"))
    from_pathlib = privacy_rules.compile_pack(ROOT / "tests" / "packs" / "mini")
    assert from_path.pack.version == from_pathlib.pack.version == mini_pack.version
    with pytest.raises(privacy_rules.PackError):
        privacy_rules.compile_pack(str(ROOT / "tests" / "packs" / "broken" / "duplicate-id"))
    with pytest.raises(TypeError, match="takes a Pack .* or a pack folder path, not dict"):
        privacy_rules.compile_pack({"id": "x"})


def test_questions_as_text_or_question_everywhere(mini_pack):
    from datetime import date

    for policy in _engines(mini_pack):
        as_of = date(2023, 8, 31)
        by_text = policy.decide(REC, "keep", as_of=as_of)
        assert by_text.to_json() == policy.decide(REC, privacy_rules.Question.keep(), as_of=as_of).to_json()
        assert [d.to_json() for d in policy.decide_all(REC, ["keep", "contact:newsletter:email"], as_of=as_of)] == \
            [d.to_json() for d in policy.decide_all(REC, [privacy_rules.Question.keep(),
                                                          privacy_rules.Question.contact("newsletter", "email")],
                                                    as_of=as_of)]
        # None means the pack's standard questions, in all three calls; an empty list asks nothing
        standard = policy.decide_all(REC, None, as_of=as_of)
        assert [d.question for d in standard] == list(policy.standard_questions)
        rows = list(policy.decide_batch([REC], None, as_of=as_of))
        assert len(rows[0].answers) == len(policy.standard_questions)
        assert policy.decide_all(REC, [], as_of=as_of) == () and next(policy.decide_batch([REC], [], as_of=as_of)).answers == ()


def test_as_of_is_a_date_or_a_strict_day_string_everywhere(mini_pack):
    from datetime import date, datetime

    import pytest

    for policy in _engines(mini_pack):
        calls = {
            "decide": lambda a: policy.decide(REC, "keep", as_of=a),
            "decide_all": lambda a: policy.decide_all(REC, ["keep"], as_of=a),
            "decide_batch": lambda a: policy.decide_batch([REC], ["keep"], as_of=a),
        }
        for name, call in calls.items():
            call("2023-08-31")
            call(date(2023, 8, 31))
            with pytest.raises(TypeError, match="not a datetime"):
                call(datetime(2023, 8, 31, 12, 0))
            for bad in (20230831, None, 2023.5, ["2023-08-31"]):
                with pytest.raises(TypeError, match="as_of must be a datetime.date or a 'YYYY-MM-DD' string"):
                    call(bad)
            for bad in ("2023-8-31", "20230831", "2023-08-31T00:00", "2023-02-30", " 2023-08-31"):
                with pytest.raises(ValueError):
                    call(bad)


def test_wrong_argument_types_say_what_to_pass(mini_pack):
    from datetime import date

    import pytest

    for policy in _engines(mini_pack):
        as_of = date(2023, 8, 31)
        with pytest.raises(TypeError, match="a question must be a privacy_rules.Question or text"):
            policy.decide(REC, 5, as_of=as_of)
        with pytest.raises(TypeError, match="to ask one question pass"):
            policy.decide_all(REC, "keep", as_of=as_of)
        with pytest.raises(TypeError, match="to ask one question pass"):
            policy.decide_batch([REC], "contact:newsletter:email", as_of=as_of)
        with pytest.raises(TypeError, match="questions must be a list of questions"):
            policy.decide_batch([REC], 5, as_of=as_of)
        with pytest.raises(ValueError, match="cannot read question `contact:newsletter`"):
            policy.decide(REC, "contact:newsletter", as_of=as_of)
        with pytest.raises(privacy_rules.QuestionError, match="did you mean `newsletter`"):
            policy.decide_all(REC, ["contact:newsleter:email"], as_of=as_of)
        # the arguments of decide_batch are checked at the call, before any record is read
        with pytest.raises(TypeError):
            policy.decide_batch(iter([REC]), ["keep"], as_of=None)


def test_answer_and_decision_share_one_vocabulary_of_types(mini_pack):
    from datetime import date

    for policy in _engines(mini_pack):
        as_of = date(2023, 8, 31)
        d = policy.decide(REC, "keep", as_of=as_of)
        a = next(policy.decide_batch([REC], ["keep"], as_of=as_of)).answers[0]
        assert isinstance(a.outcome, privacy_rules.Outcome) and a.outcome is d.outcome is privacy_rules.Outcome.ALLOW
        assert a.keep_until == d.keep_until == date(2023, 8, 31)
        assert a.rule_id == d.decisive_rule
        u = next(policy.decide_batch([{"id": "x", "consent": []}], ["keep"], as_of=as_of)).answers[0]
        assert u.outcome is privacy_rules.Outcome.UNDETERMINED and u.keep_until is None


def test_records_as_json_text_in_every_call(mini_pack):
    import json
    from datetime import date

    for policy in _engines(mini_pack):
        as_of = date(2023, 8, 31)
        text = json.dumps(REC)
        assert policy.decide(text, "keep", as_of=as_of).to_json() == policy.decide(REC, "keep", as_of=as_of).to_json()
        assert policy.decide_all(text.encode(), as_of=as_of) == policy.decide_all(REC, as_of=as_of)
        dup = text[:-1] + ', "subject_categories": []}'
        for d in policy.decide_all(dup, as_of=as_of):
            assert d.outcome is privacy_rules.Outcome.UNDETERMINED and d.problems[0].code == "PR307"
        assert next(policy.decide_batch([dup], as_of=as_of)).problem.startswith("PR307 duplicate key")


def test_decide_batch_refuses_one_record_at_top_level(mini_pack):
    # Iterating a dict gives its keys and a JSON text its characters: before, each became one
    # undetermined row ("5 rows" for one record). One record, as a mapping or as text, is a
    # TypeError saying to pass an iterable of records; the same in both engines.
    import json
    from collections import OrderedDict
    from datetime import date
    from types import MappingProxyType

    import pytest

    text = json.dumps(REC)
    for policy in _engines(mini_pack):
        for one in (REC, OrderedDict(REC), MappingProxyType(REC), text, text.encode(), bytearray(text.encode())):
            for qs in (None, ["keep"]):
                with pytest.raises(TypeError, match="records must be an iterable of records .*pass \\["):
                    policy.decide_batch(one, qs, as_of=date(2023, 8, 31))
        with pytest.raises(TypeError, match="records must be an iterable of records .*not int"):
            policy.decide_batch(5, None, as_of=date(2023, 8, 31))
        with pytest.raises(TypeError, match="not NoneType"):
            policy.decide_batch(None, None, as_of=date(2023, 8, 31))
        # what is an iterable of records still works: a list, a generator, a tuple of JSON texts,
        # JSON Lines split into lines; the iterable is read once, by the batch
        gen = (r for r in [REC, REC])
        assert len(list(policy.decide_batch(gen, None, as_of=date(2023, 8, 31)))) == 2
        rows = list(policy.decide_batch((text, text.encode()), ["keep"], as_of=date(2023, 8, 31)))
        assert [r.answers[0].outcome.value for r in rows] == ["allow", "allow"]
        assert len(list(policy.decide_batch(f"{text}\n{text}\n".splitlines(), None, as_of="2023-08-31"))) == 2
        # decide / decide_all take one record: a mapping or its JSON text, as before
        assert policy.decide_all(text, ["keep"], as_of="2023-08-31")[0].outcome.value == "allow"
        assert policy.decide(REC, "keep", as_of="2023-08-31").outcome.value == "allow"


def test_explain_takes_a_decision_and_says_so(mini_pack):
    from datetime import date

    import pytest

    policy = privacy_rules.compile_pack(mini_pack)
    answer = next(policy.decide_batch([REC], ["keep"], as_of=date(2023, 8, 31))).answers[0]
    with pytest.raises(TypeError, match="explain takes a Decision .*not Answer: .*call policy.decide"):
        privacy_rules.explain(answer)
    for wrong in (None, REC, "keep", policy.decide_all(REC, ["keep"], as_of=date(2023, 8, 31))):
        with pytest.raises(TypeError, match="explain takes a Decision"):
            privacy_rules.explain(wrong)
    assert "ALLOW" in privacy_rules.explain(policy.decide(REC, "keep", as_of=date(2023, 8, 31)))


def test_question_parse_takes_text_and_says_so():
    import pytest

    for wrong in (None, 5, b"keep", ["keep"], privacy_rules.Question.keep()):
        with pytest.raises(TypeError, match="Question.parse takes the question's text"):
            privacy_rules.Question.parse(wrong)
    with pytest.raises(ValueError, match="cannot read question"):
        privacy_rules.Question.parse("contact:newsletter")
    assert privacy_rules.Question.parse("keep") == privacy_rules.Question.keep()
