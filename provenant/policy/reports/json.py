"""``--format json``: the :class:`~provenant.policy.model.PolicyReport` model, serialised."""

from __future__ import annotations

from provenant.policy.model import PolicyReport


def render(report: PolicyReport) -> str:
    """The report as indented JSON."""
    return report.model_dump_json(indent=2) + "\n"
