"""The per-layer unit of fleet work: fetch one layer blob, verify it, scan it, store the scan in the cache.

:func:`run_layer_job` is a pure function of a :class:`LayerJob` (where to read the blob, its descriptor,
the limits, the cache directory): everything a worker process needs travels in the job, so any
executor can run it. Its output is the cache entry; it returns only the digest or the one-line error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from provenant.limits import Limits
from provenant.sources.registry import RegistryOptions

if TYPE_CHECKING:
    from provenant.sources.registry.gate import Gate

#: One registry client per worker process and options (with its gate's repr), so connections and tokens
#: are reused across jobs.
_CLIENTS: dict[str, tuple[str, object]] = {}


@dataclass(frozen=True)
class LayerJob:
    """One layer to scan: ``source`` is a reference ``open_target`` opens (registry ref or ``oci:DIR``)."""

    source: str
    digest: str
    size: int
    media_type: str
    diff_id: str
    #: The layer cache: a directory every worker sees, or an fsspec URL (``s3://bucket/prefix``).
    cache: str
    limits: Limits
    registry: RegistryOptions


@dataclass(frozen=True)
class LayerOutcome:
    """The job's digest and, when the layer could not be scanned, why (one line)."""

    digest: str
    error: str | None = None


def with_gate(jobs: Sequence[LayerJob], gate: Gate) -> list[LayerJob]:
    """``jobs`` whose registry clients share ``gate`` (the executor's request budget per registry host)."""
    return [replace(job, registry=replace(job.registry, gate=gate)) for job in jobs]


def _client(options: RegistryOptions) -> object:
    from provenant.sources.registry import RegistryClient

    # The password is not in the repr (one run has one set of credentials). The gate is one per run: a
    # new run replaces the client (a long-lived Dask worker keeps one per options, not one per run).
    key, gate = repr(options), repr(options.gate)
    cached = _CLIENTS.get(key)
    if cached is None or cached[0] != gate:
        cached = _CLIENTS[key] = (gate, RegistryClient(options))
    return cached[1]


def close_clients() -> None:
    """Close and forget this process's registry clients (after layer jobs run in the scanning process itself)."""
    from provenant.sources.registry import RegistryClient

    for _gate, client in _CLIENTS.values():
        if isinstance(client, RegistryClient):
            client.close()
    _CLIENTS.clear()


def run_layer_job(job: LayerJob) -> LayerOutcome:
    """Scan the layer ``job`` names into the cache (unless already there); errors become the outcome."""
    from provenant import limits as limits_mod
    from provenant.catalog.registry import default_plan
    from provenant.errors import ProvenantError
    from provenant.fleet.remotecache import open_layer_cache
    from provenant.image import ImageReader
    from provenant.layers.limitkey import scan_limits_key
    from provenant.layers.scan import scan_layer
    from provenant.oci.models import Descriptor
    from provenant.sources.open import open_target
    from provenant.sources.registry import RegistryClient

    limits_mod.activate(job.limits, start_deadline=False)
    plan = default_plan()
    scanner = f"{plan.version}-{scan_limits_key(job.limits)}"
    cache = open_layer_cache(job.cache)
    hit = cache.get(scanner, job.digest)
    if hit is not None and hit.diff_id == job.diff_id:
        return LayerOutcome(job.digest)
    client = _client(job.registry)  # the limits are this process's, activated above
    assert isinstance(client, RegistryClient)
    try:
        target = open_target(job.source, client)
        try:
            reader = ImageReader(target.source)
            desc = Descriptor.model_validate({"mediaType": job.media_type, "digest": job.digest, "size": job.size})
            with reader.stream_blob(desc, f"layer {job.digest}") as chunks:
                scan = scan_layer(chunks, digest=job.digest, diff_id=job.diff_id, plan=plan, limits=job.limits)
        finally:
            if target.kind != "registry":  # registry sources share the per-process client
                target.source.close()
    except ProvenantError as exc:
        return LayerOutcome(job.digest, exc.diagnostics())
    except (OSError, ValueError) as exc:
        return LayerOutcome(job.digest, f"layer {job.digest}: {type(exc).__name__}: {exc}")
    cache.put(scanner, scan)
    return LayerOutcome(job.digest)
