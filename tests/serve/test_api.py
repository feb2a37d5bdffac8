"""The service's endpoints against the CLI they stand in for, on a real server (tests/serve/_server.py).

/v1/decide answers what `privacy-rules decide --format json` prints, and /v1/evaluate what
`privacy-rules evaluate` writes, plus the pack hash; errors are RFC 9457 problem details with
the CLI's codes (docs/codes.md, PR800-PR813 for the service's own).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from privacy_rules.cli.main import main

from ._server import ICONFIRM, ICONFIRM_VERSION, ROOT, Server

AS_OF = "2026-11-25"
RECORDS = [json.loads(line) for line in (ROOT / "examples" / "records.jsonl").read_text(encoding="utf-8").splitlines()
           if line.strip()]
DECISION_SCHEMA = json.loads((ROOT / "schemas" / "decision.schema.json").read_text(encoding="utf-8"))


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _problem(server: Server, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             ) -> tuple[int, dict[str, Any]]:
    status, h, data = server.request(method, path, body, headers)
    assert h["content-type"] == "application/problem+json", (status, data)
    doc = json.loads(data)
    assert doc["status"] == status
    assert doc["type"].endswith("#" + doc["code"].lower())
    assert doc["detail"] and doc["title"]
    return status, doc


# --- /v1/decide ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("index", range(len(RECORDS)))
def test_decide_equals_cli_decide_json(server: Server, tmp_path: Path, index: int) -> None:
    record = RECORDS[index]
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    code, out, err = _cli("decide", str(ICONFIRM), str(path), "--as-of", AS_OF, "--format", "json")
    assert code == 0, err
    expected = json.loads(out)
    status, got = server.post_json("/v1/decide", {"record": record, "as_of": AS_OF})
    assert status == 200
    assert got["decisions"] == expected  # the pack's three standard questions: a list in both
    assert got["pack"]["hash"] == expected[0]["pack_version"]
    for d in got["decisions"]:
        jsonschema.validate(d, DECISION_SCHEMA)


def test_decide_questions_in_both_forms_and_a_question_set(server: Server) -> None:
    status, got = server.post_json("/v1/decide", {
        "record": RECORDS[0], "as_of": AS_OF,
        "questions": ["contact:newsletter:email", {"action": "share", "recipient": "hubspot",
                                                   "purpose": "relationship_management"}]})
    assert status == 200
    assert [d["question"]["action"] for d in got["decisions"]] == ["contact", "share"]
    status, pack = server.post_json("/v1/decide", {"record": RECORDS[0], "as_of": AS_OF, "question_set": "sweep"})
    assert status == 200
    assert [d["question"]["scope"] for d in pack["decisions"]][0] == "relationship_record"
    assert len(pack["decisions"]) == 7


def test_a_bad_record_is_undetermined_not_an_error(server: Server) -> None:
    record = dict(RECORDS[0], relationship={"first_contact_on": "2025-02-30"})
    status, got = server.post_json("/v1/decide", {"record": record, "as_of": AS_OF, "questions": ["keep"]})
    assert status == 200
    d = got["decisions"][0]
    assert d["outcome"] == "undetermined"
    assert d["problems"] and d["problems"][0]["code"].startswith("PR3")


@pytest.mark.parametrize(("body", "code", "status"), [
    (b'{"record": {"id": "a"}, "as_of": "2026-11-25",}', "PR310", 400),  # not JSON
    (b'{"record": {"id": "a", "id": "b"}, "as_of": "2026-11-25"}', "PR307", 400),  # duplicate key: CLI's code
    (b'{"record": {"id": "a"}, "as_of": NaN}', "PR310", 400),
    (b'[1, 2]', "PR801", 400),
    (b'{"record": {"id": "a"}, "as_of": "2026-11-25", "question": "keep"}', "PR801", 400),
    (b'{"as_of": "2026-11-25"}', "PR801", 400),
    (b'{"record": [], "as_of": "2026-11-25"}', "PR801", 400),
    (b'{"record": {"id": "a"}}', "PR803", 400),
    (b'{"record": {"id": "a"}, "as_of": "2026-02-30"}', "PR803", 400),
    (b'{"record": {"id": "a"}, "as_of": "2300-01-01"}', "PR803", 400),
    (b'{"record": {"id": "a"}, "as_of": 20261125}', "PR803", 400),
    (b'{"record": {"id": "a"}, "as_of": "2026-11-25", "questions": ["contact:newsleter:email"]}', "PR802", 400),
    (b'{"record": {"id": "a"}, "as_of": "2026-11-25", "questions": ["ask"]}', "PR802", 400),
    (b'{"record": {"id": "a"}, "as_of": "2026-11-25", "questions": "keep"}', "PR802", 400),
    (b'{"record": {"id": "a"}, "as_of": "2026-11-25", "question_set": "swep"}', "PR802", 400),
    (b'{"record": {"id": "a"}, "as_of": "2026-11-25", "questions": ["keep"], "question_set": "sweep"}', "PR802", 400),
    (b"", "PR801", 400),
    (b'\xff{"record": {}}', "PR311", 400),
])
def test_decide_errors_are_problem_details(server: Server, body: bytes, code: str, status: int) -> None:
    got_status, doc = _problem(server, "POST", "/v1/decide", body)
    assert (got_status, doc["code"]) == (status, code), doc
    assert doc["instance"] == "/v1/decide"


def test_unknown_question_says_what_to_do(server: Server) -> None:
    _, doc = _problem(server, "POST", "/v1/decide", {"record": {"id": "a"}, "as_of": AS_OF,
                                                     "questions": ["contact:newsleter:email"]})
    assert "did you mean `newsletter`" in doc["detail"]
    assert "help" in doc


def test_body_limit_media_type_routes_and_methods(server: Server) -> None:
    huge = b'{"record": {"id": "' + b"x" * 1_200_000 + b'"}, "as_of": "2026-11-25"}'
    assert _problem(server, "POST", "/v1/decide", huge)[1]["code"] == "PR800"
    status, doc = _problem(server, "POST", "/v1/decide", b"{}", {"Content-Type": "text/plain"})
    assert (status, doc["code"]) == (415, "PR811")
    status, doc = _problem(server, "GET", "/v2/decide")
    assert (status, doc["code"]) == (404, "PR809")
    status, doc = _problem(server, "GET", "/v1/decide")
    assert (status, doc["code"]) == (405, "PR813")


# --- /v1/evaluate ----------------------------------------------------------------------------------------

def test_evaluate_ndjson_equals_cli_evaluate(server: Server) -> None:
    src = ROOT / "examples" / "records.jsonl"
    code, out, err = _cli("evaluate", str(ICONFIRM), str(src), "--as-of", AS_OF)
    assert code == 0, err
    expected = [json.loads(line) for line in out.splitlines()]
    status, h, data = server.request("POST", f"/v1/evaluate?as_of={AS_OF}", src.read_bytes(),
                                     {"Content-Type": "application/x-ndjson"})
    assert status == 200 and h["content-type"].startswith("application/x-ndjson")
    got = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    hashes = {line.pop("pack_version") for line in got}
    assert hashes == {h["x-pack-hash"]}
    assert got == expected


def test_evaluate_json_array_and_records_object(server: Server) -> None:
    qs = "q=keep&q=contact:newsletter:email&reasons=false"
    status, _, a = server.request("POST", f"/v1/evaluate?as_of={AS_OF}&{qs}", RECORDS)
    status2, _, b = server.request("POST", f"/v1/evaluate?as_of={AS_OF}&{qs}", {"records": RECORDS})
    assert status == status2 == 200
    assert a == b
    lines = [json.loads(x) for x in a.decode().splitlines()]
    assert [x["record_id"] for x in lines] == [r["id"] for r in RECORDS]
    assert all([y["question"] for y in x["answers"]] == ["keep:relationship_record", "contact:newsletter:email"]
               for x in lines)
    assert all(y["reason"] is None for x in lines for y in x["answers"])


def test_evaluate_bad_rows_are_undetermined_and_the_batch_goes_on(server: Server) -> None:
    body = b'{"id": "ok-1", "role": "controller"}\nnot json\n{"id": "d", "id": "e"}\n' + \
        json.dumps(RECORDS[0]).encode() + b"\n"
    status, _, data = server.request("POST", f"/v1/evaluate?as_of={AS_OF}&q=keep", body,
                                     {"Content-Type": "application/x-ndjson"})
    assert status == 200
    lines = [json.loads(x) for x in data.decode().splitlines()]
    assert len(lines) == 4
    assert "PR310" in lines[1]["problem"] and "PR307" in lines[2]["problem"]
    assert lines[1]["answers"][0]["outcome"] == "undetermined"
    assert lines[3]["problem"] is None


def test_evaluate_with_a_mapping_profile_equals_cli(server: Server) -> None:
    src = ROOT / "examples" / "hubspot-contacts.csv"
    code, out, err = _cli("evaluate", str(ICONFIRM), str(src), "--profile", "hubspot-export", "--known-on", AS_OF,
                          "--as-of", AS_OF)
    assert code == 0, err
    expected = [json.loads(line) for line in out.splitlines()]
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    status, _, data = server.request("POST", f"/v1/evaluate?as_of={AS_OF}&profile=hubspot-export&known_on={AS_OF}",
                                     rows)
    assert status == 200, data
    got = [json.loads(x) for x in data.decode().splitlines()]
    assert [(g["record_id"], g["answers"]) for g in got] == [(e["record_id"], e["answers"]) for e in expected]


@pytest.mark.parametrize(("query", "body", "code", "status"), [
    ("", "[]", "PR803", 400),
    (f"as_of={AS_OF}&q=keep:nope", "[]", "PR802", 400),
    (f"as_of={AS_OF}&profile=hubspot", "[]", "PR805", 400),
    (f"as_of={AS_OF}&known_on={AS_OF}", "[]", "PR801", 400),
    (f"as_of={AS_OF}&asof={AS_OF}", "[]", "PR801", 400),
    (f"as_of={AS_OF}&as_of={AS_OF}", "[]", "PR801", 400),
    (f"as_of={AS_OF}&reasons=maybe", "[]", "PR801", 400),
    (f"as_of={AS_OF}", '{"id": 1}', "PR801", 400),  # neither an array nor {"records": [...]}
    (f"as_of={AS_OF}", json.dumps([{"id": str(i)} for i in range(51)]), "PR804", 413),  # --max-batch 50
])
def test_evaluate_errors_are_problem_details(server: Server, query: str, body: str, code: str, status: int) -> None:
    got_status, doc = _problem(server, "POST", f"/v1/evaluate?{query}", body)
    assert (got_status, doc["code"]) == (status, code), doc


# --- the other endpoints ------------------------------------------------------------------------------

def test_pack_health_ready(server: Server) -> None:
    status, _, data = server.get("/v1/pack")
    info = json.loads(data)
    assert status == 200
    assert info["id"] == "iconfirm" and info["version"] == ICONFIRM_VERSION
    assert info["standard_questions"][0] == "keep:relationship_record"
    assert "newsletter" in info["vocabulary"]["purposes"] and "hubspot-export" in info["profiles"]
    assert server.get("/health")[0] == 200
    status, _, data = server.get("/ready")
    assert status == 200 and json.loads(data)["pack"]["hash"] == info["hash"]


def test_metrics_count_requests_and_decisions(server: Server) -> None:
    def value(text: str, prefix: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))

    before = server.get("/metrics")[2].decode()
    for _ in range(3):
        assert server.post_json("/v1/decide", {"record": RECORDS[1], "as_of": AS_OF, "questions": ["keep"]})[0] == 200
    status, h, data = server.get("/metrics")
    after = data.decode()
    assert status == 200 and h["content-type"].startswith("text/plain; version=0.0.4")
    key = 'privacy_rules_decisions_total{question="keep:relationship_record",outcome="deny"}'
    assert value(after, key) - value(before, key) == 3
    ok = 'privacy_rules_http_requests_total{method="POST",route="/v1/decide",status="200"}'
    assert value(after, ok) - value(before, ok) == 3
    assert 'privacy_rules_http_request_duration_seconds_bucket{route="/v1/decide",le="+Inf"}' in after
    assert 'privacy_rules_pack_reloads_total{result="ok"} 0' in after
    assert "privacy_rules_ready 1" in after


def test_openapi_is_3_1_and_every_ref_resolves(server: Server) -> None:
    status, _, data = server.get("/openapi.json")
    doc = json.loads(data)
    assert status == 200 and doc["openapi"].startswith("3.1")
    refs = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    names = set(doc["components"]["schemas"])
    assert refs and all(r.startswith("#/components/schemas/") and r.rsplit("/", 1)[1] in names for r in refs)
    # the Decision component is schemas/decision.schema.json itself
    assert doc["components"]["schemas"]["Decision"]["required"] == DECISION_SCHEMA["required"]
    assert set(doc["paths"]) == {"/v1/decide", "/v1/evaluate", "/v1/pack", "/health", "/ready", "/metrics",
                                 "/openapi.json"}
