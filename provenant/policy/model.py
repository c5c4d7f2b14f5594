"""What a policy run produces: findings per check and subject, results per subject, one report.

A check reports ``pass``, ``fail`` or ``no-data``; the engine turns that into the final status with
the policy's action (``fail`` → ``fail``/``warn``/``off``), ``onMissingData`` and waivers, and gives
each finding its ``effect`` on the verdict (``deny``, ``warn`` or ``none``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["pass", "fail", "warn", "no-data", "waived", "off"]
RawStatus = Literal["pass", "fail", "no-data"]
Effect = Literal["deny", "warn", "none"]
Verdict = Literal["pass", "warn", "deny"]
#: The subject of image-level checks (the reference and the index as a whole).
IMAGE_SUBJECT = "image"

EXIT_PASS = 0
EXIT_DENY = 1
EXIT_ERROR = 2


class SourceLocation(BaseModel):
    """A place in a file the finding is about (a Dockerfile line)."""

    path: str
    line: int


class Outcome(BaseModel):
    """What one check found for one subject, before actions and waivers are applied."""

    status: RawStatus
    message: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    fix: str | None = None
    location: SourceLocation | None = None
    #: Distinguishes several outcomes of one check on one subject (e.g. one per base image), for fingerprints.
    key: str = ""
    #: Entries of the check's exception lists (``Check.exceptions``) that matched something: (field, index).
    matched: list[tuple[str, int]] = Field(default_factory=list)


class WaiverNote(BaseModel):
    """The waiver that matched a finding."""

    reason: str
    expires: dt.date
    expired: bool
    waived_effect: Effect = Field(description="what the finding would have done without the waiver")


class UnusedWaiver(BaseModel):
    """A waiver, ignore or allow entry of the policy that matched nothing in this run (it never changes the verdict)."""

    location: str = Field(description="where it is in the policy: waivers[i] or checks.<family>.<field>[i]")
    check: str = Field(description="the check it makes an exception to")
    entry: str = Field(description="the entry, in short")
    detail: str = Field(description="why it matched nothing")


class Finding(BaseModel):
    """One check's verdict on one subject."""

    check: str
    subject: str = Field(description="'image', or the platform (os/arch[/variant])")
    digest: str | None = Field(default=None, description="the manifest (or index) digest the finding is about")
    status: Status
    effect: Effect
    message: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    fix: str | None = None
    location: SourceLocation | None = None
    key: str = ""
    waiver: WaiverNote | None = None


class PolicyResult(BaseModel):
    """Every finding about one subject (``image`` or one platform), with its own verdict."""

    subject: str
    digest: str | None
    findings: list[Finding]
    verdict: Verdict
    exit_code: int


class CheckInfo(BaseModel):
    """A check as the policy configured it (SARIF rules, JUnit suites)."""

    id: str
    title: str
    description: str
    help: str
    evidence: str
    action: Literal["deny", "warn", "off"]
    on_missing_data: Literal["deny", "warn", "off"]


class PolicyReport(BaseModel):
    """The result of ``provenant policy check``."""

    reference: str
    source: str
    digest: str
    policy: str = Field(description="the policy file")
    policy_name: str | None = None
    evaluated_on: dt.date
    fail_on_warn: bool
    checks: list[CheckInfo]
    results: list[PolicyResult]
    warnings: list[str] = Field(default_factory=list, description="expired waivers")
    unused_waivers: list[UnusedWaiver] = Field(
        default_factory=list, description="waivers, ignores and allows that matched nothing in this run"
    )
    notes: list[str] = Field(default_factory=list, description="how the evidence was gathered")
    verdict: Verdict
    exit_code: int

    def findings(self) -> list[Finding]:
        """Every finding, subject by subject."""
        return [f for r in self.results for f in r.findings]

    def finding(self, check: str, subject: str = IMAGE_SUBJECT) -> Finding:
        """The (first) finding of ``check`` on ``subject``."""
        return next(f for f in self.findings() if f.check == check and f.subject == subject)


def verdict_of(findings: list[Finding]) -> Verdict:
    """``deny`` if anything denies, else ``warn`` if anything warns, else ``pass``."""
    effects = {f.effect for f in findings}
    if "deny" in effects:
        return "deny"
    return "warn" if "warn" in effects else "pass"


def exit_code_of(verdict: Verdict, *, fail_on_warn: bool) -> int:
    """0 pass (warnings allowed), 1 deny (or a warning with ``--fail-on-warn``)."""
    if verdict == "deny" or (verdict == "warn" and fail_on_warn):
        return EXIT_DENY
    return EXIT_PASS


def short_repr(value: Any) -> str:
    """Evidence values on one line, for text reports."""
    if isinstance(value, list):
        return ", ".join(short_repr(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{k}={short_repr(v)}" for k, v in value.items()) if value else "(none)"
    if value is None:
        return "(none)"
    return str(value)
