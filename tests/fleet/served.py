"""A fleet served by the scripted registry of tests/hostile/server.py (which can hold or refuse any answer)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.hostile.server import HostileServer

REPO = "fleet/app"


def serve_layout(srv: HostileServer, layout: Path) -> tuple[list[str], set[str]]:
    """Put an OCI layout's images into ``srv`` under ``REPO``; (references by tag, layer digests)."""
    index = json.loads((layout / "index.json").read_bytes())
    layers: set[str] = set()
    for path in (layout / "blobs" / "sha256").iterdir():
        data = path.read_bytes()
        digest = f"sha256:{path.name}"
        srv.blobs[digest] = data
        try:
            doc = json.loads(data)
        except ValueError:
            continue
        if isinstance(doc, dict) and ("manifests" in doc or "layers" in doc):
            srv.manifests[f"{REPO}@{digest}"] = (doc["mediaType"], data)
            layers.update(layer["digest"] for layer in doc.get("layers", []))
    refs = []
    for entry in index["manifests"]:
        tag = entry["annotations"]["org.opencontainers.image.ref.name"]
        srv.manifests[f"{REPO}:{tag}"] = srv.manifests[f"{REPO}@{entry['digest']}"]
        refs.append(f"{srv.host}/{REPO}:{tag}")
    return refs, layers
