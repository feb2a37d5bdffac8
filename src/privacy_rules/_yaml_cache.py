"""A disk cache of YAML files that loaded and passed their schema, keyed by content (issue 12).

Loading a pack is mostly YAML composition with the source position of every value (~70% of
``load_pack``) and JSON Schema validation (~15%). Both are pure functions of a file's bytes,
the loader's limits, and this library's loader and schemas. So the plain data and positions of
a file that loaded cleanly and passed its schema are kept as JSON, named by the SHA-256 of all
of those; the next load of the same bytes reads that entry instead (~10x faster), and a fresh
interpreter need not import jsonschema at all.

What is never cached: a file with any problem (it is loaded and reported afresh every time, so
every diagnostic keeps its full path), and anything derived from more than one file (the
semantic checks, the Pack, the compiled policy: cheap, and they depend on the whole pack).

Where: ``$PRIVACY_RULES_CACHE_DIR`` if set (``off`` or empty turns the cache off), else
``$XDG_CACHE_HOME/privacy-rules`` or ``~/.cache/privacy-rules``. The cache is best effort: a
directory that cannot be made or written, or an entry that cannot be read or has not the
expected shape, is passed over silently and the file is loaded from its bytes.

Trust: entries are JSON, never pickle, so a cache entry can at worst carry wrong data, never
run code; the directory is created private to the user (0o700). Whoever can write there can
also edit the user's packs and installed packages, so the cache adds no new way in.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Mapping

from .load import LoadedYaml, PathKey, load_yaml_bytes, read_yaml_bytes
from .model import Diagnostic, Span

__all__ = ["cache_dir", "load_checked", "remember"]

#: Entries kept; the oldest (by modification time) go when a write finds more.
MAX_ENTRIES = 256
_FORMAT = b"privacy-rules yaml cache 1\n"
# The modules whose code decides what a file loads to and whether it passes its schema: a
# change to any of them must not be answered from an entry the old code wrote.
_FINGERPRINT_MODULES = ("load.py", "validate/schema.py", "validate/_schema_fast.py", "validate/_chars.py")


def cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """The cache directory, or None when the cache is off (``PRIVACY_RULES_CACHE_DIR=off``)."""
    env = os.environ if environ is None else environ
    chosen = env.get("PRIVACY_RULES_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip() in ("", "off") else Path(chosen)
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "privacy-rules"


@lru_cache(maxsize=None)
def _fingerprint(schema_name: str) -> bytes:
    # Per process: the package's own files do not change while it runs (a reinstall means a
    # new process); the schema text and the loader's code both go in.
    digest = hashlib.sha256(_FORMAT)
    root = Path(__file__).parent
    for rel in _FINGERPRINT_MODULES:
        digest.update(rel.encode() + b"\0" + (root / rel).read_bytes())
    digest.update(resources.files("privacy_rules").joinpath("schemas", schema_name).read_bytes())
    import yaml  # already imported by .load; its version decides what the scanner accepts
    digest.update(f"\0{yaml.__version__}\0{schema_name}".encode())
    return digest.digest()


class _Spans(Mapping[PathKey, Span]):
    """LoadedYaml.spans read from an entry: a Span is built only when one is looked up (a pack
    without problems looks up a few dozen of its thousands of positions)."""

    __slots__ = ("_file", "_raw")

    def __init__(self, file: str, raw: dict[PathKey, tuple[int, int, int | None, int | None]]) -> None:
        self._file, self._raw = file, raw

    def __getitem__(self, key: PathKey) -> Span:
        line, col, end_line, end_col = self._raw[key]
        return Span(file=self._file, line=line, col=col, end_line=end_line, end_col=end_col)

    def __iter__(self) -> Iterator[PathKey]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def load_checked(path: str, schema_name: str, *, directory: Path | None = None,
                 use_cache: bool = True) -> tuple[LoadedYaml, tuple[Diagnostic, ...] | None]:
    """(the file at ``path`` loaded, its schema problems or None when not checked yet).

    The second value is ``()`` when the cache vouches that the file passed ``schema_name``,
    and None when the caller must run the schema check (then :func:`remember` the result).
    Raises PackError as :func:`privacy_rules.load.load_yaml_file` does.
    """
    raw = read_yaml_bytes(path)
    where = cache_dir() if directory is None else directory
    if not use_cache or where is None:
        return load_yaml_bytes(raw, path=path), None
    key = hashlib.sha256(_fingerprint(schema_name) + hashlib.sha256(raw).digest()).hexdigest()
    entry = _read_entry(where / f"{key}.json")
    if entry is not None:
        data, spans = entry
        return LoadedYaml(path=path, data=data, spans=_Spans(path, spans),
                          sha256=hashlib.sha256(raw).hexdigest()), ()
    return load_yaml_bytes(raw, path=path), None


def remember(loaded: LoadedYaml, schema_name: str, *, directory: Path | None = None) -> None:
    """Keep ``loaded`` (which passed ``schema_name`` with no problem) for the next load."""
    where = cache_dir() if directory is None else directory
    if where is None or not loaded.sha256:
        return
    key = hashlib.sha256(_fingerprint(schema_name) + bytes.fromhex(loaded.sha256)).hexdigest()
    spans = [[list(k), s.line, s.col, s.end_line, s.end_col] for k, s in loaded.spans.items()]
    text = json.dumps({"data": loaded.data, "spans": spans}, ensure_ascii=False, separators=(",", ":"))
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=where, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, where / f"{key}.json")  # atomic: a reader sees all of it or nothing
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(where)
    except OSError:
        pass  # best effort: a read-only home or a full disk only costs the next load its time


def _read_entry(file: Path) -> tuple[Any, dict[PathKey, tuple[int, int, int | None, int | None]]] | None:
    try:
        with open(file, "rb") as fh:
            entry = json.loads(fh.read())
        data, rows = entry["data"], entry["spans"]
        spans: dict[PathKey, tuple[int, int, int | None, int | None]] = {}
        for path, line, col, end_line, end_col in rows:
            spans[tuple(path)] = (line, col, end_line, end_col)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, unreadable, or not what remember() writes: load from the bytes
    if () not in spans:
        return None
    return data, spans


def _prune(where: Path) -> None:
    entries = [e for e in os.scandir(where) if e.name.endswith(".json") and not e.name.startswith(".")]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda e: e.stat().st_mtime)
    for e in entries[: len(entries) - MAX_ENTRIES]:
        try:
            os.unlink(e.path)
        except OSError:
            pass
