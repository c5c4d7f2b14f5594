"""Exact answers of the identity matchers and the linear-time regexps (written against mutation-testing survivors:
each assertion pins one behaviour a changed operator or constant would break)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from provenant.attest.identity import (
    MAX_MATCHED,
    MAX_PATTERN,
    Claims,
    Expect,
    IdentityMatcher,
    Signers,
    claims_of,
    compile_bounded,
    der_utf8,
)
from provenant.attest.linear_re import MAX_STATES, compile_linear
from provenant.errors import UsageError

# -- DER strings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", [0x0C, 0x16, 0x13, 0x1A])
def test_each_der_string_type_is_read(tag: int) -> None:
    assert der_utf8(bytes([tag, 3]) + b"abc") == "abc"
    assert der_utf8(bytes([tag, 0])) == ""  # two bytes: an empty string, not raw bytes


def test_other_tags_and_short_values_are_raw_text() -> None:
    assert der_utf8(bytes([0x04, 3]) + b"abc") == "\x04\x03abc"
    assert der_utf8(b"\x0c") == "\x0c"


def test_der_long_form_lengths() -> None:
    assert der_utf8(bytes([0x0C, 0x81, 3]) + b"abcdef") == "abc"
    assert der_utf8(bytes([0x0C, 0x82, 0x01, 0x00]) + b"y" * 300) == "y" * 256  # big-endian 0x0100


def test_undecodable_bytes_are_replaced() -> None:
    assert der_utf8(bytes([0x0C, 2]) + b"a\xff") == "a\ufffd"
    assert der_utf8(b"\x01\xff") == "\x01\ufffd"


# -- matching ------------------------------------------------------------------------------------------------


def test_the_matched_value_bound_is_inclusive() -> None:
    e = Expect("a$", compile_bounded("a$", "f"))
    assert e.matches("b" * (MAX_MATCHED - 1) + "a")
    assert not e.matches("b" * MAX_MATCHED + "a")
    assert not e.matches(None)
    assert str(e) == "/a$/" and str(Expect("x")) == "x"


def test_the_pattern_bound() -> None:
    assert compile_bounded("a" * MAX_PATTERN, "--f").search("a" * MAX_PATTERN)
    with pytest.raises(UsageError, match=f"^--f: the regexp is {MAX_PATTERN + 1} characters long, over {MAX_PATTERN}$"):
        compile_bounded("a" * (MAX_PATTERN + 1), "--f")


def _matcher(**github: str) -> IdentityMatcher:
    return IdentityMatcher(Expect("https://id"), Expect("https://iss"), {k: Expect(v) for k, v in github.items()})


def test_mismatch_messages() -> None:
    none = Claims(())
    assert _matcher().mismatch(none) == "the certificate names no identity, not https://id"
    two = Claims(("a", "b"), {"issuer": "https://iss"})
    assert _matcher().mismatch(two) == "the certificate names a, b, not https://id"
    ok = Claims(("x", "https://id"), {"issuer": "https://iss"})
    assert _matcher().mismatch(ok) is None
    assert _matcher(ref="refs/heads/main").mismatch(ok) == (
        "the certificate's GitHub workflow ref is not stated, not refs/heads/main"
    )
    no_issuer = Claims(("https://id",))
    assert _matcher().mismatch(no_issuer) == "the certificate's issuer is not stated, not https://iss"


def test_signers_any_one_and_every_reason() -> None:
    good = Claims(("https://id",), {"issuer": "https://iss"})
    other = IdentityMatcher(Expect("https://other"), Expect("https://iss"))
    assert Signers(()).mismatch(good) == "no keyless signer is trusted"
    assert Signers((other, _matcher())).mismatch(good) is None
    assert Signers((other,)).mismatch(good) == "the certificate names https://id, not https://other"
    both = Signers((other, other)).mismatch(good)
    assert both == (
        "signer 1: the certificate names https://id, not https://other; "
        "signer 2: the certificate names https://id, not https://other"
    )
    assert Signers((other, _matcher(trigger="push", ref="refs/x"))).describe() == (
        "identity https://other, issuer https://iss | "
        "identity https://id, issuer https://iss, github trigger push, github ref refs/x"
    )


# -- the linear-time regexps, answer for answer against Python's re ---------------------------------------------

PATTERNS = [
    r"\d+",
    r"\D",
    r"^\s",
    r"\S$",
    r"\w+@",
    r"\W",
    r"[a-c]x",
    r"[^a-c]",
    r"[\d_]",
    r"[^\s]",
    r"[\w.]+$",
    r"(?i)ABC",
    r"(?i)[A-C]z",
    r"(?i)[^a]",
    r"(?i)x[^Y]",
    r"a[^b]c",
    r"a.c",
    r"^ab|cd$",
    r"x(ab|cd|ef)y",
    r"a{2}",
    r"^a{2,3}$",
    r"^(ab){1,2}$",
    r"^a{0,2}b",
    r"^a+?b",
    r"^a*?$",
    r"\bmain\b",
    r"\Bain",
    r"ain\B",
    r"\Aab",
    r"ab\Z",
    r"b$",
    r"^$",
    r"(?:x|y)+z",
    r"^\w$",
    r"^\W$",
    r"(?i)[^a]",
    r"(?i)^[^a]$",
    r"(?i)^[xy]$",
    r"(?i)^[a-c]$",
    r"(?i)^[A-C]$",
    r"^[a-c]$",
    r"^a{2,3}$",
    r"^a{1,2}b",
    r"^https://github\.com/[^/]+/[^/]+/\.github/workflows/.*@refs/tags/v\d+\.\d+\.\d+$",
]
VALUES = [
    "",
    "A",
    "aA",
    "B",
    "b",
    "C",
    "c",
    "d",
    "X",
    "cx",
    "aaaa",
    "aaaaa",
    " ain",
    "a",
    "aa",
    "aaa",
    "aab",
    "ab",
    "abab",
    "ababab",
    "abc",
    "ABC",
    "aBz",
    "bz",
    "a\n",
    "b\n",
    "ab\n",
    "cd",
    "xaby",
    "xcdy",
    "xefy",
    "xy",
    "xxyyz",
    "main",
    "remain",
    "main_x",
    "a main b",
    "12",
    " x",
    "x ",
    "_",
    "me@x",
    "a.b",
    "axc",
    "a\nc",
    "https://github.com/o/r/.github/workflows/w.yml@refs/tags/v1.2.3",
    "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_linear_answers_as_re(pattern: str) -> None:
    linear = compile_linear(pattern, "f")
    wrong = [v for v in VALUES if linear.search(v) != (re.search(pattern, v) is not None)]
    assert not wrong, (pattern, wrong)


def test_a_non_empty_match_needs_its_characters() -> None:
    assert not compile_linear("abc", "f").search("ab")
    assert compile_linear("abc", "f").search("xabc")
    assert not compile_linear("a$", "f").search("a\n\n")


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        ("(a", "--f: not a valid regexp: missing ), unterminated subpattern at position 0"),
        ("(?m)^a", "--f: the (?m), (?s) and (?x) flags are not supported"),
        ("(?s)a", "--f: the (?m), (?s) and (?x) flags are not supported"),
        ("(?x)a", "--f: the (?m), (?s) and (?x) flags are not supported"),
        ("(?i:a)", "--f: inline flags inside a group are not supported"),
        ("(?-i:a)", "--f: inline flags inside a group are not supported"),
        ("(a)\\1", "--f: groupref is not supported (it needs backtracking)"),
        ("a(?=b)", "--f: assert is not supported (it needs backtracking)"),
        ("a++", "--f: possessive repeat is not supported (it needs backtracking)"),
        ("(?>a)", "--f: atomic group is not supported (it needs backtracking)"),
        ("(?:a{1000}){5}", f"--f: the regexp expands to more than {MAX_STATES} states"),
    ],
)
def test_refusals_are_one_line(pattern: str, error: str) -> None:
    with pytest.raises(UsageError) as err:
        compile_linear(pattern, "--f")
    assert str(err.value) == error


def test_the_state_bound_is_exact() -> None:
    assert len(compile_linear("a" * (MAX_STATES - 1), "f").prog) == MAX_STATES
    with pytest.raises(UsageError, match="more than"):
        compile_linear("a" * MAX_STATES, "f")


# -- claims ---------------------------------------------------------------------------------------------------


def _cert(sans: list[x509.GeneralName], exts: dict[str, bytes]) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    b = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
    )
    for oid, value in exts.items():
        b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical=False)
    return b.sign(key, hashes.SHA256())


def test_claims_read_raw_v1_and_der_v2_extensions() -> None:
    import ipaddress

    cert = _cert(
        [x509.IPAddress(ipaddress.ip_address("10.0.0.1"))],
        {
            "1.3.6.1.4.1.57264.1.2": b"\x0c\x01ab",  # v1: raw text, even if it looks like DER
            "1.3.6.1.4.1.57264.1.1": b"https://iss\xff",
            "1.3.6.1.4.1.57264.1.13": b"\x0c\x03abc",
        },
    )
    claims = claims_of(cert)
    assert claims.identities == ("10.0.0.1",)
    assert claims.github("trigger") == "\x0c\x01ab"
    assert claims.issuer == "https://iss\ufffd"
    assert claims.github("sha") == "abc"
    assert claims.github("name") is None


def test_the_claims_shown() -> None:
    ext = {
        "github-workflow-repository": "o/r",
        "github-workflow-ref": "refs/heads/main",
        "github-workflow-trigger": "push",
        "build-signer-uri": "https://b",
        "issuer": "https://iss",
    }
    assert Claims(("x",), ext).shown() == {k: v for k, v in ext.items() if k != "issuer"}
    v2 = {"source-repository-uri": "https://github.com/o/r", "source-repository-ref": "refs/x", "build-trigger": "t"}
    assert Claims(("x",), v2).shown() == {
        "github-workflow-repository": "o/r",
        "github-workflow-ref": "refs/x",
        "github-workflow-trigger": "t",
    }
