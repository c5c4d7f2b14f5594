"""Platform strings, their normalisation, and the one function that selects platforms from an index."""

from __future__ import annotations

from dataclasses import dataclass

from provenant.errors import PlatformNotFoundError, UsageError
from provenant.oci.models import Descriptor, Index, Platform

_ARCH_ALIASES = {
    "x86_64": "amd64",
    "x86-64": "amd64",
    "aarch64": "arm64",
    "armhf": "arm",
    "armel": "arm",
    "i386": "386",
    "i686": "386",
    "x86": "386",
}
# armel is ARMv6; armhf and bare arm default to v7 (as containerd does).
_ARCH_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7"}


@dataclass(frozen=True, order=True)
class PlatformSpec:
    """A normalised ``os/arch[/variant]``; the comparison key for platform matching."""

    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> PlatformSpec:
        """Parse ``os/arch[/variant]`` (``linux/arm64``, ``linux/arm/v7``)."""
        parts = text.strip().lower().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise UsageError(f"invalid platform {text!r}: expected os/arch[/variant], e.g. linux/amd64 or linux/arm/v7")
        variant = parts[2] if len(parts) == 3 else None
        if parts[1] == "armel" and variant is None:
            variant = "v6"
        return normalize(parts[0], parts[1], variant)

    @classmethod
    def of(cls, platform: Platform) -> PlatformSpec:
        """The normalised form of a platform from an index or config."""
        return normalize(platform.os, platform.architecture, platform.variant)

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base


def normalize(os: str, architecture: str, variant: str | None) -> PlatformSpec:
    """Normalise aliases: ``aarch64`` → ``arm64/v8``, ``arm`` → ``arm/v7``, ``x86_64`` → ``amd64``."""
    os = os.lower()
    arch = _ARCH_ALIASES.get(architecture.lower(), architecture.lower())
    var = variant.lower() if variant else None
    if architecture.lower() == "armel" and var is None:
        var = "v6"
    if var is None:
        var = _ARCH_DEFAULT_VARIANT.get(arch)
    if arch == "arm64" and var == "8":
        var = "v8"
    if arch == "amd64" and var == "v1":
        var = None
    return PlatformSpec(os, arch, var)


def is_platform_manifest(desc: Descriptor) -> bool:
    """True for an index entry that is a runnable image, not an attestation or other artifact."""
    if desc.is_attestation:
        return False
    plat = desc.platform
    return not (plat is not None and plat.os == "unknown" and plat.architecture == "unknown")


def select_platforms(index: Index, wanted: list[PlatformSpec] | None = None) -> list[Descriptor]:
    """The platform manifests of ``index`` (all, or those matching ``wanted``, in index order).

    Attestation manifests (``unknown/unknown``) are never platforms. A wanted platform that is not in
    the index is an error naming what the index does offer.
    """
    candidates = [d for d in index.manifests if is_platform_manifest(d)]
    if not wanted:
        return candidates
    chosen: list[Descriptor] = []
    for spec in wanted:
        matches = [d for d in candidates if d.platform is not None and PlatformSpec.of(d.platform) == spec]
        if not matches:
            offered = ", ".join(str(PlatformSpec.of(d.platform)) for d in candidates if d.platform) or "none"
            raise PlatformNotFoundError(
                f"platform {spec} is not in this index (it offers: {offered})",
                hint="pass one of the offered platforms to --platform",
            )
        chosen.extend(m for m in matches if m not in chosen)
    return chosen
