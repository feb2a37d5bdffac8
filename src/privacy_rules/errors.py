"""Exceptions raised at stage boundaries (STYLE 5).

Every user-fixable problem in a pack travels as a :class:`~privacy_rules.model.Diagnostic`
inside a :class:`PackError`; the other exceptions cover input that is not a pack (records,
command-line usage). Nothing here does I/O.
"""

from __future__ import annotations

from typing import Iterable

from privacy_rules.model import Diagnostic


class PrivacyRulesError(Exception):
    """Base of every error this library raises on purpose; anything else is a bug."""


class PackError(PrivacyRulesError):
    """A pack (or one of its files) could not be loaded, validated or compiled.

    ``diagnostics`` holds every problem found, in the order the stage reported them;
    ``str()`` is their CI lines joined by newlines.
    """

    diagnostics: tuple[Diagnostic, ...]

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        # A tuple, so the error can be shared and cached like every other value (STYLE 3).
        diagnostics = tuple(diagnostics)
        super().__init__(diagnostics)
        self.diagnostics = diagnostics

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)


class RecordError(PrivacyRulesError):
    """A record (or a records file) cannot be read; ``str()`` is the plain message.

    ``record_id`` and ``line`` say which record, when known.
    """

    def __init__(self, message: str, *, record_id: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.record_id = record_id
        self.line = line

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, tuple[str, str | None, int | None]]:  # keyword-only fields survive pickling
        return (_make_record_error, (self.message, self.record_id, self.line))


def _make_record_error(message: str, record_id: str | None, line: int | None) -> RecordError:
    return RecordError(message, record_id=record_id, line=line)


class UsageError(PrivacyRulesError):
    """The caller asked for something impossible (bad arguments); the CLI exits 2."""


def shown(value: object, limit: int = 80) -> str:
    """A user value as message text (the caller adds the backticks); never raises.

    Long values are cut at ``limit`` characters, lone surrogates (which no UTF-8 output can
    carry) are written as ``\\udXXX`` escapes, and a number too long to print (Python refuses
    ints of more than 4,300 digits) is described instead of printed. Pure.
    """
    try:
        if isinstance(value, str):
            text = str.__str__(value)
        elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
            return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
        else:
            text = repr(value)
    except Exception:  # noqa: BLE001 - a host object whose repr breaks still gets a message
        return f"a {type(value).__name__} value"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
