"""Identities and claims of Fulcio certificates, and the bounded regexps that match them."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

from provenant.attest.identity import (
    MAX_MATCHED,
    OTHERNAME_USERNAME,
    Expect,
    IdentityMatcher,
    claims_of,
    compile_bounded,
    der_utf8,
    expect,
)
from provenant.attest.keyless import certificate_info
from provenant.errors import UsageError
from tests.cosigndata import DATA, V210, atts_manifest


def _cert(san: list[x509.GeneralName], extensions: dict[str, bytes] | None = None) -> x509.Certificate:
    """A certificate only to read names from (no signature of it is ever verified)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    now = dt.datetime.now(dt.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(minutes=10))
        .add_extension(x509.SubjectAlternativeName(san), critical=True)
    )
    for oid, value in (extensions or {}).items():
        b = b.add_extension(x509.UnrecognizedExtension(ObjectIdentifier(oid), value), critical=False)
    return b.sign(key, hashes.SHA256())


def _utf8(text: str) -> bytes:
    raw = text.encode()
    return bytes([0x0C, len(raw)]) + raw


def test_othername_username_is_shown_not_a_question_mark() -> None:
    cert = _cert([x509.OtherName(OTHERNAME_USERNAME, _utf8("alice!example.com"))])
    claims = claims_of(cert)
    assert claims.identity == "alice!example.com"
    from cryptography.hazmat.primitives.serialization import Encoding

    info = certificate_info(cert.public_bytes(Encoding.PEM))
    assert info.identity == "alice!example.com"


def test_all_san_kinds_are_identities_in_order() -> None:
    cert = _cert([x509.RFC822Name("a@example.com"), x509.UniformResourceIdentifier("https://x.example/y")])
    assert claims_of(cert).identities == ("a@example.com", "https://x.example/y")
    m = IdentityMatcher(Expect("https://x.example/y"), Expect("i"))
    assert "issuer is not stated" in (m.mismatch(claims_of(cert)) or "")


def test_v2_claims_stand_in_for_missing_v1_github_claims() -> None:
    cert = _cert(
        [x509.UniformResourceIdentifier("https://github.com/o/r/.github/workflows/w.yml@refs/tags/v1")],
        {
            "1.3.6.1.4.1.57264.1.8": _utf8("https://token.actions.githubusercontent.com"),
            "1.3.6.1.4.1.57264.1.12": _utf8("https://github.com/o/r"),
            "1.3.6.1.4.1.57264.1.14": _utf8("refs/tags/v1"),
            "1.3.6.1.4.1.57264.1.20": _utf8("push"),
        },
    )
    c = claims_of(cert)
    assert c.issuer == "https://token.actions.githubusercontent.com"
    assert (c.github("repository"), c.github("ref"), c.github("trigger")) == ("o/r", "refs/tags/v1", "push")
    assert c.shown()["github-workflow-repository"] == "o/r"


def test_real_generator_certificate_claims() -> None:
    ann = atts_manifest(DATA / V210)["layers"][0]["annotations"]
    c = claims_of(x509.load_pem_x509_certificate(ann["dev.sigstore.cosign/certificate"].encode()))
    assert c.identity is not None and c.identity.endswith("generator_container_slsa3.yml@refs/tags/v2.1.0")
    assert c.github("repository") == "slsa-framework/example-package"
    assert c.extensions["build-signer-uri"] == c.identity


def test_regexp_matches_anywhere_like_cosign_and_anchors_work() -> None:
    value = "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main"
    assert Expect("", compile_bounded("workflows/w", "f")).matches(value)
    assert not Expect("", compile_bounded("^workflows/w", "f")).matches(value)
    assert not Expect("", compile_bounded("^https://github.com/o/r/$", "f")).matches(value)
    assert not Expect("", compile_bounded("a", "f")).matches("a" * (MAX_MATCHED + 1))
    assert not Expect("x").matches(None)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(a)\\1", "groupref is not supported"),
        ("a(?=b)", "assert is not supported"),
        ("a(?!b)", "assert not is not supported"),
        ("a++", "possessive repeat is not supported"),
        ("(?>a)", "atomic group is not supported"),
        ("(a)?(?(1)b|c)", "not supported"),
        ("(?m)^a$", "flags are not supported"),
        ("(a{100}){100}", "more than 4000 states"),
        ("[", "not a valid regexp"),
        ("x" * 2000, "over 1024"),
    ],
)
def test_what_needs_backtracking_is_refused(pattern: str, reason: str) -> None:
    with pytest.raises(UsageError, match=re.escape(reason)):
        compile_bounded(pattern, "--certificate-identity-regexp")


PATTERNS = [
    "^https://github.com/slsa-framework/slsa-github-generator/",
    "^https://github\\.com/[^/]+/[^/]+/\\.github/workflows/.+@refs/(heads|tags)/.+$",
    "@refs/tags/v[0-9]+\\.[0-9]+\\.[0-9]+$",
    "(a+)+$",
    "(a|aa)*b",
    "^(x*)*y",
    "a{2,3}b?c*",
    "(?i)GITHUB",
    "\\bmain\\b",
    "\\Bai",
    "^$",
    "",
    "[^a-z0-9]",
    "\\d+\\s*\\w",
    "(ab|a)(bc|c)?$",
    "x?",
    "\\A.*\\Z",
    ".",
]
VALUES = [
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/x.yml@refs/tags/v1.2.0",
    "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!",
    "aab",
    "xxxxy",
    "",
    "abc",
    "a\n",
    "Main main remain",
    "12 _",
    "ABC",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_linear_search_answers_as_python_re(pattern: str) -> None:
    linear = compile_bounded(pattern, "f")
    for value in VALUES:
        if pattern in ("(a+)+$", "(a|aa)*b") and value.endswith("!"):
            continue  # Python's re would backtrack for minutes here: the point of the linear matcher
        assert linear.search(value) == (re.search(pattern, value) is not None), (pattern, value)


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|aa)*$", "(.*a){20}", ".*.*.*.*.*.*#", "(x+x+)+y"])
def test_catastrophic_patterns_run_in_linear_time(pattern: str) -> None:
    linear = compile_bounded(pattern, "f")
    start = time.monotonic()
    linear.search("a" * (MAX_MATCHED - 1) + "!")
    assert time.monotonic() - start < 5


def test_exact_and_regexp_together_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not both"):
        expect("a", "b", "--certificate-identity")


def test_der_utf8_long_form_and_raw() -> None:
    text = "x" * 300
    raw = text.encode()
    assert der_utf8(bytes([0x0C, 0x82]) + len(raw).to_bytes(2, "big") + raw) == text
    assert der_utf8(b"https://token.actions.githubusercontent.com") == "https://token.actions.githubusercontent.com"
    assert json.dumps(der_utf8(b"\xff")) == '"\\ufffd"'
