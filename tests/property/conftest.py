"""The SQL differential tests' tally (sql_differential.Tally): one per engine for the session,
printed after the run so CI's log says how many records each engine was compared on."""

from __future__ import annotations

import pytest

from .sql_differential import Tally

_TALLY = pytest.StashKey[dict[str, Tally]]()


@pytest.fixture(scope="session")
def sql_tally(request: pytest.FixtureRequest) -> dict[str, Tally]:
    return request.config.stash.setdefault(_TALLY, {})


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    tallies = config.stash.get(_TALLY, {})
    if not tallies:
        return
    terminalreporter.section("SQL differential (row engine vs each SQL engine)")
    for t in tallies.values():
        terminalreporter.write_line(f"{t.engine}: {t.records:,} records in {t.batches} batches, {t.answers:,} answers "
                                    f"compared, {t.disagreements} disagreements")
