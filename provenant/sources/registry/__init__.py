"""Registry access: an OCI distribution client (auth, retries, rate limits, resumable blobs) and its source.

Public API::

    RegistryOptions      settings (TLS, credentials, timeouts, retries, test seams)
    RegistryClient       the thread-safe API client
    RegistrySource       the ImageSource over one repository
    ManifestHead         what a manifest HEAD tells
    Credential           a resolved credential and where it came from (no secrets in repr)
"""

from provenant.sources.registry.client import ManifestHead, RegistryClient
from provenant.sources.registry.credentials import Credential, CredentialResolver
from provenant.sources.registry.options import RegistryOptions, default_docker_config
from provenant.sources.registry.source import RegistrySource

__all__ = [
    "Credential",
    "CredentialResolver",
    "ManifestHead",
    "RegistryClient",
    "RegistryOptions",
    "RegistrySource",
    "default_docker_config",
]
