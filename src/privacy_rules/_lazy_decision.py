"""A Decision whose explanation is built on first access (issue 12).

``Policy.decide`` / ``decide_all`` return a :class:`LazyDecision`: the outcome, the question,
as_of, the record id, the pack version and the deciding rule are known when it is made; the rest
of the explanation (reason, applied rules, citations, keep_until, obligations, missing facts,
problems, basis, recipient source) is built by the plain eager builder
(``decide.build_decision``) the first time any of it is read, and kept. Building it eagerly was
over half of a ``decide`` call, and many callers (a retention job, a filter on ``allowed``)
never read it.

What a caller can observe is a ``Decision``'s, byte for byte (tests/property/test_lazy_decision.py):
every field, ``==`` and ``hash`` (with eager Decisions too), ``repr``, ``to_json``, pickling (a
lazy decision pickles, copies and ``dataclasses.replace``-s to a plain ``Decision``; the pickle's
bytes are the eager one's), ``isinstance(d, Decision)`` and ``d.__class__``. Only
``type(d)`` tells them apart.

Immutable: assigning or deleting any attribute raises ``FrozenInstanceError`` as a Decision
does. Thread-safe: the state is one slot holding either the inputs (a tuple) or the finished
Decision, replaced by one pointer write; two threads reading a new decision at once may both
build the explanation (the same value, from the same immutable inputs), never see half of it.
The inputs (the record's checked facts among them) are dropped once the explanation is built.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields
from typing import Any, Callable

from .model import Decision

#: the state tuple's layout: the fields known when the decision is made, then the explainer
#: (a callable taking the whole tuple and returning the eager Decision), then its inputs
HEAD = ("outcome", "question", "as_of", "record_id", "pack_version", "decisive_rule")
EXPLAIN = len(HEAD)

Explainer = Callable[[tuple[Any, ...]], Decision]


class LazyDecision(Decision):
    """A Decision whose explanation is built on first access; see the module docstring."""

    __slots__ = ("_s",)
    _s: Any  # the state tuple (HEAD, explainer, inputs) until built, then the eager Decision

    def _decision(self) -> Decision:
        """The eager Decision, built now if it was not yet (one pointer write publishes it)."""
        s = self._s
        if type(s) is tuple:
            d: Decision = s[EXPLAIN](s)
            _SET_S(self, d)
            return d
        built: Decision = s
        return built

    # what callers observe: the eager Decision's, and the class is Decision's
    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D105 - pickle, dataclass __eq__/repr/replace read it
        return Decision

    def __eq__(self, other: object) -> bool:
        return self._decision() == other

    def __hash__(self) -> int:
        return hash(self._decision())

    def __repr__(self) -> str:
        return repr(self._decision())

    def __reduce_ex__(self, protocol: Any) -> Any:
        # the eager Decision's reduction: unpickles (and copies) to a plain Decision, same bytes
        return self._decision().__reduce_ex__(protocol)

    def __reduce__(self) -> Any:
        return self._decision().__reduce__()

    def __getstate__(self) -> Any:
        return self._decision().__getstate__()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def to_json(self) -> dict[str, Any]:
        return self._decision().to_json()


_SET_S = LazyDecision.__dict__["_s"].__set__  # the slot itself: __setattr__ refuses everyone
_NEW = object.__new__


def lazy_decision(state: tuple[Any, ...]) -> Decision:
    """A LazyDecision from ``state``: HEAD's values, then an explainer, then its inputs.
    The explainer must return the Decision whose head fields are ``state``'s (what makes it lazy
    rather than different)."""
    d = _NEW(LazyDecision)
    _SET_S(d, state)
    return d


def _head(i: int, name: str) -> property:
    def get(self: LazyDecision) -> Any:
        s = self._s
        return s[i] if type(s) is tuple else getattr(s, name)

    return property(get, doc=f"Decision.{name} (known without building the explanation)")


def _lazy(name: str) -> property:
    def get(self: LazyDecision) -> Any:
        return getattr(self._decision(), name)

    return property(get, doc=f"Decision.{name} (built on first access)")


# every field of Decision becomes a read-only property of the subclass (set after the class is
# made: the parent's slots stay unused, a subclass attribute shadows a parent's slot descriptor)
for _f in fields(Decision):
    setattr(LazyDecision, _f.name, _head(HEAD.index(_f.name), _f.name) if _f.name in HEAD else _lazy(_f.name))
del _f

__all__ = ["HEAD", "EXPLAIN", "LazyDecision", "lazy_decision"]
