"""Writing the decision log: one JSON line per answer, for auditors, with no personal data by
default (the format and the auditor's query: privacy_rules.decision_log).

Each line: ``time`` (UTC), ``request_id``, ``endpoint``, the pack (``pack_id``,
``pack_version``, ``pack_hash``), ``as_of``, ``question``, ``outcome``, ``decisive_rule``,
``keep_until``, and ``record``: the record id pseudonymised as HMAC-SHA256(key, id) in hex,
so that the log holds no value of the record, yet whoever holds the key can find a record's
lines (docs/serve.md, "Answering an auditor"). Only with ``inputs=True`` (``--decision-log-inputs``,
which warns) does each line carry the full record as ``input``.

The file is rotated by size: ``FILE`` -> ``FILE.1`` -> ... -> ``FILE.N``, the oldest dropped.
Lines are written whole and flushed per request; written from the event loop only.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import IO, Any, Iterable, Mapping

from ..decision_log import pseudonym


class DecisionLogError(OSError):
    """The decision log could not be written (disk full, permissions ...)."""


class DecisionLog:
    """Append-only JSONL with size rotation. ``write`` takes the entries of one request."""

    def __init__(self, path: str, key: bytes, *, max_bytes: int, backups: int, inputs: bool = False) -> None:
        self.path = path
        self.key = key
        self.max_bytes = max_bytes
        self.backups = backups
        self.inputs = inputs
        self._fh: IO[bytes] = open(path, "ab")
        self._size = self._fh.tell()

    def entry(self, *, now: str, request_id: str, endpoint: str, pack: Mapping[str, str], as_of: str,
              question: str, outcome: str, rule_id: str | None, keep_until: str | None, record_id: str | None,
              record: Any = None) -> dict[str, Any]:
        out = {"time": now, "request_id": request_id, "endpoint": endpoint, "pack_id": pack["id"],
               "pack_version": pack["version"], "pack_hash": pack["hash"], "as_of": as_of, "question": question,
               "outcome": outcome, "decisive_rule": rule_id, "keep_until": keep_until,
               "record": pseudonym(self.key, record_id)}
        if self.inputs:
            out["input"] = record
        return out

    def write(self, entries: Iterable[Mapping[str, Any]]) -> None:
        data = "".join(json.dumps(e, ensure_ascii=False, default=str) + "\n" for e in entries).encode("utf-8",
                                                                                                      "surrogatepass")
        if not data:
            return
        try:
            if self._size and self._size + len(data) > self.max_bytes:
                self._rotate()
            self._fh.write(data)
            self._fh.flush()
        except OSError as exc:
            raise DecisionLogError(exc.errno, f"cannot write the decision log `{self.path}`: "
                                              f"{exc.strerror or exc}") from None
        self._size += len(data)

    def _rotate(self) -> None:
        self._fh.close()
        if self.backups > 0:
            for i in range(self.backups - 1, 0, -1):
                src = f"{self.path}.{i}"
                if os.path.exists(src):
                    os.replace(src, f"{self.path}.{i + 1}")
            os.replace(self.path, f"{self.path}.1")
        else:
            os.unlink(self.path)
        self._fh = open(self.path, "ab")
        self._size = 0

    def close(self) -> None:
        self._fh.close()


def utc_now() -> str:
    """Now in UTC, to the millisecond (the service layer reads the clock; the library never does)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


__all__ = ["DecisionLog", "DecisionLogError", "utc_now"]
