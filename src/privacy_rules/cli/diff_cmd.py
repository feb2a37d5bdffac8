"""``privacy-rules diff OLD_PACK NEW_PACK``: what changed between two versions of a pack and,
given records, which decisions flip. The logic is in :mod:`privacy_rules.diff`; this module
only parses arguments, streams the records file and prints through :mod:`.report`.

Exit codes: 0 no change (or changes without ``--fail-on-change``), 1 changes with
``--fail-on-change``, 2 usage error or an invalid pack.
"""

from __future__ import annotations

from typing import Any, Iterator

import click

from ..diff import compare, read_vocabulary_spans
from ..model import Question
from ..policy import QuestionError
from . import report as reporters
from ._common import EXIT_FAIL, EXIT_OK, LineReader, UsageFailure, as_of_day, load_policy, open_records, streams


@click.command()
@click.argument("old_pack")
@click.argument("new_pack")
@click.option("--records", "records", metavar="FILE",
              help="JSON Lines records (- for stdin) to decide with both packs; reports which decisions flip.")
@click.option("-q", "--question", "questions", multiple=True, metavar="Q",
              help="As for evaluate; repeatable. Default: the new pack's standard questions. Needs --records.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
              help="The day to decide for (with --records). Default: today in the new pack's time zone.")
@click.option("--fail-on-change", "fail_on_change", is_flag=True,
              help="Exit 1 when anything changed (rules, vocabulary, pack settings or decisions).")
@click.option("--format", "fmt", type=reporters.CI_FORMATS, default="text", show_default=True,
              help="Output format: text, json, junit (JUnit XML), sarif (SARIF 2.1.0) or github (annotations).")
@reporters.HELP_URI_OPTION
def diff(old_pack: str, new_pack: str, records: str | None, questions: tuple[str, ...], as_of: str | None,
         fail_on_change: bool, fmt: str, help_uri: str | None) -> None:
    """Show what changed from OLD_PACK to NEW_PACK: rules added, removed or changed, vocabulary
    and pack settings; with --records, how many decisions flip per question ("keep: 312 records
    allow -> deny") with example record ids.

    Exit 0 when nothing changed, or when something changed without --fail-on-change; 1 when
    something changed with --fail-on-change; 2 for a usage error or an invalid pack.
    """
    io = streams()
    if questions and records is None:
        raise UsageFailure("--question needs --records: questions are asked of records")
    old = load_policy(old_pack)
    new = load_policy(new_pack)
    asked = None
    if questions:
        asked = []
        for text in questions:
            try:
                asked.append(Question.parse(text))
            except ValueError as exc:
                raise UsageFailure(f"--question: {exc}") from None
    # the lines of vocabulary entries, for annotations (a Pack keeps only its rules' lines)
    old_spans, new_spans = read_vocabulary_spans(old.pack), read_vocabulary_spans(new.pack)
    if records is None:
        result = compare(old, new, old_spans=old_spans, new_spans=new_spans)
    else:
        day = as_of_day(as_of, new)
        fh = open_records(records)

        def stream() -> Iterator[Any]:
            # a line longer than the cap arrives as a BadLine: decide_batch counts it as invalid
            for _n, item in LineReader(fh, records):
                yield item

        try:
            result = compare(old, new, stream(), asked, as_of=day, old_spans=old_spans, new_spans=new_spans)
        except QuestionError as exc:  # defensive: diff_decisions reports these itself
            raise UsageFailure(f"--question: {exc}") from None
        finally:
            if records != "-":
                fh.close()
    io.out.write(reporters.diff_report(fmt, result, fail_on_change=fail_on_change,
                                       color=fmt == "text" and reporters.use_color(io.out), help_uri=help_uri))
    raise SystemExit(EXIT_FAIL if fail_on_change and result.changed else EXIT_OK)
