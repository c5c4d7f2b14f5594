"""cosign's encrypted private key format: real cosign keys load, provenant's own round-trip, bad ones are refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from provenant.attest.cosign_keys import PEM_TYPE, cosign_private_key, decrypt_cosign_key
from provenant.attest.errors import KeyLoadError
from provenant.attest.keys import generate_keypair, load_private_key, load_private_key_pem

DATA = Path(__file__).parent.parent / "data" / "bundles"
COSIGN_KEYS = ["cosign-rsa.key", "cosign-ec.key", "cosign-sigstore.key"]  # cosign's testdata; password "hello"


@pytest.mark.parametrize("name", COSIGN_KEYS)
def test_real_cosign_keys_load_and_sign(name: str) -> None:
    key = load_private_key(DATA / name, b"hello")
    assert key.public.verify(key.sign(b"payload"), b"payload")
    assert not key.public.verify(key.sign(b"payload"), b"other")


@pytest.mark.parametrize("name", COSIGN_KEYS)
def test_real_cosign_key_with_a_wrong_password_is_one_line(name: str) -> None:
    with pytest.raises(KeyLoadError) as err:
        load_private_key(DATA / name, b"wrong")
    assert "wrong password or corrupt key" in str(err.value) and "\n" not in str(err.value)


def test_missing_password_is_refused_but_an_empty_one_is_tried() -> None:
    data = (DATA / "cosign-sigstore.key").read_bytes()
    with pytest.raises(KeyLoadError, match="no password was given"):
        load_private_key_pem(data, None)
    with pytest.raises(KeyLoadError, match="wrong password"):
        load_private_key_pem(data, b"")
    empty = cosign_private_key(ec.generate_private_key(ec.SECP256R1()), b"")  # cosign allows an empty password
    assert load_private_key_pem(empty, b"").public.algorithm == "ecdsa-secp256r1"


def test_keygen_cosign_format_round_trips() -> None:
    pair = generate_keypair(b"pw", "cosign")
    assert pair.private_pem.startswith(f"-----BEGIN {PEM_TYPE}-----".encode())
    body = base64.b64decode(b"".join(pair.private_pem.splitlines()[1:-1]))
    doc = json.loads(body)
    assert list(doc) == ["kdf", "cipher", "ciphertext"]  # cosign's field order
    assert doc["kdf"]["params"] == {"N": 32768, "r": 8, "p": 1} and doc["cipher"]["name"] == "nacl/secretbox"
    assert len(base64.b64decode(doc["kdf"]["salt"])) == 32 and len(base64.b64decode(doc["cipher"]["nonce"])) == 24
    key = load_private_key_pem(pair.private_pem, b"pw")
    assert key.public.fingerprint == pair.fingerprint
    pkcs8 = generate_keypair(b"pw", "pkcs8")
    assert b"BEGIN ENCRYPTED PRIVATE KEY" in pkcs8.private_pem


def _with(doc_patch: dict[str, object]) -> bytes:
    pem = cosign_private_key(ec.generate_private_key(ec.SECP256R1()), b"pw")
    doc = json.loads(base64.b64decode(b"".join(pem.splitlines()[1:-1])))
    for path, value in doc_patch.items():
        node = doc
        *parents, leaf = path.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = value
    body = base64.b64encode(json.dumps(doc).encode()).decode()
    return f"-----BEGIN {PEM_TYPE}-----\n{body}\n-----END {PEM_TYPE}-----\n".encode()


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"kdf.params.N": 1 << 24}, "refused"),
        ({"kdf.params.r": 1 << 20}, "refused"),
        ({"kdf.params.p": 1 << 20}, "refused"),
        ({"kdf.params.N": 1000}, "power of two"),
        ({"kdf.params.N": -1}, "positive integers"),
        ({"kdf.params.N": "32768"}, "positive integers"),
        ({"kdf.name": "argon2"}, "unsupported key derivation"),
        ({"cipher.name": "aes"}, "unsupported cipher"),
        ({"cipher.nonce": base64.b64encode(b"x" * 12).decode()}, "nonce of 12 bytes"),
        ({"kdf.salt": "!!"}, "not base64"),
        ({"ciphertext": base64.b64encode(b"x" * 40).decode()}, "wrong password or corrupt key"),
    ],
)
def test_bad_encrypted_keys_are_refused_in_one_line(patch: dict[str, object], reason: str) -> None:
    with pytest.raises(KeyLoadError) as err:
        decrypt_cosign_key(_with(patch), b"pw")
    assert reason in str(err.value) and "\n" not in str(err.value)
