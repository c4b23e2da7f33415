"""Renderings of check findings: text for people, JSON, GitHub annotations, JUnit XML.

Every renderer is a pure function from findings (and the contracts checked) to a
string; the command prints it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from itertools import groupby
from xml.sax.saxutils import escape, quoteattr

from somacontracts.errors import count
from somacontracts.tooling.check.findings import ERROR, Finding

__all__ = ["RENDERERS", "render_github", "render_json", "render_junit", "render_text"]


def render_text(findings: Sequence[Finding], contracts: Sequence[str]) -> str:
    """Findings grouped by contract, one line each: file:location, rule id, message;
    warnings marked, and counted apart from the problems that fail the check."""
    problems = [f for f in findings if f.severity == ERROR]
    warnings = len(findings) - len(problems)
    if not problems:
        lines = _grouped(findings)
        noted = f"; {count(warnings, 'warning')}" if warnings else ""
        lines.append(f"{count(len(contracts), 'contract')} checked: no problems found{noted}")
        return "\n".join(lines) + "\n"
    lines = _grouped(findings)
    checked = set(contracts)
    failing = len({f.contract for f in problems if f.contract in checked})
    # Such as the generated package's __init__.py, or a contract the catalog names that
    # has no folder.
    outside = ", ".join(sorted({f.contract for f in problems if f.contract not in checked}))
    summary = count(len(problems), "problem")
    if not failing:
        summary += f", in {outside}; none in the {count(len(contracts), 'contract')} checked"
    else:
        summary += f" in {failing} of {count(len(contracts), 'contract')}"
        if outside:
            summary += f", and in {outside}"
    if warnings:
        summary += f"; {count(warnings, 'warning')}"
    lines.append(summary)
    return "\n".join(lines) + "\n"


def _grouped(findings: Sequence[Finding]) -> list[str]:
    lines = []
    ordered = sorted(findings, key=lambda f: f.contract)
    for contract, group in groupby(ordered, key=lambda f: f.contract):
        items = list(group)
        errors = sum(1 for f in items if f.severity == ERROR)
        heading = [count(errors, "problem")] if errors else []
        if len(items) > errors:
            heading.append(count(len(items) - errors, "warning"))
        lines.append(f"{contract}: {', '.join(heading)}")
        for finding in items:
            version = f"v{finding.version} " if finding.version is not None else ""
            marked = " (warning)" if finding.severity != ERROR else ""
            lines.append(f"  {finding.where()}: {version}{finding.rule}{marked}: {finding.message}")
    return lines


def render_json(findings: Sequence[Finding], contracts: Sequence[str]) -> str:
    """``{"ok": bool, "contracts": [...], "findings": [...]}`` as indented JSON."""
    document = {
        "ok": all(f.severity != ERROR for f in findings),
        "contracts": list(contracts),
        "findings": [
            {
                "rule": f.rule,
                "category": f.category.value,
                "severity": f.severity,
                "contract": f.contract,
                "version": f.version,
                "path": f.path,
                "location": f.location,
                "line": f.line,
                "column": f.column,
                "message": f.message,
            }
            for f in findings
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _github_escape(text: str, *, property_: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(findings: Sequence[Finding], contracts: Sequence[str]) -> str:
    """GitHub Actions workflow commands: an ``::error`` (or ``::warning``) annotation per
    finding, on the line and column of its location where known."""
    lines = []
    for f in findings:
        title = _github_escape(f"{f.contract} {f.rule}", property_=True)
        where = f"file={_github_escape(f.path, property_=True)}," if f.path else ""
        if f.path and f.line is not None:
            where += f"line={f.line},col={f.column},"
        location = f" at {f.location}" if f.location else ""
        command = "error" if f.severity == ERROR else "warning"
        lines.append(f"::{command} {where}title={title}::{_github_escape(f.message + location)}")
    return "".join(line + "\n" for line in lines)


def render_junit(findings: Sequence[Finding], contracts: Sequence[str]) -> str:
    """JUnit XML: one test case per contract, a failure per problem (warnings do not
    fail a case)."""
    findings = [f for f in findings if f.severity == ERROR]
    cases = []
    for contract in contracts:
        own = [f for f in findings if f.contract == contract]
        failures = "".join(
            f"<failure type={quoteattr(f.rule)} message={quoteattr(f.message)}>"
            f"{escape(f.where())}</failure>"
            for f in own
        )
        cases.append(
            f'  <testcase classname="somacontracts.tooling.check" name={quoteattr(contract)}>'
            f"{failures}</testcase>"
        )
    header = (
        f'<testsuite name="somacontracts check" tests="{len(contracts)}" '
        f'failures="{sum(1 for c in contracts if any(f.contract == c for f in findings))}">'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + "\n".join([header, *cases, "</testsuite>"])
        + "\n"
    )


RENDERERS: dict[str, Callable[[Sequence[Finding], Sequence[str]], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "junit": render_junit,
}
"""Renderer per ``--format`` value."""
