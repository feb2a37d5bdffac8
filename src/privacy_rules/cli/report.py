"""One result stream, many reporters: check diagnostics, scenario reports and pack diffs as
text, JSON, JUnit XML, SARIF 2.1.0 or GitHub workflow commands (STYLE 4, 10).

Every function here is pure: it takes the result values and returns the text to print, so
the CLI decides where it goes and tests compare strings. Colour is an argument; only
:func:`use_color` looks at the terminal and ``NO_COLOR``.

Formats at a glance (docs/formats.md, "Output formats"):

* ``text``  the human report; coloured only on a terminal with ``NO_COLOR`` unset.
* ``json``  ``"format_version": 1`` documents, unchanged from before this module.
* ``junit`` JUnit XML (``testsuites`` > ``testsuite`` > ``testcase``) that CI servers ingest.
* ``sarif`` SARIF 2.1.0: ``ruleId`` = diagnostic code, locations at the YAML ``file:line``;
  each rule's ``help`` is its section of docs/codes.md (``_codes``), ``helpUri`` only under
  ``--help-uri-base``.
* ``github`` ``::error file=F,line=L,col=C,title=CODE::message`` workflow commands.

Rule files, records and scenario files are untrusted: every value from them that reaches a
report for people (text, JUnit, GitHub) goes through :func:`privacy_rules._escape.escape`, so
control characters, bidi overrides and characters XML forbids show as ``\\x1b``-style escapes.
JSON and SARIF keep values exact (JSON escapes control characters itself).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence, TextIO

import click

from .._escape import escape
from ..diff import FieldChange, PackDiff, QuestionFlips
from ..model import Diagnostic, Pack, Severity, Span
from ..scenarios import Report, Result, ScenarioResult
from ._codes import parse_codes_doc, read_codes_doc

FORMAT_NAMES = ("text", "json", "junit", "sarif", "github")
CI_FORMATS = click.Choice(list(FORMAT_NAMES))

TOOL_NAME = "privacy-rules"
SARIF_SCHEMA = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
# Where each kind of SARIF rule is documented, relative to privacy-rules' docs/ folder. These
# become helpUri only under --help-uri-base (a relative link would resolve against the user's
# repository, which does not hold these files); the help text itself travels in the log.
FORMATS_DOC = "formats.md#output-formats"
SCENARIOS_DOC = "rule-language.md#5-scenario-tests-privacy-rules-test-pack"

# SARIF rules that are not diagnostic codes: id -> (short description, help text, doc).
_OTHER_RULES: dict[str, tuple[str, str, str]] = {
    "scenario-fail": ("a scenario's expectation is not met",
                      "A scenario of the pack's tests expects another answer than the pack gives. The message "
                      "lists each expected and actual value. Correct the rule if the scenario states the policy, "
                      "or the scenario if the rule does.", SCENARIOS_DOC),
    "scenario-error": ("a scenario could not run",
                       "A scenario names something the pack does not know (a scope, purpose, channel or recipient "
                       "in its question, or a fixture), so it could not be decided. The message says what; "
                       "correct the scenario or add the entry to the pack's vocabulary.", SCENARIOS_DOC),
    "pack-changed": ("a pack setting changed", "A key under `pack:` in pack.yaml changed between the two "
                     "packs; the message gives the old and the new value.", FORMATS_DOC),
    "rule-added": ("a rule was added", "The new pack has a rule the old one lacks.", FORMATS_DOC),
    "rule-removed": ("a rule was removed", "The old pack had a rule the new one lacks; the location is the rule "
                     "in the old pack.", FORMATS_DOC),
    "rule-changed": ("a rule changed", "A rule with the same id differs between the packs; the message names "
                     "the fields that changed (effect, targets, conditions, basis, obligations, citations, "
                     "explain).", FORMATS_DOC),
    "vocabulary-added": ("a vocabulary entry was added", "pack.yaml of the new pack has a vocabulary entry the "
                         "old one lacks.", FORMATS_DOC),
    "vocabulary-removed": ("a vocabulary entry was removed", "pack.yaml of the old pack had a vocabulary entry "
                           "the new one lacks; the location is the entry in the old pack.yaml.", FORMATS_DOC),
    "vocabulary-changed": ("a vocabulary entry changed", "A vocabulary entry differs between the packs; the "
                           "message gives the old and the new value of each field.", FORMATS_DOC),
    "decisions-changed": ("decisions about the given records changed", "Run over the same records, the two "
                          "packs give different answers: the message counts per question how many records "
                          "went from one outcome to another, with example record ids.", FORMATS_DOC),
}


def help_uri_base(value: str | None) -> str | None:
    """``--help-uri-base``: the absolute address of privacy-rules' docs/ folder, ending in ``/``.
    Raises click.BadParameter (exit 2) for a relative or malformed address."""
    if value is None:
        return None
    parts = urllib.parse.urlsplit(value)
    if not parts.scheme or not parts.netloc or any(c.isspace() or not c.isprintable() for c in value):
        raise click.BadParameter(f"`{escape(value)}` is not an absolute URL; give the address of the folder "
                                 "that holds privacy-rules' docs (codes.md, formats.md), starting with https://")
    return value if value.endswith("/") else value + "/"


HELP_URI_OPTION = click.option(
    "--help-uri-base", "help_uri", metavar="URL",
    callback=lambda ctx, param, value: help_uri_base(value),
    help="SARIF only: the address where privacy-rules' docs/ folder is published; each SARIF rule then "
         "links its section (URL/codes.md#pr202). Without it the log carries the help text only.")


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


def escape_diagnostic(d: Diagnostic) -> Diagnostic:
    """``d`` with its message, help, ids and file name escaped for people (one line each):
    ``str()`` of the result is safe to print, whatever the rule file or record held."""
    span = dataclasses.replace(d.span, file=escape(d.span.file)) if d.span is not None else None
    return dataclasses.replace(
        d, message=escape(d.message), span=span, help=escape(d.help) if d.help is not None else None,
        rule_id=escape(d.rule_id) if d.rule_id is not None else None,
        record_id=escape(d.record_id) if d.record_id is not None else None)


def diagnostic_text(d: Diagnostic) -> str:
    """The message a reader needs without the location: ``rule `x`: message`` (+ help line)."""
    who = f"rule `{d.rule_id}`: " if d.rule_id else (f"record `{d.record_id}`: " if d.record_id else "")
    return f"{who}{d.message}" + (f"\nhelp: {d.help}" if d.help else "")


def _diag_line(d: Diagnostic, color: bool) -> str:
    text = str(escape_diagnostic(d))  # escaped before colour: click.style adds the only escapes
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


def _xml_attr(text: str) -> str:
    # XML 1.0 forbids most C0 controls, lone surrogates and U+FFFE/U+FFFF even as character
    # references; escape() shows them (and the other unsafe characters) as `\x..` text.
    return escape(text)


def _xml_text(text: str) -> str:
    return escape(text, keep_newlines=True)  # a failure body is several lines by design


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(level: str, message: str, *, span: Span | None = None, file: str | None = None,
                title: str | None = None) -> str:
    """One workflow command, escaped as the GitHub Actions toolkit does (``%``, CR, LF; in
    property values also ``:`` and ``,``). Control characters are escaped first (the log
    viewer obeys ANSI sequences); line feeds in ``message`` stay lines of the annotation."""
    props: list[str] = []
    if span is not None:
        props += [f"file={_gh_prop(escape(span.file))}", f"line={span.line}", f"col={span.col}"]
    elif file is not None:
        props.append(f"file={_gh_prop(escape(file))}")
    if title:
        props.append(f"title={_gh_prop(escape(title))}")
    data = _gh_data(escape(message, keep_newlines=True))
    return f"::{level} {','.join(props)}::{data}" if props else f"::{level}::{data}"


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
        suite = ET.SubElement(root, "testsuite", {"name": _xml_attr(suite_name), **{k: str(v) for k, v in counts.items()}})
        for k, v in counts.items():
            totals[k] += v
        for c in cases:
            attrs = {"name": _xml_attr(c.name), "classname": _xml_attr(c.classname)}
            if c.span is not None:
                attrs["file"], attrs["line"] = _xml_attr(c.span.file), str(c.span.line)
            case = ET.SubElement(suite, "testcase", attrs)
            if c.kind:
                child = ET.SubElement(case, c.kind, message=_xml_attr(c.message))
                if c.type:
                    child.set("type", _xml_attr(c.type))
                if c.text:
                    child.text = _xml_text(c.text)
            if c.out:
                ET.SubElement(case, "system-out").text = _xml_text(c.out)
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"



def _classname(path: str) -> str:
    stem = path[:-5] if path.endswith(".yaml") else path
    return stem.replace("\\", "/").strip("./").replace("/", ".") or "privacy-rules"


def _diag_case(d: Diagnostic, failing: bool, classname: str) -> _Case:
    name = f"{d.code} {d.span}" if d.span else d.code
    shown = escape_diagnostic(d)
    return _Case(name=name, classname=classname, span=d.span, kind="failure" if failing else None,
                 message=diagnostic_text(shown).split("\n")[0], type=d.code, text=str(shown) if failing else "",
                 out="" if failing else str(shown))


# --- SARIF ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Finding:
    rule_id: str
    level: str  # error | warning | note
    message: str
    span: Span | None = None
    file: str | None = None  # a location without a line (a whole file)


@dataclass(frozen=True, slots=True, kw_only=True)
class _RuleHelp:
    short: str
    text: str
    markdown: str | None
    doc: str  # relative to privacy-rules' docs/ folder


def _sarif(findings: Sequence[_Finding], helps: Mapping[str, _RuleHelp], help_uri: str | None) -> str:
    """A SARIF 2.1.0 log with one run. ``helps`` gives each ruleId its description and help;
    ``help_uri`` (the docs/ folder's address, from --help-uri-base) adds absolute helpUri links."""
    order: list[str] = []
    for f in findings:
        if f.rule_id not in order:
            order.append(f.rule_id)
    rules = []
    for rid in order:
        h = helps.get(rid) or _RuleHelp(short=rid, text=rid, markdown=None, doc=FORMATS_DOC)
        rule: dict[str, Any] = {"id": rid, "shortDescription": {"text": h.short}, "help": {"text": h.text}}
        if h.markdown is not None:
            rule["help"]["markdown"] = h.markdown
        if help_uri is not None:
            rule["helpUri"] = help_uri + h.doc
        rules.append(rule)
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
    # Exact values, but a lone surrogate (a `\ud800` escape in a JSON record) cannot be written
    # as UTF-8: keep it as the JSON escape it came from, which parses back to the same value.
    text = json.dumps(log, indent=2, ensure_ascii=False)
    return _JSON_ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


_JSON_ESCAPED = re.compile("[\u2028\u2029\ud800-\udfff]")  # and the separators JavaScript reads as line ends


def _code_helps(diags: Iterable[Diagnostic], help_uri: str | None) -> dict[str, _RuleHelp]:
    """Each code's section of docs/codes.md (the copy shipped in the package) as SARIF help."""
    diags = list(diags)
    docs = parse_codes_doc(read_codes_doc(), docs_url=help_uri) if diags else {}
    out: dict[str, _RuleHelp] = {}
    for d in diags:
        if d.code in out:
            continue
        doc = docs.get(d.code)
        # docs/codes.md gives each code a section whose anchor is the lowercased code
        anchor = f"codes.md#{d.code.lower()}"
        if doc is None:  # only when the shipped copy of docs/codes.md is out of date
            out[d.code] = _RuleHelp(short=d.message, text=f"{d.code}: see docs/codes.md of privacy-rules",
                                    markdown=None, doc=anchor)
        else:
            out[d.code] = _RuleHelp(short=doc.title, text=doc.text, markdown=doc.markdown, doc=anchor)
    return out


def _other_helps(rule_ids: Iterable[str]) -> dict[str, _RuleHelp]:
    return {rid: _RuleHelp(short=_OTHER_RULES[rid][0], text=_OTHER_RULES[rid][1], markdown=None,
                           doc=_OTHER_RULES[rid][2]) for rid in rule_ids}


def _diag_finding(d: Diagnostic) -> _Finding:
    return _Finding(rule_id=d.code, level=_level(d.severity), message=diagnostic_text(d), span=d.span)


# --- check ----------------------------------------------------------------------------------


def check_report(fmt: str, *, pack: str, result: Pack | None, diags: Sequence[Diagnostic], strict: bool = False,
                 color: bool = False, help_uri: str | None = None) -> str:
    """The ``check`` output for ``diags`` (from ``read_pack``) in ``fmt``; ``help_uri`` as for
    :func:`help_uri_base` (SARIF only)."""
    errors = [d for d in diags if d.severity is Severity.ERROR]
    warnings = [d for d in diags if d.severity is Severity.WARNING]
    failed = bool(errors) or (strict and bool(warnings))
    if fmt == "json":
        return _dumps({"format_version": 1, "pack": pack, "valid": not failed,
                       "rules": len(result.rules) if result else None,
                       "diagnostics": [d.to_json() for d in diags]})
    if result is not None:
        summary = (f"{escape(pack)}: {len(result.rules)} rules, {len(errors)} errors, {len(warnings)} warnings"
                   f" (version {result.version})")
    else:
        summary = f"{escape(pack)}: invalid, {len(errors)} errors"
    if fmt == "text":
        return "".join(_diag_line(d, color) + "\n" for d in diags) + summary + "\n"
    if fmt == "github":
        lines = [github_line(_GH_LEVEL[d.severity], diagnostic_text(escape_diagnostic(d)), span=d.span, title=d.code)
                 for d in diags]
        return "".join(line + "\n" for line in lines) + summary + "\n"
    if fmt == "sarif":
        return _sarif([_diag_finding(d) for d in diags], _code_helps(diags, help_uri), help_uri)
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
    """The report lines of one scenario; every value from the scenario file is escaped (one
    line each) before colour is added."""
    mark = r.result.value.upper()
    colour = {Result.PASS: "green", Result.FAIL: "red", Result.ERROR: "magenta"}[r.result]
    lines = [f"{escape(str(r.scenario.span))}: {_style(mark, color, fg=colour, bold=True)} {escape(r.scenario.name)}"]
    if r.error:
        lines.append(f"  error: {escape(r.error)}")
    for m in r.mismatches:
        lines.append(_style(escape(f"  - expected {m.key}: {_fmt(m.expected)}"), color, fg="red"))
        lines.append(_style(escape(f"  + actual   {m.key}: {_fmt(m.actual)}"), color, fg="green"))
    if r.result is Result.FAIL and r.decision is not None:
        lines.append(f"  reason: {escape(r.decision.reason)}")
    return lines


def _summary(report: Report) -> str:
    total = len(report.results)
    return (f"PASS {report.count(Result.PASS)}/{total}  FAIL {report.count(Result.FAIL)}/{total}  "
            f"ERROR {report.count(Result.ERROR)}/{total}")


def _coverage_low(report: Report, min_coverage: float | None) -> bool:
    return min_coverage is not None and report.coverage.percent < min_coverage


def scenarios_report(fmt: str, *, pack: str, pack_version: str, report: Report, verbose: bool = False,
                     min_coverage: float | None = None, color: bool = False, help_uri: str | None = None) -> str:
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
            lines.append("  rules no scenario exercises: " + escape(", ".join(cov.rules_unexercised)))
        if cov.norms_uncited:
            lines.append("  norms no scenario cites: " + escape(", ".join(cov.norms_uncited)))
        return "".join(line + "\n" for line in lines)
    if fmt == "github":
        lines = [github_line(_GH_LEVEL[d.severity], diagnostic_text(escape_diagnostic(d)), span=d.span, title=d.code)
                 for d in report.diagnostics]
        for r in report.results:
            if r.result is not Result.PASS:
                body = "\n".join(line.strip() for line in _result_lines(r, False)[1:])
                title = f"scenario {'failed' if r.result is Result.FAIL else 'error'}"
                lines.append(github_line("error", escape(r.scenario.name) + (f"\n{body}" if body else ""),
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
        helps = _code_helps(report.diagnostics, help_uri) | _other_helps(["scenario-fail", "scenario-error"])
        for r in report.results:
            if r.result is Result.PASS:
                continue
            rid = f"scenario-{r.result.value}"
            detail = "; ".join(str(m) for m in r.mismatches) or (r.error or "")
            findings.append(_Finding(rule_id=rid, level="error", message=f"{r.scenario.name}: {detail}",
                                     span=r.scenario.span))
        return _sarif(findings, helps, help_uri)
    if fmt == "junit":
        suites: dict[str, list[_Case]] = {}
        for d in report.diagnostics:
            where = d.span.file if d.span else pack
            shown = escape_diagnostic(d)
            suites.setdefault(where, []).append(
                _Case(name=f"{d.code} {d.span}" if d.span else d.code, classname=_classname(where), span=d.span,
                      kind="error", message=diagnostic_text(shown).split("\n")[0], type=d.code, text=str(shown)))
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


def diff_report(fmt: str, diff: PackDiff, *, fail_on_change: bool = False, color: bool = False,
                help_uri: str | None = None) -> str:
    """The ``diff`` output in ``fmt``; with ``fail_on_change`` changes are errors (JUnit, GitHub)."""
    if fmt == "json":
        return _dumps(diff.to_json())
    if fmt == "text":
        return _diff_text(diff, color)
    if fmt == "github":
        # each value is escaped on its own line (escape()), so one cannot add lines to an annotation
        level = "error" if fail_on_change else "notice"
        lines = []
        for f in diff.meta:
            lines.append(github_line(level, escape(f"pack {_field_line(f)}"), span=f.span,
                                     file=None if f.span else _pack_file(diff.new_pack), title="pack changed"))
        for r in diff.rules:
            what = f"rule `{r.rule_id}` {r.kind}"
            if r.fields:
                what += ": " + ", ".join(f.field for f in r.fields)
            lines.append(github_line(level, escape(what), span=r.span, title=f"rule {r.kind}"))
        for v in diff.vocabulary:
            what = escape(f"vocabulary `{v.section}.{v.id}` {v.kind}")
            if v.fields:
                what += "\n" + "\n".join(escape(_field_line(f)) for f in v.fields)
            span = v.span
            lines.append(github_line(level, what, span=span, file=None if span else _pack_file(diff.new_pack),
                                     title=f"vocabulary {v.kind}"))
        if diff.decisions:
            for q in diff.decisions.questions:
                if q.flips or q.other_changes or q.problem:
                    lines.append(github_line("error" if fail_on_change else "warning",
                                             "\n".join(escape(s) for s in flip_sentence(q)),
                                             title=f"decisions {q.question}"))
        lines.append(_diff_summary(diff))
        return "".join(line + "\n" for line in lines)
    if fmt == "sarif":
        findings: list[_Finding] = []
        level = "error" if fail_on_change else "note"
        for f in diff.meta:
            findings.append(_Finding(rule_id="pack-changed", level=level, message=f"pack {_field_line(f)}",
                                     span=f.span, file=None if f.span else _pack_file(diff.new_pack)))
        for r in diff.rules:
            msg = f"rule `{r.rule_id}` {r.kind}" + (": " + ", ".join(f.field for f in r.fields) if r.fields else "")
            findings.append(_Finding(rule_id=f"rule-{r.kind}", level=level, message=msg, span=r.span))
        for v in diff.vocabulary:
            msg = f"vocabulary `{v.section}.{v.id}` {v.kind}" + \
                ("\n" + "\n".join(_field_line(f) for f in v.fields) if v.fields else "")
            findings.append(_Finding(rule_id=f"vocabulary-{v.kind}", level=level, message=msg, span=v.span,
                                     file=None if v.span else _pack_file(diff.new_pack)))
        if diff.decisions:
            for q in diff.decisions.questions:
                if q.flips or q.other_changes:
                    findings.append(_Finding(rule_id="decisions-changed", level="error" if fail_on_change else "warning",
                                             message="\n".join(flip_sentence(q)), file=_pack_file(diff.new_pack)))
        return _sarif(findings, _other_helps({f.rule_id for f in findings}), help_uri)
    if fmt == "junit":
        kind = "failure" if fail_on_change else None
        suites: list[tuple[str, list[_Case]]] = []
        pack_cases = [_Case(name=f"pack {f.field}", classname="privacy-rules.diff.pack", kind=kind, span=f.span,
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
                                     span=v.span, kind=kind, message=f"vocabulary `{v.section}.{v.id}` {v.kind}",
                                     type=f"vocabulary-{v.kind}", text=detail if kind else "",
                                     out="" if kind else detail))
        for name, cases in (("pack", pack_cases), ("rules", rule_cases), ("vocabulary", vocab_cases)):
            if cases:
                suites.append((name, cases))
        if diff.decisions:
            cases = []
            for q in diff.decisions.questions:
                text = "\n".join(escape(s) for s in flip_sentence(q))  # a record id cannot add a line
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
        return escape(f"no changes between `{diff.old_pack}` and `{diff.new_pack}`")
    parts = [f"{len(diff.rules_of(k))} {k}" for k in ("added", "removed", "changed")]
    text = f"rules: {', '.join(parts)}; vocabulary: {len(diff.vocabulary)} changes; pack: {len(diff.meta)} changes"
    if diff.decisions:
        flipped = sum(q.flipped for q in diff.decisions.questions)
        text += f"; decisions: {flipped} flips over {diff.decisions.records} records"
    return text


def _diff_text(diff: PackDiff, color: bool) -> str:
    # Values from the packs and records are escaped (one line each) before colour is added.
    marks = {"added": _style("+", color, fg="green"), "removed": _style("-", color, fg="red"),
             "changed": _style("~", color, fg="yellow")}
    lines = [escape(f"{diff.old_pack} ({diff.old_version}) -> {diff.new_pack} ({diff.new_version})")]
    if diff.meta:
        lines.append(_style("pack:", color, bold=True))
        lines += [f"  {marks['changed']} {escape(_field_line(f, 200))}" for f in diff.meta]
    if diff.rules:
        lines.append(_style("rules:", color, bold=True))
        for r in diff.rules:
            where = f"  [{r.span}]" if r.span else ""
            fields = ": " + ", ".join(f.field for f in r.fields) if r.fields else ""
            lines.append(f"  {marks[r.kind]} {escape(f'{r.rule_id}{fields}{where}')}")
            lines += [f"      {escape(_field_line(f, 200))}" for f in r.fields]
    if diff.vocabulary:
        lines.append(_style("vocabulary:", color, bold=True))
        for v in diff.vocabulary:
            lines.append(f"  {marks[v.kind]} {escape(f'{v.section}.{v.id}')}")
            lines += [f"      {escape(_field_line(f, 200))}" for f in v.fields]
    if diff.decisions:
        d = diff.decisions
        unread = f", {d.invalid} unreadable" if d.invalid else ""
        lines.append(_style(f"decisions as of {d.as_of.isoformat()} over {d.records} records{unread}:", color,
                            bold=True))
        for q in d.questions:
            for sentence in map(escape, flip_sentence(q)):
                flipped = bool(q.flips) and "->" in sentence and not q.problem
                lines.append("  " + (_style(sentence, color, fg="red") if flipped else sentence))
    lines.append(_diff_summary(diff))
    return "".join(line + "\n" for line in lines)


__all__ = ["CI_FORMATS", "FORMAT_NAMES", "HELP_URI_OPTION", "help_uri_base", "use_color", "check_report", "scenarios_report", "diff_report",
           "escape_diagnostic",
           "github_line", "diagnostic_text", "uri_for", "flip_sentence"]
