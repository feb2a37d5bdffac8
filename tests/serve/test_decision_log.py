"""The decision log of the real server: one line per answer, no value of the record in it but
the HMAC of its id (no personal data by default), rotation by size, the opt-in full inputs,
and the auditor's query from docs/serve.md."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from pathlib import Path
from typing import Any, Iterator

from privacy_rules.cli.main import main
from privacy_rules.decision_log import pseudonym

from ._server import ICONFIRM_VERSION, ROOT, Server

AS_OF = "2026-11-25"
KEY = b"0123456789abcdef-test-key-material"
ENTRY_KEYS = {"time", "request_id", "endpoint", "pack_id", "pack_version", "pack_hash", "as_of", "question",
              "outcome", "decisive_rule", "keep_until", "record"}


def _records() -> list[dict[str, Any]]:
    """The example records, each with personal data a host carries along (names, e-mail) and a
    distinct id; one of them malformed (an unknown field holding a value)."""
    out = []
    lines = (ROOT / "examples" / "records.jsonl").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(filter(None, lines)):
        r = json.loads(line)
        r["id"] = f"person-{i}-Ærlig"
        r["host"] = {"name": f"Kari Nordmann {i}", "email": f"kari{i}@fjord.example", "phone": f"+47 9{i:07d}"}
        out.append(r)
    out[2]["nickname"] = "Secret Nick"  # PR301: an unknown field; its value must not reach the log
    return out


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def _key_file(tmp_path: Path) -> Path:
    path = tmp_path / "log.key"
    path.write_bytes(KEY)
    path.chmod(0o600)
    return path


def test_the_log_holds_no_record_value_but_the_hashed_id(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    records = _records()
    with Server(args=["--watch-seconds", "0", "--decision-log", str(log), "--decision-log-key",
                      str(_key_file(tmp_path))]) as server:
        for r in records:
            assert server.post_json("/v1/decide", {"record": r, "as_of": AS_OF})[0] == 200
        status, _, data = server.request("POST", f"/v1/evaluate?as_of={AS_OF}", records)
        assert status == 200
        pack = json.loads(server.get("/v1/pack")[2])
        assert "WARNING" not in server.log()
    text = log.read_text(encoding="utf-8")
    entries = [json.loads(line) for line in text.splitlines()]
    assert len(entries) == 2 * len(records) * 3  # one line per answer: 3 standard questions, both endpoints
    ids = {hmac.new(KEY, r["id"].encode(), hashlib.sha256).hexdigest() for r in records}  # HMAC-SHA256, hex
    for e in entries:
        assert set(e) == ENTRY_KEYS
        assert e["record"] in ids and len(e["record"]) == 64
        assert (e["pack_id"], e["pack_version"], e["pack_hash"]) == (pack["id"], pack["version"], pack["hash"])
        assert e["as_of"] == AS_OF and e["question"] in pack["standard_questions"]
        assert e["outcome"] in ("allow", "deny", "undetermined") and e["endpoint"] in ("decide", "evaluate")
    # no value of any record is in the log: not the id, not the data carried along, not its dates,
    # not the value of the field that made a record invalid (the pack's own ids aside: a question names them)
    vocabulary = {v for values in pack["vocabulary"].values() for v in values}
    for r in records:
        for value in _leaves(r):
            if value in vocabulary or value in ("controller", "processor", "personal", "work", "self", "website"):
                continue
            if value.isdigit() and len(value) <= 4:
                continue  # a year or a count: the log's own times and dates hold years
            if any(value == e["keep_until"] for e in entries):
                continue  # a keep_until the pack computed may fall on a day the record names
            assert value not in text, value


def test_rotation_by_size_keeps_n_backups(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    record = _records()[0]
    with Server(args=["--watch-seconds", "0", "--decision-log", str(log), "--decision-log-key",
                      str(_key_file(tmp_path)), "--decision-log-max-bytes", "3000", "--decision-log-backups",
                      "2"]) as server:
        for _ in range(40):
            assert server.post_json("/v1/decide", {"record": record, "as_of": AS_OF})[0] == 200
    files = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("decisions.jsonl"))
    assert files == ["decisions.jsonl", "decisions.jsonl.1", "decisions.jsonl.2"]
    for name in files:
        lines = (tmp_path / name).read_text(encoding="utf-8").splitlines()
        assert lines and all(set(json.loads(line)) == ENTRY_KEYS for line in lines)
        assert (tmp_path / name).stat().st_size <= 3000 + 3 * 700  # one request's lines past the limit at most


def test_full_inputs_only_when_asked_and_with_a_warning(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    record = _records()[0]
    with Server(args=["--watch-seconds", "0", "--decision-log", str(log), "--decision-log-key",
                      str(_key_file(tmp_path)), "--decision-log-inputs"]) as server:
        assert server.post_json("/v1/decide", {"record": record, "as_of": AS_OF, "questions": ["keep"]})[0] == 200
        status, _, _ = server.request("POST", f"/v1/evaluate?as_of={AS_OF}&q=keep", json.dumps(record) + "\n",
                                      {"Content-Type": "application/x-ndjson"})
        assert status == 200
        assert "WARNING" in server.log() and "personal data" in server.log()
    decided, evaluated = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert decided["input"] == evaluated["input"] == record
    assert set(decided) == ENTRY_KEYS | {"input"}


def test_the_auditor_query(tmp_path: Path) -> None:
    """docs/serve.md, "Answering an auditor": which pack decided about record X on day D."""
    log = tmp_path / "decisions.jsonl"
    key = _key_file(tmp_path)
    records = _records()
    with Server(args=["--watch-seconds", "0", "--decision-log", str(log), "--decision-log-key", str(key)]) as server:
        for r in records[:3]:
            assert server.post_json("/v1/decide", {"record": r, "as_of": AS_OF, "questions": ["keep"]})[0] == 200
    out, err = io.StringIO(), io.StringIO()
    code = main(["decision-log", "find", str(log), "--key-file", str(key), "--record-id", records[1]["id"],
                 "--as-of", AS_OF], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    (found,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert found["record"] == pseudonym(KEY, records[1]["id"]) and found["as_of"] == AS_OF
    assert found["pack_hash"].startswith(f"{ICONFIRM_VERSION}+")
    out = io.StringIO()
    assert main(["decision-log", "find", str(log), "--key-file", str(key), "--record-id", "nobody",
                 "--as-of", AS_OF], stdout=out, stderr=io.StringIO()) == 1
    assert out.getvalue() == ""


def test_a_log_that_cannot_be_written_withholds_the_answers(tmp_path: Path) -> None:
    """Fail closed: no answer leaves unlogged (PR814); /dev/full refuses every write (ENOSPC)."""
    if not Path("/dev/full").exists():
        import pytest

        pytest.skip("needs /dev/full (Linux)")
    record = _records()[0]
    with Server(args=["--watch-seconds", "0", "--decision-log", "/dev/full", "--decision-log-key",
                      str(_key_file(tmp_path))]) as server:
        status, doc = server.post_json("/v1/decide", {"record": record, "as_of": AS_OF})
        assert (status, doc["code"]) == (503, "PR814")
        status, _, data = server.request("POST", f"/v1/evaluate?as_of={AS_OF}", [record, record])
        (line,) = [json.loads(x) for x in data.decode().splitlines()]
        assert status == 200 and line["problem"]["code"] == "PR814" and line["problem"]["answered"] == 0
