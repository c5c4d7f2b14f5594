"""Platform normalisation and the one platform-selection function."""

import json

import pytest

from provenant.errors import PlatformNotFoundError, UsageError
from provenant.oci.models import parse_index
from provenant.oci.platform import PlatformSpec, normalize, select_platforms

D = "sha256:" + "1" * 64


def _desc(arch: str, variant: str | None = None, os: str = "linux", digest: str = D, **ann: str) -> dict[str, object]:
    plat: dict[str, str] = {"architecture": arch, "os": os}
    if variant:
        plat["variant"] = variant
    out: dict[str, object] = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest,
        "size": 100,
        "platform": plat,
    }
    if ann:
        out["annotations"] = ann
    return out


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("linux/arm64", "linux/arm64/v8"),
        ("linux/aarch64", "linux/arm64/v8"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/armhf", "linux/arm/v7"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/amd64/v1", "linux/amd64"),
        ("LINUX/AMD64", "linux/amd64"),
        ("linux/armel", "linux/arm/v6"),
        ("linux/i386", "linux/386"),
    ],
)
def test_equivalent_spellings(a: str, b: str) -> None:
    assert PlatformSpec.parse(a) == PlatformSpec.parse(b)


def test_distinct_variants() -> None:
    assert PlatformSpec.parse("linux/arm/v6") != PlatformSpec.parse("linux/arm/v7")
    assert PlatformSpec.parse("linux/amd64/v3") != PlatformSpec.parse("linux/amd64")
    assert str(normalize("linux", "arm64", None)) == "linux/arm64/v8"


@pytest.mark.parametrize("bad", ["linux", "linux/", "/amd64", "a/b/c/d", ""])
def test_bad_platform(bad: str) -> None:
    with pytest.raises(UsageError):
        PlatformSpec.parse(bad)


def _index(*descs: dict[str, object]) -> bytes:
    return json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": list(descs)}
    ).encode()


def test_attestation_manifests_are_never_platforms() -> None:
    amd = _desc("amd64", digest="sha256:" + "a" * 64)
    arm = _desc("arm64", "v8", digest="sha256:" + "b" * 64)
    att = _desc(
        "unknown",
        os="unknown",
        digest="sha256:" + "c" * 64,
        **{
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": "sha256:" + "a" * 64,
        },
    )
    bare_unknown = _desc("unknown", os="unknown", digest="sha256:" + "d" * 64)
    index = parse_index(_index(amd, att, arm, bare_unknown), "test index")
    chosen = select_platforms(index)
    assert [d.digest for d in chosen] == ["sha256:" + "a" * 64, "sha256:" + "b" * 64]
    assert [d.digest for d in select_platforms(index, [PlatformSpec.parse("linux/aarch64")])] == ["sha256:" + "b" * 64]


def test_missing_platform_names_the_offered_ones() -> None:
    index = parse_index(_index(_desc("amd64"), _desc("arm64", "v8", digest="sha256:" + "2" * 64)), "i")
    with pytest.raises(PlatformNotFoundError) as info:
        select_platforms(index, [PlatformSpec.parse("linux/s390x")])
    assert "linux/s390x" in info.value.diagnostics()
    assert "linux/amd64, linux/arm64/v8" in info.value.diagnostics()


@pytest.mark.parametrize(
    "text", ["linux/arm64/8", "linux/arm64/v8", "linux/arm64", "linux/aarch64/8", "LINUX/ARM64/V8"]
)
def test_arm64_variant_8_is_v8(text: str) -> None:
    # Some builders write `variant: "8"`; it is the same platform as `v8` and bare `arm64`.
    assert PlatformSpec.parse(text) == PlatformSpec("linux", "arm64", "v8")
    assert str(PlatformSpec.parse(text)) == "linux/arm64/v8"


def test_arm64_variant_8_in_an_index_is_selected_by_any_spelling() -> None:
    index = parse_index(_index(_desc("arm64", "8", digest="sha256:" + "8" * 64)), "i")
    for wanted in ("linux/arm64", "linux/arm64/v8", "linux/arm64/8"):
        assert [d.digest for d in select_platforms(index, [PlatformSpec.parse(wanted)])] == ["sha256:" + "8" * 64]
