"""Registry host names: ``host[:port]`` parsing and the loopback rule (no third-party imports)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import httpx

DEFAULT_PORTS = {"http": 80, "https": 443}


class HostPort(NamedTuple):
    """A host name (IPv6 without brackets, lowercased) and an optional explicit port."""

    host: str
    port: int | None

    @classmethod
    def parse(cls, text: str) -> HostPort:
        """Parse ``host``, ``host:port``, ``[v6]`` or ``[v6]:port``."""
        if text.startswith("["):
            addr, _, rest = text[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ""
            return cls(addr.lower(), int(port) if port.isdigit() else None)
        host, sep, port = text.rpartition(":")
        if sep and port.isdigit() and ":" not in host:
            return cls(host.lower(), int(port))
        return cls(text.lower(), None)

    def matches(self, url: httpx.URL) -> bool:
        """True when ``url`` points at this host and port (no port: the URL scheme's default port)."""
        default = DEFAULT_PORTS.get(url.scheme)
        return url.host.lower() == self.host and (url.port or default) == (self.port or default)


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1`` (with or without a port)."""
    name = HostPort.parse(host).host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
