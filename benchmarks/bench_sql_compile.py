#!/usr/bin/env python
"""privacy-rules benchmark of the compiled SQL's size and planning time (issue 9): the Iconfirm
pack compiled for the question sets the tests and the CLI use, per set:

* compile: seconds in Python (sqlglot AST + SQL text);
* SQL bytes: the decision query over the check layers (``SqlQuery.decide_sql``, DuckDB dialect);
* PREPARE: DuckDB's parse + bind + plan of that query, on the loaded tables (``PREPARE``);
* decide: ``EXECUTE`` of the prepared query over N generated records (benchmarks/bench.py's
  generator, seeded; the records the SQL path vouches for), every answer column hashed and
  summed so none is pruned; decisions/s = answers / seconds; the hash sum's last 8 digits are
  printed: a change that keeps the semantics keeps them.

    python benchmarks/bench_sql_compile.py [--records N] [--sets bench,sweep,differential,all]
                                           [--src DIR] [--no-decide]

``--src DIR`` runs another checkout's ``src`` (e.g. ``git archive`` of main before a change)
against the same records and question sets: the before/after table of benchmarks/README.md.
Prints a Markdown table and the load average. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--sets", default="bench,sweep,differential,all")
    ap.add_argument("--src", default=str(ROOT / "src"), help="the privacy_rules source to measure")
    ap.add_argument("--no-decide", action="store_true", help="size and PREPARE only")
    ap.add_argument("--decide-max", type=int, default=30, help="decide only sets of at most this many questions")
    ap.add_argument("--seed", type=int, default=1)
    return ap.parse_args()


A = _args()
sys.path.insert(0, A.src)
sys.path.insert(0, str(HERE))

import bench  # noqa: E402  (benchmarks/bench.py: the record generator and the questions)

import privacy_rules  # noqa: E402
from privacy_rules.sql.compiler import compile_sql  # noqa: E402
from privacy_rules.sql.ingest import create_tables, load_jsonl  # noqa: E402

def _differential() -> tuple[str, ...]:
    """The SQL differential's contact and share questions (tests/property/differential_questions.py,
    a plain module: the test itself would pull hypothesis and the test pack into a benchmark)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "privacy_rules_differential_questions", ROOT / "tests" / "property" / "differential_questions.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return tuple(mod.CONTACT_AND_SHARE)


DIFFERENTIAL = _differential()


def every_question(policy: Any) -> list[Any]:
    """Every keep, contact and share question the pack's vocabulary can form and the pack accepts."""
    v = policy.pack.vocabulary
    texts = [f"keep:{s}" for s in sorted(v.scopes)]
    texts += [f"contact:{p}:{c}" for p in sorted(v.purposes) for c in sorted(v.channels)]
    texts += [f"share:{r}:{p}" for r in sorted(v.recipients) for p in sorted(v.purposes)]
    out = []
    for t in texts:
        try:
            out.append(policy.check_question(t))
        except Exception:  # noqa: BLE001 - a combination the pack does not know
            pass
    return out


def question_sets(policy: Any) -> dict[str, list[Any]]:
    v = policy.pack.vocabulary
    return {
        "bench": list(bench.QUESTIONS),
        "sweep": [policy.check_question(f"keep:{s}") for s in sorted(v.scopes)],
        "differential": [policy.check_question(f"keep:{s}") for s in sorted(v.scopes)]
                        + [policy.check_question(t) for t in DIFFERENTIAL],
        "all": every_question(policy),
    }


def main() -> None:
    import duckdb

    load = os.getloadavg()
    print(f"# bench_sql_compile: src {A.src}; {A.records:,} records; load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f}; {os.cpu_count()} cores", flush=True)
    policy = privacy_rules.compile_pack(str(ROOT / "rules" / "iconfirm"))
    sets = question_sets(policy)
    work = Path(tempfile.mkdtemp(prefix="bench-sqlc-"))
    jsonl = work / "records.jsonl"
    bench.write_jsonl(jsonl, A.records, A.seed)
    con = duckdb.connect()
    con.execute("SET memory_limit = '2GB'")
    create_tables(con)
    load_jsonl(con, policy, str(jsonl), 1_000_000)
    checked = False
    rows = []
    for name in A.sets.split(","):
        qs = sets[name]
        t = time.perf_counter()
        try:
            compiled = compile_sql(policy.pack, qs, bench.AS_OF)
            decide = compiled.decide_sql("duckdb")
        except Exception as exc:  # noqa: BLE001 - report a set that does not compile
            rows.append((name, len(qs), f"fails: {type(exc).__name__}", "", "", "", "", ""))
            continue
        compile_s = time.perf_counter() - t
        if not checked:
            for stmt in compiled.check_sql("duckdb"):
                con.execute(stmt)
            checked = True
        wrapped = (f"SELECT count(*), sum(hash(record_id, question, outcome, decisive_rule, basis, keep_until, "
                   f"reason_code, problem_code)) FROM ({decide})")
        t = time.perf_counter()
        con.execute(f"PREPARE q_{name} AS {wrapped}")
        prep = time.perf_counter() - t
        dec, dps, check = "", "", ""
        if not A.no_decide and len(qs) <= A.decide_max:
            t = time.perf_counter()
            got = con.execute(f"EXECUTE q_{name}").fetchone()
            secs = time.perf_counter() - t
            assert got is not None
            # the answers' hash: equal before and after a change that keeps the semantics
            dec, dps, check = f"{secs:.2f}", f"{got[0] / secs:,.0f}", f"{int(got[1]) % 10**8:08d}"
        rows.append((name, len(qs), f"{len(decide.encode()):,}", f"{compile_s * 1000:,.0f}", f"{prep * 1000:,.0f}",
                     dec, dps, check))
        print(rows[-1], flush=True)
    con.close()
    after = os.getloadavg()
    print()
    print(f"| set | questions | SQL bytes | compile ms | PREPARE ms | decide s ({A.records:,}) | decisions/s | answers hash |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")
    print(f"\nload average after: {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}")


if __name__ == "__main__":
    main()
