"""``inspect``: what a reference resolves to, per platform, from manifests and configs alone."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, Field

from provenant.image import FetchedManifest, ImageReader, PlatformImage
from provenant.oci import mediatypes as mt
from provenant.oci.models import Descriptor, ImageConfig, Manifest
from provenant.oci.platform import PlatformSpec, is_platform_manifest, select_platforms
from provenant.session import RegistryInfo, Session

SECRET_NAME = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth|_key$|^key$)",
    re.IGNORECASE,
)
MASK = "****"


class PlatformRow(BaseModel):
    """One row of the per-platform table of an index (or the single image of a manifest)."""

    platform: str
    digest: str
    media_type: str
    compressed_size: int = Field(description="config + layers, as the manifest's descriptors state them")
    layer_count: int
    created: datetime | None


class AttestationRow(BaseModel):
    """An attestation manifest inside an index, with the platform manifest it refers to."""

    digest: str
    size: int
    refers_to: str | None
    refers_to_platform: str | None


class HistoryRow(BaseModel):
    """A history line joined to its layer, like ``docker image history``."""

    created: datetime | None
    created_by: str
    comment: str | None = None
    empty_layer: bool
    layer_digest: str | None = None
    diff_id: str | None = None
    size: int = Field(description="compressed layer size from the manifest; 0 for empty_layer entries")


class ConfigSummary(BaseModel):
    """The runtime defaults of an image; values of secret-looking env names are masked."""

    user: str | None
    entrypoint: list[str] | None
    cmd: list[str] | None
    working_dir: str | None
    env: dict[str, str]
    exposed_ports: list[str]
    volumes: list[str]
    stop_signal: str | None
    labels: dict[str, str]


class ImageDetail(BaseModel):
    """Everything ``inspect`` knows about one platform image."""

    platform: str
    digest: str
    media_type: str
    config_digest: str
    compressed_size: int
    layer_count: int
    created: datetime | None
    author: str | None
    config: ConfigSummary
    annotations: dict[str, str]
    history: list[HistoryRow]


class InspectResult(BaseModel):
    """The result of ``provenant inspect``."""

    reference: str
    source: str
    digest: str
    media_type: str
    is_index: bool
    platform_count: int = Field(description="platforms in the index (attestation manifests excluded), 1 for a manifest")
    annotations: dict[str, str]
    platforms: list[PlatformRow]
    attestations: list[AttestationRow]
    images: list[ImageDetail]
    facts: dict[str, str] = Field(default_factory=dict, description="what the source said on the way")
    registry: RegistryInfo | None = None


def mask_env(env: list[str] | None) -> dict[str, str]:
    """``KEY=value`` lines as a mapping, masking values whose names look secret."""
    out: dict[str, str] = {}
    for line in env or []:
        name, _, value = line.partition("=")
        out[name] = MASK if value and SECRET_NAME.search(name) else value
    return out


_ASSIGNMENT = re.compile(r"""\b([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^\s"']+)""")


def mask_command(text: str) -> str:
    """A history ``created_by`` line with values of secret-looking ``NAME=value`` assignments masked."""
    return _ASSIGNMENT.sub(lambda m: f"{m.group(1)}={MASK}" if SECRET_NAME.search(m.group(1)) else m.group(0), text)


def _summary(config: ImageConfig) -> ConfigSummary:
    c = config.config
    return ConfigSummary(
        user=c.user or None,
        entrypoint=c.entrypoint,
        cmd=c.cmd,
        working_dir=c.working_dir or None,
        env=mask_env(c.env),
        exposed_ports=sorted(c.exposed_ports or {}),
        volumes=sorted(c.volumes or {}),
        stop_signal=c.stop_signal,
        labels=dict(sorted((c.labels or {}).items())),
    )


def join_history(config: ImageConfig, manifest: Manifest) -> list[HistoryRow]:
    """History lines joined to layers in order; layers beyond the history get a synthetic line."""
    layers: list[Descriptor] = list(manifest.layers)
    diff_ids = config.rootfs.diff_ids
    rows: list[HistoryRow] = []
    i = 0
    for h in config.history:
        row = HistoryRow(
            created=h.created,
            created_by=mask_command(h.created_by or ""),
            comment=h.comment,
            empty_layer=h.empty_layer,
            size=0,
        )
        if not h.empty_layer and i < len(layers):
            row.layer_digest = layers[i].digest
            row.diff_id = diff_ids[i] if i < len(diff_ids) else None
            row.size = layers[i].size
            i += 1
        rows.append(row)
    for j in range(i, len(layers)):
        rows.append(
            HistoryRow(
                created=None,
                created_by="(no history entry)",
                empty_layer=False,
                layer_digest=layers[j].digest,
                diff_id=diff_ids[j] if j < len(diff_ids) else None,
                size=layers[j].size,
            )
        )
    return rows


def _detail(img: PlatformImage) -> ImageDetail:
    return ImageDetail(
        platform=str(img.platform),
        digest=str(img.manifest_digest),
        media_type=img.manifest_media_type,
        config_digest=img.manifest.config.digest,
        compressed_size=img.compressed_size,
        layer_count=len(img.manifest.layers),
        created=img.config.created,
        author=img.config.author,
        config=_summary(img.config),
        annotations=dict(img.manifest.annotations or {}),
        history=join_history(img.config, img.manifest),
    )


def _attestations(top: FetchedManifest) -> list[AttestationRow]:
    index = top.as_index()
    by_digest = {d.digest: d for d in index.manifests if is_platform_manifest(d)}
    rows = []
    for d in index.manifests:
        if is_platform_manifest(d):
            continue
        target = (d.annotations or {}).get(mt.REFERENCE_DIGEST_ANNOTATION)
        plat = by_digest.get(target) if target else None
        rows.append(
            AttestationRow(
                digest=d.digest,
                size=d.size,
                refers_to=target,
                refers_to_platform=str(PlatformSpec.of(plat.platform)) if plat and plat.platform else None,
            )
        )
    return rows


def inspect_image(reader: ImageReader, reference: str, platforms: list[PlatformSpec] | None = None) -> InspectResult:
    """Resolve ``reference`` through ``reader`` and describe it, per platform."""
    top = reader.resolve()
    images = reader.load_images(top, platforms)
    rows = [
        PlatformRow(
            platform=str(img.platform),
            digest=str(img.manifest_digest),
            media_type=img.manifest_media_type,
            compressed_size=img.compressed_size,
            layer_count=len(img.manifest.layers),
            created=img.config.created,
        )
        for img in images
    ]
    annotations = dict((top.as_index() if top.is_index else top.as_manifest()).annotations or {})
    return InspectResult(
        reference=reference,
        source=reader.source.describe(),
        digest=str(top.digest),
        media_type=top.media_type,
        is_index=top.is_index,
        platform_count=len(select_platforms(top.as_index())) if top.is_index else 1,
        annotations=annotations,
        platforms=rows,
        attestations=_attestations(top) if top.is_index else [],
        images=[_detail(img) for img in images],
        facts=top.facts,
    )


def inspect(session: Session, target: str, platforms: list[PlatformSpec] | None = None) -> InspectResult:
    """Library entry point of ``provenant inspect``: open ``target`` and describe it."""
    opened = session.open(target)
    result = inspect_image(session.reader(opened), target, platforms)
    result.registry = session.registry_info(opened)
    return result


def raw_manifest(session: Session, target: str, platform: PlatformSpec | None = None) -> bytes:
    """The manifest bytes exactly as served: the top level, or one platform's manifest."""
    opened = session.open(target)
    reader = session.reader(opened)
    top = reader.resolve()
    if platform is None or not top.is_index:
        return top.data
    (desc,) = select_platforms(top.as_index(), [platform])[:1]
    return reader.fetch_manifest(desc.digest, declared=desc).data
