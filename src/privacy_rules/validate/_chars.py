"""Characters no identifier, path or version of a pack may contain, and how to show them.

An identifier (rule id, vocabulary key, norm id, obligation id, pack id, question, fact path)
names something a reviewer must be able to read and compare. Control characters, bidi
overrides and isolates, zero-width and other format characters, line and paragraph separators
and unassigned code points either print as nothing or reorder the text around them, so two ids
that look the same could differ (a permit could pose as the reviewed rule it imitates) and a
terminal could be told to draw something else. The schemas refuse them with whole-string
patterns; this module is the same rule in Python, used for the strings the schemas cannot
whitelist (paths, the pack version) and to word the diagnostic (PR212).
"""

from __future__ import annotations

import unicodedata

__all__ = ["first_refused", "visible", "describe", "skeleton"]

# Cc: C0, DEL and C1 controls. Cf: format characters (bidi embeddings, overrides and isolates
# U+202A-U+202E and U+2066-U+2069, marks U+200E/U+200F and U+061C, zero-width space, joiners,
# word joiner, BOM, soft hyphen, interlinear annotations, tag characters U+E0000-U+E007F).
# Zl/Zp: U+2028/U+2029, line breaks to a terminal and to JavaScript. Cs: lone surrogates,
# which cannot be written as UTF-8. Co/Cn: private use and unassigned code points (no glyph
# anyone agrees on; the non-characters U+FFFE and U+FFFF are Cn).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Letters (Lo/Mn) that render as blank space: Hangul fillers, Khmer inherent vowels, the
# combining grapheme joiner. Not control characters, but as invisible as one.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")


def first_refused(text: str) -> str | None:
    """The first character of ``text`` an identifier may not contain, or None. Pure."""
    for ch in text:
        if ch in _INVISIBLE or unicodedata.category(ch) in _REFUSED_CATEGORIES:
            return ch
    return None


def describe(ch: str) -> str:
    """``U+202E (RIGHT-TO-LEFT OVERRIDE)``: how a message names a refused character."""
    name = unicodedata.name(ch, "")
    if not name and unicodedata.category(ch) == "Cc":
        name = {"\n": "LINE FEED", "\r": "CARRIAGE RETURN", "\t": "TAB", "\x1b": "ESCAPE",
                "\x00": "NULL", "\x7f": "DELETE"}.get(ch, "control character")
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


def visible(text: str, limit: int = 80) -> str:
    """``text`` for a message: refused characters written as ``\\u202e``, shortened to ``limit``.

    Only for display; the shortening never decides anything.
    """
    out = "".join(
        (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
        if first_refused(ch) else ch
        for ch in (text if len(text) <= limit else text[:limit])
    )
    return out if len(text) <= limit else out + "..."


def skeleton(text: str) -> str:
    """What ``text`` looks like to a reader: refused characters dropped, NFKC, case folded.

    Two ids with the same skeleton are the same id to a reviewer, so a duplicate check on
    skeletons cannot be bypassed with an invisible character or a compatibility form.
    """
    kept = "".join(ch for ch in text if not first_refused(ch))
    return unicodedata.normalize("NFKC", kept).casefold()
