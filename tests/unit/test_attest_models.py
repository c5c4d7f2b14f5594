"""Statements, envelopes, simple signing, bundles, and provenance extraction."""

from __future__ import annotations

import json

import pytest

from fixtures.attest import BuildFacts, provenance_predicate
from fixtures.ociimage import Platform
from provenant.attest import constants as c
from provenant.attest.errors import SignatureFormatError
from provenant.attest.models import parse_bundle, parse_simple_signing, parse_statement
from provenant.attest.provenance import extract_provenance
from provenant.errors import UsageError
from tests.attestdata import artifacts, crypto

DIGEST = "sha256:" + "d" * 64
FACTS = BuildFacts(
    builder_id="https://github.com/o/r/actions/runs/1/attempts/1",
    source_repo="https://github.com/o/r",
    revision="0123456789abcdef0123456789abcdef01234567",
    base_purl_name="debian@12",
    base_digest="sha256:" + "e" * 64,
    build_args=(("build-arg:VERSION", "1.2.3"), ("BUILDKIT_SBOM_SCAN_STAGE", "false"), ("target", "runtime")),
)


def test_statement_v01_and_v1() -> None:
    v01 = parse_statement(artifacts.statement(DIGEST, c.SPDX, {"spdxVersion": "SPDX-2.3"}), "s")
    assert (v01.version, v01.predicate_type, v01.subject_digests()) == ("v0.1", c.SPDX, [DIGEST])
    v1 = parse_statement(artifacts.statement(DIGEST, c.SLSA_V1, {"a": 1}, v1=True), "s")
    assert v1.version == "v1"


def test_v1_statement_is_checked_by_the_in_toto_library() -> None:
    bad = json.dumps(
        {"_type": c.STATEMENT_V1, "subject": [{"name": "x"}], "predicateType": "p", "predicate": {"a": 1}}
    ).encode()
    with pytest.raises(SignatureFormatError, match="At least one digest required"):
        parse_statement(bad, "stmt")
    with pytest.raises(SignatureFormatError, match="not an in-toto Statement"):
        parse_statement(b'{"_type": "https://example.com/other"}', "stmt")
    with pytest.raises(SignatureFormatError, match="not valid JSON"):
        parse_statement(b"{", "stmt")
    for kind in (b"[]", b"{}", b"1"):  # a _type of another JSON type is the same reason, not a TypeError
        with pytest.raises(SignatureFormatError, match=r"^stmt is not an in-toto Statement: _type is "):
            parse_statement(b'{"_type": ' + kind + b"}", "stmt")


def test_simple_signing_reads_the_spec_example_capitalisation() -> None:
    doc = {"critical": {"identity": {"docker-reference": "t/m"}, "image": {"Docker-manifest-digest": DIGEST},
                        "type": c.SIMPLESIGNING_TYPE}, "optional": {"creator": "atomic"}}  # fmt: skip
    parsed = parse_simple_signing(json.dumps(doc).encode(), "p")
    assert parsed.critical.image.docker_manifest_digest == DIGEST
    with pytest.raises(SignatureFormatError, match="critical"):
        parse_simple_signing(b"{}", "p")


def test_bundle_parsing() -> None:
    key = crypto.new_key()
    b = parse_bundle(artifacts.bundle_with_key(b"{}", key), "b")
    assert b.dsse_envelope is not None and b.verification_material.public_key is not None
    cert = crypto.fulcio_like_cert(key, "dev@example.com", "https://accounts.example.com")
    b2 = parse_bundle(artifacts.bundle_with_cert(b"{}", key, cert), "b")
    assert b2.verification_material.leaf_certificate_der() == cert
    with pytest.raises(SignatureFormatError, match="unknown bundle media type"):
        parse_bundle(json.dumps({"mediaType": "x", "verificationMaterial": {}, "dsseEnvelope": {
            "payloadType": "t", "payload": "", "signatures": []}}).encode(), "b")  # fmt: skip


def test_buildkit_v02_provenance() -> None:
    pred = provenance_predicate("v0.2", Platform("linux", "amd64"), DIGEST, FACTS)
    p = extract_provenance(c.SLSA_V02, pred)
    assert p is not None
    assert (p.slsa_version, p.builder_id, p.is_buildkit, p.buildkit_mode) == ("v0.2", FACTS.builder_id, True, "min")
    assert p.build_type == "https://mobyproject.org/buildkit@v1"
    assert (p.source.repository, p.source.commit, p.source.path) == (FACTS.source_repo, FACTS.revision, "Dockerfile")
    assert [(b.purl, b.digest) for b in p.base_images] == [
        ("pkg:docker/debian@12?platform=linux%2Famd64", {"sha256": "e" * 64})
    ]
    assert p.build_args == {"VERSION": "1.2.3", "BUILDKIT_SBOM_SCAN_STAGE": "false"}
    assert p.frontend_options == {"target": "runtime"}
    assert p.completeness == {"parameters": True, "environment": True, "materials": False}
    assert not p.complete
    assert p.reproducible is False
    pred["buildConfig"] = {"llbDefinition": []}
    assert extract_provenance(c.SLSA_V02, pred).buildkit_mode == "max"  # type: ignore[union-attr]


def test_buildkit_v1_provenance() -> None:
    pred = provenance_predicate("v1", Platform("linux", "arm64", "v8"), DIGEST, FACTS)
    pred["buildDefinition"]["resolvedDependencies"].append(
        {"uri": "pkg:docker/docker/dockerfile@1", "digest": {"sha256": "f" * 64}}
    )
    p = extract_provenance(c.SLSA_V1, pred)
    assert p is not None
    assert (p.slsa_version, p.is_buildkit, p.buildkit_mode) == ("v1", True, "min")
    assert (p.source.repository, p.source.commit) == (FACTS.source_repo, FACTS.revision)
    assert [b.purl for b in p.base_images] == ["pkg:docker/debian@12?platform=linux%2Farm64%2Fv8"]
    assert [d.kind for d in p.dependencies] == ["base-image", "frontend"]
    assert p.completeness == {"request": True, "resolvedDependencies": False}
    assert p.invocation_id is not None
    pred["buildDefinition"]["internalParameters"]["buildConfig"] = {}
    assert extract_provenance(c.SLSA_V1, pred).buildkit_mode == "max"  # type: ignore[union-attr]


def test_github_actions_v1_provenance() -> None:
    pred = {
        "buildDefinition": {
            "buildType": "https://actions.github.io/buildtypes/workflow/v1",
            "externalParameters": {
                "workflow": {
                    "ref": "refs/heads/main",
                    "repository": "https://github.com/o/r",
                    "path": ".github/workflows/b.yml",
                }
            },
            "resolvedDependencies": [
                {"uri": "git+https://github.com/o/r@refs/heads/main", "digest": {"gitCommit": "a" * 40}}
            ],
        },
        "runDetails": {
            "builder": {"id": "https://github.com/actions/runner/github-hosted"},
            "metadata": {"invocationId": "i"},
        },
    }
    p = extract_provenance(c.SLSA_V1, pred)
    assert p is not None
    assert (p.source.repository, p.source.ref, p.source.commit) == (
        "https://github.com/o/r",
        "refs/heads/main",
        "a" * 40,
    )
    assert p.source.path == ".github/workflows/b.yml"
    assert (p.is_buildkit, p.buildkit_mode, p.base_images) == (False, None, [])


def test_other_predicates_are_not_provenance() -> None:
    assert extract_provenance(c.SPDX, {"spdxVersion": "SPDX-2.3"}) is None
    with pytest.raises(ValueError, match="builder"):
        extract_provenance(c.SLSA_V02, {"buildType": "x"})


def test_predicate_types() -> None:
    assert c.resolve_predicate_type("slsaprovenance") == c.SLSA_V02
    assert c.resolve_predicate_type("cyclonedx") == c.CYCLONEDX
    assert c.resolve_predicate_type("https://example.com/p/v1") == "https://example.com/p/v1"
    with pytest.raises(UsageError):
        c.resolve_predicate_type("nonsense")
    assert c.predicate_family("https://spdx.dev/Document/v2.3") == "spdx"
    assert c.predicate_family(c.SLSA_V1) == "slsa-provenance"
    assert c.tag_for(DIGEST, "sig") == "sha256-" + "d" * 64 + ".sig"


def test_a_lone_surrogate_escape_reads_as_go_reads_it() -> None:
    """``"\\ud800"`` is valid JSON but no UTF-8 text: read as U+FFFD (as Go's encoding/json does), so a DSSE
    envelope spelling it in its payloadType is an envelope that does not verify, not an encoding error."""
    from provenant.attest.dsse import pae
    from provenant.attest.models import parse_envelope

    env = parse_envelope(b'{"payloadType": "application/\\ud800json", "payload": "e30=", "signatures": []}', "env")
    assert env.payload_type == "application/\ufffdjson"
    assert pae(env.payload_type, b"{}") == b"DSSEv1 19 application/\xef\xbf\xbdjson 2 {}"
    raw = artifacts.statement(DIGEST, c.SPDX, {"name": "N"}).replace(b'"N"', b'"\\ud83d\\ude00 \\udcff"')
    stmt = parse_statement(raw, "s")
    assert stmt.predicate == {"name": "\U0001f600 \ufffd"}  # a pair is one character; only a lone one is replaced
