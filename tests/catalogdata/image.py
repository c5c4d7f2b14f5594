"""Wrap files into a one- or two-layer OCI layout and catalog it: real test data seen as an image."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from fixtures.layers import Dir, File, Symlink, build_layer
from fixtures.ociimage import ImageSpec, Platform, Step, build_image, write_layout
from provenant.sbom.generate import generate_sbom
from provenant.sbom.result import ImageSbom
from provenant.session import Session

Entry = File | Dir | Symlink


def catalog_files(tmp: Path, *layers: Mapping[str, Entry], steps: Sequence[str] = ()) -> ImageSbom:
    """The SBOM of an image whose layers hold ``layers`` (path -> entry), read from an OCI layout."""
    built = [
        Step(steps[i] if i < len(steps) else f"COPY layer{i} /", build_layer(dict(files)))
        for i, files in enumerate(layers)
    ]
    image = build_image(ImageSpec(platform=Platform("linux", "amd64"), steps=built, config={"Cmd": ["/bin/sh"]}))
    layout = tmp / "layout"
    write_layout(layout, [("1", image.manifest)], image.blobs())
    with Session() as session:
        (result,) = generate_sbom(session, f"oci:{layout}:1").images
    return result
