#!/usr/bin/env python
"""`privacy-rules check` on large generated packs, against the old algorithms, in ONE process.

    python benchmarks/bench_check.py [--sizes 1000,5000] [--files F] [--seed S] [--repeats R]
                                     [--no-old] [--quick] [--keep-files]

For each size N it writes a pack of N rules with benchmarks/gen_pack.py (Iconfirm's rules
varied, with duplicates, shadowed permits and unreachable rules) and measures:

1. the stages of `check` in this process (median of R runs, wall and CPU): YAML loading, JSON
   Schema validation, building the pack plus the semantic checks, lint, and the whole
   ``read_pack`` (what `check` runs); then the same with the old algorithms put back (schema:
   jsonschema on every file; lint: the plain pairwise PR501/PR530 definitions
   ``iter_lint_problems_plain``), and checks that both lints give the same findings;
2. the whole command in a fresh process, `privacy-rules check PACK` (wall, and the child's CPU
   time), new and old (the old algorithms patched in by a 6-line driver), and the start-up of
   `privacy-rules decide` on one record, which no longer lints.

Prints a table with old/new ratios, the lint share of `check`, and the issue's target (check
of a 5,000-rule pack under 5 s). See benchmarks/README.md, "bench_check.py".
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence
from unittest import mock

import privacy_rules
import privacy_rules.pack as pack_module
from privacy_rules.load import load_yaml_file
from privacy_rules.validate import lint, schema

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RECORD = ROOT / "examples" / "record-former-customer.json"
TARGET_S = 5.0

# The fresh-process driver: `check` (or `decide`) with the new algorithms, or with the old
# ones patched back in (jsonschema on every file, the plain pairwise lint, lint on every load
# of a pack by the CLI).
DRIVER = """
import sys
mode, args = sys.argv[1], sys.argv[2:]
if mode == "old":
    import importlib, pkgutil
    import privacy_rules.cli, privacy_rules.pack as pack
    from privacy_rules.validate import lint, schema
    pack.iter_lint_problems = lint.iter_lint_problems_plain
    schema._fast_check = lambda name: None
    linting = lambda root, *, as_of=None, lint=True: pack.read_pack(root, as_of=as_of)
    for info in pkgutil.iter_modules(privacy_rules.cli.__path__):  # wherever the CLI loads packs
        module = importlib.import_module("privacy_rules.cli." + info.name)
        if getattr(module, "read_pack", None) is pack.read_pack:
            module.read_pack = linting
from privacy_rules.cli.main import main
sys.exit(main(args))
"""


def _gen_pack() -> Any:
    spec = importlib.util.spec_from_file_location("privacy_rules_gen_pack", HERE / "gen_pack.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _say(*parts: Any) -> None:
    print(*parts, flush=True)


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """(median wall s, median CPU s, result of the last run); no warm-up (the callers make one)."""
    walls, cpus, result = [], [], None
    for _ in range(max(1, repeats)):
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


@contextmanager
def old_algorithms() -> Iterator[None]:
    """The algorithms before issue 7 item 10: jsonschema alone, and the plain pairwise lint."""
    with mock.patch.object(schema, "_fast_check", lambda name: None), \
            mock.patch.object(pack_module, "iter_lint_problems", lint.iter_lint_problems_plain):
        yield


def in_process(folder: Path, repeats: int, old: bool) -> dict[str, Any]:
    """Stage timings (wall, CPU) of `check`'s work on the pack in ``folder``."""
    head_path = folder / "pack.yaml"
    names = load_yaml_file(str(head_path)).data["files"]
    paths = [str(folder / n) for n in names]
    out: dict[str, Any] = {}

    def load_all() -> list[Any]:
        return [load_yaml_file(p) for p in paths]

    files = load_all()  # warm-up: imports, schema compilation, caches
    out["yaml"] = _timed(load_all, repeats)[:2]
    out["schema"] = _timed(lambda: [list(schema.iter_schema_errors(f, "rules.schema.json")) for f in files],
                           repeats)[:2]
    validator = schema._validator("rules.schema.json")
    if old:
        out["schema_old"] = _timed(lambda: [list(validator.iter_errors(f.data)) for f in files], repeats)[:2]
    wall, cpu, (pack, diags) = _timed(lambda: privacy_rules.check_pack(folder, lint=False), repeats)
    out["no_lint"] = (wall, cpu)
    assert pack is not None, [str(d) for d in diags if d.severity.value == "error"][:5]
    head = load_yaml_file(str(head_path))
    wall, cpu, fast = _timed(lambda: list(lint.iter_lint_problems(pack, head)), repeats)
    out["lint"] = (wall, cpu)
    out["findings"] = len(fast)
    out["check"] = _timed(lambda: privacy_rules.check_pack(folder), repeats)[:2]
    out["load_compile"] = _timed(lambda: privacy_rules.compile_pack(privacy_rules.load_pack(folder)), repeats)[:2]
    if old:
        # the old lint is slow (quadratic): one run
        wall, cpu, plain = _timed(lambda: list(lint.iter_lint_problems_plain(pack, head)), 1)
        out["lint_old"] = (wall, cpu)
        out["same_findings"] = plain == fast
        with old_algorithms():
            out["check_old"] = _timed(lambda: privacy_rules.check_pack(folder), 1)[:2]
            # before, load_pack linted too (read_pack with lint, then compile)
            out["load_compile_old"] = _timed(
                lambda: privacy_rules.compile_pack(privacy_rules.check_pack(folder)[0]), 1)[:2]  # type: ignore[arg-type]
    return out


def fresh_process(args: Sequence[str], mode: str, repeats: int) -> tuple[float, float, int]:
    """(median wall s, median child CPU s, exit code) of the CLI with ``args`` in a new interpreter."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(privacy_rules.__file__).resolve().parent.parent)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    walls, cpus, code = [], [], 0
    for _ in range(max(1, repeats)):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", DRIVER, mode, *args], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, env=env, check=False)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        code = proc.returncode
        if code not in (0, 1):
            raise SystemExit(f"{mode} {' '.join(args)} exited {code}:\n{proc.stderr.decode()[-2000:]}")
    return statistics.median(walls), statistics.median(cpus), code


def machine_info() -> list[str]:
    commit = "?"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        load = "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = ""
    return [f"python   {platform.python_implementation()} {platform.python_version()} ({sys.executable})",
            f"cpu      os.cpu_count() = {os.cpu_count()}; {load}",
            f"library  privacy_rules from {Path(privacy_rules.__file__).parent}, git HEAD {commit}"]


def _s(pair: tuple[float, float] | None) -> str:
    return "n/a" if pair is None else f"{pair[0]:7.2f} s ({pair[1]:.2f} CPU)"


def _ratio(old: tuple[float, float] | None, new: tuple[float, float] | None) -> str:
    if old is None or new is None or new[1] <= 0:
        return ""
    return f"{old[1] / new[1]:,.1f}x (CPU)"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=None, help="comma-separated rule counts (default 1000,5000; --quick 300)")
    ap.add_argument("--files", type=int, default=50, help="rule files per pack (default 50)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=None, help="timed runs of each new stage (default 3; --quick 1)")
    ap.add_argument("--no-old", action="store_true", help="skip the old algorithms (the plain lint is quadratic)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 300 rules, 1 repeat")
    ap.add_argument("--keep-files", action="store_true", help="keep the generated packs")
    args = ap.parse_args(argv)
    sizes = [int(x) for x in (args.sizes or ("300" if args.quick else "1000,5000")).split(",")]
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    old = not args.no_old
    gen = _gen_pack()

    _say(f"privacy-rules check benchmark - {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    _say("command: python " + " ".join([os.path.relpath(__file__, os.getcwd())] +
                                       list(argv if argv is not None else sys.argv[1:])))
    for line in machine_info():
        _say("  " + line)
    _say(f"  packs: benchmarks/gen_pack.py, seed {args.seed}, {args.files} files; in-process stages: median of "
         f"{repeats} run(s) after a warm-up; old algorithms: 1 run")
    work = Path(tempfile.mkdtemp(prefix=".bench-work-check-", dir=HERE))
    t_start, wall0 = os.times(), time.perf_counter()
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        for n in sizes:
            folder = work / f"pack-{n}"
            gen.write_pack(folder, n, min(args.files, n), args.seed)
            size = sum(p.stat().st_size for p in folder.glob("*.yaml"))
            _say(f"\n[{n:,} rules] {folder.relative_to(ROOT)}: {size / 1e6:.1f} MB of YAML")
            r = in_process(folder, repeats, old)
            r["cli"] = fresh_process(["check", str(folder)], "new", repeats)
            r["decide"] = fresh_process(["decide", str(folder), str(RECORD), "--as-of", "2024-02-29"], "new", repeats)
            if old:
                r["cli_old"] = fresh_process(["check", str(folder)], "old", 1)
                r["decide_old"] = fresh_process(["decide", str(folder), str(RECORD), "--as-of", "2024-02-29"], "old", 1)
            rows.append((n, r))
            lines = [
                ("YAML load", r["yaml"], None),
                ("JSON Schema validation", r["schema"], r.get("schema_old")),
                ("read_pack without lint (load, schema, build, semantic)", r["no_lint"], None),
                (f"lint ({r['findings']:,} findings)", r["lint"], r.get("lint_old")),
                ("read_pack with lint = check's work, in process", r["check"], r.get("check_old")),
                ("load_pack + compile_pack (decide/evaluate start-up)", r["load_compile"], r.get("load_compile_old")),
                ("`privacy-rules check`, fresh process", r["cli"][:2], r.get("cli_old", (0, 0, 0))[:2] if old else None),
                ("`privacy-rules decide`, one record, fresh process", r["decide"][:2],
                 r.get("decide_old", (0, 0, 0))[:2] if old else None),
            ]
            _say(f"    {'stage':56} {'new':>22}  {'old':>22}  old/new")
            for label, new, before in lines:
                _say(f"    {label:56} {_s(new):>22}  {_s(before) if before else '':>22}  {_ratio(before, new)}")
            share = r["lint"][1] / r["check"][1] if r["check"][1] else 0.0
            old_share = (r["lint_old"][1] / r["check_old"][1]) if old and r["check_old"][1] else None
            _say(f"    lint share of check (CPU): new {share:.0%}" +
                 (f", old {old_share:.0%}" if old_share is not None else ""))
            if old:
                _say(f"    fast lint == plain lint (codes, messages, spans, order): {r['same_findings']}")
                if not r["same_findings"]:
                    raise SystemExit("the fast lint differs from the plain definition: a bug")
    finally:
        if args.keep_files:
            _say(f"\nkept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    _say("\n" + "=" * 96)
    _say(f"{'rules':>7}  {'check (fresh process)':>24}  {'old':>12}  {'old/new':>8}  {'lint new':>9}  {'lint old':>9}"
         f"  {'lint share':>10}")
    for n, r in rows:
        cli_old = f"{r['cli_old'][0]:.2f} s" if old else "n/a"
        ratio = f"{r['cli_old'][1] / r['cli'][1]:.1f}x" if old and r["cli"][1] else "n/a"
        lint_old = f"{r['lint_old'][1]:.2f} s" if old else "n/a"
        _say(f"{n:>7,}  {r['cli'][0]:>10.2f} s ({r['cli'][1]:.2f} CPU)  {cli_old:>12}  {ratio:>8}  "
             f"{r['lint'][1]:>7.2f} s  {lint_old:>9}  {r['lint'][1] / r['check'][1]:>10.0%}")
    big = [r for n, r in rows if n >= 5000]
    if big:
        wall = big[0]["cli"][0]
        _say(f"target: `privacy-rules check` of a 5,000-rule pack < {TARGET_S:.0f} s: {wall:.2f} s wall, "
             f"{big[0]['cli'][1]:.2f} s CPU: {'MET' if wall < TARGET_S else 'NOT MET'}")
    t_end, wall = os.times(), time.perf_counter() - wall0
    cpu = sum(t_end[:4]) - sum(t_start[:4])  # user + system, of this process and its children
    _say(f"CPU share of the run (CPU time of this process and its children / wall time): {cpu / wall:.0%}; below "
         f"~90% other processes took CPU. Old/new ratios are of CPU time, which that disturbs less than wall time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
