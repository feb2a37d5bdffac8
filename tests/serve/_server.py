"""A real `privacy-rules serve` in a child process on an ephemeral loopback port, for tests.

Only loopback addresses are used; every wait is bounded; ``stop`` sends SIGTERM and waits.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

ROOT = Path(__file__).resolve().parents[2]
ICONFIRM = ROOT / "rules" / "iconfirm"
#: the bundled pack's version as pack.yaml gives it (tests compare with it rather than pin a copy)
ICONFIRM_VERSION = re.search(r'^  version: "([^"]+)"', (ICONFIRM / "pack.yaml").read_text(encoding="utf-8"), re.M).group(1)  # type: ignore[union-attr]
_LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


class Server:
    """``privacy-rules serve PACK --port 0 ARGS...``; ``port``, ``log()`` (its stderr so far)."""

    def __init__(self, pack: Path | str = ICONFIRM, args: Sequence[str] = (), *, start_timeout: float = 60.0) -> None:
        self.errfile = tempfile.NamedTemporaryFile(prefix="serve-", suffix=".log", delete=False)
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen([sys.executable, "-m", "privacy_rules", "serve", str(pack), "--port", "0",
                                      *args], stdout=subprocess.DEVNULL, stderr=self.errfile, stdin=subprocess.DEVNULL,
                                     env=env, cwd=str(ROOT))
        deadline = time.monotonic() + start_timeout
        while True:
            m = _LISTENING.search(self.log())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start (exit {self.proc.returncode}):\n{self.log()}")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"
        self.wait_until(lambda: self.get("/health")[0] == 200, "the server answers /health")

    def log(self) -> str:
        return Path(self.errfile.name).read_text(encoding="utf-8", errors="replace")

    def request(self, method: str, path: str, body: bytes | str | Any = None, headers: Mapping[str, str] | None = None,
                *, timeout: float = 30.0) -> tuple[int, Mapping[str, str], bytes]:
        """(status, headers in lower case, body). A dict or list body is sent as JSON."""
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        h = {"Content-Type": "application/json"} if body is not None else {}
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> tuple[int, Mapping[str, str], bytes]:
        return self.request("GET", path, headers=headers)

    def post_json(self, path: str, body: Any, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        status, _, data = self.request("POST", path, body, headers)
        return status, json.loads(data)

    def wait_until(self, cond: Any, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting until {what}; server log:\n{self.log()}")
            time.sleep(0.05)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.errfile.close()
        return self.proc.returncode

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        try:
            os.unlink(self.errfile.name)
        except OSError:
            pass
