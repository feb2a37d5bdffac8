"""load.py: YAML -> plain data with spans; every broken input becomes a Diagnostic, never a crash."""

from __future__ import annotations

import dataclasses
import math
import pickle

import pytest
import yaml

from privacy_rules.errors import PackError, PrivacyRulesError, RecordError, UsageError
from privacy_rules.load import LoadedYaml, load_yaml_file, load_yaml_text
from privacy_rules.model import Diagnostic, Severity, Span

VALID = """\
# a comment first, so line numbers are not all off by one
pack:
  id: iconfirm
  jurisdiction: NO
rules:
  - id: keep.prospect-window
    effect: permit
    when:
      - subject: prospect
      - within: prospect
  - id: contact.newsletter
"""


def load(text: str, **limits: int) -> LoadedYaml:
    return load_yaml_text(text, path="rules/x.yaml", **limits)


def problems(text: str, **limits: int) -> tuple[Diagnostic, ...]:
    with pytest.raises(PackError) as info:
        load(text, **limits)
    return info.value.diagnostics


def only_problem(text: str, **limits: int) -> Diagnostic:
    found = problems(text, **limits)
    assert len(found) == 1, [str(d) for d in found]
    return found[0]


# --- valid input: data and spans ----------------------------------------------------------


def test_valid_document_data() -> None:
    loaded = load(VALID)
    assert loaded.path == "rules/x.yaml"
    assert loaded.data == {
        "pack": {"id": "iconfirm", "jurisdiction": "NO"},
        "rules": [
            {
                "id": "keep.prospect-window",
                "effect": "permit",
                "when": [{"subject": "prospect"}, {"within": "prospect"}],
            },
            {"id": "contact.newsletter"},
        ],
    }


def test_spans_point_at_keys_and_items() -> None:
    spans = load(VALID).spans
    assert spans[()] == Span(file="rules/x.yaml", line=2, col=1, end_line=12, end_col=1)
    # A mapping entry's span starts at its key.
    assert (spans[("pack", "jurisdiction")].line, spans[("pack", "jurisdiction")].col) == (4, 3)
    assert (spans[("rules", 0, "when")].line, spans[("rules", 0, "when")].col) == (8, 5)
    # A list item's span starts at the item, after "- ".
    assert (spans[("rules", 1)].line, spans[("rules", 1)].col) == (11, 5)
    assert (spans[("rules", 0, "when", 1)].line, spans[("rules", 0, "when", 1)].col) == (10, 9)
    assert (spans[("rules", 0, "when", 1, "within")].line, spans[("rules", 0, "when", 1, "within")].col) == (10, 9)
    assert all(span.file == "rules/x.yaml" for span in spans.values())


def test_every_value_has_a_span() -> None:
    loaded = load(VALID)

    def paths(value, prefix=()):
        yield prefix
        if isinstance(value, dict):
            for key, item in value.items():
                yield from paths(item, prefix + (key,))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from paths(item, prefix + (index,))

    assert set(paths(loaded.data)) == set(loaded.spans)


def test_span_for_missing_path_returns_deepest_existing_parent() -> None:
    loaded = load(VALID)
    parent = loaded.spans[("rules", 1)]
    assert loaded.span_for(["rules", 1, "effect"]) == parent
    assert loaded.span_for(("rules", 1, "when", 0, "subject")) == parent
    assert loaded.span_for(("rules", 7)) == loaded.spans[("rules",)]
    assert loaded.span_for(("nope",)) == loaded.spans[()]
    assert loaded.span_for(()) == loaded.spans[()]
    assert loaded.span_for(("pack", "id")) == loaded.spans[("pack", "id")]


def test_alias_item_span_points_at_the_alias() -> None:
    loaded = load("base: &b {x: 1}\nlist:\n  - *b\n")
    assert loaded.data == {"base": {"x": 1}, "list": [{"x": 1}]}
    assert (loaded.spans[("list", 0)].line, loaded.spans[("list", 0)].col) == (3, 5)
    # Values inside the expansion point into the anchored original.
    assert loaded.spans[("list", 0, "x")].line == 1
    # Expanded aliases are independent copies, not shared objects.
    assert loaded.data["list"][0] is not loaded.data["base"]


def test_result_is_frozen() -> None:
    loaded = load("a: 1\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.data = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        loaded.spans[("b",)] = loaded.spans[()]  # type: ignore[index]


# --- scalars: YAML 1.2 core schema, not PyYAML's YAML 1.1 ---------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NO", "NO"),  # Norway, not False
        ("no", "no"),
        ("yes", "yes"),
        ("Yes", "Yes"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("n", "n"),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("FALSE", False),
        ("2023-07-10", "2023-07-10"),  # dates are validated later, not by YAML
        ("2023-07-10T12:00:00Z", "2023-07-10T12:00:00Z"),
        ("2023-02-30", "2023-02-30"),
        ("10:30", "10:30"),  # not sexagesimal 630
        ("1.0.0", "1.0.0"),
        ("42", 42),
        ("-7", -7),
        ("010", 10),  # not octal 8
        ("0o10", 8),
        ("0x1F", 31),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        (".inf", math.inf),
        ("-.inf", -math.inf),
        ("null", None),
        ("~", None),
        ("", None),
        ("'true'", "true"),
        ('"42"', "42"),
        ("!!str 42", "42"),
        ("!!float 1", 1.0),
        ("<<", "<<"),  # only a merge *key* is refused
        ("=", "="),  # PyYAML's SafeLoader fails on this one
    ],
)
def test_scalars(text: str, expected: object) -> None:
    assert load(f"value: {text}\n").data == {"value": expected}


def test_nan() -> None:
    assert math.isnan(load("value: .nan\n").data["value"])


def test_safe_loader_is_not_changed() -> None:
    # Our resolver lives on our own loader class; PyYAML's stays YAML 1.1 (no global state).
    assert yaml.safe_load("NO") is False


# --- broken input: one table, one expected diagnostic each ---------------------------------

ALIAS_BOMB = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)
)

BROKEN = [
    # (case id, text, code, line, col)
    ("duplicate-key", "id: a\nname: b\nid: c\n", "PR006", 3, 1),
    ("duplicate-nested-key", "rules:\n  - id: a\n    effect: permit\n    id: b\n", "PR006", 4, 5),
    ("python-object-tag", "cmd: !!python/object/apply:os.system ['echo hi']\n", "PR004", 1, 6),
    ("python-name-tag", "f: !!python/name:os.system\n", "PR004", 1, 4),
    ("include-tag", "rules: !include other.yaml\n", "PR004", 1, 8),
    ("timestamp-tag", "on: !!timestamp 2023-07-10\n", "PR004", 1, 5),
    ("set-tag", "s: !!set {a, b}\n", "PR004", 1, 4),
    ("tag-on-key", "!foo k: v\n", "PR004", 1, 1),
    ("merge-key", "base: &b {x: 1}\nrule:\n  <<: *b\n", "PR004", 3, 3),
    ("explicit-bool-yes", "v: !!bool yes\n", "PR003", 1, 4),
    ("explicit-int-text", "v: !!int abc\n", "PR003", 1, 4),
    ("huge-int", "v: " + "9" * 5000 + "\n", "PR003", 1, 4),
    ("int-key", "1: one\n", "PR007", 1, 1),
    ("bool-key", "true: yes\n", "PR007", 1, 1),
    ("null-key", "~: x\n", "PR007", 1, 1),
    ("list-key", "? [a, b]\n: x\n", "PR007", 1, 3),
    ("alias-bomb", ALIAS_BOMB, "PR005", 6, 15),
    ("too-many-aliases", "a: &a 1\nb: [" + ", ".join(["*a"] * 101) + "]\n", "PR005", 2, 405),
    ("recursive-alias", "a: &a [1, *a]\n", "PR005", 1, 11),
    ("deep-nesting", "x: " + "[" * 100 + "]" * 100 + "\n", "PR005", 1, 67),
    ("deep-block-nesting", "".join("  " * i + f"k{i}:\n" for i in range(80)), "PR005", 64, 127),
    ("unclosed-bracket", "a: [1, 2\nb: 3\n", "PR003", 2, 2),
    ("bad-indentation", "a:\n  b: 1\n c: 2\n", "PR003", 3, 2),
    ("tab-indentation", "a:\n\tb: 1\n", "PR003", 2, 1),
    ("colon-in-value", "a: b: c\n", "PR003", 1, 5),
    ("unclosed-quote", "a: 'abc\nb: 1\n", "PR003", 3, 1),
    ("undefined-alias", "a: *nope\n", "PR003", 1, 4),
    ("two-documents", "a: 1\n---\nb: 2\n", "PR003", 2, 1),
    ("control-character", "a: 1\nb: x\x07y\n", "PR003", 2, 5),
    ("empty", "", "PR008", 1, 1),
    ("only-comments", "# nothing here\n\n   # still nothing\n", "PR008", 1, 1),
    ("only-document-marker", "---\n", "PR008", 1, 1),
]


@pytest.mark.parametrize(("text", "code", "line", "col"), [case[1:] for case in BROKEN],
                         ids=[case[0] for case in BROKEN])
def test_broken_input(text: str, code: str, line: int, col: int) -> None:
    diag = only_problem(text)
    assert (diag.code, diag.span.line if diag.span else None, diag.span.col if diag.span else None) == (code, line, col)
    assert diag.severity is Severity.ERROR
    assert diag.span is not None and diag.span.file == "rules/x.yaml"
    # Message style (STYLE 7): lowercase, one line, no final period, and a help saying what to do.
    assert diag.message[0].islower() or diag.message[0] == "`"
    assert "\n" not in diag.message and not diag.message.endswith(".")
    assert diag.help


def test_duplicate_key_full_text() -> None:
    diag = only_problem("rules:\n  - id: a\n    effect: permit\n    id: b\n")
    assert str(diag) == (
        "rules/x.yaml:4:5: error PR006: duplicate key `id`\n"
        "  help: keep one of them; the first `id` is on line 2"
    )


def test_forbidden_tag_full_text_and_nothing_runs(tmp_path) -> None:
    marker = tmp_path / "pwned"
    text = f"cmd: !!python/object/apply:os.system ['touch {marker}']\n"
    diag = only_problem(text)
    assert str(diag) == (
        "rules/x.yaml:1:6: error PR004: tag `!!python/object/apply:os.system` is not allowed\n"
        "  help: rule files are plain data: remove the tag, and quote the value if it is meant as text"
    )
    assert not marker.exists()


def test_empty_file_full_text() -> None:
    assert str(only_problem("")) == (
        "rules/x.yaml:1:1: error PR008: file is empty\n"
        "  help: write the file's content, or remove the file and its entry in `pack.yaml`"
    )


def test_syntax_error_uses_problem_position_and_text() -> None:
    diag = only_problem("a: b: c\n")
    # libyaml (used when PyYAML has it) and pure-Python PyYAML word this problem slightly differently
    assert str(diag).splitlines()[0] in (
        "rules/x.yaml:1:5: error PR003: mapping values are not allowed here",
        "rules/x.yaml:1:5: error PR003: mapping values are not allowed in this context",
    )


def test_tree_problems_are_all_collected() -> None:
    found = problems("a: 1\na: 2\n3: x\nb: !foo y\nc:\n  d: 1\n  d: 2\n")
    assert [(d.code, d.span.line) for d in found if d.span] == [
        ("PR006", 2), ("PR007", 3), ("PR004", 4), ("PR006", 7),
    ]


def test_limits_are_keyword_arguments() -> None:
    assert only_problem("a: &a 1\nb: [*a, *a]\n", max_aliases=1).code == "PR005"
    # Depth counts every level, the root mapping and the innermost scalar included.
    assert only_problem("a: [[1]]\n", max_depth=3).code == "PR005"
    assert only_problem("a: [1, 2, 3]\n", max_nodes=4).code == "PR005"
    assert load("a: [[1]]\n", max_depth=4).data == {"a": [[1]]}


def test_depth_counts_aliases_expanded() -> None:
    # The text nests 5 deep at most, but the alias puts 4 more levels under `b`.
    diag = only_problem("a: &a [[[[1]]]]\nb: [[[[*a]]]]\n", max_depth=6)
    assert (diag.code, diag.span.line) == ("PR005", 2)


def test_bad_limit_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        load("a: 1\n", max_depth=-1)


# --- files ---------------------------------------------------------------------------------


def test_load_file(tmp_path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(VALID, encoding="utf-8")
    loaded = load_yaml_file(path)
    assert loaded.path == str(path)
    assert loaded.spans[("pack", "id")].file == str(path)
    assert loaded.data["pack"]["jurisdiction"] == "NO"


def test_load_file_strips_bom_and_keeps_columns(tmp_path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes("\ufeffa: 1\n".encode())
    loaded = load_yaml_file(path)
    assert loaded.data == {"a": 1}
    assert (loaded.spans[("a",)].line, loaded.spans[("a",)].col) == (1, 1)


def test_load_file_passes_limits(tmp_path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: [[1]]\n", encoding="utf-8")
    with pytest.raises(PackError) as info:
        load_yaml_file(path, max_depth=2)
    assert info.value.diagnostics[0].code == "PR005"


def test_file_too_large(tmp_path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: 1\nb: 2\n", encoding="utf-8")
    with pytest.raises(PackError) as info:
        load_yaml_file(path, max_bytes=5)
    (diag,) = info.value.diagnostics
    assert diag.code == "PR002"
    assert str(diag).splitlines()[0] == f"{path}:1:1: error PR002: file is 10 bytes, more than the limit of 5"
    assert load_yaml_file(path, max_bytes=10).data == {"a": 1, "b": 2}


def test_missing_file(tmp_path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(PackError) as info:
        load_yaml_file(path)
    (diag,) = info.value.diagnostics
    assert diag.code == "PR001"
    assert diag.span is None
    assert str(diag).splitlines()[0] == f"error PR001: cannot read `{path}`: no such file"


def test_directory_is_not_a_file(tmp_path) -> None:
    with pytest.raises(PackError) as info:
        load_yaml_file(tmp_path)
    assert info.value.diagnostics[0].code == "PR001"


def test_invalid_utf8(tmp_path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("a: 1\nname: Bjørn\n".encode("latin-1"))
    with pytest.raises(PackError) as info:
        load_yaml_file(path)
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.span.line, diag.span.col) == ("PR001", 2, 9)
    assert diag.message == "file is not UTF-8 text (byte `0xf8`)"


# --- errors --------------------------------------------------------------------------------


def test_pack_error_str_joins_diagnostics() -> None:
    error = PackError([
        Diagnostic(code="PR006", severity=Severity.ERROR, message="duplicate key `a`",
                   span=Span(file="f.yaml", line=2, col=1)),
        Diagnostic(code="PR008", severity=Severity.ERROR, message="file is empty"),
    ])
    assert isinstance(error, PrivacyRulesError)
    assert isinstance(error.diagnostics, tuple)
    assert str(error) == "f.yaml:2:1: error PR006: duplicate key `a`\nerror PR008: file is empty"
    assert pickle.loads(pickle.dumps(error)).diagnostics == error.diagnostics


def test_other_errors() -> None:
    record_error = RecordError("bad date", record_id="r1", line=3)
    assert (str(record_error), record_error.record_id, record_error.line) == ("bad date", "r1", 3)
    copy = pickle.loads(pickle.dumps(record_error))
    assert (str(copy), copy.record_id, copy.line) == ("bad date", "r1", 3)
    assert issubclass(RecordError, PrivacyRulesError) and issubclass(UsageError, PrivacyRulesError)


@pytest.mark.parametrize("text, code", [("base: &b {x: 1}\nrule:\n  <<: *b\n", "PR004"), ("a: [1, 2\n", "PR003"),
                                        ("a: 1\na: 2\n", "PR006")])
def test_pure_python_fallback_behaves_the_same(monkeypatch, text, code) -> None:
    """Without libyaml the pure-Python parser is used; the checks and limits are the same."""
    import privacy_rules.load as load_mod

    monkeypatch.setattr(load_mod, "_CParser", None)
    assert problems(text)[0].code == code
    assert load_mod.load_yaml_text("a: NO\nb: 2024-01-01\n", path="x.yaml").data == {"a": "NO", "b": "2024-01-01"}
