"""`serve --recipient-facts FILE` (issue 11 item 4): the host's processor register is in force
for every request, named in /v1/pack, reloaded when the file changes, and a register that
cannot be used stops the start (exit 2) or, on reload, leaves the old one serving."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ._server import ICONFIRM, ROOT, Server

CUSTOMER = {"id": "c-1", "role": "controller", "subject_categories": ["customer"],
            "relationship": {"customer_since": "2018-06-01"}, "source": "self"}
Q = "share:hubspot:relationship_management"
# R14: Privacy Shield invalidated on 16 July 2020 (Schrems II); the DPF from 10 July 2023
PS_ONLY = "recipients:\n  hubspot:\n    transfers:\n      - {mechanism: privacy_shield, from: 2018-05-25}\n" \
          "      - {mechanism: dpf, from: 2023-07-10}\n"


def _share(server: Server, day: str) -> dict:
    status, got = server.post_json("/v1/decide", {"record": CUSTOMER, "as_of": day, "questions": [Q]})
    assert status == 200, got
    return got["decisions"][0]


def test_a_register_is_in_force_named_and_reloaded(tmp_path: Path) -> None:
    reg = tmp_path / "register.yaml"
    reg.write_text(PS_ONLY, encoding="utf-8")
    with Server(args=["--recipient-facts", str(reg), "--watch-seconds", "0.2"]) as server:
        info = json.loads(server.get("/v1/pack")[2])
        assert info["recipient_register"] == "register.yaml"  # the name, not the server's folders
        for day, outcome in [("2020-07-15", "allow"), ("2020-07-16", "deny"), ("2023-07-09", "deny"),
                             ("2023-07-10", "allow")]:
            d = _share(server, day)
            assert (d["outcome"], d["recipient_source"]) == (outcome, "register"), day
        assert _share(server, "2020-07-16")["decisive_rule"] == "share.transfer-without-mechanism"
        # a register that cannot be used: the old one keeps serving and /ready says why
        reg.write_text("recipients: {hubspot: {kind: police}}\n", encoding="utf-8")
        server.wait_until(lambda: server.get("/ready")[0] == 503, "/ready reports the failed reload")
        doc = json.loads(server.get("/ready")[2])
        assert "PR345" in doc["detail"] and str(reg) in doc["detail"]
        assert _share(server, "2020-07-16")["outcome"] == "deny"
        # the pack's own facts (SCCs) once the register names nothing for HubSpot
        reg.write_text("recipients: {}\n", encoding="utf-8")
        server.wait_until(lambda: server.get("/ready")[0] == 200, "the fixed register serves")
        d = _share(server, "2020-07-16")
        assert d["outcome"] == "allow"


def test_an_unusable_register_stops_the_start(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("recipients: [1]\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "privacy_rules", "serve", str(ICONFIRM), "--port", "0",
                           "--recipient-facts", str(bad)], capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    assert done.returncode == 2, done.stderr
    assert "PR345" in done.stderr and str(bad) in done.stderr
