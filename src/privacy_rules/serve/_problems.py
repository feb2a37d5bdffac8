"""Errors as RFC 9457 problem details (``application/problem+json``), with the CLI's codes.

Every error the service answers is an :class:`ApiError`: an HTTP status, a diagnostic code
(PR8xx for the service's own, docs/codes.md; the CLI's PR3xx / PR6xx where a body or a
profile has the problem the CLI reports), a one-line ``detail`` and a ``help`` saying what to
do. ``type`` points at the code's section in docs/codes.md, so a client can look it up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

MEDIA_TYPE = "application/problem+json"
DOCS = "https://privacy-rules.dev/docs/codes.md#"

#: Each service code: (HTTP status, title). docs/codes.md has a section for each.
CODES: Mapping[str, tuple[int, str]] = {
    "PR800": (413, "request body too large"),
    "PR801": (400, "request is not what the endpoint takes"),
    "PR802": (400, "unknown or malformed question"),
    "PR803": (400, "bad as_of"),
    "PR804": (413, "batch too large"),
    "PR805": (400, "unknown mapping profile"),
    "PR806": (401, "missing or wrong bearer token"),
    "PR807": (504, "request took longer than the time limit"),
    "PR808": (503, "server busy"),
    "PR809": (404, "no such endpoint"),
    "PR810": (503, "not ready"),
    "PR811": (415, "unsupported media type"),
    "PR812": (500, "internal error"),
    "PR813": (405, "method not allowed"),
    "PR814": (503, "decision log cannot be written"),
}


@dataclass(frozen=True, slots=True)
class ApiError(Exception):
    """An error answer: ``code`` (PRnnn), ``detail`` (one line), ``help``, and the status
    (from CODES unless given: the CLI's codes PR3xx / PR6xx are answered with 400)."""

    code: str
    detail: str
    help: str | None = None
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    title: str | None = None  # default: CODES' title

    @property
    def http_status(self) -> int:
        if self.status is not None:
            return self.status
        return CODES.get(self.code, (400, ""))[0]

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document (RFC 9457 section 3): type, title, status, detail, instance,
        plus the extension members ``code`` and ``help``."""
        title = self.title or CODES.get(self.code, (0, "invalid input"))[1]
        out: dict[str, Any] = {"type": DOCS + self.code.lower(), "title": title, "status": self.http_status,
                               "detail": self.detail, "code": self.code}
        if self.help:
            out["help"] = self.help
        if instance:
            out["instance"] = instance
        out.update(self.extra)
        return out

    def encode(self, instance: str | None = None) -> bytes:
        return json.dumps(self.body(instance), ensure_ascii=False).encode("utf-8")


__all__ = ["ApiError", "CODES", "MEDIA_TYPE"]
