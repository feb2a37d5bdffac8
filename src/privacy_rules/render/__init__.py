"""The review document: a pack's rules, citations, vocabulary and scenario coverage, for people.

``render_pack(pack, lang="en", fmt="html", report=None, as_of=None) -> str`` is a pure function:
it reads the pack (and, if given, a scenario ``Report`` from ``scenarios.run_pack_scenarios``)
and returns one self-contained document. It never reads the clock, the network or the file
system beyond its own templates (package data). Thread-safe: each call builds its own Jinja
environment.

HTML output is autoescaped (rule text is untrusted input: a pack may come from anyone), shows
control characters, bidi overrides and other invisible characters as visible escapes (every
printed value passes the environment's ``finalize``, ``_escape.escape``), uses inline CSS only
and references no external URL; Markdown output escapes HTML and Markdown
syntax in rule text, and shows control characters, bidi overrides and line separators as
visible escapes (``\\x1b``, ``\\u202e``: ``_escape.escape``), since a Markdown file is read in
terminals and editors that obey them. Both come from Jinja2 templates under ``templates/``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .._escape import escape
from ..model import Pack
from ._view import Review, build_view

__all__ = ["FORMATS", "LANGS", "build_view", "render_pack"]

FORMATS = ("html", "markdown")
LANGS = ("en", "nb")
_TEMPLATES = {"html": "review.html.j2", "markdown": "review.md.j2"}
# Markdown characters that would turn rule text into markup (emphasis, links, code, tables, HTML).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>#])")


def render_pack(pack: Pack, *, lang: str = "en", fmt: str = "html", report: Any | None = None,
                as_of: date | None = None) -> str:
    """The review document for ``pack`` as one string (HTML or Markdown).

    ``lang`` is ``en`` or ``nb``; ``fmt`` is ``html`` or ``markdown``. ``report`` (a scenario run)
    adds which scenarios exercise each rule and the coverage section; without it the document
    says scenarios were not run. ``as_of`` is printed as the date the document was made for; the
    library never reads the clock. Raises ValueError for an unknown language or format.
    """
    if fmt not in _TEMPLATES:
        raise ValueError(f"unknown format `{fmt}`; use one of {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise ValueError(f"unknown language `{lang}`; use one of {', '.join(LANGS)}")
    review: Review = build_view(pack, lang=lang, report=report, as_of=as_of)
    template = _environment().get_template(_TEMPLATES[fmt])
    return template.render(r=review, L=review.L)


def _environment() -> Environment:
    # select_autoescape matches the end of the template name: `review.html.j2` ends in `.j2`,
    # so `html.j2` must be listed for the HTML template to be escaped.
    env = Environment(
        loader=PackageLoader("privacy_rules.render", "templates"),
        # Markdown is not HTML-escaped by Jinja: its template passes every value through `md`/`mdcode`.
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), disabled_extensions=("md.j2",),
                                     default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_visible,
    )
    env.filters["md"] = _md_text
    env.filters["mdcode"] = _md_code
    return env


def _visible(value: Any) -> Any:
    """Every value a template prints, before HTML escaping: control, format (bidi, zero-width,
    tag), private-use and separator characters become visible escapes (``\\x1b``, ``\\u202e``),
    as in text output. An ESC in a recipient name would otherwise reach the terminal that shows
    the document (``render`` writes to stdout), and a bidi override reorders what a reviewer
    reads in the browser. Line feeds stay: the templates' own markup has them. The result of a
    macro (Markup) stays Markup: the escapes are plain ASCII, so nothing needs HTML-escaping."""
    if isinstance(value, str):
        shown = escape(value, keep_newlines=True)
        if shown is value:
            return value
        return Markup(shown) if isinstance(value, Markup) else shown
    return value


def _one_line(text: Any) -> str:
    # Unsafe characters first become visible escapes (a U+2028 or NEL would otherwise count as
    # white space and vanish), then line feeds and runs of spaces one space. Keeps a single
    # leading/trailing space: segments such as " (label)" are joined as they are.
    return re.sub(r"\s+", " ", escape(str(text), keep_newlines=True))


def _md_text(text: Any) -> Markup:
    """Rule text for Markdown: one line, with Markdown and HTML syntax escaped (shown, not obeyed)."""
    s = _one_line(text).replace("&", "&amp;")
    return Markup(_MD_SPECIAL.sub(lambda m: {"<": "&lt;", ">": "&gt;"}.get(m.group(1), "\\" + m.group(1)), s))


def _md_code(text: Any) -> Markup:
    """An inline code span that holds any text: the fence is longer than any backtick run inside."""
    s = _one_line(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return Markup(f"{fence}{pad}{s}{pad}{fence}")
