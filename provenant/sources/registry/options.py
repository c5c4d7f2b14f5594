"""Settings of the registry client: TLS, credentials, timeouts, retries, the network policy and test seams.

Timeouts, retries and the Retry-After cap come from the active :class:`~provenant.limits.Limits`
(``--limit``, ``--timeout``) unless the caller sets them here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from provenant.limits import Limits
    from provenant.sources.registry.gate import Gate

#: Resolves a host name to its IP addresses (text); the seam that lets tests resolve without DNS.
Resolver = Callable[[str], list[str]]


def default_docker_config() -> Path:
    """``$DOCKER_CONFIG/config.json`` when ``DOCKER_CONFIG`` is set, else ``~/.docker/config.json``."""
    base = os.environ.get("DOCKER_CONFIG")
    if base:
        return Path(base) / "config.json"
    return Path.home() / ".docker" / "config.json"


@dataclass(frozen=True)
class RegistryOptions:
    """How to talk to registries. ``repr()`` never shows the password."""

    #: Allow unverified TLS, and plain HTTP as a fallback, for hosts that are not loopback.
    insecure: bool = False
    #: Extra CA certificates (PEM) to trust besides the system and certifi stores.
    ca_file: Path | None = None
    #: Explicit credentials (``--username`` with ``--password-stdin``); they win over every other source.
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    #: Docker's config.json; ``None`` means :func:`default_docker_config` at lookup time.
    docker_config: Path | None = None
    #: Seconds for every timeout of one request (connect and each read); None: the limits'
    #: ``connect-timeout`` and ``read-timeout``.
    timeout: float | None = None
    #: Retries after the first attempt (so ``max_retries=5`` makes at most 6 attempts); None: ``retries``.
    max_retries: int | None = None
    #: First backoff delay in seconds; it doubles each retry and is jittered.
    backoff_base: float = 0.5
    #: The longest wait a ``Retry-After`` may ask for (a longer one fails at once); None: ``retry-after-cap``.
    retry_after_cap: float | None = None
    #: The limits to apply; None: :func:`provenant.limits.current` at the time of use.
    limits: Limits | None = field(default=None, repr=False, compare=False)
    #: Follow redirects and token realms to private, link-local and metadata addresses even when the
    #: registry is not on such a network (``--allow-private-redirects``).
    allow_private_redirects: bool = False
    #: A request budget per registry host shared with other workers (:mod:`.gate`): asked before each
    #: request, told of each 429. None (single-image commands): each request backs off on its own.
    gate: Gate | None = field(default=None, repr=False, compare=False)
    #: Test seam: how host names are resolved for the network policy (default: the system resolver;
    #: with a ``transport`` seam and no resolver, names are not resolved, only address literals checked).
    resolver: Resolver | None = field(default=None, repr=False, compare=False)
    #: Test seam: an httpx transport (e.g. ``httpx.MockTransport``) used instead of the network.
    transport: httpx.BaseTransport | None = field(default=None, repr=False, compare=False)
    #: Test seam: how to sleep between attempts.
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    #: Test seam: a monotonic clock in seconds, for token expiry.
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __repr__(self) -> str:
        password = "'***'" if self.password is not None else "None"
        return (
            f"RegistryOptions(insecure={self.insecure!r}, ca_file={self.ca_file!r}, "
            f"username={self.username!r}, password={password}, docker_config={self.docker_config!r}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries!r}, "
            f"backoff_base={self.backoff_base!r}, "
            f"retry_after_cap={self.retry_after_cap!r}, allow_private_redirects={self.allow_private_redirects!r})"
        )

    def bounds(self) -> Limits:
        """The limits in force for this client."""
        from provenant import limits as limits_mod  # pydantic: not on the stdlib-only import path

        return self.limits if self.limits is not None else limits_mod.current()

    def retries(self) -> int:
        """Retries after the first attempt."""
        return self.max_retries if self.max_retries is not None else self.bounds().retries

    def retry_cap(self) -> float:
        """The longest Retry-After wait honoured."""
        return self.retry_after_cap if self.retry_after_cap is not None else self.bounds().retry_after_cap

    def timeouts(self) -> tuple[float, float]:
        """(connect, read) seconds for one request."""
        if self.timeout is not None:
            return self.timeout, self.timeout
        lim = self.bounds()
        return lim.connect_timeout, lim.read_timeout

    def docker_config_path(self) -> Path:
        """The config.json to read credentials from."""
        return self.docker_config if self.docker_config is not None else default_docker_config()
