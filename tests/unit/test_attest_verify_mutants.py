"""``verify_image``'s verdicts, given what the attestation evaluation said about each attached item.

Discovery and signature checking are tested in test_attest_fake_registry.py; here they are replaced at the
module seam (``run_discovery``, ``build_result``) by chosen evaluated attachments, so every rule of the verdict
and every reason text is pinned down exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from provenant.attest.evaluate import Attachment, SubjectCheck, Trust
from provenant.attest.keyless import KeylessPolicy
from provenant.attest.keys import PublicKey
from provenant.attest.result import AttestationsResult, SubjectResult
from provenant.attest.verify import VerifyResult, verify_image
from provenant.errors import UsageError
from provenant.oci.platform import PlatformSpec
from provenant.session import Session
from tests.attestdata import crypto

SPDX = "https://spdx.dev/Document"
SLSA = "https://slsa.dev/provenance/v1"
INDEX, AMD, ARM = "sha256:" + "1" * 64, "sha256:" + "2" * 64, "sha256:" + "3" * 64
KEY = PublicKey.from_pem(crypto.public_pem(crypto.new_key()), "k.pub")
FP = f"signed:key={KEY.fingerprint}"


def att(
    location: str,
    *,
    kind: str = "signature",
    trust: str = FP,
    subject: str = "match",
    detail: str | None = None,
    predicate_type: str | None = None,
    problems: list[str] | None = None,
    error: str | None = None,
) -> Attachment:
    return Attachment(
        kind=kind,  # type: ignore[arg-type]
        format="simplesigning",
        source="cosign-tag",
        location=location,
        container_digest="sha256:" + "9" * 64,
        media_type="application/vnd.dev.cosign.simplesigning.v1+json",
        predicate_type=predicate_type,
        trust=trust,
        subject_check=SubjectCheck(status=subject, expected=AMD, detail=detail),  # type: ignore[arg-type]
        problems=problems or [],
        error=error,
    )


def subject(kind: str, digest: str, platform: str | None, *attachments: Attachment) -> SubjectResult:
    return SubjectResult(kind=kind, digest=digest, media_type="m", platform=platform, attachments=list(attachments))


class Seam:
    """Stands in for discovery and evaluation; records what verify_image asked for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.subjects: list[SubjectResult] = []
        self.calls: list[tuple[Any, ...]] = []
        monkeypatch.setattr("provenant.attest.verify.run_discovery", self._discover)
        monkeypatch.setattr("provenant.attest.verify.build_result", self._build)

    def _discover(self, session: Session, target: str, platforms: list[PlatformSpec] | None) -> tuple[str, str]:
        self.calls.append(("discover", target, platforms))
        return "discovery", "registry example.test/app"

    def _build(self, reference: str, source: str, found: str, trust: Trust) -> AttestationsResult:
        self.calls.append(("build", reference, source, found, trust))
        return AttestationsResult(
            reference=reference,
            source=source,
            digest=self.subjects[0].digest,
            media_type="m",
            keys=[k.fingerprint for k in trust.keys],
            referrers="api",
            subjects=self.subjects,
            notes=["a note"],
        )

    def verify(self, **kw: Any) -> VerifyResult:
        keys = kw.pop("keys", [KEY])
        return verify_image(None, "example.test/app:1", keys, **kw)  # type: ignore[arg-type]


@pytest.fixture
def seam(monkeypatch: pytest.MonkeyPatch) -> Seam:
    return Seam(monkeypatch)


def test_needs_a_key_or_a_keyless_policy(seam: Seam, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as exc:
        seam.verify(keys=[])
    assert exc.value.message == "verify needs at least one --key (or --trusted-root with an identity and issuer)"
    assert seam.calls == []
    policy = KeylessPolicy(tmp_path / "root.json", "dev@example.com", "https://issuer.example")
    seam.subjects = [subject("manifest", AMD, "linux/amd64", att("a.sig"))]
    assert seam.verify(keys=[], keyless=policy).passed
    trust = seam.calls[-1][-1]
    assert trust == Trust((), policy)
    seam.verify(keyless=policy)
    assert seam.calls[-1][-1] == Trust((KEY,), policy)


def test_a_single_manifest_passes_with_its_own_signature(seam: Seam) -> None:
    seam.subjects = [subject("manifest", AMD, "linux/amd64", att("t.sig"))]
    v = seam.verify()
    assert seam.calls[0] == ("discover", "example.test/app:1", None)
    assert seam.calls[1][:4] == ("build", "example.test/app:1", "registry example.test/app", "discovery")
    assert (v.reference, v.digest, v.keys, v.predicate_type, v.passed, v.notes) == (
        "example.test/app:1",
        AMD,
        [KEY.fingerprint],
        None,
        True,
        ["a note"],
    )
    [s] = v.subjects
    assert (s.kind, s.digest, s.platform, s.passed, s.satisfied_by, s.inherited_from_index, s.reasons) == (
        "manifest",
        AMD,
        "linux/amd64",
        True,
        ["t.sig"],
        False,
        [],
    )


def test_signatures_and_attestations_both_count_without_a_type(seam: Seam) -> None:
    seam.subjects = [
        subject("manifest", AMD, "linux/amd64", att("a.att", kind="attestation", predicate_type=SLSA)),
    ]
    assert seam.verify().passed
    # A signed SBOM is neither (and not an unsigned item either).
    seam.subjects = [subject("manifest", AMD, "linux/amd64", att("s.sbom", kind="sbom"))]
    v = seam.verify()
    assert not v.passed and v.subjects[0].reasons == ["no signature found (nothing attached)"]


def test_platforms_inherit_a_signed_index_and_are_named_by_it(seam: Seam) -> None:
    seam.subjects = [
        subject("index", INDEX, None, att("i.sig"), att("i2.sig", trust="signature-invalid")),
        subject("platform", AMD, "linux/amd64"),
        subject("platform", ARM, "linux/arm64", att("arm.sig")),
    ]
    v = seam.verify()
    assert v.passed
    got = [(s.kind, s.passed, s.satisfied_by, s.inherited_from_index) for s in v.subjects]
    assert got == [
        ("index", True, ["i.sig"], False),
        ("platform", True, ["i.sig"], True),
        ("platform", True, ["arm.sig"], False),
    ]
    # With --platform the index is not a subject; a platform still passes through its signature.
    chosen = [PlatformSpec.parse("linux/amd64")]
    only = seam.verify(platforms=chosen)
    assert seam.calls[-2] == ("discover", "example.test/app:1", chosen)
    assert [(s.kind, s.passed, s.inherited_from_index) for s in only.subjects] == [
        ("platform", True, True),
        ("platform", True, False),
    ]


def test_an_unsigned_index_passes_nothing_on(seam: Seam) -> None:
    seam.subjects = [
        subject("index", INDEX, None, att("i.sig", trust="signed-unverified", problems=["no --key"])),
        subject("platform", AMD, "linux/amd64"),
    ]
    v = seam.verify()
    assert not v.passed
    assert [(s.passed, s.satisfied_by, s.inherited_from_index) for s in v.subjects] == [
        (False, [], False),
        (False, [], False),
    ]
    assert v.subjects[0].reasons == ["signature at i.sig: signed-unverified: no --key"]
    assert v.subjects[1].reasons == ["no signature found (nothing attached)"]
    # No subject at all is not a pass.
    seam.subjects = [subject("index", INDEX, None)]
    assert not seam.verify(platforms=[PlatformSpec.parse("linux/amd64")]).passed


def test_every_reason_a_signed_item_did_not_count(seam: Seam) -> None:
    seam.subjects = [
        subject(
            "manifest",
            AMD,
            "linux/amd64",
            att("err.sig", error="cannot read it", trust="unreadable"),
            att("bad.sig", trust="signature-invalid", problems=["altered", "another key"]),
            att("plain.sig", trust="signature-invalid"),
            att("other.sig", subject="mismatch", detail=f"it is about {ARM}, not {AMD}"),
            att("unchecked.sig", subject="not-checked"),
            att("sbom", kind="sbom", trust="unsigned"),
        )
    ]
    v = seam.verify()
    assert v.subjects[0].reasons == [
        "signature at err.sig: cannot read it",
        "signature at bad.sig: signature-invalid: altered; another key",
        "signature at plain.sig: signature-invalid: signature-invalid",
        f"signature at other.sig: signed ({FP}) but subject mismatch: it is about {ARM}, not {AMD}",
        f"signature at unchecked.sig: signed ({FP}) but subject mismatch: not checked",
    ]
    assert [(e.kind, e.location, e.trust, e.subject_check, e.problems) for e in v.subjects[0].evidence] == [
        ("signature", "err.sig", "unreadable", "match", ["cannot read it"]),
        ("signature", "bad.sig", "signature-invalid", "match", ["altered", "another key"]),
        ("signature", "plain.sig", "signature-invalid", "match", []),
        ("signature", "other.sig", FP, "mismatch", []),
        ("signature", "unchecked.sig", FP, "not-checked", []),
        ("sbom", "sbom", "unsigned", "match", []),
    ]


def test_an_item_with_an_error_never_counts(seam: Seam) -> None:
    seam.subjects = [subject("manifest", AMD, "linux/amd64", att("e.sig", error="late failure"))]
    v = seam.verify()
    assert not v.passed
    assert v.subjects[0].reasons == ["signature at e.sig: late failure"]


def test_unsigned_items_only(seam: Seam) -> None:
    seam.subjects = [
        subject(
            "manifest",
            AMD,
            None,
            att("x.att", kind="attestation", trust="unsigned", predicate_type=SLSA),
            att("y", kind="sbom", trust="unsigned"),
        )
    ]
    assert seam.verify().subjects[0].reasons == ["no signature found (2 unsigned item(s) only)"]
    # A valid signature on another kind of item ("other") is not a signature either.
    seam.subjects = [subject("manifest", AMD, None, att("n.sig", kind="other"))]
    assert seam.verify().subjects[0].reasons == ["no signature found (nothing attached)"]


def test_with_a_type_only_a_signed_attestation_of_that_type_counts(seam: Seam) -> None:
    seam.subjects = [
        subject(
            "index",
            INDEX,
            None,
            att("s.sig"),
            att("slsa.att", kind="attestation", predicate_type=SLSA),
            att("bad.att", kind="attestation", predicate_type=SPDX, subject="mismatch", detail="about another"),
        ),
        subject("platform", AMD, "linux/amd64", att("spdx.att", kind="attestation", predicate_type=SPDX)),
        subject("platform", ARM, "linux/arm64", att("u.att", kind="attestation", trust="unsigned")),
    ]
    v = seam.verify(predicate_type=SPDX)
    assert v.predicate_type == SPDX
    by = {s.digest: s for s in v.subjects}
    assert by[INDEX].reasons == [
        f"no signed attestation of predicate type {SPDX}",
        "signature at s.sig: valid, but --type asks for a signed attestation, not a signature",
        f"attestation at slsa.att: valid, but predicate type is {SLSA}, not {SPDX}",
        f"attestation at bad.att: signed ({FP}) but subject mismatch: about another",
        "(attestations made per platform, e.g. by 'sbom --attest' or BuildKit, are checked with --platform)",
    ]
    assert (by[AMD].passed, by[AMD].satisfied_by, by[AMD].reasons) == (True, ["spdx.att"], [])
    assert by[ARM].reasons == [f"no signed attestation of predicate type {SPDX} (1 unsigned item(s) only)"]
    assert [e.predicate_type for e in by[INDEX].evidence] == [None, SLSA, SPDX]
    # The platform hint is for the index only.
    seam.subjects = [subject("manifest", AMD, None, att("s.sig"))]
    assert seam.verify(predicate_type=SPDX).subjects[0].reasons == [
        f"no signed attestation of predicate type {SPDX}",
        "signature at s.sig: valid, but --type asks for a signed attestation, not a signature",
    ]
    # An attestation of the right type about another digest does not count either.
    seam.subjects = [
        subject("manifest", AMD, None, att("m.att", kind="attestation", predicate_type=SPDX, subject="mismatch"))
    ]
    assert not seam.verify(predicate_type=SPDX).passed
