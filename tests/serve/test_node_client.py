"""examples/serve/client.mjs, the Node client of docs/serve.md, against the real server."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ._server import ROOT, Server

NODE = shutil.which("node")
CLIENT = ROOT / "examples" / "serve" / "client.mjs"
RECORDS = ROOT / "examples" / "records.jsonl"
AS_OF = "2026-11-25"


def _node_major() -> int:
    if NODE is None:
        return 0
    out = subprocess.run([NODE, "--version"], capture_output=True, text=True, timeout=30).stdout
    return int(out.strip().lstrip("v").split(".")[0] or 0)


pytestmark = pytest.mark.skipif(_node_major() < 18, reason="the Node example needs node >= 18 (fetch) on PATH")


def test_node_client_gets_explained_decisions(server: Server) -> None:
    proc = subprocess.run([str(NODE), str(CLIENT), "--url", server.url, "--as-of", AS_OF, str(RECORDS)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    first = json.loads(RECORDS.read_text(encoding="utf-8").splitlines()[0])
    status, expected = server.post_json("/v1/decide", {"record": first, "as_of": AS_OF})
    assert status == 200
    assert got["decide"] == expected["decisions"]
    assert got["decide"][0]["reason"] and got["decide"][0]["pack_version"] == got["pack"]["hash"]
    lines = [line for line in RECORDS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [e["record_id"] for e in got["evaluate"]] == [json.loads(line)["id"] for line in lines]


def test_node_client_reports_problem_details(server: Server, tmp_path: Path) -> None:
    proc = subprocess.run([str(NODE), str(CLIENT), "--url", server.url, "--as-of", "2026-02-30", str(RECORDS)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "PR803" in proc.stderr and "help:" in proc.stderr
