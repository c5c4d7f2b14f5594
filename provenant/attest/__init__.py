"""Supply-chain evidence attached to images: discovery, parsing, signature verification, creation.

Public API::

    list_attestations(session, target, ...)   -> AttestationsResult   (``provenant attestations``)
    verify_image(session, target, keys, ...)  -> VerifyResult         (``provenant verify``)
    attest_image(session, target, ...)        -> PushResult           (``provenant attest``)
    sign_image(session, target, key, ...)     -> PushResult           (``provenant sign``)
    generate_keypair(password)                -> KeyPair              (``provenant keygen``)
    load_public_key(path) / load_private_key(path, password)
    extract_provenance(predicate_type, predicate) -> ProvenanceSummary | None

Modules: :mod:`.models` (in-toto, DSSE, simple signing, SLSA, Sigstore bundle), :mod:`.keys`,
:mod:`.dsse`, :mod:`.simplesign`, :mod:`.discover` (the four discovery paths), :mod:`.evaluate` (trust
labels and subject checks), :mod:`.provenance`, :mod:`.result`, :mod:`.verify`, :mod:`.push`.
Heavy optional parts (sigstore-python) are imported only when used.
"""

from provenant.attest.keys import KeyPair, PrivateKey, PublicKey, generate_keypair, load_private_key, load_public_key
from provenant.attest.provenance import ProvenanceSummary, extract_provenance
from provenant.attest.push import PushResult, attest_image, sign_image
from provenant.attest.result import AttestationsResult, list_attestations
from provenant.attest.verify import VerifyResult, verify_image

__all__ = [
    "AttestationsResult",
    "KeyPair",
    "PrivateKey",
    "ProvenanceSummary",
    "PublicKey",
    "PushResult",
    "VerifyResult",
    "attest_image",
    "extract_provenance",
    "generate_keypair",
    "list_attestations",
    "load_private_key",
    "load_public_key",
    "sign_image",
    "verify_image",
]
