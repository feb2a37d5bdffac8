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

#: The characters :func:`escape` shows as escapes: every character of the Unicode general
#: categories Cc (C0 and C1 controls, DEL, NEL), Cf (format characters: the bidi marks,
#: embeddings, overrides and isolates, zero-width space/joiners, soft hyphen, BOM, the tag
#: characters U+E0000-U+E007F that spell invisible text), Co (private use: no agreed glyph),
#: Cs (lone surrogates: not encodable, not XML), Zl and Zp (U+2028, U+2029), and the
#: noncharacters U+FFFE and U+FFFF (not XML). The class is written out (Unicode 14.0, Python
#: 3.11's unicodedata) because building it at import would cost a third of a second;
#: tests/hostile/test_output.py checks it against unicodedata for every code point.
_OTHERS = ("\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
           "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\uf8ff\ufeff\ufff9-\ufffb"
           "\ufffe\uffff\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
           "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f\U000f0000-\U000ffffd"
           "\U00100000-\U0010fffd")
UNSAFE = re.compile(f"[\x00-\x1f{_OTHERS}]")
# The same set without LF: for text that is several lines by design (a diagnostic with its
# help line, a JUnit failure body), where each line's values were escaped already or are ours.
_UNSAFE_BUT_LF = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHERS}]")


def _show(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every :data:`UNSAFE` character written as ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN``.

    With ``keep_newlines`` a line feed stays a line feed (for text that is several lines by
    design); otherwise it too becomes ``\\x0a``, so a value can never start a line of its own
    (a record id with a newline cannot print a fake answer line). A backslash is left as it
    is: the escapes are for reading, not for parsing back. Returns ``text`` itself when there
    is nothing to escape.
    """
    pattern = _UNSAFE_BUT_LF if keep_newlines else UNSAFE
    return pattern.sub(_show, text) if pattern.search(text) else text
