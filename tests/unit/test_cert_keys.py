"""A bare certificate given as --key: refused, unless it chains to the trusted root (then checked as keyless)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from provenant.attest.cert_keys import load_keys
from provenant.attest.errors import KeyLoadError
from provenant.attest.keyless import KeylessPolicy
from provenant.attest.keys import load_public_key
from tests.attestdata import crypto

DATA = Path(__file__).parent.parent / "data" / "bundles"
IDENTITY = (
    "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml"
    "@09b495c3f12c7881b3cc17209a327792065c1a1d"
)
ISSUER = "https://token.actions.githubusercontent.com"


@pytest.fixture
def real_cert(tmp_path: Path) -> Path:
    """The Fulcio certificate of a real GitHub attestation (public-good instance)."""
    doc = json.loads((DATA / "gh-reusable-workflow-attestation.sigstore.json").read_bytes())
    der = base64.b64decode(doc["verificationMaterial"]["certificate"]["rawBytes"])
    path = tmp_path / "signer.crt"
    path.write_bytes(x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM))
    return path


def _policy(root: str = "trusted-root-production.json", identity: str = IDENTITY) -> KeylessPolicy:
    return KeylessPolicy(DATA / root, identity, ISSUER)


def test_a_certificate_is_not_a_key_without_a_trusted_root(real_cert: Path) -> None:
    for load in (lambda: load_public_key(real_cert), lambda: load_keys([real_cert], None)):
        with pytest.raises(KeyLoadError) as err:
            load()
        assert "is a certificate, not a public key" in err.value.diagnostics()
        assert "\n" not in err.value.diagnostics()


def test_a_certificate_that_chains_is_checked_as_keyless(real_cert: Path) -> None:
    keys, notes = load_keys([real_cert], _policy())
    assert keys == [] and "chains to the trusted root" in notes[0] and IDENTITY in notes[0]


def test_a_certificate_of_another_root_or_identity_or_self_made_is_refused(real_cert: Path, tmp_path: Path) -> None:
    with pytest.raises(KeyLoadError, match="does not chain to a certificate authority"):
        load_keys([real_cert], _policy("trusted-root-staging.json"))
    with pytest.raises(KeyLoadError, match=r"not someone@example\.com"):
        load_keys([real_cert], _policy(identity="someone@example.com"))
    own = tmp_path / "own.crt"
    der = crypto.fulcio_like_cert(crypto.new_key(), IDENTITY, ISSUER)
    own.write_bytes(x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM))
    with pytest.raises(KeyLoadError, match="does not chain"):
        load_keys([own], _policy())
