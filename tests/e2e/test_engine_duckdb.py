"""`evaluate --engine duckdb` writes what `--engine row` writes (issue 9, item 3): the row
engine is the oracle. Both engines sweep the same inputs and every output is compared:

* JSON Lines and CSV byte for byte; Parquet row for row (the same rows in the same order);
  a decisions table (SQLite) row for row; the --summary JSON field for field but the timing;
* inputs: generated records (benchmarks/bench.py, a fifth of them broken the ways hosts
  break them) with lines added by hand that the SQL path must hand to the row engine (not
  JSON, duplicate keys, undated dates, control characters, blank lines, a repeated id, ids
  that need JSON/CSV escaping) on several as_of days (window ends, 29 February); the bundled
  examples; every host fixture of tests/profiles/hosts with its profile and child table;
  Parquet and SQLite inputs;
* fallbacks: --plan and text output are the row engine's, with a notice naming the code.
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from privacy_rules.cli.main import main

from ..bench_module import load_bench

ROOT = Path(__file__).resolve().parents[2]
ICONFIRM = str(ROOT / "rules" / "iconfirm")
HOSTS = ROOT / "tests" / "profiles" / "hosts"
N_GENERATED = 1500


def _bench() -> Any:
    return load_bench("privacy_rules_bench_for_duckdb")


#: lines the SQL path cannot vouch for, or whose text needs escaping, each as it reaches the file
HAND_LINES = [
    "",  # blank: skipped by both (no row)
    "not json",
    '{"id": "dup", "id": "dup2", "role": "controller"}',  # duplicate key: PR307
    json.dumps({"id": "undated-1", "role": "controller", "contact_address_kind": "work", "source": "web_form",
                "subject_categories": ["prospect"],
                "relationship": {"first_contact_on": {"on_or_before": "2024-02-29"}}}),
    json.dumps({"id": "undated-2", "role": "controller", "contact_address_kind": "personal", "source": "web_form",
                "subject_categories": ["customer"], "relationship": {"customer_since": "2020-01-01",
                                                                       "customer_ended_on": {"on_or_before": "2023-11-30"}}}),
    json.dumps({"id": "ctl\u0001id", "role": "controller", "subject_categories": ["prospect"]}),
    json.dumps({"id": 'quote"back\\slash,comma', "role": "controller", "contact_address_kind": "work",
                "source": "linkedin", "subject_categories": ["prospect"],
                "relationship": {"first_contact_on": "2025-06-01"}}),
    json.dumps({"id": "æøå-ünïcode-𝔘", "role": "controller", "contact_address_kind": "personal",
                "source": "web_form", "subject_categories": ["customer"],
                "relationship": {"customer_since": "2019-03-31", "customer_ended_on": "2023-08-31"}}, ensure_ascii=False),
    json.dumps({"id": "escaped-\u00e9", "role": "controller", "subject_categories": ["prospect"]}),  # \\u00e9 escape
    json.dumps({"id": "repeat", "role": "controller", "subject_categories": ["prospect"],
                "relationship": {"first_contact_on": "2024-11-30"}}),
    json.dumps({"id": "repeat", "role": "processor", "subject_categories": ["customer"]}),
    json.dumps({"id": "nulls", "consents": None, "facts": None}),
    json.dumps({"id": "x" * 201}),
    "[1, 2]",
    "   ",
    json.dumps({"id": "fact-number", "role": "controller", "facts": {"unsubscribed_from_all_email": 1}}),
    json.dumps({"id": "fact-text", "role": "controller", "facts": {"unsubscribed_from_all_email": "yes"}}),
    json.dumps({"id": "nan", "facts": {"unsubscribed_from_all_email": float("nan")}}),
    # the key test without `null` in the line counts known fields (ingest._top_keys_ok)
    # (each would be an allowed prospect if the SQL took it: the row engine finds PR301 / PR307)
    '{"id": "upper-key", "role": "controller", "Source": "web_form", "contact_address_kind": "work", '
    '"subject_categories": ["prospect"], "relationship": {"first_contact_on": "2024-01-31"}}',
    '{"id": "dup-no-null", "role": "processor", "role": "controller", "contact_address_kind": "work", '
    '"source": "web_form", "subject_categories": ["prospect"], "relationship": {"first_contact_on": "2024-01-31"}}',
    '{"id": "dup-and-null", "role": null, "role": "controller", "subject_categories": ["customer"]}',
    json.dumps({"id": "null-in-text", "role": "controller", "source": "nullable", "subject_categories": ["prospect"],
                "relationship": {"first_contact_on": "2024-02-29"}}),
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bench = _bench()
    path = tmp_path_factory.mktemp("duckdb") / "records.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in bench.iter_records(N_GENERATED, seed=9)]
    for i, hand in enumerate(HAND_LINES):  # spread through the file
        lines.insert(i * (len(lines) // len(HAND_LINES)), hand)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(engine: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["evaluate", ICONFIRM, *args, "--engine", engine, "--no-progress"], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _summary(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    for k in ("elapsed_seconds", "records_per_second"):
        data.pop(k)
    data["output"].pop("name", None)
    return dict(data)


def _outputs(tmp: Path, engine: str, fmt: str, args: list[str]) -> tuple[int, Any, dict[str, Any], str]:
    out = tmp / f"{engine}.{fmt}"
    summ = tmp / f"{engine}.summary.json"
    code, _stdout, err = _run(engine, *args, "-o", str(out), "--summary", str(summ))
    if fmt == "parquet":
        import duckdb

        con = duckdb.connect()
        body: Any = con.execute("SELECT * FROM read_parquet(?)", [str(out)]).fetchall() if out.exists() else None
        con.close()
    else:
        body = out.read_bytes() if out.exists() else None
    return code, body, _summary(summ), err


def _same(tmp: Path, fmt: str, args: list[str]) -> int:
    """Run both engines; assert equal outputs; the number of rows compared."""
    code_r, body_r, sum_r, err_r = _outputs(tmp, "row", fmt, args)
    code_d, body_d, sum_d, err_d = _outputs(tmp, "duckdb", fmt, args)
    assert code_d == code_r, (err_r, err_d)
    assert body_d == body_r
    assert sum_d == sum_r
    assert "engine duckdb:" in err_d and "notice" not in err_d
    assert body_r is not None
    return int(sum_r["rows"])


@pytest.mark.parametrize("as_of", ["2024-02-29", "2026-11-25"])
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_generated_records_every_output_format(generated: Path, tmp_path: Path, fmt: str, as_of: str) -> None:
    rows = _same(tmp_path, fmt, [str(generated), "--as-of", as_of, "--max-bad", "100%"])
    assert rows == N_GENERATED + len([h for h in HAND_LINES if h.strip()])


def test_the_sql_decides_most_generated_rows_and_hands_the_rest_to_the_row_engine(generated: Path) -> None:
    code, _out, err = _run("duckdb", str(generated), "--as-of", "2026-11-25", "--max-bad", "100%")
    assert code == 0
    line = next(x for x in err.splitlines() if x.startswith("engine duckdb:"))
    words = line.split()
    n_sql, n_row = int(words[2].replace(",", "")), int(words[7].replace(",", ""))
    assert n_sql + n_row == N_GENERATED + len([h for h in HAND_LINES if h.strip()])
    assert n_sql > 0 and n_row >= len([h for h in HAND_LINES if h.strip()]) - 4  # the hand lines, bar a few plain ones


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_examples(tmp_path: Path, fmt: str) -> None:
    _same(tmp_path, fmt, [str(ROOT / "examples" / "records.jsonl"), "--as-of", "2026-11-25"])
    _same(tmp_path, fmt, [str(ROOT / "examples" / "hubspot-contacts.csv"), "--profile", "hubspot-export",
                          "--known-on", "2026-11-25", "--as-of", "2026-11-25"])


def _host_args(host: Path) -> list[list[str]]:
    run = json.loads((host / "run.json").read_text(encoding="utf-8"))
    base = ["--profile", run["profile"], "--known-on", run["known_on"], "--as-of", run["known_on"]]
    for name, child in (run.get("children") or {}).items():
        base += ["--child", f"{name}={host / child['file']}"]
    out = [[str(host / run["rows"]), *base]]
    if (host / "contacts-api.json").exists():
        out.append([str(host / "contacts-api.json"), *[a for a in base if not a.startswith("consents=")]])
    return out


@pytest.mark.parametrize("host", sorted(p.name for p in HOSTS.iterdir() if (p / "run.json").exists()))
def test_host_fixtures_through_their_profiles(tmp_path: Path, host: str) -> None:
    for args in _host_args(HOSTS / host)[:1]:
        assert _same(tmp_path, "jsonl", args) > 0


def test_parquet_and_sqlite_inputs_and_an_output_table(tmp_path: Path) -> None:
    import duckdb

    csv_in = ROOT / "examples" / "hubspot-contacts.csv"
    pq = tmp_path / "contacts.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_csv('{csv_in}', all_varchar = true)) TO '{pq}' (FORMAT parquet)")
    rows = con.execute(f"SELECT * FROM read_csv('{csv_in}', all_varchar = true)").fetchall()
    cols = [d[0] for d in con.description]
    con.close()
    common = ["--profile", "hubspot-export", "--known-on", "2026-11-25", "--as-of", "2026-11-25"]
    _same(tmp_path, "jsonl", [str(pq), *common])
    for engine in ("row", "duckdb"):
        db = tmp_path / f"{engine}.sqlite"
        lite = sqlite3.connect(db)
        lite.execute("CREATE TABLE contacts (" + ", ".join(f'"{c}" TEXT' for c in cols) + ")")
        lite.executemany(f"INSERT INTO contacts VALUES ({', '.join('?' * len(cols))})", rows)
        lite.commit()
        lite.close()
        code, _out, err = _run(engine, str(db), "--table", "contacts", "--output-table", "decisions", *common)
        assert code == 0, err
    got = []
    for engine in ("row", "duckdb"):
        lite = sqlite3.connect(tmp_path / f"{engine}.sqlite")
        got.append(lite.execute("SELECT * FROM decisions ORDER BY row, question").fetchall())
        lite.close()
    assert got[0] == got[1] and len(got[0]) == 15 * 3


def test_max_bad_and_fail_on_gate_alike(generated: Path, tmp_path: Path) -> None:
    for args in (["--max-bad", "3"], ["--max-bad", "100%", "--fail-on", "undetermined"], ["--max-bad", "0.01%"]):
        full = [str(generated), "--as-of", "2025-01-31", *args]
        r = _run("row", *full)
        d = _run("duckdb", *full)
        assert d[0] == r[0] and d[1] == r[1], args
        strip = [x for x in d[2].splitlines() if not x.startswith("engine duckdb:") and " rows, " not in x]
        assert strip == [x for x in r[2].splitlines() if " rows, " not in x], args


@pytest.mark.parametrize("extra,code", [(["--plan"], "PR720"), (["--format", "text"], "PR721")])
def test_what_the_sql_path_does_not_do_falls_back_with_a_notice(extra: list[str], code: str) -> None:
    args = [str(ROOT / "examples" / "records.jsonl"), "--as-of", "2026-11-25", *extra]
    r = _run("row", *args)
    d = _run("duckdb", *args)
    assert d[1] == r[1] and d[0] == r[0]
    assert f"notice {code}: --engine duckdb:" in d[2]


def test_a_bad_memory_limit_is_a_usage_error() -> None:
    code, _out, err = _run("duckdb", str(ROOT / "examples" / "records.jsonl"), "--memory-limit", "lots")
    assert code == 2 and "--memory-limit" in err


# --- privacy-rules test PACK --engine duckdb ---------------------------------------------------------


def _test(engine: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["test", *args, "--engine", engine], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("args", [[str(ROOT / "tests" / "packs" / "mini")],
                                  [ICONFIRM, "--scenarios", str(ROOT / "rules" / "iconfirm" / "scenarios" / "outcomes.yaml")]])
def test_scenarios_pass_through_the_sql_path_as_through_the_row_engine(args: list[str]) -> None:
    row = _test("row", *args)
    duck = _test("duckdb", *args)
    assert row[0] == duck[0] == 0, duck
    assert duck[1] == row[1]  # the same report: every scenario passes, the same coverage
    line = next(x for x in duck[2].splitlines() if x.startswith("engine duckdb:"))
    assert int(line.split()[2].replace(",", "")) > 0


def test_a_wrong_expectation_fails_through_the_sql_path(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "packs" / "mini" / "scenarios" / "basic.yaml").read_text(encoding="utf-8")
    wrong = text.replace('keep_until: "2023-08-31"', 'keep_until: "2023-09-01"', 1)
    assert wrong != text
    path = tmp_path / "wrong.yaml"
    path.write_text(wrong, encoding="utf-8")
    code, out, _err = _test("duckdb", str(ROOT / "tests" / "packs" / "mini"), "--scenarios", str(path))
    assert code == 1
    assert "keep_until" in out and "2023-09-01" in out


# --- Parquet read by DuckDB itself (flat layout, LIST<STRUCT> event lists) ---------------------------


def _canonical_shape(r: dict[str, Any]) -> bool:
    """A generated record whose fields are all the record format's (the generator also breaks
    some with typo'd fields, which a Parquet file in the flat layout cannot hold as columns)."""
    from privacy_rules.records import LIST_FIELDS, RELATIONSHIP_FIELDS, TOP_FIELDS

    if not set(r) <= TOP_FIELDS or not set(r.get("relationship") or {}) <= set(RELATIONSHIP_FIELDS):
        return False
    if not isinstance(r.get("subject_categories", []), list):
        return False
    return all(set(e) <= set(LIST_FIELDS[k][0]) for k in LIST_FIELDS for e in r.get(k) or [])


@pytest.fixture(scope="module")
def parquet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import duckdb

    bench = _bench()
    tmp = tmp_path_factory.mktemp("duckdb-parquet")
    src = tmp / "records.jsonl"
    records = [r for r in bench.iter_records(N_GENERATED, seed=11) if _canonical_shape(r)]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    out = tmp / "records.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_json('{src}', format = 'newline_delimited', sample_size = -1) "
                f"UNION ALL BY NAME SELECT * FROM (VALUES ('', 'controller'), ('quote\"id', 'controller'), "
                f"('empty-role', ''), ('nulls', NULL)) v(id, role)) TO '{out}' (FORMAT parquet)")
    con.close()
    return out


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_parquet_read_by_duckdb_as_the_row_engine_reads_it(parquet_file: Path, tmp_path: Path, fmt: str) -> None:
    rows = _same(tmp_path, fmt, [str(parquet_file), "--as-of", "2024-02-29", "--max-bad", "100%"])
    assert rows > N_GENERATED // 2
    _code, _out, err = _run("duckdb", str(parquet_file), "--as-of", "2024-02-29", "--max-bad", "100%")
    assert "input read by DuckDB" in err  # the native path, not the Python reader
