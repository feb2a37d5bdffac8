"""``privacy-rules check-profile PROFILE [--pack PACK]``: check a mapping profile like a pack.

PROFILE is a profile file or a bundled profile's id (``hubspot-export``, ``hubspot-api``,
``salesforce``, ``generic-csv``). With ``--pack``, the ids the profile writes (subject
categories, purposes, recipients, scopes, data categories) must be ids that pack defines.
Exit 0 valid, 1 invalid (errors; with ``--strict`` also warnings), 2 usage or an invalid pack.
The reports reuse the ``check`` reporters (cli/report.py), so CI reads both the same way.
"""

from __future__ import annotations

from typing import Sequence

import click

from .._escape import escape
from ..mapping import Profile, check_profile
from ..model import Diagnostic, Severity
from ..pack import load_pack
from . import report as reporters
from ._common import EXIT_FAIL, EXIT_OK, streams


@click.command(name="check-profile")
@click.argument("profile")
@click.option("--pack", "pack_path", metavar="PACK",
              help="Also check the ids the profile writes against this pack's vocabulary.")
@click.option("--format", "fmt", type=reporters.CI_FORMATS, default="text", show_default=True,
              help="Output format: text, json, junit (JUnit XML), sarif (SARIF 2.1.0) or github (annotations).")
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
@reporters.HELP_URI_OPTION
def check_profile_cmd(profile: str, pack_path: str | None, fmt: str, strict: bool, help_uri: str | None) -> None:
    """Validate a mapping PROFILE (a file, or a bundled id such as hubspot-export). Exit 0 valid, 1 invalid."""
    io = streams()
    pack = load_pack(pack_path) if pack_path is not None else None  # an invalid pack: PackError, exit 2
    result, diags = check_profile(profile, pack=pack)
    errors = [d for d in diags if d.severity is Severity.ERROR]
    warnings = [d for d in diags if d.severity is Severity.WARNING]
    failed = bool(errors) or (strict and bool(warnings))
    io.out.write(profile_report(fmt, profile=profile, result=result, diags=diags, strict=strict,
                                color=fmt == "text" and reporters.use_color(io.out), help_uri=help_uri))
    raise SystemExit(EXIT_FAIL if failed else EXIT_OK)


def profile_report(fmt: str, *, profile: str, result: Profile | None, diags: Sequence[Diagnostic],
                   strict: bool = False, color: bool = False, help_uri: str | None = None) -> str:
    """The ``check-profile`` output in ``fmt``. Pure."""
    errors = [d for d in diags if d.severity is Severity.ERROR]
    warnings = [d for d in diags if d.severity is Severity.WARNING]
    failed = bool(errors) or (strict and bool(warnings))
    if fmt == "json":
        return reporters._dumps({
            "format_version": 1, "profile": profile, "valid": not failed,
            "id": result.id if result else None,
            "fields": len(result.fields) if result else None,
            "events": len(result.events) if result else None,
            "diagnostics": [d.to_json() for d in diags],
        })
    if result is not None:
        summary = (f"{escape(profile)}: profile `{escape(result.id)}`, {len(result.fields)} fields, "
                   f"{len(result.events)} events, {len(errors)} errors, {len(warnings)} warnings")
    else:
        summary = f"{escape(profile)}: invalid, {len(errors)} errors"
    if fmt == "text":
        return "".join(reporters._diag_line(d, color) + "\n" for d in diags) + summary + "\n"
    if fmt == "github":
        lines = [reporters.github_line(reporters._GH_LEVEL[d.severity],
                                       reporters.diagnostic_text(reporters.escape_diagnostic(d)),
                                       span=d.span, title=d.code) for d in diags]
        return "".join(line + "\n" for line in lines) + summary + "\n"
    if fmt == "sarif":
        return reporters._sarif([reporters._diag_finding(d) for d in diags],
                                reporters._code_helps(diags, help_uri), help_uri)
    if fmt == "junit":
        def fails(d: Diagnostic) -> bool:
            return d.severity is Severity.ERROR or (strict and d.severity is Severity.WARNING)

        cases = [reporters._diag_case(d, fails(d), reporters._classname(d.span.file) if d.span
                                      else "privacy-rules.check-profile") for d in diags]
        if not any(c.kind for c in cases):
            cases.insert(0, reporters._Case(name="profile is valid", classname="privacy-rules.check-profile",
                                            out=summary))
        return reporters._junit("privacy-rules check-profile", [(profile, cases)])
    raise ValueError(f"unknown format `{fmt}`")
