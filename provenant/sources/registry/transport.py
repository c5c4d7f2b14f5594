"""HTTP below the registry API: scheme choice, TLS, retries with backoff, redirects and request counting.

Redirects are followed here, never by httpx: at most ``redirects`` hops (a :class:`~provenant.limits.Limits`
field), ``Authorization`` is sent only to the host it was meant for, an https→http downgrade is refused,
and a hop to a private, link-local or metadata address is refused before it is sent (:mod:`.netpolicy`).
Every body is read within the limits (:mod:`.bodies`), and every wait between attempts stays within the
``retry-after-cap`` and the command's deadline.
"""

from __future__ import annotations

import logging
import ssl
import threading
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING

import certifi
import httpx

from provenant import __version__
from provenant import limits as limits_mod
from provenant.errors import RegistryError, UsageError
from provenant.limits import LimitExceededError
from provenant.sources.registry.bodies import GuardedStream, read_bounded
from provenant.sources.registry.failures import error_for_exhausted, error_for_transport, status_text
from provenant.sources.registry.hosts import HostPort, is_loopback
from provenant.sources.registry.netpolicy import NetworkPolicy
from provenant.sources.registry.options import RegistryOptions
from provenant.sources.registry.retry import (
    RETRYABLE_STATUSES,
    backoff_delay,
    parse_retry_after,
    rate_limit_headers,
)
from provenant.sources.registry.stdlib_transport import StdlibTransport
from provenant.textsafe import printable

if TYPE_CHECKING:
    from provenant.sources.registry.gate import Gate

log = logging.getLogger("provenant.registry")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = f"provenant/{__version__}"


def host_of(url: httpx.URL) -> str:
    """``host[:port]`` of a URL as a registry host string (IPv6 bracketed)."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{host}:{url.port}" if url.port is not None else host


def _ssl_context(options: RegistryOptions) -> ssl.SSLContext:
    if options.insecure:
        # What httpx builds for verify=False: TLS without certificate or host name checks.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    ctx = ssl.create_default_context(cafile=certifi.where())
    ctx.load_default_certs()
    if options.ca_file is not None:
        try:
            ctx.load_verify_locations(cafile=str(options.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(
                f"cannot use --ca-file {options.ca_file}: {getattr(exc, 'strerror', None) or exc}",
                hint="pass a readable PEM file with the registry's CA certificate",
            ) from None
    return ctx


def _env_proxy(scheme: str) -> bool:
    """True when a proxy variable (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``) may apply to ``scheme``.

    httpx mounts environment proxies only when a client has no explicit transport, so such clients
    keep httpx's own transport. Errs towards True (``NO_PROXY`` is left to httpx).
    """
    proxies = urllib.request.getproxies()
    if "*" in (host.strip() for host in proxies.get("no", "").split(",")):
        return False
    return bool(proxies.get(scheme) or proxies.get("all"))


class HttpSession:
    """One httpx client plus the retry/redirect rules; thread-safe."""

    def __init__(self, options: RegistryOptions) -> None:
        self.options = options
        connect, read = options.timeouts()
        self._read_timeout = read
        self._timeout = httpx.Timeout(read, connect=connect)
        # identity: a compressed answer would only be inflated again (bounded, see bodies.decoded_chunks).
        self._headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        self._policy = NetworkPolicy(options)
        self._plain: httpx.Client | None = None
        self._tls: httpx.Client | None = None
        self._lock = threading.Lock()
        if options.ca_file is not None and options.transport is None:
            self._client_for(httpx.URL("https://ca-file.check/"))  # a bad --ca-file fails now, not mid-run
        self._count = 0
        self._rate_limit: dict[str, str] = {}
        #: Insecure non-loopback hosts: the scheme that worked ("https" or "http"); absent = not probed yet.
        self._schemes: dict[str, str] = {}

    def _client_for(self, url: httpx.URL) -> httpx.Client:
        """The client for ``url``'s scheme. Loading CA certificates costs ~80 ms, so plain-HTTP hosts
        (loopback registries) get a client that never does; the TLS one is built on first use."""
        with self._lock:
            if self.options.transport is not None:
                if self._plain is None:
                    self._plain = httpx.Client(
                        transport=self.options.transport,
                        timeout=self._timeout,
                        follow_redirects=False,
                        headers=self._headers,
                    )
                return self._plain
            if url.scheme == "http":
                if self._plain is None:
                    self._plain = self._new_client(None, proxied=_env_proxy("http"))
                return self._plain
            if self._tls is None:
                self._tls = self._new_client(_ssl_context(self.options), proxied=_env_proxy("https"))
            return self._tls

    def _new_client(self, ctx: ssl.SSLContext | None, *, proxied: bool) -> httpx.Client:
        """A client over :class:`StdlibTransport` (``ctx=None``: plain HTTP only, no CA bundle loaded).

        With a proxy variable set, httpx's own transport instead, which routes through the proxy.
        """
        if proxied:
            return httpx.Client(
                # verify=False for the plain-HTTP client only skips loading a CA bundle: it never speaks TLS.
                verify=ctx if ctx is not None else False,
                timeout=self._timeout,
                follow_redirects=False,
                headers=self._headers,
            )
        return httpx.Client(
            transport=StdlibTransport(ssl_context=ctx),
            timeout=self._timeout,
            follow_redirects=False,
            headers=self._headers,
        )

    # -- bookkeeping -------------------------------------------------------------------------------

    @property
    def request_count(self) -> int:
        """Every HTTP request sent so far (token requests, retries and redirect hops included)."""
        with self._lock:
            return self._count

    @property
    def rate_limit(self) -> dict[str, str]:
        """The latest rate-limit headers seen (a copy)."""
        with self._lock:
            return dict(self._rate_limit)

    def close(self) -> None:
        """Close the connection pool."""
        for client in (self._plain, self._tls):
            if client is not None:
                client.close()

    # -- schemes -----------------------------------------------------------------------------------

    def base_url(self, host: str) -> httpx.URL:
        """``http://host`` for loopback, ``https://host`` otherwise (or what an insecure probe found)."""
        if is_loopback(host):
            scheme = "http"
        elif not self.options.insecure:
            scheme = "https"
        else:
            with self._lock:
                scheme = self._schemes.get(host, "https")
        return httpx.URL(f"{scheme}://{host}/")

    def fell_back_to_http(self, host: str) -> bool:
        """True when ``--insecure`` probing found that ``host`` only speaks plain HTTP."""
        with self._lock:
            return self._schemes.get(host) == "http"

    def _may_fall_back(self, url: httpx.URL, registry_host: str | None) -> bool:
        if not self.options.insecure or registry_host is None or url.scheme != "https":
            return False
        if is_loopback(registry_host) or not HostPort.parse(registry_host).matches(url):
            return False
        with self._lock:
            return registry_host not in self._schemes

    def _settle_scheme(self, registry_host: str | None, url: httpx.URL) -> None:
        if self.options.insecure and registry_host is not None and HostPort.parse(registry_host).matches(url):
            with self._lock:
                self._schemes.setdefault(registry_host, url.scheme)

    # -- sending -----------------------------------------------------------------------------------

    def send(
        self,
        method: str,
        url: httpx.URL,
        *,
        error_host: str,
        who: str | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        authorization: str | None = None,
        auth_host: str | None = None,
        registry_host: str | None = None,
        stream: bool = False,
        body_limit: str = "error_body_bytes",
    ) -> httpx.Response:
        """Send with retries, following redirects; return the final answer (any status but a retryable one).

        ``authorization`` goes only to requests whose host is ``auth_host``. ``registry_host`` names the
        registry whose scheme an insecure probe may settle. With ``stream`` a 2xx body is left unread;
        otherwise it is read up to the :class:`~provenant.limits.Limits` field ``body_limit`` (more is an
        error). Other answers' bodies are read up to ``error-body-bytes`` and cut there.
        ``who`` names the server in errors (default ``registry <error_host>``).
        """
        who = who or f"registry {error_host}"
        auth_target = HostPort.parse(auth_host) if auth_host else None
        registry = HostPort.parse(error_host)
        max_hops = self.options.bounds().redirects
        asked = f"{who}: {method} {url.path}"
        for _hop in range(max_hops + 1):
            if not registry.matches(url):
                # A redirect, a token realm or an upload location: somewhere the registry sent us.
                self._policy.check(url, error_host, asked)
            hop_headers = dict(headers or {})
            if authorization and auth_target is not None and auth_target.matches(url):
                hop_headers["Authorization"] = authorization
            resp = self._send_retrying(
                method,
                url,
                hop_headers,
                content=content,
                stream=stream,
                body_limit=body_limit,
                error_host=error_host,
                who=who,
                registry_host=registry_host,
            )
            location = resp.headers.get("location")
            if resp.status_code not in REDIRECT_STATUSES or not location:
                return resp
            resp.close()
            try:
                nxt = resp.request.url.join(location)
            except httpx.InvalidURL:
                raise RegistryError(
                    f"{who} redirected {method} {resp.request.url.path} to an invalid URL {printable(location)!r}",
                    status=resp.status_code,
                ) from None
            if resp.request.url.scheme == "https" and nxt.scheme != "https":
                raise RegistryError(
                    f"{who} redirected {method} {resp.request.url.path} from https to "
                    f"{nxt.scheme}://{host_of(nxt)}; refusing to downgrade to plain HTTP",
                    hint="the registry or its storage is misconfigured; its redirects should stay on https",
                    status=resp.status_code,
                )
            if nxt.scheme not in ("http", "https"):
                raise RegistryError(
                    f"{who} redirected {method} {resp.request.url.path} to an unsupported URL scheme {nxt.scheme!r}",
                    status=resp.status_code,
                )
            if resp.status_code == 303 and method not in ("GET", "HEAD"):
                method, content = "GET", None
            log.debug("redirect %s -> %s://%s%s", resp.status_code, nxt.scheme, host_of(nxt), nxt.path)
            url = nxt
        raise LimitExceededError(
            f"{who}: {method} {url.path} was redirected again and again", "redirects", limits=self.options.bounds()
        )

    def _send_retrying(
        self,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        *,
        content: bytes | None,
        stream: bool,
        body_limit: str,
        error_host: str,
        who: str,
        registry_host: str | None,
    ) -> httpx.Response:
        opts = self.options
        lim = opts.bounds()
        retries = opts.retries()
        cap = opts.retry_cap()
        attempts = 0
        timeouts = 0
        while True:
            attempts += 1
            limits_mod.check_deadline(f"{who}: {method} {url.path}")
            if opts.gate is not None:
                self._admit(opts.gate, url, retries, f"{who}: {method} {url.path}", lim)
            client = self._client_for(url)
            request = client.build_request(method, url, headers=headers, content=content)
            with self._lock:
                self._count += 1
            try:
                resp = client.send(request, stream=True)
                self._guard(resp, f"{who}: {method} {url.path}", lim)
                if not stream or resp.status_code in RETRYABLE_STATUSES or resp.status_code >= 300:
                    try:
                        self._read_body(resp, lim, body_limit, f"{who}: answer to {method} {url.path}")
                    finally:
                        resp.close()
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.ConnectError) and self._may_fall_back(url, registry_host):
                    log.debug("https to %s failed (%s); falling back to http (--insecure)", error_host, exc)
                    url = url.copy_with(scheme="http")
                    if registry_host is not None:
                        with self._lock:
                            self._schemes[registry_host] = "http"
                    attempts -= 1
                    continue
                if isinstance(exc, httpx.ReadTimeout):
                    timeouts += 1
                    if timeouts > 1:  # a server that stalled twice in a row is not worth 4 more waits
                        raise LimitExceededError(
                            f"{who}: {method} {url.path}: {printable(str(exc)) or 'no answer'}, twice",
                            "read_timeout",
                            limits=lim.model_copy(update={"read_timeout": float(self._read_timeout)}),
                        ) from None
                if attempts > retries:
                    raise error_for_transport(
                        exc, who, host=error_host, method=method, url=url, attempts=attempts
                    ) from exc
                delay = backoff_delay(attempts - 1, opts.backoff_base, cap)
                log.debug("%s %s failed (%s); retrying in %.2f s", method, url.path, type(exc).__name__, delay)
                self.wait(delay, f"{who}: retrying {method} {url.path} after {type(exc).__name__}")
                continue
            self._settle_scheme(registry_host, url)
            rate = rate_limit_headers(resp)
            if rate:
                with self._lock:
                    self._rate_limit.update(rate)
            log.debug("%s %s -> %s", method, url.path, resp.status_code)
            if opts.gate is not None and resp.status_code != 429:
                opts.gate.passed(host_of(url))
            if resp.status_code not in RETRYABLE_STATUSES:
                return resp
            asked = parse_retry_after(resp.headers.get("retry-after"), date=resp.headers.get("date"))
            delay = asked if asked is not None else backoff_delay(attempts - 1, opts.backoff_base, cap)
            if opts.gate is not None and resp.status_code == 429 and delay <= cap:
                opts.gate.throttled(host_of(url), delay)  # every worker waits too, also when this request gives up
            if attempts > retries:
                raise error_for_exhausted(resp, who, method, url.path, attempts)
            what = f"{who} answered {status_text(resp)} for {method} {url.path}"
            if asked is not None and asked > cap:
                raise LimitExceededError(
                    f"{what} and asked to wait {asked:.0f} s before retrying (Retry-After)",
                    "retry_after_cap",
                    limits=lim.model_copy(update={"retry_after_cap": float(cap)}),
                )
            log.debug("%s %s answered %s; retrying in %.2f s", method, url.path, resp.status_code, delay)
            self.wait(delay, f"{what}; retrying in {delay:g} s")

    def _admit(self, gate: Gate, url: httpx.URL, retries: int, what: str, lim: limits_mod.Limits) -> None:
        """Wait for the shared budget of ``url``'s host; refuse when the host has throttled too long."""
        host = host_of(url)
        while (wait := gate.admit(host, retries)) != 0:  # each wait is within the command's deadline
            if wait is None:
                raise LimitExceededError(
                    f"{what}: {host} kept answering 429 (Too Many Requests) to the workers after "
                    f"{retries + 1} waits in a row; not sending more",
                    "retries",
                    limits=lim.model_copy(update={"retries": retries}),
                )
            log.debug("%s: waiting %.2f s for %s's shared rate limit", what, wait, host)
            self.wait(wait, f"{what}: waiting {wait:.2f} s for {host}'s rate limit")

    def _guard(self, resp: httpx.Response, what: str, lim: limits_mod.Limits) -> None:
        """Wrap the body so that every read of it is bounded in time and rate."""
        inner = resp.stream
        if isinstance(inner, httpx.SyncByteStream):
            resp.stream = GuardedStream(inner, what, lim, read_timeout=self._read_timeout)

    @staticmethod
    def _read_body(resp: httpx.Response, lim: limits_mod.Limits, body_limit: str, what: str) -> None:
        if 200 <= resp.status_code < 300:
            # A success body is data: over its cap it is an error, never silently cut.
            read_bounded(resp, getattr(lim, body_limit), what, body_limit, limits=lim)
        else:
            read_bounded(resp, lim.error_body_bytes, what, "error_body_bytes", truncate=True, limits=lim)

    def wait(self, delay: float, what: str) -> None:
        """Sleep ``delay`` seconds before another attempt, unless that would pass the command's deadline."""
        left = limits_mod.remaining()
        if left is not None and delay >= left:
            raise LimitExceededError(
                f"{what} would pass the deadline ({left:.0f} s left)", "timeout", limits=self.options.bounds()
            )
        self.options.sleep(delay)
