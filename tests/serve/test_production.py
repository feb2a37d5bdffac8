"""Production behaviour of the real server: hot reload (also under load, and of a pack that does
not check), graceful SIGTERM drain, the time limit, bounded concurrency and the bearer token."""

from __future__ import annotations

import http.client
import io
import json
import shutil
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from privacy_rules.cli.main import main

from ._server import ICONFIRM, ICONFIRM_VERSION, ROOT, Server

AS_OF = "2026-11-25"
RECORD = json.loads((ROOT / "examples" / "records.jsonl").read_text(encoding="utf-8").splitlines()[0])


def _copy_pack(tmp_path: Path) -> Path:
    dst = tmp_path / "iconfirm"
    shutil.copytree(ICONFIRM, dst)
    return dst


def _bump_version(pack: Path, version: str) -> None:
    p = pack / "pack.yaml"
    text = p.read_text(encoding="utf-8")
    assert f'version: "{ICONFIRM_VERSION}"' in text
    p.write_text(text.replace(f'version: "{ICONFIRM_VERSION}"', f'version: "{version}"', 1), encoding="utf-8")


def _ready_hash(server: Server) -> str | None:
    status, _, data = server.get("/ready")
    return json.loads(data)["pack"]["hash"] if status == 200 else None


def _decide(conn: http.client.HTTPConnection) -> tuple[int, str | None]:
    body = json.dumps({"record": RECORD, "as_of": AS_OF, "questions": ["keep"]})
    conn.request("POST", "/v1/decide", body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = json.loads(resp.read())
    return resp.status, (data["decisions"][0]["pack_version"] if resp.status == 200 else None)


# --- reload ----------------------------------------------------------------------------------------------

def test_reload_on_sighup_under_load_loses_no_request(tmp_path: Path) -> None:
    pack = _copy_pack(tmp_path)
    with Server(pack, ["--watch-seconds", "0"]) as server:
        old = _ready_hash(server)
        results: list[list[tuple[int, str | None]]] = [[] for _ in range(4)]
        failures: list[BaseException] = []
        stop = threading.Event()

        def client(k: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            try:
                while not stop.is_set():
                    results[k].append(_decide(conn))
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)
            finally:
                conn.close()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.3)
            _bump_version(pack, "1.2.1")
            server.signal(signal.SIGHUP)
            server.wait_until(lambda: _ready_hash(server) not in (None, old), "the new pack serves")
            time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        new = _ready_hash(server)
        assert "reloaded the pack (SIGHUP)" in server.log()
    assert not failures, failures
    assert new is not None and new != old and new.startswith("1.2.1+")
    for got in results:
        assert got and all(status == 200 for status, _ in got)
        hashes = [h for _, h in got]
        assert set(hashes) <= {old, new}
        # every answer names the pack that made it; once a client saw the new pack, never the old one again
        first_new = hashes.index(new) if new in hashes else len(hashes)
        assert old not in hashes[first_new:]
    assert any(new in [h for _, h in got] for got in results)


def test_changed_files_reload_and_a_broken_pack_keeps_the_old_one_serving(tmp_path: Path) -> None:
    pack = _copy_pack(tmp_path)
    with Server(pack, ["--watch-seconds", "0.2"]) as server:
        old = _ready_hash(server)
        keep = pack / "keep.yaml"
        good = keep.read_text(encoding="utf-8")
        keep.write_text(good + "\n  - id: [unclosed\n", encoding="utf-8")
        server.wait_until(lambda: server.get("/ready")[0] == 503, "/ready reports the failed reload")
        status, h, data = server.get("/ready")
        doc = json.loads(data)
        assert h["content-type"] == "application/problem+json"
        assert doc["code"] == "PR810" and "does not check" in doc["detail"] and old in doc["detail"]
        assert any("keep.yaml" in line for line in doc["diagnostics"])
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        assert _decide(conn) == (200, old)  # the old pack keeps serving
        conn.close()
        assert "reload failed (the pack's files changed)" in server.log()
        assert 'privacy_rules_pack_reloads_total{result="failed"} 1' in server.get("/metrics")[2].decode()
        keep.write_text(good, encoding="utf-8")
        _bump_version(pack, ICONFIRM_VERSION)
        server.wait_until(lambda: (_ready_hash(server) or "").startswith(f"{ICONFIRM_VERSION}+"), "the fixed pack serves")


def test_a_batch_in_flight_finishes_on_the_pack_it_started_with(tmp_path: Path) -> None:
    pack = _copy_pack(tmp_path)
    records = [dict(RECORD, id=f"r-{i}") for i in range(10_000)]
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    with Server(pack, ["--watch-seconds", "0", "--timeout", "60"]) as server:
        old = _ready_hash(server)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.request("POST", f"/v1/evaluate?as_of={AS_OF}", body=body, headers={"Content-Type": "application/x-ndjson"})
        resp = conn.getresponse()
        first = json.loads(resp.readline())
        # ~16 MB of answers: more than the loopback buffers hold, so the server is still streaming
        _bump_version(pack, "1.2.1")
        server.signal(signal.SIGHUP)
        server.wait_until(lambda: _ready_hash(server) not in (None, old), "the new pack serves")
        rest = [json.loads(line) for line in resp.read().splitlines()]
        conn.close()
        assert resp.status == 200
        lines = [first, *rest]
        assert [line["record_id"] for line in lines] == [r["id"] for r in records]
        assert {line["pack_version"] for line in lines} == {old}
        status, got = server.post_json("/v1/decide", {"record": RECORD, "as_of": AS_OF})
        assert status == 200 and {d["pack_version"] for d in got["decisions"]} == {_ready_hash(server)} != {old}


# --- shutdown, time limit, concurrency ----------------------------------------------------------------------

def _partial_request(port: int, body: bytes, sent: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:sent])
    return sock


def _response(sock: socket.socket) -> tuple[int, dict[str, str], Any]:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
            n = int(headers.get("content-length", "-1"))
            if n >= 0 and len(rest) >= n:
                return int(lines[0].split()[1]), headers, json.loads(rest[:n])
    raise AssertionError(f"no complete response: {data!r}")


def test_sigterm_drains_the_request_in_flight() -> None:
    body = json.dumps({"record": RECORD, "as_of": AS_OF, "questions": ["keep"]}).encode()
    server = Server(args=["--watch-seconds", "0"])
    try:
        sock = _partial_request(server.port, body, 20)
        time.sleep(0.2)
        server.signal(signal.SIGTERM)
        server.wait_until(lambda: "draining" in server.log(), "the server starts draining")
        sock.sendall(body[20:])
        status, _, doc = _response(sock)
        sock.close()
        assert status == 200 and doc["decisions"][0]["outcome"] in ("allow", "deny", "undetermined")
        assert server.proc.wait(timeout=30) == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
    finally:
        server.stop()


def test_time_limit_and_bounded_concurrency() -> None:
    body = json.dumps({"record": RECORD, "as_of": AS_OF}).encode()
    with Server(args=["--watch-seconds", "0", "--timeout", "0.5", "--max-in-flight", "1"]) as server:
        slow = _partial_request(server.port, body, 10)
        time.sleep(0.1)
        status, headers, doc = server.request("POST", "/v1/decide", body)
        assert status == 503 and json.loads(doc)["code"] == "PR808" and headers["retry-after"] == "1"
        status, _, doc = _response(slow)  # the body never came: the time limit answers
        slow.close()
        assert status == 504 and doc["code"] == "PR807"
        assert server.request("POST", "/v1/decide", body)[0] == 200  # the slot is free again


# --- the bearer token ----------------------------------------------------------------------------------------

def test_token_required_on_non_loopback_binds_and_checked(tmp_path: Path) -> None:
    err = io.StringIO()
    assert main(["serve", str(ICONFIRM), "--host", "0.0.0.0"], stdout=io.StringIO(), stderr=err) == 2
    assert "needs a bearer token (--token-file FILE)" in err.getvalue()
    token = tmp_path / "token"
    token.write_text("s3cret-token-for-tests\n", encoding="utf-8")
    token.chmod(0o600)
    with Server(args=["--watch-seconds", "0", "--token-file", str(token)]) as server:
        for path in ("/v1/pack", "/metrics", "/openapi.json"):
            status, headers, data = server.get(path)
            assert status == 401 and json.loads(data)["code"] == "PR806"
            assert headers["www-authenticate"].startswith("Bearer")
        assert server.get("/v1/pack", {"Authorization": "Bearer wrong"})[0] == 401
        assert server.get("/v1/pack", {"Authorization": "Bearer s3cret-token-for-tests"})[0] == 200
        status, _ = server.post_json("/v1/decide", {"record": RECORD, "as_of": AS_OF},
                                     {"Authorization": "Bearer s3cret-token-for-tests"})
        assert status == 200
        assert server.get("/health")[0] == 200 and server.get("/ready")[0] == 200  # probes need no token
        doc = json.loads(server.get("/openapi.json", {"Authorization": "Bearer s3cret-token-for-tests"})[2])
        assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize(("args", "message"), [
    (["--decision-log", "x.jsonl"], "needs an HMAC key"),
    (["--decision-log-inputs"], "goes with --decision-log"),
    (["--token-file", "/nonexistent/token"], "cannot read token file"),
])
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    err = io.StringIO()
    assert main(["serve", str(ICONFIRM), *args], stdout=io.StringIO(), stderr=err) == 2
    assert message in err.getvalue()


def test_a_pack_that_does_not_check_at_start_exits_2(tmp_path: Path) -> None:
    pack = _copy_pack(tmp_path)
    (pack / "keep.yaml").write_text("rules: [unclosed\n", encoding="utf-8")
    err = io.StringIO()
    assert main(["serve", str(pack), "--port", "0"], stdout=io.StringIO(), stderr=err) == 2
    assert "keep.yaml" in err.getvalue()


def test_a_client_that_goes_away_mid_batch_frees_its_batch_slot() -> None:
    body = "".join(json.dumps(dict(RECORD, id=f"r-{i}")) + "\n" for i in range(10_000)).encode()
    with Server(args=["--watch-seconds", "0", "--max-batches", "1", "--timeout", "60"]) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.request("POST", f"/v1/evaluate?as_of={AS_OF}", body=body, headers={"Content-Type": "application/x-ndjson"})
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.readline())["record_id"] == "r-0"
        conn.sock.shutdown(socket.SHUT_RDWR)  # gone, with ~16 MB of answers unread
        conn.close()

        def slot_free() -> bool:
            status, _, _ = server.request("POST", f"/v1/evaluate?as_of={AS_OF}&q=keep", [RECORD])
            assert status in (200, 503)
            return status == 200

        server.wait_until(slot_free, "the batch slot is free again", timeout=30)
        assert server.get("/health")[0] == 200


def test_a_batch_past_the_time_limit_ends_with_a_problem_line() -> None:
    """The time limit covers deciding a batch: a reader too slow to take ~16 MB of answers in
    time gets the answers so far and a last line naming PR807 and how many were answered."""
    body = "".join(json.dumps(dict(RECORD, id=f"r-{i}")) + "\n" for i in range(10_000)).encode()
    with Server(args=["--watch-seconds", "0", "--timeout", "3"]) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.request("POST", f"/v1/evaluate?as_of={AS_OF}", body=body, headers={"Content-Type": "application/x-ndjson"})
        resp = conn.getresponse()
        first = json.loads(resp.readline())
        time.sleep(3.5)  # the server is blocked on the full socket buffers meanwhile
        lines = [first, *(json.loads(x) for x in resp.read().splitlines())]
        conn.close()
    last = lines[-1]["problem"]
    assert isinstance(last, dict) and last["code"] == "PR807", lines[-1]
    answered = lines[:-1]
    assert 0 < len(answered) == last["answered"] < 10_000 == last["records"]
    assert [x["record_id"] for x in answered] == [f"r-{i}" for i in range(len(answered))]
