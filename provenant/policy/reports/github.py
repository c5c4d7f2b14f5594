"""``--format github``: GitHub Actions workflow commands (``::error`` / ``::warning`` / ``::notice``).

Values are escaped as the runner expects: ``%``, CR and LF in messages; also ``:`` and ``,`` in properties.
So no value can end its line and start a command of its own (``::add-mask::``, ``::stop-commands::``).
Other control characters are shown escaped (``\\x1b``): the log is shown on terminals and in browsers.
"""

from __future__ import annotations

from provenant.policy.model import PolicyReport
from provenant.textsafe import printable


def _data(text: str) -> str:
    # `%` first, so the escapes added after it are not escaped again; then controls other than CR/LF.
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"), keep_tabs=True)


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
