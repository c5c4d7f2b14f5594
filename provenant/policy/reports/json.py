"""``--format json``: the :class:`~provenant.policy.model.PolicyReport` model, serialised."""

from __future__ import annotations

from provenant.jsontext import model_json
from provenant.policy.model import PolicyReport


def render(report: PolicyReport) -> str:
    """The report as indented JSON."""
    return model_json(report, indent=2) + "\n"
