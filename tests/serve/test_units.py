"""The service's parts on their own: settings, problem details, metrics text, the decision log
writer and reader, and the OpenAPI document (no server)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from privacy_rules.decision_log import ENTRY_FIELDS, find, pseudonym
from privacy_rules.serve import ServeConfig, build_openapi, is_loopback
from privacy_rules.serve._decision_log import DecisionLog
from privacy_rules.serve._metrics import Metrics
from privacy_rules.serve._problems import CODES, ApiError

KEY = b"k" * 32
PACK = {"id": "p", "version": "1", "hash": "1+abc"}


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.1", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("example.org", False), ("", False),
])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_config_refuses_what_would_be_unsafe() -> None:
    with pytest.raises(ValueError, match="bearer token"):
        ServeConfig(pack="p", host="0.0.0.0")
    assert ServeConfig(pack="p", host="0.0.0.0", token="t").host == "0.0.0.0"
    with pytest.raises(ValueError, match="HMAC key"):
        ServeConfig(pack="p", decision_log="x.jsonl")
    with pytest.raises(ValueError, match="max-batch"):
        ServeConfig(pack="p", max_batch=0)


def test_problem_details_follow_rfc_9457() -> None:
    body = ApiError("PR802", "unknown purpose `x`", "did you mean `y`?").body("/v1/decide")
    assert body == {"type": "https://privacy-rules.dev/docs/codes.md#pr802", "title": CODES["PR802"][1],
                    "status": 400, "detail": "unknown purpose `x`", "code": "PR802", "help": "did you mean `y`?",
                    "instance": "/v1/decide"}
    assert ApiError("PR310", "bad", status=400).http_status == 400
    assert all(code.startswith("PR8") and 400 <= status < 600 for code, (status, _) in CODES.items())


def test_every_service_code_is_documented() -> None:
    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "codes.md").read_text(encoding="utf-8")
    for code in CODES:
        assert f"## {code}\n" in doc, code


def test_metrics_text_format() -> None:
    m = Metrics()
    m.request("POST", "/v1/decide", 200, 0.0007)
    m.request("POST", "/v1/decide", 200, 0.03)
    m.decided("keep", "allow", 2)
    text = m.render(reloads={"ok": 1, "failed": 0}, pack=PACK, ready=True)
    lines = text.splitlines()
    assert 'privacy_rules_http_requests_total{method="POST",route="/v1/decide",status="200"} 2' in lines
    assert 'privacy_rules_http_request_duration_seconds_bucket{route="/v1/decide",le="0.001"} 1' in lines
    assert 'privacy_rules_http_request_duration_seconds_bucket{route="/v1/decide",le="0.05"} 2' in lines
    assert 'privacy_rules_http_request_duration_seconds_count{route="/v1/decide"} 2' in lines
    assert 'privacy_rules_decisions_total{question="keep",outcome="allow"} 2' in lines
    assert 'privacy_rules_pack_info{id="p",version="1",hash="1+abc"} 1' in lines
    assert all(line.startswith("# ") or line.startswith("privacy_rules_") for line in lines)


def _entry(log: DecisionLog, record_id: str | None, as_of: str = "2026-01-31") -> dict[str, object]:
    return log.entry(now="2026-01-31T10:00:00.000Z", request_id="r-1", endpoint="decide", pack=PACK, as_of=as_of,
                     question="keep:relationship_record", outcome="deny", rule_id=None, keep_until="2025-12-31",
                     record_id=record_id, record={"id": record_id})


def test_decision_log_writes_rotates_and_finds(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    log = DecisionLog(str(path), KEY, max_bytes=600, backups=1)
    for i in range(10):
        log.write([_entry(log, f"rec-{i}", as_of=f"2026-01-{i + 10}")])
    log.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.jsonl", "d.jsonl.1"]
    lines = [json.loads(x) for p in (path.with_name("d.jsonl.1"), path) for x in p.read_text().splitlines()]
    assert all(tuple(e) == ENTRY_FIELDS for e in lines)  # no `input` unless asked for
    assert "rec-" not in path.read_text() + path.with_name("d.jsonl.1").read_text()
    last = lines[-1]
    with path.open() as fh:
        assert list(find([fh], KEY, "rec-9")) == [last]
    with path.open() as fh:
        assert list(find([fh], KEY, "rec-9", as_of="2026-01-18")) == []
    assert list(find([io.StringIO("not json " + str(pseudonym(KEY, "rec-9")) + "\n")], KEY, "rec-9")) == []
    assert pseudonym(KEY, None) is None and pseudonym(KEY, "a") != pseudonym(b"other-key" * 4, "a")


def test_openapi_components_come_from_the_schema_files() -> None:
    doc = build_openapi(max_batch=7, max_questions=3, token=False, version="0")
    comps = doc["components"]["schemas"]
    root = Path(__file__).resolve().parents[2]
    record = json.loads((root / "schemas" / "record.schema.json").read_text(encoding="utf-8"))
    assert set(comps["Record"]["properties"]) == set(record["properties"])
    assert {f"Record_{d}" for d in record["$defs"]} <= set(comps)
    assert "securitySchemes" not in doc["components"]
    assert doc["components"]["schemas"]["DecideRequest"]["properties"]["questions"]["maxItems"] == 3
