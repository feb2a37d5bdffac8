"""``privacy-rules sql PACK --dialect D -q ... --as-of D``: print the query that decides a table.

Registered on the ``cli`` group by cli/main.py; the plumbing it shares with the other commands
(streams, pack loading, questions, days, atomic writes) comes from cli/_common.py.
"""

from __future__ import annotations

import click

from ._common import (EXIT_OK, RECIPIENT_FACTS_HELP, UsageFailure, as_of_day, load_policy, output_to, questions_for,
                      streams)

DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "snowflake")


@click.command("sql")
@click.argument("pack")
@click.option("--dialect", type=click.Choice(DIALECTS), default="duckdb", show_default=True,
              help="The SQL engine to write the query for.")
@click.option("-q", "--question", "questions", multiple=True, metavar="QUESTION",
              help="A question (keep, keep:SCOPE, contact:PURPOSE:CHANNEL, share:RECIPIENT:PURPOSE); repeat "
                   "for more. Default: the pack's standard questions.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
              help="The day the query decides for (window cut-offs are computed for it). Default: today in the "
                   "pack's time zone.")
@click.option("--ddl", "with_ddl", is_flag=True, help="Print the CREATE TABLE statements of the layout first.")
@click.option("--compact", is_flag=True, help="One line, no indentation.")
@click.option("-o", "--output", "output", metavar="FILE", help="Write here (atomically). Default: stdout.")
@click.option("--recipient-facts", "recipient_facts", metavar="FILE", help=RECIPIENT_FACTS_HELP)
def sql(pack: str, dialect: str, questions: tuple[str, ...], as_of: str | None, with_ddl: bool, compact: bool,
        output: str | None, recipient_facts: str | None = None) -> None:
    """Print the SQL query that decides QUESTIONs for every record of the table layout.

    One row per record and question: record_id, question, outcome, decisive_rule, basis,
    keep_until, reason_code, problem_code (docs/sql.md, which also gives the layout). The
    query is built as a syntax tree and written for --dialect; the as_of day is fixed in it.
    Exit 0 when written; 2 when the pack cannot be read, a question or day is wrong, or a rule
    uses a construct the SQL compiler refuses (the message names the rule).
    """
    from ..sql import SqlUnsupported, compile_sql, ddl  # sqlglot: imported only when SQL is asked for

    io = streams()
    policy = load_policy(pack, recipient_facts=recipient_facts)
    day = as_of_day(as_of, policy)
    qs = questions_for(questions, policy)
    try:
        query = compile_sql(policy.pack, qs, day)
    except SqlUnsupported as exc:
        raise UsageFailure(str(exc)) from None
    text = query.sql(dialect, pretty=not compact) + ";\n"
    if with_ddl:
        text = ddl(dialect) + "\n" + text
    with output_to(output, io.out) as fh:
        fh.write(text)
    raise SystemExit(EXIT_OK)
