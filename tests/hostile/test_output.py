"""Hostile text in reports for people (issue 7, item 12).

Rule files, records and scenario files are untrusted. The fixtures under ``output/`` put
control characters (an ANSI sequence that erases the line and prints a fake ``ALLOW``), bidi
overrides and isolates, line separators, DEL, C1, NUL, lone surrogates and U+FFFE/U+FFFF in
every free-text field a report shows: record ids, rule explanations, obligation texts,
citations, labels, the pack name, scenario names, and values that diagnostics echo. No text
output may carry any of them raw (only the report's own line feeds), every XML output must
parse, and JSON outputs keep the values exact.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import unicodedata
import xml.dom.minidom
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest

from privacy_rules import compile_pack, load_pack
from privacy_rules._escape import escape
from privacy_rules.cli.main import main
from privacy_rules.explain import explain
from privacy_rules.model import Question

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "output"
PACK = str((HERE / "pack").relative_to(ROOT))
BROKEN = str((HERE / "broken").relative_to(ROOT))
RECORDS = str((HERE / "records.jsonl").relative_to(ROOT))
RECORD = str((HERE / "record.json").relative_to(ROOT))
MINI = "tests/packs/mini"

# The oracle, written independently of privacy_rules._escape: what must never reach a person raw.
_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def unsafe(c: str) -> bool:
    cp = ord(c)
    return (unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp") or cp in _BIDI
            or cp in (0xFFFE, 0xFFFF))


def raw_unsafe(text: str) -> list[str]:
    """The unsafe characters in ``text`` other than line feeds, as code points."""
    return sorted({f"U+{ord(c):04X}" for c in text if c != "\n" and unsafe(c)})


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_the_fixtures_are_hostile() -> None:
    # Guard against a fixture that loses its payload: the records and the pack carry every kind.
    ids = [json.loads(line)["id"] for line in (HERE / "records.jsonl").read_text().splitlines()[:-1]]
    kinds = {unicodedata.category(c) for i in ids for c in i if unsafe(c)}
    assert {"Cc", "Cs", "Zl", "Zp", "Cf"} <= kinds
    assert "\x1b[2K\r" in ids[0] and "\ufffe" in ids[0] and "\u202e" in ids[0]
    assert "\\e[2K" in (HERE / "pack" / "rules.yaml").read_text()
    assert "\\uFFFE" in (HERE / "pack" / "scenarios" / "hostile.yaml").read_text()


# --- the escaping function ------------------------------------------------------------------


def test_escape_shows_every_unsafe_character_and_nothing_else() -> None:
    for cp in range(0x110000):
        c = chr(cp)
        shown = escape(c)
        if unsafe(c):
            assert shown == (f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}" if cp < 0x10000
                             else f"\\U{cp:08x}"), hex(cp)
        else:
            assert shown == c, hex(cp)
    assert escape("a\nb", keep_newlines=True) == "a\nb" and escape("a\nb") == "a\\x0ab"
    assert escape("a\r\nb\x85", keep_newlines=True) == "a\\x0d\nb\\x85"
    assert escape("Søknad — 年 🙂 C:\\x") == "Søknad — 年 🙂 C:\\x"  # backslashes and letters stay
    # invisible text: a zero-width space, a word joiner, a BOM and tag characters spelling "ALLOW"
    hidden = "p-1\u200b\u2060\ufeff" + "".join(chr(0xE0000 + ord(c)) for c in "ALLOW") + "\ue000"
    assert escape(hidden) == "p-1\\u200b\\u2060\\ufeff\\U000e0041\\U000e004c\\U000e004c\\U000e004f\\U000e0057\\ue000"


# --- decide, evaluate, explain --------------------------------------------------------------


def test_explain_escapes_record_ids_and_pack_text() -> None:
    policy = compile_pack(load_pack(PACK))
    record = json.loads((HERE / "record.json").read_text())
    for q in (Question.keep(), Question.parse("contact:newsletter:email")):
        text = explain(policy.decide(record, q, as_of=date(2023, 8, 31)))
        assert raw_unsafe(text) == [], text
        assert "\\x1b[2K\\x0d\\x1b[32mp-1  keep  ALLOW" in text.splitlines()[0]


def test_decide_text_shows_no_raw_control_characters() -> None:
    code, out, err = run("decide", PACK, RECORD, "--as-of", "2023-08-31")
    assert code == 0, err
    assert raw_unsafe(out) == [] and raw_unsafe(err) == []
    # the fake answer stays inside the record's own line
    assert not [line for line in out.splitlines() if line.lstrip().startswith("keep  ALLOW")]


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_evaluate_text_one_block_per_record_and_no_raw_controls(lang: str) -> None:
    code, out, err = run("evaluate", PACK, RECORDS, "--format", "text", "--as-of", "2023-08-31", "--lang", lang)
    assert code == 0, err
    assert raw_unsafe(out) == [] and raw_unsafe(err) == []
    out.encode("utf-8")  # a lone surrogate would fail here
    heads = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert len(heads) == 7  # six records and one unreadable line, nothing more
    assert heads[2] == "p-2\\x0a  keep  ALLOW (line 3), as of 2023-08-31"
    assert heads[1].startswith("\\ud800 lone surrogate")


def test_evaluate_jsonl_keeps_ids_exact() -> None:
    code, out, _ = run("evaluate", PACK, RECORDS, "--as-of", "2023-08-31")
    ids = [json.loads(line)["id"] for line in (HERE / "records.jsonl").read_text().splitlines()[:-1]]
    # split on LF only: str.splitlines() also splits on U+2028 and NEL, which JSON leaves raw
    rows = [json.loads(line) for line in out.split("\n") if line]
    # a record whose id holds a lone surrogate is itself broken (PR309): it is named by its line,
    # and its id is shown escaped, since no UTF-8 output can carry a lone surrogate
    expected = [i.encode("utf-8", "backslashreplace").decode("ascii") if re.search("[\ud800-\udfff]", i) else i
                for i in ids]
    assert code == 0 and [r["record_id"] for r in rows[:-1]] == expected
    assert rows[1]["problem"].startswith("line 2: PR309")


# --- check, test, diff reports ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "github", "junit"])
def test_check_reports_escape_echoed_values(fmt: str) -> None:
    code, out, err = run("check", BROKEN, "--format", fmt)
    assert code == 1 and "PR212" in out
    assert raw_unsafe(out) == [] and raw_unsafe(err) == []
    if fmt == "junit":
        assert_well_formed(out)
    if fmt == "text":
        assert "value `newsleter\\x0a` contains" in out


def test_loading_errors_on_stderr_are_escaped() -> None:
    code, out, err = run("decide", BROKEN, RECORD, "--as-of", "2023-08-31")
    assert code == 2 and "PR212" in err
    assert raw_unsafe(err) == [] and "`prospekt\\x0a`" in err


@pytest.mark.parametrize("fmt", ["text", "github", "junit"])
def test_test_reports_escape_scenario_names(fmt: str) -> None:
    code, out, err = run("test", PACK, "--format", fmt, "-v")
    assert code == 1, err
    assert raw_unsafe(out) == [] and raw_unsafe(err) == []
    assert "fails on purpose \\x1b[2K\\x0d" in out or "fails on purpose \\\\x1b[2K" in out
    if fmt == "junit":
        root = assert_well_formed(out)
        names = [c.get("name") for c in root.iter("testcase")]
        assert len(names) == 3 and all("\\ufffe\\uffff" in n for n in names)


def test_sarif_keeps_values_exact_and_stays_utf8() -> None:
    code, out, _ = run("test", PACK, "--format", "sarif")
    out.encode("utf-8")
    messages = [r["message"]["text"] for r in json.loads(out)["runs"][0]["results"]]
    assert code == 1 and any("\x1b[2K\r" in m and "\ufffe" in m for m in messages)


def assert_well_formed(text: str) -> ET.Element:
    """Parse with two XML parsers (expat through ElementTree, and minidom) from UTF-8 bytes."""
    data = text.encode("utf-8")
    xml.dom.minidom.parseString(data)
    return ET.fromstring(data)


@pytest.fixture
def hostile_diff(tmp_path: Path) -> tuple[str, str, str]:
    """The mini pack against the hostile pack (relative paths: annotations name files as
    load_pack does), and records whose ids are hostile and whose answers flip."""
    old = tmp_path / "old"
    shutil.copytree(ROOT / MINI, old)
    new = tmp_path / "new"
    shutil.copytree(HERE / "pack", new)
    # the old pack keeps prospects 12 months: every hostile record flips deny -> allow
    text = (old / "pack.yaml").read_text()
    (old / "pack.yaml").write_text(text.replace("prospect: {from: relationship.first_contact_on, months: 24}",
                                                "prospect: {from: relationship.first_contact_on, months: 12}"))
    return str(old), str(new), str(ROOT / RECORDS)


@pytest.mark.parametrize("fmt", ["text", "github", "junit"])
def test_diff_reports_escape_pack_text_and_record_ids(fmt: str, hostile_diff: tuple[str, str, str]) -> None:
    old, new, records = hostile_diff
    code, out, err = run("diff", old, new, "--records", records, "--as-of", "2023-08-31", "--format", fmt)
    assert code == 0, err
    assert raw_unsafe(out) == [] and raw_unsafe(err) == []
    # flip examples; the record whose id holds a lone surrogate is broken (PR309) in both packs,
    # so it is undetermined on both sides and never a flip example
    assert "p-2\\x0a  keep  ALLOW" in out and "lone surrogate" not in out
    if fmt == "junit":
        assert_well_formed(out)


def test_diff_sarif_keeps_record_ids_exact_and_utf8(hostile_diff: tuple[str, str, str]) -> None:
    old, new, records = hostile_diff
    code, out, _ = run("diff", old, new, "--records", records, "--as-of", "2023-08-31", "--format", "sarif")
    out.encode("utf-8")
    texts = "\n".join(r["message"]["text"] for r in json.loads(out)["runs"][0]["results"])
    assert code == 0 and "p-2\n  keep  ALLOW" in texts and "\u202eWOLLA\u202c" in texts


# --- the review document (Markdown) -------------------------------------------------------------


def test_render_markdown_escapes_pack_text_and_scenario_names() -> None:
    code, out, err = run("render", PACK, "--format", "markdown")
    assert code == 0, err
    assert raw_unsafe(out) == []
    assert "\\\\x1b\\[2K" in out or "\\x1b[2K" in out  # shown, in a code span or escaped Markdown
    assert "\\\\u202e" in out or "\\u202e" in out


@pytest.mark.parametrize("lang", ["en", "nb"])
@pytest.mark.parametrize("fmt", ["html", "markdown"])
def test_render_shows_no_raw_control_format_or_private_characters(fmt: str, lang: str, tmp_path: Path) -> None:
    # The review document goes to stdout (a terminal) and to a reviewer's browser: an ESC in a
    # recipient name clears the screen, a bidi override reorders an explanation, tag characters
    # and zero-width spaces hide text. Every printed value, in both formats, is escaped.
    pack = tmp_path / "pack"
    shutil.copytree(HERE / "pack", pack)
    hidden = "".join(chr(0xE0000 + ord(c)) for c in "ALLOW")
    text = (pack / "pack.yaml").read_text()
    (pack / "pack.yaml").write_text(text.replace("name: CRM Inc.", 'name: "CRM\\e[2J Inc.\\u200b\\ue000' + hidden + '"'))
    text = (pack / "rules.yaml").read_text()
    (pack / "rules.yaml").write_text(text.replace('nb: "kunder"', 'nb: "kunder \\u202eevil\\u202c\\u2060\\ufeff"'))
    code, out, err = run("render", str(pack), "--format", fmt, "--lang", lang)
    assert code == 0, err
    assert raw_unsafe(out) == []
    assert "CRM\\x1b[2J Inc.\\u200b\\ue000\\U000e0041" in out.replace("\\\\", "\\").replace("\\[", "[")
    if lang == "nb":
        assert "\\u202eevil\\u202c\\u2060\\ufeff" in out.replace("\\\\", "\\")
    if fmt == "html":  # still HTML-escaped: an escape is ASCII, a tag in the text stays text
        assert "<script" not in out.lower()


def test_text_output_escapes_invisible_characters_in_record_ids() -> None:
    # zero-width space, word joiner and tag characters (U+E0000-U+E007F) in a record id: the
    # text outputs show them; JSON keeps them exact
    rid = "p-9\u200b\u2060" + "".join(chr(0xE0000 + ord(c)) for c in " ALLOW")
    record = {"id": rid, "subject_categories": ["prospect"], "relationship": {"first_contact_on": "2023-01-01"}}
    line = json.dumps(record) + "\n"
    out, err = io.StringIO(), io.StringIO()
    code = main(["evaluate", MINI, "-", "--format", "text", "--as-of", "2023-08-31"], stdout=out, stderr=err,
                stdin=io.BytesIO(line.encode()))
    assert code == 0, err.getvalue()
    assert raw_unsafe(out.getvalue()) == [] and "p-9\\u200b\\u2060\\U000e0020\\U000e0041" in out.getvalue()
    out = io.StringIO()
    assert main(["decide", MINI, "-", "--as-of", "2023-08-31"], stdout=out, stderr=io.StringIO(),
                stdin=io.BytesIO(line.encode())) == 0
    assert raw_unsafe(out.getvalue()) == [] and "p-9\\u200b" in out.getvalue()
    out = io.StringIO()
    assert main(["evaluate", MINI, "-", "--as-of", "2023-08-31"], stdout=out, stderr=io.StringIO(),
                stdin=io.BytesIO(line.encode())) == 0
    assert json.loads(out.getvalue())["record_id"] == rid


def test_an_internal_error_traceback_is_escaped_too(monkeypatch: pytest.MonkeyPatch) -> None:
    import privacy_rules.cli.main as cli_main

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("value from a record: \x1b[2K\rALLOW \u202e")

    monkeypatch.setattr(cli_main, "read_pack", boom)
    code, _, err = run("check", PACK)
    assert code == 3 and "internal error" in err
    assert raw_unsafe(err) == [] and "\\x1b[2K\\x0dALLOW \\u202e" in err
