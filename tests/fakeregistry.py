"""An in-memory OCI distribution registry for unit tests, used as ``httpx.MockTransport(fake.handler)``.

One :class:`FakeRegistry` answers for several hosts at once: the registry itself, an optional token
service (the Bearer realm) and an optional blob storage host that blob GETs are redirected to. Any
other host behaves like a refused connection.

Typical use::

    fake = FakeRegistry()                       # http://127.0.0.1:5000, no auth
    img = fake.put_image("team/app", tag="v1", layers=[b"layer bytes"])
    fake.require_bearer()                       # anonymous pull tokens from https://auth.example.test/token
    client, sleeps = make_client(fake)          # RegistryClient on fake.transport(); sleeps recorded
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert fake.count("GET", host="auth.example.test") == 1

Content: :meth:`put_blob`, :meth:`put_manifest`, :meth:`tag`, and the conveniences :meth:`put_image`
and :meth:`put_index`. Auth: :meth:`require_basic`, :meth:`require_bearer`, :meth:`revoke_tokens`.
Faults: :meth:`inject` (canned answers or exceptions per path), :meth:`drop_blob` (connection reset or
early end after N bytes), :meth:`corrupt_blob` (serve other bytes), :meth:`redirect_blobs` (307 to a
storage host). Log: :attr:`requests`, :meth:`count`, :meth:`matching`.

:func:`make_client` builds a :class:`~provenant.sources.registry.RegistryClient` wired to a fake and
isolated from the machine's docker config and environment; :func:`ref` parses a name on the fake's host.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

from provenant.reference import Reference
from provenant.sources.registry import RegistryClient, RegistryOptions

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(obj: Any) -> bytes:
    """Compact, key-sorted JSON bytes (stable digests)."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


class FakeClock:
    """A manual monotonic clock: call it for the time, :meth:`advance` to move it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


@dataclass(frozen=True)
class LoggedRequest:
    """One request the fake saw (headers with lowercase names)."""

    method: str
    url: httpx.URL
    headers: dict[str, str]
    content: bytes

    @property
    def host(self) -> str:
        """``host[:port]`` the request went to."""
        return self.url.netloc.decode()

    @property
    def path(self) -> str:
        """The URL path."""
        return self.url.path


@dataclass(frozen=True)
class Canned:
    """A canned answer for :meth:`FakeRegistry.inject`."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class ImageRecord:
    """What :meth:`FakeRegistry.put_image` stored."""

    digest: str
    manifest: bytes
    config_digest: str
    config: bytes
    layer_digests: list[str]
    size: int


@dataclass
class _Token:
    grants: dict[str, set[str]]
    expires_at: float


@dataclass
class _Repo:
    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)


@dataclass
class _BlobFault:
    after: int
    times: int
    how: str  # "reset" or "truncate"


class _PartialStream(httpx.SyncByteStream):
    """Yields the first ``after`` bytes, then resets the connection (or just ends)."""

    def __init__(self, data: bytes, after: int, how: str) -> None:
        self._data = data
        self._after = after
        self._how = how

    def __iter__(self) -> Iterator[bytes]:
        part = self._data[: self._after]
        for i in range(0, len(part), 64 * 1024):
            yield part[i : i + 64 * 1024]
        if self._how == "reset":
            raise httpx.ReadError("connection reset by peer")


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = canonical_json({"errors": [{"code": code, "message": message, "detail": None}]})
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    # as bytes: a challenge's scope names the repository of the path, which may be anything a client asked for
    return httpx.Response(status, headers={k.encode(): v.encode() for k, v in hdrs.items()}, content=body)


_ROUTES = [
    ("manifest", re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)$")),
    ("upload", re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/(?P<id>[^/]*)$")),
    ("blob", re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)$")),
    ("tags", re.compile(r"^/v2/(?P<name>.+)/tags/list$")),
    ("referrers", re.compile(r"^/v2/(?P<name>.+)/referrers/(?P<digest>[^/]+)$")),
]


class FakeRegistry:
    """An in-memory registry; every public attribute may be changed between requests.

    ``host``/``scheme`` say where the registry listens; a request with another scheme to this host
    fails like a refused connection (useful for the ``--insecure`` http fallback).
    """

    def __init__(
        self,
        host: str = "127.0.0.1:5000",
        *,
        scheme: str = "http",
        referrers: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.scheme = scheme
        #: Serve the OCI 1.1 referrers API (distribution 2.8 does not: 404).
        self.referrers = referrers
        #: Whether the referrers API applies the ``artifactType`` filter itself.
        self.referrers_filter = True
        #: Page size of the referrers API (None: one page).
        self.referrers_page_size: int | None = None
        #: Page size of tags/list when the client sends no ``n`` (None: everything at once).
        self.tags_page_size: int | None = None
        #: Send ``Accept-Ranges: bytes`` on blob answers (Range requests are honoured either way, unless
        #: :attr:`honour_ranges` is False).
        self.accept_ranges = True
        self.honour_ranges = True
        #: Put ``Docker-Content-Digest`` on manifest HEAD answers.
        self.head_digest = True
        #: Upload ``Location`` style: "relative" or "absolute".
        self.upload_location = "relative"
        #: Extra headers on every registry API answer (e.g. ``{"RateLimit-Remaining": "99"}``).
        self.extra_headers: dict[str, str] = {}
        self.clock = clock
        self.requests: list[LoggedRequest] = []
        self._repos: dict[str, _Repo] = {}
        self._lock = threading.RLock()
        self._canned: dict[tuple[str | None, str], deque[Canned | Exception]] = {}
        self._blob_faults: dict[str, _BlobFault] = {}
        self._corrupt: dict[str, bytes] = {}
        self._redirect: tuple[str, int] | None = None
        # auth
        self.auth = "none"
        self._users: dict[str, str] = {}
        self._identity_tokens: set[str] = set()
        self._realm = httpx.URL("https://auth.example.test/token")
        self._service = "fake-registry"
        self._anonymous_pull = True
        self._token_ttl: float | None = 300.0
        self._token_field = "token"
        self._tokens: dict[str, _Token] = {}
        self.tokens_issued = 0

    # -- wiring ------------------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        """An httpx transport that sends every request to :meth:`handler`."""
        return httpx.MockTransport(self.handler)

    @property
    def base_url(self) -> str:
        """``scheme://host``."""
        return f"{self.scheme}://{self.host}"

    # -- content -----------------------------------------------------------------------------------

    def _repo(self, name: str) -> _Repo:
        return self._repos.setdefault(name, _Repo())

    def put_blob(self, repo: str, data: bytes) -> str:
        """Store a blob; returns its digest."""
        digest = sha256(data)
        with self._lock:
            self._repo(repo).blobs[digest] = data
        return digest

    def put_manifest(
        self, repo: str, data: bytes | dict[str, Any], media_type: str | None = None, tag: str | None = None
    ) -> str:
        """Store a manifest (bytes as given, or a dict serialised compactly); returns its digest."""
        raw = canonical_json(data) if isinstance(data, dict) else data
        if media_type is None:
            obj = json.loads(raw)
            media_type = obj.get("mediaType") or OCI_MANIFEST
        digest = sha256(raw)
        with self._lock:
            self._repo(repo).manifests[digest] = (raw, media_type)
            if tag:
                self._repo(repo).tags[tag] = digest
        return digest

    def tag(self, repo: str, tag: str, digest: str) -> None:
        """Point ``tag`` at a stored manifest."""
        with self._lock:
            self._repo(repo).tags[tag] = digest

    def blob(self, repo: str, digest: str) -> bytes | None:
        """A stored blob, or None."""
        with self._lock:
            return self._repo(repo).blobs.get(digest)

    def manifest(self, repo: str, ref: str) -> tuple[bytes, str] | None:
        """A stored manifest by tag or digest, as (bytes, media type), or None."""
        with self._lock:
            r = self._repo(repo)
            return r.manifests.get(r.tags.get(ref, ref))

    def put_image(
        self,
        repo: str,
        *,
        tag: str | None = None,
        layers: list[bytes] | None = None,
        os: str = "linux",
        architecture: str = "amd64",
        variant: str | None = None,
        config_extra: dict[str, Any] | None = None,
        subject: dict[str, Any] | None = None,
        artifact_type: str | None = None,
    ) -> ImageRecord:
        """Store a small OCI image (config + layers + manifest); layer bytes are stored as given."""
        layers = layers if layers is not None else [b"layer-" + architecture.encode()]
        config_obj: dict[str, Any] = {
            "architecture": architecture,
            "os": os,
            "rootfs": {"type": "layers", "diff_ids": [sha256(x) for x in layers]},
            "config": {},
        }
        if variant:
            config_obj["variant"] = variant
        config_obj.update(config_extra or {})
        config = canonical_json(config_obj)
        config_digest = self.put_blob(repo, config)
        layer_digests = [self.put_blob(repo, x) for x in layers]
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [
                {"mediaType": OCI_LAYER_GZIP, "digest": d, "size": len(x)}
                for d, x in zip(layer_digests, layers, strict=True)
            ],
        }
        if subject is not None:
            manifest["subject"] = subject
        if artifact_type is not None:
            manifest["artifactType"] = artifact_type
        raw = canonical_json(manifest)
        digest = self.put_manifest(repo, raw, OCI_MANIFEST, tag)
        return ImageRecord(digest, raw, config_digest, config, layer_digests, len(raw))

    def put_index(self, repo: str, images: list[ImageRecord], *, tag: str | None = None) -> str:
        """Store an OCI index over ``images`` (platforms taken from their configs); returns its digest."""
        entries = []
        for img in images:
            cfg = json.loads(img.config)
            platform = {"os": cfg["os"], "architecture": cfg["architecture"]}
            if cfg.get("variant"):
                platform["variant"] = cfg["variant"]
            entries.append({"mediaType": OCI_MANIFEST, "digest": img.digest, "size": img.size, "platform": platform})
        return self.put_manifest(repo, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, tag=tag)

    # -- auth --------------------------------------------------------------------------------------

    def require_basic(self, username: str, password: str) -> None:
        """Every API request needs ``Authorization: Basic`` with these credentials."""
        self.auth = "basic"
        self._users = {username: password}

    def require_bearer(
        self,
        *,
        realm: str = "https://auth.example.test/token",
        service: str = "fake-registry",
        users: dict[str, str] | None = None,
        identity_tokens: set[str] | None = None,
        anonymous_pull: bool = True,
        token_ttl: float | None = 300.0,
        token_field: str = "token",
    ) -> None:
        """Every API request needs a Bearer token from ``realm`` (may be on this host or another).

        The token service grants what was asked for to ``users`` (Basic) and to holders of an
        ``identity_tokens`` refresh token (OAuth2 POST); anonymous callers get pull only when
        ``anonymous_pull``. ``token_ttl=None`` leaves ``expires_in`` out of the answer; ``token_field``
        is ``"token"`` or ``"access_token"``.
        """
        self.auth = "bearer"
        self._realm = httpx.URL(realm)
        self._service = service
        self._users = dict(users or {})
        self._identity_tokens = set(identity_tokens or set())
        self._anonymous_pull = anonymous_pull
        self._token_ttl = token_ttl
        self._token_field = token_field

    def revoke_tokens(self) -> None:
        """Invalidate every token issued so far (the next request with one gets a 401)."""
        with self._lock:
            self._tokens.clear()

    # -- faults ------------------------------------------------------------------------------------

    def inject(self, path: str, *answers: Canned | Exception, method: str | None = None) -> None:
        """Queue answers for the next requests to ``path`` (any host), before any auth check.

        A :class:`Canned` is returned as is; an exception (e.g. ``httpx.ConnectError("refused")``) is raised.
        """
        with self._lock:
            self._canned.setdefault((method, path), deque()).extend(answers)

    def drop_blob(self, digest: str, *, after: int, times: int = 1, how: str = "reset") -> None:
        """The next ``times`` answers carrying blob ``digest`` stop after ``after`` bytes of their body.

        ``how="reset"`` raises ``httpx.ReadError`` there; ``"truncate"`` just ends early (the
        ``Content-Length`` still announces the full length).
        """
        with self._lock:
            self._blob_faults[digest] = _BlobFault(after, times, how)

    def corrupt_blob(self, digest: str, data: bytes) -> None:
        """Serve ``data`` whenever blob ``digest`` is asked for."""
        with self._lock:
            self._corrupt[digest] = data

    def redirect_blobs(self, to: str = "https://storage.example.test", status: int = 307) -> None:
        """Answer blob GETs with a redirect to ``to`` (a storage host this fake also serves, no auth)."""
        self._redirect = (to.rstrip("/"), status)

    # -- log ---------------------------------------------------------------------------------------

    def count(self, method: str | None = None, *, path: str | None = None, host: str | None = None) -> int:
        """How many logged requests match (``path`` is a substring match)."""
        return len(self.matching(method, path=path, host=host))

    def matching(
        self, method: str | None = None, *, path: str | None = None, host: str | None = None
    ) -> list[LoggedRequest]:
        """The logged requests that match (``path`` is a substring match)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method)
                and (path is None or path in r.path)
                and (host is None or r.host == host)
            ]

    # -- the handler -------------------------------------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (the MockTransport entry point)."""
        content = request.read()
        with self._lock:
            self.requests.append(
                LoggedRequest(request.method, request.url, {k.lower(): v for k, v in request.headers.items()}, content)
            )
            for key in ((request.method, request.url.path), (None, request.url.path)):
                queue = self._canned.get(key)
                if queue:
                    answer = queue.popleft()
                    if isinstance(answer, Exception):
                        raise answer
                    return httpx.Response(answer.status, headers=answer.headers, content=answer.body)
        netloc = request.url.netloc.decode()
        if self.auth == "bearer" and netloc == self._realm.netloc.decode() and request.url.path == self._realm.path:
            if request.url.scheme != self._realm.scheme:
                raise httpx.ConnectError("connection refused (wrong scheme)")
            return self._token_endpoint(request, content)
        if self._redirect is not None and netloc == httpx.URL(self._redirect[0]).netloc.decode():
            if request.url.scheme != httpx.URL(self._redirect[0]).scheme:
                raise httpx.ConnectError("connection refused (wrong scheme)")
            return self._storage(request)
        if netloc != self.host:
            raise httpx.ConnectError(f"[Errno 111] Connection refused ({netloc})")
        if request.url.scheme != self.scheme:
            raise httpx.ConnectError(f"[SSL] wrong version number / refused ({request.url.scheme})")
        resp = self._api(request, content)
        for k, v in self.extra_headers.items():
            resp.headers[k] = v
        return resp

    # -- registry API ------------------------------------------------------------------------------

    def _challenge(self, scope: str | None, error: str | None = None) -> dict[str, str]:
        if self.auth == "basic":
            return {"WWW-Authenticate": 'Basic realm="fake-registry"'}
        parts = [f'realm="{self._realm}"', f'service="{self._service}"']
        if scope:
            parts.append(f'scope="{scope}"')
        if error:
            parts.append(f'error="{error}"')
        return {"WWW-Authenticate": "Bearer " + ",".join(parts)}

    def _authorized(self, request: httpx.Request, repo: str | None, action: str) -> httpx.Response | None:
        if self.auth == "none":
            return None
        header = request.headers.get("authorization", "")
        scope = f"repository:{repo}:{action}" if repo else None
        if self.auth == "basic":
            user = _basic_user(header, self._users)
            if user is None:
                return _error(401, "UNAUTHORIZED", "authentication required", self._challenge(scope))
            return None
        if not header.startswith("Bearer "):
            return _error(401, "UNAUTHORIZED", "authentication required", self._challenge(scope))
        tok = self._tokens.get(header[len("Bearer ") :])
        if tok is None or tok.expires_at <= self.clock():
            return _error(401, "UNAUTHORIZED", "authentication required", self._challenge(scope, "invalid_token"))
        if repo is not None and action not in tok.grants.get(repo, set()):
            return _error(
                401,
                "DENIED",
                "requested access to the resource is denied",
                self._challenge(scope, "insufficient_scope"),
            )
        return None

    def _api(self, request: httpx.Request, content: bytes) -> httpx.Response:
        path = request.url.path
        if path in ("/v2", "/v2/"):
            denied = self._authorized(request, None, "pull")
            return denied or httpx.Response(200, json={})
        for kind, rx in _ROUTES:
            m = rx.match(path)
            if not m:
                continue
            repo = m.group("name")
            action = "pull" if request.method in ("GET", "HEAD") else "push"
            denied = self._authorized(request, repo, action)
            if denied is not None:
                return denied
            with self._lock:
                if kind == "manifest":
                    return self._manifest(request, repo, m.group("ref"), content)
                if kind == "upload":
                    return self._upload(request, repo, m.group("id"), content)
                if kind == "blob":
                    return self._blob(request, repo, m.group("digest"))
                if kind == "tags":
                    return self._tags(request, repo)
                return self._referrers(request, repo, m.group("digest"))
        return _error(404, "NOT_FOUND", "no such route")

    def _manifest(self, request: httpx.Request, repo: str, ref: str, content: bytes) -> httpx.Response:
        known = repo in self._repos
        r = self._repo(repo)
        if request.method == "PUT":
            media_type = request.headers.get("content-type", OCI_MANIFEST)
            digest = sha256(content)
            if ref.startswith("sha256:") and ref != digest:
                return _error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
            r.manifests[digest] = (content, media_type)
            if ":" not in ref:
                r.tags[ref] = digest
            return httpx.Response(
                201, headers={"Location": f"/v2/{repo}/manifests/{digest}", "Docker-Content-Digest": digest}
            )
        if request.method not in ("GET", "HEAD"):
            return _error(405, "UNSUPPORTED", "method not allowed")
        digest = r.tags.get(ref, ref)
        stored = r.manifests.get(digest)
        if stored is None:
            if not known:
                return _error(404, "NAME_UNKNOWN", "repository name not known to registry")
            return _error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        data, media_type = stored
        headers = {"Content-Type": media_type, "Content-Length": str(len(data))}
        if request.method == "GET" or self.head_digest:
            headers["Docker-Content-Digest"] = digest
        if request.method == "HEAD":
            return httpx.Response(200, headers=headers)
        return httpx.Response(200, headers=headers, content=data)

    def _blob_body(self, digest: str, data: bytes, request: httpx.Request) -> httpx.Response:
        data = self._corrupt.get(digest, data)
        total = len(data)
        headers = {"Content-Type": "application/octet-stream", "Docker-Content-Digest": digest}
        if self.accept_ranges:
            headers["Accept-Ranges"] = "bytes"
        status = 200
        rng = request.headers.get("range")
        m = re.match(r"^bytes=(\d+)-(\d*)$", rng or "")
        if m and self.honour_ranges:
            start = int(m.group(1))
            end = int(m.group(2)) if m.group(2) else total - 1
            if start >= total:
                return httpx.Response(416, headers={"Content-Range": f"bytes */{total}"})
            end = min(end, total - 1)
            data = data[start : end + 1]
            headers["Content-Range"] = f"bytes {start}-{end}/{total}"
            status = 206
        headers["Content-Length"] = str(len(data))
        if request.method == "HEAD":
            return httpx.Response(status, headers=headers)
        fault = self._blob_faults.get(digest)
        if fault is not None and fault.times > 0:
            fault.times -= 1
            return httpx.Response(status, headers=headers, stream=_PartialStream(data, fault.after, fault.how))
        return httpx.Response(status, headers=headers, content=data)

    def _blob(self, request: httpx.Request, repo: str, digest: str) -> httpx.Response:
        data = self._repo(repo).blobs.get(digest)
        if data is None:
            return _error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        if request.method == "GET" and self._redirect is not None:
            to, status = self._redirect
            return httpx.Response(status, headers={"Location": f"{to}/blobs/{repo}/{digest}?signature=abc"})
        if request.method not in ("GET", "HEAD"):
            return _error(405, "UNSUPPORTED", "method not allowed")
        return self._blob_body(digest, data, request)

    def _storage(self, request: httpx.Request) -> httpx.Response:
        m = re.match(r"^/blobs/(?P<name>.+)/(?P<digest>[^/]+)$", request.url.path)
        with self._lock:
            data = self._repo(m.group("name")).blobs.get(m.group("digest")) if m else None
            if m is None or data is None:
                return httpx.Response(404, content=b"NoSuchKey")
            return self._blob_body(m.group("digest"), data, request)

    def _upload(self, request: httpx.Request, repo: str, upload_id: str, content: bytes) -> httpx.Response:
        r = self._repo(repo)
        if request.method == "POST" and not upload_id:
            new = uuid.uuid4().hex
            r.uploads[new] = b""
            location = f"/v2/{repo}/blobs/uploads/{new}?_state=s{new[:6]}"
            if self.upload_location == "absolute":
                location = self.base_url + location
            return httpx.Response(202, headers={"Location": location, "Docker-Upload-UUID": new, "Range": "0-0"})
        if upload_id not in r.uploads:
            return _error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
        if request.method == "PATCH":
            r.uploads[upload_id] += content
            return httpx.Response(202, headers={"Location": f"/v2/{repo}/blobs/uploads/{upload_id}"})
        if request.method == "PUT":
            data = r.uploads.pop(upload_id) + content
            wanted = request.url.params.get("digest")
            if wanted != sha256(data):
                return _error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
            r.blobs[wanted] = data
            return httpx.Response(
                201, headers={"Location": f"/v2/{repo}/blobs/{wanted}", "Docker-Content-Digest": wanted}
            )
        return _error(405, "UNSUPPORTED", "method not allowed")

    def _tags(self, request: httpx.Request, repo: str) -> httpx.Response:
        if repo not in self._repos:
            return _error(404, "NAME_UNKNOWN", "repository name not known to registry")
        tags = sorted(self._repos[repo].tags)
        last = request.url.params.get("last")
        n_text = request.url.params.get("n")
        if n_text and not (n_text.isascii() and n_text.isdigit()):
            return _error(400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested")
        n = int(n_text) if n_text else self.tags_page_size
        if last:
            tags = [t for t in tags if t > last]
        headers = {}
        if n is not None and len(tags) > n:
            tags = tags[:n]
            headers["Link"] = f'</v2/{repo}/tags/list?n={n}&last={tags[-1]}>; rel="next"'
        return httpx.Response(200, headers=headers, json={"name": repo, "tags": tags})

    def _referrers(self, request: httpx.Request, repo: str, digest: str) -> httpx.Response:
        if not self.referrers:
            return httpx.Response(404, content=b"404 page not found\n", headers={"Content-Type": "text/plain"})
        wanted = request.url.params.get("artifactType")
        found = []
        for mdigest, (data, media_type) in sorted(self._repo(repo).manifests.items()):
            try:
                obj = json.loads(data)
            except ValueError:
                continue
            subject = obj.get("subject") if isinstance(obj, dict) else None
            if not isinstance(subject, dict) or subject.get("digest") != digest:
                continue
            config = obj.get("config")  # whatever a damaged manifest holds is listed as it is
            artifact = obj.get("artifactType") or (config.get("mediaType") if isinstance(config, dict) else None)
            desc: dict[str, Any] = {"mediaType": media_type, "digest": mdigest, "size": len(data)}
            if artifact:
                desc["artifactType"] = artifact
            if obj.get("annotations"):
                desc["annotations"] = obj["annotations"]
            found.append(desc)
        headers = {"Content-Type": OCI_INDEX}
        if wanted and self.referrers_filter:
            found = [d for d in found if d.get("artifactType") == wanted]
            headers["OCI-Filters-Applied"] = "artifactType"
        size = self.referrers_page_size
        if size:
            page = int(request.url.params.get("page", "0"))
            chunk = found[page * size : (page + 1) * size]
            if (page + 1) * size < len(found):
                query = f"page={page + 1}" + (f"&artifactType={wanted}" if wanted else "")
                headers["Link"] = f'</v2/{repo}/referrers/{digest}?{query}>; rel="next"'
            found = chunk
        body = canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": found})
        return httpx.Response(200, headers=headers, content=body)

    # -- token service -----------------------------------------------------------------------------

    def _token_endpoint(self, request: httpx.Request, content: bytes) -> httpx.Response:
        authenticated = False
        if request.method == "POST":
            form = {k: v[0] for k, v in parse_qs(content.decode()).items()}
            if form.get("grant_type") != "refresh_token" or form.get("refresh_token") not in self._identity_tokens:
                return _error(401, "UNAUTHORIZED", "invalid refresh token")
            authenticated = True
            scopes = form.get("scope", "").split()
        else:
            header = request.headers.get("authorization")
            if header is not None:
                if _basic_user(header, self._users) is None:
                    return _error(401, "UNAUTHORIZED", "invalid username or password")
                authenticated = True
            scopes = [v for k, v in request.url.params.multi_items() if k == "scope"]
        if request.url.params.get("service", self._service) != self._service and request.method == "GET":
            return _error(400, "INVALID_SERVICE", "unknown service")
        grants: dict[str, set[str]] = {}
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository" or not name:
                continue
            allowed = set(actions.split(",")) if authenticated else ({"pull"} if self._anonymous_pull else set())
            grants.setdefault(name, set()).update(allowed & set(actions.split(",")))
        token = "fake-token-" + uuid.uuid4().hex
        ttl = self._token_ttl if self._token_ttl is not None else 60.0
        with self._lock:
            self._tokens[token] = _Token(grants, self.clock() + ttl)
            self.tokens_issued += 1
        body: dict[str, Any] = {self._token_field: token}
        if self._token_ttl is not None:
            body["expires_in"] = self._token_ttl
        return httpx.Response(200, json=body)


def _basic_user(header: str, users: dict[str, str]) -> str | None:
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user if users.get(user) == password else None


def make_client(
    fake: FakeRegistry,
    *,
    docker_config: Path | None = None,
    env: dict[str, str] | None = None,
    **options: Any,
) -> tuple[RegistryClient, list[float]]:
    """A client talking to ``fake`` and the list its sleeps are recorded in (nothing really sleeps).

    Credentials come only from ``options`` (username/password), ``env`` and ``docker_config``
    (default: a path that does not exist), never from the machine running the tests.
    """
    sleeps: list[float] = []
    opts = RegistryOptions(
        transport=fake.transport(),
        sleep=sleeps.append,
        docker_config=docker_config or Path("/nonexistent/provenant-test/config.json"),
        **options,
    )
    return RegistryClient(opts, env=env or {}), sleeps


def ref(fake: FakeRegistry, name: str) -> Reference:
    """``name`` (``repo:tag`` or ``repo@digest``) on the fake's host, parsed."""
    return Reference.parse(f"{fake.host}/{name}")
