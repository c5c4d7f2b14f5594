"""Shared image reading: digest checks, index handling, platform loading, inspect on top of it."""

from __future__ import annotations

from typing import Any

import pytest

from provenant.digest import Digest
from provenant.errors import DigestMismatchError, ManifestError
from provenant.image import ImageReader
from provenant.inspect import inspect_image, mask_env
from provenant.oci import mediatypes as mt
from provenant.oci.platform import PlatformSpec
from tests.memsource import MemorySource


def _image(src: MemorySource, arch: str, layers: list[bytes], **cfg: Any) -> dict[str, Any]:
    layer_descs = [src.add(layer, mt.OCI_LAYER_GZIP) for layer in layers]
    config = {
        "architecture": arch,
        "os": "linux",
        "created": "2024-01-02T03:04:05Z",
        "config": {"Env": ["PATH=/usr/bin", "DB_PASSWORD=hunter2", "API_TOKEN=x"], **cfg},
        "rootfs": {"type": "layers", "diff_ids": [str(Digest.of(x)) for x in layers]},
        "history": [
            {"created_by": "ADD rootfs", "created": "2024-01-01T00:00:00Z"},
            {"created_by": "ENV A=b", "empty_layer": True},
            *[{"created_by": f"RUN step {i}"} for i in range(1, len(layers))],
        ],
    }
    cfg_desc = src.add_json(config, mt.OCI_CONFIG)
    manifest = {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "config": cfg_desc, "layers": layer_descs}
    return src.add_json(manifest, mt.OCI_MANIFEST)


def _multiarch() -> tuple[MemorySource, dict[str, Any], dict[str, Any]]:
    src = MemorySource()
    amd = _image(src, "amd64", [b"base-layer", b"amd-extra"], User="app")
    arm = _image(src, "arm64", [b"base-layer", b"arm-extra", b"arm-more"])
    att = src.add_json(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "config": src.add(b"{}", mt.OCI_CONFIG),
            "layers": [],
        },
        mt.OCI_MANIFEST,
    )
    index = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [
            {**amd, "platform": {"architecture": "amd64", "os": "linux"}},
            {**arm, "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
            {
                **att,
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {
                    "vnd.docker.reference.type": "attestation-manifest",
                    "vnd.docker.reference.digest": amd["digest"],
                },
            },
        ],
    }
    src.tags["latest"] = src.add_json(index, mt.OCI_INDEX)["digest"]
    return src, amd, arm


def test_inspect_multiarch_sizes_and_attestations() -> None:
    src, amd, _arm = _multiarch()
    result = inspect_image(ImageReader(src), "mem")
    assert result.is_index
    assert [p.platform for p in result.platforms] == ["linux/amd64", "linux/arm64/v8"]
    # compressed size = config + layers, exactly as the descriptors state
    for row in result.platforms:
        manifest = src.blobs[row.digest]
        import json

        m = json.loads(manifest)
        assert row.compressed_size == m["config"]["size"] + sum(x["size"] for x in m["layers"])
    assert [(a.refers_to, a.refers_to_platform) for a in result.attestations] == [(amd["digest"], "linux/amd64")]
    img = result.images[0]
    assert img.config.user == "app"
    assert img.config.env == {"PATH": "/usr/bin", "DB_PASSWORD": "****", "API_TOKEN": "****"}
    assert [(h.created_by, h.empty_layer, h.size) for h in img.history] == [
        ("ADD rootfs", False, len(b"base-layer")),
        ("ENV A=b", True, 0),
        ("RUN step 1", False, len(b"amd-extra")),
    ]


def test_platform_filter() -> None:
    src, _, arm = _multiarch()
    result = inspect_image(ImageReader(src), "mem", [PlatformSpec.parse("linux/arm64")])
    assert [p.digest for p in result.platforms] == [arm["digest"]]


def test_tampered_platform_manifest_is_an_error() -> None:
    src, amd, _ = _multiarch()
    src.tamper[amd["digest"]] = src.blobs[amd["digest"]].replace(b"schemaVersion", b"schemaVersion ")
    with pytest.raises(DigestMismatchError) as info:
        inspect_image(ImageReader(src), "mem")
    assert amd["digest"] in info.value.diagnostics()


def test_tampered_config_is_an_error() -> None:
    src, amd, _ = _multiarch()
    import json

    cfg_digest = json.loads(src.blobs[amd["digest"]])["config"]["digest"]
    original = src.blobs[cfg_digest]
    src.tamper[cfg_digest] = original.replace(b"amd64", b"arm64")
    with pytest.raises(DigestMismatchError):
        inspect_image(ImageReader(src), "mem")
    src.tamper[cfg_digest] = original + b" "
    with pytest.raises(DigestMismatchError) as info:
        inspect_image(ImageReader(src), "mem")
    assert "bytes" in info.value.diagnostics()


def test_schema1_is_refused_clearly() -> None:
    src = MemorySource()
    src.tags["latest"] = src.add(b'{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}')["digest"]
    with pytest.raises(ManifestError, match="unsupported schema1 manifest"):
        ImageReader(src).resolve()


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"not json", "not valid JSON"),
        (b"[1,2]", "not a JSON object"),
        (
            b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}',
            "config",
        ),
        (
            b'{"schemaVersion":2,"manifests":[{"digest":"sha256:abc","size":1,"mediaType":"x"}]}',
            "64 lowercase hex",
        ),
    ],
)
def test_malformed_documents(body: bytes, fragment: str) -> None:
    src = MemorySource()
    src.tags["latest"] = src.add(body)["digest"]
    reader = ImageReader(src)
    with pytest.raises(Exception) as info:
        top = reader.resolve()
        reader.load_images(top)
    assert fragment in str(info.value)


def test_mask_env() -> None:
    masked = mask_env(["GPG_KEY=abc", "PATH=/bin", "AWS_SECRET_ACCESS_KEY=z", "EMPTY_TOKEN=", "KEYBOARD=us"])
    assert masked == {
        "GPG_KEY": "****",
        "PATH": "/bin",
        "AWS_SECRET_ACCESS_KEY": "****",
        "EMPTY_TOKEN": "",
        "KEYBOARD": "us",
    }


def test_mask_command() -> None:
    from provenant.inspect import mask_command

    assert mask_command("ENV API_TOKEN=s3cr3t PATH=/bin") == "ENV API_TOKEN=**** PATH=/bin"
    assert mask_command('/bin/sh -c #(nop) ENV DB_PASSWORD="a b" X=1') == "/bin/sh -c #(nop) ENV DB_PASSWORD=**** X=1"
    assert mask_command("RUN apt-get install -y curl") == "RUN apt-get install -y curl"


def test_an_index_declared_manifest_size_is_checked_even_when_the_digest_matches() -> None:
    # Same bytes, same digest: only the size the index declares is wrong. The digest cannot catch this.
    src = MemorySource()
    amd = _image(src, "amd64", [b"layer"])
    index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": [{**amd, "size": amd["size"] + 1}]}
    src.tags["latest"] = src.add_json(index, mt.OCI_INDEX)["digest"]
    with pytest.raises(DigestMismatchError) as info:
        inspect_image(ImageReader(src), "mem")
    text = info.value.diagnostics()
    assert amd["digest"] in text and f"{amd['size'] + 1} bytes" in text and f"got {amd['size']} bytes" in text


def test_documents_over_manifest_bytes_are_refused_before_they_are_read() -> None:
    from provenant.limits import LimitExceededError, Limits

    src, amd, _ = _multiarch()
    reader = ImageReader(src, limits=Limits(manifest_bytes=64))
    with pytest.raises(LimitExceededError, match="manifest-bytes limit of 64 bytes"):
        reader.resolve("latest")
    from provenant.oci.models import Descriptor

    desc = Descriptor.model_validate({**amd, "size": 1 << 30})
    with pytest.raises(LimitExceededError, match=f"manifest {amd['digest']} is 1073741824 bytes"):
        ImageReader(src).fetch_manifest(amd["digest"], declared=desc)
    with pytest.raises(LimitExceededError, match="config"):
        ImageReader(src).read_blob(desc, "config x")


def test_an_index_over_the_platforms_limit_is_refused() -> None:
    import json

    from provenant import limits
    from provenant.image import FetchedManifest

    entries = [
        {
            "mediaType": mt.OCI_MANIFEST,
            "digest": "sha256:" + f"{i:064x}",
            "size": 1,
            "platform": {"architecture": "amd64", "os": "linux"},
        }
        for i in range(5)
    ]
    data = json.dumps({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": entries}).encode()
    fetched = FetchedManifest(data, mt.OCI_INDEX, Digest.of(data))
    try:
        limits.activate(limits.Limits(platforms=5), start_deadline=False)
        assert len(fetched.as_index().manifests) == 5
        limits.activate(limits.Limits(platforms=4), start_deadline=False)
        with pytest.raises(limits.LimitExceededError, match=r"over the platforms limit of 4 \(it lists 5 manifests\)"):
            fetched.as_index()
    finally:
        limits.reset()
