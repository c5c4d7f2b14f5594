"""OCI image layout (``oci-layout``, ``index.json``, ``blobs/``), in a directory or inside a tarball."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager

from provenant.digest import Digest
from provenant.errors import ManifestError, ProvenantError, SourceError
from provenant.limits import current
from provenant.oci.models import Descriptor, Index, parse_index
from provenant.sources.base import RawManifest
from provenant.sources.filestore import FileStore
from provenant.structured import load_json

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
MAX_INDEX_BYTES = 16 * 1024 * 1024
#: ``cosign save`` marks each index.json entry with what it is (cosign's pkg/oci/layout).
COSIGN_KIND = "kind"
COSIGN_IMAGE_KINDS = frozenset({"dev.cosignproject.cosign/image", "dev.cosignproject.cosign/imageIndex"})
COSIGN_ATTACHMENT_KINDS = frozenset({"dev.cosignproject.cosign/sigs", "dev.cosignproject.cosign/atts"})
#: cosign's attachment tags (``sha256-<hex>.sig``) and the referrers fallback tag (``sha256-<hex>``).
ATTACHMENT_TAG = re.compile(r"(?:^|[:/])(sha256-[0-9a-f]{64})(?:\.(sig|att|sbom))?$")


def blob_path(digest: Digest) -> str:
    """Where a blob lives inside a layout (the digest is validated, so the path is safe)."""
    return f"blobs/{digest.algorithm}/{digest.hex}"


def _ref_names(desc: Descriptor) -> list[str]:
    ann = desc.annotations or {}
    return [v for k, v in ann.items() if k in (REF_NAME, CONTAINERD_NAME)]


def attachment_tag(desc: Descriptor) -> tuple[str, str | None] | None:
    """``(subject digest, suffix)`` when an entry is named like a cosign attachment tag (suffix None: the
    referrers tag), else None."""
    for name in _ref_names(desc):
        m = ATTACHMENT_TAG.search(name)
        if m:
            return "sha256:" + m.group(1)[len("sha256-") :], m.group(2)
    return None


def is_attachment(desc: Descriptor) -> bool:
    """Is this index.json entry a signature or attestation of another entry, not an image of its own?"""
    kind = (desc.annotations or {}).get(COSIGN_KIND)
    return kind in COSIGN_ATTACHMENT_KINDS or attachment_tag(desc) is not None


def _looks_like_digest(text: str) -> bool:
    return text.startswith(("sha256:", "sha512:"))


class OciLayoutSource:
    """An OCI image layout; ``selector`` is a ref name (tag) from ``index.json`` or a digest."""

    def __init__(self, store: FileStore, selector: str | None, label: str) -> None:
        self.store = store
        self.selector = selector
        self.label = label
        if not store.exists("index.json"):
            raise SourceError(f"{store.describe()}: no index.json", hint="not an OCI image layout")
        layout = store.read("oci-layout", 4096) if store.exists("oci-layout") else b"{}"
        try:
            version = load_json(layout, f"{store.describe()}: oci-layout").get("imageLayoutVersion")
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
            raise SourceError(f"{store.describe()}: oci-layout is not valid JSON") from exc
        if version not in (None, "1.0.0"):
            raise SourceError(f"{store.describe()}: unsupported imageLayoutVersion {version!r} (expected 1.0.0)")
        self.index: Index = parse_index(store.read("index.json", MAX_INDEX_BYTES), f"{store.describe()}: index.json")
        self._declared = {d.digest: d.media_type for d in self.index.manifests}

    def describe(self) -> str:
        return f"{self.label} {self.store.describe()}"

    def default_identifier(self) -> str:
        return self._resolve(self.selector)

    def _resolve(self, selector: str | None) -> str:
        """The digest that a ref name (or digest, or nothing when there is one image) stands for."""
        entries = self.index.manifests
        if selector is not None:
            if _looks_like_digest(selector):
                return str(Digest.parse(selector))
            for d in entries:
                names = _ref_names(d)
                if selector in names or any(n.endswith(f":{selector}") for n in names):
                    return d.digest
            raise SourceError(
                f"{self.store.describe()}: no image named {selector!r} in index.json (available: {self._available()})"
            )
        if len(entries) == 1:
            return entries[0].digest
        if not entries:
            raise SourceError(f"{self.store.describe()}: index.json lists no images")
        # ``cosign save`` writes the image beside its signatures and attestations: those are not images.
        images = [d for d in entries if not is_attachment(d)]
        if 1 < len(images) <= current().referrers:
            images = [d for d in images if not self._has_subject(d)]
        if len(images) == 1:
            return images[0].digest
        raise SourceError(
            f"{self.store.describe()}: index.json holds {len(entries)} images; say which one",
            hint=f"append :NAME to the path, one of: {self._available()}",
        )

    def _has_subject(self, desc: Descriptor) -> bool:
        """Is the entry an OCI 1.1 referrer (a manifest with a ``subject``), i.e. about another entry?"""
        if desc.artifact_type:
            return True
        try:
            path = blob_path(Digest.parse(desc.digest))
            if desc.size > current().manifest_bytes or not self.store.exists(path):
                return False
            doc = load_json(self.store.read(path, current().manifest_bytes), f"manifest {desc.digest}")
        except (ProvenantError, ValueError):
            return False  # unreadable here: reported when (and if) it is selected
        return isinstance(doc, dict) and isinstance(doc.get("subject"), dict)

    def _available(self) -> str:
        names = [n for d in self.index.manifests for n in _ref_names(d)]
        return ", ".join(names) or ", ".join(d.digest for d in self.index.manifests)

    def get_manifest(self, identifier: str) -> RawManifest:
        digest = Digest.parse(self._resolve(identifier))
        path = blob_path(digest)
        if not self.store.exists(path):
            raise SourceError(f"{self.store.describe()}: manifest {digest} is missing from blobs/")
        try:
            data = self.store.read(path, MAX_INDEX_BYTES)
        except SourceError as exc:
            raise ManifestError(exc.message) from exc
        return RawManifest(data, self._declared.get(str(digest)))

    def open_blob(self, digest: Digest, size: int | None) -> AbstractContextManager[Iterator[bytes]]:
        path = blob_path(digest)
        if not self.store.exists(path):
            raise SourceError(
                f"{self.store.describe()}: blob {digest} is missing from blobs/",
                hint="the layout is incomplete",
            )
        return self.store.open_chunks(path)

    def close(self) -> None:
        self.store.close()
