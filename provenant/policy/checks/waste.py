"""Wasted bytes: file copies hidden by a later layer (overwritten or deleted) that every pull still transfers."""

from __future__ import annotations

from provenant.evidence import Evidence, PlatformEvidence
from provenant.policy.checks.base import Check, PlatformCheck, failed, passed
from provenant.policy.checks.size import human
from provenant.policy.model import Outcome
from provenant.policy.schema import ImagePolicy

#: How many of the largest hidden files a finding lists.
TOP_FILES = 10


class Wasted(PlatformCheck):
    id = "size.wasted"
    family = "size"
    title = "Wasted bytes within budget"
    description = (
        "Per platform, the bytes of files overwritten or deleted by a later layer (still in the earlier "
        "layer, so still pulled) are at most size.maxWasted."
    )
    help = "Create and remove (or replace) files in the same RUN, or use a multi-stage build."
    evidence = "per-layer file listings with whiteouts applied"

    def enabled(self, policy: ImagePolicy) -> bool:
        cfg = policy.checks.size
        return cfg is not None and cfg.max_wasted is not None

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        cfg = policy.checks.size
        assert cfg is not None and cfg.max_wasted is not None
        report = p.hygiene()
        limit = int(cfg.max_wasted)
        files = [
            f"{w.path} (layer {w.layer_index}, {w.reason}, {w.size} bytes)" for w in report.wasted_files[:TOP_FILES]
        ]
        evidence = {"wasted_bytes": report.wasted_bytes, "max_wasted": limit, "files": files}
        if report.wasted_bytes > limit:
            return [
                failed(
                    f"{human(report.wasted_bytes)} wasted in {len(report.wasted_files)} hidden file(s), "
                    f"over {human(limit)}",
                    fix=self.help,
                    **evidence,
                )
            ]
        return [passed(f"{human(report.wasted_bytes)} wasted, within {human(limit)}", **evidence)]


CHECKS: list[Check] = [Wasted()]
