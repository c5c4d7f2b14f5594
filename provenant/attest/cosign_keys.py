"""cosign's encrypted private key format: read and write ``ENCRYPTED SIGSTORE PRIVATE KEY`` PEM files.

The PEM body is JSON written by go-securesystemslib's ``encrypted`` package (what ``cosign generate-key-pair``
uses): ``{"kdf": {"name": "scrypt", "params": {"N", "r", "p"}, "salt": b64}, "cipher": {"name":
"nacl/secretbox", "nonce": b64}, "ciphertext": b64}``. The secretbox key is ``scrypt(password, salt, N, r, p,
32)``; the plaintext is the PKCS#8 DER private key. cosign writes N=32768, r=8, p=1 and a 32-byte salt; older
keys are labelled ``ENCRYPTED COSIGN PRIVATE KEY`` with the same body.

The scrypt parameters come from the file, so a hostile key could ask for gigabytes and minutes of work
before the password is even checked: parameters above :data:`MAX_SCRYPT_MEMORY` / :data:`MAX_SCRYPT_WORK`
are refused (cosign's own keys use 32 MiB; its older EC keys 64 MiB).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from provenant.attest.errors import KeyLoadError

PEM_TYPES = ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY")
#: The label cosign (>= 2.0) writes.
PEM_TYPE = PEM_TYPES[0]
#: scrypt needs 128 * N * r bytes: 256 MiB at most (cosign's default needs 32 MiB).
MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
#: N * r * p bounds the time (cosign's default: 262144, well under a second).
MAX_SCRYPT_WORK = 1 << 22
#: An encrypted key is a few hundred bytes; anything far larger is not a key.
MAX_KEY_FILE = 64 * 1024
DEFAULT_N, DEFAULT_R, DEFAULT_P = 32768, 8, 1
_NONCE = 24
_KEY = 32


def is_cosign_pem(data: bytes) -> bool:
    """True when ``data`` holds a cosign-format encrypted private key."""
    return any(f"-----BEGIN {t}-----".encode() in data for t in PEM_TYPES)


def _pem_body(data: bytes, source: str) -> bytes:
    text = data.decode("ascii", "replace")
    for label in PEM_TYPES:
        begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
        start = text.find(begin)
        if start < 0:
            continue
        stop = text.find(end, start)
        if stop < 0:
            raise KeyLoadError(f"{source}: {label} PEM block has no END line")
        try:
            return base64.b64decode("".join(text[start + len(begin) : stop].split()), validate=True)
        except (binascii.Error, ValueError):
            raise KeyLoadError(f"{source}: {label} PEM body is not base64") from None
    raise KeyLoadError(f"{source}: not a cosign encrypted private key")


def _b64(obj: dict[str, Any], key: str, source: str) -> bytes:
    value = obj.get(key)
    if not isinstance(value, str):
        raise KeyLoadError(f"{source}: encrypted key field {key!r} is missing or not a string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise KeyLoadError(f"{source}: encrypted key field {key!r} is not base64") from None


def _dict(obj: object, key: str, source: str) -> dict[str, Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, dict):
        raise KeyLoadError(f"{source}: encrypted key field {key!r} is missing or not an object")
    return value


def scrypt_params(params: dict[str, Any], source: str) -> tuple[int, int, int]:
    """``(N, r, p)`` from the key's ``kdf.params``, refused when outside what a real key uses."""
    values = [params.get(k) for k in ("N", "r", "p")]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
        raise KeyLoadError(f"{source}: scrypt parameters N, r, p must be positive integers (got {values})")
    n, r, p = (int(v) for v in values)  # type: ignore[arg-type]
    if n < 2 or n & (n - 1):
        raise KeyLoadError(f"{source}: scrypt N must be a power of two above 1 (got {n})")
    if 128 * n * r > MAX_SCRYPT_MEMORY or n * r * p > MAX_SCRYPT_WORK:
        raise KeyLoadError(
            f"{source}: scrypt parameters N={n} r={r} p={p} would need {128 * n * r // (1024 * 1024)} MiB "
            f"and {n * r * p} block mixes; refused (at most {MAX_SCRYPT_MEMORY // (1024 * 1024)} MiB "
            f"and {MAX_SCRYPT_WORK} mixes; cosign writes N=32768 r=8 p=1)"
        )
    return n, r, p


def _derive(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=MAX_SCRYPT_MEMORY + (1 << 20), dklen=_KEY)


def decrypt_cosign_key(data: bytes, password: bytes | None, source: str = "private key") -> bytes:
    """The PKCS#8 DER private key inside a cosign encrypted key; one-line :class:`KeyLoadError` otherwise."""
    from nacl.exceptions import CryptoError
    from nacl.secret import SecretBox

    if len(data) > MAX_KEY_FILE:
        raise KeyLoadError(f"{source}: {len(data)} bytes is too large for a cosign key (at most {MAX_KEY_FILE})")
    try:
        doc = json.loads(_pem_body(data, source))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise KeyLoadError(f"{source}: the encrypted key's body is not JSON") from None
    kdf, cipher = _dict(doc, "kdf", source), _dict(doc, "cipher", source)
    if kdf.get("name") != "scrypt":
        raise KeyLoadError(f"{source}: unsupported key derivation {str(kdf.get('name'))[:40]!r} (cosign uses scrypt)")
    if cipher.get("name") != "nacl/secretbox":
        raise KeyLoadError(f"{source}: unsupported cipher {str(cipher.get('name'))[:40]!r} (cosign: nacl/secretbox)")
    n, r, p = scrypt_params(_dict(kdf, "params", source), source)
    salt, nonce = _b64(kdf, "salt", source), _b64(cipher, "nonce", source)
    ciphertext = _b64(doc, "ciphertext", source)
    if not 1 <= len(salt) <= 1024:
        raise KeyLoadError(f"{source}: scrypt salt of {len(salt)} bytes (expected 1-1024; cosign writes 32)")
    if len(nonce) != _NONCE:
        raise KeyLoadError(f"{source}: secretbox nonce of {len(nonce)} bytes (expected {_NONCE})")
    if password is None:  # cosign allows an empty password, so only a missing one is refused
        raise KeyLoadError(
            f"{source}: the cosign key is encrypted and no password was given",
            hint="set PROVENANT_KEY_PASSWORD (or COSIGN_PASSWORD), or run on a terminal to be prompted",
        )
    box = SecretBox(_derive(password, salt, n, r, p))
    try:
        return bytes(box.decrypt(ciphertext, nonce))
    except CryptoError:
        raise KeyLoadError(f"{source}: cannot decrypt the cosign key: wrong password or corrupt key") from None


def encrypt_cosign_key(pkcs8_der: bytes, password: bytes, *, n: int = DEFAULT_N, r: int = DEFAULT_R) -> bytes:
    """``pkcs8_der`` as cosign writes it: an ``ENCRYPTED SIGSTORE PRIVATE KEY`` PEM block."""
    from nacl.secret import SecretBox

    salt, nonce = os.urandom(32), os.urandom(_NONCE)
    box = SecretBox(_derive(password, salt, n, r, DEFAULT_P))
    sealed = box.encrypt(pkcs8_der, nonce).ciphertext  # the tag and the ciphertext, without the nonce
    b64 = base64.b64encode
    doc = {
        "kdf": {"name": "scrypt", "params": {"N": n, "r": r, "p": DEFAULT_P}, "salt": b64(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": b64(nonce).decode()},
        "ciphertext": b64(sealed).decode(),
    }
    body = b64(json.dumps(doc, separators=(",", ":")).encode()).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ("\n".join([f"-----BEGIN {PEM_TYPE}-----", *lines, f"-----END {PEM_TYPE}-----"]) + "\n").encode()


def cosign_private_key(key: ec.EllipticCurvePrivateKey, password: bytes) -> bytes:
    """A private key in cosign's encrypted format."""
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return encrypt_cosign_key(der, password)
