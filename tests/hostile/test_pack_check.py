"""Issue 7, items 1, 2, 8 and 9: `check` refuses every pack that would later be wrong or crash.

Fixtures: tests/hostile/pack_check/<case>/ (crafted packs, the fuzz seed corpus) and
tests/hostile/pack_check/seed/ (a valid pack using every optional key and predicate, the
starting point of tests/hostile/pack_mutations.py). FIFOs and symbolic links are made at test
time in a temporary folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import privacy_rules
from privacy_rules import PackError, Question
from privacy_rules.cli.main import main
from privacy_rules.compile.codegen import CompileError, _lit
from privacy_rules.load import load_yaml_file
from privacy_rules.model import Severity
from privacy_rules.pack import MAX_RULE_FILES, read_pack
from privacy_rules.scenarios import load_scenarios, run_pack_scenarios
from privacy_rules.validate.schema import validate_instance
from privacy_rules.validate.semantic import MAX_DAY, MIN_DAY, check_duplicate_ids, check_identifiers
from tests.hostile import pack_mutations

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "pack_check"
SEED = FIXTURES / "seed"
MINI = HERE.parents[0] / "packs" / "mini"
SCHEMAS = Path(privacy_rules.__file__).parent / "schemas"


#: fixture folder -> the error codes `check` must report (and nothing else at error level)
EXPECTED: dict[str, list[str]] = {
    "rule-id-trailing-newline": ["PR212"],
    "rule-id-zero-width": ["PR212"],
    "rule-id-bidi-override": ["PR212"],
    "rule-id-c1-control": ["PR212"],
    "purpose-key-newline": ["PR212"],
    "channel-key-isolate": ["PR212"],
    "window-key-line-separator": ["PR212"],
    "norm-id-newline": ["PR212"],
    "obligation-id-del": ["PR212"],
    "pack-id-lrm": ["PR212"],
    "question-newline": ["PR212"],
    "fact-path-newline": ["PR212"],
    "version-tag-character": ["PR212"],
    "file-name-bidi": ["PR212"],
    "time-zone-newline": ["PR212"],
    "questions-unknown-ids": ["PR202", "PR202", "PR202"],
    "time-zone-unknown": ["PR209"],
    "time-zone-directory": ["PR209"],
    "window-million-months": ["PR210"],
    "window-101-years": ["PR210"],
    "dpa-year-one": ["PR211"],
    "transfer-year-9999": ["PR211"],
    "mechanism-before-1900": ["PR211"],
    "review-after-2200": ["PR211"],
    "fact-before-year-one": ["PR211"],
    "dpa-impossible-day": ["PR100"],
    "norm-id-5000-digits": ["PR100"],
    "scenario-parent-path": ["PR009"],
    "too-many-files": ["PR010"],
    "fact-undeclared": ["PR223"],
    "fact-kind-mismatch": ["PR224", "PR224"],
    "fact-if-absent-wrong": ["PR225", "PR225"],
}
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name != "seed")


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _errors(folder: Path) -> list[str]:
    pack, diags = read_pack(folder)
    assert pack is None
    return sorted(d.code for d in diags if d.severity is Severity.ERROR)


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(EXPECTED) == CASES


@pytest.mark.parametrize("case", CASES)
def test_hostile_pack_is_refused_by_check_with_its_code(case: str) -> None:
    folder = FIXTURES / case
    assert _errors(folder) == sorted(EXPECTED[case])
    with pytest.raises(PackError):
        privacy_rules.load_pack(folder)
    code, out, _ = run("check", str(folder))
    assert code == 1 and all(c in out for c in EXPECTED[case])
    for d in read_pack(folder)[1]:
        # the message and help show user values with invisible characters escaped
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]", str(d))


@pytest.mark.parametrize("case", CASES)
def test_commands_on_a_refused_pack_exit_2_never_3(case: str, tmp_path: Path) -> None:
    folder = str(FIXTURES / case)
    record = tmp_path / "r.json"
    record.write_text(json.dumps(pack_mutations.RECORDS[1]))
    records = tmp_path / "r.jsonl"
    records.write_text(json.dumps(pack_mutations.RECORDS[1]) + "\n")
    for args in (("decide", folder, str(record), "--as-of", "2024-02-29"),
                 ("evaluate", folder, str(records), "--as-of", "2024-02-29"),
                 ("test", folder), ("render", folder, "-o", str(tmp_path / "review.html"))):
        code, _, err = run(*args)
        assert code == 2, (args, err)


def test_the_outside_file_of_a_scenario_fixture_is_never_quoted() -> None:
    code, out, err = run("test", str(FIXTURES / "scenario-parent-path"))
    assert code == 2 and "must never read this" not in out + err


# --- item 1: caps are errors, never truncations --------------------------------------------

_FORBID = """rules:
  - id: contact.stop{n}
    question: contact
    effect: forbid
    cites: {{norms: [N44]}}
    explain: {{en: "stop", nb: "stopp"}}
"""


def _many_files(tmp_path: Path, count: int) -> Path:
    """Mini with ``count`` rule files: rules.yaml first, then files whose last holds a forbid."""
    folder = tmp_path / f"pack{count}"
    shutil.copytree(MINI, folder)
    names = ["rules.yaml"] + [f"extra{i:03d}.yaml" for i in range(1, count)]
    for i, name in enumerate(names[1:], start=1):
        body = _FORBID.format(n=i) if i == count - 1 else _FORBID.format(n=i).replace("effect: forbid", "effect: obligation\n    obligations: [{id: note, text: {en: n, nb: n}}]")
        (folder / name).write_text(body, encoding="utf-8")
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    (folder / "pack.yaml").write_text(text.replace("files: [rules.yaml]", "files: [" + ", ".join(names) + "]"),
                                      encoding="utf-8")
    return folder


NEWSLETTER_OK: dict[str, Any] = {
    "id": "n-1", "role": "controller", "subject_categories": ["prospect"],
    "relationship": {"first_contact_on": "2023-01-01"},
    "consents": [{"purpose": "newsletter", "given_on": "2023-01-01"}],
}


def test_the_forbid_in_the_last_allowed_file_applies(tmp_path: Path) -> None:
    pack = privacy_rules.load_pack(_many_files(tmp_path, MAX_RULE_FILES))
    policy = privacy_rules.compile_pack(pack)
    d = policy.decide(NEWSLETTER_OK, Question.contact("newsletter", "email"), as_of=date(2024, 2, 29))
    assert d.outcome.value == "deny" and d.decisive_rule == f"contact.stop{MAX_RULE_FILES - 1}"


def test_a_pack_past_the_file_limit_is_refused_not_cut_short(tmp_path: Path) -> None:
    # Before the fix the 201st file was silently dropped: check passed, and its forbid gave allow.
    folder = _many_files(tmp_path, MAX_RULE_FILES + 1)
    assert _errors(folder) == ["PR010"]
    with pytest.raises(PackError) as exc:
        privacy_rules.load_pack(folder)
    assert "201 rule files" in str(exc.value)


# --- the content hash ----------------------------------------------------------------------


def test_version_is_the_full_hash_of_the_checked_bytes(tmp_path: Path) -> None:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    v1 = privacy_rules.load_pack(folder).version
    assert re.fullmatch(r"0\.1\.0\+[0-9a-f]{64}", v1)
    loaded = load_yaml_file(folder / "rules.yaml")
    assert loaded.sha256 == hashlib.sha256((folder / "rules.yaml").read_bytes()).hexdigest()
    with open(folder / "rules.yaml", "a", encoding="utf-8") as fh:
        fh.write("# a comment changes the bytes, so the version\n")
    v2 = privacy_rules.load_pack(folder).version
    assert v2 != v1
    # scenario files test the pack but decide nothing: editing one keeps the version
    with open(folder / "scenarios" / "basic.yaml", "a", encoding="utf-8") as fh:
        fh.write("# scenario edit\n")
    assert privacy_rules.load_pack(folder).version == v2


def test_version_depends_on_file_order(tmp_path: Path) -> None:
    folder = _many_files(tmp_path, 3)
    v1 = privacy_rules.load_pack(folder).version
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    (folder / "pack.yaml").write_text(text.replace("extra001.yaml, extra002.yaml", "extra002.yaml, extra001.yaml"),
                                      encoding="utf-8")
    assert privacy_rules.load_pack(folder).version != v1


# --- item 2: ids match whole strings and hold no invisible characters -----------------------

DANGEROUS = ["\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\x9b", "\u00ad", "\u061c", "\u200b", "\u200c",
             "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2060", "\u2066",
             "\u2067", "\u2068", "\u2069", "\u2028", "\u2029", "\ufeff"]


def _schema_patterns() -> Iterator[tuple[str, str, str]]:
    def walk(node: Any, where: str, name: str) -> Iterator[tuple[str, str, str]]:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "pattern":
                    yield name, where, v
                assert k != "patternProperties", f"{name} {where}: patternProperties keys are not anchored"
                yield from walk(v, f"{where}/{k}", name)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, f"{where}/{i}", name)

    for path in sorted(SCHEMAS.glob("*.schema.json")):
        yield from walk(json.loads(path.read_text(encoding="utf-8")), "#", path.name)


PATTERNS = list(_schema_patterns())
SAMPLES = ["keep", "keep.prospect-window", "legitimate_interest", "N28", "R2", "2024-02-29", "NO",
           "Europe/Oslo", "relationship.first_contact_on", "facts.signed_on", "vouchers[].fiscal_year_end",
           "rules.yaml", "scenarios/keep.yaml", "eu-gdpr:A6-1-f", "contact:newsletter:email",
           "share:hubspot:newsletter", "keep:relationship_record", "0.1.0", "newsletter", "1%"]


@pytest.mark.parametrize("schema, where, pattern", PATTERNS, ids=[f"{s}{w}" for s, w, _ in PATTERNS])
def test_every_schema_pattern_matches_the_whole_string(schema: str, where: str, pattern: str) -> None:
    # `$` alone matches before a final newline in Python (jsonschema uses re.search); the
    # lookahead makes the pattern mean the same in Python and ECMA-262.
    assert pattern.startswith("^") and pattern.endswith("$(?![\\s\\S])"), pattern
    matched = [s for s in SAMPLES if re.search(pattern, s)]
    assert matched, f"no sample matches {pattern}; add one to SAMPLES"
    for s in matched:
        for ch in ("\n", "\r\n", "\u2028"):
            assert not re.search(pattern, s + ch), (pattern, s + ch)


def _pack_data() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml_file(SEED / "pack.yaml").data
    return data


def _rules_data() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml_file(SEED / "rules.yaml").data
    return data


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _rename(data: dict[str, Any], path: tuple[Any, ...], new: str) -> None:
    for key in path[:-1]:
        data = data[key]
    data[new] = data.pop(path[-1])


#: (name, schema, build(ch) -> the document with ``ch`` in one identifier)
IDENTIFIERS: list[tuple[str, str, Callable[[str], Any]]] = []


def _position(name: str, schema: str, make: Callable[[], dict[str, Any]], edit: Callable[[dict[str, Any], str], None]) -> None:
    def build(ch: str) -> Any:
        data = make()
        edit(data, ch)
        return data
    IDENTIFIERS.append((name, schema, build))


_position("pack id", "pack", _pack_data, lambda d, c: _set(d, ("pack", "id"), "seed" + c))
_position("default scope", "pack", _pack_data, lambda d, c: _set(d, ("pack", "default_scope"), "record" + c))
_position("question", "pack", _pack_data, lambda d, c: _set(d, ("pack", "questions", 0), "keep" + c))
_position("norm id key", "pack", _pack_data, lambda d, c: _rename(d, ("pack", "norms", "N1"), "N1" + c))
_position("version", "pack", _pack_data, lambda d, c: _set(d, ("pack", "version"), "0.1.0" + c))
_position("time zone", "pack", _pack_data, lambda d, c: _set(d, ("pack", "time_zone"), "Europe/Oslo" + c))
_position("rule file", "pack", _pack_data, lambda d, c: _set(d, ("files", 0), "rules" + c + ".yaml"))
_position("scenario file", "pack", _pack_data, lambda d, c: _set(d, ("scenarios", 0), "x" + c + ".yaml"))
for _section, _key in (("lawful_bases", "consent"), ("subject_categories", "prospect"), ("scopes", "record"),
                       ("purposes", "crm"), ("channels", "email"), ("transfer_mechanisms", "sccs"),
                       ("recipients", "partner"), ("windows", "prospect"), ("data_categories", "ordinary")):
    def _rename_key(d: dict[str, Any], c: str, s: str = _section, k: str = _key) -> None:
        _rename(d, ("vocabulary", s, k), k + c)
    _position(f"{_section} key", "pack", _pack_data, _rename_key)
_position("purpose basis", "pack", _pack_data,
          lambda d, c: _set(d, ("vocabulary", "purposes", "crm", "basis"), "legitimate_interest" + c))
_position("transfer mechanism", "pack", _pack_data,
          lambda d, c: _set(d, ("vocabulary", "recipients", "crm_us", "transfers", 0, "mechanism"), "sccs" + c))
_position("window anchor", "pack", _pack_data,
          lambda d, c: _set(d, ("vocabulary", "windows", "prospect", "from"), "relationship.first_contact_on" + c))
_position("list window anchor", "pack", _pack_data,
          lambda d, c: _set(d, ("vocabulary", "windows", "vouchers", "from"), "vouchers[].fiscal_year_end" + c))
_position("country", "pack", _pack_data,
          lambda d, c: _set(d, ("vocabulary", "recipients", "crm_us", "country"), "US" + c))
_position("dpv", "pack", _pack_data,
          lambda d, c: _set(d, ("vocabulary", "lawful_bases", "consent", "dpv"), "eu-gdpr:A6-1-a" + c))
_position("date", "pack", _pack_data,
          lambda d, c: _set(d, ("vocabulary", "recipients", "crm_us", "dpa", "signed_on"), "2018-05-25" + c))
_position("rule id", "rules", _rules_data, lambda d, c: _set(d, ("rules", 0, "id"), "keep.prospect" + c))
_position("obligation id", "rules", _rules_data,
          lambda d, c: _set(d, ("rules", 2, "obligations", 0, "id"), "respond" + c))
_position("cited norm", "rules", _rules_data, lambda d, c: _set(d, ("rules", 0, "cites", "norms", 0), "N2" + c))
_position("rule basis", "rules", _rules_data, lambda d, c: _set(d, ("rules", 0, "basis"), "legitimate_interest" + c))
_position("rule target", "rules", _rules_data, lambda d, c: _set(d, ("rules", 0, "scopes", 0), "record" + c))
_position("window reference", "rules", _rules_data, lambda d, c: _set(d, ("rules", 0, "when", 1), {"within": "prospect" + c}))
_position("happened path", "rules", _rules_data,
          lambda d, c: _set(d, ("rules", 0, "when", 2), {"not": {"happened": "relationship.customer_since" + c}}))
_position("fact path", "rules", _rules_data,
          lambda d, c: _set(d, ("rules", 1, "when", 2, "any", 0), {"fact": {"path": "source" + c, "equals": "x"}}))
_position("fact date", "rules", _rules_data,
          lambda d, c: _set(d, ("rules", 2, "when", 0, "any", 5), {"fact": {"path": "source", "before": "2000-01-01" + c}}))


def test_the_documents_of_the_identifier_table_are_valid_without_the_character() -> None:
    for name, schema, build in IDENTIFIERS:
        assert validate_instance(build(""), f"{schema}.schema.json") == [], name


@pytest.mark.parametrize("name, schema, build", IDENTIFIERS, ids=[i[0] for i in IDENTIFIERS])
def test_identifier_refuses_every_invisible_character_at_the_end(name: str, schema: str,
                                                                 build: Callable[[str], Any]) -> None:
    accepted = [f"U+{ord(ch):04X}" for ch in DANGEROUS if not validate_instance(build(ch), f"{schema}.schema.json")]
    assert accepted == [], f"{name} accepted {accepted}"


def test_rule_id_with_newline_is_pr212_at_its_line_and_never_a_second_rule() -> None:
    folder = FIXTURES / "rule-id-trailing-newline"
    _, diags = read_pack(folder)
    (d,) = diags
    lines = (folder / "rules.yaml").read_text(encoding="utf-8").splitlines()
    assert d.code == "PR212" and d.span is not None and d.span.file.endswith("rules.yaml")
    assert lines[d.span.line - 1].strip() == '- id: "contact.objection\\n"'
    assert "`contact.objection\\x0a`" in d.message and "U+000A (LINE FEED)" in d.message
    assert d.rule_id is None  # the malformed id is in the message, escaped, not in the `rule` prefix


def test_look_alike_ids_are_refused_even_without_the_schema() -> None:
    # The built pack is checked on its own too: a Pack made by hand (or a loosened schema)
    # cannot carry an invisible character or pass a look-alike id as new.
    pack = privacy_rules.load_pack(MINI)
    head = load_yaml_file(MINI / "pack.yaml")
    twin = dataclasses.replace(pack.rules[0], id=pack.rules[0].id + "\u200b")
    crafted = dataclasses.replace(pack, rules=pack.rules + (twin,))
    assert [d.code for d in check_identifiers(crafted, head)] == ["PR212"]
    dups = list(check_duplicate_ids(crafted))
    assert [d.code for d in dups] == ["PR201"] and "looks the same as" in dups[0].message


@pytest.mark.parametrize("value", ["facts.x\n", "2024-01-01\n", "keep\n", "Keep.X\n", "x\u202e"])
def test_codegen_whitelist_matches_whole_strings(value: str) -> None:
    with pytest.raises(CompileError):
        _lit(value)


# --- item 8: values that passed check and then crashed ---------------------------------------


def test_day_range_is_the_documented_one() -> None:
    assert (MIN_DAY, MAX_DAY) == (date(1900, 1, 1), date(2200, 12, 31))
    doc = (HERE.parents[1] / "docs" / "rule-language.md").read_text(encoding="utf-8")
    assert "1900-01-01 to 2200-12-31" in doc and "at most 1200 months" in doc


@pytest.mark.parametrize("months, ok", [(1200, True), (1201, False)])
def test_window_limit_is_inclusive(tmp_path: Path, months: int, ok: bool) -> None:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    (folder / "pack.yaml").write_text(text.replace("first_contact_on, months: 24}", f"first_contact_on, months: {months}}}"),
                                      encoding="utf-8")
    assert (pack_mutations.exercise(folder) is None) and ((read_pack(folder)[0] is not None) is ok)


@pytest.mark.parametrize("day, ok", [("1900-01-01", True), ("2200-12-31", True), ("1899-12-31", False),
                                     ("2201-01-01", False)])
def test_day_limits_are_inclusive(tmp_path: Path, day: str, ok: bool) -> None:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    (folder / "pack.yaml").write_text(text.replace('dpa: {signed_on: "2018-05-25"}', f'dpa: {{signed_on: "{day}"}}'),
                                      encoding="utf-8")
    assert (read_pack(folder)[0] is not None) is ok


def test_seed_pack_is_valid_and_runs_end_to_end() -> None:
    assert read_pack(SEED)[0] is not None
    assert pack_mutations.exercise(SEED) is None


#: Where the crashes the hunt found were (issue 7, item 8): every mutation there, a sparse sample elsewhere.
_FOUND = frozenset({"time_zone", "months", "years", "questions", "signed_on", "ends_on", "from", "until",
                    "valid_from", "valid_until", "reviewed_on", "next_review", "before", "on_or_after"})


_HOT_VALUES = ("zz_unknown", "0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01", "x\n", 1201, 10**6, 10**18)


def _sampled(i: int, m: pack_mutations.Mutation) -> bool:
    hot = m.file == "pack.yaml" and any(k in _FOUND for k in m.path if isinstance(k, str))
    return (hot and not m.rename and any(type(m.value) is type(v) and m.value == v for v in _HOT_VALUES)) \
        or i % 151 == 0


def test_mutated_values_that_pass_check_never_crash_later() -> None:
    # A deterministic sample of the hunt (the full one: python tests/hostile/pack_mutations.py).
    crashes = [f"{m}\n{trace}" for m, trace in pack_mutations.hunt(SEED, _sampled)]
    assert crashes == []


# --- item 9: scenario files stay in the pack; no file read blocks ----------------------------


def _pack_with_scenario(tmp_path: Path, target: str) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(MINI, folder)
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    (folder / "pack.yaml").write_text(text.replace("scenarios: [scenarios/basic.yaml]", f"scenarios: [{target}]"),
                                      encoding="utf-8")
    return folder


SECRET = "root:x:0:0:SECRET-LINE:/root:/bin/bash\n"


def test_scenario_symlink_leading_out_is_pr009_and_never_read(tmp_path: Path) -> None:
    outside = tmp_path / "passwd.yaml"
    outside.write_text(SECRET, encoding="utf-8")
    folder = _pack_with_scenario(tmp_path, "scenarios/link.yaml")
    (folder / "scenarios" / "link.yaml").symlink_to(outside)
    assert _errors(folder) == ["PR009"]
    code, out, err = run("test", str(folder))
    assert code == 2 and "SECRET" not in out + err


def test_scenario_replaced_by_a_link_after_check_is_refused_when_read(tmp_path: Path) -> None:
    outside = tmp_path / "passwd.yaml"
    outside.write_text(SECRET, encoding="utf-8")
    folder = _pack_with_scenario(tmp_path, "scenarios/basic.yaml")
    policy = privacy_rules.compile_pack(privacy_rules.load_pack(folder))
    (folder / "scenarios" / "basic.yaml").unlink()
    (folder / "scenarios" / "basic.yaml").symlink_to(outside)
    report = run_pack_scenarios(policy)
    assert [d.code for d in report.diagnostics] == ["PR009"] and not report.results
    assert "SECRET" not in "".join(str(d) for d in report.diagnostics)


def test_scenarios_given_on_the_command_line_may_lie_anywhere(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    shutil.copy(MINI / "scenarios" / "basic.yaml", outside)
    code, out, _ = run("test", str(MINI), "--scenarios", str(outside))
    assert code == 0 and "PASS" in out


def test_scenario_link_loop_is_refused_without_a_crash(tmp_path: Path) -> None:
    folder = _pack_with_scenario(tmp_path, "scenarios/loop.yaml")
    (folder / "scenarios" / "loop.yaml").symlink_to(folder / "scenarios" / "loop.yaml")
    assert _errors(folder) == ["PR009"]


def _no_hang(call: Callable[[], Any], fifo: Path, seconds: float = 20.0) -> Any:
    """``call()``'s result; fails (and unblocks the call) if it is still waiting after ``seconds``."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        # A reader is blocked in open(): opening the write end lets it go, so the suite ends.
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        thread.join(5)
        pytest.fail(f"reading the FIFO {fifo.name} blocked")
    if "error" in box:
        raise box["error"]
    return box["result"]


needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")


@needs_fifo
def test_fifo_rule_file_is_pr001_without_blocking(tmp_path: Path) -> None:
    folder = tmp_path / "pack"
    shutil.copytree(MINI, folder)
    (folder / "rules.yaml").unlink()
    os.mkfifo(folder / "rules.yaml")
    pack, diags = _no_hang(lambda: read_pack(folder), folder / "rules.yaml")
    assert pack is None and [d.code for d in diags] == ["PR001"] and "not a regular file" in diags[0].message


@needs_fifo
def test_fifo_pack_yaml_is_pr001_without_blocking(tmp_path: Path) -> None:
    folder = tmp_path / "pack"
    folder.mkdir()
    os.mkfifo(folder / "pack.yaml")
    pack, diags = _no_hang(lambda: read_pack(folder), folder / "pack.yaml")
    assert pack is None and [d.code for d in diags] == ["PR001"]


@needs_fifo
def test_fifo_scenario_file_is_pr001_without_blocking(tmp_path: Path) -> None:
    folder = _pack_with_scenario(tmp_path, "scenarios/pipe.yaml")
    shutil.copy(folder / "scenarios" / "basic.yaml", folder / "scenarios" / "pipe.yaml")
    policy = privacy_rules.compile_pack(privacy_rules.load_pack(folder))
    (folder / "scenarios" / "pipe.yaml").unlink()
    os.mkfifo(folder / "scenarios" / "pipe.yaml")
    # check refuses it (tests/hostile/test_scenario_files.py); one put there after check is
    # refused again when `test` reads it
    report = _no_hang(lambda: run_pack_scenarios(policy), folder / "scenarios" / "pipe.yaml")
    assert [d.code for d in report.diagnostics] == ["PR001"]
    # named on the command line: anywhere is fine, but it must be a regular file
    fifo = tmp_path / "given.yaml"
    os.mkfifo(fifo)
    code, out, _ = _no_hang(lambda: run("test", str(MINI), "--scenarios", str(fifo)), fifo)
    assert code == 1 and "PR001" in out and "not a regular file" in out


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_device_as_scenario_file_is_pr001() -> None:
    _, diags = load_scenarios(["/dev/zero"])
    assert [d.code for d in diags] == ["PR001"]
