"""Named question sets (pack.question_sets, PR230-PR234) and the Iconfirm `sweep` set (issue 8, item 6).

READINGS.md #10 (R7, R19, N15): a live newsletter consent keeps the subscription, not the
relationship record; a retention job that asks only the standard `keep` (the default scope)
would delete live subscribers. The `sweep` set asks keep of every scope.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

import privacy_rules
from privacy_rules import Question
from privacy_rules.model import Outcome, Severity
from privacy_rules.pack import read_pack
from privacy_rules.policy import QuestionError

from ..conftest import ICONFIRM, MINI

SUBSCRIBER = {"id": "sub-1", "role": "controller", "subject_categories": ["newsletter_subscriber"], "source": "self",
              "consents": [{"purpose": "newsletter", "given_on": "2022-01-10", "mechanism": "double_opt_in"}]}


def _pack_with_sets(tmp_path: Path, sets_yaml: str) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(MINI, folder)
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    assert "  default_scope: record\n" in text
    text = text.replace("  default_scope: record\n", "  default_scope: record\n  question_sets:\n" + sets_yaml, 1)
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    return folder


def _codes(folder: Path) -> list[tuple[str, Severity, int | None]]:
    _, diags = read_pack(folder)
    return sorted((d.code, d.severity, d.span.line if d.span else None) for d in diags if d.code.startswith("PR23"))


def test_every_problem_has_its_code_and_line(tmp_path):
    folder = _pack_with_sets(tmp_path, '    sweep: [keep:record, "keep:recrod", keep]\n'
                                       "    keep: [keep:voucher]\n"
                                       "    crm: []\n")
    got = _codes(folder)
    # line 12: the sweep set; 13: a set named like a question; 14: the empty set
    assert ("PR230", Severity.ERROR, 12) in got          # unknown scope `recrod`
    assert ("PR233", Severity.WARNING, 12) in got        # `keep` is keep:record again
    assert ("PR234", Severity.WARNING, 12) in got        # the sweep set leaves out `voucher`
    assert ("PR232", Severity.ERROR, 13) in got
    assert ("PR231", Severity.ERROR, 14) in got
    _, diags = read_pack(folder)
    pr230 = next(d for d in diags if d.code == "PR230")
    assert "`recrod`" in pr230.message and pr230.help == "did you mean `record`?"
    pr234 = next(d for d in diags if d.code == "PR234")
    assert "`voucher`" in pr234.message and "keep:voucher" in (pr234.help or "")


def test_a_complete_sweep_set_is_clean_and_asked(tmp_path):
    folder = _pack_with_sets(tmp_path, "    sweep: [keep:record, keep:voucher]\n    crm: [keep, \"keep:voucher\"]\n")
    assert _codes(folder) == []
    policy = privacy_rules.compile_pack(folder)
    assert policy.question_sets == {"sweep": (Question.keep("record"), Question.keep("voucher")),
                                    "crm": (Question.keep("record"), Question.keep("voucher"))}


def test_a_bad_set_name_is_refused_by_the_schema(tmp_path):
    folder = _pack_with_sets(tmp_path, "    Sweep: [keep]\n")
    pack, diags = read_pack(folder)
    assert pack is None and any(d.code == "PR100" for d in diags)


def test_iconfirm_sweep_asks_every_scope_and_check_is_clean():
    pack, diags = read_pack(ICONFIRM)
    assert pack is not None
    assert not [d for d in diags if d.code.startswith("PR23")]
    policy = privacy_rules.compile_pack(pack)
    asked = [q.scope for q in policy.question_sets["sweep"]]
    assert sorted(asked) == sorted(pack.vocabulary.scopes)
    assert asked[0] == pack.default_scope  # the relationship record first, as the standard keep


def test_decide_all_and_decide_batch_take_a_set(iconfirm):
    sweep = iconfirm.question_sets["sweep"]
    ds = iconfirm.decide_all(SUBSCRIBER, as_of="2025-01-31", question_set="sweep")
    assert [d.question for d in ds] == list(sweep)
    by_scope = {d.question.scope: d for d in ds}
    # R7, R19, N15 (READINGS #10): the subscription is kept, the relationship record is not
    assert by_scope["newsletter_subscription"].outcome is Outcome.ALLOW
    assert by_scope["newsletter_subscription"].decisive_rule == "keep.newsletter-consent"
    assert by_scope["relationship_record"].outcome is Outcome.DENY
    # the standard questions ask keep of the default scope only: they never see the subscription
    assert all(d.question.scope != "newsletter_subscription" for d in iconfirm.decide_all(SUBSCRIBER, as_of="2025-01-31"))
    row = next(iconfirm.decide_batch([SUBSCRIBER], as_of="2025-01-31", question_set="sweep", reasons=True))
    assert [(a.outcome, a.rule_id) for a in row.answers] == [(d.outcome, d.decisive_rule) for d in ds]


def test_set_arguments_are_checked(iconfirm):
    with pytest.raises(TypeError, match="not both"):
        iconfirm.decide_all(SUBSCRIBER, ["keep"], as_of="2025-01-31", question_set="sweep")
    with pytest.raises(QuestionError, match="did you mean `sweep`"):
        iconfirm.decide_all(SUBSCRIBER, as_of="2025-01-31", question_set="swep")
    with pytest.raises(QuestionError, match="unknown question set"):
        list(iconfirm.decide_batch([SUBSCRIBER], as_of="2025-01-31", question_set="nightly"))
    with pytest.raises(TypeError, match="question_set must be"):
        iconfirm.decide_all(SUBSCRIBER, as_of="2025-01-31", question_set=["sweep"])  # type: ignore[arg-type]


def test_mini_has_no_sets(mini):
    assert mini.question_sets == {}
    with pytest.raises(QuestionError, match="defines none"):
        mini.decide_all({}, as_of="2025-01-31", question_set="sweep")


def test_durable_facade_takes_the_same_sets(iconfirm):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import durable.engine  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"durable-rules cannot be imported on this Python: {exc}")
    dpol = privacy_rules.compile_pack(privacy_rules.load_pack(ICONFIRM), engine="durable")
    assert dpol.question_sets == iconfirm.question_sets
    assert dpol.decide_all(SUBSCRIBER, as_of="2025-01-31", question_set="sweep") == \
        iconfirm.decide_all(SUBSCRIBER, as_of="2025-01-31", question_set="sweep")
    assert list(dpol.decide_batch([SUBSCRIBER], as_of="2025-01-31", question_set="sweep", reasons=True)) == \
        list(iconfirm.decide_batch([SUBSCRIBER], as_of="2025-01-31", question_set="sweep", reasons=True))
