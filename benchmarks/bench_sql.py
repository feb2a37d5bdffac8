#!/usr/bin/env python
"""privacy-rules benchmark of the SQL path (issue 9, item 5): the Iconfirm pack compiled to SQL
and run in an embedded DuckDB, against the row engine measured in the same run.

    python benchmarks/bench_sql.py [--records N] [--row-records M] [--parquet-records P]
                                   [--threads T] [--memory-limit SIZE] [--seed S] [--keep-files]

Defaults: N = 1,000,000 (``--records 10000000`` for the issue's 10M), M = 50,000 (the row
engine's rate is measured on the first M records: at ~10k records/s a million takes minutes),
P = N.

1. **Loaded table**: the N records of benchmarks/bench.py (seeded; ~2% missing a fact, ~1%
   malformed) are read into the SQL layout in DuckDB (sql/ingest.load_jsonl), the check layers
   are built once (``SqlQuery.staged``), then the decision for the three questions of bench.py
   is timed: decisions/s = 3 N / seconds. Compile (sqlglot) and plan time are timed apart
   (the same query on empty tables).
2. **JSON Lines end to end**: ``privacy-rules evaluate --engine duckdb FILE -o OUT.jsonl`` in a
   child process: records/s over the wall time, the child's peak RSS, and the stages the engine
   line on stderr reports (load, check, decide, text, write, row engine). The row engine's
   ``evaluate`` over the first M lines, in a child process too, gives the ratio.
3. **Parquet end to end**: the first P records in the flat layout as Parquet (nested
   LIST<STRUCT> event lists, STRUCT relationship and facts), ``evaluate --engine duckdb`` over
   them; the row engine over the first M. A file whose columns DuckDB cannot read as the flat
   layout does (the generator's typo'd fields) takes the Python reader: the stage line says
   which reader ran.

Prints a Markdown table with the goals of issue 9 marked MET / NOT MET, and the load average.
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

import bench  # noqa: E402  (benchmarks/bench.py: the record generator and the questions)

import privacy_rules  # noqa: E402
from privacy_rules.sql.compiler import compile_sql  # noqa: E402
from privacy_rules.sql.ingest import create_tables, load_jsonl  # noqa: E402

GOALS = {"loaded": 20e6, "parquet": 2e6, "jsonl": 500e3, "rss_mb": 1024}


def _child(args: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB of the child, stderr) of ``python -m privacy_rules ARGS``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", _RSS_WRAPPER, *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    m = re.search(r"^peak_rss_kb (\d+)$", p.stderr, re.MULTILINE)
    if p.returncode not in (0, 1):
        raise SystemExit(f"child failed ({p.returncode}): {p.stderr[-2000:]}")
    return wall, (int(m.group(1)) / 1024 if m else float("nan")), p.stderr


# runs the CLI in the child and prints its own peak RSS (DuckDB's memory included: one process).
# VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss across fork + exec, so a child of
# this (large) process would report this process's size
_RSS_WRAPPER = """
import sys
from privacy_rules.cli.main import main
code = main(sys.argv[1:])
hwm = [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")]
print(f"peak_rss_kb {hwm[0] if hwm else 0}", file=sys.stderr)
sys.exit(code)
"""


def _stages(stderr: str) -> str:
    m = re.search(r"^engine duckdb: .*\((.*)\); input read by (\w+)$", stderr, re.MULTILINE)
    return f"{m.group(1)}; input read by {m.group(2)}" if m else ""


def _split(stderr: str) -> str:
    m = re.search(r"^engine duckdb: ([\d,]+) rows decided in SQL, ([\d,]+) by the row engine", stderr, re.MULTILINE)
    return f"{m.group(1)} in SQL, {m.group(2)} by the row engine" if m else ""


def _mark(value: float, goal: float, higher: bool = True) -> str:
    return "MET" if (value >= goal if higher else value <= goal) else "NOT MET"


def loaded_table(policy: Any, path: Path, n: int, threads: int | None, memory: str, work: Path) -> dict[str, float]:
    import duckdb

    qs = list(bench.QUESTIONS)
    out: dict[str, float] = {}
    t = time.perf_counter()
    compiled = compile_sql(policy.pack, qs, bench.AS_OF)
    creates, decide = compiled.staged("duckdb")
    out["compile"] = time.perf_counter() - t
    # planning: the same statements on empty tables
    con = duckdb.connect()
    create_tables(con)
    t = time.perf_counter()
    for stmt in creates:
        con.execute(stmt)
    con.execute(f"CREATE TABLE ans AS {decide}")
    out["plan"] = time.perf_counter() - t
    con.close()
    con = duckdb.connect(str(work / "bench.duckdb"))
    con.execute(f"SET memory_limit = '{memory}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    create_tables(con)
    t = time.perf_counter()
    load_jsonl(con, policy, str(path), 1_000_000)
    out["load"] = time.perf_counter() - t
    t = time.perf_counter()
    for stmt in creates:
        con.execute(stmt)
    out["check"] = time.perf_counter() - t
    # planned once (PREPARE), then executed: the decisions alone. Every answer column is read
    # (a hash of each row, summed) so that no column is pruned, and nothing is fetched into Python
    t = time.perf_counter()
    con.execute(f"PREPARE decide_q AS SELECT count(*), sum(hash(record_id, question, outcome, decisive_rule, basis, "
                f"keep_until, reason_code, problem_code)) FROM ({decide})")
    out["prepare"] = time.perf_counter() - t
    t = time.perf_counter()
    rows = con.execute("EXECUTE decide_q").fetchone()
    out["decide"] = time.perf_counter() - t
    out["answers"] = float(rows[0]) if rows else 0.0
    con.close()
    out["decisions_per_s"] = 3 * n / out["decide"]
    out["decisions_per_s_with_check"] = 3 * n / (out["decide"] + out["check"])
    return out


def row_engine_batch(policy: Any, path: Path, m: int) -> float:
    """Decisions/s of Policy.decide_batch (with reasons, as evaluate) over the first m lines."""
    with open(path, "rb") as fh:
        lines = [fh.readline() for _ in range(m)]
    qs = list(bench.QUESTIONS)
    for _ in policy.decide_batch(lines[:1000], qs, as_of=bench.AS_OF, reasons=True):
        pass
    t = time.perf_counter()
    for _ in policy.decide_batch(lines, qs, as_of=bench.AS_OF, reasons=True):
        pass
    return 3 * len(lines) / (time.perf_counter() - t)


def _canonical_shape(r: dict[str, Any]) -> bool:
    """A record whose fields are all the record format's: the generator also breaks some with a
    typo'd field, which a Parquet file in the flat layout cannot hold as a column."""
    from privacy_rules.records import LIST_FIELDS, RELATIONSHIP_FIELDS, TOP_FIELDS

    if not set(r) <= TOP_FIELDS or not set(r.get("relationship") or {}) <= set(RELATIONSHIP_FIELDS):
        return False
    if not isinstance(r.get("subject_categories", []), list):
        return False
    return all(set(e) <= set(LIST_FIELDS[k][0]) for k in LIST_FIELDS for e in r.get(k) or [])


def write_parquet(jsonl: Path, out: Path, p: int) -> None:
    """The first p records of canonical shape as Parquet in the flat layout: a column per record
    field, event lists as LIST<STRUCT>, relationship and facts as STRUCT."""
    import duckdb

    from privacy_rules.records import TOP_FIELDS

    shaped = out.with_name(out.stem + "-shaped.jsonl")
    with open(jsonl, encoding="utf-8") as src_fh, open(shaped, "w", encoding="utf-8") as dst:
        kept = 0
        for line in src_fh:
            if kept >= p:
                break
            if _canonical_shape(json.loads(line)):
                dst.write(line)
                kept += 1
    con = duckdb.connect()
    src = f"read_json('{shaped}', format = 'newline_delimited', sample_size = -1)"
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall() if r[0] in TOP_FIELDS]
    con.execute(f"COPY (SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} FROM {src}) TO '{out}' (FORMAT parquet)")
    con.close()
    shaped.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--row-records", type=int, default=50_000)
    ap.add_argument("--parquet-records", type=int, default=None, help="default: --records")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep-files", action="store_true")
    a = ap.parse_args()
    n, m = a.records, min(a.row_records, a.records)
    if a.parquet_records is None:
        a.parquet_records = n
    work = Path(tempfile.mkdtemp(prefix="bench-sql-"))
    load_before = os.getloadavg()
    print(f"# bench_sql: {n:,} records, row engine on {m:,}, Parquet on {a.parquet_records:,}; "
          f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; {os.cpu_count()} cores",
          flush=True)
    jsonl = work / "records.jsonl"
    bench.write_jsonl(jsonl, n, a.seed)
    small = work / "records-row.jsonl"
    with open(jsonl, "rb") as src, open(small, "wb") as dst:
        for _ in range(m):
            dst.write(src.readline())
    policy = privacy_rules.compile_pack(str(ROOT / "rules" / "iconfirm"))

    lt = loaded_table(policy, jsonl, n, a.threads, a.memory_limit, work)
    print(f"loaded table: {lt}", flush=True)
    row_dps = row_engine_batch(policy, small, m)
    print(f"row engine decide_batch: {row_dps:,.0f} decisions/s", flush=True)

    common = ["--as-of", bench.AS_OF.isoformat(), "--max-bad", "100%", "--no-progress"]
    duck = ["--engine", "duckdb", "--memory-limit", a.memory_limit] + (["--threads", str(a.threads)] if a.threads else [])
    pack = str(ROOT / "rules" / "iconfirm")
    wall_j, rss_j, err_j = _child(["evaluate", pack, str(jsonl), "-o", str(work / "out.jsonl"), *common, *duck])
    print(f"jsonl duckdb: {wall_j:.1f} s, {rss_j:.0f} MB; {_stages(err_j)}", flush=True)
    wall_r, rss_r, _err = _child(["evaluate", pack, str(small), "-o", str(work / "out-row.jsonl"), *common])
    print(f"jsonl row: {wall_r:.1f} s for {m:,}", flush=True)
    pq, pq_row = work / "records.parquet", work / "records-row.parquet"
    write_parquet(jsonl, pq, a.parquet_records)
    write_parquet(jsonl, pq_row, min(m, a.parquet_records))
    wall_p, rss_p, err_p = _child(["evaluate", pack, str(pq), "-o", str(work / "out-pq.jsonl"), *common, *duck])
    print(f"parquet duckdb: {wall_p:.1f} s, {rss_p:.0f} MB; {_stages(err_p)}", flush=True)
    wall_pr, _rss, _err = _child(["evaluate", pack, str(pq_row), "-o", str(work / "out-pq-row.jsonl"), *common])
    load_after = os.getloadavg()

    rate_j, rate_r = n / wall_j, m / wall_r
    rate_p, rate_pr = a.parquet_records / wall_p, min(m, a.parquet_records) / wall_pr
    rows = [
        ("decisions/s, loaded DuckDB table (3 questions; decide only)", f"{lt['decisions_per_s']:,.0f}",
         f"{lt['decisions_per_s'] / row_dps:.0f}x decide_batch ({row_dps:,.0f}/s)", ">= 20M",
         _mark(lt["decisions_per_s"], GOALS["loaded"])),
        ("decisions/s, loaded table, check layers included", f"{lt['decisions_per_s_with_check']:,.0f}",
         f"{lt['decisions_per_s_with_check'] / row_dps:.0f}x", "", ""),
        (f"records/s end to end, JSONL ({n:,} records)", f"{rate_j:,.0f}",
         f"{rate_j / rate_r:.1f}x evaluate --engine row ({rate_r:,.0f}/s)", ">= 500k", _mark(rate_j, GOALS["jsonl"])),
        (f"records/s end to end, Parquet ({a.parquet_records:,} records)", f"{rate_p:,.0f}",
         f"{rate_p / rate_pr:.1f}x evaluate --engine row ({rate_pr:,.0f}/s)", ">= 2M (10M records)",
         _mark(rate_p, GOALS["parquet"])),
        (f"peak RSS, JSONL end to end ({n:,} records)", f"{rss_j:,.0f} MB", f"row engine {rss_r:,.0f} MB ({m:,})",
         "< 1 GB (10M)", _mark(rss_j, GOALS["rss_mb"], higher=False)),
    ]
    print()
    print("| measure | SQL path | vs row engine (same run) | goal | |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()
    print(f"compile (sqlglot) {lt['compile']:.2f} s, plan+run on empty tables {lt['plan']:.2f} s; loaded table: "
          f"load {lt['load']:.2f} s, check {lt['check']:.2f} s, prepare (plan) {lt['prepare']:.2f} s, "
          f"decide (execute) {lt['decide']:.2f} s")
    print(f"JSONL end to end: {_split(err_j)}; stages: {_stages(err_j)}")
    print(f"Parquet end to end: {_split(err_p)}; stages: {_stages(err_p)}")
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    if not a.keep_files:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"files kept in {work}")


if __name__ == "__main__":
    main()
