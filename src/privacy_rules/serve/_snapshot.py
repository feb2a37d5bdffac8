"""The pack being served: a compiled Policy with its mapping profiles, swapped whole on reload.

A :class:`Snapshot` is immutable: a request takes the current one when it starts and decides
on it to the end, so a reload never changes a request half way (every decision names the pack
hash that made it). :class:`PackHolder` builds a new snapshot from disk, and swaps it in only
when the pack (and every profile) checked clean; otherwise the old one keeps serving and
``status`` says why.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from ..errors import PackError
from ..model import Severity
from ..pack import read_pack
from ..policy import Policy, compile_pack

log = logging.getLogger("privacy_rules.serve")

#: files the fingerprint looks at, at most; a pack folder is a handful of YAML files
_MAX_FILES = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """One loaded pack: the policy, its profiles by name, and what /v1/pack shows."""

    policy: Policy
    profiles: Mapping[str, Any]
    info: Mapping[str, Any]
    ref: Mapping[str, str]  # id, version, hash: named on every answer
    fingerprint: tuple[tuple[str, int, int], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Status:
    """The last reload: ``ok`` and, when it failed, why (diagnostics as CI lines)."""

    ok: bool
    reason: str | None = None
    diagnostics: tuple[str, ...] = ()
    at: float = field(default_factory=time.time)


def fingerprint(root: str) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime_ns, size) of every file under the pack folder (hidden ones left out): a
    change to any of them, or a new or removed file, changes the fingerprint."""
    folder = root if os.path.isdir(root) else os.path.dirname(root) or "."
    out: list[tuple[str, int, int]] = []
    for dirpath, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or len(out) >= _MAX_FILES:
                continue
            path = os.path.join(dirpath, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            out.append((path, st.st_mtime_ns, st.st_size))
    return tuple(out)


def build_snapshot(pack_path: str, profile_specs: tuple[str, ...], lang: str,
                   recipient_facts: str | None = None) -> Snapshot:
    """The pack at ``pack_path`` loaded, checked and compiled, with its profiles checked
    against it and the processor register ``recipient_facts`` (if any) in force. Raises
    PackError with every error (the pack's, then a profile's), RegisterError for a register
    that cannot be used."""
    fp = fingerprint(pack_path) + _file_stamp(recipient_facts)
    pack, diags = read_pack(pack_path, lint=False)
    if pack is None:
        raise PackError(tuple(d for d in diags if d.severity is Severity.ERROR) or diags)
    policy = compile_pack(pack, lang=lang)
    if recipient_facts is not None:
        from ..recipients import RecipientFactsError, load_recipient_register

        try:  # issue 11 item 4: the host's register overrides the pack's recipient facts
            policy = policy.with_register(load_recipient_register(recipient_facts))
        except RecipientFactsError as exc:
            raise RegisterError(f"recipient register `{recipient_facts}`: error {exc.code}: {exc}") from None
    profiles = _profiles(policy, profile_specs)
    meta = pack.meta
    ref = {"id": pack.id, "version": str(meta.get("version") or ""), "hash": pack.version}
    v = pack.vocabulary
    info = {
        **ref,
        "name": pack.name,
        "time_zone": str(meta.get("time_zone") or "UTC"),
        "default_scope": pack.default_scope,
        "standard_questions": [str(q) for q in policy.standard_questions],
        "question_sets": {name: [str(q) for q in qs] for name, qs in policy.question_sets.items()},
        "vocabulary": {
            "scopes": sorted(v.scopes), "purposes": sorted(v.purposes), "channels": sorted(v.channels),
            "recipients": sorted(v.recipients), "lawful_bases": sorted(v.lawful_bases),
            "windows": sorted(v.windows), "subject_categories": sorted(v.subject_categories),
            "data_categories": sorted(v.data_categories), "facts": sorted(v.facts or ()),
        },
        "profiles": sorted(profiles),
        "rules": len(pack.rules),
        # the file's name only: a client learns which register, not the server's folders
        "recipient_register": os.path.basename(recipient_facts) if recipient_facts else None,
    }
    return Snapshot(policy=policy, profiles=MappingProxyType(profiles), info=MappingProxyType(info),
                    ref=MappingProxyType(ref), fingerprint=fp)


class RegisterError(ValueError):
    """The processor register given with --recipient-facts cannot be read or used (PR345-PR347)."""


def _file_stamp(path: str | None) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime_ns, size) of one watched file outside the pack folder; a missing file is
    stamped too, so its return is noticed."""
    if path is None:
        return ()
    try:
        st = os.stat(path)
    except OSError:
        return ((path, -1, -1),)
    return ((path, st.st_mtime_ns, st.st_size),)


def _profiles(policy: Policy, specs: tuple[str, ...]) -> dict[str, Any]:
    """Profile name -> Profile: the bundled ones that fit the pack, and each one given (a
    bundled id, or a file named by its stem). A given profile that does not check is an error;
    a bundled one that does not fit this pack is left out (and logged)."""
    from ..mapping import bundled_profiles, load_profile

    out: dict[str, Any] = {}
    for pid in bundled_profiles():
        if pid in specs:
            continue
        try:
            out[pid] = load_profile(pid, pack=policy.pack)
        except PackError as exc:
            log.info("bundled profile `%s` does not fit the pack, left out: %s", pid, exc.diagnostics[0])
    for spec in specs:
        name = spec if spec in bundled_profiles() else os.path.splitext(os.path.basename(spec))[0]
        out[name] = load_profile(spec, pack=policy.pack)
    return out


class PackHolder:
    """The current Snapshot and the last reload's Status. ``reload`` may run in a worker
    thread while requests read ``current``: one reference swap, so readers see the old or the
    new snapshot, never a mix. Reloads themselves are serialised by a lock."""

    def __init__(self, pack_path: str, profile_specs: tuple[str, ...] = (), lang: str = "en",
                 recipient_facts: str | None = None) -> None:
        self.pack_path = pack_path
        self.profile_specs = profile_specs
        self.lang = lang
        self.recipient_facts = recipient_facts
        # raises PackError or RegisterError: nothing to serve
        self.current = build_snapshot(pack_path, profile_specs, lang, recipient_facts)
        self.status = Status(ok=True)
        self.reloads = {"ok": 0, "failed": 0}
        self._tried = self.current.fingerprint  # the files the last attempt saw
        self._lock = threading.Lock()

    def changed(self) -> bool:
        """True when the pack's files differ from what the last reload attempt read."""
        return self._fingerprint() != self._tried

    def _fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        return fingerprint(self.pack_path) + _file_stamp(self.recipient_facts)

    def reload(self, why: str) -> bool:
        """Build a new snapshot and swap it in; on any error keep the old one. Returns True when
        the new one is serving. Blocking (load, check, compile): call it from a worker thread."""
        with self._lock:
            self._tried = self._fingerprint()
            old = self.current.ref
            try:
                snap = build_snapshot(self.pack_path, self.profile_specs, self.lang, self.recipient_facts)
            except RegisterError as exc:
                self._failed(why, f"{exc}; still serving {old['id']} {old['version']} ({old['hash']}) with the "
                                  "register it was loaded with", ())
                return False
            except PackError as exc:
                lines = tuple(str(d) for d in exc.diagnostics)
                self._failed(why, f"the pack on disk does not check ({len(lines)} error(s)); still serving "
                                  f"{old['id']} {old['version']} ({old['hash']})", lines)
                return False
            except Exception as exc:  # noqa: BLE001 - an unreadable folder, a bug: the old pack keeps serving
                self._failed(why, f"the pack on disk could not be loaded ({type(exc).__name__}: {exc}); still "
                                  f"serving {old['id']} {old['version']} ({old['hash']})", ())
                log.exception("reload failed")
                return False
            self.current = snap
            self.status = Status(ok=True)
            self.reloads["ok"] += 1
            new = snap.ref
            log.info("reloaded the pack (%s): %s %s (%s), was %s", why, new["id"], new["version"], new["hash"],
                     old["hash"])
            return True

    def _failed(self, why: str, reason: str, lines: tuple[str, ...]) -> None:
        self.status = Status(ok=False, reason=reason, diagnostics=lines)
        self.reloads["failed"] += 1
        log.error("reload failed (%s): %s", why, reason)
        for line in lines:
            log.error("  %s", line)


__all__ = ["PackHolder", "RegisterError", "Snapshot", "Status", "build_snapshot", "fingerprint"]
