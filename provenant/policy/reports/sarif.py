"""``--format sarif``: SARIF 2.1.0, one rule per check (stable ``ruleId`` = check id) with help text.

Results carry ``partialFingerprints`` built from what identifies a finding across runs (check, image
name, platform, key) — not the digest, so a rebuilt image keeps the same alert. Waived findings are
results with an external suppression; passing ones are left out. Unused waivers are note-level tool
configuration notifications of the invocation: they are about the policy file, and a result would
open a code scanning alert.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections.abc import Sequence
from typing import Any

from provenant import __version__
from provenant.policy.model import Finding, PolicyReport, UnusedWaiver

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "provenantFinding/v1"
UNUSED_WAIVER = "provenant/unused-waiver"
_LEVEL = {"deny": "error", "warn": "warning", "none": "note"}


def _image_name(report: PolicyReport) -> str:
    ref = report.reference
    if report.source.startswith("registry "):
        # The source names the normalised repository: `nginx:1` and `docker.io/library/nginx@sha256:…` are one image.
        return report.source.removeprefix("registry ")
    # The tag or digest changes between runs; the fingerprint should not.
    head, _, _ = ref.partition("@")
    last = head.rsplit("/", 1)
    if ":" in last[-1]:
        head = head[: head.rfind(":")]
    return head


def fingerprint(report: PolicyReport, f: Finding) -> str:
    """Stable across runs of the same check on the same image name, platform and key."""
    text = "\x1f".join((f.check, _image_name(report), f.subject, f.key))
    return hashlib.sha256(text.encode()).hexdigest()


def _result(report: PolicyReport, f: Finding, rule_index: int) -> dict[str, Any]:
    message = f.message + (f" Fix: {f.fix}" if f.fix else "")
    logical = {
        "name": f.subject,
        "fullyQualifiedName": f"{report.reference}#{f.subject}",
        "kind": "module",
    }
    # Every result has a physical location: GitHub code scanning rejects a file with a result that has none
    # ("expected artifact location"). A Dockerfile finding points at its line; any other at the image name,
    # percent-encoded so that a port (registry:5000/app) does not read as a URI scheme.
    if f.location is not None:
        uri, line = urllib.parse.quote(f.location.path.replace("\\", "/")), f.location.line
    else:
        uri, line = urllib.parse.quote(_image_name(report).lstrip("/")), 1
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}},
        "logicalLocations": [logical],
    }
    out: dict[str, Any] = {
        "ruleId": f.check,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.waiver.waived_effect if f.status == "waived" and f.waiver else f.effect],
        "kind": "fail",
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT: fingerprint(report, f)},
        "properties": {
            "status": f.status,
            "subject": f.subject,
            "digest": f.digest,
            "evidence": f.evidence,
        },
    }
    if f.status == "waived" and f.waiver is not None:
        out["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": f"{f.waiver.reason} (until {f.waiver.expires})"}
        ]
    return out


def _notification(report: PolicyReport, u: UnusedWaiver, rule_index: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "level": "note",
        "message": {"text": f"unused waiver {u.location}: {u.entry} ({u.detail})"},
        "descriptor": {"id": UNUSED_WAIVER, "index": 0},
        "properties": {"policy": report.policy, "location": u.location, "check": u.check},
    }
    if u.check in rule_index:
        out["associatedRule"] = {"id": u.check, "index": rule_index[u.check]}
    return out


def to_sarif(report: PolicyReport) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict."""
    rules = []
    index: dict[str, int] = {}
    for i, info in enumerate(report.checks):
        index[info.id] = i
        rules.append(
            {
                "id": info.id,
                "name": "".join(part.capitalize() for part in info.id.replace(".", "-").split("-")),
                "shortDescription": {"text": info.title},
                "fullDescription": {"text": info.description},
                "help": {"text": f"{info.help}\nEvidence: {info.evidence}"},
                "defaultConfiguration": {"level": _LEVEL.get(info.action, "none") if info.action != "off" else "none"},
                "properties": {"onMissingData": info.on_missing_data},
            }
        )
    results = [
        _result(report, f, index[f.check]) for f in report.findings() if f.effect != "none" or f.status == "waived"
    ]
    driver: dict[str, Any] = {"name": "provenant", "version": __version__, "rules": rules}
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"provenant-policy/{report.policy_name or 'policy'}/"},
    }
    if report.unused_waivers:
        driver["notifications"] = [
            {
                "id": UNUSED_WAIVER,
                "shortDescription": {"text": "A waiver, ignore or allow entry of the policy matched nothing"},
            }
        ]
        notifications = [_notification(report, u, index) for u in report.unused_waivers]
        run["invocations"] = [{"executionSuccessful": True, "toolConfigurationNotifications": notifications}]
    run["results"] = results
    run["properties"] = {"reference": report.reference, "digest": report.digest, "verdict": report.verdict}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def render(report: PolicyReport) -> str:
    """SARIF 2.1.0 JSON."""
    return json.dumps(to_sarif(report), indent=2) + "\n"


def render_many(reports: Sequence[PolicyReport]) -> str:
    """One SARIF 2.1.0 log with a run per report (``fleet policy``); each run's automation id ends with
    its reference, so code scanning keeps the images' alerts apart."""
    runs = []
    for report in reports:
        run = to_sarif(report)["runs"][0]
        run["automationDetails"]["id"] += f"{report.reference}/"
        runs.append(run)
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": runs}, indent=2) + "\n"
