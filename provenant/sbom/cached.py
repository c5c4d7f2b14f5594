"""``provenant sbom`` answered from the document cache, importing only the standard library.

Used before the full pipeline: when every requested document of the image the reference names now
is cached, they are returned with fresh stamps and nothing else runs. Any miss returns None and the
full pipeline runs (and reports any error properly).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from provenant.errors import ProvenantError
from provenant.reference import parse_reference
from provenant.sbom.doccache import CachedDocuments, DocumentCache, DocumentRequest
from provenant.sbom.formats import MULTI_IMAGE
from provenant.sources.kind import registry_text
from provenant.sources.registry.quick import resolve_tag


@dataclass(frozen=True)
class CachedOutput:
    """The documents for one ``-o``; ``implied_merge`` when several platforms go to stdout as one."""

    fmt: str
    dest: str | None
    found: CachedDocuments
    implied_merge: bool


def cached_outputs(
    reference: str,
    platforms: tuple[str, ...],
    specs: list[tuple[str, str | None]],
    merge: bool,
    cache: DocumentCache,
    *,
    ca_file: Path | None = None,
) -> list[CachedOutput] | None:
    """Every ``-o`` of ``specs`` from the cache, for the image ``reference`` names now; None on any miss.

    Only registry references qualify. A digest reference needs no network at all; a tag costs one
    manifest HEAD (:func:`~provenant.sources.registry.quick.resolve_tag`), asked only when this
    request has been cached for some image before.
    """
    if not specs or not all(cache.cacheable(fmt) for fmt, _ in specs):
        return None
    requests = [DocumentRequest.of(reference, platforms, fmt, merge) for fmt, _ in specs]
    if not any(cache.knows(r) or cache.knows(replace(r, merge=True)) for r in requests):
        return None
    text = registry_text(reference)
    if text is None:
        return None
    try:
        ref = parse_reference(text)
    except ProvenantError:
        return None
    digest = str(ref.digest) if ref.digest is not None else resolve_tag(ref, ca_file=ca_file)
    if digest is None:
        return None
    outputs = []
    for (fmt, dest), request in zip(specs, requests, strict=True):
        found = cache.get(request, digest)
        implied = False
        if dest is None and not merge and fmt not in MULTI_IMAGE and (found is None or found.images > 1):
            found = cache.get(replace(request, merge=True), digest)
            implied = found is not None and found.images > 1
        if found is None:
            return None
        outputs.append(CachedOutput(fmt, dest, found, implied))
    return outputs
