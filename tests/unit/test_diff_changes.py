"""``has_changes`` of a diff (what ``diff --exit-code`` tests), on constructed models."""

from __future__ import annotations

from typing import Any

import pytest

from provenant.compare.base_image import BaseImage
from provenant.compare.diff import (
    ConfigChange,
    DiffResult,
    ImageSide,
    LayerRef,
    PackageChange,
    PackageRef,
    PlatformDiff,
)

BASE = BaseImage(
    name="docker.io/library/debian:12", digest="sha256:" + "b" * 64, evidence="provenance", detail="materials"
)
LAYER = LayerRef(
    index=1,
    diff_id="sha256:" + "d" * 64,
    digest="sha256:" + "e" * 64,
    size=10,
    uncompressed_size=20,
    created_by="RUN make",
)


def _side(digest: str, **update: Any) -> ImageSide:
    side = ImageSide(
        manifest_digest=digest,
        compressed_size=100,
        uncompressed_size=200,
        layer_count=1,
        package_count=3,
        base_image=BASE,
    )
    return side.model_copy(update=update)


def _unchanged() -> PlatformDiff:
    """Another manifest (another digest, the layer compressed differently), the same content."""
    return PlatformDiff(
        platform="linux/amd64",
        identical=False,
        a=_side("sha256:" + "1" * 64),
        b=_side("sha256:" + "2" * 64, compressed_size=90),
        compressed_delta=-10,
        uncompressed_delta=0,
        packages_added=[],
        packages_removed=[],
        packages_changed=[],
        layers_reused=[LAYER.model_copy(update={"index": 0})],
        layers_added=[],
        layers_removed=[],
        config_changes=[],
        base_image_changed=False,
    )


def _result(*platforms: PlatformDiff, only_in_a: tuple[str, ...] = (), only_in_b: tuple[str, ...] = ()) -> DiffResult:
    return DiffResult(
        a="a",
        b="b",
        a_source="registry",
        b_source="registry",
        a_digest="sha256:" + "a" * 64,
        b_digest="sha256:" + "c" * 64,
        platforms=list(platforms),
        only_in_a=list(only_in_a),
        only_in_b=list(only_in_b),
    )


CHANGES: dict[str, dict[str, Any]] = {
    "package added": {"packages_added": [PackageRef(type="deb", name="libzstd1", version="1.5.4")]},
    "package removed": {"packages_removed": [PackageRef(type="deb", name="libzstd1", version="1.5.4")]},
    "package changed": {
        "packages_changed": [PackageChange(type="deb", name="libc6", old_version="2.36-9", new_version="2.36-10")]
    },
    "layer added": {"layers_added": [LAYER]},
    "layer removed": {"layers_removed": [LAYER]},
    "layer repeated": {"b": _side("sha256:" + "2" * 64, layer_count=2)},
    "config changed": {"config_changes": [ConfigChange(field="env", key="APP_VERSION", old="1.0", new="1.1")]},
    "base image changed": {"base_image_changed": True},
    "other platform": {"platform_b": "linux/arm64/v8"},
}

NOT_CHANGES: dict[str, dict[str, Any]] = {
    "identical manifests": {"identical": True, "b": _side("sha256:" + "1" * 64), "compressed_delta": 0},
    "compression only": {},
    "base image on one side only": {"b": _side("sha256:" + "2" * 64, base_image=None), "base_image_changed": None},
    "package count only": {"b": _side("sha256:" + "2" * 64, package_count=4)},
}


@pytest.mark.parametrize("update", CHANGES.values(), ids=CHANGES.keys())
def test_each_reported_difference_is_a_change(update: dict[str, Any]) -> None:
    p = _unchanged().model_copy(update=update)
    assert p.has_changes
    assert _result(_unchanged(), p).has_changes  # one changed platform is enough


@pytest.mark.parametrize("update", NOT_CHANGES.values(), ids=NOT_CHANGES.keys())
def test_same_content_is_no_change(update: dict[str, Any]) -> None:
    p = _unchanged().model_copy(update=update)
    assert not p.has_changes
    assert not _result(p, _unchanged()).has_changes


def test_a_platform_on_one_side_only_is_a_change() -> None:
    assert _result(_unchanged(), only_in_a=("linux/arm64/v8",)).has_changes
    assert _result(_unchanged(), only_in_b=("linux/s390x",)).has_changes
    assert not _result(_unchanged()).has_changes


def test_has_changes_is_not_in_the_json_document() -> None:
    """A property, not a field: the JSON document of a diff without --exit-code is unchanged."""
    assert "has_changes" not in _result(_unchanged()).model_dump()
