"""What the service is started with: one frozen value, built by ``privacy-rules serve``."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

#: /v1/decide takes one record (at most records.MAX_LINE bytes, as a records-file line) and its envelope
DECIDE_BODY_LIMIT = 1_100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeConfig:
    """The service's settings. Paths are as given; nothing here is read at import."""

    pack: str
    host: str = "127.0.0.1"
    port: int = 8080
    lang: str = "en"
    profiles: tuple[str, ...] = ()  # mapping profiles (bundled ids or files) a request may name
    recipient_facts: str | None = None  # a processor register file (issue 11 item 4), reloaded with the pack
    token: str | None = None  # the bearer token (read from --token-file by the CLI)
    max_body: int = 32 * 1024 * 1024  # bytes of a /v1/evaluate body; /v1/decide takes DECIDE_BODY_LIMIT at most
    max_batch: int = 10_000  # records per /v1/evaluate request
    max_questions: int = 64  # questions per request
    timeout: float = 10.0  # seconds per request (reading the body and deciding)
    max_in_flight: int = 256  # /v1 requests at once; more get 503 PR808
    max_batches: int = 2  # /v1/evaluate requests at once (each holds its body in memory)
    drain_seconds: float = 30.0  # SIGTERM: how long in-flight requests may take to finish
    watch_seconds: float = 2.0  # how often the pack's files are checked for changes; 0: only SIGHUP
    decision_log: str | None = None
    decision_log_key: bytes | None = None  # the HMAC key for record ids (read from --decision-log-key FILE)
    decision_log_max_bytes: int = 64 * 1024 * 1024
    decision_log_backups: int = 5
    decision_log_inputs: bool = False  # opt-in: log each full record (personal data)

    def __post_init__(self) -> None:
        if self.decision_log is not None and not self.decision_log_key:
            raise ValueError("a decision log needs an HMAC key (--decision-log-key FILE) to pseudonymise record ids")
        if self.token is None and not is_loopback(self.host):
            raise ValueError(f"binding to `{self.host}`, which is not a loopback address, needs a bearer token "
                             "(--token-file FILE)")
        for name in ("max_body", "max_batch", "max_questions", "max_in_flight", "max_batches",
                     "decision_log_max_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name.replace('_', '-')} must be at least 1")
        if self.timeout <= 0:
            raise ValueError("timeout must be more than 0 seconds")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 or ::1; a name or 0.0.0.0 is not."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


__all__ = ["DECIDE_BODY_LIMIT", "ServeConfig", "is_loopback"]
