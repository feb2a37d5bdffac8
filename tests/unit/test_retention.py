"""Retention plans (privacy_rules.retention; issue 8, item 6): per record and scope keep until D,
delete or review, and whether a suppression entry is kept (R10). Iconfirm pack."""

from __future__ import annotations

from datetime import date

import pytest

from privacy_rules.retention import (DELETE, KEEP, REVIEW, PlanTally, ScopeStep, keep_only, plan_questions, plan_text,
                                     retention_plan)
from privacy_rules.model import Question
from privacy_rules.policy import QuestionError
from privacy_rules.validate.schema import validate_instance

AS_OF = "2025-01-31"
PROSPECT_OBJECTED = {"id": "p-obj", "role": "controller", "subject_categories": ["prospect"],
                     "relationship": {"first_contact_on": "2024-03-01"}, "source": "linkedin",
                     "objections": [{"kind": "art21_2", "received_on": "2024-09-01"}]}
SUBSCRIBER = {"id": "sub-1", "role": "controller", "subject_categories": ["newsletter_subscriber"], "source": "self",
              "consents": [{"purpose": "newsletter", "given_on": "2022-01-10", "mechanism": "double_opt_in"}]}
FORMER_CUSTOMER = {"id": "fc-1", "role": "controller", "subject_categories": ["customer"], "source": "self",
                   "relationship": {"customer_since": "2018-01-01", "customer_ended_on": "2021-04-30"}}


def _steps(plan):
    return {s.scope: s for s in plan.steps}


def test_prospect_who_objected_is_deleted_but_keeps_a_suppression_entry(iconfirm):
    # R9: a direct-marketing objection ends a prospect's relationship record; R10: a minimal
    # suppression entry is kept so the person is not re-imported and contacted again
    plan = retention_plan(iconfirm, PROSPECT_OBJECTED, as_of=AS_OF)
    steps = _steps(plan)
    assert steps["relationship_record"].action == DELETE
    assert steps["relationship_record"].rule_id == "keep.prospect-direct-marketing-objection"
    assert steps["relationship_record"].reason_code == "deny:forbid"
    assert steps["suppression_entry"].action == KEEP
    assert steps["suppression_entry"].rule_id == "keep.suppression-after-objection-or-withdrawal"
    assert steps["suppression_entry"].text == "keep suppression entry"
    assert plan.keep_suppression_entry and not plan.delete_all
    assert validate_instance(plan.to_json(), "plan.schema.json") == []


def test_live_newsletter_subscriber_keeps_the_subscription(iconfirm):
    # READINGS #10 (R7, R19, N15): the subscription is kept while the consent is live
    steps = _steps(retention_plan(iconfirm, SUBSCRIBER, as_of=AS_OF))
    assert steps["newsletter_subscription"].action == KEEP
    assert steps["newsletter_subscription"].keep_until is None
    assert steps["newsletter_subscription"].text == "keep (no end date yet)"
    assert steps["relationship_record"].action == DELETE
    # withdrawn: the subscription goes, and a suppression entry stays (R10, R20)
    withdrawn = dict(SUBSCRIBER, consents=[{"purpose": "newsletter", "given_on": "2022-01-10", "mechanism": "double_opt_in",
                                            "withdrawn_on": "2024-12-01"}])
    plan = retention_plan(iconfirm, withdrawn, as_of=AS_OF)
    assert _steps(plan)["newsletter_subscription"].action == DELETE
    assert plan.keep_suppression_entry


def test_former_customer_after_the_tail_deletes_everything_with_the_day(iconfirm):
    plan = retention_plan(iconfirm, FORMER_CUSTOMER, as_of=AS_OF)
    rr = _steps(plan)["relationship_record"]
    assert (rr.action, rr.reason_code, rr.keep_until) == (DELETE, "deny:window-ended", date(2024, 4, 30))
    assert rr.text == "delete (kept until 2024-04-30, passed)"
    assert plan.delete_all and not plan.keep_suppression_entry
    # inside the tail: keep until its last day (N29, R3)
    inside = _steps(retention_plan(iconfirm, FORMER_CUSTOMER, as_of="2024-04-30"))["relationship_record"]
    assert (inside.action, inside.keep_until, inside.text) == (KEEP, date(2024, 4, 30), "keep until 2024-04-30")


def test_undetermined_is_review_with_the_missing_fact(iconfirm):
    rec = {"id": "p-2", "role": "controller", "subject_categories": ["prospect"]}   # no first contact day
    rr = _steps(retention_plan(iconfirm, rec, as_of=AS_OF))["relationship_record"]
    assert rr.action == REVIEW and "relationship.first_contact_on" in rr.missing_facts
    assert rr.text.startswith("review: missing `relationship.first_contact_on`")


def test_a_bad_record_is_review_everywhere(iconfirm):
    plan = retention_plan(iconfirm, '{"id": "x", "id": "y"}', as_of=AS_OF)
    assert plan.problem and all(s.action == REVIEW for s in plan.steps)
    assert plan.counts() == {"keep": 0, "delete": 0, "review": len(plan.steps)}
    assert validate_instance(plan.to_json(), "plan.schema.json") == []
    assert "every scope: review" in plan_text(plan)


def test_plan_questions(iconfirm, mini):
    assert plan_questions(iconfirm) == list(iconfirm.question_sets["sweep"])
    # no sweep set: every scope of the vocabulary
    assert plan_questions(mini) == [Question.keep(s) for s in mini.pack.vocabulary.scopes]
    with pytest.raises(QuestionError):
        plan_questions(mini, "sweep")
    with pytest.raises(ValueError, match="keep questions"):
        keep_only([Question.parse("contact:newsletter:email")])


def test_tally_counts(iconfirm):
    tally = PlanTally([q.scope or "" for q in plan_questions(iconfirm)])
    for rec in (PROSPECT_OBJECTED, SUBSCRIBER, FORMER_CUSTOMER):
        tally.add(retention_plan(iconfirm, rec, as_of=AS_OF))
    data = tally.to_json()
    assert (data["records"], data["delete_all"], data["keep_suppression_entry"], data["review"]) == (3, 1, 1, 0)
    news = next(s for s in data["scopes"] if s["scope"] == "newsletter_subscription")
    assert news == {"scope": "newsletter_subscription", "keep": 1, "delete": 2, "review": 0}


def test_text_escapes_untrusted_ids():
    step = ScopeStep(scope="relationship_record", action=DELETE)
    from privacy_rules.retention import RetentionPlan

    text = plan_text(RetentionPlan(record_id="\x1b[2Kfake", as_of=date(2025, 1, 31), steps=(step,), locator="line 1"))
    assert "\x1b" not in text and "\\x1b" in text


def test_the_documented_plan_is_what_the_plan_prints(iconfirm):
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "retention.md").read_text(encoding="utf-8")
    plan = retention_plan(iconfirm, PROSPECT_OBJECTED, as_of=AS_OF)
    printed = plan_text(plan).replace("(record)", "(line 1)")
    assert printed in doc  # docs/retention.md shows the objecting prospect's plan exactly
