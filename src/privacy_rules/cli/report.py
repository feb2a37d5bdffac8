"""One result stream, many reporters: check diagnostics, scenario reports and pack diffs as
text, JSON, JUnit XML, SARIF 2.1.0 or GitHub workflow commands (STYLE 4, 10).

Every function here is pure: it takes the result values and returns the text to print, so
the CLI decides where it goes and tests compare strings. Colour is an argument; only
:func:`use_color` looks at the terminal and ``NO_COLOR``.

Formats at a glance (docs/formats.md, "Output formats"):

* ``text``  the human report; coloured only on a terminal with ``NO_COLOR`` unset.
* ``json``  ``"format_version": 1`` documents, unchanged from before this module.
* ``junit`` JUnit XML (``testsuites`` > ``testsuite`` > ``testcase``) that CI servers ingest.
* ``sarif`` SARIF 2.1.0: ``ruleId`` = diagnostic code, locations at the YAML ``file:line``.
* ``github`` ``::error file=F,line=L,col=C,title=CODE::message`` workflow commands.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence, TextIO

import click

from ..diff import FieldChange, PackDiff, QuestionFlips
from ..model import Diagnostic, Pack, Severity, Span
from ..scenarios import Report, Result, ScenarioResult

FORMAT_NAMES = ("text", "json", "junit", "sarif", "github")
CI_FORMATS = click.Choice(list(FORMAT_NAMES))

TOOL_NAME = "privacy-rules"
SARIF_SCHEMA = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
CODES_DOC = "docs/codes.md"
FORMATS_DOC = "docs/formats.md#output-formats"
SCENARIOS_DOC = "docs/rule-language.md#5-scenario-tests-privacy-rules-test-pack"

# Short descriptions of the diagnostic codes: the bold first line of each section of
# docs/codes.md (tests/unit/test_report.py checks the two agree). A code missing here
# falls back to its first message.
CODE_TITLES = {
    "PR001": "cannot read a file",
    "PR002": "file too large",
    "PR003": "invalid YAML",
    "PR004": "tag or merge key not allowed",
    "PR005": "too many aliases, values or levels",
    "PR006": "duplicate key",
    "PR007": "key that is not a string",
    "PR008": "empty file",
    "PR009": "rule or scenario file outside the pack folder",
    "PR010": "too many rule files",
    "PR100": "schema violation",
    "PR201": "duplicate rule id",
    "PR202": "unknown reference",
    "PR203": "not a date in the record",
    "PR204": "predicate does not fit the question",
    "PR205": "target does not fit the question",
    "PR206": "basis missing or misplaced",
    "PR207": "obligation rule without obligations",
    "PR208": "contradictory conditions",
    "PR209": "unknown time zone",
    "PR210": "window too long",
    "PR211": "day outside the supported range",
    "PR212": "invisible or control character in an identifier, path or version",
    "PR301": "unknown field in a record",
    "PR302": "wrong type in a record",
    "PR303": "not a date",
    "PR304": "required entry field missing",
    "PR305": "not a record",
    "PR306": "value not among the allowed ones",
    "PR401": "unknown fixture",
    "PR501": "shadowed permit",
    "PR502": "duplicate rule",
    "PR503": "unreachable rule",
    "PR510": "unused vocabulary entry",
    "PR520": "processor without a DPA",
    "PR521": "third-country recipient without a transfer mechanism",
    "PR522": "transfer period outside its mechanism's validity",
    "PR523": "DPA not in force on the day checked",
    "PR524": "no lawful transfer on the day checked",
    "PR530": "consent basis never checked",
    "PR560": "review overdue",
    "PR561": "review dates out of order",
    "PR562": "no review planned",
}


def use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set to a non-empty value (no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def _style(text: str, color: bool, **kw: Any) -> str:
    return click.style(text, **kw) if color else text


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, default=str) + "\n"


def _tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(TOOL_NAME)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


# --- shared pieces ------------------------------------------------------------------------


def diagnostic_text(d: Diagnostic) -> str:
    """The message a reader needs without the location: ``rule `x`: message`` (+ help line)."""
    who = f"rule `{d.rule_id}`: " if d.rule_id else (f"record `{d.record_id}`: " if d.record_id else "")
    return f"{who}{d.message}" + (f"\nhelp: {d.help}" if d.help else "")


def _diag_line(d: Diagnostic, color: bool) -> str:
    text = str(d)
    if not color:
        return text
    colour = {Severity.ERROR: "red", Severity.WARNING: "yellow"}.get(d.severity, "cyan")
    head = f"{d.severity.value} {d.code}:"
    text = text.replace(head, click.style(head, fg=colour, bold=True), 1)
    return text.replace("\n  help:", "\n  " + click.style("help:", fg="cyan"), 1)


def _level(severity: Severity) -> str:
    return {Severity.ERROR: "error", Severity.WARNING: "warning"}.get(severity, "note")


def uri_for(path: str) -> str:
    """A SARIF artifact URI: relative paths stay relative (forward slashes, percent-encoded)."""
    if os.path.isabs(path):
        return Path(path).as_uri()
    return urllib.parse.quote(path.replace(os.sep, "/"), safe="/")


def _xml_safe(text: str) -> str:
    # XML 1.0 forbids most control characters even when escaped; YAML values may hold them.
    return "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else f"\\x{ord(c):02x}" for c in text)


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(level: str, message: str, *, span: Span | None = None, file: str | None = None,
                title: str | None = None) -> str:
    """One workflow command, escaped as the GitHub Actions toolkit does (``%``, CR, LF; in
    property values also ``:`` and ``,``)."""
    props: list[str] = []
    if span is not None:
        props += [f"file={_gh_prop(span.file)}", f"line={span.line}", f"col={span.col}"]
    elif file is not None:
        props.append(f"file={_gh_prop(file)}")
    if title:
        props.append(f"title={_gh_prop(title)}")
    return f"::{level} {','.join(props)}::{_gh_data(message)}" if props else f"::{level}::{_gh_data(message)}"


_GH_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


# --- JUnit ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Case:
    name: str
    classname: str
    span: Span | None = None
    kind: str | None = None  # None = passed; "failure" | "error" | "skipped"
    message: str = ""
    type: str = ""
    text: str = ""
    out: str = ""


def _junit(name: str, suites: Sequence[tuple[str, Sequence[_Case]]]) -> str:
    root = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite_name, cases in suites:
        counts = {"tests": len(cases), "failures": sum(c.kind == "failure" for c in cases),
                  "errors": sum(c.kind == "error" for c in cases), "skipped": sum(c.kind == "skipped" for c in cases)}
        suite = ET.SubElement(root, "testsuite", name=_xml_safe(suite_name), **{k: str(v) for k, v in counts.items()})
        for k, v in counts.items():
            totals[k] += v
        for c in cases:
            attrs = {"name": _xml_safe(c.name), "classname": _xml_safe(c.classname)}
            if c.span is not None:
                attrs["file"], attrs["line"] = _xml_safe(c.span.file), str(c.span.line)
            case = ET.SubElement(suite, "testcase", **attrs)
            if c.kind:
                child = ET.SubElement(case, c.kind, message=_xml_safe(c.message))
                if c.type:
                    child.set("type", _xml_safe(c.type))
                if c.text:
                    child.text = _xml_safe(c.text)
            if c.out:
                ET.SubElement(case, "system-out").text = _xml_safe(c.out)
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _classname(path: str) -> str:
    stem = path[:-5] if path.endswith(".yaml") else path
    return stem.replace("\\", "/").strip("./").replace("/", ".") or "privacy-rules"


def _diag_case(d: Diagnostic, failing: bool, classname: str) -> _Case:
    name = f"{d.code} {d.span}" if d.span else d.code
    return _Case(name=name, classname=classname, span=d.span, kind="failure" if failing else None, message=diagnostic_text(d).split("\n")[0],
                 type=d.code, text=str(d) if failing else "", out="" if failing else str(d))


# --- SARIF ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Finding:
    rule_id: str
    level: str  # error | warning | note
    message: str
    span: Span | None = None
    file: str | None = None  # a location without a line (a whole file)


def _sarif(findings: Sequence[_Finding], descriptions: dict[str, tuple[str, str]]) -> str:
    """A SARIF 2.1.0 log with one run; ``descriptions`` maps ruleId -> (short text, helpUri)."""
    order: list[str] = []
    for f in findings:
        if f.rule_id not in order:
            order.append(f.rule_id)
    rules = []
    for rid in order:
        short, help_uri = descriptions.get(rid, (rid, FORMATS_DOC))
        rules.append({"id": rid, "shortDescription": {"text": short}, "helpUri": help_uri})
    results = []
    for f in findings:
        result: dict[str, Any] = {"ruleId": f.rule_id, "ruleIndex": order.index(f.rule_id), "level": f.level,
                                  "message": {"text": f.message}}
        if f.span is not None:
            result["locations"] = [{"physicalLocation": {
                "artifactLocation": {"uri": uri_for(f.span.file)},
                "region": {"startLine": f.span.line, "startColumn": f.span.col},
            }}]
        elif f.file is not None:
            result["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": uri_for(f.file)}}}]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL_NAME, "version": _tool_version(), "rules": rules}},
            "columnKind": "unicodeCodePoints",  # PyYAML marks count code points
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _code_descriptions(diags: Iterable[Diagnostic]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for d in diags:
        if d.code not in out:
            # docs/codes.md gives each code a section whose anchor is the lowercased code
            out[d.code] = (CODE_TITLES.get(d.code, d.message), f"{CODES_DOC}#{d.code.lower()}")
    return out


def _diag_finding(d: Diagnostic) -> _Finding:
    return _Finding(rule_id=d.code, level=_level(d.severity), message=diagnostic_text(d), span=d.span)


# --- check ----------------------------------------------------------------------------------


def check_report(fmt: str, *, pack: str, result: Pack | None, diags: Sequence[Diagnostic], strict: bool = False,
                 color: bool = False) -> str:
    """The ``check`` output for ``diags`` (from ``read_pack``) in ``fmt``."""
    errors = [d for d in diags if d.severity is Severity.ERROR]
    warnings = [d for d in diags if d.severity is Severity.WARNING]
    failed = bool(errors) or (strict and bool(warnings))
    if fmt == "json":
        return _dumps({"format_version": 1, "pack": pack, "valid": not failed,
                       "rules": len(result.rules) if result else None,
                       "diagnostics": [d.to_json() for d in diags]})
    if result is not None:
        summary = (f"{pack}: {len(result.rules)} rules, {len(errors)} errors, {len(warnings)} warnings"
                   f" (version {result.version})")
    else:
        summary = f"{pack}: invalid, {len(errors)} errors"
    if fmt == "text":
        return "".join(_diag_line(d, color) + "\n" for d in diags) + summary + "\n"
    if fmt == "github":
        lines = [github_line(_GH_LEVEL[d.severity], diagnostic_text(d), span=d.span, title=d.code) for d in diags]
        return "".join(line + "\n" for line in lines) + summary + "\n"
    if fmt == "sarif":
        return _sarif([_diag_finding(d) for d in diags], _code_descriptions(diags))
    if fmt == "junit":
        def fails(d: Diagnostic) -> bool:
            return d.severity is Severity.ERROR or (strict and d.severity is Severity.WARNING)

        cases = [_diag_case(d, fails(d), _classname(d.span.file) if d.span else "privacy-rules.check") for d in diags]
        if not any(c.kind for c in cases):
            cases.insert(0, _Case(name="pack is valid", classname="privacy-rules.check", out=summary))
        return _junit("privacy-rules check", [(pack, cases)])
    raise ValueError(f"unknown format `{fmt}`")


# --- test -----------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]"
    return "null" if value is None else str(value)


def _result_lines(r: ScenarioResult, color: bool) -> list[str]:
    mark = r.result.value.upper()
    colour = {Result.PASS: "green", Result.FAIL: "red", Result.ERROR: "magenta"}[r.result]
    lines = [f"{r.scenario.span}: {_style(mark, color, fg=colour, bold=True)} {r.scenario.name}"]
    if r.error:
        lines.append(f"  error: {r.error}")
    for m in r.mismatches:
        lines.append(_style(f"  - expected {m.key}: {_fmt(m.expected)}", color, fg="red"))
        lines.append(_style(f"  + actual   {m.key}: {_fmt(m.actual)}", color, fg="green"))
    if r.result is Result.FAIL and r.decision is not None:
        lines.append(f"  reason: {r.decision.reason}")
    return lines


def _summary(report: Report) -> str:
    total = len(report.results)
    return (f"PASS {report.count(Result.PASS)}/{total}  FAIL {report.count(Result.FAIL)}/{total}  "
            f"ERROR {report.count(Result.ERROR)}/{total}")


def _coverage_low(report: Report, min_coverage: float | None) -> bool:
    return min_coverage is not None and report.coverage.percent < min_coverage


def scenarios_report(fmt: str, *, pack: str, pack_version: str, report: Report, verbose: bool = False,
                min_coverage: float | None = None, color: bool = False) -> str:
    """The ``test`` output for a scenarios :class:`Report` in ``fmt``."""
    cov = report.coverage
    total = len(report.results)
    low = _coverage_low(report, min_coverage)
    if fmt == "json":
        return _dumps({
            "format_version": 1, "pack": pack, "pack_version": pack_version,
            "summary": {r.value: report.count(r) for r in Result} | {"total": total},
            "results": [{"name": r.scenario.name, "file": r.scenario.span.file, "line": r.scenario.span.line,
                         "result": r.result.value, "error": r.error,
                         "mismatches": [{"key": m.key, "expected": m.expected, "actual": m.actual}
                                        for m in r.mismatches]} for r in report.results],
            "diagnostics": [d.to_json() for d in report.diagnostics],
            "coverage": {"percent": round(cov.percent, 1), "rules_total": cov.rules_total,
                         "rules_unexercised": list(cov.rules_unexercised), "norms_uncited": list(cov.norms_uncited)},
        })
    if fmt == "text":
        lines = [_diag_line(d, color) for d in report.diagnostics]
        for r in report.results:
            if r.result is Result.PASS and not verbose:
                continue
            lines += _result_lines(r, color)
        lines.append(_summary(report))
        lines.append(f"coverage: {len(cov.rules_exercised)}/{cov.rules_total} rules exercised ({cov.percent:.1f}%)")
        if cov.rules_unexercised:
            lines.append("  rules no scenario exercises: " + ", ".join(cov.rules_unexercised))
        if cov.norms_uncited:
            lines.append("  norms no scenario cites: " + ", ".join(cov.norms_uncited))
        return "".join(line + "\n" for line in lines)
    if fmt == "github":
        lines = [github_line(_GH_LEVEL[d.severity], diagnostic_text(d), span=d.span, title=d.code)
                 for d in report.diagnostics]
        for r in report.results:
            if r.result is not Result.PASS:
                body = "\n".join(line.strip() for line in _result_lines(r, False)[1:])
                title = f"scenario {'failed' if r.result is Result.FAIL else 'error'}"
                lines.append(github_line("error", f"{r.scenario.name}" + (f"\n{body}" if body else ""),
                                         span=r.scenario.span, title=title))
        if total == 0:
            lines.append(github_line("error", "no scenarios ran: list scenario files under `scenarios:` in pack.yaml",
                                     title="no scenarios"))
        if low:
            lines.append(github_line("error", f"coverage {cov.percent:.1f}% is below --min-coverage {min_coverage:g}%",
                                     title="coverage"))
        lines.append(_summary(report))
        return "".join(line + "\n" for line in lines)
    if fmt == "sarif":
        findings = [_diag_finding(d) for d in report.diagnostics]
        descriptions = _code_descriptions(report.diagnostics)
        for r in report.results:
            if r.result is Result.PASS:
                continue
            rid = f"scenario-{r.result.value}"
            descriptions[rid] = ({"scenario-fail": "a scenario's expectation is not met",
                                  "scenario-error": "a scenario could not run"}[rid], SCENARIOS_DOC)
            detail = "; ".join(str(m) for m in r.mismatches) or (r.error or "")
            findings.append(_Finding(rule_id=rid, level="error", message=f"{r.scenario.name}: {detail}",
                                     span=r.scenario.span))
        return _sarif(findings, descriptions)
    if fmt == "junit":
        suites: dict[str, list[_Case]] = {}
        for d in report.diagnostics:
            where = d.span.file if d.span else pack
            suites.setdefault(where, []).append(
                _Case(name=f"{d.code} {d.span}" if d.span else d.code, classname=_classname(where), span=d.span,
                      kind="error", message=diagnostic_text(d).split("\n")[0], type=d.code, text=str(d)))
        for r in report.results:
            file = r.scenario.span.file
            case = _Case(name=r.scenario.name, classname=_classname(file), span=r.scenario.span)
            if r.result is Result.FAIL:
                case = _Case(name=case.name, classname=case.classname, span=case.span, kind="failure",
                             message="; ".join(str(m) for m in r.mismatches), type="mismatch",
                             text="\n".join(_result_lines(r, False)))
            elif r.result is Result.ERROR:
                case = _Case(name=case.name, classname=case.classname, span=case.span, kind="error",
                             message=r.error or "", type="error", text="\n".join(_result_lines(r, False)))
            suites.setdefault(file, []).append(case)
        extra: list[_Case] = []
        if total == 0:
            extra.append(_Case(name="scenarios ran", classname="privacy-rules.test", kind="failure",
                               message="no scenarios ran: list scenario files under `scenarios:` in pack.yaml"))
        if min_coverage is not None:
            extra.append(_Case(name=f"coverage at least {min_coverage:g}%", classname="privacy-rules.test",
                               kind="failure" if low else None,
                               message=f"coverage {cov.percent:.1f}% is below --min-coverage {min_coverage:g}%"
                               if low else "", out=f"{cov.percent:.1f}% of {cov.rules_total} rules exercised"))
        pairs = list(suites.items()) + ([(f"{pack} (run)", extra)] if extra else [])
        return _junit("privacy-rules test", pairs)
    raise ValueError(f"unknown format `{fmt}`")


# --- diff -----------------------------------------------------------------------------------


def _short(value: Any, limit: int | None) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def _field_line(f: FieldChange, limit: int | None = None) -> str:
    """``months: 24 -> 12``; ``limit`` shortens long values (the terminal report only)."""
    return f"{f.field}: {_short(f.old, limit)} -> {_short(f.new, limit)}"


def flip_sentence(q: QuestionFlips) -> list[str]:
    """``keep: 312 records allow -> deny (e.g. p-1, p-2)`` lines for one question."""
    if q.problem:
        return [f"{q.question}: not compared: {q.problem}"]
    out = []
    for f in q.flips:
        noun = "record" if f.count == 1 else "records"
        out.append(f"{q.question}: {f.count} {noun} {f.old} -> {f.new} (e.g. {', '.join(f.examples)})")
    if q.other_changes:
        noun = "record" if q.other_changes == 1 else "records"
        out.append(f"{q.question}: {q.other_changes} {noun} same outcome, other rule or keep-until day"
                   f" (e.g. {', '.join(q.other_examples)})")
    if not out:
        out.append(f"{q.question}: no change ({q.unchanged} records)")
    return out


def _pack_file(root: str) -> str:
    return os.path.join(root, "pack.yaml")


def diff_report(fmt: str, diff: PackDiff, *, fail_on_change: bool = False, color: bool = False) -> str:
    """The ``diff`` output in ``fmt``; with ``fail_on_change`` changes are errors (JUnit, GitHub)."""
    if fmt == "json":
        return _dumps(diff.to_json())
    if fmt == "text":
        return _diff_text(diff, color)
    if fmt == "github":
        level = "error" if fail_on_change else "notice"
        lines = []
        for f in diff.meta:
            lines.append(github_line(level, f"pack {_field_line(f)}", file=_pack_file(diff.new_pack),
                                     title="pack changed"))
        for r in diff.rules:
            what = f"rule `{r.rule_id}` {r.kind}"
            if r.fields:
                what += ": " + ", ".join(f.field for f in r.fields)
            lines.append(github_line(level, what, span=r.span, title=f"rule {r.kind}"))
        for v in diff.vocabulary:
            what = f"vocabulary `{v.section}.{v.id}` {v.kind}"
            if v.fields:
                what += "\n" + "\n".join(_field_line(f) for f in v.fields)
            lines.append(github_line(level, what, file=_pack_file(diff.new_pack), title=f"vocabulary {v.kind}"))
        if diff.decisions:
            for q in diff.decisions.questions:
                if q.flips or q.other_changes or q.problem:
                    lines.append(github_line("error" if fail_on_change else "warning", "\n".join(flip_sentence(q)),
                                             title=f"decisions {q.question}"))
        lines.append(_diff_summary(diff))
        return "".join(line + "\n" for line in lines)
    if fmt == "sarif":
        findings: list[_Finding] = []
        level = "error" if fail_on_change else "note"
        for f in diff.meta:
            findings.append(_Finding(rule_id="pack-changed", level=level, message=f"pack {_field_line(f)}",
                                     file=_pack_file(diff.new_pack)))
        for r in diff.rules:
            msg = f"rule `{r.rule_id}` {r.kind}" + (": " + ", ".join(f.field for f in r.fields) if r.fields else "")
            findings.append(_Finding(rule_id=f"rule-{r.kind}", level=level, message=msg, span=r.span))
        for v in diff.vocabulary:
            msg = f"vocabulary `{v.section}.{v.id}` {v.kind}" + \
                ("\n" + "\n".join(_field_line(f) for f in v.fields) if v.fields else "")
            findings.append(_Finding(rule_id=f"vocabulary-{v.kind}", level=level, message=msg,
                                     file=_pack_file(diff.new_pack)))
        if diff.decisions:
            for q in diff.decisions.questions:
                if q.flips or q.other_changes:
                    findings.append(_Finding(rule_id="decisions-changed", level="error" if fail_on_change else "warning",
                                             message="\n".join(flip_sentence(q)), file=_pack_file(diff.new_pack)))
        descriptions = {
            "pack-changed": ("a pack setting changed", FORMATS_DOC),
            "rule-added": ("a rule was added", FORMATS_DOC),
            "rule-removed": ("a rule was removed", FORMATS_DOC),
            "rule-changed": ("a rule changed", FORMATS_DOC),
            "vocabulary-added": ("a vocabulary entry was added", FORMATS_DOC),
            "vocabulary-removed": ("a vocabulary entry was removed", FORMATS_DOC),
            "vocabulary-changed": ("a vocabulary entry changed", FORMATS_DOC),
            "decisions-changed": ("decisions about the given records changed", FORMATS_DOC),
        }
        return _sarif(findings, descriptions)
    if fmt == "junit":
        kind = "failure" if fail_on_change else None
        suites: list[tuple[str, list[_Case]]] = []
        pack_cases = [_Case(name=f"pack {f.field}", classname="privacy-rules.diff.pack", kind=kind,
                            message=_field_line(f), type="pack-changed", text=_field_line(f),
                            out="" if kind else _field_line(f)) for f in diff.meta]
        rule_cases = []
        for r in diff.rules:
            detail = "\n".join(_field_line(f) for f in r.fields)
            rule_cases.append(_Case(name=f"{r.rule_id} {r.kind}", classname="privacy-rules.diff.rules", span=r.span,
                                    kind=kind, message=f"rule `{r.rule_id}` {r.kind}", type=f"rule-{r.kind}",
                                    text=detail if kind else "", out="" if kind else detail))
        vocab_cases = []
        for v in diff.vocabulary:
            detail = "\n".join(_field_line(f) for f in v.fields)
            vocab_cases.append(_Case(name=f"{v.section}.{v.id} {v.kind}", classname="privacy-rules.diff.vocabulary",
                                     kind=kind, message=f"vocabulary `{v.section}.{v.id}` {v.kind}",
                                     type=f"vocabulary-{v.kind}", text=detail if kind else "",
                                     out="" if kind else detail))
        for name, cases in (("pack", pack_cases), ("rules", rule_cases), ("vocabulary", vocab_cases)):
            if cases:
                suites.append((name, cases))
        if diff.decisions:
            cases = []
            for q in diff.decisions.questions:
                text = "\n".join(flip_sentence(q))
                if q.problem:
                    cases.append(_Case(name=q.question, classname="privacy-rules.diff.decisions", kind="skipped",
                                       message=q.problem))
                elif q.flips or q.other_changes:
                    cases.append(_Case(name=q.question, classname="privacy-rules.diff.decisions", kind=kind,
                                       message=text.split("\n")[0], type="decisions-changed",
                                       text=text if kind else "", out="" if kind else text))
                else:
                    cases.append(_Case(name=q.question, classname="privacy-rules.diff.decisions", out=text))
            suites.append(("decisions", cases))
        if not suites:
            suites.append(("diff", [_Case(name="no changes", classname="privacy-rules.diff")]))
        return _junit("privacy-rules diff", suites)
    raise ValueError(f"unknown format `{fmt}`")


def _diff_summary(diff: PackDiff) -> str:
    if not diff.changed:
        return f"no changes between `{diff.old_pack}` and `{diff.new_pack}`"
    parts = [f"{len(diff.rules_of(k))} {k}" for k in ("added", "removed", "changed")]
    text = f"rules: {', '.join(parts)}; vocabulary: {len(diff.vocabulary)} changes; pack: {len(diff.meta)} changes"
    if diff.decisions:
        flipped = sum(q.flipped for q in diff.decisions.questions)
        text += f"; decisions: {flipped} flips over {diff.decisions.records} records"
    return text


def _diff_text(diff: PackDiff, color: bool) -> str:
    marks = {"added": _style("+", color, fg="green"), "removed": _style("-", color, fg="red"),
             "changed": _style("~", color, fg="yellow")}
    lines = [f"{diff.old_pack} ({diff.old_version}) -> {diff.new_pack} ({diff.new_version})"]
    if diff.meta:
        lines.append(_style("pack:", color, bold=True))
        lines += [f"  {marks['changed']} {_field_line(f, 200)}" for f in diff.meta]
    if diff.rules:
        lines.append(_style("rules:", color, bold=True))
        for r in diff.rules:
            where = f"  [{r.span}]" if r.span else ""
            fields = ": " + ", ".join(f.field for f in r.fields) if r.fields else ""
            lines.append(f"  {marks[r.kind]} {r.rule_id}{fields}{where}")
            lines += [f"      {_field_line(f, 200)}" for f in r.fields]
    if diff.vocabulary:
        lines.append(_style("vocabulary:", color, bold=True))
        for v in diff.vocabulary:
            lines.append(f"  {marks[v.kind]} {v.section}.{v.id}")
            lines += [f"      {_field_line(f, 200)}" for f in v.fields]
    if diff.decisions:
        d = diff.decisions
        unread = f", {d.invalid} unreadable" if d.invalid else ""
        lines.append(_style(f"decisions as of {d.as_of.isoformat()} over {d.records} records{unread}:", color,
                            bold=True))
        for q in d.questions:
            for sentence in flip_sentence(q):
                flipped = bool(q.flips) and "->" in sentence and not q.problem
                lines.append("  " + (_style(sentence, color, fg="red") if flipped else sentence))
    lines.append(_diff_summary(diff))
    return "".join(line + "\n" for line in lines)


__all__ = ["CI_FORMATS", "FORMAT_NAMES", "CODE_TITLES", "use_color", "check_report", "scenarios_report", "diff_report",
           "github_line", "diagnostic_text", "uri_for", "flip_sentence"]
