"""Registry questions asked with the standard library only: for runs that need nothing else.

When everything a command would produce for an image digest is already cached, the one thing left to
ask the registry is which digest the tag names now (:func:`resolve_tag`); ``inspect --raw`` needs one
manifest's bytes (:func:`fetch_manifest`). Importing httpx and pydantic takes longer than the rest of
such a run, so these ask with :mod:`http.client`. It speaks anonymous, Basic and
Bearer-token access with credentials from the same sources as the full client, and follows the same
rules: credentials go only to the registry host and the token realm its own challenge named, never
over plain HTTP to a non-loopback host, and TLS is always verified.

Anything else — a proxy variable in the environment, a redirect, an OAuth identity token, an
unexpected status, a network or TLS error, a token realm on a private or link-local address, an answer
over ``token-bytes`` (a manifest over ``manifest-bytes``) or slower than ``min-rate``, a manifest whose
bytes do not match the digest asked for or that the full path would refuse — returns None: the caller
then takes the full client, which honours proxies, retries and reports errors (and limits) properly.
"""

from __future__ import annotations

import http.client
import os
import ssl
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit

from provenant import __version__
from provenant.digest import Digest
from provenant.errors import ProvenantError
from provenant.oci.mediatypes import INDEX_TYPES, MANIFEST_REQUEST_ACCEPT, MANIFEST_TYPES
from provenant.reference import Reference
from provenant.sources.registry.challenge import Challenge, pick_challenge, pull_scope, read_token, token_scopes
from provenant.sources.registry.credentials import Credential, CredentialResolver, basic_header
from provenant.sources.registry.hosts import HostPort, is_loopback
from provenant.sources.registry.links import next_link
from provenant.sources.registry.netpolicy import RESTRICTED, address_class
from provenant.sources.registry.options import RegistryOptions
from provenant.sources.registry.watch import cut_after

if TYPE_CHECKING:
    from provenant.limits import Limits

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
_READ_SIZE = 64 << 10


class _GiveUp(Exception):
    """This path cannot answer; the full client will."""


def resolve_tag(
    ref: Reference,
    *,
    ca_file: Path | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> str | None:
    """The digest ``ref``'s tag names now (``sha256:…``), or None when this path cannot tell.

    ``timeout`` bounds connecting and each read (default: the lower of ``connect-timeout`` and ``read-timeout``).
    """
    if ref.tag is None:
        return None

    def head(asker: _Asker, resolver: CredentialResolver) -> str:
        _, answer, _ = _ask(asker, resolver, "HEAD", ref, ref.tag or "")
        return str(Digest.parse(answer.get("docker-content-digest", "")))

    return _run(ref, head, ca_file=ca_file, timeout=timeout, env=env)


def fetch_manifest(
    ref: Reference,
    *,
    ca_file: Path | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> bytes | None:
    """The bytes of ``ref``'s manifest or index (by digest when it has one), or None when this path cannot tell.

    The same checks as the full path's (:meth:`provenant.image.ImageReader.fetch_manifest`): at most
    ``manifest-bytes``, the bytes match the digest asked for, a manifest or index (not schema1, not an
    artifact); anything they would refuse is left to the full client, which reports it.
    """
    identifier = str(ref.digest) if ref.digest is not None else ref.tag or "latest"

    def get(asker: _Asker, resolver: CredentialResolver) -> bytes:
        from provenant.oci.detect import detect_media_type

        _, answer, body = _ask(asker, resolver, "GET", ref, identifier, cap="manifest_bytes")
        if ref.digest is not None and Digest.of(body, ref.digest.algorithm) != ref.digest:
            raise _GiveUp
        media_type = detect_media_type(body, (answer.get("content-type") or "").split(";")[0].strip(), identifier)
        if media_type not in INDEX_TYPES and media_type not in MANIFEST_TYPES:
            raise _GiveUp
        return body

    return _run(ref, get, ca_file=ca_file, timeout=timeout, env=env)


def list_tags(
    ref: Reference,
    *,
    ca_file: Path | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> list[str] | None:
    """Every tag of ``ref``'s repository, following ``Link`` pagination, or None when this path cannot tell.

    The full path's bounds: at most ``pages`` pages of at most ``page-bytes`` each, next pages on the
    same host and scheme only, no page twice; a page that is not ``{"tags": [strings]}`` (null allowed)
    or anything else unusual is left to the full client.
    """

    def pages(asker: _Asker, resolver: CredentialResolver) -> list[str]:
        from provenant.structured import load_json

        tags: list[str] = []
        base = f"{asker.scheme}://{ref.api_host}"
        target = f"/v2/{ref.repository}/tags/list"
        seen = {target}
        for _ in range(asker.limits.pages):
            _, answer, body = _ask(
                asker, resolver, "GET", ref, "", cap="page_bytes", path=target, accept="application/json"
            )
            obj = load_json(body, f"tags of {ref.repository}")
            page = (obj.get("tags") if isinstance(obj, dict) else None) or []
            if not isinstance(obj, dict) or not isinstance(page, list) or not all(isinstance(t, str) for t in page):
                raise _GiveUp  # the full client says what is wrong with the answer
            tags.extend(page)
            link = next_link(answer.get("link"))
            if not link:
                return tags
            nxt = urlsplit(urljoin(base + target, link))
            if f"{nxt.scheme}://{nxt.netloc}" != base:
                raise _GiveUp  # another host or scheme: the full client refuses it with a message
            target = (nxt.path or "/") + (f"?{nxt.query}" if nxt.query else "")
            if target in seen:
                raise _GiveUp  # a loop: the full client reports it
            seen.add(target)
        raise _GiveUp  # more than `pages` pages: the full client reports the limit

    return _run(ref, pages, ca_file=ca_file, timeout=timeout, env=env)


_T = TypeVar("_T")


def _run(
    ref: Reference,
    ask: Callable[[_Asker, CredentialResolver], _T],
    *,
    ca_file: Path | None,
    timeout: float | None,
    env: Mapping[str, str] | None,
) -> _T | None:
    """``ask`` over a fresh connection to ``ref``'s registry; None when it gives up or anything fails."""
    from provenant import limits as limits_mod  # already loaded by the CLI; read only when asked

    environ = os.environ if env is None else env
    if any(environ.get(v) or environ.get(v.upper()) for v in _PROXY_VARIABLES):
        return None
    host = ref.api_host
    scheme = "http" if is_loopback(host) else "https"
    lim = limits_mod.current()
    # Connecting and each read (headers included) within both timeouts: this path gives up sooner than the full one.
    wait = timeout if timeout is not None else min(lim.connect_timeout, lim.read_timeout)
    asker = _Asker(scheme, ca_file, wait, lim)
    try:
        resolver = CredentialResolver(RegistryOptions(), env=env)
        return ask(asker, resolver)
    except (_GiveUp, OSError, http.client.HTTPException, ValueError, ProvenantError):
        return None
    finally:
        asker.close()


def _ask(
    asker: _Asker,
    resolver: CredentialResolver,
    method: str,
    ref: Reference,
    identifier: str,
    *,
    cap: str = "token_bytes",
    path: str | None = None,
    accept: str = MANIFEST_REQUEST_ACCEPT,
) -> tuple[int, dict[str, str], bytes]:
    """One request (a manifest unless ``path`` says), answering one auth challenge; gives up unless 200."""
    host = ref.api_host
    path = path or f"/v2/{ref.repository}/manifests/{identifier}"
    headers = {"Accept": accept}
    status, answer, body = asker.request(method, host, path, headers, cap=cap)
    if status == 401:
        challenge = pick_challenge(answer.get("www-authenticate"))
        if challenge is None:
            raise _GiveUp
        cred = resolver.resolve(host)
        if challenge.scheme == "basic":
            if not cred.has_basic:
                raise _GiveUp
            headers["Authorization"] = basic_header(cred)
        else:
            token = _token(asker, host, ref.repository, challenge, cred)
            headers["Authorization"] = f"Bearer {token}"
        status, answer, body = asker.request(method, host, path, headers, cap=cap)
    if status != 200:
        raise _GiveUp
    return status, answer, body


def _token(asker: _Asker, host: str, repository: str, challenge: Challenge, cred: Credential) -> str:
    if cred.identity_token is not None or not challenge.realm:
        raise _GiveUp
    realm = urlsplit(urljoin(f"{asker.scheme}://{host}/", challenge.realm))
    if realm.scheme not in ("http", "https") or not realm.netloc:
        raise _GiveUp
    if realm.scheme == "http" and not is_loopback(realm.netloc) and cred.has_basic:
        raise _GiveUp  # the full client refuses this with a proper message
    if not _plainly_public_or_same(realm.netloc, host):
        raise _GiveUp  # the full client applies the network policy (and resolves names) properly
    params = [("service", challenge.params["service"])] if challenge.params.get("service") else []
    params += [("scope", s) for s in token_scopes(challenge, pull_scope(repository))]
    query = "&".join(q for q in (realm.query, urlencode(params)) if q)
    headers = {"Authorization": basic_header(cred)} if cred.has_basic else {}
    realm_asker = (
        asker if realm.scheme == asker.scheme else _Asker(realm.scheme, asker.ca_file, asker.timeout, asker.limits)
    )
    try:
        status, _, body = realm_asker.request("GET", realm.netloc, f"{realm.path or '/'}?{query}", headers)
    finally:
        if realm_asker is not asker:
            realm_asker.close()
    if status != 200:
        raise _GiveUp
    token = read_token(body)
    if token is None:
        raise _GiveUp
    return token[0]


def _plainly_public_or_same(realm: str, registry: str) -> bool:
    """True when the realm is the registry host, or an address literal or name outside the restricted ranges.

    A realm given as a name is not resolved here (that takes the full client's resolver seam); only an
    address literal in a private, link-local or metadata range makes this path give up.
    """
    realm_host = HostPort.parse(realm).host
    if realm_host == HostPort.parse(registry).host:
        return True
    try:
        return address_class(realm_host) not in RESTRICTED
    except ValueError:
        return True


class _Asker:
    """One keep-alive connection per host, over one scheme; answers are read within the limits."""

    def __init__(self, scheme: str, ca_file: Path | None, timeout: float, limits: Limits) -> None:
        self.scheme = scheme
        self.ca_file = ca_file
        self.timeout = timeout
        self.limits = limits
        self._conns: dict[str, http.client.HTTPConnection] = {}

    def _connection(self, host: str) -> http.client.HTTPConnection:
        conn = self._conns.get(host)
        if conn is None:
            if self.scheme == "https":
                # The system store only (its CA directory is read lazily, unlike a bundle file): a
                # certificate it cannot verify sends the caller to the full client, which also trusts
                # certifi's bundle.
                ctx = ssl.create_default_context()
                if self.ca_file is not None:
                    ctx.load_verify_locations(cafile=str(self.ca_file))
                conn = http.client.HTTPSConnection(host, timeout=self.timeout, context=ctx)
            else:
                conn = http.client.HTTPConnection(host, timeout=self.timeout)
            self._conns[host] = conn
        return conn

    def request(
        self, method: str, host: str, target: str, headers: Mapping[str, str], *, cap: str = "token_bytes"
    ) -> tuple[int, dict[str, str], bytes]:
        """Status, lowercased headers and body (empty for HEAD; at most the limit ``cap``) of one request.

        No redirects followed: a 3xx is just a status the caller gives up on.
        """
        conn = self._connection(host)
        conn.request(method, target, headers={"User-Agent": f"provenant/{__version__}", **headers})
        with cut_after(conn, self.timeout) as expired:
            resp = conn.getresponse()
        if expired.fired:
            raise _GiveUp
        body = self._read(resp, getattr(self.limits, cap))
        if not resp.isclosed():
            conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body

    def _read(self, resp: http.client.HTTPResponse, cap: int) -> bytes:
        """The body, up to ``cap`` bytes, at ``min-rate`` or faster and within the deadline; else give up."""
        from provenant import limits as limits_mod

        lim = self.limits
        parts: list[bytes] = []
        total = 0
        waited = 0.0
        while True:
            started = time.monotonic()
            chunk = resp.read1(_READ_SIZE)
            waited += time.monotonic() - started
            if not chunk:
                return b"".join(parts)
            total += len(chunk)
            parts.append(chunk)
            slow = lim.min_rate and waited >= lim.rate_window and total < lim.min_rate * waited
            late = (left := limits_mod.remaining()) is not None and left <= 0
            if total > cap or slow or late:
                raise _GiveUp

    def close(self) -> None:
        """Close every connection."""
        for conn in self._conns.values():
            conn.close()
