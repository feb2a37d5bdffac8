"""The documentation of each diagnostic code, for SARIF rules: parsed from docs/codes.md.

SARIF viewers show a rule's ``help`` next to each finding. A relative ``helpUri`` such as
``docs/codes.md#pr510`` points into privacy-rules' repository, which the user's repository
does not hold, so the help travels inside the log instead: each ``## PRnnn`` section of
docs/codes.md, as Markdown and as plain text.

The package ships a byte-for-byte copy of docs/codes.md as package data
(``privacy_rules/docs/codes.md``; tests/unit/test_report.py fails when the two differ: copy
the file again). It is read when a SARIF log is written, never at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Mapping

__all__ = ["CodeDoc", "parse_codes_doc", "read_codes_doc", "DOC_RESOURCE"]

#: Where the copy of docs/codes.md lives inside the package.
DOC_RESOURCE = ("docs", "codes.md")

_SECTION = re.compile(r"^## (PR\d{3})[ \t]*\n(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)
_TITLE = re.compile(r"\A\*\*(.+?)\.\*\*")
# A Markdown link whose target is not absolute (no scheme): relative to docs/ or an anchor.
_RELATIVE_LINK = re.compile(r"\[([^\]\n]+)\]\((?![A-Za-z][A-Za-z0-9+.-]*:)([^)\s]+)\)")
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeDoc:
    """One code's section: ``title`` is the bold first sentence in lower case ("unknown
    reference"), ``markdown`` the section below its heading, ``text`` the same as plain text."""

    code: str
    title: str
    markdown: str
    text: str


def read_codes_doc() -> str:
    """The text of the copy of docs/codes.md shipped in the package. Raises OSError when the
    installation lacks it (a packaging bug)."""
    return resources.files("privacy_rules").joinpath(*DOC_RESOURCE).read_text(encoding="utf-8")


def parse_codes_doc(text: str, *, docs_url: str | None = None) -> Mapping[str, CodeDoc]:
    """Code -> :class:`CodeDoc` for every ``## PRnnn`` section of ``text``. Pure.

    A section ends at the next level-2 heading. Links relative to docs/ (``codes.md#pr501``,
    ``#pr501``, ``rule-language.md``) become absolute under ``docs_url`` (the address of the
    docs/ folder, ending in ``/``) when it is given, and plain text otherwise: they would not
    resolve from the user's repository.
    """
    out: dict[str, CodeDoc] = {}
    for match in _SECTION.finditer(text):
        code, body = match.group(1), match.group(2).strip()
        body = _RELATIVE_LINK.sub(lambda m: _link(m, docs_url), body)
        title = _TITLE.match(body)
        out[code] = CodeDoc(code=code, title=_sentence_case(title.group(1)) if title else code,
                            markdown=body, text=_plain(body))
    return MappingProxyType(out)


def _link(m: re.Match[str], docs_url: str | None) -> str:
    label, target = m.group(1), m.group(2)
    if docs_url is None:
        return label
    return f"[{label}]({docs_url}{'codes.md' if target.startswith('#') else ''}{target})"


def _sentence_case(title: str) -> str:
    # "Unknown reference" -> "unknown reference"; "DPA not in force ..." keeps its acronym
    first = title.split(" ", 1)[0]
    return title if len(first) > 1 and first.isupper() else title[:1].lower() + title[1:]


def _plain(markdown: str) -> str:
    """Readable plain text: code blocks indented as they are, emphasis and code marks dropped
    from the prose around them."""
    out: list[str] = []
    pos = 0
    for fence in _FENCE.finditer(markdown):
        out.append(_plain_prose(markdown[pos:fence.start()]))
        out.append("".join(f"    {line}\n" for line in fence.group(1).splitlines()))
        pos = fence.end() + 1  # the fence's own line end
    out.append(_plain_prose(markdown[pos:]))
    return "".join(out).strip()


def _plain_prose(text: str) -> str:
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = re.sub(r"`([^`\n]+)`", r"\1", text)
    return re.sub(r"\[([^\]\n]+)\]\(([^)\s]+)\)", r"\1 (\2)", text)
