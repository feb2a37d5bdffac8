"""`evaluate --plan` and `--question-set` end to end (issue 8, item 6): exit codes, the plan's and
the summary's JSON Schemas, and the Iconfirm answers a retention job acts on (R9, R10, READINGS #10)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from privacy_rules.cli.main import main
from privacy_rules.validate.schema import validate_instance

ROOT = Path(__file__).resolve().parents[2]
ICONFIRM = "rules/iconfirm"
AS_OF = "2025-01-31"

RECORDS: list[Any] = [
    # R9, R10: a prospect who objected to direct marketing
    {"id": "p-obj", "role": "controller", "subject_categories": ["prospect"],
     "relationship": {"first_contact_on": "2024-03-01"}, "source": "linkedin",
     "objections": [{"kind": "art21_2", "received_on": "2024-09-01"}]},
    # READINGS #10: a live newsletter subscriber
    {"id": "sub-1", "role": "controller", "subject_categories": ["newsletter_subscriber"], "source": "self",
     "consents": [{"purpose": "newsletter", "given_on": "2022-01-10", "mechanism": "double_opt_in"}]},
    # N29, R3: a former customer past the three-year tail
    {"id": "fc-1", "role": "controller", "subject_categories": ["customer"], "source": "self",
     "relationship": {"customer_since": "2018-01-01", "customer_ended_on": "2021-04-30"}},
    # a prospect without a first contact day: review, never delete
    {"id": "p-2", "role": "controller", "subject_categories": ["prospect"]},
]


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture
def records_file(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS) + "not json\n", encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _by_scope(line: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["scope"]: s for s in line["scopes"]}


def test_plan_jsonl_is_valid_and_says_what_to_do(records_file, tmp_path):
    summary = tmp_path / "summary.json"
    code, out, err = run("evaluate", ICONFIRM, str(records_file), "--plan", "--as-of", AS_OF, "--max-bad", "5",
                         "--summary", str(summary))
    assert code == 0, err
    lines = [json.loads(x) for x in out.splitlines()]
    assert len(lines) == 5
    for line in lines:
        assert validate_instance(line, "plan.schema.json") == []
    obj, sub, fc, p2, bad = lines
    # R9 + R10: delete the relationship record, keep the suppression entry
    assert _by_scope(obj)["relationship_record"]["action"] == "delete"
    assert _by_scope(obj)["suppression_entry"]["action"] == "keep"
    assert obj["keep_suppression_entry"] is True and obj["delete_all"] is False
    # READINGS #10: the live subscriber keeps the subscription
    assert _by_scope(sub)["newsletter_subscription"]["action"] == "keep"
    assert _by_scope(sub)["relationship_record"]["action"] == "delete"
    # deny:window-ended carries the tail's last day
    rr = _by_scope(fc)["relationship_record"]
    assert (rr["action"], rr["reason_code"], rr["keep_until"]) == ("delete", "deny:window-ended", "2024-04-30")
    assert fc["delete_all"] is True
    assert _by_scope(p2)["relationship_record"]["action"] == "review"
    assert "relationship.first_contact_on" in _by_scope(p2)["relationship_record"]["missing_facts"]
    assert bad["problem"].startswith("line 5: PR310") and bad["counts"]["review"] == len(bad["scopes"])
    # the summary: schema-valid, with the plan's counts, also on stderr
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert validate_instance(data, "summary.schema.json") == []
    assert (data["plan"]["records"], data["plan"]["delete_all"], data["plan"]["keep_suppression_entry"],
            data["plan"]["review"]) == (5, 1, 1, 2)
    assert "plan: 1 records to delete entirely, 1 to keep as a suppression entry, 2 to review" in err
    assert "plan newsletter_subscription: keep 1, delete 3, review 1" in err


def test_plan_text_and_fail_on(records_file, tmp_path):
    out_file = tmp_path / "plan.txt"
    code, out, err = run("evaluate", ICONFIRM, str(records_file), "--plan", "--as-of", AS_OF, "--max-bad", "5",
                         "--format", "text", "-o", str(out_file), "--fail-on", "undetermined")
    assert code == 1, err  # something needs a review
    text = out_file.read_text(encoding="utf-8")
    assert "p-obj (line 1), as of 2025-01-31: keep a suppression entry" in text
    assert "suppression_entry        keep suppression entry" in text
    assert "relationship_record      delete (kept until 2024-04-30, passed)" in text
    assert "review: missing `relationship.first_contact_on`" in text


@pytest.mark.parametrize("args, message", [
    (("--plan", "-q", "contact:newsletter:email"), "keep questions"),
    (("--plan", "--format", "csv"), "--plan writes JSON Lines or text"),
    (("--question-set", "sweep", "-q", "keep"), "give one of them"),
    (("--question-set", "swep"), "did you mean `sweep`?"),
])
def test_usage_errors_exit_2(records_file, args, message):
    code, out, err = run("evaluate", ICONFIRM, str(records_file), "--as-of", AS_OF, *args)
    assert code == 2 and message in err and out == ""


def test_too_many_bad_rows_stop_a_plan(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("a\nb\nc\n", encoding="utf-8")
    code, out, err = run("evaluate", ICONFIRM, str(path), "--plan", "--as-of", AS_OF, "--max-bad", "1", "-o",
                         str(tmp_path / "plan.jsonl"))
    assert code == 2 and "no output was written" in err
    assert not (tmp_path / "plan.jsonl").exists()


def test_question_set_on_evaluate_and_decide(records_file, tmp_path):
    out_csv = tmp_path / "answers.csv"
    code, _, err = run("evaluate", ICONFIRM, str(records_file), "--question-set", "sweep", "--as-of", AS_OF,
                       "--max-bad", "5", "-o", str(out_csv))
    assert code == 0, err
    with out_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5 * 7
    sub = {r["question"]: r for r in rows if r["record_id"] == "sub-1"}
    assert sub["keep:newsletter_subscription"]["outcome"] == "allow"
    fc = {r["question"]: r for r in rows if r["record_id"] == "fc-1"}
    assert fc["keep:relationship_record"]["keep_until"] == "2024-04-30"
    assert fc["keep:relationship_record"]["reason_code"] == "deny:window-ended"

    rec = tmp_path / "sub.json"
    rec.write_text(json.dumps(RECORDS[1]), encoding="utf-8")
    code, out, err = run("decide", ICONFIRM, str(rec), "--question-set", "sweep", "--as-of", AS_OF, "--format", "json")
    assert code == 0, err
    decisions = json.loads(out)
    assert len(decisions) == 7
    news = next(d for d in decisions if d["question"].get("scope") == "newsletter_subscription")
    assert (news["outcome"], news["decisive_rule"]) == ("allow", "keep.newsletter-consent")
    for d in decisions:
        assert validate_instance(d, "decision.schema.json") == []
    code, _, err = run("decide", ICONFIRM, str(rec), "--question-set", "sweep", "-q", "keep")
    assert code == 2 and "give one of them" in err


def test_help_names_the_options():
    code, out, _ = run("evaluate", "--help")
    assert code == 0 and "--question-set NAME" in out and "--plan" in out and "retention plan" in out
    code, out, _ = run("decide", "--help")
    assert code == 0 and "--question-set NAME" in out
