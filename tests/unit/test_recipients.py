"""Issue 11 items 2-4: unlisted recipients described by the question, the data categories a
share names, and the host's processor register; every engine (compiled, interpreter through
undated records, durable, SQL on DuckDB) gives the same answers, and the CLI takes them."""

from __future__ import annotations

import io
import json
import warnings
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import privacy_rules
from privacy_rules import Outcome, Question, QuestionError, RecipientFacts, RecipientFactsError
from privacy_rules.cli.main import main
from privacy_rules.recipients import apply_register, register_from_json

from ..conftest import ICONFIRM

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import durable.engine  # noqa: F401
    _DURABLE = True
except ImportError:  # Python 3.13+: the durable engine cannot be imported
    _DURABLE = False

CUSTOMER: dict[str, Any] = {"id": "c-1", "role": "controller", "subject_categories": ["customer"],
                            "relationship": {"customer_since": "2018-06-01"}, "source": "self"}
SURVEY = {"kind": "processor", "eea": True, "dpa": {"signed_on": "2024-02-29"},
          "purposes": ["relationship_management"], "categories": ["contact_information"]}
PS_ONLY = {"recipients": {"hubspot": {"transfers": [{"mechanism": "privacy_shield", "from": "2018-05-25"},
                                                    {"mechanism": "dpf", "from": "2023-07-10"}]}}}


def _described(facts: dict[str, Any], recipient: str = "nordic_survey_tool",
               purpose: str = "relationship_management", categories: list[str] | None = None) -> Question:
    return Question.share(recipient, purpose, recipient_facts=facts, categories=categories)


@pytest.fixture(scope="module")
def durable_policy(iconfirm: privacy_rules.Policy) -> Any:
    return privacy_rules.compile_pack(iconfirm.pack, engine="durable") if _DURABLE else None


# --- the question: text and JSON forms ------------------------------------------------------------

def test_categories_in_the_text_form_round_trip() -> None:
    q = Question.parse("share:hubspot:relationship_management[activity_log, contact_information,activity_log]")
    assert q.categories == ("activity_log", "contact_information")  # sorted, without repeats
    assert str(q) == "share:hubspot:relationship_management[activity_log,contact_information]"
    assert Question.parse(str(q)) == q
    assert Question.from_json(q.to_json()) == q
    assert Question.parse("share:hubspot:relationship_management").categories is None
    assert Question.parse("share:hubspot:relationship_management[]").categories == ()
    with pytest.raises(ValueError, match="categories"):
        Question.parse("share:hubspot:relationship_management[Contact]")


def test_recipient_facts_json_round_trip_and_refusals() -> None:
    q = _described(SURVEY)
    assert Question.from_json(q.to_json()) == q
    assert q.recipient_facts is not None and q.recipient_facts.dpa_known and not q.recipient_facts.transfers_known
    for bad, words in [({"eea": True}, "needs `kind`"), ({"kind": "friend"}, "kind"),
                       ({"kind": "processor", "dpa": {"signed_on": "2024-02-30"}}, "not a calendar day"),
                       ({"kind": "processor", "dpa": "yes"}, "dpa"), ({"kind": "processor", "eea": "no"}, "eea"),
                       ({"kind": "processor", "transfers": [{"mechanism": "SCC"}]}, "mechanism"),
                       ({"kind": "processor", "colour": "red"}, "unknown field")]:
        with pytest.raises(ValueError, match=words):
            RecipientFacts.from_json(bad)
    with pytest.raises(ValueError, match="takes no `recipient_facts`"):
        Question.from_json({"action": "contact", "purpose": "newsletter", "channel": "email",
                            "recipient_facts": {"kind": "processor"}})


def test_question_errors_name_the_problem(iconfirm: privacy_rules.Policy) -> None:
    with pytest.raises(QuestionError, match="recipient_facts"):  # an unknown id says how to describe it
        iconfirm.decide(CUSTOMER, "share:nordic_survey_tool:relationship_management", as_of="2024-06-01")
    with pytest.raises(QuestionError, match="PR347"):  # the notice's recipients keep the pack's facts
        iconfirm.decide(CUSTOMER, _described(SURVEY, recipient="hubspot"), as_of="2024-06-01")
    with pytest.raises(QuestionError, match="PR346"):
        iconfirm.decide(CUSTOMER, _described(dict(SURVEY, eea=False, transfers=[{"mechanism": "scc"}])),
                        as_of="2024-06-01")
    with pytest.raises(QuestionError, match="unknown data category `mailbox`"):
        iconfirm.decide(CUSTOMER, "share:hubspot:relationship_management[mailbox]", as_of="2024-06-01")
    with pytest.raises(QuestionError, match="described twice"):
        iconfirm.decide_all(CUSTOMER, [_described(SURVEY), _described(dict(SURVEY, eea=False, transfers=[]))],
                            as_of="2024-06-01")


# --- decisions ------------------------------------------------------------------------------------

@pytest.mark.parametrize("day, outcome, rule", [
    ("2024-02-28", Outcome.DENY, "share.processor-without-dpa"),     # the day before the DPA
    ("2024-02-29", Outcome.ALLOW, "share.processor-dpa-transfer"),   # signed on 29 February
    ("2024-03-01", Outcome.ALLOW, "share.processor-dpa-transfer"),
])
def test_an_unlisted_processor_around_its_dpa(iconfirm, durable_policy, day, outcome, rule) -> None:
    q = _described(SURVEY)
    d = iconfirm.decide(CUSTOMER, q, as_of=day)
    assert (d.outcome, d.decisive_rule, d.recipient_source) == (outcome, rule, "question")
    assert d.to_json()["recipient_source"] == "question" and d.to_json()["question"]["recipient_facts"]["kind"]
    (a,) = next(iconfirm.decide_batch([CUSTOMER], [q], as_of=day, reasons=True)).answers
    assert (a.outcome, a.rule_id) == (outcome, rule)
    if outcome is Outcome.ALLOW:  # R13: the notice must stay accurate
        assert "keep-notice-recipients-accurate" in [o.id for o in d.obligations]
    if durable_policy is not None:
        assert durable_policy.decide(CUSTOMER, q, as_of=day) == d


def test_missing_facts_are_named_and_never_allow(iconfirm, durable_policy) -> None:
    d = iconfirm.decide(CUSTOMER, _described({"kind": "processor"}), as_of="2024-06-01")
    assert d.outcome is Outcome.UNDETERMINED
    assert set(d.missing_facts) >= {"recipient_facts.dpa", "recipient_facts.eea", "recipient_facts.purposes"}
    d = iconfirm.decide(CUSTOMER, _described(dict(SURVEY, categories=None), categories=["contact_information"]),
                        as_of="2024-06-01")
    assert d.outcome is Outcome.UNDETERMINED and "recipient_facts.categories" in d.missing_facts
    # without categories in the question the recipient's categories are not needed
    assert iconfirm.decide(CUSTOMER, _described({k: v for k, v in SURVEY.items() if k != "categories"}),
                           as_of="2024-06-01").outcome is Outcome.ALLOW


def test_a_record_may_name_the_described_recipient_only_when_described(iconfirm) -> None:
    rec = dict(CUSTOMER, consents=[{"purpose": "third_party_disclosure", "recipient": "nordic_events",
                                    "given_on": "2024-02-29", "mechanism": "written"}])
    q = _described({"kind": "independent_controller", "eea": True}, recipient="nordic_events",
                   purpose="third_party_disclosure")
    d = iconfirm.decide(rec, q, as_of="2024-02-29")
    assert (d.outcome, d.decisive_rule, d.basis.id if d.basis else None) == (Outcome.ALLOW, "share.third-party-consent",
                                                                             "consent")
    assert iconfirm.decide(rec, q, as_of="2024-02-28").outcome is Outcome.DENY
    # a keep question alone does not describe it: the id stays unknown (PR321), as before
    keep = iconfirm.decide(rec, "keep", as_of="2024-02-29")
    assert keep.outcome is Outcome.UNDETERMINED and [p.code for p in keep.problems] == ["PR321"]
    # asked together with the describing question, the record is readable for both
    both = iconfirm.decide_all(rec, ["keep", q], as_of="2024-02-29")
    assert [x.outcome for x in both] == [Outcome.ALLOW, Outcome.ALLOW]


def test_categories_refuse_what_the_recipient_or_purpose_does_not_cover(iconfirm, durable_policy) -> None:
    cases = {
        "share:hubspot:relationship_management[activity_log,contact_information]": (Outcome.ALLOW, None),
        "share:hubspot:relationship_management[email_content]": (Outcome.DENY, "share.categories-beyond-recipient"),
        "share:econ_partner:accounting[accounting_voucher,contact_information]": (Outcome.ALLOW, None),
        "share:econ_partner:accounting[meeting_notes]": (Outcome.DENY, "share.categories-beyond-recipient"),
        "share:microsoft_365:internal_documentation[special_category]": (Outcome.DENY, "share.special-category"),
    }
    for text, (outcome, rule) in cases.items():
        d = iconfirm.decide(CUSTOMER, text, as_of="2024-06-01")
        assert d.outcome is outcome, text
        if rule:
            assert d.decisive_rule == rule
        if durable_policy is not None:
            assert durable_policy.decide(CUSTOMER, text, as_of="2024-06-01") == d


# --- the register -----------------------------------------------------------------------------------

@pytest.mark.parametrize("day, outcome", [("2020-07-15", Outcome.ALLOW), ("2020-07-16", Outcome.DENY),
                                          ("2023-07-09", Outcome.DENY), ("2023-07-10", Outcome.ALLOW),
                                          ("2024-02-29", Outcome.ALLOW)])
def test_a_register_on_the_privacy_shield_alone_gets_the_r14_answer(iconfirm, durable_policy, day, outcome) -> None:
    reg = iconfirm.with_register(register_from_json(PS_ONLY))
    q = "share:hubspot:relationship_management"
    d = reg.decide(CUSTOMER, q, as_of=day)
    assert (d.outcome, d.recipient_source) == (outcome, "register")
    if outcome is Outcome.DENY:
        assert d.decisive_rule == "share.transfer-without-mechanism"
    base = iconfirm.decide(CUSTOMER, q, as_of=day)
    assert (base.outcome, base.recipient_source) == (Outcome.ALLOW, "pack")  # the pack's SCCs
    assert "recipient facts from: the host's processor register" in privacy_rules.explain(d)
    if durable_policy is not None:
        assert durable_policy.with_register(register_from_json(PS_ONLY)).decide(CUSTOMER, q, as_of=day) == d


def test_register_files_and_their_errors(tmp_path: Path, iconfirm) -> None:
    good = tmp_path / "register.yaml"
    good.write_text("recipients:\n  hubspot:\n    dpa: {signed_on: 2018-05-25, ends_on: 2024-02-29}\n", encoding="utf-8")
    reg = privacy_rules.load_recipient_register(good)
    assert reg.entries["hubspot"].dpa_ends_on == "2024-02-29"  # an unquoted day stays a day string
    policy = iconfirm.with_register(reg)
    assert policy.decide(CUSTOMER, "share:hubspot:relationship_management", as_of="2024-02-29").allowed
    assert not policy.decide(CUSTOMER, "share:hubspot:relationship_management", as_of="2024-03-01").allowed
    for text, code in [("recipients: [1]", "PR345"), ("nope: {}", "PR345"), ("{{{", "PR345"),
                       ("recipients: {survey: {eea: true}}", "PR345"),                  # unlisted: needs kind
                       ("recipients: {hubspot: {kind: police}}", "PR345"),              # contradicts the pack
                       ("recipients: {hubspot: {transfers: [{mechanism: scc}]}}", "PR346")]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(RecipientFactsError) as info:
            iconfirm.with_register(privacy_rules.load_recipient_register(bad))
        assert info.value.code == code, text
    with pytest.raises(RecipientFactsError, match="cannot read"):
        privacy_rules.load_recipient_register(tmp_path / "missing.yaml")


def test_register_equal_to_the_pack_changes_nothing_but_the_source(iconfirm) -> None:
    v = iconfirm.pack.vocabulary
    entries = {rid: {"dpa": None if r.dpa_signed_on is None else {"signed_on": r.dpa_signed_on, "ends_on": r.dpa_ends_on},
                     "transfers": [{"mechanism": t.mechanism, "from": t.from_on, "until": t.until_on} for t in r.transfers],
                     "eea": r.eea}
               for rid, r in v.recipients.items()}
    same = iconfirm.with_register(register_from_json({"recipients": entries}))
    assert apply_register(iconfirm.pack, register_from_json({"recipients": {}})) is iconfirm.pack
    for day in ("2020-07-15", "2020-07-16", "2024-02-29"):
        for q in ("share:hubspot:relationship_management", "share:legacy_us_processor:knowledge_exchange"):
            a, b = iconfirm.decide(CUSTOMER, q, as_of=day), same.decide(CUSTOMER, q, as_of=day)
            assert (a.outcome, a.decisive_rule, a.reason) == (b.outcome, b.decisive_rule, b.reason)
            assert (a.recipient_source, b.recipient_source) == ("pack", "register")


# --- SQL and the CLI ---------------------------------------------------------------------------------

def test_sql_decides_described_recipients_and_registers_as_the_row_engine(iconfirm) -> None:
    pytest.importorskip("duckdb")
    from privacy_rules.sql.duck import decide_duckdb

    rec = dict(CUSTOMER, consents=[{"purpose": "third_party_disclosure", "recipient": "nordic_events",
                                    "given_on": "2024-02-29", "mechanism": "written"}])
    qs = [_described(SURVEY), _described({"kind": "processor"}, recipient="unknown_tool"),
          _described({"kind": "independent_controller", "eea": True}, recipient="nordic_events",
                     purpose="third_party_disclosure"),
          Question.parse("share:hubspot:relationship_management[email_content]"),
          Question.parse("share:econ_partner:accounting[contact_information]"), Question.keep()]
    for pack, policy in ((iconfirm.pack, iconfirm),
                         (apply_register(iconfirm.pack, register_from_json(PS_ONLY)),
                          iconfirm.with_register(register_from_json(PS_ONLY)))):
        for day in ("2020-07-16", "2024-02-28", "2024-02-29"):
            got = decide_duckdb(pack, [rec], qs, day)
            want = next(policy.decide_batch([rec], qs, as_of=day, reasons=True)).answers
            assert [(a.outcome, a.decisive_rule, a.keep_until, a.reason_code) for a in got] == \
                [(w.outcome.value, w.rule_id, w.keep_until, w.reason_code) for w in want], day


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_takes_a_register_and_question_objects(tmp_path: Path) -> None:
    record = tmp_path / "c.json"
    record.write_text(json.dumps(CUSTOMER), encoding="utf-8")
    register = tmp_path / "register.json"
    register.write_text(json.dumps(PS_ONLY), encoding="utf-8")
    code, out, _ = _cli("decide", str(ICONFIRM), str(record), "-q", "share:hubspot:relationship_management",
                        "--as-of", "2020-07-16", "--recipient-facts", str(register), "--format", "json")
    d = json.loads(out)  # one decision: one object
    assert code == 0 and d["outcome"] == "deny" and d["recipient_source"] == "register"
    q = json.dumps(_described(SURVEY).to_json())
    code, out, _ = _cli("decide", str(ICONFIRM), str(record), "-q", q, "--as-of", "2024-02-29")
    assert code == 0 and "ALLOW" in out and "the question's recipient_facts" in out
    code, _, err = _cli("decide", str(ICONFIRM), str(record), "--recipient-facts", str(tmp_path / "none.yaml"))
    assert code == 2 and "PR345" in err
    code, _, err = _cli("decide", str(ICONFIRM), str(record), "-q", "share:nordic_survey_tool:relationship_management")
    assert code == 2 and "recipient_facts" in err
    code, out, _ = _cli("sql", str(ICONFIRM), "-q", "share:hubspot:relationship_management[email_content]",
                        "--as-of", "2024-02-29", "--recipient-facts", str(register))
    assert code == 0 and "share.categories-beyond-recipient" in out
    assert date(2024, 2, 29)  # the days above include 29 February
