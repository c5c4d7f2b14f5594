"""Shared image reading: digest checks, index handling, platform loading, inspect on top of it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provenant.digest import Digest
from provenant.errors import DigestMismatchError, ManifestError, PlatformNotFoundError
from provenant.image import FetchedManifest, ImageReader
from provenant.inspect import inspect_image, mask_env
from provenant.oci import mediatypes as mt
from provenant.oci.models import Descriptor
from provenant.oci.platform import PlatformSpec
from provenant.sources.base import RawManifest
from tests.memsource import MemorySource, canonical


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


# -- the verifying reader, case by case ---------------------------------------------------------------------


def _single(arch: str = "amd64") -> tuple[MemorySource, dict[str, Any]]:
    src = MemorySource()
    desc = _image(src, arch, [b"only-layer"])
    src.tags["latest"] = desc["digest"]
    return src, desc


def test_documents_up_to_the_size_limit_are_read_and_larger_ones_refused() -> None:
    from provenant.limits import LimitExceededError, Limits

    cap = 4096
    lim = Limits(manifest_bytes=cap)
    src = MemorySource()
    base = _image(src, "amd64", [b"x"])
    manifest = json.loads(src.blobs[base["digest"]])
    padding = cap - len(canonical({**manifest, "annotations": {"pad": ""}}))
    exact = canonical({**manifest, "annotations": {"pad": "p" * padding}})
    assert len(exact) == cap
    src.tags["exact"] = src.add(exact, mt.OCI_MANIFEST)["digest"]
    assert ImageReader(src, limits=lim).resolve("exact").digest == Digest.of(exact)
    over = canonical({**manifest, "annotations": {"pad": "p" * (padding + 1)}})
    src.tags["over"] = src.add(over, mt.OCI_MANIFEST)["digest"]
    with pytest.raises(LimitExceededError) as info:
        ImageReader(src, limits=lim).resolve("over")
    limit = f"{cap + 1} bytes: over the manifest-bytes limit of 4 KiB"
    assert info.value.message == f"manifest over is {limit}"
    # Blobs read whole (configs) are held to the same limit, by their descriptor.
    reader = ImageReader(src, limits=lim)
    blob = src.add(b"c" * cap)
    assert len(reader.read_blob(Descriptor.model_validate(blob), "config x")) == cap
    big = Descriptor.model_validate({**blob, "size": cap + 1})
    with pytest.raises(LimitExceededError) as info:
        reader.read_blob(big, "config x")
    assert info.value.message == f"config x is {limit}"


def test_a_manifest_asked_for_by_digest_is_verified_and_keeps_the_source_facts() -> None:
    src, desc = _single()

    class WithFacts(MemorySource):
        def get_manifest(self, identifier: str) -> RawManifest:
            raw = super().get_manifest(identifier)
            return RawManifest(raw.data, raw.media_type, {"ratelimit-remaining": "9"})

    facts = WithFacts()
    facts.blobs, facts.types, facts.tags = src.blobs, src.types, src.tags
    fetched = ImageReader(facts).fetch_manifest(desc["digest"])
    assert (str(fetched.digest), fetched.media_type, fetched.facts) == (
        desc["digest"],
        mt.OCI_MANIFEST,
        {"ratelimit-remaining": "9"},
    )
    # By tag: the digest is computed; by digest: bytes that do not match are an error naming what was asked.
    assert str(ImageReader(src).fetch_manifest("latest").digest) == desc["digest"]
    src.tamper[desc["digest"]] = src.blobs[desc["digest"]] + b" "
    with pytest.raises(DigestMismatchError) as info:
        ImageReader(src).fetch_manifest(desc["digest"])
    assert info.value.diagnostics().startswith(f"manifest {desc['digest']}")
    del src.tamper[desc["digest"]]
    # The size an index declares is checked too.
    declared = Descriptor.model_validate({**desc, "size": desc["size"] + 1})
    with pytest.raises(DigestMismatchError) as info:
        ImageReader(src).fetch_manifest(desc["digest"], declared=declared)
    assert f"{desc['size'] + 1} bytes" in info.value.diagnostics()


def test_the_media_type_comes_from_the_source_when_the_body_has_none() -> None:
    src, desc = _single()
    manifest = json.loads(src.blobs[desc["digest"]])
    del manifest["mediaType"]
    untyped = src.add_json(manifest, mt.OCI_MANIFEST)
    assert ImageReader(src).fetch_manifest(untyped["digest"]).media_type == mt.OCI_MANIFEST
    bare = src.add(canonical({"schemaVersion": 2}))
    with pytest.raises(ManifestError) as info:
        ImageReader(src).fetch_manifest(bare["digest"])
    assert info.value.message.startswith(f"manifest {bare['digest']}")


def test_an_artifact_is_not_an_image() -> None:
    src = MemorySource()
    art = src.add_json({"schemaVersion": 2, "mediaType": "application/vnd.oci.artifact.manifest.v1+json"}, "x")
    with pytest.raises(ManifestError) as info:
        ImageReader(src).fetch_manifest(art["digest"])
    assert info.value.message == (
        f"manifest {art['digest']} has media type 'application/vnd.oci.artifact.manifest.v1+json', "
        "which is neither an image index nor an image manifest"
    )
    assert info.value.hint == "point provenant at an image, not at an artifact"


def test_load_platform_from_an_index_entry_or_a_fetched_manifest() -> None:
    src, _amd, arm = _multiarch()
    reader = ImageReader(src)
    top = reader.resolve()
    entries = top.as_index().manifests
    image = reader.load_platform(entries[1])
    assert (image.descriptor, str(image.manifest_digest), image.manifest_media_type) == (
        entries[1],
        arm["digest"],
        mt.OCI_MANIFEST,
    )
    assert str(image.platform) == "linux/arm64/v8"  # the index entry's variant, not the config's
    cfg = json.loads(src.blobs[arm["digest"]])["config"]
    assert image.config_size == cfg["size"] == len(src.blobs[cfg["digest"]])
    # An entry that declares another size is refused.
    wrong = entries[0].model_copy(update={"size": entries[0].size + 1})
    with pytest.raises(DigestMismatchError):
        reader.load_platform(wrong)
    with pytest.raises(ValueError, match=r"^load_platform needs a descriptor or a fetched manifest$"):
        reader.load_platform(None)
    with pytest.raises(ManifestError) as info:
        reader.load_platform(None, top)
    assert info.value.message == f"manifest {top.digest} is an index nested where an image manifest was expected"
    # A bad config is named by its digest.
    src.tamper[cfg["digest"]] = b"{}"
    with pytest.raises(DigestMismatchError) as dm:
        reader.load_platform(entries[1])
    assert dm.value.diagnostics().startswith(f"config {cfg['digest']}")
    src.tamper.clear()
    not_a_config = src.add(b"[]", mt.OCI_CONFIG)
    odd = src.add_json(
        {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "config": not_a_config, "layers": []}, mt.OCI_MANIFEST
    )
    with pytest.raises(ManifestError) as info:
        reader.load_platform(Descriptor.model_validate(odd))
    assert f"config {not_a_config['digest']}" in info.value.message


def test_a_malformed_index_or_manifest_names_its_digest() -> None:
    bad = FetchedManifest(b"[]", mt.OCI_INDEX, Digest.of(b"[]"))
    with pytest.raises(ManifestError) as info:
        bad.as_index()
    assert f"index {bad.digest}" in info.value.message
    with pytest.raises(ManifestError) as info:
        bad.as_manifest()
    assert f"manifest {bad.digest}" in info.value.message


def test_a_single_manifest_and_a_platform_filter() -> None:
    src, desc = _single("arm64")
    reader = ImageReader(src)
    top = reader.resolve()
    [image] = reader.load_images(top, [PlatformSpec.parse("linux/arm64")])
    assert (image.descriptor, str(image.platform)) == (None, "linux/arm64/v8")
    assert [str(i.manifest_digest) for i in reader.load_images(top)] == [desc["digest"]]
    with pytest.raises(PlatformNotFoundError) as info:
        reader.load_images(top, [PlatformSpec.parse("linux/amd64"), PlatformSpec.parse("linux/s390x")])
    assert info.value.message == f"image {top.digest} is linux/arm64/v8, not linux/amd64, linux/s390x"
