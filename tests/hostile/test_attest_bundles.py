"""Hostile signing evidence: cosign keys that ask for minutes and gigabytes, huge or deep bundles, absurd tokens.

Each case builds the hostile input (a key file, or a bundle served as an OCI referrer by the scripted registry
through the ``sha256-<hex>`` tag fallback), runs the CLI in a subprocess and asserts the common bounds.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from tests.hostile.harness import Sandbox, run_cli
from tests.hostile.server import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, HostileServer, canonical, sha256

REPO = "team/app"
DATA = Path(__file__).parent.parent / "data" / "bundles"
BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
KEY_ENV = {"PROVENANT_KEY_PASSWORD": "pw"}


def _cosign_key(params: dict[str, Any], *, nonce: bytes = b"n" * 24, ciphertext: bytes = b"c" * 200) -> bytes:
    doc = {
        "kdf": {"name": "scrypt", "params": params, "salt": base64.b64encode(b"s" * 32).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }
    body = base64.b64encode(json.dumps(doc).encode()).decode()
    label = "ENCRYPTED SIGSTORE PRIVATE KEY"
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n".encode()


def _sign_with(key: bytes, sandbox: Sandbox) -> Any:
    path = sandbox.root / "hostile.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key)
    return run_cli(["sign", "127.0.0.1:9/team/app:1", "--key", str(path)], sandbox, env=KEY_ENV)


def test_cosign_key_asking_scrypt_for_gigabytes(sandbox: Sandbox) -> None:
    # N=2^24, r=8: 16 GiB of scrypt memory and minutes of work before the password is even checked
    out = _sign_with(_cosign_key({"N": 1 << 24, "r": 8, "p": 1}), sandbox)
    out.assert_bounded(exit_code=2, error="scrypt parameters N=16777216 r=8 p=1 would need 16384 MiB")


def test_cosign_key_asking_scrypt_for_minutes(sandbox: Sandbox) -> None:
    # little memory (N=2^14) but p=2^16 sequential mixes: hours of CPU
    out = _sign_with(_cosign_key({"N": 1 << 14, "r": 8, "p": 1 << 16}), sandbox)
    out.assert_bounded(exit_code=2, error="refused")


def test_cosign_key_of_a_gigabyte(sandbox: Sandbox) -> None:
    path = sandbox.root / "huge.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
        f.truncate(1 << 30)  # sparse: a gigabyte that costs no disk
    out = run_cli(["sign", "127.0.0.1:9/team/app:1", "--key", str(path)], sandbox, env=KEY_ENV)
    out.assert_bounded(exit_code=2, error="is larger than 1048576 bytes")


# -- bundles served as referrers ----------------------------------------------------------------------


def _serve_bundle(server: HostileServer, bundle: bytes) -> str:
    """An image at REPO:1 and a referrer (tag fallback) whose one layer is ``bundle``; returns the image digest."""
    cfg = canonical({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})
    image = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, **server.put_blob(cfg)},
        "layers": [],
    }
    image_body = canonical(image)
    digest = server.put_manifest(REPO, "1", image_body)
    empty = {"mediaType": "application/vnd.oci.empty.v1+json", **server.put_blob(b"{}")}
    referrer = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": BUNDLE_TYPE,
            "config": empty,
            "layers": [{"mediaType": BUNDLE_TYPE, **server.put_blob(bundle)}],
            "subject": {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(image_body)},
        }
    )
    ref_digest = server.put_manifest(REPO, "referrer", referrer)
    index = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": ref_digest, "size": len(referrer), "artifactType": BUNDLE_TYPE}
            ],
        }
    )
    server.put_manifest(REPO, digest.replace(":", "-"), index, OCI_INDEX)
    return digest


def _verify_keyless(server: HostileServer, sandbox: Sandbox) -> Any:
    return run_cli(
        [
            "verify",
            f"{server.host}/{REPO}:1",
            "--trusted-root",
            str(DATA / "staging-with-test-tsa.trusted_root.json"),
            "--certificate-identity",
            "alexis.challande@trailofbits.com",
            "--certificate-oidc-issuer",
            "https://accounts.google.com",
        ],
        sandbox,
    )


def _timestamp_only(token: bytes) -> bytes:
    doc = json.loads((DATA / "py-tsa-bundle.txt.sigstore").read_bytes())
    doc["verificationMaterial"]["tlogEntries"] = []
    doc["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"] = [
        {"signedTimestamp": base64.b64encode(token).decode()}
    ]
    return json.dumps(doc).encode()


def test_bundle_nested_a_million_deep(server: HostileServer, sandbox: Sandbox) -> None:
    _serve_bundle(server, b'{"mediaType":' + b"[" * 1_000_000 + b"]" * 1_000_000 + b"}")
    out = _verify_keyless(server, sandbox)
    out.assert_bounded(exit_code=1)
    assert "json-depth" in out.stdout or "json_depth" in out.stdout, out.stdout[-800:]


def test_bundle_with_2500_log_entries(server: HostileServer, sandbox: Sandbox) -> None:
    doc = json.loads((DATA / "py-tsa-bundle.txt.sigstore").read_bytes())
    entry = doc["verificationMaterial"]["tlogEntries"][0]
    entry.pop("inclusionProof")
    doc["verificationMaterial"]["tlogEntries"] = [entry] * 2_500  # ~6.5 MB, under the attachment bound
    _serve_bundle(server, json.dumps(doc).encode())
    out = _verify_keyless(server, sandbox)
    out.assert_bounded(exit_code=1)
    assert "2500 transparency-log entries (at most 8)" in out.stdout, out.stdout[-800:]


def test_timestamp_token_of_four_megabytes(server: HostileServer, sandbox: Sandbox) -> None:
    _serve_bundle(server, _timestamp_only(b"\x30\x84\x00\x40\x00\x00" + b"\x00" * (4 << 20)))
    out = _verify_keyless(server, sandbox)
    out.assert_bounded(exit_code=1)
    assert "bytes (at most 65536)" in out.stdout, out.stdout[-800:]


def test_timestamp_token_claiming_absurd_lengths(server: HostileServer, sandbox: Sandbox) -> None:
    # DER lengths of 2^32-1 and nested SEQUENCEs that claim more than the token holds
    token = b"\x30\x84\xff\xff\xff\xff" + b"\x30\x84\xff\xff\xff\xf0" * 500 + b"\x02\x01\x00"
    _serve_bundle(server, _timestamp_only(token))
    out = _verify_keyless(server, sandbox)
    out.assert_bounded(exit_code=1)
    assert "RFC 3161 timestamp 0 cannot be decoded" in out.stdout, out.stdout[-800:]
    assert sha256(token)  # the token was served as given
