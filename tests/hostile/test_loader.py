"""The YAML loader on text no pack should hold: lone surrogates and integers too large to print.

Issue 7 (fuzz findings): ``load_yaml_text`` raised UnicodeEncodeError for text holding a lone
surrogate (libyaml encodes the text before scanning), and a hex or octal integer of more than
4,300 digits loaded (Python's int() limit covers decimal only), so every later str() of it
(a jsonschema message, a report) raised ValueError and `check` exited 3. The crafted files are
in corpus/yaml/ and corpus/packs/ (replayed by test_fuzz.py); these tests hold the whole class.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import privacy_rules
from privacy_rules.errors import PackError
from privacy_rules.load import MAX_INT_DIGITS, load_yaml_file, load_yaml_text

from ..conftest import MINI

CORPUS = Path(__file__).resolve().parent / "corpus"
VALID = (MINI / "rules.yaml").read_text(encoding="utf-8")
SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)


def _error(text: str) -> PackError:
    with pytest.raises(PackError) as info:
        load_yaml_text(text, path="x.yaml")
    return info.value


# --- lone surrogates ------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.data())
def test_a_lone_surrogate_anywhere_is_pr003_at_its_position(data: st.DataObject) -> None:
    """Wherever a surrogate stands (a key, a value, a comment, the first character), the loader
    raises PackError PR003 pointing at it; never UnicodeEncodeError."""
    pos = data.draw(st.integers(0, len(VALID)), label="position")
    char = data.draw(SURROGATES, label="surrogate")
    text = VALID[:pos] + char + VALID[pos:]
    exc = _error(text)
    (d,) = exc.diagnostics
    assert d.code == "PR003", str(d)
    assert f"U+{ord(char):04X}" in d.message
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    assert (d.span.line, d.span.col) == (line, col), str(d)
    assert d.help


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=60))
def test_any_str_gives_data_or_a_pack_error_with_a_position(text: str) -> None:
    """Any str at all (surrogates, NUL, controls included): LoadedYaml, or PackError whose
    every diagnostic has a code and a position."""
    try:
        load_yaml_text(text, path="x.yaml")
    except PackError as exc:
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert d.code in ("PR003", "PR004", "PR005", "PR006", "PR007", "PR008"), str(d)
            assert d.span is not None and d.span.line >= 1 and d.span.col >= 1, str(d)


def test_cesu8_file_is_pr001_with_a_position(tmp_path: Path) -> None:
    """The bytes of the corpus case, as a file: not UTF-8 (PR001) at the first bad byte."""
    with pytest.raises(PackError) as info:
        load_yaml_file(CORPUS / "yaml" / "lone-surrogate-cesu.yaml")
    (d,) = info.value.diagnostics
    assert d.code == "PR001" and d.span is not None and (d.span.line, d.span.col) == (2, 15), str(d)


def test_text_that_is_not_a_str_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="load_yaml_file"):
        load_yaml_text(b"a: 1\n", path="x.yaml")  # type: ignore[arg-type]


# --- integers -----------------------------------------------------------------------------------
LIMIT = 10**MAX_INT_DIGITS  # the first int with MAX_INT_DIGITS + 1 digits


def _forms(n: int) -> Iterator[str]:
    """Every way YAML's core schema writes the (positive) int ``n``."""
    yield "0x" + format(n, "x")
    yield "0x" + format(n, "X")
    yield "0o" + format(n, "o")
    yield "0x000" + format(n, "x")
    with _no_digit_limit():
        yield str(n)
        yield "+" + str(n)
        yield "00" + str(n)


class _no_digit_limit:
    """Writing test input only: str() of a 4,301-digit int needs Python's limit lifted."""

    def __enter__(self) -> None:
        self.saved = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)

    def __exit__(self, *exc: object) -> None:
        sys.set_int_max_str_digits(self.saved)


@pytest.mark.parametrize("form", list(_forms(LIMIT)) + list(_forms(2 * LIMIT + 12345)),
                         ids=lambda f: f[:2] + f"-{len(f)}")
def test_every_form_of_an_int_past_the_limit_is_pr003(form: str) -> None:
    """Decimal, hex and octal alike (before: hex and octal loaded), as a value, with an explicit
    tag, and inside a list; negative decimals too."""
    for text in (f"a: {form}\n", f"a: !!int {form}\n", f"a: [1, {form}]\n"):
        (d,) = _error(text).diagnostics
        assert d.code == "PR003" and "digits" in d.message and d.help, str(d)
        assert (d.span.line, d.span.col) == (1, 4 if "[" not in text else 8), str(d)
    if form[0].isdigit() and not form.startswith("0"):
        (d,) = _error(f"a: -{form}\n").diagnostics
        assert d.code == "PR003", str(d)


@pytest.mark.parametrize("form", list(_forms(LIMIT - 1)), ids=lambda f: f[:2] + f"-{len(f)}")
def test_the_largest_allowed_int_loads_and_prints(form: str) -> None:
    value = load_yaml_text(f"a: {form}\n", path="x.yaml").data["a"]
    assert value == LIMIT - 1
    assert len(str(value)) == MAX_INT_DIGITS  # printable: the point of the limit


def test_leading_zeros_do_not_count() -> None:
    """`010` is ten (YAML 1.2), and zeros in front of a small number never make it too long."""
    assert load_yaml_text("a: 010\nb: -0\nc: +" + "0" * 5000 + "7\nd: 0x" + "0" * 9000 + "1\n",
                          path="x.yaml").data == {"a": 10, "b": 0, "c": 7, "d": 1}


def test_a_lowered_interpreter_limit_lowers_the_bound() -> None:
    """A host that lowered Python's limit (640 is the least it takes) still gets only ints it
    can print: the bound follows the interpreter's."""
    saved = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        for text in ("a: 0x" + format(10**640, "x"), "a: " + "9" * 641):
            (d,) = _error(text).diagnostics
            assert d.code == "PR003" and "640 digits" in d.message, str(d)
        assert load_yaml_text("a: 0x" + format(10**640 - 1, "x"), path="x.yaml").data["a"] == 10**640 - 1
    finally:
        sys.set_int_max_str_digits(saved)


def test_no_later_stage_raises_on_the_largest_allowed_ints(tmp_path: Path) -> None:
    """A pack comparing facts with 4,300-digit ints (corpus/packs/fact-ints-at-the-digit-limit)
    checks, compiles, decides records holding such ints with both engines, explains, renders
    and runs its scenario; a window of such length is a PR210 error, not a crash."""
    from .test_fuzz import _pack_case

    folder, _ = _pack_case("packs/fact-ints-at-the-digit-limit", tmp_path / "a")
    pack = privacy_rules.load_pack(folder)
    big = LIMIT - 1
    records = [{"id": "r-1", "subject_categories": ["prospect"], "facts": {"score": big, "rank": -big}},
               {"id": "r-2", "facts": {"score": 2**1024, "rank": 1.5}}, {"id": "r-3", "facts": {"rank": big}}]
    engines = ["compiled"]
    try:
        import durable  # noqa: F401
        engines.append("durable")
    except Exception:  # noqa: BLE001 - the optional engine (Python 3.13 cannot import it)
        pass
    answers = []
    for engine in engines:
        pol = privacy_rules.compile_pack(pack, engine=engine)
        got = []
        for rec in records:
            for d in pol.decide_all(rec, as_of="2023-08-31"):
                privacy_rules.explain(d)
                d.to_json()
                got.append((d.outcome.value, d.decisive_rule))
            got += [(a.outcome.value, a.rule_id)
                    for row in pol.decide_batch([rec], as_of="2023-08-31") for a in row.answers]
        answers.append(got)
    assert all(a == answers[0] for a in answers)
    assert answers[0][0] == ("deny", "keep.big-equals")
    privacy_rules.render_pack(pack, fmt="markdown")
    from privacy_rules.scenarios import run_pack_scenarios

    report = run_pack_scenarios(privacy_rules.compile_pack(pack))
    (huge,) = [r for r in report.results if r.scenario.name == "huge score"]
    assert huge.result.name == "PASS" and not huge.mismatches, huge

    folder, _ = _pack_case("packs/months-hex-4300-digits", tmp_path / "b")
    with pytest.raises(PackError) as info:
        privacy_rules.load_pack(folder)
    assert [d.code for d in info.value.diagnostics] == ["PR210"]
