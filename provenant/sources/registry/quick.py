"""What a tag points at now, asked with the standard library only; for runs whose results are cached.

When everything a command would produce for an image digest is already cached, the one thing left to
ask the registry is which digest the tag names now. Importing httpx and pydantic takes longer than
the rest of such a run, so this asks with :mod:`http.client`. It speaks anonymous, Basic and
Bearer-token access with credentials from the same sources as the full client, and follows the same
rules: credentials go only to the registry host and the token realm its own challenge named, never
over plain HTTP to a non-loopback host, and TLS is always verified.

Anything else — a proxy variable in the environment, a redirect, an OAuth identity token, an
unexpected status, a network or TLS error — returns None: the caller then takes the full client,
which honours proxies, retries and reports errors properly.
"""

from __future__ import annotations

import http.client
import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

from provenant import __version__
from provenant.digest import Digest
from provenant.errors import ProvenantError
from provenant.oci.mediatypes import MANIFEST_REQUEST_ACCEPT
from provenant.reference import Reference
from provenant.sources.registry.challenge import Challenge, pick_challenge, pull_scope, read_token, token_scopes
from provenant.sources.registry.credentials import Credential, CredentialResolver, basic_header
from provenant.sources.registry.hosts import is_loopback
from provenant.sources.registry.options import RegistryOptions

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
_MAX_TOKEN_BYTES = 1 << 20


class _GiveUp(Exception):
    """This path cannot answer; the full client will."""


def resolve_tag(
    ref: Reference,
    *,
    ca_file: Path | None = None,
    timeout: float = 10.0,
    env: Mapping[str, str] | None = None,
) -> str | None:
    """The digest ``ref``'s tag names now (``sha256:…``), or None when this path cannot tell."""
    environ = os.environ if env is None else env
    if ref.tag is None or any(environ.get(v) or environ.get(v.upper()) for v in _PROXY_VARIABLES):
        return None
    host = ref.api_host
    scheme = "http" if is_loopback(host) else "https"
    asker = _Asker(scheme, ca_file, timeout)
    try:
        resolver = CredentialResolver(RegistryOptions(), env=env)
        return _resolve(asker, resolver, host, ref)
    except (_GiveUp, OSError, http.client.HTTPException, ValueError, ProvenantError):
        return None
    finally:
        asker.close()


def _resolve(asker: _Asker, resolver: CredentialResolver, host: str, ref: Reference) -> str | None:
    path = f"/v2/{ref.repository}/manifests/{ref.tag}"
    headers = {"Accept": MANIFEST_REQUEST_ACCEPT}
    status, answer, _ = asker.request("HEAD", host, path, headers)
    if status == 401:
        challenge = pick_challenge(answer.get("www-authenticate"))
        if challenge is None:
            return None
        cred = resolver.resolve(host)
        if challenge.scheme == "basic":
            if not cred.has_basic:
                return None
            headers["Authorization"] = basic_header(cred)
        else:
            token = _token(asker, host, ref.repository, challenge, cred)
            headers["Authorization"] = f"Bearer {token}"
        status, answer, _ = asker.request("HEAD", host, path, headers)
    if status != 200:
        return None
    return str(Digest.parse(answer.get("docker-content-digest", "")))


def _token(asker: _Asker, host: str, repository: str, challenge: Challenge, cred: Credential) -> str:
    if cred.identity_token is not None or not challenge.realm:
        raise _GiveUp
    realm = urlsplit(urljoin(f"{asker.scheme}://{host}/", challenge.realm))
    if realm.scheme not in ("http", "https") or not realm.netloc:
        raise _GiveUp
    if realm.scheme == "http" and not is_loopback(realm.netloc) and cred.has_basic:
        raise _GiveUp  # the full client refuses this with a proper message
    params = [("service", challenge.params["service"])] if challenge.params.get("service") else []
    params += [("scope", s) for s in token_scopes(challenge, pull_scope(repository))]
    query = "&".join(q for q in (realm.query, urlencode(params)) if q)
    headers = {"Authorization": basic_header(cred)} if cred.has_basic else {}
    realm_asker = asker if realm.scheme == asker.scheme else _Asker(realm.scheme, asker.ca_file, asker.timeout)
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


class _Asker:
    """One keep-alive connection per host, over one scheme."""

    def __init__(self, scheme: str, ca_file: Path | None, timeout: float) -> None:
        self.scheme = scheme
        self.ca_file = ca_file
        self.timeout = timeout
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
        self, method: str, host: str, target: str, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """Status, lowercased headers and body (empty for HEAD) of one request; no redirects followed."""
        conn = self._connection(host)
        conn.request(method, target, headers={"User-Agent": f"provenant/{__version__}", **headers})
        resp = conn.getresponse()
        body = resp.read(_MAX_TOKEN_BYTES + 1)
        if len(body) > _MAX_TOKEN_BYTES:
            raise _GiveUp
        if not resp.isclosed():
            conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body

    def close(self) -> None:
        """Close every connection."""
        for conn in self._conns.values():
            conn.close()
