"""``provenant diff A B``: what changed between two images, per common platform.

A and B can come from any sources (registry, OCI layout, docker archive). Packages are matched by
(type, name); layers by ``diff_id``. Config values of secret-looking environment variables are masked
the same way ``inspect`` masks them, so a changed secret shows as a change without its value.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from provenant.cache import LayerCache
from provenant.compare.base_image import BaseImage, find_base_image
from provenant.compare.platforms import package_versions
from provenant.errors import PlatformNotFoundError
from provenant.evidence import Evidence, RunCache, gather
from provenant.inspect import MASK, SECRET_NAME
from provenant.oci.models import ImageConfig
from provenant.oci.platform import PlatformSpec
from provenant.sbom.generate import ImageAnalysis
from provenant.session import Session

#: ``old``/``new`` of a set-like config entry (exposed port, volume) that exists on that side.
PRESENT = "present"


class PackageRef(BaseModel):
    """A package on one side."""

    type: str
    name: str
    version: str


class PackageChange(BaseModel):
    """A package on both sides at different versions."""

    type: str
    name: str
    old_version: str
    new_version: str


class LayerRef(BaseModel):
    """A layer of one side (``index`` is its position in that image)."""

    index: int
    diff_id: str
    digest: str
    size: int = Field(description="compressed size from the manifest descriptor")
    uncompressed_size: int
    created_by: str | None


class ConfigChange(BaseModel):
    """One changed config value. ``key`` names the env variable, label or port for mapping-like fields."""

    field: str = Field(
        description="user, entrypoint, cmd, working_dir, stop_signal, env, labels, exposed_ports, volumes"
    )
    key: str | None = None
    old: str | None = Field(description="None: absent in A")
    new: str | None = Field(description="None: absent in B")


class ImageSide(BaseModel):
    """The facts of one side of a platform pair."""

    manifest_digest: str
    compressed_size: int = Field(description="config + layers, as the manifest's descriptors state them")
    uncompressed_size: int
    layer_count: int
    package_count: int
    base_image: BaseImage | None


class PlatformDiff(BaseModel):
    """A (``platform`` of A, ``platform`` of B) pair."""

    platform: str
    platform_b: str | None = Field(default=None, description="B's platform when it differs (single-image diff)")
    identical: bool = Field(description="the same manifest digest on both sides")
    a: ImageSide
    b: ImageSide
    compressed_delta: int = Field(description="B's compressed size minus A's")
    uncompressed_delta: int
    packages_added: list[PackageRef]
    packages_removed: list[PackageRef]
    packages_changed: list[PackageChange]
    layers_reused: list[LayerRef] = Field(description="layers of B whose diff_id A also has")
    layers_added: list[LayerRef] = Field(description="layers of B that A does not have")
    layers_removed: list[LayerRef] = Field(description="layers of A that B does not have")
    config_changes: list[ConfigChange]
    base_image_changed: bool | None = Field(
        description="None when the evidence of either side names no base image (no claim either way)"
    )

    @property
    def has_changes(self) -> bool:
        """Whether the two images differ in what they hold or how they run: platform, packages, layers
        (by ``diff_id``, and their number), config changes, or a base image that changed.

        Not by itself: another manifest digest or compressed size (the same layers compressed
        differently; another config ``created`` time or history), or a base image only one side's
        evidence names (``base_image_changed`` None: no claim either way).
        """
        return bool(
            self.platform_b is not None
            or self.packages_added
            or self.packages_removed
            or self.packages_changed
            or self.layers_added
            or self.layers_removed
            # Layers are matched as sets of diff_ids: one repeated more or fewer times shows only in the count.
            or self.a.layer_count != self.b.layer_count
            or self.config_changes
            or self.base_image_changed is True
        )


class DiffResult(BaseModel):
    """The result of ``provenant diff``."""

    a: str
    b: str
    a_source: str
    b_source: str
    a_digest: str
    b_digest: str
    platforms: list[PlatformDiff]
    only_in_a: list[str] = Field(description="platforms only A has (not compared)")
    only_in_b: list[str] = Field(description="platforms only B has (not compared)")

    @property
    def has_changes(self) -> bool:
        """What ``diff --exit-code`` tests: a compared platform has changes, or a platform is on one side only."""
        return bool(self.only_in_a or self.only_in_b) or any(p.has_changes for p in self.platforms)


def _package_diff(a: ImageAnalysis, b: ImageAnalysis) -> tuple[list[PackageRef], list[PackageRef], list[PackageChange]]:
    va, vb = package_versions(a), package_versions(b)
    added = [PackageRef(type=t, name=n, version=vb[(t, n)]) for t, n in sorted(vb.keys() - va.keys())]
    removed = [PackageRef(type=t, name=n, version=va[(t, n)]) for t, n in sorted(va.keys() - vb.keys())]
    changed = [
        PackageChange(type=t, name=n, old_version=va[(t, n)], new_version=vb[(t, n)])
        for t, n in sorted(va.keys() & vb.keys())
        if va[(t, n)] != vb[(t, n)]
    ]
    return added, removed, changed


def _layer_refs(image: ImageAnalysis) -> list[LayerRef]:
    return [
        LayerRef(
            index=info.index,
            diff_id=info.diff_id,
            digest=info.digest,
            size=info.size,
            uncompressed_size=info.uncompressed_size,
            created_by=info.created_by,
        )
        for info in image.sbom.layers
    ]


def _text(value: Any) -> str | None:
    """Lists and scalars as one comparable string (JSON for lists, so quoting is unambiguous)."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _env(config: ImageConfig) -> dict[str, str]:
    out = {}
    for line in config.config.env or []:
        name, _, value = line.partition("=")
        out[name] = value
    return out


def _mapping_changes(
    field: str, old: dict[str, str], new: dict[str, str], *, secret: bool = False
) -> list[ConfigChange]:
    out = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if secret and SECRET_NAME.search(key):
            before = MASK if before else before
            after = MASK if after else after
        out.append(ConfigChange(field=field, key=key, old=before, new=after))
    return out


def config_changes(a: ImageConfig, b: ImageConfig) -> list[ConfigChange]:
    """Changed runtime defaults between two image configs."""
    ca, cb = a.config, b.config
    out = []
    scalars = (
        ("user", ca.user, cb.user),
        ("entrypoint", ca.entrypoint, cb.entrypoint),
        ("cmd", ca.cmd, cb.cmd),
        ("working_dir", ca.working_dir, cb.working_dir),
        ("stop_signal", ca.stop_signal, cb.stop_signal),
    )
    for field, old, new in scalars:
        if _text(old) != _text(new):
            out.append(ConfigChange(field=field, old=_text(old), new=_text(new)))
    out += _mapping_changes("env", _env(a), _env(b), secret=True)
    out += _mapping_changes("labels", ca.labels or {}, cb.labels or {})
    for field, old_set, new_set in (
        ("exposed_ports", set(ca.exposed_ports or {}), set(cb.exposed_ports or {})),
        ("volumes", set(ca.volumes or {}), set(cb.volumes or {})),
    ):
        for key in sorted(old_set ^ new_set):
            out.append(
                ConfigChange(
                    field=field,
                    key=key,
                    old=PRESENT if key in old_set else None,
                    new=PRESENT if key in new_set else None,
                )
            )
    return out


def _side(ev: Evidence, image: ImageAnalysis) -> ImageSide:
    return ImageSide(
        manifest_digest=str(image.image.manifest_digest),
        compressed_size=image.image.compressed_size,
        uncompressed_size=image.uncompressed_size,
        layer_count=len(image.layers),
        package_count=len(image.sbom.packages),
        base_image=find_base_image(image.image, ev.attachments(image)),
    )


def diff_pair(ea: Evidence, a: ImageAnalysis, eb: Evidence, b: ImageAnalysis) -> PlatformDiff:
    """Everything that differs between two platform images."""
    side_a, side_b = _side(ea, a), _side(eb, b)
    added, removed, changed = _package_diff(a, b)
    layers_a, layers_b = _layer_refs(a), _layer_refs(b)
    ids_a, ids_b = {r.diff_id for r in layers_a}, {r.diff_id for r in layers_b}
    base_a, base_b = side_a.base_image, side_b.base_image
    return PlatformDiff(
        platform=a.sbom.platform,
        platform_b=b.sbom.platform if b.sbom.platform != a.sbom.platform else None,
        identical=side_a.manifest_digest == side_b.manifest_digest,
        a=side_a,
        b=side_b,
        compressed_delta=side_b.compressed_size - side_a.compressed_size,
        uncompressed_delta=side_b.uncompressed_size - side_a.uncompressed_size,
        packages_added=added,
        packages_removed=removed,
        packages_changed=changed,
        layers_reused=[r for r in layers_b if r.diff_id in ids_a],
        layers_added=[r for r in layers_b if r.diff_id not in ids_a],
        layers_removed=[r for r in layers_a if r.diff_id not in ids_b],
        config_changes=config_changes(a.image.config, b.image.config),
        base_image_changed=None if base_a is None or base_b is None else not base_a.same_as(base_b),
    )


def _pairs(ea: Evidence, eb: Evidence) -> tuple[list[tuple[ImageAnalysis, ImageAnalysis]], list[str], list[str]]:
    ia, ib = ea.live.images, eb.live.images
    if len(ia) == 1 and len(ib) == 1:
        # Two single images (or one platform picked on each side): compare them whatever their platforms.
        return [(ia[0], ib[0])], [], []
    by_b = {im.image.platform: im for im in ib}
    pairs = [(im, by_b[im.image.platform]) for im in ia if im.image.platform in by_b]
    plats_a = {im.image.platform for im in ia}
    only_a = [im.sbom.platform for im in ia if im.image.platform not in by_b]
    only_b = [im.sbom.platform for im in ib if im.image.platform not in plats_a]
    if not pairs:
        raise PlatformNotFoundError(
            f"A and B have no platform in common (A: {', '.join(im.sbom.platform for im in ia)}; "
            f"B: {', '.join(im.sbom.platform for im in ib)})",
            hint="pick one platform of each with --platform, or compare images built for the same platforms",
        )
    return pairs, only_a, only_b


def diff_evidence(ea: Evidence, eb: Evidence) -> DiffResult:
    """The diff of two analysed images."""
    pairs, only_a, only_b = _pairs(ea, eb)
    return DiffResult(
        a=ea.live.target,
        b=eb.live.target,
        a_source=ea.live.source,
        b_source=eb.live.source,
        a_digest=str(ea.live.top.digest),
        b_digest=str(eb.live.top.digest),
        platforms=[diff_pair(ea, a, eb, b) for a, b in pairs],
        only_in_a=only_a,
        only_in_b=only_b,
    )


def diff_images(
    session: Session,
    a: str,
    b: str,
    *,
    platforms: Sequence[PlatformSpec] | None = None,
    cache: LayerCache | None = None,
    workers: int = 4,
) -> DiffResult:
    """Library entry point of ``provenant diff``: ``platforms`` of both (default: every common platform).

    Both images are read in the same session with the same layer cache, so layers they share are
    scanned once.
    """
    wanted = list(platforms) if platforms else None
    cache = RunCache(cache or LayerCache(enabled=False))
    ea = gather(session, a, wanted, cache=cache, workers=workers)
    eb = gather(session, b, wanted, cache=cache, workers=workers)
    return diff_evidence(ea, eb)
