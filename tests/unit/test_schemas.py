"""Unit tests for the JSON Schemas in src/privacy_rules/schemas (docs/rule-language.md is the contract).

Each schema must be a valid draft 2020-12 schema, accept the examples the doc gives, and reject
the typos and malformed values it is there to catch. Instances are validated with the format
checker on, as privacy_rules.validate does, so impossible dates (2023-02-30) are rejected too.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from jsonschema import Draft202012Validator

import privacy_rules
from privacy_rules.model import (
    AppliedRule,
    Basis,
    Citation,
    Decision,
    Diagnostic,
    Effect,
    Obligation,
    Outcome,
    Question,
    RuleStatus,
    Severity,
    Span,
)

SCHEMA_DIR = Path(privacy_rules.__file__).parent / "schemas"
REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "rule-language.md"
NAMES = ["pack", "rules", "record", "question", "decision", "scenarios", "profile", "summary", "plan"]


def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


def _errors(name: str, instance: Any) -> list[str]:
    validator = Draft202012Validator(_schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(instance)]


def _assert_valid(name: str, instance: Any) -> None:
    errors = _errors(name, instance)
    assert errors == [], errors


def _assert_invalid(name: str, instance: Any) -> None:
    assert _errors(name, instance), f"{name} schema accepted {instance!r}"


class _StringDates(yaml.SafeLoader):
    """SafeLoader that keeps dates as strings, as the project's loader does (YAML 1.2 core)."""


_StringDates.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _doc_block(section: str, lang: str) -> str:
    """The first ```lang fenced block under the doc's `## section` heading."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {section}")
    end = text.find("\n## ", start + 1)
    body = text[start:end if end != -1 else None]
    match = re.search(rf"```{lang}\n(.*?)```", body, re.S)
    assert match, f"no {lang} block in section {section!r}"
    return match.group(1)


def _set(instance: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of ``instance`` with the value at ``path`` replaced (or added)."""
    out = copy.deepcopy(instance)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def _drop(instance: Any, path: tuple[Any, ...]) -> Any:
    out = copy.deepcopy(instance)
    node = out
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return out


# --- every schema ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = _schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://privacy-rules.dev/schemas/{name}.schema.json"
    assert schema["title"] and schema["description"]


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_reachable_from_the_repo_root(name: str) -> None:
    # The yaml-language-server modelines in packs point at ../../schemas/ (a symlink).
    assert (REPO / "schemas" / f"{name}.schema.json").read_bytes() == (
        SCHEMA_DIR / f"{name}.schema.json").read_bytes()


def _undescribed(node: Any, root: dict[str, Any], where: str) -> Iterator[str]:
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _undescribed(item, root, f"{where}/{i}")
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in ("if", "then", "else"):
            continue  # conditional branches only restate properties described elsewhere
        if key == "properties":
            for prop, sub in value.items():
                target = sub
                if isinstance(sub, dict) and "description" not in sub and "$ref" in sub:
                    target = root["$defs"][sub["$ref"].removeprefix("#/$defs/")]
                if not (isinstance(target, dict) and target.get("description")):
                    yield f"{where}/properties/{prop}"
        yield from _undescribed(value, root, f"{where}/{key}")


@pytest.mark.parametrize("name", NAMES)
def test_every_property_has_a_description(name: str) -> None:
    # Lawyers read these on hover in their editor (yaml-language-server).
    schema = _schema(name)
    assert list(_undescribed(schema, schema, "#")) == []


@pytest.mark.parametrize("name", ["decision", "scenarios"])
def test_inlined_question_matches_question_schema(name: str) -> None:
    skip = {"$schema", "$id", "title", "description"}
    inlined = {k: v for k, v in _schema(name)["$defs"]["question"].items() if k not in skip}
    original = {k: v for k, v in _schema("question").items() if k not in skip}
    assert inlined == original


# --- pack.schema.json -----------------------------------------------------------------------

LABEL = {"en": "Label", "nb": "Etikett"}

PACK: dict[str, Any] = {
    "pack": {
        "id": "iconfirm",
        "name": "Iconfirm AS privacy policy",
        "version": "1.0.0",
        "controller": "Iconfirm AS",
        "jurisdiction": "NO",
        "time_zone": "Europe/Oslo",
        "default_scope": "relationship_record",
        "source": "policy/personvernerklaering-iconfirm.txt",
        "review": {"reviewer": "A. Lawyer", "reviewed_on": "2026-11-01", "next_review": "2027-11-01"},
        "norms": {
            "N1": {"title": "Controller identity", "covered_by": "documentation", "note": "no decision effect"},
            "N28": {"title": "Prospect contacts: 24 months", "covered_by": "rules"},
            "R2": {"title": "Inclusive end", "covered_by": "vocabulary"},
        },
    },
    "files": ["keep.yaml", "contact.yaml", "share.yaml"],
    "scenarios": ["scenarios/keep.yaml"],
    "vocabulary": {
        "lawful_bases": {
            "legitimate_interest": {"article": "Art. 6(1)(f)", "dpv": "eu-gdpr:A6-1-f", "label": LABEL},
            "consent": {"article": "Art. 6(1)(a)", "label": LABEL},
        },
        "subject_categories": {"prospect": {"label": LABEL}},
        "scopes": {"relationship_record": {"label": LABEL}},
        "purposes": {
            "newsletter": {"basis": "consent", "direct_marketing": True, "label": LABEL},
            "relationship_management": {"basis": "legitimate_interest", "label": LABEL},
        },
        "channels": {"email": {"electronic": True, "label": LABEL}, "phone": {"electronic": False, "label": LABEL}},
        "transfer_mechanisms": {
            "dpf": {"article": "Art. 45(3)", "dpv": "eu-gdpr:A45-3", "valid_from": "2023-07-10", "label": LABEL},
            "privacy_shield": {"article": "Art. 45", "valid_until": "2020-07-15", "label": LABEL},
            "sccs": {"article": "Art. 46(2)(c)", "label": LABEL},
        },
        "recipients": {
            "hubspot": {
                "kind": "processor",
                "name": "HubSpot Inc.",
                "country": "US",
                "eea": False,
                "listed_in_policy": True,
                "dpa": {"signed_on": "2018-05-25", "ends_on": None},
                "transfers": [
                    {"mechanism": "privacy_shield", "from": "2018-05-25", "until": "2020-07-15"},
                    {"mechanism": "sccs", "from": "2018-05-25"},
                    {"mechanism": "dpf", "from": "2023-07-10"},
                ],
                "purposes": ["relationship_management", "newsletter"],
            },
            "platform_host": {
                "kind": "processor", "name": "Host AS", "eea": True, "dpa": None,
                "sub_processor_of": "Iconfirm platform", "appendix": "Appendix 4 of the terms",
            },
            "police": {"kind": "authority", "name": "Politiet", "country": "NO", "eea": True},
        },
        "windows": {
            "prospect": {"from": "relationship.first_contact_on", "months": 24},
            "customer_tail": {"from": "relationship.customer_ended_on", "years": 3, "open_if_absent": True},
            "vouchers": {"from": "vouchers[].fiscal_year_end", "years": 5},
            "erasure_response": {"from": "erasure_requests[].received_on", "months": 1},
            "custom": {"from": "facts.contract_signed_on", "months": 6},
        },
    },
}

V = ("vocabulary",)


def test_pack_example_is_valid() -> None:
    _assert_valid("pack", PACK)


def test_pack_minimal_is_valid() -> None:
    minimal = {"pack": {k: PACK["pack"][k] for k in ("id", "name", "version", "controller", "jurisdiction",
                                                        "time_zone", "default_scope")},
               "files": ["keep.yaml"], "vocabulary": {}}
    _assert_valid("pack", minimal)


@pytest.mark.parametrize("path, value", [
    pytest.param(V + ("windows", "prospect", "years"), 2, id="window-months-and-years"),
    pytest.param(V + ("windows", "prospect", "from"), "relationship.first-contact", id="window-bad-from"),
    pytest.param(V + ("windows", "prospect", "months"), 0, id="window-zero-months"),
    pytest.param(V + ("windows", "prospect", "month"), 24, id="window-typo-key"),
    pytest.param(("pack", "controler"), "Iconfirm AS", id="pack-typo-key"),
    pytest.param(("pack", "jurisdiction"), False, id="jurisdiction-NO-read-as-yaml-1.1-boolean"),
    pytest.param(("pack", "jurisdiction"), "Norway", id="jurisdiction-not-a-code"),
    pytest.param(("pack", "version"), 1.0, id="version-as-number"),
    pytest.param(("pack", "review", "reviewed_on"), "1 Nov 2026", id="review-date-form"),
    pytest.param(("pack", "review", "reviewed_on"), "2026-02-30", id="review-impossible-date"),
    pytest.param(("pack", "norms", "X1"), {"title": "x", "covered_by": "rules"}, id="norm-id"),
    pytest.param(("pack", "norms", "N1", "covered_by"), "code", id="norm-covered-by"),
    pytest.param(("files",), [], id="files-empty"),
    pytest.param(("files",), ["keep.yml"], id="files-not-yaml"),
    pytest.param(("files",), ["/etc/keep.yaml"], id="files-absolute"),
    pytest.param(("vocabulary", "purpose"), {}, id="vocabulary-typo-key"),
    pytest.param(V + ("purposes", "Newsletter"), {"basis": "consent", "label": LABEL}, id="id-uppercase"),
    pytest.param(V + ("purposes", "newsletter", "label"), {"en": "Newsletter"}, id="label-without-nb"),
    pytest.param(V + ("purposes", "newsletter", "direct_marketing"), "yes", id="bool-as-string"),
    pytest.param(V + ("channels", "email"), {"label": LABEL}, id="channel-without-electronic"),
    pytest.param(V + ("lawful_bases", "consent", "dpv"), "A6-1-a", id="dpv-without-prefix"),
    pytest.param(V + ("recipients", "hubspot", "kind"), "vendor", id="recipient-kind"),
    pytest.param(V + ("recipients", "hubspot", "dpa", "signed_on"), "2018-05-25T00:00:00", id="dpa-datetime"),
    pytest.param(V + ("recipients", "hubspot", "transfers", 1), {"mechanism": "sccs"}, id="transfer-no-from"),
    pytest.param(V + ("transfer_mechanisms", "dpf", "valid_form"), "2023-07-10", id="mechanism-typo-key"),
])
def test_pack_invalid(path: tuple[Any, ...], value: Any) -> None:
    _assert_invalid("pack", _set(PACK, path, value))


@pytest.mark.parametrize("path", [
    pytest.param(V + ("windows", "prospect", "months"), id="window-without-length"),
    pytest.param(("pack", "default_scope"), id="no-default-scope"),
    pytest.param(("files",), id="no-files"),
    pytest.param(V + ("recipients", "hubspot", "eea"), id="recipient-without-eea"),
    pytest.param(V + ("purposes", "newsletter", "basis"), id="purpose-without-basis"),
])
def test_pack_missing_required(path: tuple[Any, ...]) -> None:
    _assert_invalid("pack", _drop(PACK, path))


# --- rules.schema.json ----------------------------------------------------------------------

def _doc_rules() -> dict[str, Any]:
    return yaml.load(_doc_block("2. Rule files", "yaml"), Loader=_StringDates)


RULE: dict[str, Any] = {
    "id": "contact.newsletter-consent",
    "question": "contact",
    "purposes": ["newsletter"],
    "channels": ["email"],
    "effect": "permit",
    "when": [{"consent_for_question": True}],
    "cites": {"norms": ["N15", "R20"]},
    "explain": {"nb": "Nyhetsbrev sendes bare med samtykke.", "en": "Newsletters need consent."},
}


def test_rules_doc_example_is_valid() -> None:
    _assert_valid("rules", _doc_rules())


def test_rules_minimal_contact_rule_without_basis_is_valid() -> None:
    _assert_valid("rules", {"rules": [RULE]})


VALID_PREDICATES = [
    {"role": "controller"},
    {"role": "processor"},
    {"subject": "prospect"},
    {"subject": ["prospect", "customer_contact"]},
    {"within": "prospect"},
    {"expired": "prospect"},
    {"happened": "relationship.customer_ended_on"},
    {"happened": "facts.contract_signed_on"},
    {"consent": "newsletter"},
    {"consent_for_question": True},
    {"consent_for_question": "since_restriction"},  # Art. 18(2), R6
    {"consent_withdrawn": "newsletter"},
    {"consent_withdrawn": "any"},
    {"objection": "art21_1"},
    {"objection": "art21_2"},
    {"objection": "any"},
    {"restriction": "active"},
    {"restriction": "art18_1_c"},
    {"erasure": "requested"},
    {"erasure": "verified"},
    {"rights_request": "pending_verification"},
    {"legal_hold": "active"},
    {"legal_order": "binding"},
    {"data_category": "health"},
    {"keep": "allowed"},
    {"processor_dpa": "in_force"},
    {"transfer": "lawful"},
    {"recipient_serves": "question_purpose"},
    {"channel_electronic": True},
    {"channel_electronic": False},
    {"fact": {"path": "contact_address_kind", "equals": "personal"}},
    {"fact": {"path": "source", "not_equals": "self"}},
    {"fact": {"path": "source", "in": ["linkedin", "public_register"]}},
    {"fact": {"path": "facts.tier", "not_in": [1, 2]}},
    {"fact": {"path": "facts.flag", "equals": True}},
    {"fact": {"path": "art14_informed_on", "before": "2024-01-01"}},
    {"fact": {"path": "relationship.customer_since", "on_or_before": "2024-01-01"}},
    {"fact": {"path": "relationship.customer_since", "after": "2024-01-01"}},
    {"fact": {"path": "relationship.customer_since", "on_or_after": "2024-01-01"}},
    {"all": [{"role": "controller"}, {"subject": "prospect"}]},
    {"any": [{"objection": "any"}, {"erasure": "verified"}]},
    {"not": {"legal_hold": "active"}},
    {"not": {"any": [{"all": [{"within": "prospect"}]}, {"not": {"role": "processor"}}]}},
]


@pytest.mark.parametrize("predicate", VALID_PREDICATES, ids=lambda p: json.dumps(p, sort_keys=True))
def test_rules_valid_predicate(predicate: dict[str, Any]) -> None:
    _assert_valid("rules", {"when": [predicate], "rules": [_set(RULE, ("when",), [predicate])]})


INVALID_PREDICATES = [
    {"consents": "newsletter"},  # unknown predicate
    {"role": "owner"},
    {"role": "controller", "subject": "prospect"},  # two keys in one predicate
    {},
    {"subject": []},
    {"subject": "Prospect"},
    {"within": "prospect window"},
    {"happened": "relationship.first contact"},
    {"happened": "consents[].given_on"},  # list paths only in window `from`
    {"consent_for_question": False},
    {"consent_for_question": "yes"},
    {"objection": "art21_3"},
    {"restriction": "art18_1_e"},
    {"erasure": "done"},
    {"legal_order": "voluntary"},
    {"channel_electronic": "true"},
    {"fact": {"path": "facts.x"}},  # no operator
    {"fact": {"path": "facts.x", "equals": 1, "in": [1]}},  # two operators
    {"fact": {"equals": 1}},  # no path
    {"fact": {"path": "facts.x", "greater_than": 1}},
    {"fact": {"path": "facts.X", "equals": 1}},
    {"fact": {"path": "facts.x", "equals": {"a": 1}}},
    {"fact": {"path": "facts.x", "in": []}},
    {"fact": {"path": "facts.x", "before": "01.01.2024"}},
    {"fact": {"path": "facts.x", "before": "2024-13-01"}},  # impossible date (format)
    {"all": []},
    {"any": {"role": "controller"}},
    {"not": [{"role": "controller"}]},
    {"all": [{"role": "controller"}, {"rol": "controller"}]},  # typo nested deep
    "role: controller",
]


@pytest.mark.parametrize("predicate", INVALID_PREDICATES, ids=lambda p: json.dumps(p, sort_keys=True))
def test_rules_invalid_predicate(predicate: Any) -> None:
    _assert_invalid("rules", {"rules": [_set(RULE, ("when",), [predicate])]})
    _assert_invalid("rules", {"when": [predicate], "rules": [RULE]})


def _keep_rule() -> dict[str, Any]:
    return _doc_rules()["rules"][0]


@pytest.mark.parametrize("change", [
    pytest.param(lambda r: _drop(r, ("cites",)), id="no-cites"),
    pytest.param(lambda r: _drop(r, ("cites", "norms")), id="cites-without-norms"),
    pytest.param(lambda r: _set(r, ("cites", "norms"), ["X1"]), id="cites-bad-norm"),
    pytest.param(lambda r: _drop(r, ("explain", "en")), id="explain-without-en"),
    pytest.param(lambda r: _drop(r, ("question",)), id="no-question"),
    pytest.param(lambda r: _set(r, ("effect",), "allow"), id="effect-allow"),
    pytest.param(lambda r: _set(r, ("id",), "Keep.Prospect"), id="id-uppercase"),
    pytest.param(lambda r: _set(r, ("id",), "keep..prospect"), id="id-double-dot"),
    pytest.param(lambda r: _set(r, ("scope",), ["relationship_record"]), id="typo-scope"),
    pytest.param(lambda r: _set(r, ("channels",), ["email"]), id="keep-rule-with-channels"),
    pytest.param(lambda r: _set(r, ("recipients",), ["hubspot"]), id="keep-rule-with-recipients"),
    pytest.param(lambda r: _drop(r, ("basis",)), id="keep-permit-without-basis"),
    pytest.param(lambda r: _set(r, ("effect",), "forbid"), id="forbid-with-basis"),
    pytest.param(lambda r: _set(_drop(r, ("obligations",)), ("effect",), "obligation"),
                 id="obligation-rule-without-obligations"),
    pytest.param(lambda r: _set(r, ("obligations", 0, "text"), "Inform the person"), id="obligation-text-string"),
    pytest.param(lambda r: _set(r, ("obligations", 0, "due_on"), "2024-01-01"), id="obligation-typo-key"),
    pytest.param(lambda r: _set(r, ("when",), {"subject": "prospect"}), id="when-not-a-list"),
    pytest.param(lambda r: _set(r, ("when",), []), id="when-empty"),
])
def test_rules_invalid_rule(change: Any) -> None:
    _assert_invalid("rules", {"rules": [change(_keep_rule())]})


def test_rules_contact_rule_rejects_scopes_and_share_rule_rejects_channels() -> None:
    _assert_invalid("rules", {"rules": [_set(RULE, ("scopes",), ["relationship_record"])]})
    share = {**_drop(RULE, ("channels",)), "question": "share", "recipients": ["hubspot"],
             "recipient_kinds": ["processor"]}
    _assert_valid("rules", {"rules": [share]})
    _assert_invalid("rules", {"rules": [_set(share, ("channels",), ["email"])]})
    _assert_invalid("rules", {"rules": [_set(share, ("recipient_kinds",), ["vendor"])]})


@pytest.mark.parametrize("instance", [
    pytest.param({"rules": []}, id="no-rules"),
    pytest.param({"when": [{"role": "controller"}]}, id="only-when"),
    pytest.param({"rules": [RULE], "rule": [RULE]}, id="typo-top-key"),
])
def test_rules_invalid_file(instance: Any) -> None:
    _assert_invalid("rules", instance)


# --- record.schema.json ---------------------------------------------------------------------

def _doc_record() -> dict[str, Any]:
    return json.loads(_doc_block("4. Records", "json"))


def test_record_doc_example_is_valid() -> None:
    _assert_valid("record", _doc_record())


@pytest.mark.parametrize("record", [
    pytest.param({"id": "c-1"}, id="id-only"),
    pytest.param({"id": "c-1", "role": None, "contact_address_kind": None, "source": None,
                  "relationship": {"first_contact_on": None}, "facts": {"tier": 2, "vip": True, "note": None}},
                 id="nulls"),
    pytest.param({"id": "c-1", "vouchers": [{"fiscal_year": 2022, "fiscal_year_end": "2022-06-30"}],
                  "rights_requests": [{"kind": "portability", "received_on": "2024-01-31",
                                       "verified_on": "2024-02-01", "answered_on": None}],
                  "objections": [{"kind": "art21_1", "received_on": "2024-01-01", "withdrawn_on": None,
                                  "compelling_grounds_on": "2024-01-10"}],
                  "consents": [{"purpose": "newsletter", "recipient": "hubspot", "given_on": "2024-02-29"}],
                  "disclosure_orders": [{"recipient": "police", "received_on": "2024-05-01", "binding": False,
                                         "reference": "2024/123"}],
                  "host": {"hs_lead_status": "OPEN", "nested": {"ok": [1, 2]}}},
                 id="full-lists"),
])
def test_record_valid(record: dict[str, Any]) -> None:
    _assert_valid("record", record)


@pytest.mark.parametrize("change", [
    pytest.param(lambda r: {**_drop(r, ("consents",)), "consent": r["consents"]}, id="consent-for-consents"),
    pytest.param(lambda r: _set(r, ("relationship", "first_contact_on"), "2022-8-31"), id="date-pattern"),
    pytest.param(lambda r: _set(r, ("relationship", "first_contact_on"), "31.08.2022"), id="date-norwegian-form"),
    pytest.param(lambda r: _set(r, ("relationship", "first_contact_on"), "2022-08-31T10:00:00"), id="datetime"),
    pytest.param(lambda r: _set(r, ("relationship", "first_contact_on"), "2023-02-30"), id="impossible-date"),
    pytest.param(lambda r: _set(r, ("relationship", "first_contact"), "2022-08-31"), id="relationship-typo"),
    pytest.param(lambda r: _drop(r, ("id",)), id="no-id"),
    pytest.param(lambda r: _set(r, ("id",), ""), id="empty-id"),
    pytest.param(lambda r: _set(r, ("id",), "x" * 201), id="id-too-long"),
    pytest.param(lambda r: _set(r, ("id",), 1001), id="id-number"),
    pytest.param(lambda r: _set(r, ("role",), "owner"), id="role"),
    pytest.param(lambda r: _set(r, ("subject_categories",), "prospect"), id="subject-categories-string"),
    pytest.param(lambda r: _set(r, ("contact_address_kind",), "work"), id="address-kind"),
    pytest.param(lambda r: _set(r, ("source",), "LinkedIn"), id="source"),
    pytest.param(lambda r: _drop(r, ("consents", 0, "given_on")), id="consent-without-given-on"),
    pytest.param(lambda r: _set(r, ("consents", 0, "given_on"), None), id="consent-given-on-null"),
    pytest.param(lambda r: _set(r, ("consents", 0, "withdrawn"), "2023-01-01"), id="consent-typo-key"),
    pytest.param(lambda r: _set(r, ("objections", 0, "kind"), "art21"), id="objection-kind"),
    pytest.param(lambda r: _set(r, ("restrictions", 0, "ground"), "art18_1_e"), id="restriction-ground"),
    pytest.param(lambda r: _drop(r, ("erasure_requests", 0, "received_on")), id="erasure-without-received"),
    pytest.param(lambda r: _set(r, ("rights_requests", 0, "kind"), "deletion"), id="rights-kind"),
    pytest.param(lambda r: _drop(r, ("disclosure_orders", 0, "binding")), id="order-without-binding"),
    pytest.param(lambda r: _set(r, ("disclosure_orders", 0, "binding"), "yes"), id="order-binding-string"),
    pytest.param(lambda r: _set(r, ("vouchers", 0, "fiscal_year"), "2022"), id="fiscal-year-string"),
    pytest.param(lambda r: _set(r, ("vouchers", 0, "fiscal_year"), 22), id="fiscal-year-implausible"),
    pytest.param(lambda r: _set(r, ("legal_holds", 0, "placed"), "2024-01-01"), id="hold-typo-key"),
    pytest.param(lambda r: _set(r, ("facts", "x"), {"nested": 1}), id="fact-not-scalar"),
    pytest.param(lambda r: _set(r, ("facts", "x"), [1]), id="fact-list"),
    pytest.param(lambda r: _set(r, ("host",), ["anything"]), id="host-list"),
    pytest.param(lambda r: _set(r, ("hs_lead_status",), "OPEN"), id="host-field-at-top"),
])
def test_record_invalid(change: Any) -> None:
    _assert_invalid("record", change(_doc_record()))


# --- question.schema.json -------------------------------------------------------------------

@pytest.mark.parametrize("question", [
    Question.keep(), Question.keep("accounting_vouchers"), Question.contact("newsletter", "email"),
    Question.share("hubspot", "relationship_management"),
], ids=str)
def test_question_valid(question: Question) -> None:
    _assert_valid("question", question.to_json())
    # and the schema accepts exactly what Question.from_json reads back
    assert Question.from_json(question.to_json()) == question


def test_question_nulls_for_unused_fields_are_valid() -> None:
    data = {"action": "keep", "scope": None, "purpose": None, "channel": None, "recipient": None}
    _assert_valid("question", data)
    Question.from_json(data)


@pytest.mark.parametrize("data", [
    {},
    {"action": "delete"},
    {"action": "contact", "purpose": "newsletter"},
    {"action": "contact", "channel": "email"},
    {"action": "contact", "purpose": "newsletter", "channel": None},
    {"action": "share", "purpose": "newsletter"},
    {"action": "share", "recipient": "hubspot"},
    {"action": "keep", "purpose": "newsletter"},
    {"action": "contact", "purpose": "newsletter", "channel": "email", "scope": "relationship_record"},
    {"action": "share", "recipient": "hubspot", "purpose": "newsletter", "channel": "email"},
    {"action": "keep", "scopes": "relationship_record"},
    {"action": "keep", "scope": "Relationship Record"},
], ids=lambda d: json.dumps(d, sort_keys=True))
def test_question_invalid(data: dict[str, Any]) -> None:
    _assert_invalid("question", data)
    # the schema and Question.from_json agree on what is not a question (apart from the id form)
    if data.get("scope") != "Relationship Record":
        with pytest.raises(ValueError):
            Question.from_json(data)


# --- decision.schema.json -------------------------------------------------------------------

def _full_decision() -> Decision:
    span = Span(file="rules/iconfirm/keep.yaml", line=12, col=5)
    return Decision(
        outcome=Outcome.ALLOW,
        question=Question.keep(),
        as_of=date(2024, 2, 29),
        record_id="c-1001",
        pack_version="1.0.0+sha256:abc",
        decisive_rule="keep.vouchers",
        decisive_span=span,
        reason="Accounting vouchers are kept for five years after the end of the fiscal year.",
        basis=Basis(id="legal_obligation", article="Art. 6(1)(c)", dpv="eu-gdpr:A6-1-c"),
        applied=(
            AppliedRule(rule_id="keep.vouchers", effect=Effect.OVERRIDE, status=RuleStatus.DECISIVE, span=span),
            AppliedRule(rule_id="keep.erasure-verified", effect=Effect.FORBID, status=RuleStatus.OVERRIDDEN),
            AppliedRule(rule_id="keep.prospect-window", effect=Effect.PERMIT, status=RuleStatus.UNKNOWN),
        ),
        citations=(
            ("keep.vouchers", Citation(norms=("N47", "R11"), section="3. Lagring", articles=("Art. 17(3)(b)",))),
            ("keep.erasure-verified", Citation()),
        ),
        keep_until=date(2027, 12, 31),
        obligations=(
            Obligation(id="answer-erasure", rule_id="keep.erasure-verified", article="Art. 12(3)",
                       text="Answer the erasure request.", due_on=date(2024, 2, 29)),
            Obligation(id="notify-processors", rule_id="keep.erasure-verified", article=None, text="Art. 19"),
        ),
        missing_facts=("relationship.first_contact_on",),
        problems=(
            Diagnostic(code="PR303", severity=Severity.WARNING, message="`x`: not a date", span=span,
                       rule_id="keep.vouchers", record_id="c-1001", help="write YYYY-MM-DD"),
            Diagnostic(code="PR301", severity=Severity.ERROR, message="unknown field `consent`"),
        ),
    )


@pytest.mark.parametrize("decision", [
    pytest.param(Decision(outcome=Outcome.UNDETERMINED, question=Question.contact("newsletter", "email"),
                          as_of=date(2024, 1, 1), record_id=None, pack_version="1.0.0"), id="minimal"),
    pytest.param(Decision(outcome=Outcome.DENY, question=Question.share("hubspot", "newsletter"),
                          as_of=date(2020, 7, 16), record_id="c-1", pack_version="1.0.0",
                          reason="No transfer mechanism.", decisive_rule="share.transfer"), id="deny"),
    pytest.param(_full_decision(), id="full"),
])
def test_decision_from_model_is_valid(decision: Decision) -> None:
    _assert_valid("decision", decision.to_json())


def test_decision_schema_names_exactly_what_to_json_produces() -> None:
    schema = _schema("decision")
    data = _full_decision().to_json()
    assert set(schema["required"]) == set(data) == set(schema["properties"])


@pytest.mark.parametrize("change", [
    pytest.param(lambda d: _set(d, ("outcome",), "maybe"), id="outcome"),
    pytest.param(lambda d: _set(d, ("format_version",), 2), id="format-version"),
    pytest.param(lambda d: _drop(d, ("reason",)), id="no-reason"),
    pytest.param(lambda d: _set(d, ("decided_by",), "x"), id="extra-key"),
    pytest.param(lambda d: _set(d, ("as_of",), "2024-02-30"), id="impossible-as-of"),
    pytest.param(lambda d: _set(d, ("keep_until",), "31.12.2027"), id="keep-until-form"),
    pytest.param(lambda d: _set(d, ("question",), {"action": "contact", "purpose": "newsletter"}), id="question"),
    pytest.param(lambda d: _drop(d, ("applied", 0, "line")), id="applied-file-without-line"),
    pytest.param(lambda d: _set(d, ("applied", 1, "status"), "ignored"), id="applied-status"),
    pytest.param(lambda d: _drop(d, ("basis", "dpv")), id="basis-without-dpv"),
    pytest.param(lambda d: _drop(d, ("citations", 0, "quote")), id="citation-without-quote"),
    pytest.param(lambda d: _set(d, ("obligations", 0, "due_on"), "soon"), id="obligation-due-on"),
    pytest.param(lambda d: _set(d, ("problems", 1, "severity"), "fatal"), id="problem-severity"),
    pytest.param(lambda d: _drop(d, ("problems", 0, "col")), id="problem-span-incomplete"),
])
def test_decision_invalid(change: Any) -> None:
    _assert_invalid("decision", change(_full_decision().to_json()))


# --- scenarios.schema.json ------------------------------------------------------------------

def _doc_scenarios() -> dict[str, Any]:
    return yaml.load(_doc_block("5. Scenario tests", "yaml"), Loader=_StringDates)


def test_scenarios_doc_example_is_valid() -> None:
    _assert_valid("scenarios", _doc_scenarios())


def test_scenarios_with_inline_record_and_question_object_are_valid() -> None:
    data = {"scenarios": [{
        "name": "newsletter needs consent",
        "as_of": "2024-02-29",
        "record": {"id": "c-1", "consent": []},  # malformed on purpose: records are not checked here
        "question": {"action": "contact", "purpose": "newsletter", "channel": "email"},
        "expect": {"outcome": "undetermined", "keep_until": None, "decisive_rule": None, "basis": None,
                   "missing_facts": ["relationship.first_contact_on"]},
        "ambiguous": "R7",
        "note": "see R20",
    }]}
    _assert_valid("scenarios", data)


@pytest.mark.parametrize("question", ["keep", "keep:relationship_record", "contact:newsletter:email",
                                      "share:hubspot:relationship_management"])
def test_scenarios_cli_questions_are_valid(question: str) -> None:
    _assert_valid("scenarios", _set(_doc_scenarios(), ("scenarios", 0, "question"), question))
    Question.parse(question)


S0 = ("scenarios", 0)


@pytest.mark.parametrize("change", [
    pytest.param(lambda s: _drop(s, S0 + ("expect",)), id="no-expect"),
    pytest.param(lambda s: _drop(s, S0 + ("expect", "outcome")), id="expect-without-outcome"),
    pytest.param(lambda s: _set(s, S0 + ("expect", "outcome"), "pass"), id="outcome"),
    pytest.param(lambda s: _set(s, S0 + ("expect", "decisive"), "keep.x"), id="expect-typo-key"),
    pytest.param(lambda s: _set(s, S0 + ("expect", "keep_until"), "2023-8-31"), id="keep-until-form"),
    pytest.param(lambda s: _drop(s, S0 + ("as_of",)), id="no-as-of"),
    pytest.param(lambda s: _set(s, S0 + ("as_of",), "2023-02-29"), id="impossible-as-of"),
    pytest.param(lambda s: _drop(s, S0 + ("name",)), id="no-name"),
    pytest.param(lambda s: _set(s, S0 + ("question",), "contact:newsletter"), id="question-missing-channel"),
    pytest.param(lambda s: _set(s, S0 + ("question",), "delete"), id="question-unknown-action"),
    pytest.param(lambda s: _set(s, S0 + ("question",), {"action": "share", "recipient": "hubspot"}),
                 id="question-object-missing-purpose"),
    pytest.param(lambda s: _set(s, S0 + ("record",), 12), id="record-number"),
    pytest.param(lambda s: _set(s, S0 + ("ambiguous",), True), id="ambiguous-bool"),
    pytest.param(lambda s: _set(s, S0 + ("ambiguous",), "N7"), id="ambiguous-norm"),
    pytest.param(lambda s: _set(s, S0 + ("norms",), ["28"]), id="norm-id"),
    pytest.param(lambda s: _set(s, S0 + ("notes",), "x"), id="scenario-typo-key"),
    pytest.param(lambda s: _set(s, ("scenarios",), []), id="no-scenarios"),
    pytest.param(lambda s: _set(s, ("fixtures", "Prospect"), {"id": "p"}), id="fixture-name"),
    pytest.param(lambda s: _set(s, ("fixtures", "p"), "p-1"), id="fixture-not-object"),
])
def test_scenarios_invalid(change: Any) -> None:
    _assert_invalid("scenarios", change(_doc_scenarios()))
