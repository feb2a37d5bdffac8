"""The recipes in docs/recipes/ stay true: each `privacy-rules evaluate` command shown there is
run as written (from the repository root; -o and --summary go to a temporary folder; the
PostgreSQL one against the test server, its tables built from tests/profiles/hosts/generic-csv
as the recipe says), and the summary printed under it is the one the command prints (all but
the timing). When the engine or the pack changes a count, update the recipe's output.
"""

from __future__ import annotations

import io
import re
import shlex
from pathlib import Path
from typing import Iterator

import pytest

from privacy_rules.cli.main import main

from .conftest import build_generic_postgres

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "docs" / "recipes"
HOSTS = ROOT / "tests" / "profiles" / "hosts"


def _commands() -> Iterator[tuple[str, int, list[str], list[str]]]:
    """(recipe, n, the command's arguments after `privacy-rules`, the summary shown under it)."""
    for path in sorted(RECIPES.glob("*.md")):
        blocks = re.findall(r"```(\w*)\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
        n = 0
        for i, (lang, body) in enumerate(blocks):
            if lang != "sh" or "privacy-rules evaluate" not in body or "$(" in body:
                continue
            words = shlex.split(body.replace("\\\n", " "))
            shown = next((b for lg, b in blocks[i + 1:] if lg == "text"), "")
            n += 1
            yield path.name, n, words[1:], [line for line in shown.splitlines() if line.strip()]


CASES = list(_commands())


def test_every_recipe_shows_a_command() -> None:
    assert {c[0] for c in CASES} == {"hubspot.md", "salesforce.md", "sql-table.md"}


@pytest.mark.parametrize("recipe, n, args, shown", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_a_recipe_command_prints_the_summary_it_shows(recipe: str, n: int, args: list[str], shown: list[str],
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      request: pytest.FixtureRequest) -> None:
    args = list(args)
    for flag in ("-o", "--summary"):
        if flag in args:
            i = args.index(flag) + 1
            args[i] = str(tmp_path / Path(args[i]).name)
    url = next((a for a in args if a.startswith("postgresql://")), None)
    if url is not None:
        server = str(request.getfixturevalue("postgres"))
        build_generic_postgres(server, HOSTS / "generic-csv" / "people.csv", HOSTS / "generic-csv" / "consents.csv")
        args[args.index(url)] = server
    monkeypatch.chdir(ROOT)
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    timing = re.compile(r" in [0-9.]+ s \([0-9,.]+ records/s\)$")
    got = [timing.sub("", line) for line in err.getvalue().splitlines() if line.strip()]
    assert got == [timing.sub("", line) for line in shown], f"update the output shown in docs/recipes/{recipe}"
