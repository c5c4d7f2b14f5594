"""Registry access: an OCI distribution client (auth, retries, rate limits, resumable blobs) and its source.

Public API::

    RegistryOptions      settings (TLS, credentials, timeouts, retries, test seams)
    RegistryClient       the thread-safe API client
    RegistrySource       the ImageSource over one repository
    ManifestHead         what a manifest HEAD tells
    Credential           a resolved credential and where it came from (no secrets in repr)

The names are imported on first use: the stdlib-only modules of this package (challenge parsing,
credentials, :mod:`~provenant.sources.registry.quick`) serve the cached ``sbom`` path, which must not
pay for importing httpx and pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provenant.sources.registry.client import ManifestHead, RegistryClient
    from provenant.sources.registry.credentials import Credential, CredentialResolver
    from provenant.sources.registry.options import RegistryOptions, default_docker_config
    from provenant.sources.registry.source import RegistrySource

_HOMES = {
    "ManifestHead": "client",
    "RegistryClient": "client",
    "Credential": "credentials",
    "CredentialResolver": "credentials",
    "RegistryOptions": "options",
    "default_docker_config": "options",
    "RegistrySource": "source",
}

__all__ = [
    "Credential",
    "CredentialResolver",
    "ManifestHead",
    "RegistryClient",
    "RegistryOptions",
    "RegistrySource",
    "default_docker_config",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
