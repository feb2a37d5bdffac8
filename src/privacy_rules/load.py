"""First pipeline stage: YAML text -> plain Python data, with the source position of every value.

Rule files are untrusted input, so this module never lets PyYAML construct objects. PyYAML
only scans, parses and composes a node graph; :class:`_Builder` then turns the nodes into
``dict``/``list``/``str``/``int``/``float``/``bool``/``None`` itself, which means:

* no tag can run code or build a Python object: any tag outside the YAML core schema
  (``!!python/...``, ``!include``, ``!!timestamp``, ``!!set`` ...) is PR004;
* scalars follow the YAML 1.2 core schema, not PyYAML's YAML 1.1 one: only ``true``/``false``
  are booleans (``NO``, the country code of Norway, stays ``"NO"``; ``yes``/``on`` stay
  strings), dates stay strings (``2023-07-10`` is checked by the validator, not by YAML),
  ``010`` is ten rather than octal eight, and ``10:30`` stays a string rather than the
  sexagesimal ``630``;
* a duplicate key is an error (PR006) instead of PyYAML's silent last-one-wins;
* keys must be strings (PR007);
* an integer has at most 4,300 decimal digits however it is written (hex and octal too), so
  every later stage can print it; a lone UTF-16 surrogate is no character (both PR003);
* alias uses, nesting depth and the number of values after expanding aliases are bounded
  (PR005), so a "billion laughs" file fails fast instead of eating memory.

Public API: :func:`load_yaml_text`, :func:`load_yaml_file` and :class:`LoadedYaml`.
Everything here is pure apart from :func:`load_yaml_file` reading its one file, and holds no
state between calls, so it is thread-safe.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping, Protocol, Sequence

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, Event
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

# libyaml's parser when PyYAML was built with it (the PyPI wheels are); None for pure-Python PyYAML.
# Typed Any: a C extension class, used only as a base class below.
_CParser: Any
try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - pure-Python PyYAML
    _CParser = None

from privacy_rules.errors import PackError
from privacy_rules.model import Diagnostic, Severity, Span

__all__ = ["LoadedYaml", "load_yaml_text", "load_yaml_file", "load_yaml_bytes", "read_yaml_bytes", "inside"]

DEFAULT_MAX_BYTES = 2_000_000
DEFAULT_MAX_ALIASES = 100
DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_NODES = 200_000

PathKey = tuple["str | int", ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedYaml:
    """One YAML file as plain data, plus where each value stands in the file.

    ``data`` is built from ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and
    ``None`` only (aliases are expanded into independent copies).

    ``spans`` maps the path of every value (the tuple of keys and list indices from the root;
    the root itself is ``()``) to a :class:`Span`:

    * for a mapping entry, the span starts at the entry's **key** and ends where its value
      ends, so ``spans[("rules", 0, "id")]`` points at the ``id`` key;
    * for a list item, the span is the item itself (after the ``- `` of a block list); an
      item written as an alias (``*name``) points at the alias, not at the anchor;
    * values inside an expanded alias point into the anchored original.

    ``end_line``/``end_col`` are where PyYAML ends the node (exclusive); for block collections
    that is usually the start of the next line.
    """

    path: str
    data: Any
    spans: Mapping[PathKey, Span]
    #: Hex SHA-256 of the exact bytes parsed (:func:`load_yaml_file`); empty for text given
    #: directly. Hashing these bytes rather than reading the file again means a pack's content
    #: hash covers what was checked, even if the file changes while it is loaded.
    sha256: str = ""

    def span_for(self, path: Sequence[str | int]) -> Span:
        """Span of the deepest prefix of ``path`` that exists; the root span at worst.

        Meant for errors found later at paths that may not exist, such as jsonschema's
        ``absolute_path`` for a missing required key: the span then points at the parent.
        """
        key = tuple(path)
        for end in range(len(key), -1, -1):
            span = self.spans.get(key[:end])
            if span is not None:
                return span
        # Unreachable for a LoadedYaml built here (the root span is always stored), but a
        # hand-built one may lack it; the file's start is the honest fallback.
        return Span(file=self.path, line=1, col=1)


def load_yaml_text(
    text: str,
    *,
    path: str,
    max_aliases: int = DEFAULT_MAX_ALIASES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> LoadedYaml:
    """LoadedYaml for one YAML document given as text; ``path`` names it in every Span.

    Pure. Raises :class:`PackError` (codes PR003-PR008) listing the problems found: syntax
    errors and exceeded limits stop at the first one, while forbidden tags, duplicate keys and
    non-string keys are all collected. Any ``str`` gives LoadedYaml or PackError, a lone UTF-16
    surrogate included (PR003 at its position). Raises ValueError if a limit is not a
    non-negative int.
    """
    for name, value in (("max_aliases", max_aliases), ("max_depth", max_depth), ("max_nodes", max_nodes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, not {value!r}")
    if not isinstance(text, str):
        raise TypeError(f"load_yaml_text takes the text as a str, not {type(text).__name__} "
                        "(use load_yaml_file for a file's bytes)")
    text = str.__str__(text)  # a str subclass could override what the parser calls
    if not text.isascii() and (found := _SURROGATE.search(text)) is not None:
        # libyaml encodes the text to UTF-8 before scanning, which raises UnicodeEncodeError on
        # a lone surrogate (text decoded with `surrogatepass`, or CESU-8). It is no character:
        # refuse it as the pure-Python reader refuses any other non-printable character.
        line, col = _text_position(text, found.start())
        raise PackError((_surrogate_error(Span(file=path, line=line, col=col), found.group()),))
    return _load(text, path, _Limits(max_aliases, max_depth, max_nodes))


def load_yaml_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    **limits: int,
) -> LoadedYaml:
    """LoadedYaml for the YAML file at ``path`` (UTF-8, a single document).

    ``limits`` are the keyword arguments of :func:`load_yaml_text`. Spans name the file by
    ``os.fspath(path)``, as given. Reads the file and nothing else. Raises :class:`PackError`
    with PR001 (missing, unreadable, not a regular file or not UTF-8), PR002 (more than
    ``max_bytes`` bytes) or any code of :func:`load_yaml_text`.
    """
    name = os.fspath(path)
    return load_yaml_bytes(read_yaml_bytes(name, max_bytes=max_bytes), path=name, **limits)


def read_yaml_bytes(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of the file at ``path``, as :func:`load_yaml_file` reads them (PR001, PR002)."""
    return _read_bytes(os.fspath(path), max_bytes)


def load_yaml_bytes(raw: bytes, *, path: str, **limits: int) -> LoadedYaml:
    """LoadedYaml for a file's bytes (UTF-8, a BOM dropped); ``path`` names it in every Span.

    Raises PackError: PR001 when the bytes are not UTF-8, or any code of :func:`load_yaml_text`.
    ``sha256`` of the result is the hash of ``raw``.
    """
    name = path
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _byte_position(raw, exc.start)
        raise PackError((_error(
            "PR001",
            f"file is not UTF-8 text (byte `0x{raw[exc.start]:02x}`)",
            Span(file=name, line=line, col=col),
            help="save the file with UTF-8 encoding",
        ),)) from None
    # A BOM is not content; dropping it keeps columns on line 1 right.
    text = text.removeprefix("\ufeff")
    loaded = load_yaml_text(text, path=name, **limits)
    return dataclasses.replace(loaded, sha256=hashlib.sha256(raw).hexdigest())


def inside(folder: str | os.PathLike[str], target: str | os.PathLike[str]) -> bool:
    """True when ``target``, with every symbolic link resolved, lies inside ``folder``.

    False for a path that cannot be resolved (a link loop) or lies on another drive. Pack
    files (rule files, scenario files) must pass this before they are read (PR009).
    """
    try:
        Path(target).resolve().relative_to(Path(folder).resolve())
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a link loop (Python < 3.13)
        return False
    return True


# --- reading -------------------------------------------------------------------------------


def _read_bytes(name: str, max_bytes: int) -> bytes:
    """Bytes of the file, never more than ``max_bytes + 1`` read; raises PackError PR001/PR002."""
    try:
        # O_NONBLOCK: a plain open() of a FIFO blocks until a writer appears, before any check
        # could run; with it the open returns at once and fstat below refuses the FIFO.
        # O_NOCTTY: opening a terminal device must not make it our controlling terminal.
        fd = os.open(name, os.O_RDONLY | _O_NONBLOCK | _O_NOCTTY | _O_BINARY)
    except FileNotFoundError:
        raise PackError((_cannot_read(name, "no such file"),)) from None
    except IsADirectoryError:
        raise PackError((_cannot_read(name, "it is a directory"),)) from None
    except PermissionError:
        raise PackError((_cannot_read(name, "permission denied"),)) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = (getattr(exc, "strerror", None) or type(exc).__name__).lower()
        raise PackError((_cannot_read(name, reason),)) from None
    try:
        info = os.fstat(fd)
        # A FIFO, socket or device could block or never end; pack files are regular files.
        if stat.S_ISDIR(info.st_mode):
            raise PackError((_cannot_read(name, "it is a directory"),))
        if not stat.S_ISREG(info.st_mode):
            raise PackError((_cannot_read(name, "not a regular file"),))
        if _O_NONBLOCK:
            os.set_blocking(fd, True)  # a regular file: reads never block, but say what we mean
        with os.fdopen(fd, "rb", closefd=True) as handle:
            fd = -1  # the handle owns it now
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise PackError((_cannot_read(name, reason),)) from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(raw) > max_bytes:
        size = max(info.st_size, len(raw))
        raise PackError((_error(
            "PR002",
            f"file is {size} bytes, more than the limit of {max_bytes}",
            Span(file=name, line=1, col=1),
            help="split the rules over several files listed in `pack.yaml`",
        ),))
    return raw


_O_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)  # POSIX only; Windows has no FIFOs to open by name
_O_NOCTTY: int = getattr(os, "O_NOCTTY", 0)
_O_BINARY: int = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def _cannot_read(name: str, reason: str) -> Diagnostic:
    # No span: there is no position to point at in a file that cannot be opened.
    return _error(
        "PR001",
        f"cannot read `{name}`: {reason}",
        None,
        help="check the path (relative paths in `pack.yaml` start at the pack folder) and the file permissions",
    )


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte ``offset``."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    col = len(raw[line_start:offset].decode("utf-8", errors="replace")) + 1
    return raw.count(b"\n", 0, offset) + 1, col


# --- the loader ----------------------------------------------------------------------------

_CORE = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_CORE + t for t in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP = _CORE + "seq", _CORE + "map"

# YAML 1.2 core schema (spec 1.2.2, 10.3.2). Anchored at both ends: Resolver uses re.match.
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")
_INT_RE = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_RE = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_DIGITS = list("0123456789")
# The YAML core schema's tags; anything else (!!python/..., !!timestamp, !!set, !include) is PR004.
_ALLOWED_TAGS: Mapping[type, frozenset[str]] = MappingProxyType({
    ScalarNode: frozenset({_STR, _INT, _FLOAT, _BOOL, _NULL}),
    SequenceNode: frozenset({_SEQ}),
    MappingNode: frozenset({_MAP}),
})
# What an explicitly tagged scalar must look like; implicit ones matched these to get their tag.
_SCALAR_PATTERNS: Mapping[str, re.Pattern[str] | None] = MappingProxyType({
    _STR: None, _BOOL: _BOOL_RE, _NULL: _NULL_RE, _INT: _INT_RE, _FLOAT: _FLOAT_RE,
})


class _Mark(Protocol):
    """A 0-based source position as PyYAML (yaml.Mark) or libyaml (yaml._yaml.Mark) reports it."""

    @property
    def line(self) -> int: ...

    @property
    def column(self) -> int: ...


class _Bounded(Composer):
    """The composing step with limits: aliases, depth and node count are counted as nodes are
    composed, before any alias is expanded, so a bomb stops while its text is parsed."""

    if TYPE_CHECKING:  # provided by the parser each loader mixes in (PyYAML's Parser or libyaml's CParser)
        def peek_event(self) -> Event: ...

    def _start_limits(self, limits: "_Limits") -> None:
        self._limits = limits
        self._aliases = 0
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if self._aliases > self._limits.max_aliases:
                raise _LimitExceeded(
                    f"more than {self._limits.max_aliases} aliases",
                    event.start_mark,
                    "write the repeated values out; a cap on aliases guards against alias bombs",
                )
            target = super().compose_node(parent, index)  # raises on an undefined alias
            if target is None:  # PyYAML never returns None for an alias; its type stubs allow it
                raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}", None)
            # Keep where the alias itself is written, so its path gets that span.
            return _AliasNode(target, event.anchor or "", event.start_mark, event.end_mark)
        self._nodes += 1
        if self._nodes > self._limits.max_nodes:
            raise _LimitExceeded(*_too_many_nodes(self._limits, event.start_mark))
        self._depth += 1
        try:
            # The composer recurses once per level: this cap also keeps it far from RecursionError.
            if self._depth > self._limits.max_depth:
                raise _LimitExceeded(*_too_deep(self._limits, event.start_mark))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _RuleLoader(_Bounded, yaml.SafeLoader):
    """SafeLoader whose resolver knows the YAML 1.2 core scalars only, and that bounds composing.

    Only the Reader/Scanner/Parser/Composer/Resolver parts are used; construction is done by
    :class:`_Builder`, so SafeConstructor's YAML 1.1 rules (yes/no booleans, timestamps,
    merge keys) never run. Defining ``yaml_implicit_resolvers`` in this class body gives the
    class its own table: ``yaml.SafeLoader`` is left untouched (no global state, STYLE 9).
    Leaving out PyYAML's ``merge`` and ``value`` resolvers makes ``<<`` and ``=`` plain strings.
    """

    yaml_implicit_resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}

    def __init__(self, text: str, limits: "_Limits") -> None:
        yaml.SafeLoader.__init__(self, text)
        self._start_limits(limits)


for _tag, _regexp, _first in (
    (_BOOL, _BOOL_RE, list("tTfF")),
    (_NULL, _NULL_RE, ["~", "n", "N", ""]),
    # int before float: "1" matches both and is an int.
    (_INT, _INT_RE, ["-", "+"] + _DIGITS),
    (_FLOAT, _FLOAT_RE, ["-", "+", "."] + _DIGITS),
):
    _RuleLoader.add_implicit_resolver(_tag, _regexp, _first)
del _tag, _regexp, _first


if _CParser is not None:

    class _CRuleLoader(_Bounded, _CParser, Resolver):  # type: ignore[misc]  # a base of type Any (C class)
        """The same loader with libyaml's scanner and parser (about 10x faster on rule files).

        Composing stays in Python (``_Bounded`` comes before the C parser in the MRO), so the
        limits and the resolver table are exactly those of ``_RuleLoader``.
        """

        yaml_implicit_resolvers = _RuleLoader.yaml_implicit_resolvers

        def __init__(self, text: str, limits: "_Limits") -> None:
            _CParser.__init__(self, text)
            Composer.__init__(self)
            Resolver.__init__(self)
            self._start_limits(limits)


class _AliasNode(Node):
    """Stands where ``*anchor`` is written; ``target`` is the anchored node (shared).

    A Node only so that it can stand in the composed tree; the builder always unwraps it
    (``_Builder._unalias``) before looking at a tag or a value.
    """

    def __init__(self, target: Node, anchor: str, start_mark: _Mark | None, end_mark: _Mark | None) -> None:
        super().__init__(target.tag, target.value, None, None)
        self.start_mark, self.end_mark = start_mark, end_mark
        self.target, self.anchor = target, anchor


@dataclass(frozen=True, slots=True)
class _Limits:
    max_aliases: int
    max_depth: int
    max_nodes: int


class _LimitExceeded(Exception):
    """Internal: a PR005 limit was hit; the load stops at once."""

    def __init__(self, message: str, mark: _Mark | None, help: str) -> None:
        super().__init__(message)
        self.message, self.mark, self.help = message, mark, help


def _too_deep(limits: _Limits, mark: _Mark | None) -> tuple[str, _Mark | None, str]:
    return (f"values nested more than {limits.max_depth} levels deep", mark,
            "flatten the structure; rule files never need this much nesting")


def _too_many_nodes(limits: _Limits, mark: _Mark | None) -> tuple[str, _Mark | None, str]:
    return (f"more than {limits.max_nodes} values (counting each alias expanded)", mark,
            "split the file, or write fewer aliases to large anchored values")


def _load(text: str, path: str, limits: _Limits) -> LoadedYaml:
    try:
        loader = (_CRuleLoader if _CParser is not None else _RuleLoader)(text, limits)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except _LimitExceeded as exc:
        raise PackError((_error("PR005", exc.message, _mark_span(path, exc.mark), help=exc.help),)) from None
    except yaml.MarkedYAMLError as exc:
        raise PackError((_syntax_error(path, exc),)) from None
    except yaml.reader.ReaderError as exc:
        raise PackError((_reader_error(path, text, exc),)) from None
    except yaml.YAMLError as exc:  # no other kind is known; keep the promise of raising PackError
        raise PackError((_error("PR003", _sentence(str(exc)), Span(file=path, line=1, col=1),
                                help="check the YAML syntax"),)) from None

    if root is None or (isinstance(root, ScalarNode) and root.tag == _NULL and root.value == "" and not root.style):
        # Nothing but comments, blank lines or a bare `---`.
        raise PackError((_error("PR008", "file is empty", Span(file=path, line=1, col=1),
                                help="write the file's content, or remove the file and its entry in `pack.yaml`"),))

    builder = _Builder(path, limits)
    try:
        data = builder.build(root, (), builder.span(root.start_mark, root.end_mark), 1)
    except _LimitExceeded as exc:
        raise PackError((_error("PR005", exc.message, _mark_span(path, exc.mark), help=exc.help),)) from None
    if builder.problems:
        raise PackError(builder.problems)
    return LoadedYaml(path=path, data=data, spans=MappingProxyType(builder.spans))


class _Builder:
    """Turns composed nodes into plain data and spans; collects PR003/PR004/PR006/PR007."""

    def __init__(self, path: str, limits: _Limits) -> None:
        self.path = path
        self.limits = limits
        self.spans: dict[PathKey, Span] = {}
        self.problems: list[Diagnostic] = []
        self._count = 0
        self._expanding: set[int] = set()  # ids of anchored nodes being expanded: a cycle check
        self._via: list[_Mark | None] = []  # where the aliases being expanded are written, outermost first

    def span(self, start: _Mark | None, end: _Mark | None) -> Span:
        begin = _mark_span(self.path, start)
        if end is None:
            return begin
        return Span(file=self.path, line=begin.line, col=begin.col, end_line=end.line + 1, end_col=end.column + 1)

    def build(self, node: Node | _AliasNode, path: PathKey, span: Span, depth: int) -> Any:
        """Plain value of ``node`` at ``path``; records ``span`` for ``path`` and spans below it."""
        self.spans[path] = span
        if isinstance(node, _AliasNode):
            target = self._unalias(node)
            self._via.append(node.start_mark)
            try:
                return self._build_node(target, path, depth)
            finally:
                self._via.pop()
        return self._build_node(node, path, depth)

    def _build_node(self, node: Node, path: PathKey, depth: int) -> Any:
        self._count_node(node, depth)
        if not self._tag_allowed(node):
            return None
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        self._expanding.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [
                    self.build(item, path + (index,), self.span(item.start_mark, item.end_mark), depth + 1)
                    for index, item in enumerate(node.value)
                ]
            if isinstance(node, MappingNode):
                return self._mapping(node, path, depth)
            raise TypeError(f"unknown YAML node {type(node).__name__}")  # the composer makes no other kind
        finally:
            self._expanding.discard(id(node))

    def _mapping(self, node: MappingNode, path: PathKey, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, depth + 1)
            if key is None:
                continue
            entry = self.span(key_node.start_mark, value_node.end_mark)
            if key in first_line:
                self.problems.append(_error(
                    "PR006", f"duplicate key {_show(key)}", entry,
                    help=f"keep one of them; the first {_show(key)} is on line {first_line[key]}",
                ))
                continue
            first_line[key] = entry.line
            out[key] = self.build(value_node, path + (key,), entry, depth + 1)
        return out

    def _key(self, key_node: Node | _AliasNode, depth: int) -> str | None:
        """The key as a string, or None after recording why it cannot be one."""
        where = self.span(key_node.start_mark, key_node.end_mark)
        node = self._unalias(key_node)
        self._count_node(node, depth)
        if not self._tag_allowed(node, where):
            return None
        if not isinstance(node, ScalarNode):
            kind = "a list" if isinstance(node, SequenceNode) else "a mapping"
            self.problems.append(_error("PR007", f"a key must be a string, not {kind}", where,
                                        help="use a plain word as the key"))
            return None
        if node.tag != _STR:
            shown = node.value if node.value else "null"
            self.problems.append(_error(
                "PR007", f"key {_show(shown)} is not a string", where,
                help=f"quote the key if it is meant as text: `\"{shown}\":`",
            ))
            return None
        if node.value == "<<" and not node.style:  # plain: None from PyYAML, "" from libyaml
            # YAML 1.1 merge keys are not part of YAML 1.2; silently keeping `<<` as a key
            # would hide that the merge the author meant did not happen.
            self.problems.append(_error(
                "PR004", "merge key `<<` is not supported", where,
                help="write the keys out in full (an alias to a whole value still works)",
            ))
            return None
        key: str = node.value  # a scalar tagged !!str holds text
        return key

    def _unalias(self, node: Node | _AliasNode) -> Node:
        if isinstance(node, _AliasNode):
            if id(node.target) in self._expanding:
                raise _LimitExceeded(
                    f"alias `*{node.anchor}` is inside the value it refers to", node.start_mark,
                    "an alias cannot point to a value that contains it; write the value out",
                )
            return node.target
        return node

    def _count_node(self, node: Node, depth: int) -> None:
        # Counted after expanding aliases: ~10 levels of 10 aliases each stays under the
        # alias cap yet expands to 10**10 values, so the expanded count is what bounds memory.
        # Blame the outermost alias being expanded: that is the line the author must change.
        mark = self._via[0] if self._via else node.start_mark
        self._count += 1
        if self._count > self.limits.max_nodes:
            raise _LimitExceeded(*_too_many_nodes(self.limits, mark))
        # Aliases can stack anchored values deeper than the text nests, so check again here.
        if depth > self.limits.max_depth:
            raise _LimitExceeded(*_too_deep(self.limits, mark))

    def _tag_allowed(self, node: Node, where: Span | None = None) -> bool:
        if node.tag in _ALLOWED_TAGS[type(node)]:
            return True
        self.problems.append(_error(
            "PR004", f"tag {_show(_short_tag(node.tag))} is not allowed",
            where or self.span(node.start_mark, node.end_mark),
            help="rule files are plain data: remove the tag, and quote the value if it is meant as text",
        ))
        return False

    def _scalar(self, node: ScalarNode) -> Any:
        value, tag = node.value, node.tag
        # Implicit scalars were resolved by the regexes above; explicit tags (`!!int 5`) must
        # still match them, so `!!bool yes` cannot sneak YAML 1.1 booleans back in.
        pattern = _SCALAR_PATTERNS[tag]
        if pattern is not None and not pattern.match(value):
            self._bad_scalar(node, f"{_show(value)} is not a valid `{_short_tag(tag)}` value",
                             f"fix the value or remove the `{_short_tag(tag)}` tag")
            return None
        if tag == _STR:
            if not value.isascii() and (found := _SURROGATE.search(value)) is not None:
                # only the pure-Python parser lets a `"\ud800"` escape through; libyaml refuses it
                self.problems.append(_surrogate_error(self.span(node.start_mark, node.end_mark), found.group()))
                return None
            return value
        if tag == _BOOL:
            return value.lower() == "true"
        if tag == _NULL:
            return None
        if tag == _INT:
            number = _to_int(value)
            if number is None:
                self._bad_scalar(node, f"number {_show(value)} has more than {_max_int_digits()} digits",
                                 "no rule, pack, scenario or profile needs a number this large; "
                                 "quote it if it is meant as text")
            return number
        return _to_float(value)

    def _bad_scalar(self, node: ScalarNode, message: str, help: str) -> None:
        self.problems.append(_error("PR003", message, self.span(node.start_mark, node.end_mark), help=help))


#: The most decimal digits an integer in a YAML file may have, in whatever form it is written.
#: Python's own limit for int <-> str conversion (sys.get_int_max_str_digits(), 4,300 by
#: default): a larger int loads from hex or octal (power-of-two bases are exempt), and then
#: every later str(), repr(), jsonschema message or JSON output of it raises ValueError.
MAX_INT_DIGITS = 4300


def _max_int_digits() -> int:
    # A host may lower the interpreter's limit (never below 640); an int must stay printable under it.
    limit = sys.get_int_max_str_digits()
    return min(MAX_INT_DIGITS, limit) if limit else MAX_INT_DIGITS


def _to_int(value: str) -> int | None:
    """The int a core-schema int scalar (already matched by _INT_RE) stands for, or None when its
    decimal form has more than _max_int_digits() digits, however it is written."""
    digits = _max_int_digits()
    if value.startswith("0o") or value.startswith("0x"):
        number = int(value[2:], 8 if value[1] == "o" else 16)  # linear time: power-of-two base
        # certainly below 10**digits when it has at most 3 bits a digit (log2(10) = 3.32...)
        if number.bit_length() > 3 * digits and number >= 10**digits:
            return None
        return number
    # Counted before int(): decimal conversion takes quadratic time, and Python's own limit
    # may be switched off (set_int_max_str_digits(0)).
    significant = value.lstrip("+-").lstrip("0")
    if len(significant) > digits:
        return None
    # leading zeros left out: int() counts them against Python's limit, `010` is still ten
    return int((value[0] if value[0] in "+-" else "") + (significant or "0"), 10)


def _to_float(value: str) -> float:
    lowered = value.lower()
    if lowered.endswith(".inf"):
        return float("-inf") if value.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    return float(value)


# --- diagnostics ---------------------------------------------------------------------------


def _error(code: str, message: str, span: Span | None, *, help: str) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.ERROR, message=message, span=span, help=help)


def _mark_span(path: str, mark: _Mark | None) -> Span:
    if mark is None:  # PyYAML always sets marks on what it parses; a missing one points at the start
        return Span(file=path, line=1, col=1)
    return Span(file=path, line=mark.line + 1, col=mark.column + 1)


def _show(value: str) -> str:
    """A user value in backticks, shortened so one bad line cannot flood the output."""
    text = value if len(value) <= 60 else value[:57] + "..."
    return f"`{text}`"


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def _sentence(text: str) -> str:
    """PyYAML's wording in message style: one line, lowercase start, no final period."""
    text = " ".join(text.split()).rstrip(".")
    return text[:1].lower() + text[1:]


def _syntax_error(path: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    span = _mark_span(path, mark) if mark is not None else Span(file=path, line=1, col=1)
    context = _sentence(exc.context or "")
    problem = _sentence(exc.problem or "")
    help = "check the YAML syntax here: indentation, a missing `:`, or an unclosed quote or bracket"
    # A few composer errors read badly in PyYAML's words; say them plainly.
    if (found := re.fullmatch(r"found undefined alias '(.*)'", problem)) is not None:
        message = f"alias `*{found[1]}` refers to no anchor"
        help = f"define the value with `&{found[1]}` before this alias, or fix the name"
    elif (found := re.match(r"found duplicate anchor '(.*)'", context)) is not None:
        first = f" (first defined on line {exc.context_mark.line + 1})" if exc.context_mark else ""
        message = f"duplicate anchor `&{found[1]}`{first}"
        help = "give each anchor its own name"
    elif "single document" in context:
        message = "more than one document in the file"
        help = "a rule file holds one document: remove the extra `---` or split the file"
    else:
        message = _backticks(problem) or _backticks(context) or "invalid YAML"
        if problem and context and exc.context_mark is not None:
            message += f" ({_backticks(context)} on line {exc.context_mark.line + 1})"
        if "\\t" in problem:
            help = "indent with spaces; YAML does not allow tabs for indentation"
        elif "mapping values are not allowed" in problem:
            help = "quote the value if it contains `: `, or fix the indentation of the line"
    return _error("PR003", message, span, help=help)


def _backticks(text: str) -> str:
    """PyYAML's 'quoted' values in the backticks of our message style."""
    return re.sub(r"'([^']*)'", r"`\1`", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _surrogate_error(span: Span, char: str) -> Diagnostic:
    return _error(
        "PR003", f"lone surrogate `U+{ord(char):04X}` is not a character",
        span,
        help="save the file as UTF-8 text: a UTF-16 surrogate without its pair (e.g. from CESU-8 or a `\\ud800` "
             "escape) cannot be read or printed",
    )


def _reader_error(path: str, text: str, exc: yaml.reader.ReaderError) -> Diagnostic:
    line, col = _text_position(text, exc.position)
    char = exc.character if isinstance(exc.character, str) else chr(exc.character)
    return _error(
        "PR003", f"character `U+{ord(char):04X}` is not allowed in YAML",
        Span(file=path, line=line, col=col),
        help="remove the control character; YAML allows printable characters, tabs and line breaks",
    )


_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def _text_position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of character ``offset``, counting line breaks as YAML does."""
    line, line_start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, offset):
        line, line_start = line + 1, match.end()
    return line, offset - line_start + 1

