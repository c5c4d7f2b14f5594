"""Registry questions asked with the standard library only: for runs that need nothing else.

When everything a command would produce for an image digest is already cached, the one thing left to
ask the registry is which digest the tag names now (:func:`resolve_tag`); ``inspect --raw`` needs one
manifest's bytes (:func:`fetch_manifest`). Importing httpx and pydantic takes longer than the rest of
such a run, so these ask over a plain socket (:mod:`provenant.sources.registry.wire`, without
:mod:`http.client`'s :mod:`email` package, and without :mod:`ssl` for a plain-HTTP loopback registry).
It speaks anonymous, Basic and Bearer-token access with credentials from the same sources as the full
client, and follows the same rules: credentials go only to the registry host and the token realm its own
challenge named, never over plain HTTP to a non-loopback host, and TLS is always verified.

Anything else — a proxy variable in the environment, a redirect, an OAuth identity token, an
unexpected status or an answer :mod:`~provenant.sources.registry.wire` does not read, a network or
TLS error, a token realm on a private or link-local address, an answer over ``token-bytes`` (a
manifest over ``manifest-bytes``) or slower than ``min-rate``, a manifest whose bytes do not match the
digest asked for or that the full path would refuse — returns None: the caller then takes the full
client, which honours proxies, retries and reports errors (and limits) properly.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit

from provenant import __version__
from provenant.digest import Digest
from provenant.errors import ProvenantError
from provenant.oci.mediatypes import INDEX_TYPES, MANIFEST_REQUEST_ACCEPT, MANIFEST_TYPES
from provenant.reference import Reference, api_host
from provenant.sources.registry.hosts import HostPort, is_loopback
from provenant.sources.registry.links import next_link
from provenant.sources.registry.watch import cut_after
from provenant.sources.registry.wire import Connection, WireError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from provenant.limits import Limits
    from provenant.sources.registry.challenge import Challenge
    from provenant.sources.registry.credentials import Credential, CredentialResolver

# Challenges, credentials and the network policy are imported when a registry first asks for
# authentication: an anonymous registry (the nightly rescan of a local one) never needs them.

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


class _GiveUp(Exception):
    """This path cannot answer; the full client will."""


class QuickOptions(TypedDict, total=False):
    """What :class:`QuickRegistry` takes: a CA bundle, a timeout, the environment to read credentials from."""

    ca_file: Path | None
    #: Bounds connecting and each read (default: the lower of ``connect-timeout`` and ``read-timeout``).
    timeout: float | None
    env: Mapping[str, str] | None


def resolve_tag(ref: Reference, **options: Unpack[QuickOptions]) -> str | None:
    """The digest ``ref``'s tag names now (``sha256:…``), or None when this path cannot tell."""
    with QuickRegistry(**options) as quick:
        return quick.resolve_tag(ref)


def fetch_manifest(ref: Reference, **options: Unpack[QuickOptions]) -> bytes | None:
    """The bytes of ``ref``'s manifest or index (by digest when it has one), or None when this path cannot tell.

    The same checks as the full path's (:meth:`provenant.image.ImageReader.fetch_manifest`): at most
    ``manifest-bytes``, the bytes match the digest asked for, a manifest or index (not schema1, not an
    artifact); anything they would refuse is left to the full client, which reports it.
    """
    with QuickRegistry(**options) as quick:
        return quick.fetch_manifest(ref)


def list_tags(ref: Reference, **options: Unpack[QuickOptions]) -> list[str] | None:
    """Every tag of ``ref``'s repository, following ``Link`` pagination, or None when this path cannot tell.

    The full path's bounds: at most ``pages`` pages of at most ``page-bytes`` each, next pages on the
    same host and scheme only, no page twice; a page that is not ``{"tags": [strings]}`` (null allowed)
    or anything else unusual is left to the full client.
    """
    with QuickRegistry(**options) as quick:
        return quick.list_tags(ref)


_T = TypeVar("_T")


class QuickRegistry:
    """Many questions to registries over kept-alive connections, from any number of threads.

    Each answer is None when this path cannot tell (see the module docstring). Every thread has its own
    connection per host. The Authorization a registry's challenge led to (a bearer token for one
    repository's pull scope, or Basic) is kept per (registry host, repository or catalog) and sent
    again only to that registry host, so a thousand tags of one repository cost one token request.
    """

    def __init__(
        self, *, ca_file: Path | None = None, timeout: float | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        from provenant import limits as limits_mod  # already loaded by the CLI; read only when asked

        environ = os.environ if env is None else env
        self.usable = not any(environ.get(v) or environ.get(v.upper()) for v in _PROXY_VARIABLES)
        self.ca_file = ca_file
        self.limits = limits_mod.current()
        # Connecting and each read (headers included) within both timeouts: this path gives up sooner than the full one.
        self.timeout = timeout if timeout is not None else min(self.limits.connect_timeout, self.limits.read_timeout)
        self._env = env
        self._resolver: CredentialResolver | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._askers: list[_Asker] = []
        self._auth: dict[tuple[str, str | None], str] = {}
        self._challenge_locks: dict[tuple[str, str | None], threading.Lock] = {}
        self._unanswered: set[tuple[str, str | None]] = set()

    def __enter__(self) -> QuickRegistry:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection of every thread."""
        with self._lock:
            askers, self._askers = self._askers, []
        for asker in askers:
            asker.close()

    def resolve_tag(self, ref: Reference) -> str | None:
        """The digest ``ref``'s tag names now (one HEAD), or None when this path cannot tell."""
        return None if ref.tag is None else self.head(ref)

    def head(self, ref: Reference) -> str | None:
        """The digest ``ref`` names now (one HEAD, by digest when it has one), or None when this path cannot tell.

        A digest reference is answered only when the registry has that manifest and names the same digest.
        """

        def head(asker: _Asker) -> str:
            _, answer, _ = self._ask(asker, "HEAD", ref.api_host, ref.repository, _manifest_path(ref, ref.identifier))
            named = answer.get("docker-content-digest")
            if named is None:
                raise _GiveUp
            digest = Digest.parse(named)
            if ref.digest is not None and digest != ref.digest:
                raise _GiveUp
            return str(digest)

        return self._run(ref.api_host, head)

    def fetch_manifest(self, ref: Reference) -> bytes | None:
        """The bytes of ``ref``'s manifest or index, checked as :func:`fetch_manifest` says."""
        identifier = ref.identifier

        def get(asker: _Asker) -> bytes:
            from provenant.oci.detect import detect_media_type

            path = _manifest_path(ref, identifier)
            _, answer, body = self._ask(asker, "GET", ref.api_host, ref.repository, path, cap="manifest_bytes")
            if ref.digest is not None and Digest.of(body, ref.digest.algorithm) != ref.digest:
                raise _GiveUp
            media_type = detect_media_type(body, (answer.get("content-type") or "").split(";")[0].strip(), identifier)
            if media_type not in INDEX_TYPES and media_type not in MANIFEST_TYPES:
                raise _GiveUp
            return body

        return self._run(ref.api_host, get)

    def list_tags(self, ref: Reference) -> list[str] | None:
        """Every tag of ``ref``'s repository, bounded as :func:`list_tags` says."""
        path = f"/v2/{ref.repository}/tags/list"
        return self._run(ref.api_host, lambda asker: self._pages(asker, ref.api_host, ref.repository, path, "tags"))

    def list_repositories(self, registry: str) -> list[str] | None:
        """Every repository ``GET /v2/_catalog`` lists on ``registry`` (host[:port]), with the same bounds."""
        host = api_host(registry)
        return self._run(host, lambda asker: self._pages(asker, host, None, "/v2/_catalog", "repositories"))

    def _run(self, host: str, ask: Callable[[_Asker], _T]) -> _T | None:
        """``ask`` on this thread's connection to ``host``; None when it gives up or anything fails."""
        if not self.usable:
            return None  # never connect around a proxy
        asker = self._asker("http" if is_loopback(host) else "https")
        try:
            return ask(asker)
        except (_GiveUp, OSError, WireError, ValueError, ProvenantError):
            asker.close()  # whatever the connection was in the middle of, the next question starts afresh
            return None

    def _asker(self, scheme: str) -> _Asker:
        askers: dict[str, _Asker] | None = getattr(self._local, "askers", None)
        if askers is None:
            askers = self._local.askers = {}
        asker = askers.get(scheme)
        if asker is None:
            asker = askers[scheme] = _Asker(scheme, self.ca_file, self.timeout, self.limits)
            with self._lock:
                self._askers.append(asker)
        return asker

    def _credentials(self) -> CredentialResolver:
        from provenant.sources.registry.credentials import CredentialResolver
        from provenant.sources.registry.options import RegistryOptions

        with self._lock:
            if self._resolver is None:
                self._resolver = CredentialResolver(RegistryOptions(), env=self._env)
            return self._resolver

    def _pages(self, asker: _Asker, host: str, repository: str | None, first: str, key: str) -> list[str]:
        """The strings of ``key`` over every page from ``first``, following ``Link`` within the limits."""
        from provenant.structured import load_json

        names: list[str] = []
        base = f"{asker.scheme}://{host}"
        target = first
        seen = {target}
        for _ in range(asker.limits.pages):
            _, answer, body = self._ask(
                asker, "GET", host, repository, target, cap="page_bytes", accept="application/json"
            )
            obj = load_json(body, f"{key} of {repository or host}")
            page = (obj.get(key) if isinstance(obj, dict) else None) or []
            if not isinstance(obj, dict) or not isinstance(page, list) or not all(isinstance(t, str) for t in page):
                raise _GiveUp  # the full client says what is wrong with the answer
            names.extend(page)
            link = next_link(answer.get("link"))
            if not link:
                return names
            nxt = urlsplit(urljoin(base + target, link))
            if f"{nxt.scheme}://{nxt.netloc}" != base:
                raise _GiveUp  # another host or scheme: the full client refuses it with a message
            target = nxt.path + (f"?{nxt.query}" if nxt.query else "")  # urljoin always leaves a path
            if target in seen:
                raise _GiveUp  # a loop: the full client reports it
            seen.add(target)
        raise _GiveUp  # more than `pages` pages: the full client reports the limit

    def _ask(
        self,
        asker: _Asker,
        method: str,
        host: str,
        repository: str | None,
        path: str,
        *,
        cap: str = "token_bytes",
        accept: str = MANIFEST_REQUEST_ACCEPT,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request to the registry ``host``, answering one auth challenge; gives up unless 200.

        ``repository`` is the one the request is about (None for the catalog): it keys the kept
        Authorization and names the token's scope.
        """
        key = (host, repository)
        headers = {"Accept": accept}
        kept = self._auth.get(key)
        if kept is not None:
            headers["Authorization"] = kept
        status, answer, body = asker.request(method, host, path, headers, cap=cap)
        if status == 401:
            # Threads that meet the same challenge at once answer it one at a time: the first asks for the
            # token, the others find it kept when their turn comes (one token request, not one per thread).
            # A challenge one thread could not answer (no token, a token service that never answers, a
            # token refused) ends the others' turns at once rather than one timeout after another.
            with self._challenge_lock(key):
                if key in self._unanswered:
                    raise _GiveUp
                newer = self._auth.get(key)
                if newer is not None and newer != kept:
                    headers["Authorization"] = newer
                else:
                    try:
                        headers["Authorization"] = self._authorization(asker, host, repository, answer)
                    except BaseException:
                        self._unanswered.add(key)
                        raise
                status, answer, body = asker.request(method, host, path, headers, cap=cap)
                if status in (401, 403):
                    self._unanswered.add(key)
                    raise _GiveUp
                self._auth[key] = headers["Authorization"]  # answered (a 404 is about the tag, not the token)
        if status != 200:
            raise _GiveUp
        return status, answer, body

    def _challenge_lock(self, key: tuple[str, str | None]) -> threading.Lock:
        with self._lock:
            return self._challenge_locks.setdefault(key, threading.Lock())

    def _authorization(self, asker: _Asker, host: str, repository: str | None, answer: Mapping[str, str]) -> str:
        """The Authorization header that answers the 401 ``answer`` (basic, or a bearer token), else _GiveUp."""
        from provenant.sources.registry.challenge import pick_challenge, pull_scope
        from provenant.sources.registry.credentials import basic_header

        challenge = pick_challenge(answer.get("www-authenticate"))
        if challenge is None:
            raise _GiveUp
        cred = self._credentials().resolve(host)
        if challenge.scheme == "basic":
            if not cred.has_basic:
                raise _GiveUp
            return basic_header(cred)
        scope = "registry:catalog:*" if repository is None else pull_scope(repository)
        return f"Bearer {_token(asker, host, scope, challenge, cred)}"


def _manifest_path(ref: Reference, identifier: str) -> str:
    return f"/v2/{ref.repository}/manifests/{identifier}"


def _token(asker: _Asker, host: str, scope: str, challenge: Challenge, cred: Credential) -> str:
    from provenant.sources.registry.challenge import read_token, sendable_token, token_scopes
    from provenant.sources.registry.credentials import basic_header

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
    params += [("scope", s) for s in token_scopes(challenge, scope)]
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
    if token is None or not sendable_token(token[0]):
        raise _GiveUp  # the full client says what is wrong with the answer
    return token[0]


def _plainly_public_or_same(realm: str, registry: str) -> bool:
    """True when the realm is the registry host, or an address literal or name outside the restricted ranges.

    A realm given as a name is not resolved here (that takes the full client's resolver seam); only an
    address literal in a private, link-local or metadata range makes this path give up.
    """
    from provenant.sources.registry.netpolicy import RESTRICTED, address_class

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
        self._conns: dict[str, Connection] = {}

    def _connection(self, host: str) -> Connection:
        conn = self._conns.get(host)
        if conn is None:
            context = None
            if self.scheme == "https":
                # The system store only (its CA directory is read lazily, unlike a bundle file): a
                # certificate it cannot verify sends the caller to the full client, which also trusts
                # certifi's bundle.
                import ssl  # only for https: a loopback registry never needs it

                context = ssl.create_default_context()
                if self.ca_file is not None:
                    context.load_verify_locations(cafile=str(self.ca_file))
            conn = self._conns[host] = Connection(host, timeout=self.timeout, context=context)
        return conn

    def request(
        self, method: str, host: str, target: str, headers: Mapping[str, str], *, cap: str = "token_bytes"
    ) -> tuple[int, dict[str, str], bytes]:
        """Status, lowercased headers and body (empty for HEAD; at most the limit ``cap``) of one request.

        No redirects followed: a 3xx is just a status the caller gives up on.
        """
        conn = self._connection(host)
        with cut_after(conn, self.timeout) as expired:
            status, answer, body = conn.request(method, target, {"User-Agent": f"provenant/{__version__}", **headers})
        if expired.fired:
            raise _GiveUp
        # Read to its end (a HEAD answer has none): that keeps a kept-alive connection ready for the next
        # request, and closes one the server said it would close.
        return status, answer, self._read(body, getattr(self.limits, cap))

    def _read(self, body: Iterator[bytes], cap: int) -> bytes:
        """The body, up to ``cap`` bytes, at ``min-rate`` or faster and within the deadline; else give up."""
        from provenant import limits as limits_mod

        lim = self.limits
        parts: list[bytes] = []
        total = 0
        waited = 0.0
        while True:
            started = time.monotonic()
            chunk = next(body, b"")
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
