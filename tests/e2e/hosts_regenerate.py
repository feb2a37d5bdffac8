"""Write the expected decisions of the host fixtures (tests/profiles/hosts/<host>/decisions*.jsonl)
from the canonical records a person wrote for them (expected*.jsonl), never from a profile.

    PYTHONPATH=src python tests/e2e/hosts_regenerate.py

Run it when the engine or the Iconfirm pack changes what those records decide (e.g. when dates
known only "on or before" a day are decided instead of being a record problem), then read the
diff: each changed line is a changed decision about a person. tests/e2e/test_profiles.py checks
that every input kind (the host's CSV or JSON, and the same rows as a SQLite, DuckDB or
PostgreSQL table) swept with the profile gives exactly these decisions, and that they still are
what the canonical records decide.

One line per host row, in input order: ``{"record_id", "problems": [codes] | null, "answers":
{question: [outcome, reason_code, keep_until]}}``, decided as of the run's known-on day with the
pack's standard questions. A row the profile cannot map (``"record": null`` in expected.jsonl)
is undetermined for every question with reason code ``undetermined:bad-record``.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ROOT / "tests" / "profiles" / "hosts"
ICONFIRM = ROOT / "rules" / "iconfirm"

#: (case name, folder, canonical records, expected decisions)
CASES = (
    ("hubspot-export", "hubspot-export", "expected.jsonl", "decisions.jsonl"),
    ("hubspot-api", "hubspot-api", "expected.jsonl", "decisions.jsonl"),
    ("salesforce", "salesforce", "expected.jsonl", "decisions.jsonl"),
    ("salesforce-api", "salesforce", "expected-api.jsonl", "decisions-api.jsonl"),
    ("generic-csv", "generic-csv", "expected.jsonl", "decisions.jsonl"),
)


def run_of(folder: str) -> dict[str, Any]:
    return json.loads((HOSTS / folder / "run.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def problem_codes(text: str) -> list[str]:
    """The codes of a problem text (``PR303 message (help); PR650 ...``, after any locator)."""
    return sorted(set(re.findall(r"(?:^|: |; )(PR\d{3}) ", text)))


def decide(canonical: list[dict[str, Any]], as_of: date) -> Iterator[dict[str, Any]]:
    """The expected decision lines for the canonical records of one case."""
    import privacy_rules

    policy = privacy_rules.compile_pack(str(ICONFIRM))
    qs = [str(q) for q in policy.standard_questions]
    records = [c["record"] for c in canonical if c["record"] is not None]
    rows = iter(policy.decide_batch(records, None, as_of=as_of, reasons=True))
    for c in canonical:
        if c["record"] is None:
            yield {"record_id": c["record_id"], "problems": sorted({code for code, _ in c["problems"]}),
                   "answers": {q: ["undetermined", "undetermined:bad-record", None] for q in qs}}
            continue
        row = next(rows)
        problems = None
        if row.problem is not None:  # the engine refuses the canonical record itself
            problems = problem_codes(row.problem)
        yield {"record_id": c["record"]["id"], "problems": problems,
               "answers": {q: [a.outcome.value, a.reason_code, a.keep_until.isoformat() if a.keep_until else None]
                           for q, a in zip(qs, row.answers)}}


def main() -> int:
    for name, folder, canonical, decisions in CASES:
        run = run_of(folder)
        lines = decide(read_jsonl(HOSTS / folder / canonical), date.fromisoformat(run["known_on"]))
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        target = HOSTS / folder / decisions
        old = target.read_text(encoding="utf-8") if target.exists() else None
        target.write_text(text, encoding="utf-8")
        print(f"{name}: {target.relative_to(ROOT)} {'unchanged' if old == text else 'written'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
