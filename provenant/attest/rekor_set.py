"""The Rekor signed entry timestamp (SET) of cosign's ``dev.sigstore.cosign/bundle`` annotation, checked offline.

The annotation is ``{"SignedEntryTimestamp": b64, "Payload": {"body": b64, "integratedTime": n,
"logIndex": n, "logID": hex}}``. The SET is the log's signature over the canonical JSON of the payload
(keys sorted, no whitespace: RFC 8785 for these value types), made with the log key the trusted root
lists for ``logID``. A verified SET proves the log saw ``body`` at ``integratedTime``; the body must then
be shown to be about this signature: same certificate, same signature or payload hash (see
:func:`check_body`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import Encoding

from provenant.attest.fulcio import TrustRoot
from provenant.limits import Limits
from provenant.structured import load_json


class SetError(ValueError):
    """The SET annotation is malformed, or does not verify, or its entry is about something else."""


@dataclass(frozen=True)
class LogEntry:
    """The parts of a Rekor entry the SET signs."""

    body: str
    integrated_time: int
    log_index: int
    log_id: str
    signed_entry_timestamp: bytes

    @property
    def time(self) -> datetime:
        """The integrated time as a UTC datetime."""
        return datetime.fromtimestamp(self.integrated_time, tz=UTC)

    def canonical(self) -> bytes:
        """What the SET signs: the payload as canonical JSON."""
        doc = {
            "body": self.body,
            "integratedTime": self.integrated_time,
            "logID": self.log_id,
            "logIndex": self.log_index,
        }
        # pragma below: the keys are inserted in sorted order, so sort_keys (kept as a guard) changes nothing
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()  # pragma: no mutate

    def decoded_body(self, limits: Limits | None = None) -> dict[str, Any]:
        """The entry body (the canonicalized Rekor entry JSON)."""
        try:
            doc = load_json(base64.b64decode(self.body, validate=True), "Rekor entry body", limits)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise SetError(f"the Rekor entry body is not base64 JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise SetError("the Rekor entry body is not a JSON object")
        return doc


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SetError(f"{what} is not a non-negative integer")
    return value


#: The last second a datetime holds (9999-12-31T23:59:59Z): a later integratedTime is no time at all.
LAST_SECOND = 253_402_300_799


def parse_bundle_annotation(text: str, limits: Limits | None = None) -> LogEntry:
    """The :class:`LogEntry` of a ``dev.sigstore.cosign/bundle`` annotation; SetError when malformed."""
    try:
        doc = load_json(text, "cosign bundle annotation", limits)
    except ValueError as exc:
        raise SetError(f"the bundle annotation is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Payload"), dict):
        raise SetError("the bundle annotation has no Payload object")
    payload = doc["Payload"]
    body, log_id, set_b64 = payload.get("body"), payload.get("logID"), doc.get("SignedEntryTimestamp")
    if not isinstance(body, str) or not isinstance(log_id, str) or not isinstance(set_b64, str):
        raise SetError("the bundle annotation lacks body, logID or SignedEntryTimestamp strings")
    if not (body.isascii() and log_id.isascii()):  # base64 and hex: anything else was never signed by a log
        raise SetError("the bundle annotation's body or logID holds characters other than ASCII")
    try:
        sig = base64.b64decode(set_b64, validate=True)
    except ValueError:  # binascii.Error, or a character outside ASCII
        raise SetError("SignedEntryTimestamp is not base64") from None
    integrated = _int(payload.get("integratedTime"), "integratedTime")
    if integrated > LAST_SECOND:  # before it reaches datetime.fromtimestamp
        raise SetError(f"integratedTime {str(integrated)[:20]} is after the year 9999")
    return LogEntry(
        body,
        integrated,
        _int(payload.get("logIndex"), "logIndex"),
        log_id,
        sig,
    )


def verify_set(entry: LogEntry, root: TrustRoot) -> None:
    """Check the SET with the key of the log ``entry.log_id`` names in ``root``; SetError when it fails."""
    log = root.log(entry.log_id)
    if log is None:
        raise SetError(
            f"the entry's log {entry.log_id[:16]}… is not a transparency log of the trusted root {root.path}"
        )
    if not log.valid.covers(entry.time):
        when = f"{entry.time:%Y-%m-%dT%H:%M:%SZ}"
        raise SetError(f"the log {log.base_url} was not in use at the entry's integrated time {when}")
    message = entry.canonical()
    key = log.key
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(entry.signed_entry_timestamp, message, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(entry.signed_entry_timestamp, message)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(entry.signed_entry_timestamp, message, PKCS1v15(), hashes.SHA256())
        else:
            raise SetError(f"the log key of {log.base_url} has an unsupported type")
    except InvalidSignature:
        raise SetError(f"the signed entry timestamp does not verify with the key of {log.base_url}") from None


def _pem_cert_der(b64_pem: Any, what: str) -> bytes:
    """A base64-encoded PEM certificate (how Rekor stores keys and certificates) as DER."""
    if not isinstance(b64_pem, str):
        raise SetError(f"{what} is missing from the Rekor entry")
    try:
        pem = base64.b64decode(b64_pem, validate=True)
        return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
    except (binascii.Error, ValueError):
        raise SetError(f"{what} in the Rekor entry is not a PEM certificate") from None


def _hex(hashed: Any, what: str) -> str:
    if not isinstance(hashed, dict) or hashed.get("algorithm") != "sha256" or not isinstance(hashed.get("value"), str):
        raise SetError(f"{what} in the Rekor entry is not a sha256 hash")
    return str(hashed["value"]).lower()


def check_body(
    body: dict[str, Any],
    *,
    cert_der: bytes,
    signature: bytes | None,
    payload: bytes,
    envelope: bytes | None = None,
) -> str:
    """Is the Rekor entry ``body`` about this signature? Returns its ``kind:version``; SetError when not.

    * ``hashedrekord`` (``.sig``): same certificate, same signature, hash of the signed payload.
    * ``intoto`` 0.0.1 / 0.0.2 and ``dsse`` 0.0.1 (``.att``): same certificate, hash of the DSSE payload
      (and of the envelope when the entry records it).
    """
    kind, version, spec = body.get("kind"), body.get("apiVersion"), body.get("spec")
    if not isinstance(spec, dict):
        raise SetError("the Rekor entry has no spec")
    label = f"{kind}:{version}"
    payload_hex = hashlib.sha256(payload).hexdigest()
    if kind == "hashedrekord" and version == "0.0.1":
        sig = spec.get("signature") or {}
        if not isinstance(sig, dict):
            raise SetError("hashedrekord signature is not an object")
        if _pem_cert_der((sig.get("publicKey") or {}).get("content"), "the signature's certificate") != cert_der:
            raise SetError("the Rekor entry names another certificate than the signature's")
        content = sig.get("content")
        if not isinstance(content, str):
            raise SetError("the Rekor entry records no signature")
        try:
            logged_sig = base64.b64decode(content, validate=True)
        except ValueError:  # binascii.Error, or a character outside ASCII
            raise SetError("the Rekor entry's signature is not base64") from None
        if signature is None or logged_sig != signature:
            raise SetError("the Rekor entry records another signature")
        if _hex((spec.get("data") or {}).get("hash"), "data.hash") != payload_hex:
            raise SetError("the Rekor entry is about another payload (data.hash differs)")
        return label
    if kind == "intoto" and version in ("0.0.1", "0.0.2"):
        content = spec.get("content") or {}
        if not isinstance(content, dict):
            raise SetError("intoto content is not an object")
        if version == "0.0.1":
            keys = [spec.get("publicKey")]
        else:
            sigs = ((content.get("envelope") or {}).get("signatures")) or []
            # 0.0.2 stores each key base64-encoded once more than 0.0.1 does
            keys = [_b64_text(s.get("publicKey")) for s in sigs if isinstance(s, dict)]
        if cert_der not in {_pem_cert_der(k, "the attestation's certificate") for k in keys}:
            raise SetError("the Rekor entry names another certificate than the attestation's")
        if _hex(content.get("payloadHash"), "payloadHash") != payload_hex:
            raise SetError("the Rekor entry is about another attestation payload (payloadHash differs)")
        recorded = content.get("hash") if version == "0.0.1" and envelope is not None else None
        if recorded is not None and envelope is not None and _hex(recorded, "hash") != _sha(envelope):
            raise SetError("the Rekor entry is about another envelope (hash differs)")
        return label
    if kind == "dsse" and version == "0.0.1":
        sigs = spec.get("signatures") or []
        keys = [s.get("verifier") for s in sigs if isinstance(s, dict)]
        if cert_der not in {_pem_cert_der(k, "the attestation's certificate") for k in keys}:
            raise SetError("the Rekor entry names another certificate than the attestation's")
        if _hex(spec.get("payloadHash"), "payloadHash") != payload_hex:
            raise SetError("the Rekor entry is about another attestation payload (payloadHash differs)")
        return label
    raise SetError(f"Rekor entries of kind {label} are not checked by provenant")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _b64_text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True).decode("ascii")
    except ValueError:  # binascii.Error, a character outside ASCII, or bytes that are not ASCII
        return None
