"""The serve tests run the real server (tests/serve/_server.py); they need the `serve` extra."""

from __future__ import annotations

from typing import Iterator

import pytest

pytest.importorskip("starlette", reason="privacy-rules serve needs the `serve` extra (pip install -e '.[serve]')")
pytest.importorskip("uvicorn", reason="privacy-rules serve needs the `serve` extra (pip install -e '.[serve]')")

from ._server import Server  # noqa: E402


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One server on the Iconfirm pack for the read-only tests (no decision log, no token)."""
    with Server(args=["--watch-seconds", "0", "--max-batch", "50"]) as s:
        yield s
