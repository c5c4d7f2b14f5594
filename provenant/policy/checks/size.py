"""Image size budget: compressed (what a pull transfers) and uncompressed (the layers' tar bytes)."""

from __future__ import annotations

from provenant.evidence import Evidence, PlatformEvidence
from provenant.policy.checks.base import Check, PlatformCheck, failed, passed
from provenant.policy.model import Outcome
from provenant.policy.schema import ImagePolicy


def human(n: int) -> str:
    """Bytes as MiB/KiB with the exact count."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit} ({n} bytes)"
    return f"{n} bytes"


class Budget(PlatformCheck):
    id = "size.budget"
    family = "size"
    title = "Image size within budget"
    description = (
        "Per platform, the compressed size (config + layer blobs as the manifest states them) is at most "
        "size.maxCompressed and the uncompressed size (sum of the layers' tar streams) at most size.maxUncompressed."
    )
    help = "Use a smaller base image, multi-stage builds, and remove what the runtime does not need."
    evidence = "manifest descriptor sizes; uncompressed layer sizes measured while scanning"

    def enabled(self, policy: ImagePolicy) -> bool:
        cfg = policy.checks.size
        return cfg is not None and (cfg.max_compressed is not None or cfg.max_uncompressed is not None)

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        cfg = policy.checks.size
        assert cfg is not None
        compressed = p.compressed_size
        uncompressed = p.uncompressed_size
        evidence: dict[str, object] = {"compressed": compressed, "uncompressed": uncompressed}
        over = []
        if cfg.max_compressed is not None:
            evidence["max_compressed"] = int(cfg.max_compressed)
            if compressed > cfg.max_compressed:
                over.append(f"compressed {human(compressed)} > {human(int(cfg.max_compressed))}")
        if cfg.max_uncompressed is not None:
            evidence["max_uncompressed"] = int(cfg.max_uncompressed)
            if uncompressed > cfg.max_uncompressed:
                over.append(f"uncompressed {human(uncompressed)} > {human(int(cfg.max_uncompressed))}")
        if over:
            return [failed(f"over budget: {'; '.join(over)}", fix=self.help, **evidence)]
        return [
            passed(f"within budget: {human(compressed)} compressed, {human(uncompressed)} uncompressed", **evidence)
        ]


CHECKS: list[Check] = [Budget()]
