"""validate/lint.py: PR5xx findings, one small pack per code under tests/packs/lint/<code-name>/.

Each folder is tests/packs/lint/clean (itself lint-clean) with one change; ``expected.txt``
holds the first line of every diagnostic (``str(diagnostic)``), in order; ``as-of.txt``, when
present, is the day the date-dependent checks run for.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

import privacy_rules
from privacy_rules.model import Action, Pred, Question, Severity
from privacy_rules.validate import lint

ROOT = Path(__file__).resolve().parents[2]
LINT = ROOT / "tests" / "packs" / "lint"
CASES = sorted(p for p in LINT.iterdir() if p.is_dir())


def _as_of(folder: Path) -> date | None:
    path = folder / "as-of.txt"
    return date.fromisoformat(path.read_text().strip()) if path.exists() else None


def _check(folder: str, as_of: date | None = None):
    return privacy_rules.check_pack(folder, as_of=as_of)


@pytest.mark.parametrize("folder", CASES, ids=[p.name for p in CASES])
def test_lint_pack(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    pack, diags = _check(str(folder.relative_to(ROOT)), _as_of(folder))
    expected = (folder / "expected.txt").read_text().splitlines()
    assert [str(d).splitlines()[0] for d in diags] == expected
    assert pack is not None, "lint findings never stop a pack from loading"
    if folder.name != "clean":
        code = folder.name.split("-")[0].upper()
        assert expected and {d.code for d in diags} == {code}
        assert all(d.severity is lint.CODES[code] and d.help for d in diags)


def test_every_lint_code_has_a_pack() -> None:
    covered = {p.name.split("-")[0].upper() for p in CASES}
    assert set(lint.CODES) <= covered


@pytest.mark.parametrize("folder", ["tests/packs/mini", "rules/iconfirm"])
@pytest.mark.parametrize("as_of", [None, date(2026, 11, 25)])
def test_real_packs_have_no_error_level_lint_findings(folder: str, as_of: date | None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    pack, diags = _check(folder, as_of)
    assert pack is not None
    assert [str(d) for d in diags if d.code.startswith("PR5") and d.severity is Severity.ERROR] == []


def test_iconfirm_has_no_rule_level_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pack's rules: none shadowed, duplicated, unreachable or resting on unchecked consent.
    # share.processor-dpa-transfer permits `newsletter` without a consent condition, but
    # share.newsletter-without-consent denies whenever consent is missing: PR530 sees the guard.
    monkeypatch.chdir(ROOT)
    _, diags = _check("rules/iconfirm")
    assert [str(d) for d in diags if d.code in ("PR501", "PR502", "PR503", "PR530")] == []


def test_lint_is_skipped_when_the_pack_has_semantic_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    pack, diags = _check("tests/packs/broken/unknown-purpose", date(2030, 1, 1))
    assert pack is None and diags and not [d for d in diags if d.code.startswith("PR5")]


def test_review_is_due_on_its_day_and_overdue_the_day_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    folder = "tests/packs/lint/clean"
    assert not [d for d in _check(folder, date(2025, 1, 15))[1] if d.code == "PR560"]
    assert [d.code for d in _check(folder, date(2025, 1, 16))[1]] == ["PR560"]


def test_date_checks_need_as_of(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for name in ("pr523-dpa-not-in-force", "pr524-no-lawful-transfer", "pr560-review-overdue"):
        assert _check(f"tests/packs/lint/{name}")[1] == ()


def test_targets_select_the_rules_a_question_is_about(iconfirm: privacy_rules.Policy) -> None:
    """One targeting test serves lint and compile (privacy_rules.targets); check what it selects."""
    from privacy_rules.targets import targets

    pack = iconfirm.pack
    keep_default = {r.id for r in pack.rules if targets(r, Question.keep(), pack)}
    assert keep_default == {r.id for r in pack.rules if targets(r, Question.keep(pack.default_scope), pack)}
    assert "keep.prospect-window" in keep_default and "keep.vouchers-bookkeeping" not in keep_default
    to_authority = {r.id for r in pack.rules if targets(r, Question.share("police", "legal_disclosure"), pack)}
    assert "share.binding-legal-order" in to_authority
    assert all(pack.rule(i).question is Action.SHARE for i in to_authority)
    for action in Action:
        for q in lint._all_questions(pack, action):
            assert iconfirm.plan(iconfirm.check_question(q))[0].rules == tuple(
                r for r in pack.rules if targets(r, iconfirm.check_question(q), pack))


def _p(kind: str, arg=None, *children: Pred) -> Pred:
    return Pred(kind=kind, arg=arg, children=tuple(children))


@pytest.mark.parametrize(("a", "b", "entails"), [
    (_p("subject", "customer"), _p("subject", ("customer", "prospect")), True),
    (_p("subject", ("customer", "prospect")), _p("subject", "customer"), False),
    (_p("not", None, _p("subject", ("customer", "partner"))), _p("not", None, _p("subject", "customer")), True),
    (_p("not", None, _p("subject", "customer")), _p("not", None, _p("subject", ("customer", "partner"))), False),
    (_p("within", "prospect"), _p("not", None, _p("expired", "prospect")), True),
    (_p("within", "prospect"), _p("not", None, _p("expired", "customer_tail")), False),
    (_p("all", None, _p("consent", "newsletter"), _p("keep", "allowed")), _p("keep", "allowed"), True),
    (_p("keep", "allowed"), _p("any", None, _p("keep", "allowed"), _p("erasure", "verified")), True),
    (_p("erasure", "verified"), _p("erasure", "requested"), False),
])
def test_entailment_is_sound(a: Pred, b: Pred, entails: bool) -> None:
    assert lint._entails(a, b) is entails


def test_codes_are_stable_strings() -> None:
    assert all(re.fullmatch(r"PR5\d\d", c) for c in lint.CODES)


RECORDS = [
    {"id": f"r-{i}", "role": "controller", "subject_categories": subjects,
     "relationship": {"first_contact_on": "2023-01-31", "customer_ended_on": ended},
     "objections": objections}
    for i, (subjects, ended, objections) in enumerate([
        (["customer"], None, []), (["customer"], "2023-06-30", []), (["customer", "prospect"], None, []),
        (["customer"], None, [{"kind": "art21_2", "received_on": "2024-01-01"}]), (["prospect"], None, []),
    ])
]


@pytest.mark.parametrize(("folder", "rule_id"), [
    ("pr501-shadowed-permit", "contact.followup-customers"),
    ("pr502-duplicate-rule", "contact.objection-again"),
])
def test_flagged_rules_really_never_decide(folder: str, rule_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    policy = privacy_rules.compile_pack(privacy_rules.load_pack(f"tests/packs/lint/{folder}"))
    questions = [privacy_rules.Question.contact(p, c) for p in ("followup", "newsletter") for c in ("email", "phone")]
    held = 0
    for record in RECORDS:
        for day in (date(2024, 2, 29), date(2027, 1, 1)):
            for d in policy.decide_all(record, questions, as_of=day):
                assert d.decisive_rule != rule_id
                held += any(a.rule_id == rule_id for a in d.applied if a.status.value != "unknown")
    assert held, "the flagged rule should hold somewhere, so that never deciding means something"
