"""``--format junit``: one test suite per subject (image, each platform), one test case per finding.

A test case is named by the check id; when a check has several findings on one subject (one per base
image or Dockerfile FROM line), each name also carries the finding's key, pytest-style: ``check[key]``.

A denying finding is a ``<failure>``, a warning a ``<failure type="warning">`` only with ``--fail-on-warn``
(otherwise it passes with the message in ``<system-out>``), a check that is off or waived is ``<skipped>``.
Unused waivers are left out: they are not test outcomes, and JUnit has no run-level element CI systems show.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

from provenant.policy.model import Finding, PolicyReport, short_repr
from provenant.textsafe import lines, xml_safe


def _well_formed(root: ET.Element) -> None:
    """Show escaped (``\\x1b``) every character XML 1.0 cannot hold (and C1 controls), in every text and attribute.

    Suite names carry the reference, case names finding keys, messages and evidence image metadata
    (history, labels, package names): any of it may hold controls or lone surrogates, and one of those
    makes the whole file unreadable to the CI system. Done once over the finished tree so no field is missed.
    """
    for el in root.iter():
        if el.text:
            el.text = xml_safe(lines(el.text))
        if el.tail:
            el.tail = xml_safe(lines(el.tail))
        for key, value in el.attrib.items():
            el.set(key, xml_safe(lines(value)))


def _details(f: Finding) -> str:
    lines = [f.message, *(f"{k}: {short_repr(v)}" for k, v in f.evidence.items())]
    if f.fix:
        lines.append(f"fix: {f.fix}")
    return "\n".join(lines)


def case_names(findings: list[Finding]) -> list[str]:
    """A unique, stable test name per finding of one suite (CI systems merge cases with equal names)."""
    per_check = Counter(f.check for f in findings)
    seen: Counter[str] = Counter()
    names = []
    for f in findings:
        # A lone finding keeps the bare check id, so test history follows the check across base bumps.
        name = f"{f.check}[{f.key}]" if per_check[f.check] > 1 and f.key else f.check
        seen[name] += 1
        names.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return names


def render(report: PolicyReport) -> str:
    """JUnit XML (the dialect Jenkins, GitLab and most CI systems read)."""
    root = ET.Element("testsuites", name=f"provenant policy {report.policy_name or report.policy}")
    total = failures = skipped = 0
    for result in report.results:
        suite = ET.SubElement(root, "testsuite", name=f"{report.reference} {result.subject}")
        s_fail = s_skip = 0
        for f, name in zip(result.findings, case_names(result.findings), strict=True):
            # A Dockerfile finding says where it is with file/line (as pytest's JUnit output does).
            case = ET.SubElement(suite, "testcase", name=name, classname=f"{result.subject}")
            if f.location is not None:
                case.set("file", f.location.path)
                case.set("line", str(f.location.line))
            if f.effect == "deny" or (f.effect == "warn" and report.fail_on_warn):
                kind = "no-data" if f.status == "no-data" else ("warning" if f.effect == "warn" else "deny")
                fail = ET.SubElement(case, "failure", message=f.message, type=kind)
                fail.text = _details(f)
                s_fail += 1
            elif f.status in ("off", "waived"):
                reason = f.message if f.status == "off" else f"waived: {f.waiver.reason if f.waiver else ''}"
                ET.SubElement(case, "skipped", message=reason)
                s_skip += 1
            else:
                out = ET.SubElement(case, "system-out")
                out.text = f"{f.status}: {_details(f)}"
        suite.set("tests", str(len(result.findings)))
        suite.set("failures", str(s_fail))
        suite.set("errors", "0")
        suite.set("skipped", str(s_skip))
        total += len(result.findings)
        failures += s_fail
        skipped += s_skip
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("skipped", str(skipped))
    _well_formed(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
