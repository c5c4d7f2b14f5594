"""Wasted bytes: regular files whose copy in a layer is hidden by a later layer, yet still pulled."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from provenant.hygiene.models import WastedFile
from provenant.layers.scan import LayerScan
from provenant.layers.tarwalk import REGULAR
from provenant.layers.view import ImageView


def wasted_files(scans: Sequence[LayerScan], view: ImageView) -> list[WastedFile]:
    """Every hidden regular-file copy, largest first. ``overwritten``: the path is visible at the top
    from a later layer; ``deleted``: it is not visible at all (whiteout, opaque directory, or a parent
    replaced by a file or symlink). Hard links and empty files waste nothing and are left out."""
    out = []
    for i, scan in enumerate(scans):
        for path, kind, size, _mode, _link in scan.rows:
            if kind != REGULAR or size == 0:
                continue
            visible = view.entries.get(path)
            if visible is not None and visible.layer_index == i:
                continue
            reason: Literal["overwritten", "deleted"] = "deleted" if visible is None else "overwritten"
            out.append(WastedFile(path="/" + path, layer_index=i, size=size, reason=reason))
    return sorted(out, key=lambda w: (-w.size, w.path, w.layer_index))
