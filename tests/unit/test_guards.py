"""Small faults a mutation run showed the suite let through: one test per fault, on constructed inputs.

Each test names the fault it guards against; each was seen passing the suite with the fault applied
by hand, and failing here.
"""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace
from typing import Any, cast

from provenant.attest.discover import Found
from provenant.attest.evaluate import SIGNATURE_INVALID, Attachment, SubjectCheck, Trust, evaluate
from provenant.attest.keys import PublicKey
from provenant.compare.diff import config_changes
from provenant.compare.platforms import coverage
from provenant.evidence import Evidence, PlatformEvidence
from provenant.inspect import MASK
from provenant.oci.models import parse_config
from provenant.policy.checks.pinning import ForbiddenTags
from provenant.policy.checks.provenance import Subject
from provenant.policy.dockerfile import parse_dockerfile
from provenant.policy.schema import policy_from_data
from provenant.reference import Reference
from tests.attestdata import artifacts, crypto

DIGEST = "sha256:" + hashlib.sha256(b"platform manifest").hexdigest()
OTHER = "sha256:" + hashlib.sha256(b"another manifest").hexdigest()
SLSA1 = "https://slsa.dev/provenance/v1"


def _attachment(*, trust: str, subject: str, found: list[str], predicate_type: str | None = SLSA1) -> Attachment:
    return Attachment(
        kind="attestation",
        format="in-toto",
        source="oci-referrers",
        location="referrer sha256:x",
        container_digest="sha256:" + "c" * 64,
        media_type="application/vnd.in-toto+json",
        predicate_type=predicate_type,
        predicate_family="slsa-provenance" if predicate_type == SLSA1 else None,
        trust=trust,
        subject_check=SubjectCheck(
            status="match" if found == [subject] else ("not-checked" if not found else "mismatch"),
            expected=subject,
            found=found,
        ),
    )


# -- provenance.subject: a statement whose subject could not be checked is not a pass ------------------


def _policy(checks: dict[str, Any]) -> Any:
    return policy_from_data(
        {"apiVersion": "provenant/v1", "kind": "ImagePolicy", "images": ["**"], "checks": checks}, "p"
    )


def test_provenance_subject_not_checked_does_not_pass() -> None:
    policy = _policy({"provenance": {"requireSubjectMatch": True}})
    not_checked = _attachment(trust="unsigned", subject=DIGEST, found=[])
    assert not_checked.subject_check.status == "not-checked"
    platform = SimpleNamespace(platform="linux/amd64", digest=DIGEST, provenance_attachments=lambda: [not_checked])
    ev = cast(Evidence, SimpleNamespace(digest=DIGEST, image_attachments=[]))
    (outcome,) = Subject().platform(ev, cast(PlatformEvidence, platform), policy)
    assert outcome.status == "fail", outcome
    matching = _attachment(trust="unsigned", subject=DIGEST, found=[DIGEST])
    platform.provenance_attachments = lambda: [matching]
    (ok,) = Subject().platform(ev, cast(PlatformEvidence, platform), policy)
    assert ok.status == "pass", ok


# -- compare: a signature over another digest is signed, not verified ----------------------------------


def test_compare_does_not_count_a_signature_over_the_wrong_subject_as_verified() -> None:
    wrong = _attachment(trust="signed:key=SHA256:abc", subject=DIGEST, found=[OTHER])
    cov = coverage([wrong])
    assert cov.signed and not cov.verified
    assert "verified" not in cov.summary.replace("unverified", "")
    right = _attachment(trust="signed:key=SHA256:abc", subject=DIGEST, found=[DIGEST])
    assert coverage([right]).verified
    assert coverage([wrong, right]).verified


# -- diff: secret-looking env values are masked on both sides ------------------------------------------


def _config(env: list[str]) -> bytes:
    return json.dumps(
        {"architecture": "amd64", "os": "linux", "config": {"Env": env}, "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()


def test_diff_masks_secret_env_values() -> None:
    a = parse_config(_config(["API_TOKEN=old-secret-value", "DB_PASSWORD=hunter2", "MODE=a"]), "a")
    b = parse_config(_config(["API_TOKEN=new-secret-value", "MODE=b", "AWS_ACCESS_KEY=AKIAEXAMPLE"]), "b")
    changes = {c.key: c for c in config_changes(a, b) if c.field == "env"}
    assert (changes["API_TOKEN"].old, changes["API_TOKEN"].new) == (MASK, MASK)
    assert (changes["DB_PASSWORD"].old, changes["DB_PASSWORD"].new) == (MASK, None)
    assert (changes["AWS_ACCESS_KEY"].old, changes["AWS_ACCESS_KEY"].new) == (None, MASK)
    assert (changes["MODE"].old, changes["MODE"].new) == ("a", "b")  # only secret-looking names are masked
    dumped = json.dumps([c.model_dump() for c in changes.values()])
    for secret in ("old-secret-value", "new-secret-value", "hunter2", "AKIAEXAMPLE"):
        assert secret not in dumped


# -- pinning.forbidden-tags: a reference pinned by digest is not judged by its tag ----------------------


def _pinning_ev(target: str, dockerfile: str | None = None) -> Evidence:
    df = parse_dockerfile(dockerfile, "Dockerfile") if dockerfile else None
    return cast(
        Evidence, SimpleNamespace(reference=Reference.parse(target), target=target, digest=DIGEST, dockerfile=df)
    )


def test_digest_pinned_reference_is_not_flagged_for_a_forbidden_tag() -> None:
    policy = _policy({"pinning": {"forbiddenTags": ["latest"], "requireDigest": False, "requireBaseDigest": False}})
    check = ForbiddenTags()
    pinned = check.image(_pinning_ev(f"registry.example/app:latest@{DIGEST}"), policy)
    assert [o.status for o in pinned] == ["pass"], pinned
    by_tag = check.image(_pinning_ev("registry.example/app:latest"), policy)
    assert [o.status for o in by_tag] == ["fail"], by_tag
    dockerfile = f"FROM debian:latest@{DIGEST}\nFROM alpine:latest AS tools\n"
    from_lines = check.image(_pinning_ev(f"registry.example/app:1@{DIGEST}", dockerfile), policy)
    failed = [o for o in from_lines if o.status == "fail"]
    assert len(failed) == 1 and "alpine" in failed[0].message, from_lines


# -- a message-signature bundle verifies only with the key that signed it ------------------------------


def _bundle_found(subject: str, key: Any) -> Found:
    return Found(
        subject=subject,
        source="oci-referrers",
        location="referrer sha256:b",
        container="sha256:" + "b" * 64,
        format="sigstore-bundle",
        media_type="application/vnd.dev.sigstore.bundle.v0.3+json",
        data=artifacts.message_signature_bundle(subject, key),
    )


def test_message_signature_bundle_is_not_accepted_with_any_key() -> None:
    signer, stranger = crypto.new_key(), crypto.new_key()
    found = _bundle_found(DIGEST, signer)
    other = evaluate(found, Trust(keys=[PublicKey.from_pem(crypto.public_pem(stranger))]))
    assert other.trust == SIGNATURE_INVALID and not other.verified, other
    right = evaluate(found, Trust(keys=[PublicKey.from_pem(crypto.public_pem(signer))]))
    assert right.trust == f"signed:key={crypto.fingerprint(signer)}" and right.verified, right
    both = evaluate(
        found, Trust(keys=[PublicKey.from_pem(crypto.public_pem(k)) for k in (stranger, signer)])
    )  # any one of the given keys may have signed; the signer is the one reported
    assert both.signer == crypto.fingerprint(signer)
