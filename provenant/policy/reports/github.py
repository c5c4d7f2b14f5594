"""``--format github``: GitHub Actions workflow commands (``::error`` / ``::warning`` / ``::notice``).

Values are escaped as the runner expects: ``%``, CR and LF in messages; also ``:`` and ``,`` in properties.
"""

from __future__ import annotations

from provenant.policy.model import PolicyReport


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: PolicyReport) -> str:
    """One annotation per finding that denies or warns, expired-waiver warnings, unused-waiver notices, a summary."""
    lines = []
    for f in report.findings():
        if f.effect == "none":
            continue
        level = "error" if f.effect == "deny" else "warning"
        # "no data" is not a failure of the check: say so, as the text report does.
        state = ", no data" if f.status == "no-data" else ""
        props = [f"title={_prop(f'{f.check} ({f.subject}{state})')}"]
        if f.location is not None:
            props[:0] = [f"file={_prop(f.location.path)}", f"line={f.location.line}"]
        message = f.message + (f" Fix: {f.fix}" if f.fix else "")
        lines.append(f"::{level} {','.join(props)}::{_data(message)}")
    for w in report.warnings:
        lines.append(f"::warning title=expired waiver::{_data(w)}")
    for u in report.unused_waivers:
        lines.append(f"::notice title=unused waiver::{_data(f'{u.location}: {u.entry} ({u.detail})')}")
    lines.append(f"::notice title=provenant policy::{_data(f'{report.reference}: {report.verdict}')}")
    return "\n".join(lines) + "\n"
