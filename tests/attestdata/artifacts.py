"""cosign / in-toto / Sigstore artifacts written straight from the specifications.

A :class:`Store` is one repository of a registry: the real one over plain HTTP (:class:`HttpStore`)
or the in-memory fake (:class:`FakeStore`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

import httpx

from tests.attestdata.crypto import PrivKey, b64, pae, sign

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE = "application/vnd.dsse.envelope.v1+json"
IN_TOTO = "application/vnd.in-toto+json"
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
SIG_ANNOTATION = "dev.cosignproject.cosign/signature"
CERT_ANNOTATION = "dev.sigstore.cosign/certificate"
ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, "application/vnd.docker.distribution.manifest.v2+json"])


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def cjson(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def desc(media_type: str, data: bytes, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"mediaType": media_type, "digest": sha256(data), "size": len(data)}
    if annotations:
        d["annotations"] = annotations
    return d


class Store(Protocol):
    def put_blob(self, data: bytes) -> str: ...
    def put_manifest(self, data: bytes, media_type: str, ref: str) -> str: ...
    def get_manifest(self, ref: str) -> bytes | None: ...


class HttpStore:
    """One repository of a real registry without auth, over plain HTTP."""

    def __init__(self, host: str, repo: str) -> None:
        self.base = f"http://{host}/v2/{repo}"
        self.repo = repo
        self.http = httpx.Client(timeout=30)

    def put_blob(self, data: bytes) -> str:
        digest = sha256(data)
        if self.http.head(f"{self.base}/blobs/{digest}").status_code == 200:
            return digest
        start = self.http.post(f"{self.base}/blobs/uploads/")
        assert start.status_code == 202, start.text
        url = httpx.URL(start.request.url).join(start.headers["location"]).copy_merge_params({"digest": digest})
        put = self.http.put(url, content=data, headers={"Content-Type": "application/octet-stream"})
        assert put.status_code == 201, put.text
        return digest

    def mount(self, digest: str, from_repo: str) -> None:
        resp = self.http.post(f"{self.base}/blobs/uploads/", params={"mount": digest, "from": from_repo})
        assert resp.status_code == 201, f"mount {digest} from {from_repo}: {resp.status_code} {resp.text}"

    def put_manifest(self, data: bytes, media_type: str, ref: str) -> str:
        resp = self.http.put(f"{self.base}/manifests/{ref}", content=data, headers={"Content-Type": media_type})
        assert resp.status_code == 201, resp.text
        return sha256(data)

    def get_manifest(self, ref: str) -> bytes | None:
        resp = self.http.get(f"{self.base}/manifests/{ref}", headers={"Accept": ACCEPT})
        if resp.status_code == 404:
            return None
        assert resp.status_code == 200, resp.text
        return resp.content


class FakeStore:
    """One repository of :class:`tests.fakeregistry.FakeRegistry`."""

    def __init__(self, fake: Any, repo: str) -> None:
        self.fake = fake
        self.repo = repo

    def put_blob(self, data: bytes) -> str:
        return str(self.fake.put_blob(self.repo, data))

    def put_manifest(self, data: bytes, media_type: str, ref: str) -> str:
        return str(self.fake.put_manifest(self.repo, data, media_type, None if ref.startswith("sha256:") else ref))

    def get_manifest(self, ref: str) -> bytes | None:
        got = self.fake.manifest(self.repo, ref)
        return None if got is None else bytes(got[0])


def copy_image(host: str, src_repo: str, ref: str, dst_repo: str, tag: str) -> str:
    """Copy an index or manifest (and everything below it) to another repository by cross-repo mounts."""
    src, dst = HttpStore(host, src_repo), HttpStore(host, dst_repo)

    def walk(reference: str) -> tuple[bytes, str]:
        data = src.get_manifest(reference)
        assert data is not None, reference
        obj = json.loads(data)
        media_type = obj["mediaType"]
        if "manifests" in obj:
            for m in obj["manifests"]:
                sub, sub_type = walk(m["digest"])
                dst.put_manifest(sub, sub_type, m["digest"])
        else:
            for d in [obj["config"], *obj["layers"]]:
                dst.mount(d["digest"], src_repo)
        return data, media_type

    data, media_type = walk(ref)
    dst.put_manifest(data, media_type, sha256(data))
    dst.put_manifest(data, media_type, tag)
    return sha256(data)


def tag_of(digest: str, suffix: str | None = None) -> str:
    base = digest.replace(":", "-")
    return f"{base}.{suffix}" if suffix else base


# -- cosign tag scheme ------------------------------------------------------------------------------


def simple_signing_payload(docker_reference: str, digest: str) -> bytes:
    """The payload of SIGNATURE_SPEC 'Simple Signing', written as a literal."""
    critical = (
        f'{{"identity":{{"docker-reference":"{docker_reference}"}},"image":{{"docker-manifest-digest":"{digest}"}},'
        '"type":"cosign container image signature"}'
    )
    return ('{"critical":' + critical + ',"optional":null}').encode()


def append_layer(store: Store, tag: str, layer: bytes, media_type: str, annotations: dict[str, str]) -> str:
    """Add one layer to the signature manifest at ``tag`` (creating it), like cosign: one manifest per object."""
    store.put_blob(layer)
    existing = store.get_manifest(tag)
    layers = json.loads(existing)["layers"] if existing else []
    layers.append(desc(media_type, layer, annotations))
    config = cjson(
        {
            "architecture": "",
            "os": "",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [x["digest"] for x in layers]},
        }
    )
    store.put_blob(config)
    manifest = cjson(
        {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": desc(OCI_CONFIG, config), "layers": layers}
    )
    return store.put_manifest(manifest, OCI_MANIFEST, tag)


def write_signature(
    store: Store,
    subject: str,
    key: PrivKey,
    *,
    docker_reference: str = "example/app",
    payload_digest: str | None = None,
    tamper: bool = False,
    certificate_pem: str | None = None,
) -> None:
    """A ``.sig`` layer for ``subject``.

    ``payload_digest`` puts another digest into the signed payload (subject mismatch); ``tamper`` signs
    the honest payload but stores an altered one (the blob and manifest are consistent, the signature is not).
    """
    payload = simple_signing_payload(docker_reference, payload_digest or subject)
    signature = sign(key, payload)
    if tamper:
        payload = payload.replace(b"cosign container image signature", b"cosign container image signaturE")
    ann = {SIG_ANNOTATION: b64(signature)}
    if certificate_pem:
        ann[CERT_ANNOTATION] = certificate_pem
    append_layer(store, tag_of(subject, "sig"), payload, SIMPLESIGNING, ann)


def statement(subject_digest: str, predicate_type: str, predicate: dict[str, Any], *, v1: bool = False) -> bytes:
    alg, _, hx = subject_digest.partition(":")
    return cjson(
        {
            "_type": "https://in-toto.io/Statement/v1" if v1 else "https://in-toto.io/Statement/v0.1",
            "subject": [{"name": "example/app", "digest": {alg: hx}}],
            "predicateType": predicate_type,
            "predicate": predicate,
        }
    )


def envelope(payload: bytes, key: PrivKey, *, tamper: bool = False) -> dict[str, Any]:
    """A DSSE envelope signed over PAE."""
    sig = sign(key, pae(IN_TOTO, payload))
    if tamper:
        payload = payload.replace(b"predicate", b"predicatE", 1)
    return {"payloadType": IN_TOTO, "payload": b64(payload), "signatures": [{"keyid": "", "sig": b64(sig)}]}


def write_attestation(
    store: Store, subject: str, stmt: bytes, key: PrivKey, predicate_type: str, *, tamper: bool = False
) -> None:
    """A ``.att`` layer for ``subject`` (ATTESTATION_SPEC)."""
    env = cjson(envelope(stmt, key, tamper=tamper))
    append_layer(store, tag_of(subject, "att"), env, DSSE, {SIG_ANNOTATION: "", "predicateType": predicate_type})


def write_sbom(store: Store, subject: str, sbom: bytes, media_type: str = "application/vnd.cyclonedx+json") -> None:
    """An attached SBOM (``cosign attach sbom``): a ``.sbom`` manifest whose layer is the document."""
    append_layer(store, tag_of(subject, "sbom"), sbom, media_type, {})


# -- OCI referrers / Sigstore bundles (BUNDLE_SPEC) -------------------------------------------------


def bundle_with_key(stmt: bytes, key: PrivKey, hint: str = "test-key") -> bytes:
    return cjson(
        {
            "mediaType": BUNDLE,
            "verificationMaterial": {"publicKey": {"hint": hint}, "tlogEntries": []},
            "dsseEnvelope": envelope(stmt, key),
        }
    )


def bundle_with_cert(stmt: bytes, key: PrivKey, cert_der: bytes, *, tamper: bool = False) -> bytes:
    return cjson(
        {
            "mediaType": BUNDLE,
            "verificationMaterial": {"certificate": {"rawBytes": b64(cert_der)}, "tlogEntries": []},
            "dsseEnvelope": envelope(stmt, key, tamper=tamper),
        }
    )


def message_signature_bundle(subject_digest: str, key: PrivKey) -> bytes:
    """A message-signature bundle over the manifest with ``subject_digest`` (signed prehashed)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    raw = bytes.fromhex(subject_digest.partition(":")[2])
    sig = key.sign(raw, ec.ECDSA(Prehashed(hashes.SHA256())))
    return cjson(
        {
            "mediaType": BUNDLE,
            "verificationMaterial": {"publicKey": {"hint": "k"}, "tlogEntries": []},
            "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": b64(raw)}, "signature": b64(sig)},
        }
    )


def write_referrer(
    store: Store,
    subject: dict[str, Any],
    blob: bytes,
    artifact_type: str = BUNDLE,
    *,
    annotations: dict[str, str] | None = None,
    fallback_tag: bool = False,
) -> str:
    """An artifact manifest with ``subject``; with ``fallback_tag`` also the ``sha256-<hex>`` index entry."""
    empty = b"{}"
    store.put_blob(empty)
    store.put_blob(blob)
    manifest = cjson(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": desc(OCI_EMPTY, empty),
            "layers": [desc(artifact_type, blob)],
            "subject": subject,
            "annotations": annotations or {"dev.sigstore.bundle.content": "dsse-envelope"},
        }
    )
    digest = store.put_manifest(manifest, OCI_MANIFEST, sha256(manifest))
    if fallback_tag:
        tag = tag_of(subject["digest"])
        existing = store.get_manifest(tag)
        entries = json.loads(existing)["manifests"] if existing else []
        entries.append(
            {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(manifest), "artifactType": artifact_type}
        )
        store.put_manifest(cjson({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}), OCI_INDEX, tag)
    return digest
