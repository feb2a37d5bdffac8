"""Run the service under uvicorn: bind, serve, reload on SIGHUP, drain on SIGTERM.

uvicorn handles SIGTERM and SIGINT itself: it stops accepting connections, lets the requests
in flight finish (at most ``drain_seconds``, then cancels them) and runs the lifespan's
shutdown. The subclass below only marks the service as draining first, so /ready says so to
a probe on a connection still open.
"""

from __future__ import annotations

import gc
import logging
import signal
import socket
from typing import Any

import uvicorn

from ._app import Service
from ._config import ServeConfig
from ._decision_log import DecisionLog
from ._snapshot import PackHolder

log = logging.getLogger("privacy_rules.serve")


def _uvicorn_extras() -> dict[str, Any]:
    """uvloop and httptools when importable (the ``serve`` extra installs both): ~2x the
    requests/s of asyncio + h11 for small requests."""
    out: dict[str, Any] = {"loop": "asyncio", "http": "h11"}
    try:
        import uvloop  # noqa: F401

        out["loop"] = "uvloop"
    except ImportError:
        pass
    try:
        import httptools  # noqa: F401

        out["http"] = "httptools"
    except ImportError:
        pass
    return out


def build_service(config: ServeConfig) -> Service:
    """The service for ``config``: the pack loaded and checked (PackError if it does not check),
    the decision log opened. Starts nothing."""
    holder = PackHolder(config.pack, config.profiles, config.lang, config.recipient_facts)
    dlog = None
    if config.decision_log is not None:
        assert config.decision_log_key is not None  # ServeConfig checks it
        dlog = DecisionLog(config.decision_log, config.decision_log_key, max_bytes=config.decision_log_max_bytes,
                           backups=config.decision_log_backups, inputs=config.decision_log_inputs)
        if config.decision_log_inputs:
            log.warning("--decision-log-inputs: every record is written to %s in full. That is personal data: "
                        "protect, retain and delete the log as the records themselves (Art. 5(1)(e), 32)",
                        config.decision_log)
    return Service(config, holder, dlog)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); port 0 picks a free one."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(addr)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(config: ServeConfig) -> None:
    """Serve until SIGTERM / SIGINT. Blocks. Raises PackError if the pack does not check, and
    OSError if the address cannot be bound."""
    service = build_service(config)
    # the pack, the compiled policy and the imports live as long as the process: move them out
    # of the collector's reach, so that collections scan only what requests allocate
    gc.collect()
    gc.freeze()
    sock = bind(config.host, config.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    ref = service.holder.current.ref
    uv = uvicorn.Config(service, lifespan="on", access_log=False, log_config=None, server_header=False,
                        timeout_graceful_shutdown=max(1, round(config.drain_seconds)), timeout_keep_alive=30,
                        **_uvicorn_extras())
    server = _Server(uv, service)
    log.info("listening on http://%s:%d (pack %s %s, hash %s)", shown, port, ref["id"], ref["version"], ref["hash"])
    server.run(sockets=[sock])


class _Server(uvicorn.Server):
    """uvicorn.Server that marks the service as draining when asked to stop."""

    def __init__(self, config: uvicorn.Config, service: Service) -> None:
        super().__init__(config)
        self.service = service

    def handle_exit(self, sig: int, frame: Any) -> None:
        if not self.service.draining:
            log.info("draining: finishing the requests in flight, then stopping")
        self.service.draining = True
        super().handle_exit(sig, frame)
        # uvicorn raises a captured signal again once it has shut down, so the process ends
        # "killed by SIGTERM" (143); a stop that drained every request is a success: exit 0.
        captured = getattr(self, "_captured_signals", None)
        if sig == signal.SIGTERM and isinstance(captured, list) and sig in captured:
            captured.remove(sig)


__all__ = ["bind", "build_service", "serve"]
