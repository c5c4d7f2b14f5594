"""Real cosign artifacts of tests/data/cosign (see its SOURCE.md), and honest ways to tamper with copies.

Tampering never signs anything: a copy of a real layout gets one of its real parts changed (a byte of a
signature, an annotation swapped for another real one, …) and its ``index.json`` re-pointed at the
changed manifest, which is what an attacker with write access to a layout or registry can do.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "cosign"
PROD_ROOT = DATA / "trusted_root.production.json"
STAGING_ROOT = DATA / "trusted_root.staging.json"
#: slsa-github-generator v1.2.0: a single-platform image with one .att (Rekor intoto 0.0.1, SET)
V120 = "slsa-v1.2.0-image"
#: slsa-github-generator v2.1.0: an image index with one .att
V210 = "slsa-v2.1.0-index"
GENERATOR = "^https://github.com/slsa-framework/slsa-github-generator/"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
KIND_ATTS = "dev.cosignproject.cosign/atts"


def copy_layout(name: str, dest: Path) -> Path:
    """A private copy of a real layout."""
    out = dest / name
    shutil.copytree(DATA / name, out)
    return out


def blob(layout: Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


def put_blob(layout: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return f"sha256:{digest}"


def index(layout: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((layout / "index.json").read_text())
    return doc


def entry(layout: Path, kind: str) -> dict[str, Any]:
    """The index.json entry ``cosign save`` marked with ``kind``."""
    return next(e for e in index(layout)["manifests"] if (e.get("annotations") or {}).get("kind") == kind)


def image_digest(layout: Path) -> str:
    e = next(e for e in index(layout)["manifests"] if "image" in (e.get("annotations") or {}).get("kind", ""))
    return str(e["digest"])


def atts_manifest(layout: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(blob(layout, entry(layout, KIND_ATTS)["digest"]))
    return doc


def rewrite_atts(layout: Path, change: Callable[[dict[str, Any], Path], None]) -> None:
    """Let ``change`` edit the atts manifest (and write blobs), then point index.json at the new manifest."""
    manifest = atts_manifest(layout)
    change(manifest, layout)
    data = json.dumps(manifest, separators=(",", ":")).encode()
    digest = put_blob(layout, data)
    doc = index(layout)
    for e in doc["manifests"]:
        if (e.get("annotations") or {}).get("kind") == KIND_ATTS:
            e["digest"], e["size"] = digest, len(data)
    (layout / "index.json").write_text(json.dumps(doc, indent=1))


def flip_b64(text: str, at: int = 10) -> str:
    """``text`` (base64) with one decoded byte flipped."""
    import base64

    raw = bytearray(base64.b64decode(text))
    raw[at] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()
