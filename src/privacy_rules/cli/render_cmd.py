"""``privacy-rules render PACK``: the review document for a legal reviewer (HTML or Markdown).

Registered on the ``cli`` group by cli/main.py; the plumbing it shares with the other commands
(streams, pack loading, atomic writes) comes from cli/_common.py.
"""

from __future__ import annotations

import click

from ._common import EXIT_OK, load_policy, output_to, parse_day, streams


@click.command()
@click.argument("pack")
@click.option("--lang", type=click.Choice(["en", "nb"]), default="en", show_default=True,
              help="Language of the document: English or Norwegian (bokmål).")
@click.option("--format", "fmt", type=click.Choice(["html", "markdown"]), default="html", show_default=True,
              help="html: one self-contained, printable file; markdown: the same content as Markdown.")
@click.option("-o", "--output", "output", metavar="FILE", help="Write the document here (atomically). Default: stdout.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
              help="Print this as the date the document was made for. Default: no date.")
@click.option("--scenarios/--no-scenarios", "with_scenarios", default=True, show_default=True,
              help="Run the pack's scenario tests to show which scenarios exercise each rule, and coverage.")
def render(pack: str, lang: str, fmt: str, output: str | None, as_of: str | None, with_scenarios: bool) -> None:
    """Render PACK as a review document: rules per question in combining order, with citations.

    Per question (keep, contact, share) the rules in the order they combine (override, forbid,
    permit, obligation), each with its conditions in plain words, lawful basis, the policy
    sentence and articles it rests on, where it is defined and which scenarios exercise it;
    then the vocabulary tables and the coverage of norms and rules. Exit 0 when written, 2 when
    the pack cannot be read.
    """
    from ..render import render_pack  # jinja2 templates: loaded only when a document is asked for
    from ..scenarios import run_pack_scenarios

    io = streams()
    day = parse_day(as_of) if as_of is not None else None
    policy = load_policy(pack, lang)
    report = run_pack_scenarios(policy) if with_scenarios else None
    text = render_pack(policy.pack, lang=lang, fmt=fmt, report=report, as_of=day)
    with output_to(output, io.out) as fh:  # a write failure is "cannot write `FILE`: reason", exit 2
        fh.write(text)
    raise SystemExit(EXIT_OK)
