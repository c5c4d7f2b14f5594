"""DSSE: the pre-authentication encoding, signing and verifying envelopes.

``PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`` where ``LEN`` is the byte length
as ASCII decimal without leading zeros (secure-systems-lab/dsse, protocol.md). The signature is over
PAE, never over the payload alone.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from provenant.attest.errors import SignatureFormatError
from provenant.attest.keys import PrivateKey, PublicKey
from provenant.attest.models import Envelope, EnvelopeSignature, b64decode


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSE v1 pre-authentication encoding of ``payload`` with ``payload_type``."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def sign_envelope(payload: bytes, payload_type: str, key: PrivateKey, *, keyid: str = "") -> Envelope:
    """An envelope holding ``payload`` with one signature by ``key`` over its PAE."""
    sig = key.sign(pae(payload_type, payload))
    return Envelope(
        payload_type=payload_type,
        payload=base64.b64encode(payload).decode("ascii"),
        signatures=[EnvelopeSignature(keyid=keyid, sig=base64.b64encode(sig).decode("ascii"))],
    )


def envelope_json(envelope: Envelope) -> bytes:
    """The envelope serialised as cosign writes it: ``payloadType``, ``payload``, ``signatures``."""
    return envelope.model_dump_json(by_alias=True, exclude_none=False).encode("utf-8")


def verify_envelope(envelope: Envelope, keys: Sequence[PublicKey]) -> list[PublicKey]:
    """The keys (of ``keys``) that made at least one valid signature on ``envelope``."""
    if not envelope.signatures:
        raise SignatureFormatError("DSSE envelope has no signatures")
    message = pae(envelope.payload_type, envelope.payload_bytes())
    sigs = [b64decode(s.sig, "DSSE signature") for s in envelope.signatures]
    return [k for k in keys if any(k.verify(sig, message) for sig in sigs)]
