"""``--format text``: grouped by check, each finding with its evidence and a fix hint."""

from __future__ import annotations

from provenant.policy.model import Finding, PolicyReport, short_repr
from provenant.textsafe import printable

_MARK = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "no-data": "NO DATA", "waived": "WAIVED", "off": "OFF"}


def _status(f: Finding) -> str:
    mark = _MARK[f.status]
    if f.status == "no-data":
        mark += {"deny": " (deny)", "warn": " (warn)", "none": " (ignored)"}[f.effect]
    return mark


def render(report: PolicyReport) -> str:
    """Human-readable report."""
    lines = [
        f"policy {report.policy_name or report.policy} on {report.reference}",
        f"  digest {report.digest} ({report.source}), evaluated {report.evaluated_on.isoformat()}",
        "",
    ]
    findings = report.findings()
    for info in report.checks:
        mine = [f for f in findings if f.check == info.id]
        lines.append(f"{info.id}  [{info.action}, no data: {info.on_missing_data}]  {info.title}")
        for f in mine:
            where = f" {f.location.path}:{f.location.line}" if f.location else ""
            lines.append(f"  {_status(f):<16} {f.subject}{where}: {f.message}")
            if f.status in ("pass", "off"):
                continue
            for k, v in f.evidence.items():
                if isinstance(v, list) and len(v) > 1:
                    lines.append(f"      {k}:")
                    lines.extend(f"        - {short_repr(item)}" for item in v)
                else:
                    lines.append(f"      {k}: {short_repr(v)}")
            if f.waiver is not None and not f.waiver.expired:
                lines.append(f"      waived until {f.waiver.expires.isoformat()}: {f.waiver.reason}")
            if f.fix and f.status != "waived":
                lines.append(f"      fix: {f.fix}")
        lines.append("")
    if report.unused_waivers:
        # Informational: stale exceptions are worth removing, but they never change the verdict.
        lines.append("unused waivers (matched nothing in this run):")
        lines.extend(f"  {u.location}: {u.entry} ({u.detail})" for u in report.unused_waivers)
        lines.append("")
    for w in report.warnings:
        lines.append(f"warning: {w}")
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.status] = counts.get(f.status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    lines.append(f"verdict: {report.verdict.upper()} ({summary}); exit code {report.exit_code}")
    # Subjects, messages and evidence quote the image (labels, env, package names): controls escaped.
    return "\n".join(printable(line, keep_tabs=True) for line in lines) + "\n"
