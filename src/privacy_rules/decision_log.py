"""The decision log's format, and the auditor's query over it (docs/serve.md, "Decision log").

``privacy-rules serve --decision-log FILE`` writes one JSON line per answer (privacy_rules.serve
writes; this module defines and reads). A line holds no value of the record: its id appears
only as ``record``, HMAC-SHA256(key, id) in hex, so only whoever holds the key can find a
record's lines, by computing the same HMAC. Pure functions; no clock, no global state.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import IO, Any, Iterable, Iterator

#: the members of every line (``input`` too when full inputs were asked for)
ENTRY_FIELDS = ("time", "request_id", "endpoint", "pack_id", "pack_version", "pack_hash", "as_of", "question",
                "outcome", "decisive_rule", "keep_until", "record")


def pseudonym(key: bytes, record_id: str | None) -> str | None:
    """HMAC-SHA256 of the record id (UTF-8) under ``key``, in hex; None when there is no id."""
    if record_id is None:
        return None
    return hmac.new(key, record_id.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def find(streams: Iterable[IO[str]], key: bytes, record_id: str, *, as_of: str | None = None,
         question: str | None = None, outcome: str | None = None) -> Iterator[dict[str, Any]]:
    """The lines about ``record_id`` (optionally on day ``as_of``, for ``question`` (its text, e.g.
    ``keep:relationship_record``), with ``outcome``), in file order. A line that is not JSON is
    skipped (a log cut short by a crash ends in half a line)."""
    want = pseudonym(key, record_id) or ""
    for fh in streams:
        for line in fh:
            if want not in line:  # cheap pre-filter: the hex digest appears verbatim
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict) or entry.get("record") != want:
                continue
            if as_of is not None and entry.get("as_of") != as_of:
                continue
            if question is not None and entry.get("question") != question:
                continue
            if outcome is not None and entry.get("outcome") != outcome:
                continue
            yield entry


__all__ = ["ENTRY_FIELDS", "find", "pseudonym"]
