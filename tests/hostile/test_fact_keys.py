"""A record's `facts` holds only the facts the pack declares (issue 7 follow-up: the open `facts`
object was the one part of a record a misspelling could pass through).

The hole: `facts.deletion_instructed` for `facts.deletion_instructed_on` was silently absent, and
an absent date that `happened:` reads as "has not happened" turns the processor's keep from deny
(N54: the customer instructed deletion) into allow. Every key the pack does not declare is now a
record problem (PR340) with a "did you mean", for every question, in every engine and entry
point. The crafted records are tests/hostile/records/pr340-* (also replayed by test_records.py
and test_cli_sweep.py); here each is held to: undetermined with PR340 in decide, decide_all,
decide_batch (dict and text), both engines and the CLI, and the same record under the declared
key is a deny while without the key it is an allow, so the misspelling was a wrong allow.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import privacy_rules
from privacy_rules import Outcome, Question
from privacy_rules.cli.main import main
from privacy_rules.declared import declared_facts
from privacy_rules.model import FactSpec
from privacy_rules.records import RecordIds, RecordInvalid, normalize, normalize_fast

from ..conftest import ICONFIRM, MINI, ROOT

HERE = Path(__file__).resolve().parent
FIXTURES = sorted((HERE / "records").glob("pr340-*.json"))
AS_OF = date(2024, 6, 1)
KEEP = Question.keep("relationship_record")
NOTICE = Question.contact("product_change_notice", "email")
#: fixture -> the declared key the host meant (None: data that belongs under `host`)
MEANT = {
    "deletion-instructed-misspelt": "deletion_instructed_on",
    "deletion-instructed-uppercase": "deletion_instructed_on",
    "deletion-instructed-trailing-space": "deletion_instructed_on",
    "deletion-instructed-leading-tab": "deletion_instructed_on",
    "deletion-instructed-cyrillic-e": "deletion_instructed_on",
    "deletion-instructed-fullwidth-d": "deletion_instructed_on",
    "deletion-instructed-zero-width-space": "deletion_instructed_on",
    "deletion-instructed-hyphens": "deletion_instructed_on",
    "deletion-instructed-dotted-path": "deletion_instructed_on",
    "deletion-instructed-null": "deletion_instructed_on",
    "unsubscribed-plural": "unsubscribed_from_all_email",
    "unsubscribed-camel-case": "unsubscribed_from_all_email",
    "unsubscribed-e-mail-hyphen": "unsubscribed_from_all_email",
    "host-data-under-facts": None,
}


def _durable(pack: privacy_rules.Pack) -> Any:
    try:
        return privacy_rules.compile_pack(pack, engine="durable")
    except Exception:  # noqa: BLE001 - the optional engine (Python 3.13 cannot import it)
        return None


@pytest.fixture(scope="module")
def engines(iconfirm: privacy_rules.Policy) -> list[Any]:
    other = _durable(iconfirm.pack)
    return [iconfirm] + ([other] if other is not None else [])


def _name(path: Path) -> str:
    return path.stem[len("pr340-"):]


def _question(record: dict[str, Any]) -> Question:
    return KEEP if record["role"] == "processor" else NOTICE


def test_every_fixture_says_what_the_host_meant() -> None:
    assert sorted(MEANT) == sorted(_name(p) for p in FIXTURES)


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_an_undeclared_fact_key_is_undetermined_never_allow(path: Path, engines: list[Any]) -> None:
    text = path.read_text(encoding="utf-8")
    record = json.loads(text)
    q = _question(record)
    seen = []
    for pol in engines:
        decisions = [pol.decide(record, q, as_of=AS_OF), pol.decide(text, q, as_of=AS_OF),
                     *pol.decide_all(record, None, as_of=AS_OF), *pol.decide_all(text, [q, "keep"], as_of=AS_OF)]
        for d in decisions:
            assert d.outcome is Outcome.UNDETERMINED, (pol, d.outcome)
            assert [p.code for p in d.problems] == ["PR340"], d.problems
        rows = list(pol.decide_batch([record, text], [q, "keep", "contact:newsletter:email"], as_of=AS_OF,
                                     reasons=True))
        for row in rows:
            assert all(a.outcome is Outcome.UNDETERMINED for a in row.answers)
            assert row.problem is not None and row.problem.startswith("PR340 ")
        seen.append((decisions[0].problems, rows[0].problem))
    assert all(s == seen[0] for s in seen), "the engines disagree"
    (problem,) = seen[0][0]
    assert problem.record_id == record["id"]
    assert "`host`" in (problem.help or "")
    meant = MEANT[_name(path)]
    if meant is not None:
        assert (problem.help or "").startswith(f"did you mean `facts.{meant}`?"), problem.help
    else:
        assert (problem.help or "").startswith("the pack declares: deletion_instructed_on, unsubscribed_from_all_email.")


@pytest.mark.parametrize("path", [p for p in FIXTURES if MEANT[_name(p)] is not None], ids=lambda p: p.stem)
def test_the_misspelling_was_a_wrong_allow(path: Path, iconfirm: privacy_rules.Policy) -> None:
    """Read as absent the key gives allow; under the declared name the same value gives deny."""
    record = json.loads(path.read_text(encoding="utf-8"))
    (value,) = record.pop("facts").values()
    q = _question(record)
    assert iconfirm.decide(record, q, as_of=AS_OF).outcome is Outcome.ALLOW
    if value is not None:
        meant = dict(record, facts={MEANT[_name(path)]: value})
        assert iconfirm.decide(meant, q, as_of=AS_OF).outcome is Outcome.DENY


def test_the_message_names_what_a_reader_cannot_see(iconfirm: privacy_rules.Policy) -> None:
    def problem(name: str) -> str:
        record = json.loads((HERE / "records" / f"pr340-{name}.json").read_text(encoding="utf-8"))
        (p,) = iconfirm.decide(record, KEEP, as_of=AS_OF).problems
        return p.message

    assert problem("deletion-instructed-trailing-space") == (
        "unknown fact `facts.deletion_instructed_on ` (note the space before or after it): the pack declares no such fact")
    assert "U+0435 cyrillic small letter ie" in problem("deletion-instructed-cyrillic-e")
    assert "U+200B zero width space" in problem("deletion-instructed-zero-width-space")
    assert "fact names are lowercase" in problem("deletion-instructed-uppercase")


def test_the_cli_sweep_never_allows_an_undeclared_fact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    records = tmp_path / "records.jsonl"
    records.write_bytes(b"".join(p.read_bytes() for p in FIXTURES))
    out, err = io.StringIO(), io.StringIO()
    code = main(["evaluate", "rules/iconfirm", str(records), "--as-of", AS_OF.isoformat(), "--max-bad", "100%",
                 "--question", "keep", "--question", "contact:product_change_notice:email"], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["record_id"] for line in lines] == [p.stem for p in FIXTURES]
    for line in lines:
        assert {a["outcome"] for a in line["answers"]} == {"undetermined"}, line
        assert line["problem"].startswith("line ") and "PR340" in line["problem"], line


# --- declared facts and if_absent ---------------------------------------------------------------


def test_the_iconfirm_pack_declares_its_facts(iconfirm: privacy_rules.Policy) -> None:
    facts = declared_facts(iconfirm.pack)
    assert {k: (f.kind, f.if_absent, f.declared) for k, f in facts.items()} == {
        "deletion_instructed_on": ("date", None, True),
        "unsubscribed_from_all_email": ("boolean", False, True)}


@pytest.mark.parametrize("value", [None, False, "absent"])
def test_an_absent_unsubscribe_flag_reads_as_false_in_every_engine(value: Any, engines: list[Any]) -> None:
    """READINGS.md #25: if_absent: false. Absent, null and false give the same answers everywhere."""
    record: dict[str, Any] = {"id": "c-1", "role": "controller", "subject_categories": ["customer"],
                              "relationship": {"first_contact_on": "2019-03-01", "customer_since": "2019-06-01"},
                              "contact_address_kind": "personal", "source": "self"}
    if value != "absent":
        record["facts"] = {"unsubscribed_from_all_email": value}
    qs = [NOTICE, "contact:relationship_management:email", "contact:account_administration:email"]
    for pol in engines:
        got = [d.outcome for d in pol.decide_all(record, qs, as_of=AS_OF)]
        assert got == [Outcome.ALLOW] * 3
        opted = dict(record, facts={"unsubscribed_from_all_email": True})
        assert [d.outcome for d in pol.decide_all(opted, qs, as_of=AS_OF)] == [Outcome.DENY, Outcome.DENY, Outcome.ALLOW]
        (row,) = pol.decide_batch([record], qs, as_of=AS_OF)
        assert [a.outcome for a in row.answers] == [Outcome.ALLOW] * 3


def test_a_pack_without_vocabulary_facts_declares_what_its_rules_read(tmp_path: Path) -> None:
    """tests/packs/mini has no vocabulary.facts: the declared set is derived (a rule reading
    `facts.tier` makes `tier` the one key a record may carry)."""
    mini = privacy_rules.load_pack(MINI)
    assert mini.vocabulary.facts is None
    read = dict(declared_facts(mini))
    rule = dataclasses.replace(mini.rules[0], when=mini.rules[0].when + (privacy_rules.model.Pred(
        kind="fact", arg=MappingProxyType({"path": "facts.tier", "op": "in", "value": (1, 2)})),))
    pack = dataclasses.replace(mini, rules=(rule, *mini.rules[1:]))
    assert {k: (f.kind, f.declared) for k, f in declared_facts(pack).items()} == {
        **{k: (f.kind, f.declared) for k, f in read.items()}, "tier": ("number", False)}
    policy = privacy_rules.compile_pack(pack)
    base = {"id": "m-1", "role": "controller", "subject_categories": ["customer"]}
    assert "PR340" not in [p.code for p in policy.decide(dict(base, facts={"tier": 1}), "keep", as_of=AS_OF).problems]
    d = policy.decide(dict(base, facts={"teir": 1}), "keep", as_of=AS_OF)
    assert d.outcome is Outcome.UNDETERMINED and (d.problems[0].code, d.problems[0].help[:30]) == (
        "PR340", "did you mean `facts.tier`? Dat")


# --- the fast and the plain record paths agree ---------------------------------------------------

DECLARED = {"deletion_instructed_on": FactSpec(id="deletion_instructed_on", kind="date"),
            "opted_out": FactSpec(id="opted_out", kind="boolean", if_absent=False),
            "tier": FactSpec(id="tier", kind="number", if_absent=0)}
NEAR = ["deletion_instructed_on", "deletion_instructed", "Deletion_Instructed_On", "deletion_instructed_on ",
        "deletion_instruct\u0435d_on", "opted_out", "opted-out", "optedOut", "tier", "tier\u200b", "TIER", ""]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(NEAR), st.one_of(st.none(), st.booleans(), st.integers(-3, 3),
                                                        st.sampled_from(["2024-02-29", "x"])), max_size=4))
def test_fast_and_plain_paths_agree_on_fact_keys(facts: dict[str, Any]) -> None:
    mini = privacy_rules.load_pack(MINI)
    ids = RecordIds(mini.vocabulary, DECLARED)
    record = {"id": "r-1", "facts": facts}
    unknown = [k for k in facts if k not in DECLARED]
    try:
        plain = normalize(copy.deepcopy(record), ids)
    except RecordInvalid as exc:
        assert unknown and [p.code for p in exc.problems] == ["PR340"] * len(unknown)
        assert normalize_fast(record, {}, ids) is None
        return
    assert not unknown
    fast = normalize_fast(record, {}, ids)
    if fast is not None:
        assert fast.s == plain.s
    # if_absent fills an absent or null fact; a present value is kept as sent
    assert plain.s["facts.opted_out"] == (False if facts.get("opted_out") is None else facts["opted_out"])
    assert plain.s["facts.tier"] == (0 if facts.get("tier") is None else facts["tier"])
    assert ("facts.deletion_instructed_on" in plain.s) == (facts.get("deletion_instructed_on") is not None)


def test_without_a_pack_the_record_schema_alone_is_checked() -> None:
    """normalize(record) without ids is the pack-independent check: any scalar fact is accepted."""
    facts = normalize({"id": "r-1", "facts": {"anything_at_all": 1}})
    assert facts.s == {"facts.anything_at_all": 1}


# --- mapping profiles ----------------------------------------------------------------------------


def test_check_profile_refuses_a_fact_the_pack_does_not_declare(tmp_path: Path) -> None:
    from privacy_rules.mapping import check_profile

    profile = tmp_path / "profile.yaml"
    profile.write_text(
        "profile: {id: t, title: Test, record_id: Id}\nfields:\n"
        "  Created: {to: facts.crm_created_on, as: date}\n"
        "  Unsub: {to: facts.unsubscribed_from_all_emails, as: bool}\n"
        "  Instructed: {to: facts.deletion_instructed_on, as: date}\n", encoding="utf-8")
    _, diags = check_profile(str(profile), pack=privacy_rules.load_pack(ICONFIRM))
    found = [(d.code, d.message, (d.help or "").split(";")[0]) for d in diags if d.code == "PR605"]
    assert found == [
        ("PR605", "`facts.crm_created_on` is not a fact the pack declares",
         "leave the host field unmapped (it is kept under `host`), or declare the fact under the pack's "
         "vocabulary.facts if a rule reads it"),
        ("PR605", "`facts.unsubscribed_from_all_emails` is not a fact the pack declares",
         "did you mean `facts.unsubscribed_from_all_email`?")]


@pytest.mark.parametrize("profile", ["hubspot-export", "hubspot-api", "salesforce", "generic-csv"])
def test_bundled_profiles_write_only_declared_facts(profile: str) -> None:
    from privacy_rules.mapping import check_profile

    _, diags = check_profile(profile, pack=privacy_rules.load_pack(ICONFIRM))
    assert [str(d) for d in diags if d.code == "PR605"] == []
