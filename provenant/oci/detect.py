"""What kind of manifest a document is, read without the pydantic models (the lean paths use it too)."""

from __future__ import annotations

import json
from typing import Any

from provenant.errors import ManifestError
from provenant.oci import mediatypes as mt
from provenant.structured import load_json

__all__ = ["detect_media_type", "load_object"]


def load_object(data: bytes, what: str) -> dict[str, Any]:
    """``data`` as a JSON object (depth-checked), or a one-line ManifestError."""
    try:
        obj = load_json(data, what)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{what} is not valid JSON: {exc}", hint="the source served a corrupt document") from exc
    if not isinstance(obj, dict):
        raise ManifestError(f"{what} is not a JSON object (got {type(obj).__name__})")
    return obj


def detect_media_type(data: bytes, declared: str | None, what: str) -> str:
    """The media type of a manifest document: its own ``mediaType`` field, else the declared one, else by shape."""
    obj = load_object(data, what)
    own = obj.get("mediaType")
    if isinstance(own, str) and own:
        media_type = own
    elif declared and declared not in ("application/json", "text/plain"):
        media_type = declared
    elif obj.get("schemaVersion") == 1:
        media_type = mt.DOCKER_SCHEMA1
    elif "manifests" in obj:
        media_type = mt.OCI_INDEX
    elif "config" in obj and "layers" in obj:
        media_type = mt.OCI_MANIFEST
    else:
        raise ManifestError(f"{what}: cannot tell what kind of manifest this is (no mediaType, no manifests/layers)")
    if media_type in mt.SCHEMA1_TYPES or obj.get("schemaVersion") == 1:
        raise ManifestError(
            f"{what}: unsupported schema1 manifest ({media_type})",
            hint="schema1 is deprecated; re-push the image with a current client to get a schema2/OCI manifest",
        )
    return media_type
