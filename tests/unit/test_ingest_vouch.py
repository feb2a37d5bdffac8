"""ingest.vouch_sql: a JSON line the SQL path vouches for is one the row engine reads as a valid
record (issue 9: the SQL decides only what the row engine would decide the same way). Lines it
refuses go to the row engine, so refusing is always safe; vouching wrongly is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

import privacy_rules
from privacy_rules.records import RecordInvalid, parse_record
from privacy_rules.sql.ingest import _PRE, _json_struct, _q, vouch_sql

from ..bench_module import load_bench

ROOT = Path(__file__).resolve().parents[2]

HOSTILE = [
    '{"id": "upper-key", "Role": "controller", "subject_categories": ["prospect"]}',  # unknown (case) key
    '{"id": "dup-no-null", "role": "controller", "role": "processor"}',
    '{"id": "dup", "id": "dup2"}',
    '{"id": "dup-and-null", "role": null, "role": "controller"}',
    '{"id": "null-top", "role": null}',
    '{"id": "unknown", "colour": "blue"}',
    '{"id": "unknown-null", "colour": null}',
    '{"id": "rel-dup", "relationship": {"first_contact_on": "2024-01-01", "first_contact_on": "2024-02-01"}}',
    '{"id": "rel-unknown", "relationship": {"first_contact": "2024-01-01"}}',
    '{"id": "entry-dup", "consents": [{"purpose": "newsletter", "purpose": "events", "given_on": "2024-01-01"}]}',
    '{"id": "entry-unknown", "consents": [{"purpose": "newsletter", "given": "2024-01-01"}]}',
    '{"id": 7}',
    '{"id": "list-not-list", "subject_categories": "prospect"}',
    '{"id": "trailing", "role": "controller",}',
    '{"id": "nullable-text", "role": "controller", "source": "nullable"}',  # `null` inside a string
    '{"id": "ok", "role": "controller", "subject_categories": ["prospect"]}',
]


#: problems the SQL cannot see once a line is in the layout (an unknown field is dropped, a
#: repeated key read once, text the JSON functions read otherwise): a vouched line has none.
#: Value problems (an impossible date, an unknown id ...) the query itself reports as bad-record.
_STRUCTURAL = frozenset({"PR301", "PR307", "PR309", "PR310", "PR311", "PR312", "PR313", "PR314", "PR315", "PR316"})


def _structurally_sound(policy: Any, line: str) -> bool:
    try:
        rec = parse_record(line)
        facts = policy.facts(rec)
    except RecordInvalid as exc:
        return not any(p.code in _STRUCTURAL for p in exc.problems) and exc.position is None
    except ValueError:
        return False
    return not facts.undated


def _vouched(lines: list[str]) -> list[bool]:
    policy = privacy_rules.compile_pack(str(ROOT / "rules" / "iconfirm"))
    con = duckdb.connect()
    con.execute("CREATE TABLE l (n INTEGER, raw VARCHAR)")
    con.executemany("INSERT INTO l VALUES (?, ?)", list(enumerate(lines)))
    rows = con.execute(f"SELECT n, {vouch_sql(policy)} FROM (SELECT n, raw, CASE WHEN {_PRE} THEN "
                       f"from_json(raw, {_q(_json_struct())}) END AS s FROM l) ORDER BY n").fetchall()
    return [bool(ok) for _n, ok in rows]


@pytest.fixture(scope="module")
def policy() -> Any:
    return privacy_rules.compile_pack(str(ROOT / "rules" / "iconfirm"))


def test_hostile_lines(policy: Any) -> None:
    vouched = _vouched(HOSTILE)
    wrong = [line for line, ok in zip(HOSTILE, vouched) if ok and not _structurally_sound(policy, line)]
    assert wrong == []
    # and the plain ones are vouched (else the SQL path would decide nothing)
    assert vouched[HOSTILE.index('{"id": "ok", "role": "controller", "subject_categories": ["prospect"]}')]
    assert vouched[-2]  # `null` inside a string: the full key test, which passes


def test_generated_records(policy: Any) -> None:
    bench = load_bench("privacy_rules_bench_for_vouch")
    lines = [json.dumps(r, ensure_ascii=False) for r in bench.iter_records(600, seed=4)]
    vouched = _vouched(lines)
    wrong = [line for line, ok in zip(lines, vouched) if ok and not _structurally_sound(policy, line)]
    assert wrong == []
    assert sum(vouched) > len(lines) * 0.8  # most generated records are the SQL's to decide
