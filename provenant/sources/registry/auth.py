"""Answering registry challenges: Basic, and Bearer tokens from the registry's token realm.

There is no upfront ``/v2/`` ping: the first 401 tells us what the registry wants. Tokens are cached
per (registry, scope) until shortly before they expire; after a Basic challenge, Basic credentials
are sent to that host preemptively. Credentials only ever go to the registry host and the realm its
own challenge named.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from provenant.errors import AuthenticationError, RegistryError
from provenant.sources.registry.challenge import Challenge, pick_challenge, read_token, sendable_token, token_scopes
from provenant.sources.registry.credentials import Credential, CredentialResolver, basic_header
from provenant.sources.registry.failures import auth_hint, parse_error_body, status_text
from provenant.sources.registry.hosts import is_loopback
from provenant.sources.registry.redact import remember
from provenant.sources.registry.transport import HttpSession, host_of
from provenant.textsafe import printable

DEFAULT_TOKEN_LIFETIME = 60.0
CLIENT_ID = "provenant"


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float

    def __repr__(self) -> str:
        return f"_Token(value='***', expires_at={self.expires_at!r})"


@dataclass(frozen=True)
class AuthAttempt:
    """The ``Authorization`` value to send next (or None), and whether it was obtained just now."""

    header: str | None
    fresh: bool

    def __repr__(self) -> str:
        scheme = self.header.split(" ", 1)[0] if self.header else None
        return f"AuthAttempt(scheme={scheme!r}, fresh={self.fresh!r})"


class Authenticator:
    """Per-host auth state and the token cache; thread-safe."""

    def __init__(self, session: HttpSession, resolver: CredentialResolver) -> None:
        self._session = session
        self._resolver = resolver
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}
        #: host -> "basic", or the Bearer challenge (realm/service, no scope) to fetch new scopes with.
        self._basic_hosts: set[str] = set()
        self._bearer: dict[str, Challenge] = {}

    def __repr__(self) -> str:
        return f"Authenticator(tokens={len(self._tokens)}, basic_hosts={sorted(self._basic_hosts)!r})"

    # -- before a request --------------------------------------------------------------------------

    def preemptive(self, host: str, scope: str) -> AuthAttempt:
        """What to send before any challenge: a cached token, a new token for a known realm, or Basic."""
        with self._lock:
            token = self._valid_token(host, scope)
            challenge = self._bearer.get(host)
            basic = host in self._basic_hosts
        if token is not None:
            return AuthAttempt(f"Bearer {token}", fresh=False)
        if challenge is not None:
            return self._token_attempt(host, scope, challenge, stale=None)
        if basic:
            cred = self._resolver.resolve(host)
            if cred.has_basic:
                return AuthAttempt(basic_header(cred), fresh=False)
        return AuthAttempt(None, fresh=False)

    # -- after a 401 -------------------------------------------------------------------------------

    def respond(self, host: str, scope: str, response: httpx.Response, sent: AuthAttempt) -> AuthAttempt | None:
        """What to retry with after ``response`` (a 401 from the registry host); None = give up."""
        challenge = pick_challenge(response.headers.get("www-authenticate"))
        if challenge is None:
            if sent.header is None:
                raise AuthenticationError(
                    f"registry {host} answered {status_text(response)} without a Basic or Bearer challenge",
                    hint=auth_hint(host),
                    status=response.status_code,
                )
            return None
        if challenge.scheme == "basic":
            return self._respond_basic(host, sent)
        with self._lock:
            self._bearer[host] = Challenge("bearer", {k: v for k, v in challenge.params.items() if k != "scope"})
        if sent.fresh and sent.header is not None and sent.header.startswith("Bearer "):
            return None  # a token fetched just for this request was refused: renewing will not help
        stale = sent.header[len("Bearer ") :] if sent.header and sent.header.startswith("Bearer ") else None
        return self._token_attempt(host, scope, challenge, stale=stale)

    def _respond_basic(self, host: str, sent: AuthAttempt) -> AuthAttempt | None:
        cred = self._resolver.resolve(host)
        if not cred.has_basic:
            raise AuthenticationError(
                f"registry {host} requires basic authentication, but no username and password were found "
                f"(credential source: {cred.source})",
                hint=auth_hint(host),
                status=401,
            )
        header = basic_header(cred)
        if sent.header == header:
            return None
        with self._lock:
            self._basic_hosts.add(host)
        return AuthAttempt(header, fresh=True)

    # -- tokens ------------------------------------------------------------------------------------

    def _valid_token(self, host: str, scope: str) -> str | None:
        tok = self._tokens.get((host, scope))
        if tok is not None and tok.expires_at > self._session.options.clock():
            return tok.value
        return None

    def _token_attempt(self, host: str, scope: str, challenge: Challenge, stale: str | None) -> AuthAttempt:
        key = (host, scope)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                current = self._valid_token(host, scope)
                if current is not None and current != stale:
                    # Another thread renewed it meanwhile (or it was cached and not the one refused).
                    return AuthAttempt(f"Bearer {current}", fresh=False)
                self._tokens.pop(key, None)
            token = self._fetch_token(host, scope, challenge)
            with self._lock:
                self._tokens[key] = token
        return AuthAttempt(f"Bearer {token.value}", fresh=True)

    def _fetch_token(self, host: str, scope: str, challenge: Challenge) -> _Token:
        realm = challenge.realm
        if not realm:
            raise AuthenticationError(
                f"registry {host} sent a Bearer challenge without a realm; cannot get a token",
                hint="the registry is misconfigured",
                status=401,
            )
        base = self._session.base_url(host)
        try:
            realm_url = base.join(realm)
        except httpx.InvalidURL:
            raise AuthenticationError(
                f"registry {host} named a token realm that is not a URL: {printable(realm)[:200]}",
                hint="the registry is misconfigured",
                status=401,
            ) from None
        if realm_url.scheme not in ("http", "https"):
            raise AuthenticationError(
                f"registry {host} named a token realm with unsupported scheme {realm_url.scheme!r}"
            )
        realm_host = host_of(realm_url)
        scopes = token_scopes(challenge, scope)
        service = challenge.params.get("service")
        cred = self._resolver.resolve(host)
        if (
            not cred.anonymous
            and realm_url.scheme == "http"
            and not (is_loopback(realm_host) or self._session.options.insecure)
        ):
            raise AuthenticationError(
                f"registry {host} asks for credentials at a plain-HTTP token realm {realm_host}; "
                "refusing to send them unencrypted",
                hint="use --insecure only if you trust this network",
            )
        if cred.identity_token is not None:
            # No fallback to a Basic GET when the POST is refused: a credential with an identity token
            # never carries a password (CredentialResolver builds it with password=None).
            resp = self._post_refresh_token(
                host, realm_url, realm_host=realm_host, service=service, scopes=scopes, cred=cred
            )
        else:
            resp = self._get_token(host, realm_url, realm_host=realm_host, service=service, scopes=scopes, cred=cred)
        return self._parse_token(host, realm_host, resp, cred)

    def _get_token(
        self,
        host: str,
        realm_url: httpx.URL,
        *,
        realm_host: str,
        service: str | None,
        scopes: list[str],
        cred: Credential,
    ) -> httpx.Response:
        params: list[tuple[str, str]] = []
        if service:
            params.append(("service", service))
        params.extend(("scope", s) for s in scopes)
        url = realm_url.copy_merge_params(tuple(params))
        return self._session.send(
            "GET",
            url,
            error_host=host,
            who=f"token service {realm_host} of registry {host}",
            authorization=basic_header(cred) if cred.has_basic else None,
            auth_host=realm_host,
            body_limit="token_bytes",
        )

    def _post_refresh_token(
        self,
        host: str,
        realm_url: httpx.URL,
        *,
        realm_host: str,
        service: str | None,
        scopes: list[str],
        cred: Credential,
    ) -> httpx.Response:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": cred.identity_token or "",
            "client_id": CLIENT_ID,
            "scope": " ".join(scopes),
        }
        if service:
            form["service"] = service
        body = urlencode(form).encode("ascii")
        return self._session.send(
            "POST",
            realm_url,
            error_host=host,
            who=f"token service {realm_host} of registry {host}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            content=body,
            auth_host=realm_host,
            body_limit="token_bytes",
        )

    def _parse_token(self, host: str, realm_host: str, resp: httpx.Response, cred: Credential) -> _Token:
        if resp.status_code in (401, 403):
            code, message = parse_error_body(resp)
            detail = f": {code}: {message}" if code or message else ""
            who = "refused an anonymous token" if cred.anonymous else f"rejected the credentials from {cred.source}"
            raise AuthenticationError(
                f"token service {realm_host} for registry {host} {who} ({status_text(resp)}{detail})",
                hint=auth_hint(host),
                status=resp.status_code,
                code=code,
            )
        if not 200 <= resp.status_code < 300:
            code, message = parse_error_body(resp)
            detail = f": {code}: {message}" if code or message else ""
            raise RegistryError(
                f"token service {realm_host} for registry {host} answered {status_text(resp)}{detail}",
                hint="the registry's token service is failing; try again later",
                status=resp.status_code,
                code=code,
            )
        token = read_token(resp.content)
        if token is None:
            raise AuthenticationError(
                f"token service {realm_host} for registry {host} answered without a token",
                hint="the registry's token service is misconfigured",
            )
        value, expires_in = token
        if not sendable_token(value):
            raise AuthenticationError(
                f"token service {realm_host} for registry {host} answered a token that cannot be sent in an HTTP "
                "header (it holds characters other than printable ASCII)",
                hint="the registry's token service is misconfigured",
            )
        remember(value)  # a service that refuses it later and quotes it will not show it
        lifetime = expires_in or DEFAULT_TOKEN_LIFETIME
        margin = min(5.0, lifetime / 10)
        return _Token(value, self._session.options.clock() + lifetime - margin)
