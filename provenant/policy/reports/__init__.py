"""Report formats: one module per format, each a ``render(report) -> str``."""

from __future__ import annotations

from collections.abc import Callable

from provenant.policy.model import PolicyReport
from provenant.policy.reports import github, json, junit, sarif, text

Renderer = Callable[[PolicyReport], str]
FORMATS: dict[str, Renderer] = {
    "text": text.render,
    "json": json.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "github": github.render,
}


def render(report: PolicyReport, fmt: str) -> str:
    """``report`` in format ``fmt`` (a key of :data:`FORMATS`)."""
    return FORMATS[fmt](report)
