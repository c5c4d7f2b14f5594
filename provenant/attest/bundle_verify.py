"""Keyless Sigstore bundles that sigstore-python refuses, verified from the specs with ``cryptography``.

sigstore-python (4.x) verifies bundles whose Rekor entry has an inclusion proof with a checkpoint and is
``hashedrekord``/``dsse``. Three kinds that are common in the wild it refuses:

* **timestamp-only** bundles (GitHub artifact attestations from private repositories): no transparency-log
  entry, one or more RFC 3161 timestamps instead;
* **SET-only** entries (v0.1 bundles without an inclusion proof): the signed entry timestamp is the only proof;
* entries of kind **intoto 0.0.2** (npm provenance, sigstore-js).

:func:`verify_spec_bundle` checks those, step by step as the Sigstore client spec lists them:

1. verified times: each Rekor entry's SET (signature by the log key of the trusted root over the canonical
   ``{body, integratedTime, logID, logIndex}``), its inclusion proof (RFC 9162 2.1.3.2) and checkpoint
   (signed note) when present, and each RFC 3161 token (rfc3161-client, against the trusted root's
   ``timestampAuthorities``, message = the signature); at least one is required;
2. the certificate chains to a ``certificateAuthorities`` entry and is valid at every verified time, has
   the digitalSignature usage and the codeSigning EKU, and a valid SCT (:mod:`provenant.attest.sct`) when
   the root lists CT logs (GitHub's lists none: its certificates carry no SCT);
3. identity and issuer (sigstore-python's ``Identity`` policy, the one the sigstore path uses);
4. the signature over the DSSE PAE (or the artifact digest) with the certificate's key;
5. each Rekor entry's body names this signature, certificate and payload (no entry from another signing).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from provenant.attest.dsse import pae
from provenant.attest.keys import PublicKey
from provenant.attest.rekor_set import LAST_SECOND
from provenant.structured import DepthError, as_array, as_object, load_json

#: Bounds on what a bundle may carry (real bundles: 1 entry, 1-2 timestamps, ~30 proof hashes, tokens of a few KiB).
MAX_TLOG_ENTRIES = 8
MAX_TIMESTAMPS = 32
MAX_PROOF_HASHES = 64
MAX_TOKEN_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
MAX_CHAIN = 8

if TYPE_CHECKING:
    from provenant.attest.fulcio import TrustRoot


class SpecVerifyError(Exception):
    """One step failed; the message is the one-line reason."""


# -- trusted root -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Authority:
    certs: tuple[x509.Certificate, ...]  # leaf (or intermediate) first, root last
    start: datetime
    end: datetime | None

    def covers(self, when: datetime) -> bool:
        return self.start <= when and (self.end is None or when < self.end)


@dataclass(frozen=True)
class _Log:
    key: PublicKey
    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class SpecRoot:
    """The parts of a Sigstore ``trusted_root.json`` this module uses."""

    logs: dict[bytes, _Log]
    cas: tuple[_Authority, ...]
    tsas: tuple[_Authority, ...]
    #: The root lists certificate-transparency logs, so certificates must carry a valid SCT. GitHub's root lists
    #: none (its Fulcio logs to no CT log), and then none is required, as `gh attestation verify` does.
    has_ct_logs: bool = True


def _time(text: object, what: str) -> datetime:
    if not isinstance(text, str):
        raise SpecVerifyError(f"trusted root: {what} is not a time")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise SpecVerifyError(f"trusted root: {what} {text[:40]!r} is not an RFC 3339 time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _valid_for(obj: dict[str, Any], what: str) -> tuple[datetime, datetime | None]:
    vf = as_object(obj.get("validFor"))
    start = _time(vf.get("start"), f"{what} validFor.start") if "start" in vf else datetime.min.replace(tzinfo=UTC)
    end = _time(vf.get("end"), f"{what} validFor.end") if vf.get("end") else None
    return start, end


def _b64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise SpecVerifyError(f"{what} is missing")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SpecVerifyError(f"{what} is not base64") from None


def _authorities(items: object, what: str) -> tuple[_Authority, ...]:
    out = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        certs = as_array(as_object(as_object(item).get("certChain")).get("certificates"))
        try:
            chain = tuple(x509.load_der_x509_certificate(_b64(as_object(c).get("rawBytes"), what)) for c in certs)
        except ValueError:
            raise SpecVerifyError(f"trusted root: {what}[{i}] holds a certificate that is not DER") from None
        if chain:
            out.append(_Authority(chain, *_valid_for(item, f"{what}[{i}]")))
    return tuple(out)


def parse_trusted_root(data: bytes) -> SpecRoot:
    """A trusted root (or a client trust config holding one) as :class:`SpecRoot`."""
    try:
        doc = load_json(data, "trusted root")
    except DepthError:
        raise
    except ValueError:
        raise SpecVerifyError("trusted root is not JSON") from None
    if isinstance(doc, dict) and isinstance(doc.get("trustedRoot"), dict):
        doc = doc["trustedRoot"]
    if not isinstance(doc, dict):
        raise SpecVerifyError("trusted root is not a JSON object")
    logs: dict[bytes, _Log] = {}
    for i, tlog in enumerate(as_array(doc.get("tlogs"))):
        if not isinstance(tlog, dict):
            continue
        pk = as_object(tlog.get("publicKey"))
        raw = _b64(pk.get("rawBytes"), f"trusted root tlogs[{i}] key")
        try:
            key = PublicKey(serialization.load_der_public_key(raw), f"tlog {i}")  # type: ignore[arg-type]
        except ValueError:
            raise SpecVerifyError(f"trusted root tlogs[{i}] key is not a DER public key") from None
        key_id = _b64(as_object(tlog.get("logId")).get("keyId"), f"trusted root tlogs[{i}] logId")
        logs[key_id] = _Log(key, *_valid_for(pk, f"tlogs[{i}]"))
    return SpecRoot(
        logs,
        _authorities(doc.get("certificateAuthorities"), "certificateAuthorities"),
        _authorities(doc.get("timestampAuthorities"), "timestampAuthorities"),
        has_ct_logs=bool(doc.get("ctlogs")),
    )


@lru_cache(maxsize=8)
def _root_cached(path: str, mtime_ns: int, size: int) -> SpecRoot:
    from provenant.attest.fulcio import read_trust_root

    return parse_trusted_root(read_trust_root(Path(path)))


def load_spec_root(path: Path) -> SpecRoot:
    """:func:`parse_trusted_root` of ``path``, read once per file version."""
    st = path.stat()
    return _root_cached(str(path), st.st_mtime_ns, st.st_size)


# -- which path ------------------------------------------------------------------------------------

#: Rekor entry kinds sigstore-python verifies (with an inclusion proof and checkpoint).
_SIGSTORE_KINDS = {("hashedrekord", "0.0.1"), ("dsse", "0.0.1"), ("hashedrekord", "0.0.2"), ("dsse", "0.0.2")}


def spec_path_reason(doc: dict[str, Any]) -> str | None:
    """Why sigstore-python cannot verify this bundle (so this module does), or None when it can."""
    material = as_object(doc.get("verificationMaterial"))
    entries = material.get("tlogEntries") or []
    if not entries:
        return "timestamp-only bundle (no transparency-log entry)"
    if not (material.get("certificate") or material.get("x509CertificateChain") or material.get("publicKey")):
        return "certificate carried in the DSSE signature (signatures[].cert)"
    for e in entries if isinstance(entries, list) else []:
        kv = as_object(e.get("kindVersion")) if isinstance(e, dict) else {}
        kind, version = kv.get("kind"), kv.get("version")
        if not (isinstance(kind, str) and isinstance(version, str)) or (kind, version) not in _SIGSTORE_KINDS:
            return f"Rekor entry of kind {kv.get('kind')} {kv.get('version')}"
        proof = e.get("inclusionProof") if isinstance(e, dict) else None
        if not isinstance(proof, dict) or not proof.get("checkpoint"):
            return "Rekor entry without an inclusion proof and checkpoint (signed entry timestamp only)"
    return None


# -- Rekor entries ---------------------------------------------------------------------------------


def _int(value: object, what: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise SpecVerifyError(f"{what} is not an integer") from None


def _verify_set(entry: dict[str, Any], log: _Log) -> datetime:
    promise = as_object(entry.get("inclusionPromise"))
    set_sig = _b64(promise.get("signedEntryTimestamp"), "signedEntryTimestamp")
    integrated = _int(entry.get("integratedTime"), "integratedTime")
    if integrated > LAST_SECOND:
        raise SpecVerifyError(f"integratedTime {str(integrated)[:20]} is after the year 9999")
    payload = {
        "body": entry.get("canonicalizedBody"),
        "integratedTime": integrated,
        "logID": _b64(as_object(entry.get("logId")).get("keyId"), "logId").hex(),
        "logIndex": _int(entry.get("logIndex"), "logIndex"),
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    if not log.key.verify(set_sig, canonical):
        raise SpecVerifyError("the signed entry timestamp does not verify with the log's key (entry altered)")
    when = datetime.fromtimestamp(integrated, tz=UTC)
    if not (log.start <= when and (log.end is None or when < log.end)):
        raise SpecVerifyError(f"integrated time {when:%Y-%m-%dT%H:%M:%SZ} is outside the log key's validity")
    return when


def _leaf_hash(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """The root an RFC 9162 (2.1.3.2) inclusion proof of ``leaf`` at ``index`` leads to."""
    if not 0 <= index < size:
        raise SpecVerifyError(f"inclusion proof index {index} is not inside the tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise SpecVerifyError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while True:
                    fn, sn = fn >> 1, sn >> 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise SpecVerifyError("inclusion proof is shorter than the tree is deep")
    return r


def _verify_checkpoint(text: str, log_id: bytes, log: _Log, root: bytes, size: int) -> None:
    body, sep, sigs = text.partition("\n\n")
    if not sep:
        raise SpecVerifyError("checkpoint is not a signed note")
    lines = body.split("\n")
    if len(lines) < 3 or _int(lines[1], "checkpoint size") != size or _b64(lines[2], "checkpoint root") != root:
        raise SpecVerifyError("checkpoint names another tree than the inclusion proof")
    if not body.isascii():  # a note is ASCII text; a JSON string may hold anything, even lone surrogates
        raise SpecVerifyError("checkpoint is not ASCII text")
    message = (body + "\n").encode()
    for line in sigs.strip("\n").split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014":
            continue
        blob = _b64(parts[2], "checkpoint signature")
        if blob[:4] == log_id[:4] and log.key.verify(blob[4:], message):
            return
    raise SpecVerifyError("checkpoint is not signed by the log's key")


def _verify_proof(entry: dict[str, Any], body: bytes, log_id: bytes, log: _Log) -> None:
    proof = entry["inclusionProof"]
    hashes_ = proof.get("hashes") or []
    if not isinstance(hashes_, list) or len(hashes_) > MAX_PROOF_HASHES:
        raise SpecVerifyError(f"inclusion proof has more than {MAX_PROOF_HASHES} hashes")
    path = [_b64(h, "inclusion proof hash") for h in hashes_]
    size = _int(proof.get("treeSize"), "treeSize")
    root = merkle_root(_int(proof.get("logIndex"), "inclusion proof logIndex"), size, _leaf_hash(body), path)
    if root != _b64(proof.get("rootHash"), "rootHash"):
        raise SpecVerifyError("inclusion proof does not lead to its root hash (entry altered)")
    checkpoint = as_object(proof.get("checkpoint")).get("envelope")
    if checkpoint:
        if not isinstance(checkpoint, str) or len(checkpoint) > 16384:
            raise SpecVerifyError("checkpoint is not a short text")
        _verify_checkpoint(checkpoint, log_id, log, root, size)


@dataclass(frozen=True)
class _Signed:
    """What the bundle signs: one signature, by the certificate, over a DSSE payload or an artifact digest."""

    signature: bytes
    cert: x509.Certificate | None  # keyless bundles
    payload: bytes | None = None  # DSSE payload
    payload_type: str = ""
    digest: bytes | None = None  # message signature: the artifact's sha256
    key_der: bytes | None = None  # key-signed bundles: the signer's SubjectPublicKeyInfo
    claimed: bytes | None = None  # the messageDigest the bundle states

    @property
    def message(self) -> bytes:
        """The bytes a DSSE signature is over (its pre-authentication encoding)."""
        return pae(self.payload_type, self.payload or b"")


def _same_cert(pem_b64: object, signed: _Signed, what: str) -> None:
    """The entry's certificate (keyless) or public key (key-signed bundles) is the bundle's signer."""
    pem = _b64(pem_b64, what)
    try:
        if b"CERTIFICATE" in pem:
            named = x509.load_pem_x509_certificate(pem)
            named_key = named.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        else:
            named, named_key = (
                None,
                serialization.load_pem_public_key(pem).public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                ),
            )
    except ValueError:
        raise SpecVerifyError(f"{what} is not a PEM certificate or public key") from None
    if signed.cert is not None and named != signed.cert:
        raise SpecVerifyError("the Rekor entry names another certificate than the bundle")
    if signed.key_der is not None and named_key != signed.key_der:
        raise SpecVerifyError("the Rekor entry names another public key than the one that signed")


def _check_body(body: dict[str, Any], kind: str, version: str, signed: _Signed) -> None:
    """The entry must record this very signature, certificate and payload (CVE-2022-36056 and the like)."""
    spec = as_object(body.get("spec"))
    if body.get("kind") != kind or body.get("apiVersion") != version:
        raise SpecVerifyError(f"the Rekor entry body is {body.get('kind')} {body.get('apiVersion')}, not {kind}")
    payload_hash = hashlib.sha256(signed.payload).hexdigest() if signed.payload is not None else None
    if kind == "hashedrekord" and version == "0.0.1" and signed.digest is not None:
        sig = as_object(spec.get("signature"))
        if _b64(sig.get("content"), "entry signature") != signed.signature:
            raise SpecVerifyError("the Rekor entry records another signature")
        _same_cert(as_object(sig.get("publicKey")).get("content"), signed, "entry certificate")
        if str(as_object(as_object(spec.get("data")).get("hash")).get("value")) != signed.digest.hex():
            raise SpecVerifyError("the Rekor entry records another artifact digest")
    elif kind == "dsse" and version == "0.0.1" and payload_hash is not None:
        sigs = as_array(spec.get("signatures"))
        first = as_object(sigs[0] if sigs else None)
        if len(sigs) != 1 or _b64(first.get("signature"), "entry signature") != signed.signature:
            raise SpecVerifyError("the Rekor entry records another signature")
        _same_cert(first.get("verifier"), signed, "entry certificate")
        if str(as_object(spec.get("payloadHash")).get("value")) != payload_hash:
            raise SpecVerifyError("the Rekor entry records another DSSE payload")
    elif kind == "intoto" and version == "0.0.2" and payload_hash is not None:
        content = as_object(spec.get("content"))
        sigs = as_array(as_object(content.get("envelope")).get("signatures"))
        first = as_object(sigs[0] if sigs else None)
        # intoto 0.0.2 stores the signature base64-encoded twice
        if (
            len(sigs) != 1
            or _b64(_b64(first.get("sig"), "entry signature").decode("ascii", "replace"), "entry signature")
            != signed.signature
        ):
            raise SpecVerifyError("the Rekor entry records another signature")
        _same_cert(first.get("publicKey"), signed, "entry certificate")
        if str(as_object(content.get("payloadHash")).get("value")) != payload_hash:
            raise SpecVerifyError("the Rekor entry records another DSSE payload")
    else:
        raise SpecVerifyError(f"Rekor entries of kind {kind} {version} are not supported for this bundle")


def _check_counts(entries: list[Any], tokens: list[Any]) -> None:
    """Bounds first, before any entry or token is decoded."""
    if len(entries) > MAX_TLOG_ENTRIES:
        raise SpecVerifyError(f"{len(entries)} transparency-log entries (at most {MAX_TLOG_ENTRIES})")
    if len(tokens) > MAX_TIMESTAMPS:
        raise SpecVerifyError(f"{len(tokens)} RFC 3161 timestamps (at most {MAX_TIMESTAMPS})")
    for i, t in enumerate(tokens):
        text = t.get("signedTimestamp") if isinstance(t, dict) else None
        if isinstance(text, str) and len(text) > MAX_TOKEN_BYTES * 4 // 3 + 4:
            raise SpecVerifyError(f"RFC 3161 timestamp {i} is {len(text) * 3 // 4} bytes (at most {MAX_TOKEN_BYTES})")


def _entry_times(entries: list[Any], root: SpecRoot, signed: _Signed) -> list[datetime]:
    _check_counts(entries, [])
    times = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise SpecVerifyError("a transparency-log entry is not an object")
        log_id = _b64(as_object(entry.get("logId")).get("keyId"), "logId")
        log = root.logs.get(log_id)
        if log is None:
            raise SpecVerifyError(f"the entry's log {log_id.hex()[:16]}... is not in the trusted root")
        raw_body = _b64(entry.get("canonicalizedBody"), "canonicalizedBody")
        if len(raw_body) > MAX_BODY_BYTES:
            raise SpecVerifyError("the Rekor entry body is too large")
        try:
            body = json.loads(raw_body)
        except (ValueError, RecursionError):
            raise SpecVerifyError("the Rekor entry body is not JSON") from None
        kv = as_object(entry.get("kindVersion"))
        _check_body(body if isinstance(body, dict) else {}, str(kv.get("kind")), str(kv.get("version")), signed)
        if isinstance(entry.get("inclusionProof"), dict):
            _verify_proof(entry, raw_body, log_id, log)
        if entry.get("inclusionPromise"):
            times.append(_verify_set(entry, log))
        elif not isinstance(entry.get("inclusionProof"), dict):
            raise SpecVerifyError("the Rekor entry has neither an inclusion promise nor an inclusion proof")
    return times


# -- RFC 3161 ---------------------------------------------------------------------------------------


def _tsa_times(tokens: list[Any], root: SpecRoot, signature: bytes) -> tuple[list[datetime], list[str]]:
    """Times of the tokens that verify, and why the others do not.

    As sigstore-python and sigstore-go do, a token that does not verify is not fatal by itself (a bundle may
    carry timestamps from authorities this root does not trust); the bundle needs one verified time overall.
    """
    from rfc3161_client import VerificationError as TsaError
    from rfc3161_client import VerifierBuilder, decode_timestamp_response

    if len(tokens) > MAX_TIMESTAMPS:
        raise SpecVerifyError(f"{len(tokens)} RFC 3161 timestamps (at most {MAX_TIMESTAMPS})")
    raw = [_b64(t.get("signedTimestamp") if isinstance(t, dict) else None, "RFC 3161 timestamp") for t in tokens]
    if len(set(raw)) != len(raw):
        raise SpecVerifyError("the same RFC 3161 timestamp is given twice")
    times: list[datetime] = []
    failures: list[str] = []
    if raw and not root.tsas:
        return times, ["the bundle carries RFC 3161 timestamps but the trusted root has no timestampAuthorities"]
    for i, token in enumerate(raw):
        if len(token) > MAX_TOKEN_BYTES:
            raise SpecVerifyError(f"RFC 3161 timestamp {i} is {len(token)} bytes (at most {MAX_TOKEN_BYTES})")
        try:
            response = decode_timestamp_response(token)
        except ValueError as exc:
            failures.append(f"RFC 3161 timestamp {i} cannot be decoded ({' '.join(str(exc).split())[:100]})")
            continue
        reason = "does not verify with any timestamp authority of the trusted root"
        for tsa in root.tsas:
            if len(tsa.certs) < 2 or len(tsa.certs) > MAX_CHAIN:
                continue
            builder = VerifierBuilder().tsa_certificate(tsa.certs[0]).add_root_certificate(tsa.certs[-1])
            for mid in tsa.certs[1:-1]:
                builder = builder.add_intermediate_certificate(mid)
            try:
                builder.build().verify_message(response, signature)
            except TsaError as exc:
                if "Mismatch between messages" in str(exc):
                    reason = "is over another signature"
                continue
            except ValueError:
                continue
            gen = response.tst_info.gen_time
            gen = gen if gen.tzinfo else gen.replace(tzinfo=UTC)
            if tsa.covers(gen):
                times.append(gen)
                break
            reason = f"was made at {_ts(gen)}, outside its authority's validity"
        else:
            failures.append(f"RFC 3161 timestamp {i} {reason}")
    return times, failures


# -- certificate ------------------------------------------------------------------------------------


def _ts(when: datetime) -> str:
    return f"{when:%Y-%m-%dT%H:%M:%SZ}"


def _chain_at(cert: x509.Certificate, root: SpecRoot, when: datetime) -> list[x509.Certificate]:
    from cryptography.x509.verification import (
        Criticality,
        ExtensionPolicy,
        PolicyBuilder,
        Store,
        VerificationError,
    )

    ca_policy = ExtensionPolicy.webpki_defaults_ca().may_be_present(
        x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, None
    )
    ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, None
    )
    for ca in root.cas:
        if not ca.covers(when) or len(ca.certs) > MAX_CHAIN:
            continue
        verifier = (
            PolicyBuilder()
            .store(Store([ca.certs[-1]]))
            .time(when)
            .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
            .build_client_verifier()
        )
        try:
            return list(verifier.verify(cert, list(ca.certs[:-1])).chain[1:])
        except (VerificationError, x509.UnsupportedGeneralNameType, ValueError):
            continue
    raise SpecVerifyError(
        f"the certificate does not chain to a certificate authority of the trusted root valid at "
        f"{when:%Y-%m-%dT%H:%M:%SZ} (another Sigstore instance, or expired at the signing time)"
    )


def _check_certificate(
    cert: x509.Certificate, root: SpecRoot, times: Iterable[datetime], trust_root: TrustRoot
) -> None:
    chain: list[x509.Certificate] = []
    for when in times:
        if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
            raise SpecVerifyError(
                f"the certificate was not valid at the signing time {_ts(when)} "
                f"(valid {_ts(cert.not_valid_before_utc)} to {_ts(cert.not_valid_after_utc)})"
            )
        chain = _chain_at(cert, root, when)
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise SpecVerifyError(f"the certificate lacks {exc.oid._name}") from None
    if not usage.digital_signature or ExtendedKeyUsageOID.CODE_SIGNING not in eku:
        raise SpecVerifyError("the certificate is not for code signing (key usage / extended key usage)")
    if not root.has_ct_logs:
        return
    from provenant.attest.sct import issuer_of, verify_embedded_sct

    why = verify_embedded_sct(cert, issuer_of([cert, *chain]), trust_root)
    if why is not None:
        raise SpecVerifyError(why)


def _verify_signature(signed: _Signed) -> None:
    assert signed.cert is not None
    key = PublicKey.from_pem(signed.cert.public_bytes(serialization.Encoding.PEM), "bundle certificate")
    if signed.payload is not None:
        raise_if = not key.verify(signed.signature, signed.message)
    else:
        assert signed.digest is not None
        raise_if = not key.verify_digest(signed.signature, signed.digest, "sha256")
    if raise_if:
        raise SpecVerifyError("the signature does not verify with the certificate's key (payload or signature altered)")


# -- entry point -------------------------------------------------------------------------------------


def _signed_from(doc: dict[str, Any], artifact_digest: bytes | None) -> _Signed:
    material = as_object(doc.get("verificationMaterial"))
    raw_cert = as_object(material.get("certificate")).get("rawBytes")
    if raw_cert is None:
        chain = as_object(material.get("x509CertificateChain")).get("certificates")
        first = chain[0] if isinstance(chain, list) and chain else None
        raw_cert = first.get("rawBytes") if isinstance(first, dict) else None
    envelope = doc.get("dsseEnvelope")
    if raw_cert is None and isinstance(envelope, dict):  # DSSE signatures[].cert (PEM)
        sigs = envelope.get("signatures")
        first = sigs[0] if isinstance(sigs, list) and sigs else None
        cert_pem = first.get("cert") if isinstance(first, dict) else None
        if isinstance(cert_pem, str):
            try:
                cert = x509.load_pem_x509_certificate(cert_pem.encode())
            except ValueError:
                raise SpecVerifyError("DSSE signature cert is not a PEM certificate") from None
            raw_cert = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    if raw_cert is None:
        raise SpecVerifyError("the bundle carries no signing certificate")
    try:
        cert = x509.load_der_x509_certificate(_b64(raw_cert, "bundle certificate"))
    except ValueError:
        raise SpecVerifyError("the bundle certificate is not DER") from None
    if isinstance(envelope, dict):
        sigs = envelope.get("signatures") or []
        if not isinstance(sigs, list) or len(sigs) != 1 or not isinstance(sigs[0], dict):
            raise SpecVerifyError(f"a keyless DSSE envelope must hold exactly one signature (got {len(sigs)})")
        payload = _b64(envelope.get("payload"), "DSSE payload")
        return _Signed(
            _b64(sigs[0].get("sig"), "DSSE signature"),
            cert,
            payload=payload,
            payload_type=str(envelope.get("payloadType")),
        )
    ms = as_object(doc.get("messageSignature"))
    claimed = as_object(ms.get("messageDigest")).get("digest")
    digest = _b64(claimed, "message digest") if ms.get("messageDigest") else None
    if artifact_digest is None:
        raise SpecVerifyError("message signature without the artifact digest")
    # a messageDigest naming another artifact fails in the end (the signature is checked over this one)
    return _Signed(_b64(ms.get("signature"), "message signature"), cert, digest=artifact_digest, claimed=digest)


def _entries_and_tokens(doc: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """The bundle's transparency-log entries and RFC 3161 timestamps, within their counts."""
    material = as_object(doc.get("verificationMaterial"))
    entries = material.get("tlogEntries") or []
    tokens = as_object(material.get("timestampVerificationData")).get("rfc3161Timestamps") or []
    if not isinstance(entries, list) or not isinstance(tokens, list):
        raise SpecVerifyError("tlogEntries and rfc3161Timestamps must be lists")
    _check_counts(entries, tokens)
    return entries, tokens


def verify_spec_bundle(
    doc: dict[str, Any],
    root_path: Path,
    trust_root: TrustRoot,
    identity_policy: Any,
    *,
    artifact_digest: bytes | None = None,
) -> None:
    """Verify ``doc`` (a parsed bundle) from the specs; raises :class:`SpecVerifyError` with the reason.

    ``trust_root`` is the same file as :mod:`provenant.attest.fulcio` reads it (for the SCT check) and
    ``identity_policy`` a sigstore ``VerificationPolicy`` (identity and issuer).
    """
    root = load_spec_root(root_path)
    entries, tokens = _entries_and_tokens(doc)
    signed = _signed_from(doc, artifact_digest)
    tsa_times, tsa_failures = _tsa_times(tokens, root, signed.signature)
    times = _entry_times(entries, root, signed) + tsa_times
    if not times:
        why = "; ".join(tsa_failures) or "the bundle has no signed entry timestamp and no RFC 3161 timestamp"
        raise SpecVerifyError(f"no verified signing time: {why}")
    if signed.claimed is not None and signed.claimed != signed.digest:
        raise SpecVerifyError("the bundle signs another artifact digest")
    assert signed.cert is not None
    _check_certificate(signed.cert, root, times, trust_root)
    from sigstore.errors import VerificationError

    try:
        identity_policy.verify(signed.cert)
    except VerificationError as exc:
        raise SpecVerifyError(" ".join(str(exc).split())) from None
    _verify_signature(signed)


def verify_key_bundle_times(doc: dict[str, Any], root_path: Path, key: PublicKey) -> list[datetime]:
    """A key-signed bundle's transparency-log entries and RFC 3161 timestamps, checked against the trusted root.

    The signature itself is checked with the key by the caller; here each entry must be signed by a log of
    the root and record this signature and key, and each timestamp must be over this signature. Returns the
    verified times (empty when the bundle carries neither); raises :class:`SpecVerifyError`.
    """
    root = load_spec_root(root_path)
    der = key.der
    envelope = doc.get("dsseEnvelope")
    if isinstance(envelope, dict):
        sigs = as_array(envelope.get("signatures"))
        if not sigs or not isinstance(sigs[0], dict):
            raise SpecVerifyError("the DSSE envelope has no signature")
        signed = _Signed(
            _b64(sigs[0].get("sig"), "DSSE signature"),
            None,
            payload=_b64(envelope.get("payload"), "DSSE payload"),
            payload_type=str(envelope.get("payloadType")),
            key_der=der,
        )
    else:
        ms = as_object(doc.get("messageSignature"))
        md = as_object(ms.get("messageDigest"))
        signed = _Signed(
            _b64(ms.get("signature"), "message signature"),
            None,
            digest=_b64(md.get("digest"), "message digest") if md else None,
            key_der=der,
        )
    entries, tokens = _entries_and_tokens(doc)
    tsa_times, failures = _tsa_times(tokens, root, signed.signature)
    if failures and not tsa_times and not entries:
        raise SpecVerifyError("; ".join(failures))
    return _entry_times(entries, root, signed) + tsa_times
