"""Where a registry may send us: no redirect or token realm to private, link-local or metadata addresses.

A registry answers with URLs (blob redirects, token realms, upload locations). Followed blindly, one
pointing at ``169.254.169.254`` would make provenant fetch a cloud's instance metadata (credentials
included) from inside the user's network, and an error could echo some of it. So before any request
to a host other than the registry itself, the host's addresses (resolved through one seam,
:attr:`RegistryOptions.resolver`) are classified; a private, link-local or metadata address is refused
unless the registry itself is on that kind of network, or the user allowed it
(``--allow-private-redirects`` / ``PROVENANT_ALLOW_PRIVATE_REDIRECTS``). Loopback is always allowed.
The refusal happens before a connection is opened, so it can say nothing about what is there.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import TYPE_CHECKING

from provenant.errors import RegistryError
from provenant.sources.registry.hosts import HostPort

if TYPE_CHECKING:
    import httpx

    from provenant.sources.registry.options import RegistryOptions, Resolver

ENV_ALLOW = "PROVENANT_ALLOW_PRIVATE_REDIRECTS"
FLAG_ALLOW = "--allow-private-redirects"

_IP = ipaddress.IPv4Address | ipaddress.IPv6Address
_LINK_LOCAL = tuple(ipaddress.ip_network(n) for n in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128"))
_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: The classes that are refused as a redirect or realm target (unless the registry is in the same one).
RESTRICTED = ("link-local or metadata", "private", "unspecified")


def address_class(address: str) -> str:
    """``loopback``, ``link-local or metadata``, ``private``, ``unspecified`` or ``public``."""
    ip: _IP = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        ip = _embedded_ipv4(ip) or ip
    if ip.is_loopback:
        return "loopback"
    if ip.is_unspecified:
        return "unspecified"  # 0.0.0.0 / :: reach the local host
    if any(ip in net for net in _LINK_LOCAL):
        return "link-local or metadata"
    if any(ip in net for net in _PRIVATE):
        return "private"
    return "public"


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 host an IPv6 address reaches through a translation: mapped, 6to4 or NAT64 (RFC 6052)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def system_resolver(host: str) -> list[str]:
    """The addresses the system resolver gives for ``host`` (empty when it cannot resolve it)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


class NetworkPolicy:
    """Checks hosts the registry sends us to; resolutions are cached for the run. Thread-safe."""

    def __init__(self, options: RegistryOptions) -> None:
        self._allow = options.allow_private_redirects
        resolver: Resolver | None = options.resolver
        if resolver is None and options.transport is None:
            resolver = system_resolver
        self._resolver = resolver
        self._cache: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    def classes(self, host: str) -> frozenset[str]:
        """The address classes of ``host`` (a name is resolved; an unresolvable one has none)."""
        name = host.strip("[]").lower()
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None:
            return cached
        if name == "localhost":
            found = frozenset({"loopback"})
        else:
            try:
                found = frozenset({address_class(name)})
            except ValueError:
                addresses = self._resolver(name) if self._resolver is not None else []
                found = frozenset(address_class(a) for a in addresses)
        with self._lock:
            self._cache[name] = found
        return found

    def check(self, url: httpx.URL, registry_host: str, what: str) -> None:
        """Raise when ``url`` points at a restricted network the registry itself is not on."""
        if self._allow:
            return
        restricted = {c for c in self.classes(url.host) if c in RESTRICTED}
        if not restricted:
            return
        refused = restricted - self.classes(HostPort.parse(registry_host).host)
        if refused:
            raise RegistryError(
                f"{what}: refusing to connect to {url.host}, a {' and '.join(sorted(refused))} address, "
                "for a registry that is not on such a network",
                hint=f"if the registry's storage or token service really lives there, pass {FLAG_ALLOW} "
                f"or set {ENV_ALLOW}=1",
            )
