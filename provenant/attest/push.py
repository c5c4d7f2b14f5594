"""Creating evidence: cosign-compatible ``.sig`` / ``.att`` tags and OCI referrer Sigstore bundles.

* ``sign``: a simple-signing payload per subject, signed over its exact bytes, appended as a layer of
  the ``sha256-<hex>.sig`` manifest (existing signatures are kept, as cosign does).
* ``attest``: an in-toto v1 Statement (subject = the image or platform digest) in a DSSE envelope,
  signed over the PAE. ``--mode tag`` appends it to ``sha256-<hex>.att``; ``--mode referrers`` pushes
  it as a Sigstore bundle v0.3 referrer artifact (cosign v3's layout) and, when the registry has no
  referrers API, adds it to the ``sha256-<hex>`` referrers tag index; ``both`` does both.

The byte layout is documented in docs/signing-formats.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from provenant.attest import constants as c
from provenant.attest.dsse import sign_envelope
from provenant.attest.errors import AttestError
from provenant.attest.keys import PrivateKey
from provenant.attest.simplesign import build_payload
from provenant.digest import Digest
from provenant.errors import ManifestError, NotFoundError, UsageError
from provenant.oci import mediatypes as mt
from provenant.oci.platform import PlatformSpec, select_platforms
from provenant.reference import Reference
from provenant.session import Session
from provenant.sources.registry import RegistryClient, RegistrySource
from provenant.structured import load_json

Mode = Literal["tag", "referrers", "both"]
#: The image config cosign writes for its signature manifests ("empty" image; verifiers ignore it).
_ZERO_TIME = "0001-01-01T00:00:00Z"


class PushedItem(BaseModel):
    """One signature or attestation written to the registry."""

    subject: str
    platform: str | None = None
    mode: Literal["tag", "referrers"]
    location: str = Field(description="the tag, or the referrer manifest digest")
    manifest_digest: str
    layer_digest: str
    layers_in_manifest: int = 1
    referrers_tag: str | None = Field(default=None, description="fallback tag index updated (no referrers API)")


class PushResult(BaseModel):
    """The result of ``provenant sign`` / ``provenant attest``."""

    reference: str
    digest: str
    kind: Literal["signature", "attestation"]
    key: str = Field(description="fingerprint of the signing key's public key")
    predicate_type: str | None = None
    items: list[PushedItem]


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def _desc(media_type: str, data: bytes, annotations: Mapping[str, str] | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"mediaType": media_type, "digest": str(Digest.of(data)), "size": len(data)}
    if annotations:
        d["annotations"] = dict(annotations)
    return d


def _cosign_config(diff_ids: list[str]) -> bytes:
    return _canonical(
        {
            "architecture": "",
            "created": _ZERO_TIME,
            "history": [{"created": _ZERO_TIME} for _ in diff_ids],
            "os": "",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "config": {},
        }
    )


def append_layer_to_tag(
    client: RegistryClient,
    ref: Reference,
    tag: str,
    layer: bytes,
    *,
    media_type: str,
    annotations: Mapping[str, str],
    same: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[str, str, int]:
    """Push ``layer`` and make it the last layer of the manifest at ``tag`` (created when missing).

    Layers already there are kept; the same layer with the same annotations (or one ``same`` accepts) is
    not added twice.
    Returns (manifest digest, layer digest, number of layers). Read-modify-write: two writers racing
    on one tag can lose one signature (cosign has the same limitation).
    """
    layer_digest = client.push_blob(ref, layer)
    layers: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    try:
        raw = client.get_manifest(ref, tag)
    except NotFoundError:
        raw = None
    if raw is not None:
        try:
            existing = load_json(raw.data, f"tag {tag} of {ref.name}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            existing = None
        if not isinstance(existing, dict) or not isinstance(existing.get("layers"), list):
            raise ManifestError(
                f"tag {tag} of {ref.name} exists but is not an image manifest",
                hint="delete or rename that tag; provenant will not overwrite it",
            )
        layers = [dict(x) for x in existing["layers"] if isinstance(x, dict)]
        if isinstance(existing.get("annotations"), dict):
            extra["annotations"] = existing["annotations"]
    new = {"mediaType": media_type, "digest": str(layer_digest), "size": len(layer)}
    if annotations:
        new["annotations"] = dict(annotations)
    duplicate = any(
        (x.get("digest") == new["digest"] and x.get("annotations") == new.get("annotations")) or (same and same(x))
        for x in layers
    )
    if duplicate:
        return str(Digest.of(raw.data)) if raw is not None else "", str(layer_digest), len(layers)
    layers.append(new)
    config = _cosign_config([str(x["digest"]) for x in layers])
    client.push_blob(ref, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": _desc(mt.OCI_CONFIG, config),
        "layers": layers,
        **extra,
    }
    digest = client.put_manifest(ref, tag, _canonical(manifest), mt.OCI_MANIFEST)
    return str(digest), str(layer_digest), len(layers)


def push_referrer(
    client: RegistryClient,
    ref: Reference,
    subject: Mapping[str, Any],
    blob: bytes,
    *,
    artifact_type: str,
    annotations: Mapping[str, str],
    layer_annotations: Mapping[str, str] | None = None,
) -> tuple[str, str, str | None]:
    """Push an OCI 1.1 artifact manifest with ``subject``; update the ``sha256-<hex>`` tag when the
    registry has no referrers API. Returns (manifest digest, blob digest, fallback tag or None)."""
    empty = c.OCI_EMPTY_JSON
    client.push_blob(ref, empty)
    blob_digest = client.push_blob(ref, blob)
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": _desc(mt.OCI_EMPTY, empty),
        "layers": [_desc(artifact_type, blob, layer_annotations)],
        "subject": dict(subject),
        "annotations": dict(annotations),
    }
    data = _canonical(manifest)
    digest = client.put_manifest(ref, str(Digest.of(data)), data, mt.OCI_MANIFEST)
    subject_digest = Digest.parse(str(subject["digest"]))
    if client.get_referrers(ref, subject_digest) is not None:
        return str(digest), str(blob_digest), None
    tag = c.tag_for(str(subject_digest))
    entries: list[dict[str, Any]] = []
    try:
        raw = client.get_manifest(ref, tag)
        existing = json.loads(raw.data)
        if isinstance(existing, dict) and isinstance(existing.get("manifests"), list):
            entries = [dict(x) for x in existing["manifests"] if isinstance(x, dict)]
    except NotFoundError:
        pass
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ManifestError(f"referrers tag {tag} of {ref.name} is not JSON", hint="delete that tag") from None
    entry = {
        "mediaType": mt.OCI_MANIFEST,
        "digest": str(digest),
        "size": len(data),
        "artifactType": artifact_type,
        "annotations": dict(annotations),
    }
    if not any(x.get("digest") == entry["digest"] for x in entries):
        entries.append(entry)
    index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": entries}
    client.put_manifest(ref, tag, _canonical(index), mt.OCI_INDEX)
    return str(digest), str(blob_digest), tag


# -- subjects ---------------------------------------------------------------------------------------


class _Target:
    def __init__(self, session: Session, target: str) -> None:
        opened = session.open(target)
        if not isinstance(opened.source, RegistrySource) or opened.reference is None:
            raise UsageError(
                f"{target} is not a registry reference; signatures and attestations are pushed to a registry",
                hint="push the image first, then sign registry/repository@sha256:...",
            )
        self.ref = opened.source.ref
        self.client = session.client
        self.reader = session.reader(opened)
        self.top = self.reader.resolve()

    def subjects(self, platforms: list[PlatformSpec] | None) -> list[tuple[dict[str, Any], str | None]]:
        """(OCI subject descriptor, platform) for the top level, or for each chosen platform."""
        if not platforms:
            return [
                ({"mediaType": self.top.media_type, "digest": str(self.top.digest), "size": len(self.top.data)}, None)
            ]
        if not self.top.is_index:
            raise UsageError(f"{self.ref} is a single image manifest: --platform applies to an index")
        out: list[tuple[dict[str, Any], str | None]] = []
        for d in select_platforms(self.top.as_index(), platforms):
            plat = str(PlatformSpec.of(d.platform)) if d.platform else None
            out.append(({"mediaType": d.media_type, "digest": d.digest, "size": d.size}, plat))
        return out

    def push_to_tag(
        self,
        digest: str,
        platform: str | None,
        suffix: str,
        layer: bytes,
        *,
        media_type: str,
        annotations: Mapping[str, str],
        same: Callable[[dict[str, Any]], bool] | None = None,
    ) -> PushedItem:
        """Append ``layer`` to the cosign ``sha256-<hex>.<suffix>`` manifest of ``digest``; the pushed item."""
        tag = c.tag_for(digest, suffix)
        mdig, ldig, n = append_layer_to_tag(
            self.client, self.ref, tag, layer, media_type=media_type, annotations=annotations, same=same
        )
        return PushedItem(
            subject=digest,
            platform=platform,
            mode="tag",
            location=tag,
            manifest_digest=mdig,
            layer_digest=ldig,
            layers_in_manifest=n,
        )


def build_statement(subject_name: str, digest: str, predicate_type: str, predicate: Mapping[str, Any]) -> bytes:
    """An in-toto v1 Statement (checked with the in-toto-attestation library), as compact JSON."""
    from provenant.attest.models import _validate_v1_with_library

    alg, _, hx = digest.partition(":")
    obj = {
        "_type": c.STATEMENT_V1,
        "subject": [{"name": subject_name, "digest": {alg: hx}}],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }
    try:
        _validate_v1_with_library(obj, "statement")
    except Exception as exc:
        raise AttestError(
            f"cannot build the in-toto statement: {exc}", hint="the predicate must be a non-empty JSON object"
        ) from None
    return _canonical(obj)


def sigstore_bundle(envelope_json: dict[str, Any], key: PrivateKey) -> bytes:
    """A Sigstore bundle v0.3 holding a DSSE envelope, verification material = a public key hint.

    No transparency-log entry: verifiers that require one (cosign by default) need to be told to skip it.
    """
    hint = base64.b64encode(hashlib.sha256(key.public.der).digest()).decode("ascii")
    return _canonical(
        {
            "mediaType": c.SIGSTORE_BUNDLE_03,
            "verificationMaterial": {"publicKey": {"hint": hint}, "tlogEntries": []},
            "dsseEnvelope": envelope_json,
        }
    )


def attest_image(  # noqa: PLR0917 - the lead's sbom --attest calls it positionally
    session: Session,
    target: str,
    statement_predicate: Mapping[str, Any],
    predicate_type: str,
    key: PrivateKey,
    mode: Mode = "tag",
    platforms: list[PlatformSpec] | None = None,
    *,
    created: datetime | None = None,
) -> PushResult:
    """Sign ``statement_predicate`` as an in-toto statement about the image (or each platform) and push it.

    ``predicate_type`` is a URI or a cosign shorthand (``slsaprovenance``, ``spdx``, ``cyclonedx``, …).
    """
    if mode not in ("tag", "referrers", "both"):
        raise UsageError(f"unknown mode {mode!r}: expected tag, referrers or both")
    ptype = c.resolve_predicate_type(predicate_type)
    t = _Target(session, target)
    items: list[PushedItem] = []
    when = (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for subject, plat in t.subjects(platforms):
        digest = str(subject["digest"])
        statement = build_statement(t.ref.name, digest, ptype, statement_predicate)
        envelope = sign_envelope(statement, c.IN_TOTO, key)
        env_obj = envelope.model_dump(by_alias=True)
        if mode in ("tag", "both"):
            ann = {c.COSIGN_SIGNATURE_ANNOTATION: "", c.COSIGN_PREDICATE_ANNOTATION: ptype}
            items.append(
                t.push_to_tag(digest, plat, "att", _canonical(env_obj), media_type=c.DSSE_ENVELOPE, annotations=ann)
            )
        if mode in ("referrers", "both"):
            bundle = sigstore_bundle(env_obj, key)
            ann = {
                c.BUNDLE_CONTENT_ANNOTATION: "dsse-envelope",
                c.BUNDLE_PREDICATE_ANNOTATION: ptype,
                c.CREATED_ANNOTATION: when,
            }
            layer_ann = {c.TITLE_ANNOTATION: f"{c.tag_for(str(Digest.of(bundle)))}.sigstore.json"}
            mdig, ldig, fallback = push_referrer(
                t.client,
                t.ref,
                subject,
                bundle,
                artifact_type=c.SIGSTORE_BUNDLE_03,
                annotations=ann,
                layer_annotations=layer_ann,
            )
            items.append(
                PushedItem(
                    subject=digest,
                    platform=plat,
                    mode="referrers",
                    location=mdig,
                    manifest_digest=mdig,
                    layer_digest=ldig,
                    referrers_tag=fallback,
                )
            )
    return PushResult(
        reference=target,
        digest=str(t.top.digest),
        kind="attestation",
        key=key.public.fingerprint,
        predicate_type=ptype,
        items=items,
    )


def sign_image(
    session: Session,
    target: str,
    key: PrivateKey,
    *,
    platforms: list[PlatformSpec] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> PushResult:
    """Push a cosign simple-signing signature of the image (or of each chosen platform) to ``.sig``."""
    t = _Target(session, target)
    items: list[PushedItem] = []
    for subject, plat in t.subjects(platforms):
        digest = str(subject["digest"])
        payload = build_payload(t.ref.name, digest, annotations)
        signature = base64.b64encode(key.sign(payload)).decode("ascii")
        payload_digest = str(Digest.of(payload))

        def same(layer: dict[str, Any], payload: bytes = payload, payload_digest: str = payload_digest) -> bool:
            """An earlier signature of the same payload by the same key."""
            sig = (layer.get("annotations") or {}).get(c.COSIGN_SIGNATURE_ANNOTATION)
            if layer.get("digest") != payload_digest or not isinstance(sig, str):
                return False
            try:
                return key.public.verify(base64.b64decode(sig), payload)
            except ValueError:
                return False

        items.append(
            t.push_to_tag(
                digest,
                plat,
                "sig",
                payload,
                media_type=c.SIMPLESIGNING,
                annotations={c.COSIGN_SIGNATURE_ANNOTATION: signature},
                same=same,
            )
        )
    return PushResult(
        reference=target, digest=str(t.top.digest), kind="signature", key=key.public.fingerprint, items=items
    )
