"""cosign simple signing: the payload that ``cosign sign`` signs and stores in a ``.sig`` layer.

The signature covers the payload bytes exactly as stored in the blob (no canonicalisation): verifying
means hashing those bytes, checking the signature, and only then parsing them to compare
``critical.image.docker-manifest-digest`` with the image digest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from provenant.attest import constants as c
from provenant.attest.keys import PublicKey


def build_payload(docker_reference: str, digest: str, optional: Mapping[str, str] | None = None) -> bytes:
    """The payload cosign writes: compact JSON, fields in cosign's order, ``optional`` null when empty."""
    doc = {
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": digest},
            "type": c.SIMPLESIGNING_TYPE,
        },
        "optional": dict(optional) if optional else None,
    }
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def verify_payload(payload: bytes, signature: bytes, keys: Sequence[PublicKey]) -> list[PublicKey]:
    """The keys (of ``keys``) for which ``signature`` is a valid signature of the exact ``payload`` bytes."""
    return [k for k in keys if k.verify(signature, payload)]
