"""Unit tests of the compare building blocks: config diff, base-image evidence, Markdown cells."""

from __future__ import annotations

from typing import Any

from provenant.attest.evaluate import Attachment, SubjectCheck
from provenant.attest.provenance import extract_provenance
from provenant.compare.base_image import find_base_image
from provenant.compare.diff import config_changes
from provenant.compare.markdown import cell, code
from provenant.digest import Digest
from provenant.image import PlatformImage
from provenant.oci.models import ImageConfig, Manifest

BASE = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32


def _config(**config: Any) -> ImageConfig:
    return ImageConfig.model_validate(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}, "config": config}
    )


def test_config_changes_cover_every_field_and_mask_secrets() -> None:
    a = _config(
        User="root",
        Env=["PATH=/bin", "API_TOKEN=old-secret", "KEEP=1", "GONE=x"],
        Entrypoint=["/bin/sh"],
        Cmd=["-c", "true"],
        ExposedPorts={"80/tcp": {}},
        Labels={"a": "1", "b": "2"},
    )
    b = _config(
        User="65534",
        Env=["PATH=/bin", "API_TOKEN=new-secret", "KEEP=1", "NEW=y"],
        Entrypoint=["/bin/sh"],
        Cmd=["-c", "false"],
        ExposedPorts={"443/tcp": {}},
        Labels={"a": "1", "b": "3"},
        WorkingDir="/srv",
    )
    got = [(c.field, c.key, c.old, c.new) for c in config_changes(a, b)]
    assert got == [
        ("user", None, "root", "65534"),
        ("cmd", None, '["-c", "true"]', '["-c", "false"]'),
        ("working_dir", None, None, "/srv"),
        ("env", "API_TOKEN", "****", "****"),
        ("env", "GONE", "x", None),
        ("env", "NEW", None, "y"),
        ("labels", "b", "2", "3"),
        ("exposed_ports", "443/tcp", None, "present"),
        ("exposed_ports", "80/tcp", "present", None),
    ]
    assert config_changes(a, a) == []


def _image(annotations: dict[str, str] | None) -> PlatformImage:
    manifest = Manifest.model_validate(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": OTHER, "size": 2},
            "layers": [],
            "annotations": annotations,
        }
    )
    return PlatformImage(
        None, Digest.parse(OTHER), "application/vnd.oci.image.manifest.v1+json", manifest, _config(), 2
    )


def _provenance_attachment(purls: list[str]) -> Attachment:
    predicate = {
        "builder": {"id": "https://example/builder"},
        "buildType": "https://mobyproject.org/buildkit@v1",
        "materials": [{"uri": p, "digest": {"sha256": BASE.removeprefix("sha256:")}} for p in purls],
    }
    prov = extract_provenance("https://slsa.dev/provenance/v0.2", predicate)
    return Attachment(
        kind="attestation",
        format="in-toto",
        source="buildkit-index",
        location="x",
        container_digest=OTHER,
        media_type="application/vnd.in-toto+json",
        predicate_type="https://slsa.dev/provenance/v0.2",
        trust="unsigned",
        subject_check=SubjectCheck(status="match", expected=OTHER),
        provenance=prov,
    )


def test_base_image_prefers_provenance_then_annotations() -> None:
    annotated = _image(
        {
            "org.opencontainers.image.base.name": "docker.io/library/debian:12",
            "org.opencontainers.image.base.digest": OTHER,
        }
    )
    att = _provenance_attachment(
        ["pkg:docker/library/debian@12?platform=linux%2Famd64", "pkg:docker/golang@1.22?platform=linux%2Famd64"]
    )
    from_prov = find_base_image(annotated, [att])
    assert from_prov is not None
    assert (from_prov.name, from_prov.digest, from_prov.evidence, from_prov.detail, from_prov.trust) == (
        "library/debian:12",
        BASE,
        "provenance",
        "materials",
        "unsigned",
    )
    assert from_prov.also == ["golang:1.22"]
    from_ann = find_base_image(annotated, [])
    assert from_ann is not None
    assert (from_ann.name, from_ann.digest, from_ann.evidence) == ("docker.io/library/debian:12", OTHER, "annotations")
    assert find_base_image(_image(None), []) is None
    # Same base: by digest when both have one.
    assert from_prov.same_as(from_prov.model_copy(update={"name": "elsewhere"}))
    assert not from_prov.same_as(from_ann)


def test_markdown_cells_cannot_break_the_table() -> None:
    assert cell("a|b\nc") == "a\\|b c"
    assert code("x`y") == "`` x`y ``"
    assert code("plain") == "`plain`"
