"""Refusals of the keyless checks, one per way real evidence can be bent (review of slice A).

Real Rekor entries of tests/data/cosign: hashedrekord (wolfi-base .sig), intoto 0.0.1 (slsa v1.2.0 .att),
dsse 0.0.1 (slsa v2.1.0 .att). Where a branch needs a log or CA key nobody published (RSA / Ed25519 logs,
a leaf without code signing), the key is made here and only that branch is exercised with it.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenant.attest.cosign_keyless import verify_tag_keyless
from provenant.attest.fulcio import (
    CertificateAuthority,
    TransparencyLog,
    TrustRoot,
    Validity,
    load_pem_chain,
    load_trust_root,
    parse_trust_root,
    verify_chain,
)
from provenant.attest.identity import Expect, IdentityMatcher
from provenant.attest.keyless import KeylessPolicy, certificate_info
from provenant.attest.rekor_set import LogEntry, SetError, check_body, parse_bundle_annotation, verify_set
from provenant.errors import UsageError
from tests.cosigndata import DATA, GITHUB_ISSUER, PROD_ROOT, STAGING_ROOT, V120, V210, atts_manifest, blob

BUNDLE = "dev.sigstore.cosign/bundle"
CERT = "dev.sigstore.cosign/certificate"


def _att(name: str) -> tuple[dict[str, str], bytes, bytes, bytes]:
    """A real .att layer: annotations, certificate DER, DSSE payload, envelope bytes."""
    layer = atts_manifest(DATA / name)["layers"][0]
    envelope = blob(DATA / name, layer["digest"])
    payload = base64.b64decode(json.loads(envelope)["payload"])
    cert = x509.load_pem_x509_certificate(layer["annotations"][CERT].encode())
    return layer["annotations"], cert.public_bytes(serialization.Encoding.DER), payload, envelope


def _wolfi() -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """The real hashedrekord entry: bundle, certificate DER, signature, payload."""
    out = json.loads((DATA / "wolfi-base.cosign-verify.json").read_text())[0]
    bundle = out["optional"]["Bundle"]
    body = json.loads(base64.b64decode(bundle["Payload"]["body"]))
    sig = body["spec"]["signature"]
    cert = x509.load_pem_x509_certificate(base64.b64decode(sig["publicKey"]["content"]))
    payload = (DATA / "wolfi-base.sig.payload.json").read_bytes()
    return bundle, cert.public_bytes(serialization.Encoding.DER), base64.b64decode(sig["content"]), payload


def _body(ann: dict[str, str]) -> dict[str, Any]:
    return parse_bundle_annotation(ann[BUNDLE]).decoded_body()


# -- a Rekor body about something else ---------------------------------------------------------------------


def test_hashedrekord_body_about_another_payload_or_signature_is_refused() -> None:
    bundle, cert, sig, payload = _wolfi()
    body = json.loads(base64.b64decode(bundle["Payload"]["body"]))
    assert check_body(body, cert_der=cert, signature=sig, payload=payload) == "hashedrekord:0.0.1"
    with pytest.raises(SetError, match=r"^the Rekor entry is about another payload \(data.hash differs\)$"):
        check_body(body, cert_der=cert, signature=sig, payload=payload + b"\n")
    with pytest.raises(SetError, match=r"^the Rekor entry records another signature$"):
        check_body(body, cert_der=cert, signature=sig[:-1] + bytes([sig[-1] ^ 1]), payload=payload)
    with pytest.raises(SetError, match=r"^the Rekor entry records another signature$"):
        check_body(body, cert_der=cert, signature=None, payload=payload)
    other = _att(V120)[1]
    with pytest.raises(SetError, match=r"^the Rekor entry names another certificate than the signature's$"):
        check_body(body, cert_der=other, signature=sig, payload=payload)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda b: b["spec"].pop("signature"), "the signature's certificate is missing from the Rekor entry"),
        (lambda b: b["spec"].__setitem__("signature", [1]), "hashedrekord signature is not an object"),
        (lambda b: b["spec"]["signature"].__setitem__("content", "%%"), "the Rekor entry's signature is not base64"),
        (
            lambda b: b["spec"]["signature"].__setitem__("content", "QU\u00e9J"),
            "the Rekor entry's signature is not base64",
        ),
        (
            lambda b: b["spec"]["signature"]["publicKey"].__setitem__("content", "QUJD"),
            "the signature's certificate in the Rekor entry is not a PEM certificate",
        ),
        (
            lambda b: b["spec"]["data"]["hash"].__setitem__("algorithm", "sha512"),
            "data.hash in the Rekor entry is not a sha256 hash",
        ),
        (lambda b: b["spec"]["data"].pop("hash"), "data.hash in the Rekor entry is not a sha256 hash"),
        (lambda b: b.__setitem__("spec", "x"), "the Rekor entry has no spec"),
        (lambda b: b.__setitem__("apiVersion", "0.0.2"), "Rekor entries of kind hashedrekord:0.0.2 are not checked"),
    ],
)
def test_malformed_hashedrekord_bodies_are_refused(change: Any, reason: str) -> None:
    bundle, cert, sig, payload = _wolfi()
    body = json.loads(base64.b64decode(bundle["Payload"]["body"]))
    change(body)
    with pytest.raises(SetError) as err:
        check_body(body, cert_der=cert, signature=sig, payload=payload)
    assert str(err.value).startswith(reason)


def test_hashedrekord_hash_case_is_ignored() -> None:
    bundle, cert, sig, payload = _wolfi()
    body = json.loads(base64.b64decode(bundle["Payload"]["body"]))
    body["spec"]["data"]["hash"]["value"] = body["spec"]["data"]["hash"]["value"].upper()
    assert check_body(body, cert_der=cert, signature=sig, payload=payload) == "hashedrekord:0.0.1"


def test_intoto_001_body_about_another_payload_or_envelope_is_refused() -> None:
    ann, cert, payload, envelope = _att(V120)
    body = _body(ann)
    assert check_body(body, cert_der=cert, signature=None, payload=payload, envelope=envelope) == "intoto:0.0.1"
    with pytest.raises(SetError, match=r"another attestation payload \(payloadHash differs\)"):
        check_body(body, cert_der=cert, signature=None, payload=payload + b" ", envelope=envelope)
    with pytest.raises(SetError, match=r"^the Rekor entry is about another envelope \(hash differs\)$"):
        check_body(body, cert_der=cert, signature=None, payload=payload, envelope=envelope + b" ")
    # without the envelope bytes the payload hash still binds the entry
    assert check_body(body, cert_der=cert, signature=None, payload=payload) == "intoto:0.0.1"
    body["spec"]["content"].pop("hash")
    assert check_body(body, cert_der=cert, signature=None, payload=payload, envelope=envelope + b" ") == "intoto:0.0.1"
    other = _att(V210)[1]
    with pytest.raises(SetError, match=r"^the Rekor entry names another certificate than the attestation's$"):
        check_body(body, cert_der=other, signature=None, payload=payload, envelope=envelope)
    body["spec"]["content"] = ["x"]
    with pytest.raises(SetError, match=r"^intoto content is not an object$"):
        check_body(body, cert_der=cert, signature=None, payload=payload)


def test_intoto_002_key_forms() -> None:
    ann, cert, payload, _ = _att(V120)
    pem = ann[CERT].encode()
    good = base64.b64encode(base64.b64encode(pem)).decode()
    sigs: list[Any] = ["x", {"publicKey": 5}, {"publicKey": "%%"}, {"publicKey": base64.b64encode(b"\xff").decode()}]
    body: dict[str, Any] = {
        "kind": "intoto",
        "apiVersion": "0.0.2",
        "spec": {
            "content": {
                "envelope": {"signatures": [*sigs, {"publicKey": good}]},
                "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            }
        },
    }
    with pytest.raises(SetError, match=r"is missing from the Rekor entry"):  # the undecodable keys are None
        check_body(body, cert_der=cert, signature=None, payload=payload)
    body["spec"]["content"]["envelope"]["signatures"] = ["x", {"publicKey": good}]
    assert check_body(body, cert_der=cert, signature=None, payload=payload) == "intoto:0.0.2"


def test_dsse_body_about_another_payload_or_certificate_is_refused() -> None:
    ann, cert, payload, envelope = _att(V210)
    body = _body(ann)
    assert check_body(body, cert_der=cert, signature=None, payload=payload, envelope=envelope) == "dsse:0.0.1"
    with pytest.raises(
        SetError, match=r"^the Rekor entry is about another attestation payload \(payloadHash differs\)$"
    ):
        check_body(body, cert_der=cert, signature=None, payload=payload + b" ")
    other = _att(V120)[1]
    with pytest.raises(SetError, match=r"^the Rekor entry names another certificate than the attestation's$"):
        check_body(body, cert_der=other, signature=None, payload=payload)
    body["spec"]["signatures"] = ["x", *body["spec"]["signatures"]]
    assert check_body(body, cert_der=cert, signature=None, payload=payload) == "dsse:0.0.1"


# -- the SET: another log, the log out of use, malformed annotations -------------------------------------------


def _entry(name: str) -> LogEntry:
    return parse_bundle_annotation(atts_manifest(DATA / name)["layers"][0]["annotations"][BUNDLE])


def test_a_set_claimed_by_another_log_of_the_root_is_refused() -> None:
    root = load_trust_root(PROD_ROOT)
    entry = _entry(V120)
    verify_set(entry, root)
    other = next(t for t in root.logs if t.log_id != entry.log_id)
    moved = dataclasses.replace(entry, log_id=other.log_id)
    with pytest.raises(SetError) as err:
        verify_set(moved, root)
    # the 2025 log was not in use in 2022; with its window opened, the SET fails on its key
    assert str(err.value) == (
        "the log https://log2025-1.rekor.sigstore.dev was not in use at the entry's integrated time "
        "2022-08-05T03:47:44Z"
    )
    opened = dataclasses.replace(
        root, logs=tuple(dataclasses.replace(t, valid=Validity(None, None)) for t in root.logs)
    )
    with pytest.raises(SetError, match=r"^the signed entry timestamp does not verify with the key of https://log2025"):
        verify_set(moved, opened)


def test_a_log_out_of_use_at_the_integrated_time_is_refused() -> None:
    root = load_trust_root(PROD_ROOT)
    entry = _entry(V120)
    log = root.log(entry.log_id)
    assert log is not None and log.base_url == "https://rekor.sigstore.dev"
    for window in (
        Validity(entry.time + dt.timedelta(seconds=1), None),
        Validity(None, entry.time - dt.timedelta(seconds=1)),
    ):
        ended = dataclasses.replace(root, logs=(dataclasses.replace(log, valid=window),))
        with pytest.raises(
            SetError, match=r"^the log https://rekor.sigstore.dev was not in use at the entry's integrated"
        ):
            verify_set(entry, ended)
    exact = dataclasses.replace(root, logs=(dataclasses.replace(log, valid=Validity(entry.time, entry.time)),))
    verify_set(entry, exact)
    assert root.log(entry.log_id.upper()) is log


def _own_log(key: Any) -> TrustRoot:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    log = TransparencyLog(
        "https://log.example", hashlib.sha256(der).hexdigest(), key.public_key(), Validity(None, None)
    )
    return TrustRoot("own.json", (), (log,))


@pytest.mark.parametrize("kind", ["ed25519", "rsa", "ecdsa"])
def test_sets_of_each_log_key_type(kind: str) -> None:
    makers: dict[str, Callable[[], Any]] = {
        "ed25519": ed25519.Ed25519PrivateKey.generate,
        "rsa": lambda: rsa.generate_private_key(65537, 2048),
        "ecdsa": lambda: ec.generate_private_key(ec.SECP256R1()),
    }
    key = makers[kind]()
    root = _own_log(key)
    entry = LogEntry("Ym9keQ==", 1_700_000_000, 5, root.logs[0].log_id, b"")
    msg = entry.canonical()
    sig = {
        "ed25519": lambda: key.sign(msg),
        "rsa": lambda: key.sign(msg, PKCS1v15(), hashes.SHA256()),
        "ecdsa": lambda: key.sign(msg, ec.ECDSA(hashes.SHA256())),
    }[kind]()
    verify_set(dataclasses.replace(entry, signed_entry_timestamp=sig), root)
    with pytest.raises(SetError, match=r"does not verify with the key of https://log.example"):
        verify_set(dataclasses.replace(entry, signed_entry_timestamp=sig, log_index=6), root)


def test_a_log_key_of_another_type_is_refused() -> None:
    key = x25519.X25519PrivateKey.generate()  # a key-agreement key: no log signs with it
    root = _own_log(key)
    entry = LogEntry("Ym9keQ==", 1_700_000_000, 5, root.logs[0].log_id, b"x")
    with pytest.raises(SetError, match=r"^the log key of https://log.example has an unsupported type$"):
        verify_set(entry, root)


def test_the_canonical_form_the_set_signs() -> None:
    entry = LogEntry("Ym9keQ==", 17, 5, "ab", b"")
    assert entry.canonical() == b'{"body":"Ym9keQ==","integratedTime":17,"logID":"ab","logIndex":5}'
    assert (
        LogEntry("é", 1, 2, "c", b"").canonical() == '{"body":"é","integratedTime":1,"logID":"c","logIndex":2}'.encode()
    )
    assert entry.time == dt.datetime(1970, 1, 1, 0, 0, 17, tzinfo=dt.UTC)


def _ann(rest: str) -> str:
    return '{"SignedEntryTimestamp": "QQ==", "Payload": {"body": "", "logID": "ab", ' + rest + "}}"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{", "the bundle annotation is not JSON"),
        ("[]", "the bundle annotation has no Payload object"),
        ('{"Payload": 1}', "the bundle annotation has no Payload object"),
        ('{"Payload": {}}', "the bundle annotation lacks body, logID or SignedEntryTimestamp strings"),
        (
            '{"SignedEntryTimestamp": "QQ==", "Payload": {"body": "", "logID": 1}}',
            "the bundle annotation lacks body, logID or SignedEntryTimestamp strings",
        ),
        (
            '{"SignedEntryTimestamp": 1, "Payload": {"body": "", "logID": ""}}',
            "the bundle annotation lacks body, logID or SignedEntryTimestamp strings",
        ),
        ('{"SignedEntryTimestamp": "%", "Payload": {"body": "", "logID": ""}}', "SignedEntryTimestamp is not base64"),
        (
            '{"SignedEntryTimestamp": "\u00e9", "Payload": {"body": "", "logID": ""}}',
            "SignedEntryTimestamp is not base64",
        ),
        # valid JSON that no log signed: a lone surrogate (not even UTF-8) and a letter outside ASCII
        (
            '{"SignedEntryTimestamp": "QQ==", "Payload": {"body": "Ym9\\udcffkQ==", "logID": "ab"}}',
            "the bundle annotation's body or logID holds characters other than ASCII",
        ),
        (
            '{"SignedEntryTimestamp": "QQ==", "Payload": {"body": "Ym9keQ==", "logID": "\u00e9"}}',
            "the bundle annotation's body or logID holds characters other than ASCII",
        ),
        (
            _ann('"integratedTime": -1, "logIndex": 0'),
            "integratedTime is not a non-negative integer",
        ),
        (
            _ann('"integratedTime": true, "logIndex": 0'),
            "integratedTime is not a non-negative integer",
        ),
        (  # datetime.fromtimestamp would raise OverflowError
            _ann('"integratedTime": 253402300800, "logIndex": 0'),
            "integratedTime 253402300800 is after the year 9999",
        ),
        (_ann('"integratedTime": 1' + "0" * 40 + ', "logIndex": 0'), "integratedTime 10000000000000000000 is after"),
        (
            _ann('"integratedTime": 1, "logIndex": "0"'),
            "logIndex is not a non-negative integer",
        ),
    ],
)
def test_malformed_bundle_annotations_are_one_reason(text: str, reason: str) -> None:
    with pytest.raises(SetError) as err:
        parse_bundle_annotation(text)
    assert str(err.value).startswith(reason)


def test_a_well_formed_bundle_annotation_is_read() -> None:
    e = parse_bundle_annotation(
        _ann('"integratedTime": 0, "logIndex": 3').replace('"body": ""', '"body": "Ym9keQ=="').replace('"": ""', "")
    )
    assert e == LogEntry("Ym9keQ==", 0, 3, "ab", b"A")
    last = parse_bundle_annotation(_ann('"integratedTime": 253402300799, "logIndex": 0'))  # 9999-12-31T23:59:59Z
    assert last.time == dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("body", "reason"),
    [("%%%%", "the Rekor entry body is not base64 JSON"), ("WzFd", "the Rekor entry body is not a JSON object")],
)
def test_a_bad_entry_body_is_one_reason(body: str, reason: str) -> None:
    with pytest.raises(SetError, match=f"^{reason}"):
        LogEntry(body, 0, 0, "", b"").decoded_body()


# -- the certificate chain --------------------------------------------------------------------------------------

_NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _own_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("own-ca"))
        .issuer_name(_name("own-ca"))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(_NOW - dt.timedelta(days=1))
        .not_valid_after(_NOW + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _own_leaf(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, eku: list[x509.ObjectIdentifier] | None
) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(9)
        .not_valid_before(_NOW - dt.timedelta(minutes=1))
        .not_valid_after(_NOW + dt.timedelta(minutes=10))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier("https://x.example/")]), critical=True
        )
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return b.sign(ca_key, hashes.SHA256())


def test_a_leaf_without_code_signing_is_refused() -> None:
    ca_key, ca = _own_ca()
    root = TrustRoot("own.json", (CertificateAuthority("own", (ca,), Validity(None, None)),), ())
    none = verify_chain(_own_leaf(ca_key, ca, None), [], root, _NOW)
    assert none == "the certificate has no extended key usage (code signing required)"
    client = verify_chain(_own_leaf(ca_key, ca, [ExtendedKeyUsageOID.CLIENT_AUTH]), [], root, _NOW)
    assert client == "the certificate is not a code-signing certificate"
    signing = _own_leaf(ca_key, ca, [ExtendedKeyUsageOID.CODE_SIGNING])
    assert verify_chain(signing, [], root, _NOW) is None  # a root without CT logs asks for no SCT
    with_ct = dataclasses.replace(root, ct_logs=load_trust_root(PROD_ROOT).ct_logs)
    why = verify_chain(signing, [], with_ct, _NOW)
    assert why == "the certificate has no embedded SCT: it was never logged in certificate transparency"


def test_a_chain_that_does_not_lead_to_the_root_is_refused() -> None:
    """A leaf of another CA, with that CA given as the chain annotation's intermediate."""
    ca_key, ca = _own_ca()
    leaf = _own_leaf(ca_key, ca, [ExtendedKeyUsageOID.CODE_SIGNING])
    why = verify_chain(leaf, [ca], load_trust_root(PROD_ROOT), _NOW)
    assert why is not None and why.startswith("the certificate does not chain to a Fulcio CA of the trusted root")


def test_no_ca_valid_at_the_integrated_time_is_refused() -> None:
    ann, _, _, _ = _att(V120)
    leaf = x509.load_pem_x509_certificate(ann[CERT].encode())
    when = _entry(V120).time
    root = load_trust_root(PROD_ROOT)
    cas = tuple(
        dataclasses.replace(ca, valid=Validity(when + dt.timedelta(seconds=1), None)) for ca in root.authorities
    )
    why = verify_chain(leaf, [], dataclasses.replace(root, authorities=cas), when)
    assert why == f"the trusted root {PROD_ROOT} has no certificate authority valid at 2022-08-05T03:47:44Z"
    # valid exactly at that second still counts
    at = tuple(dataclasses.replace(ca, valid=Validity(when, when)) for ca in root.authorities)
    assert verify_chain(leaf, [], dataclasses.replace(root, authorities=at), when) is None
    # a naive time is taken as UTC
    assert verify_chain(leaf, [], root, when.replace(tzinfo=None)) is None


def test_the_certificate_validity_bounds_are_inclusive() -> None:
    ann, _, _, _ = _att(V120)
    leaf = x509.load_pem_x509_certificate(ann[CERT].encode())
    root = load_trust_root(PROD_ROOT)
    assert verify_chain(leaf, [], root, leaf.not_valid_before_utc) is None
    assert verify_chain(leaf, [], root, leaf.not_valid_after_utc) is None
    early = verify_chain(leaf, [], root, leaf.not_valid_before_utc - dt.timedelta(seconds=1))
    assert early is not None and early.startswith(
        "the certificate was not valid at the log's integrated time 2022-08-05T03:47:"
    )
    assert "(valid 2022-08-05T03:47:" in early


# -- the trusted root file and the chain annotation ------------------------------------------------------------


def test_the_production_root_is_read() -> None:
    root = load_trust_root(PROD_ROOT)
    assert [ca.uri for ca in root.authorities] == ["https://fulcio.sigstore.dev", "https://fulcio.sigstore.dev"]
    assert root.authorities[0].valid.end == dt.datetime(2022, 12, 31, 23, 59, 59, 999000, tzinfo=dt.UTC)
    assert root.logs[0].log_id == "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"
    assert root.logs[0].valid.start == dt.datetime(2021, 1, 12, 11, 53, 27, tzinfo=dt.UTC)
    assert len(root.authorities[1].certificates) == 2


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ("[]", "not a JSON object"),
        ('{"certificateAuthorities": [1]}', "a certificateAuthorities entry is not an object"),
        ('{"certificateAuthorities": [{}]}', "a certificate authority has no certChain.certificates"),
        (
            '{"certificateAuthorities": [{"certChain": {"certificates": {}}}]}',
            "a certificate authority has no certChain.certificates",
        ),
        (
            '{"certificateAuthorities": [{"certChain": {"certificates": [{"rawBytes": 5}]}}]}',
            "rawBytes is not a base64 string",
        ),
        ('{"tlogs": [{"publicKey": 1}]}', "a tlogs or ctlogs entry has no publicKey"),
        ('{"ctlogs": [5]}', "a tlogs or ctlogs entry has no publicKey"),
        ('{"tlogs": [{"publicKey": {}}]}', "publicKey.rawBytes is not a base64 string"),
        ('{"tlogs": [{"publicKey": {"rawBytes": "%%"}}]}', "Only base64 data is allowed"),
        ('{"tlogs": [{"publicKey": {"rawBytes": "QUJD*"}}]}', "Only base64 data is allowed"),
        ('{"tlogs": [{"publicKey": {"rawBytes": "QUJD", "validFor": 1}}]}', "Could not deserialize key data"),
        (
            '{"certificateAuthorities": [{"validFor": [], "certChain": {"certificates": []}}]}',
            "a certificate authority has no certChain.certificates",
        ),
    ],
)
def test_a_bad_trusted_root_is_one_usage_line(doc: str, reason: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_trust_root(doc.encode(), "x.json")
    assert str(err.value).startswith(f"cannot load trusted root x.json: {reason}")
    assert reason.startswith(("Only", "Could")) or str(err.value) == f"cannot load trusted root x.json: {reason}"
    assert err.value.hint == "pass a Sigstore trusted_root.json (the TrustedRoot document of the Sigstore instance)"
    assert "\n" not in str(err.value)


def test_missing_names_are_question_marks() -> None:
    doc = json.loads(PROD_ROOT.read_text())
    doc["certificateAuthorities"][0].pop("uri")
    doc["tlogs"][0].pop("baseUrl")
    root = parse_trust_root(json.dumps(doc).encode(), "x.json")
    assert root.authorities[0].uri == "?" and root.logs[0].base_url == "?"


def test_the_trusted_root_is_read_within_the_limits(tmp_path: Any) -> None:
    from provenant.limits import Limits

    path = tmp_path / "root.json"
    path.write_bytes(PROD_ROOT.read_bytes())
    with pytest.raises(UsageError) as err:
        load_trust_root(path, Limits(json_depth=3))
    assert f"trusted root {path}" in str(err.value) and "json-depth" in str(err.value)
    with pytest.raises(UsageError) as err:
        parse_trust_root(PROD_ROOT.read_bytes(), "x.json", Limits(json_depth=3))
    assert str(err.value) == (
        "cannot load trusted root x.json: trusted root x.json: over the json-depth limit of 3 (nested more than 3 deep)"
    )


def test_bad_validity_windows_are_refused() -> None:
    root = json.loads(PROD_ROOT.read_text())
    log = root["tlogs"][0]
    for window, reason in (
        ({"start": 5}, "validFor.start is not an RFC 3339 time"),
        ({"end": 5}, "validFor.end is not an RFC 3339 time"),
        ([1], "validFor is not an object"),
    ):
        log["publicKey"]["validFor"] = window
        with pytest.raises(UsageError, match=reason):
            parse_trust_root(json.dumps(root).encode(), "x.json")


def test_a_trusted_root_over_the_size_limit_is_refused(tmp_path: Any) -> None:
    from provenant.limits import LimitExceededError, Limits

    path = tmp_path / "root.json"
    path.write_bytes(PROD_ROOT.read_bytes())
    size = len(PROD_ROOT.read_bytes())
    assert load_trust_root(path, Limits(policy_bytes=size)).logs
    with pytest.raises(LimitExceededError) as err:
        load_trust_root(path, Limits(policy_bytes=size - 1))
    assert str(err.value).startswith(f"trusted root {path}: over the policy-bytes limit of ")
    assert Limits(policy_bytes=size - 1).describe("policy_bytes") in str(err.value)
    with pytest.raises(UsageError) as gone:
        load_trust_root(tmp_path / "missing.json")
    assert str(gone.value) == f"cannot read trusted root {tmp_path / 'missing.json'}: No such file or directory"


def test_the_chain_annotation_bound() -> None:
    ann, _, _, _ = _att(V120)
    pem = ann[CERT]
    assert len(load_pem_chain(pem * 10, "chain")) == 10
    with pytest.raises(ValueError, match=r"^chain holds more than 10 certificates$"):
        load_pem_chain(pem * 11, "chain")


# -- the whole check, reason by reason --------------------------------------------------------------------------


def _policy(identity: str = "^https://github.com/slsa-framework/") -> KeylessPolicy:
    from provenant.attest.identity import compile_bounded

    matcher = IdentityMatcher(Expect("x", compile_bounded(identity, "-")), Expect(GITHUB_ISSUER))
    return KeylessPolicy(PROD_ROOT, "x", GITHUB_ISSUER, matcher)


def test_a_certificate_annotation_is_read_as_text_and_must_be_ascii() -> None:
    from provenant.attest.errors import SignatureFormatError

    ann, _, _, _ = _att(V120)
    assert certificate_info(ann[CERT]).identity == certificate_info(ann[CERT].encode()).identity
    for odd in ("\ud800", "\u00e9"):  # a JSON escape of a lone surrogate cannot even be encoded
        with pytest.raises(SignatureFormatError, match=r"^signature certificate is not an X.509 certificate: its PEM"):
            certificate_info(ann[CERT].replace("MII", "MII" + odd, 1), "signature certificate")


def test_verify_tag_keyless_reasons() -> None:
    ann, _, payload, envelope = _att(V120)
    info = certificate_info(ann[CERT].encode())
    assert info is not None
    assert verify_tag_keyless(ann, info, _policy(), payload=payload, signature=None, envelope=envelope) is None
    wrong = verify_tag_keyless(
        ann, info, _policy("^https://gitlab"), payload=payload, signature=None, envelope=envelope
    )
    assert wrong is not None and wrong.startswith("identity mismatch: ")
    moved = verify_tag_keyless(ann, info, _policy(), payload=payload + b" ", signature=None, envelope=envelope)
    assert moved == "transparency log: the Rekor entry is about another attestation payload (payloadHash differs)"
    bad_set = dict(ann, **{BUNDLE: "{"})
    why = verify_tag_keyless(bad_set, info, _policy(), payload=payload, signature=None)
    assert why is not None and why.startswith("transparency log: the bundle annotation is not JSON")
    bad_chain = dict(ann, **{"dev.sigstore.cosign/chain": ann[CERT] * 11})
    why = verify_tag_keyless(bad_chain, info, _policy(), payload=payload, signature=None)
    assert why == "certificate chain annotation: dev.sigstore.cosign/chain holds more than 10 certificates"
    empty = verify_tag_keyless(dict(ann, **{BUNDLE: ""}), info, _policy(), payload=payload, signature=None)
    assert empty is not None and empty.startswith("no Rekor entry (dev.sigstore.cosign/bundle annotation)")


# -- exact reasons (mutation-testing survivors) ------------------------------------------------------------------


def test_a_hashedrekord_without_signature_content_is_refused() -> None:
    """Before: a missing ``content`` read as an empty signature, which an empty ``signature`` matched."""
    bundle, cert, _, payload = _wolfi()
    body = json.loads(base64.b64decode(bundle["Payload"]["body"]))
    body["spec"]["signature"].pop("content")
    with pytest.raises(SetError, match=r"^the Rekor entry records no signature$"):
        check_body(body, cert_der=cert, signature=b"", payload=payload)


def test_base64_in_entries_is_strict() -> None:
    """A character outside the base64 alphabet is an error, not skipped."""
    from provenant.attest.rekor_set import _b64_text

    assert _b64_text("QUJD") == "ABC"
    assert _b64_text("QUJD*") is None
    assert _b64_text("QU\u00e9J") is None  # outside ASCII: base64's own ValueError, not binascii.Error
    assert _b64_text("/w==") is None  # decodes, but not to ASCII
    assert _b64_text(5) is None
    with pytest.raises(SetError, match=r"^the Rekor entry body is not base64 JSON"):
        LogEntry("e30=*", 0, 0, "", b"").decoded_body()
    bundle, cert, sig, payload = _wolfi()
    body = json.loads(base64.b64decode(bundle["Payload"]["body"]))
    pem_b64 = body["spec"]["signature"]["publicKey"]["content"]
    body["spec"]["signature"]["publicKey"]["content"] = pem_b64[:8] + "*" + pem_b64[8:]
    with pytest.raises(SetError, match=r"^the signature's certificate in the Rekor entry is not a PEM certificate$"):
        check_body(body, cert_der=cert, signature=sig, payload=payload)


def test_the_entry_body_is_read_within_the_limits() -> None:
    from provenant.limits import Limits

    deep = base64.b64encode(b'{"a": {"b": {"c": {"d": 1}}}}').decode()
    assert LogEntry(deep, 0, 0, "", b"").decoded_body()["a"]["b"]["c"] == {"d": 1}
    with pytest.raises(SetError) as err:
        LogEntry(deep, 0, 0, "", b"").decoded_body(Limits(json_depth=2))
    assert str(err.value) == (
        "the Rekor entry body is not base64 JSON: "
        "Rekor entry body: over the json-depth limit of 2 (nested more than 2 deep)"
    )


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        (V120, lambda s: s.pop("publicKey"), "the attestation's certificate is missing from the Rekor entry"),
        (
            V120,
            lambda s: s["content"]["payloadHash"].__setitem__("algorithm", "sha512"),
            "payloadHash in the Rekor entry is not a sha256 hash",
        ),
        (
            V120,
            lambda s: s["content"]["hash"].__setitem__("algorithm", "sha1"),
            "hash in the Rekor entry is not a sha256 hash",
        ),
        (
            V210,
            lambda s: s["signatures"][0].pop("verifier"),
            "the attestation's certificate is missing from the Rekor entry",
        ),
        (
            V210,
            lambda s: s["payloadHash"].__setitem__("value", 5),
            "payloadHash in the Rekor entry is not a sha256 hash",
        ),
    ],
)
def test_malformed_attestation_entries_name_the_field(name: str, change: Any, reason: str) -> None:
    ann, cert, payload, envelope = _att(name)
    body = _body(ann)
    change(body["spec"])
    with pytest.raises(SetError) as err:
        check_body(body, cert_der=cert, signature=None, payload=payload, envelope=envelope)
    assert str(err.value) == reason


def test_intoto_002_ignores_the_envelope_hash() -> None:
    """0.0.2's content.hash is over Rekor's canonical envelope, not the bytes at hand: only payloadHash binds."""
    ann, cert, payload, envelope = _att(V120)
    pem = ann[CERT].encode()
    twice = base64.b64encode(base64.b64encode(pem)).decode()
    body = {
        "kind": "intoto",
        "apiVersion": "0.0.2",
        "spec": {
            "content": {
                "envelope": {"signatures": [{"publicKey": twice}]},
                "hash": {"algorithm": "sha256", "value": "00" * 32},
                "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            }
        },
    }
    assert check_body(body, cert_der=cert, signature=None, payload=payload, envelope=envelope) == "intoto:0.0.2"


def test_times_in_other_zones_are_the_same_instant() -> None:
    ann, _, _, _ = _att(V120)
    leaf = x509.load_pem_x509_certificate(ann[CERT].encode())
    root = load_trust_root(PROD_ROOT)
    start = leaf.not_valid_before_utc.astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert verify_chain(leaf, [], root, start) is None
    assert verify_chain(leaf, [], root, start.replace(tzinfo=None)) is not None  # naive = UTC: 2 h earlier


def test_a_chain_failure_carries_the_verifiers_reason() -> None:
    ca_key, ca = _own_ca()
    leaf = _own_leaf(ca_key, ca, [ExtendedKeyUsageOID.CODE_SIGNING])
    why = verify_chain(leaf, [ca], load_trust_root(PROD_ROOT), _NOW)
    assert why is not None
    detail = why.split(": ", 1)[1]
    assert detail.startswith("validation failed: ") and "XX" not in detail and "None" not in detail, detail


def test_a_chain_off_the_root_is_refused_after_a_genuine_set(tmp_path: Any) -> None:
    """A root with the production logs but the staging CAs: the SET and the entry hold, the chain does not."""
    prod, staging = json.loads(PROD_ROOT.read_text()), json.loads(STAGING_ROOT.read_text())
    prod["certificateAuthorities"] = staging["certificateAuthorities"]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(prod))
    ann, _, payload, envelope = _att(V120)
    info = certificate_info(ann[CERT].encode())
    policy = dataclasses.replace(_policy(), trusted_root=path)
    why = verify_tag_keyless(ann, info, policy, payload=payload, signature=None, envelope=envelope)
    assert why is not None
    assert why.startswith(f"the certificate does not chain to a Fulcio CA of the trusted root {path}")


def test_the_envelope_reaches_the_entry_check() -> None:
    ann, _, payload, envelope = _att(V120)
    info = certificate_info(ann[CERT].encode())
    why = verify_tag_keyless(ann, info, _policy(), payload=payload, signature=None, envelope=envelope + b" ")
    assert why == "transparency log: the Rekor entry is about another envelope (hash differs)"


def test_the_bundle_annotation_is_read_within_the_limits() -> None:
    from provenant.limits import Limits

    text = atts_manifest(DATA / V120)["layers"][0]["annotations"][BUNDLE]
    assert parse_bundle_annotation(text, Limits(json_depth=3)).log_index > 0
    with pytest.raises(SetError) as err:
        parse_bundle_annotation(text, Limits(json_depth=1))
    assert str(err.value).startswith("the bundle annotation is not JSON: cosign bundle annotation")


def test_an_unknown_log_is_named_by_its_id_prefix() -> None:
    entry = _entry(V120)
    with pytest.raises(SetError) as err:
        verify_set(entry, load_trust_root(STAGING_ROOT))
    assert str(err.value) == (
        f"the entry's log {entry.log_id[:16]}… is not a transparency log of the trusted root {STAGING_ROOT}"
    )
