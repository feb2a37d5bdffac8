"""Combining, windows, unknowns and the Decision's contents, on the small test pack."""

from __future__ import annotations

import copy
import threading
from datetime import date

import pytest

from privacy_rules import Outcome, Question, QuestionError
from privacy_rules.decide import FORBID, OVERRIDE, PERMIT, combine
from privacy_rules.model import RuleStatus

PROSPECT = {"id": "p-1", "role": "controller", "subject_categories": ["prospect"],
            "relationship": {"first_contact_on": "2021-08-31"},
            "consents": [{"purpose": "newsletter", "given_on": "2021-09-01"}]}


def d(text: str) -> date:
    return date.fromisoformat(text)


# -- combining (docs/rule-language.md section 3) -------------------------------------------
@pytest.mark.parametrize(
    "effects, statuses, expected",
    [
        ((PERMIT,), (True,), ("allow", 0, "permit")),
        ((PERMIT,), (False,), ("deny", None, "no-basis")),
        ((PERMIT,), (None,), ("undetermined", None, "unknown")),
        ((PERMIT, FORBID), (True, True), ("deny", 1, "forbid")),
        ((PERMIT, FORBID), (True, None), ("undetermined", None, "unknown")),
        ((PERMIT, FORBID), (None, True), ("deny", 1, "forbid")),
        ((PERMIT, FORBID), (False, None), ("deny", None, "no-basis")),
        ((FORBID, OVERRIDE), (True, True), ("allow", 1, "override")),
        ((FORBID, OVERRIDE), (True, None), ("undetermined", None, "unknown")),
        ((FORBID, OVERRIDE), (True, False), ("deny", 0, "forbid")),
        ((OVERRIDE,), (None,), ("undetermined", None, "unknown")),
        ((PERMIT, PERMIT), (False, True), ("allow", 1, "permit")),
        ((), (), ("deny", None, "no-basis")),
    ],
)
def test_combine_order(effects, statuses, expected):
    assert combine(effects, statuses) == expected


# -- windows: the day before, on and after the end (N42/R2) -------------------------------
@pytest.mark.parametrize(
    "first_contact, last_day",
    [("2021-08-31", "2023-08-31"), ("2020-02-29", "2022-02-28"), ("2024-02-29", "2026-02-28"),
     ("2022-02-28", "2024-02-28"), ("2023-03-01", "2025-03-01")],
)
def test_prospect_window_boundaries(mini, first_contact, last_day):
    rec = copy.deepcopy(PROSPECT)
    rec["relationship"]["first_contact_on"] = first_contact
    end = d(last_day)
    before = mini.decide(rec, Question.keep(), as_of=date.fromordinal(end.toordinal() - 1))
    on = mini.decide(rec, Question.keep(), as_of=end)
    after = mini.decide(rec, Question.keep(), as_of=date.fromordinal(end.toordinal() + 1))
    assert (before.outcome, on.outcome, after.outcome) == (Outcome.ALLOW, Outcome.ALLOW, Outcome.DENY)
    assert before.keep_until == on.keep_until == end
    # deny:window-ended: keep_until names the window's last day as a field, not only in the text
    assert after.keep_until == end and after.decisive_rule is None


def test_keep_until_open_for_current_customer(mini):
    rec = {"id": "c", "role": "controller", "subject_categories": ["customer"], "relationship": {}}
    dec = mini.decide(rec, Question.keep(), as_of=d("2024-01-01"))
    assert dec.outcome is Outcome.ALLOW and dec.keep_until is None and dec.decisive_rule == "keep.customer"


def test_customer_tail_from_effective_end(mini):
    rec = {"id": "c", "subject_categories": ["customer"], "relationship": {"customer_ended_on": "2021-04-30"}}
    assert mini.decide(rec, Question.keep(), as_of=d("2024-04-30")).keep_until == d("2024-04-30")
    assert mini.decide(rec, Question.keep(), as_of=d("2024-05-01")).outcome is Outcome.DENY
    # an end date after as_of has not happened yet: still a customer, and the tail's end is
    # already known (R3's worked example: notice given, effective end 2021-04-30)
    ahead = mini.decide(rec, Question.keep(), as_of=d("2021-04-29"))
    assert ahead.outcome is Outcome.ALLOW and ahead.keep_until == d("2024-04-30")
    # with no end recorded the relationship runs with no end date
    running = {"id": "c", "subject_categories": ["customer"], "relationship": {}}
    assert mini.decide(running, Question.keep(), as_of=d("2021-04-29")).keep_until is None


def test_missing_fact_is_undetermined_never_allow(mini):
    rec = {"id": "x", "subject_categories": ["prospect"]}
    dec = mini.decide(rec, Question.keep(), as_of=d("2023-01-01"))
    assert dec.outcome is Outcome.UNDETERMINED
    assert dec.missing_facts == ("relationship.first_contact_on",)
    assert [a.status for a in dec.applied] == [RuleStatus.UNKNOWN]


def test_missing_subject_is_undetermined(mini):
    dec = mini.decide({"id": "x"}, Question.keep(), as_of=d("2023-01-01"))
    assert dec.outcome is Outcome.UNDETERMINED
    assert "subject_categories" in dec.missing_facts


def test_forbid_beats_permit_and_lists_it_overridden(mini):
    rec = copy.deepcopy(PROSPECT)
    rec["erasure_requests"] = [{"received_on": "2022-01-31", "verified_on": "2022-02-02"}]
    dec = mini.decide(rec, Question.keep(), as_of=d("2022-02-10"))
    assert dec.outcome is Outcome.DENY and dec.decisive_rule == "keep.erasure"
    assert dec.overridden == ("keep.prospect",)
    # the erasure still has to be answered within a month of receipt (Art. 12(3)), clamped
    assert [(o.id, o.due_on) for o in dec.obligations] == [("respond", d("2022-02-28"))]


def test_unverified_erasure_does_not_forbid(mini):
    rec = copy.deepcopy(PROSPECT)
    rec["erasure_requests"] = [{"received_on": "2022-01-31"}]
    assert mini.decide(rec, Question.keep(), as_of=d("2022-02-10")).outcome is Outcome.ALLOW


def test_override_beats_forbid(mini):
    rec = copy.deepcopy(PROSPECT)
    rec["erasure_requests"] = [{"received_on": "2022-01-31", "verified_on": "2022-02-02"}]
    rec["vouchers"] = [{"fiscal_year": 2021}]
    dec = mini.decide(rec, Question.keep("voucher"), as_of=d("2026-12-31"))
    assert dec.outcome is Outcome.ALLOW and dec.decisive_rule == "keep.vouchers"
    assert dec.basis is not None and dec.basis.article == "Art. 6(1)(c)"
    assert dec.keep_until == d("2026-12-31") and dec.overridden == ("keep.erasure",)
    assert mini.decide(rec, Question.keep("voucher"), as_of=d("2027-01-01")).outcome is Outcome.DENY


def test_newsletter_needs_live_consent_and_keep(mini):
    q = Question.contact("newsletter", "email")
    assert mini.decide(PROSPECT, q, as_of=d("2022-01-01")).outcome is Outcome.ALLOW
    # withdrawal day counts as withdrawn (R20)
    rec = copy.deepcopy(PROSPECT)
    rec["consents"][0]["withdrawn_on"] = "2022-01-01"
    assert mini.decide(rec, q, as_of=d("2021-12-31")).outcome is Outcome.ALLOW
    assert mini.decide(rec, q, as_of=d("2022-01-01")).outcome is Outcome.DENY
    # consent given after as_of does not count
    assert mini.decide(PROSPECT, q, as_of=d("2021-08-31")).outcome is Outcome.DENY
    # no keep, no contact (expired window)
    assert mini.decide(PROSPECT, q, as_of=d("2023-09-01")).outcome is Outcome.DENY


def test_keep_unknown_makes_contact_unknown(mini):
    rec = copy.deepcopy(PROSPECT)
    del rec["relationship"]
    dec = mini.decide(rec, Question.contact("newsletter", "email"), as_of=d("2022-01-01"))
    assert dec.outcome is Outcome.UNDETERMINED
    assert dec.missing_facts == ("relationship.first_contact_on",)


def test_transfer_mechanism_validity(mini):
    rec = copy.deepcopy(PROSPECT)
    rec["relationship"]["first_contact_on"] = "2019-08-01"
    q = Question.share("crm_us", "crm")
    assert mini.decide(rec, q, as_of=d("2020-07-15")).outcome is Outcome.ALLOW
    # Privacy Shield's last valid day is 2020-07-15 (Schrems II); the processor relied on nothing else
    assert mini.decide(rec, q, as_of=d("2020-07-16")).outcome is Outcome.DENY
    # purpose fit: the processor serves crm, not newsletter
    assert mini.decide(rec, Question.share("crm_us", "newsletter"), as_of=d("2020-07-15")).outcome is Outcome.DENY


def test_basis_comes_from_purpose_when_rule_has_none(mini):
    dec = mini.decide(PROSPECT, Question.contact("newsletter", "email"), as_of=d("2022-01-01"))
    assert dec.basis is not None and dec.basis.id == "consent" and dec.basis.dpv == "eu-gdpr:A6-1-a"


def test_unknown_question_ids_raise_with_hint(mini):
    with pytest.raises(QuestionError, match="did you mean `newsletter`"):
        mini.decide(PROSPECT, Question.contact("newsleter", "email"), as_of=d("2022-01-01"))
    with pytest.raises(QuestionError, match="unknown recipient"):
        mini.decide(PROSPECT, Question.share("nobody", "crm"), as_of=d("2022-01-01"))


@pytest.mark.parametrize("bad", ["2022-01-01", 20220101, None])
def test_as_of_must_be_a_date(mini, bad):
    if isinstance(bad, str):
        # a string is accepted and parsed strictly; a datetime is not a day
        assert mini.decide(PROSPECT, Question.keep(), as_of=bad).as_of == d(bad)
    else:
        with pytest.raises(TypeError, match="as_of must be a datetime.date"):
            mini.decide(PROSPECT, Question.keep(), as_of=bad)


def test_as_of_datetime_rejected(mini):
    from datetime import datetime

    with pytest.raises(TypeError):
        mini.decide(PROSPECT, Question.keep(), as_of=datetime(2022, 1, 1, 12))


def test_decide_never_mutates_the_record(mini):
    rec = copy.deepcopy(PROSPECT)
    rec["vouchers"] = [{"fiscal_year": 2021}]
    before = copy.deepcopy(rec)
    for q in (Question.keep(), Question.keep("voucher"), Question.contact("newsletter", "email"),
              Question.share("crm_us", "crm")):
        mini.decide(rec, q, as_of=d("2022-01-01"))
    list(mini.decide_batch([rec], [Question.keep()], as_of=d("2022-01-01")))
    assert rec == before


def test_decide_from_many_threads_gives_the_same_answers(mini):
    days = [date.fromordinal(d("2021-08-01").toordinal() + i) for i in range(0, 900, 7)]
    qs = [Question.keep(), Question.contact("newsletter", "email"), Question.share("crm_us", "crm")]
    expected = [[mini.decide(PROSPECT, q, as_of=day).to_json() for q in qs] for day in days]
    results: dict[int, list] = {}

    def work(n: int) -> None:
        results[n] = [[mini.decide(PROSPECT, q, as_of=day).to_json() for q in qs] for day in days]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[n] == expected for n in range(8))


def test_batch_never_stops_on_bad_records(mini):
    records = [PROSPECT, {"id": "bad", "relationship": {"first_contact_on": "2023-02-30"}}, "not a record",
               {"consent": []}, PROSPECT]
    rows = list(mini.decide_batch(records, [Question.keep()], as_of=d("2022-01-01")))
    assert [r.answers[0].outcome for r in rows] == ["allow", "undetermined", "undetermined", "undetermined", "allow"]
    assert "2023-02-30" in rows[1].problem and rows[1].record_id == "bad"
    assert "JSON object" in rows[2].problem
    assert "did you mean `consents`" in rows[3].problem
    assert [r.index for r in rows] == [0, 1, 2, 3, 4]


def test_decision_json_validates_against_schema(mini):
    from privacy_rules.validate.schema import validate_instance

    rec = copy.deepcopy(PROSPECT)
    rec["erasure_requests"] = [{"received_on": "2022-01-31", "verified_on": "2022-02-02"}]
    for q in (Question.keep(), Question.contact("newsletter", "email")):
        for dec in (mini.decide(rec, q, as_of=d("2022-02-10")), mini.decide({"id": "x", "consent": 1}, q, as_of=d("2022-02-10"))):
            assert validate_instance(dec.to_json(), "decision.schema.json") == []


def test_generated_source_has_no_rule_text(mini):
    """Codegen puts only validated ids and repr'd literals in the source (DESIGN: no eval of rule text)."""
    plan, _ = mini.plan(Question.share("crm_us", "crm"))
    assert "def _eval(R, C, K):" in plan.source
    assert "processor" not in plan.source.replace("share.processor", "")  # explanations never reach code


def test_obligation_rules_can_be_limited_to_outcomes(tmp_path):
    import shutil

    import privacy_rules

    pack_dir = tmp_path / "mini"
    shutil.copytree("tests/packs/mini", pack_dir)
    rules = (pack_dir / "rules.yaml").read_text()
    rules += """
  - id: contact.inform-first
    question: contact
    effect: obligation
    on_outcome: [allow]
    when:
      - not: {happened: art14_informed_on}
    obligations:
      - id: art14
        text: {en: "inform in the first communication", nb: "informer"}
    cites: {norms: [N55]}
    explain: {en: "Art. 14(3)(b)", nb: "art. 14(3)(b)"}
"""
    (pack_dir / "rules.yaml").write_text(rules)
    policy = privacy_rules.compile_pack(privacy_rules.load_pack(pack_dir))
    q = Question.contact("newsletter", "email")
    allowed = policy.decide(PROSPECT, q, as_of=d("2022-01-01"))
    denied = policy.decide(PROSPECT, q, as_of=d("2021-08-31"))  # consent not yet given
    assert allowed.outcome is Outcome.ALLOW and [o.id for o in allowed.obligations] == ["art14"]
    assert denied.outcome is Outcome.DENY and denied.obligations == ()
