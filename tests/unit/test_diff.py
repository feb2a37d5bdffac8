"""privacy_rules.diff and `privacy-rules diff`: a modified copy of the mini pack against the original."""

from __future__ import annotations

import io
import json
import shutil
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest

import privacy_rules
from privacy_rules import Question
from privacy_rules.cli.main import main
from privacy_rules.diff import FieldChange, compare, diff_decisions, diff_packs

ROOT = Path(__file__).resolve().parents[2]
MINI = "tests/packs/mini"
AS_OF = "2023-09-01"

ADDED_RULE = """\
  - id: contact.followup
    question: contact
    purposes: [followup]
    effect: permit
    basis: legitimate_interest
    when:
      - keep: allowed
    cites: {norms: [N44]}
    explain: {en: "follow up while the record is kept", nb: "oppfølging"}
"""

RECORDS = [
    {"id": "p-1", "subject_categories": ["prospect"], "relationship": {"first_contact_on": "2022-06-01"}},
    {"id": "p-2", "subject_categories": ["prospect"], "relationship": {"first_contact_on": "2022-03-01"}},
    {"id": "c-1", "subject_categories": ["customer"], "relationship": {"customer_ended_on": "2022-01-01"}},
    {"id": "p-3", "subject_categories": ["prospect"], "relationship": {"first_contact_on": "2023-06-01"}},
    {"id": "p-4", "subject_categories": ["prospect"], "relationship": {"first_contact_on": "2021-01-01"}},
    {"subject_categories": ["prospect"]},  # no id: unreadable in both packs
]


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


@pytest.fixture
def new_pack(tmp_path: Path) -> Path:
    """Mini with: prospect window 24 -> 12 months, `keep.customer` removed, crm_us relying on SCCs
    too, `keep.vouchers` citing R11 as well, and a new rule `contact.followup`."""
    folder = tmp_path / "mini-v2"
    shutil.copytree(ROOT / MINI, folder)
    _edit(folder / "pack.yaml", "prospect: {from: relationship.first_contact_on, months: 24}",
          "prospect: {from: relationship.first_contact_on, months: 12}")
    _edit(folder / "pack.yaml", 'transfers: [{mechanism: privacy_shield, from: "2018-05-25"}]',
          'transfers: [{mechanism: privacy_shield, from: "2018-05-25"}, {mechanism: sccs, from: "2020-07-16"}]')
    rules = folder / "rules.yaml"
    text = rules.read_text()
    start, end = text.index("  - id: keep.customer\n"), text.index("  - id: keep.erasure\n")
    rules.write_text(text[:start] + text[end:] + ADDED_RULE)
    _edit(rules, "cites: {norms: [N47]}", "cites: {norms: [N47, R11]}")
    return folder


@pytest.fixture
def records_file(tmp_path: Path) -> Path:
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n{not json\n")
    return path


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# --- the library ---------------------------------------------------------------------------


def test_pack_changes_are_exactly_the_edits(new_pack: Path) -> None:
    old, new = privacy_rules.load_pack(MINI), privacy_rules.load_pack(new_pack)
    d = diff_packs(old, new)
    assert [(r.kind, r.rule_id) for r in d.rules] == [
        ("removed", "keep.customer"), ("changed", "keep.vouchers"), ("added", "contact.followup")]
    changed = d.rules[1]
    assert [f.field for f in changed.fields] == ["citations"]
    assert changed.fields[0].old["norms"] == ["N47"] and changed.fields[0].new["norms"] == ["N47", "R11"]
    removed = d.rules[0]
    assert removed.span is not None and (removed.span.file, removed.span.line) == ("tests/packs/mini/rules.yaml", 13)
    assert d.rules[2].span is not None and d.rules[2].span.file.endswith("mini-v2/rules.yaml")

    assert [(v.section, v.id, v.kind) for v in d.vocabulary] == [
        ("recipients", "crm_us", "changed"), ("windows", "prospect", "changed")]
    transfers = d.vocabulary[0].fields
    assert transfers == (FieldChange(
        field="transfers",
        old=[{"mechanism": "privacy_shield", "from": "2018-05-25", "until": None}],
        new=[{"mechanism": "privacy_shield", "from": "2018-05-25", "until": None},
             {"mechanism": "sccs", "from": "2020-07-16", "until": None}]),)
    assert d.vocabulary[1].fields == (FieldChange(field="months", old=24, new=12),)
    assert d.vocabulary[1].old["from"] == "relationship.first_contact_on"
    assert d.meta == () and d.changed


def test_a_pack_against_itself_has_no_changes() -> None:
    pack = privacy_rules.load_pack(MINI)
    d = diff_packs(pack, pack)
    assert not d.changed and d.rules == () and d.vocabulary == () and d.meta == ()


def test_years_and_the_same_months_are_no_change(tmp_path: Path) -> None:
    folder = tmp_path / "same"
    shutil.copytree(ROOT / MINI, folder)
    _edit(folder / "pack.yaml", "customer_tail: {from: relationship.customer_ended_on, years: 3,",
          "customer_tail: {from: relationship.customer_ended_on, months: 36,")
    assert not diff_packs(privacy_rules.load_pack(MINI), privacy_rules.load_pack(folder)).changed


def test_decision_flips_with_counts_and_examples(new_pack: Path) -> None:
    old = privacy_rules.compile_pack(privacy_rules.load_pack(MINI))
    new = privacy_rules.compile_pack(privacy_rules.load_pack(new_pack))
    questions = [Question.parse(q) for q in ("keep", "share:crm_us:crm", "contact:followup:phone",
                                             "share:nobody:crm")]
    d = diff_decisions(old, new, iter(RECORDS), questions, as_of=date(2023, 9, 1))
    assert (d.records, d.invalid) == (6, 1)
    keep, share, followup, nobody = d.questions
    # p-1, p-2: the 12-month window ended; c-1: the customer rule is gone. p-4 was already denied.
    assert [(f.old, f.new, f.count, f.examples) for f in keep.flips] == [("allow", "deny", 3, ("p-1", "p-2", "c-1"))]
    # p-4 stays denied, but its window now ended a year earlier: keep_until (deny:window-ended) moved
    assert (keep.other_changes, keep.other_examples, keep.unchanged) == (2, ("p-3", "p-4"), 1)
    # SCCs make the transfer lawful again; only p-3 is still kept under the new pack.
    assert [(f.old, f.new, f.count, f.examples) for f in share.flips] == [("deny", "allow", 1, ("p-3",))]
    # The new rule permits following up whoever is kept: p-3 only.
    assert [(f.old, f.new, f.count) for f in followup.flips] == [("deny", "allow", 1)]
    assert nobody.flips == () and "unknown recipient `nobody`" in (nobody.problem or "")
    assert "old pack" in nobody.problem and "new pack" in nobody.problem


def test_examples_are_capped_and_ids_fall_back_to_positions(new_pack: Path) -> None:
    old = privacy_rules.compile_pack(privacy_rules.load_pack(MINI))
    new = privacy_rules.compile_pack(privacy_rules.load_pack(new_pack))
    many = [{"id": f"p-{i}", "subject_categories": ["prospect"], "relationship": {"first_contact_on": "2022-06-01"}}
            for i in range(8)]
    many[7] = {"subject_categories": ["prospect"], "relationship": {"first_contact_on": "2022-06-01"}, "id": ""}
    d = diff_decisions(old, new, many, [Question.keep()], as_of=date(2023, 9, 1))
    (flip,) = d.questions[0].flips
    assert flip.count == 7 and flip.examples == ("p-0", "p-1", "p-2", "p-3", "p-4")


def test_default_questions_are_the_new_packs_and_a_question_only_one_pack_knows_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "renamed"
    shutil.copytree(ROOT / MINI, folder)
    _edit(folder / "pack.yaml", "default_scope: record", "default_scope: record\n  questions: [keep, keep:crm]")
    _edit(folder / "pack.yaml", "    voucher: {label: {en: \"voucher\", nb: \"voucher\"}}",
          "    voucher: {label: {en: \"voucher\", nb: \"voucher\"}}\n    crm: {label: {en: \"crm\", nb: \"crm\"}}")
    old = privacy_rules.compile_pack(privacy_rules.load_pack(MINI))
    new = privacy_rules.compile_pack(privacy_rules.load_pack(folder))
    d = compare(old, new, iter(RECORDS[:2]), as_of=date(2023, 9, 1))
    assert [q.question for q in d.decisions.questions] == ["keep:record", "keep:crm"]
    assert d.decisions.questions[1].problem.startswith("the old pack cannot answer it: unknown scope `crm`")
    assert [f.field for f in d.meta] == ["questions"]
    assert [(v.section, v.id, v.kind) for v in d.vocabulary] == [("scopes", "crm", "added")]


def test_records_are_read_once(new_pack: Path) -> None:
    old = privacy_rules.compile_pack(privacy_rules.load_pack(MINI))
    new = privacy_rules.compile_pack(privacy_rules.load_pack(new_pack))
    pulled = []

    def stream():
        for r in RECORDS:
            pulled.append(r.get("id"))
            yield r

    d = diff_decisions(old, new, stream(), [Question.keep()], as_of=date(2023, 9, 1))
    assert pulled == [r.get("id") for r in RECORDS] and d.records == len(RECORDS)


def test_to_json_is_plain_data(new_pack: Path) -> None:
    old = privacy_rules.compile_pack(privacy_rules.load_pack(MINI))
    new = privacy_rules.compile_pack(privacy_rules.load_pack(new_pack))
    data = compare(old, new, iter(RECORDS), [Question.keep()], as_of=date(2023, 9, 1)).to_json()
    assert json.loads(json.dumps(data)) == data and data["format_version"] == 1


# --- the command -----------------------------------------------------------------------------


def test_cli_text_lists_changes_and_flips(new_pack: Path, records_file: Path) -> None:
    code, out, err = run("diff", MINI, str(new_pack), "--records", str(records_file), "--as-of", AS_OF, "-q", "keep")
    assert code == 0, err
    lines = out.splitlines()
    assert "  - keep.customer  [tests/packs/mini/rules.yaml:13:5]" in lines
    assert [line for line in lines if line.startswith("  ~ keep.vouchers: citations  [")][0].endswith(
        "mini-v2/rules.yaml:25:5]")
    assert "  + contact.followup" in [line.split("  [")[0] for line in lines]
    assert "  ~ windows.prospect" in lines and "      months: 24 -> 12" in lines
    assert "decisions as of 2023-09-01 over 7 records, 2 unreadable:" in lines
    assert "  keep: 3 records allow -> deny (e.g. p-1, p-2, c-1)" in lines
    assert lines[-1].startswith("rules: 1 added, 1 removed, 1 changed; vocabulary: 2 changes; pack: 0 changes")


def test_cli_fail_on_change_exits_1_only_when_something_changed(new_pack: Path) -> None:
    assert run("diff", MINI, str(new_pack), "--fail-on-change")[0] == 1
    assert run("diff", MINI, str(new_pack))[0] == 0
    code, out, _ = run("diff", MINI, MINI, "--fail-on-change")
    assert code == 0 and out.splitlines()[-1] == f"no changes between `{MINI}` and `{MINI}`"


def test_cli_json_parses(new_pack: Path, records_file: Path) -> None:
    code, out, _ = run("diff", MINI, str(new_pack), "--records", str(records_file), "--as-of", AS_OF,
                       "--format", "json", "-q", "keep", "-q", "share:crm_us:crm")
    data = json.loads(out)
    assert code == 0 and data["format_version"] == 1 and data["changed"] is True
    assert [(r["kind"], r["rule_id"]) for r in data["rules"]] == [
        ("removed", "keep.customer"), ("changed", "keep.vouchers"), ("added", "contact.followup")]
    assert data["rules"][0]["old_location"] == {"file": "tests/packs/mini/rules.yaml", "line": 13, "col": 5}
    keep = data["decisions"]["questions"][0]
    assert keep["question"] == "keep" and keep["flips"] == [
        {"old": "allow", "new": "deny", "count": 3, "examples": ["p-1", "p-2", "c-1"]}]
    assert data["decisions"]["records"] == 7 and data["decisions"]["invalid"] == 2


def test_cli_junit_counts(new_pack: Path, records_file: Path) -> None:
    code, out, _ = run("diff", MINI, str(new_pack), "--records", str(records_file), "--as-of", AS_OF,
                       "--format", "junit", "--fail-on-change", "-q", "keep", "-q", "contact:newsletter:email")
    root = ET.fromstring(out)
    assert code == 1 and root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["rules", "vocabulary", "decisions"]
    assert (suites["rules"].get("tests"), suites["rules"].get("failures")) == ("3", "3")
    assert (suites["decisions"].get("tests"), suites["decisions"].get("failures")) == ("2", "1")
    assert root.get("failures") == "6"


def test_cli_usage_errors_exit_2(new_pack: Path, tmp_path: Path) -> None:
    code, _, err = run("diff", MINI, "tests/packs/broken/duplicate-id")
    assert code == 2 and "is invalid" in err
    code, _, err = run("diff", MINI, str(new_pack), "-q", "keep")
    assert code == 2 and "--question needs --records" in err
    code, _, err = run("diff", MINI, str(new_pack), "--records", str(tmp_path / "nope.jsonl"), "--as-of", AS_OF)
    assert code == 2 and "cannot read records file" in err
    code, _, err = run("diff", MINI, str(new_pack), "--records", str(tmp_path / "nope.jsonl"), "--as-of", "2023-02-30")
    assert code == 2 and "--as-of" in err
