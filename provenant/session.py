"""A session: the registry client and settings that every command of one run shares."""

from __future__ import annotations

from types import TracebackType

from pydantic import BaseModel

from provenant.image import ImageReader
from provenant.progress import Progress, current
from provenant.sources.open import Target, open_target
from provenant.sources.registry import RegistryClient, RegistryOptions


class RegistryInfo(BaseModel):
    """How the registry was talked to: which credential source, how many requests, rate-limit headers."""

    registry: str
    credential_source: str | None
    request_count: int
    rate_limit: dict[str, str]


class Session:
    """Holds one registry client (connection pool, token cache) for a run; use as a context manager."""

    def __init__(self, registry: RegistryOptions | None = None, progress: Progress | None = None) -> None:
        self.client = RegistryClient(registry or RegistryOptions())
        #: Observer of long work (resolve, fetch, scan); the process-wide one (a no-op) unless given.
        self.progress = progress or current()
        self._targets: list[Target] = []

    def open(self, text: str) -> Target:
        """Open the source ``text`` names (closed with the session)."""
        target = open_target(text, self.client)
        self._targets.append(target)
        return target

    def reader(self, target: Target) -> ImageReader:
        """A verifying reader over ``target``'s source."""
        return ImageReader(target.source)

    def registry_info(self, target: Target) -> RegistryInfo | None:
        """What the session learned about the registry behind ``target`` (None for local sources)."""
        if target.reference is None:
            return None
        return RegistryInfo(
            registry=target.reference.registry,
            credential_source=self.client.credential_source(target.reference.api_host),
            request_count=self.client.request_count,
            rate_limit=dict(self.client.rate_limit),
        )

    def close(self) -> None:
        """Close every source opened and the registry client."""
        for t in self._targets:
            t.source.close()
        self.client.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
