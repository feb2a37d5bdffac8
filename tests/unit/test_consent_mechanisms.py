"""Consent mechanisms (N53; Art. 4(11), 7; Recital 32; Planet49): which consents count, per
engine, in a pack without and with vocabulary.consent_mechanisms (docs/rule-language.md)."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

import privacy_rules
from privacy_rules import Outcome, Question
from privacy_rules.compile import runtime as rt
from privacy_rules.model import CONSENT_MECHANISMS, DEFAULT_CONSENT_MECHANISMS, ConsentMechanism

NEWSLETTER = Question.contact("newsletter", "email")
AS_OF = date(2024, 2, 29)


def _record(**consent: Any) -> dict[str, Any]:
    return {"id": "m-1", "role": "controller", "subject_categories": ["prospect"],
            "relationship": {"first_contact_on": "2023-08-31"},
            "consents": [{"purpose": "newsletter", "given_on": "2023-09-01", **consent}]}


@pytest.fixture(scope="module")
def declared(mini_pack: privacy_rules.Pack) -> privacy_rules.Policy:
    """mini, declaring: double opt-in always; browser settings for the newsletter until 2024-02-28."""
    table = (ConsentMechanism(mechanism="double_opt_in"),
             ConsentMechanism(mechanism="browser_setting", purposes=frozenset({"newsletter"}),
                              valid_until="2024-02-28"))
    pack = dataclasses.replace(mini_pack, vocabulary=dataclasses.replace(mini_pack.vocabulary,
                                                                         consent_mechanisms=table))
    return privacy_rules.compile_pack(pack)


@pytest.mark.parametrize("mechanism", [*CONSENT_MECHANISMS, None])
def test_default_table_counts_three_mechanisms_and_absent(mini: privacy_rules.Policy, mechanism: str | None) -> None:
    dec = mini.decide(_record(mechanism=mechanism), NEWSLETTER, as_of=AS_OF)
    counts = mechanism is None or mechanism in DEFAULT_CONSENT_MECHANISMS
    assert dec.outcome is (Outcome.ALLOW if counts else Outcome.DENY)
    if not counts:  # the explanation says why the consent did not count
        assert f"consents[0]` for `newsletter` does not count: it was obtained by `{mechanism}`" in dec.reason


def test_declared_pack_absent_mechanism_is_a_missing_fact(declared: privacy_rules.Policy) -> None:
    dec = declared.decide(_record(), NEWSLETTER, as_of=AS_OF)
    assert dec.outcome is Outcome.UNDETERMINED
    assert dec.missing_facts == ("consents[0].mechanism",)


def test_declared_pack_unknown_is_no_consent(declared: privacy_rules.Policy) -> None:
    dec = declared.decide(_record(mechanism="unknown"), NEWSLETTER, as_of=AS_OF)
    assert dec.outcome is Outcome.DENY
    assert "cannot be shown (Art. 7(1))" in dec.reason


@pytest.mark.parametrize("day, outcome", [("2024-02-27", Outcome.ALLOW), ("2024-02-28", Outcome.ALLOW),
                                          ("2024-02-29", Outcome.DENY), ("2024-03-01", Outcome.DENY)])
def test_declared_period_is_about_the_day_asked(declared: privacy_rules.Policy, day: str, outcome: Outcome) -> None:
    # N49: a browser-setting consent given in 2023 stops counting after valid_until (no carry-over)
    dec = declared.decide(_record(mechanism="browser_setting"), NEWSLETTER, as_of=date.fromisoformat(day))
    assert dec.outcome is outcome
    if outcome is Outcome.DENY:
        assert "only on other days" in dec.reason


def test_a_valid_consent_next_to_an_invalid_one_counts(declared: privacy_rules.Policy) -> None:
    rec = _record(mechanism="pre_ticked_box")
    rec["consents"].append({"purpose": "newsletter", "given_on": "2023-10-01", "mechanism": "double_opt_in"})
    assert declared.decide(rec, NEWSLETTER, as_of=AS_OF).outcome is Outcome.ALLOW
    rec["consents"].reverse()  # the order of consents does not matter
    assert declared.decide(rec, NEWSLETTER, as_of=AS_OF).outcome is Outcome.ALLOW


def test_unknown_value_is_a_record_problem(mini: privacy_rules.Policy) -> None:
    dec = mini.decide(_record(mechanism="opt_in"), NEWSLETTER, as_of=AS_OF)
    assert dec.outcome is Outcome.UNDETERMINED
    assert [p.code for p in dec.problems] == ["PR306"]


# the runtime's three values, directly (the generated code, the interpreter and SQL use them)
ROWS_WITHDRAWN = (("newsletter", None, "2020-01-01", "2021-01-01", "double_opt_in"),)
TABLE = (("double_opt_in", None, None, None),)


@pytest.mark.parametrize("again, expected", [
    (None, True),                  # withdrawn, nothing live
    ("double_opt_in", False),      # a valid new consent undoes the withdrawal
    ("pre_ticked_box", True),      # an invalid one does not (it is no consent)
])
def test_consent_withdrawn_ignores_invalid_new_consents(again: str | None, expected: bool) -> None:
    rows = ROWS_WITHDRAWN
    if again is not None:
        rows += (("newsletter", None, "2022-01-01", None, again),)
    assert rt.consent_withdrawn(rows, "newsletter", "2024-01-01", TABLE) is expected


def test_consent_withdrawn_unknown_when_the_new_consent_has_no_mechanism() -> None:
    rows = ROWS_WITHDRAWN + (("newsletter", None, "2022-01-01", None, None),)
    assert rt.consent_withdrawn(rows, "newsletter", "2024-01-01", TABLE) is None
    assert rt.consent_withdrawn(rows, "newsletter", "2024-01-01", None) is False  # no table: absent counts
