"""Settings of the registry client: TLS, credentials, timeouts, retries and the test seams."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


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
    #: Seconds for connect/read/write/pool timeouts of one request.
    timeout: float = 30.0
    #: Retries after the first attempt (so ``max_retries=5`` makes at most 6 attempts).
    max_retries: int = 5
    #: First backoff delay in seconds; it doubles each retry and is jittered.
    backoff_base: float = 0.5
    #: The longest we ever sleep between attempts, whatever ``Retry-After`` asks for.
    retry_after_cap: float = 60.0
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
            f"retry_after_cap={self.retry_after_cap!r})"
        )

    def docker_config_path(self) -> Path:
        """The config.json to read credentials from."""
        return self.docker_config if self.docker_config is not None else default_docker_config()
