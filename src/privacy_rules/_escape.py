"""Text from rule files and records, made safe to show to people: one function, :func:`escape`.

Rule files, records and scenario files are untrusted input (DESIGN, STYLE 5). A record id
holding ``"\\x1b[2K\\rp-1  keep  ALLOW"`` would, written raw to a terminal, erase the line
and print a fake answer; a right-to-left override (U+202E) reorders what a reviewer reads
(Trojan Source); U+2028 and NEL start a new line in some viewers; XML 1.0 forbids most C0
controls, lone surrogates and U+FFFE/U+FFFF even as character references, so one such
character in a scenario name makes a JUnit report unreadable; a lone surrogate cannot be
encoded as UTF-8 at all. Every text sink meant for people (explanations, the text reports of
``check``/``test``/``diff``/``evaluate``, the review document's Markdown, JUnit XML, GitHub
annotations) passes user values through :func:`escape`, which shows such characters as
visible escapes (``\\x1b``, ``\\u202e``). JSON outputs stay exact: JSON escapes them itself.

Pure, no state, thread-safe.
"""

from __future__ import annotations

import re

__all__ = ["escape", "UNSAFE"]

#: The characters :func:`escape` shows as escapes:
#: C0 controls (U+0000-U+001F), DEL and C1 controls (U+007F-U+009F, NEL included);
#: the implicit bidi marks ALM, LRM and RLM (U+061C, U+200E, U+200F); the line and paragraph
#: separators (U+2028, U+2029); the bidi embeddings and overrides (U+202A-U+202E) and isolates
#: (U+2066-U+2069); lone surrogates (U+D800-U+DFFF: not encodable, not XML); the
#: noncharacters U+FFFE and U+FFFF (not XML).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
# The same set without LF: for text that is several lines by design (a diagnostic with its
# help line, a JUnit failure body), where each line's values were escaped already or are ours.
_UNSAFE_BUT_LF = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
                            "\ud800-\udfff\ufffe\uffff]")


def _show(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every :data:`UNSAFE` character written as ``\\xNN`` or ``\\uNNNN``.

    With ``keep_newlines`` a line feed stays a line feed (for text that is several lines by
    design); otherwise it too becomes ``\\x0a``, so a value can never start a line of its own
    (a record id with a newline cannot print a fake answer line). A backslash is left as it
    is: the escapes are for reading, not for parsing back. Returns ``text`` itself when there
    is nothing to escape.
    """
    pattern = _UNSAFE_BUT_LF if keep_newlines else UNSAFE
    return pattern.sub(_show, text) if pattern.search(text) else text
