"""The registry API client: manifests, blobs, tags, referrers and pushes over one connection pool."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx

from provenant.digest import Digest, verify_bytes
from provenant.errors import (
    AuthenticationError,
    InvalidReferenceError,
    ManifestError,
    NotFoundError,
    RegistryError,
)
from provenant.limits import LimitExceededError
from provenant.oci import mediatypes as mt
from provenant.reference import Reference
from provenant.sources.base import RawManifest
from provenant.sources.registry.auth import AuthAttempt, Authenticator
from provenant.sources.registry.blobs import ResumableBlob
from provenant.sources.registry.bodies import read_bounded
from provenant.sources.registry.challenge import pull_scope, push_scope
from provenant.sources.registry.credentials import CredentialResolver
from provenant.sources.registry.failures import auth_hint, error_for_response, target
from provenant.sources.registry.hosts import HostPort
from provenant.sources.registry.links import next_link
from provenant.sources.registry.options import RegistryOptions
from provenant.sources.registry.retry import backoff_delay, rate_limit_headers
from provenant.sources.registry.transport import HttpSession, host_of
from provenant.structured import load_json
from provenant.textsafe import printable

log = logging.getLogger("provenant.registry")


@dataclass(frozen=True)
class ManifestHead:
    """What a HEAD of a manifest told us (or the GET fallback computed)."""

    digest: Digest
    media_type: str | None
    size: int | None


def _media_type(value: str | None) -> str | None:
    if not value:
        return None
    return value.split(";", 1)[0].strip() or None


class RegistryClient:
    """Talks the OCI distribution API to any number of registries; thread-safe.

    ``repr()`` shows no secrets; :attr:`request_count` counts every HTTP request sent.
    """

    def __init__(self, options: RegistryOptions | None = None, *, env: Mapping[str, str] | None = None) -> None:
        self.options = options or RegistryOptions()
        self._session = HttpSession(self.options)
        self._credentials = CredentialResolver(self.options, env)
        self._auth = Authenticator(self._session, self._credentials)

    def __repr__(self) -> str:
        return f"RegistryClient({self.options!r}, requests={self.request_count})"

    # -- bookkeeping -------------------------------------------------------------------------------

    @property
    def request_count(self) -> int:
        """Every HTTP request sent so far, token requests, retries and redirect hops included."""
        return self._session.request_count

    @property
    def rate_limit(self) -> dict[str, str]:
        """The latest rate-limit headers any registry sent (lowercase names), e.g. ``ratelimit-remaining``."""
        return self._session.rate_limit

    def credential_source(self, host: str) -> str:
        """Where the credentials used for ``host`` came from, for ``--verbose`` (never the secret).

        ``anonymous`` when none were found, or when the registry never asked for any.
        """
        cred = self._credentials.resolved(host)
        return "anonymous" if cred is None else cred.source

    def close(self) -> None:
        """Close the connection pool."""
        self._session.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the request core --------------------------------------------------------------------------

    def _url(self, host: str, path: str) -> httpx.URL:
        return self._session.base_url(host).join(path)

    def _call(
        self,
        host: str,
        method: str,
        url: httpx.URL,
        *,
        scope: str,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        stream: bool = False,
        body_limit: str = "error_body_bytes",
    ) -> httpx.Response:
        """Send to the registry, answering 401 challenges (at most a fresh auth and one renewal).

        ``body_limit`` is the :class:`~provenant.limits.Limits` field bounding a 2xx body read here.
        """
        registry = HostPort.parse(host)
        attempt = self._auth.preemptive(host, scope)
        for _round in range(3):
            if url.scheme == "https" and registry.matches(url) and self._session.fell_back_to_http(host):
                url = url.copy_with(scheme="http")  # the --insecure probe found plain HTTP
            resp = self._session.send(
                method,
                url,
                error_host=host,
                headers=headers,
                content=content,
                authorization=attempt.header,
                auth_host=host,
                registry_host=host,
                stream=stream,
                body_limit=body_limit,
            )
            if resp.status_code != 401 or not registry.matches(resp.request.url):
                return resp
            nxt: AuthAttempt | None = self._auth.respond(host, scope, resp, attempt)
            if nxt is None:
                return resp
            attempt = nxt
        return resp

    def _fail(self, resp: httpx.Response, host: str, method: str, what: str) -> NoReturn:
        err = error_for_response(resp, host, method, resp.request.url.path, what)
        if isinstance(err, AuthenticationError) and resp.status_code == 401:
            cred = self._credentials.resolved(host)
            if cred is not None and not cred.anonymous:
                err.hint = f"the credentials from {cred.source} were rejected; {auth_hint(host)}"
        raise err

    # -- manifests ---------------------------------------------------------------------------------

    def get_manifest(self, ref: Reference, identifier: str) -> RawManifest:
        """The manifest or index ``identifier`` (tag or digest) of ``ref``'s repository, bytes as served.

        Not verified here: shared code checks the bytes against the digest it asked for.
        """
        host = ref.api_host
        what = target(ref.repository, identifier)
        url = self._url(host, f"/v2/{ref.repository}/manifests/{identifier}")
        resp = self._call(
            host,
            "GET",
            url,
            scope=pull_scope(ref.repository),
            headers={"Accept": mt.MANIFEST_REQUEST_ACCEPT},
            stream=True,
        )
        try:
            if resp.status_code != 200:
                self._fail(resp, host, "GET", what)
            media_type = _media_type(resp.headers.get("content-type"))
            if media_type in mt.SCHEMA1_TYPES:
                raise ManifestError(
                    f"registry {host}: {what} is an unsupported schema1 manifest ({printable(media_type or '')})",
                    hint="schema1 is deprecated; re-push the image with a current client to get a schema2/OCI manifest",
                )
            data = self._read_capped(resp, host, what)
        finally:
            resp.close()
        return RawManifest(data=data, media_type=media_type, facts=rate_limit_headers(resp))

    def _read_capped(self, resp: httpx.Response, host: str, what: str) -> bytes:
        """The manifest's bytes, at most ``manifest-bytes`` of them whatever Content-Length says."""
        try:
            lim = self.options.bounds()
            return read_bounded(
                resp, lim.manifest_bytes, f"registry {host}: manifest {what}", "manifest_bytes", limits=lim
            )
        except httpx.TransportError as exc:
            raise RegistryError(
                f"registry {host}: connection broke while reading {what}: {printable(str(exc))}", hint="try again"
            ) from exc

    def head_manifest(self, ref: Reference, identifier: str) -> ManifestHead | None:
        """Digest, media type and size of a manifest without its body; None when it does not exist.

        When the registry's HEAD answer carries no ``Docker-Content-Digest``, the manifest is fetched
        and its digest computed.
        """
        host = ref.api_host
        what = target(ref.repository, identifier)
        url = self._url(host, f"/v2/{ref.repository}/manifests/{identifier}")
        resp = self._call(
            host, "HEAD", url, scope=pull_scope(ref.repository), headers={"Accept": mt.MANIFEST_REQUEST_ACCEPT}
        )
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            self._fail(resp, host, "HEAD", what)
        media_type = _media_type(resp.headers.get("content-type"))
        header = resp.headers.get("docker-content-digest")
        length = resp.headers.get("content-length")
        if header:
            try:
                digest = Digest.parse(header.strip())
            except InvalidReferenceError:
                digest = None
            if digest is not None:
                size = int(length) if length is not None and length.isdigit() else None
                return ManifestHead(digest, media_type, size)
        try:
            raw = self.get_manifest(ref, identifier)
        except NotFoundError:
            return None
        return ManifestHead(Digest.of(raw.data), raw.media_type, len(raw.data))

    def put_manifest(self, ref: Reference, tag_or_digest: str, data: bytes, media_type: str) -> Digest:
        """Upload a manifest under a tag or its digest; returns the digest of ``data``."""
        host = ref.api_host
        digest = Digest.of(data)
        if ":" in tag_or_digest:
            wanted = Digest.parse(tag_or_digest)
            verify_bytes(data, wanted, f"manifest to push as {target(ref.repository, tag_or_digest)}")
            digest = Digest.of(data, wanted.algorithm)
        what = target(ref.repository, tag_or_digest)
        url = self._url(host, f"/v2/{ref.repository}/manifests/{tag_or_digest}")
        resp = self._call(
            host,
            "PUT",
            url,
            scope=push_scope(ref.repository),
            headers={"Content-Type": media_type},
            content=data,
        )
        if resp.status_code not in (200, 201, 202):
            self._fail(resp, host, "PUT", what)
        served = resp.headers.get("docker-content-digest")
        if served and served.strip().startswith(f"{digest.algorithm}:") and served.strip() != str(digest):
            raise RegistryError(
                f"registry {host} stored {what} as {printable(served.strip())}, but its bytes hash to {digest}",
                hint="the registry rewrote the manifest; do not rely on this push",
            )
        return digest

    # -- blobs -------------------------------------------------------------------------------------

    @contextmanager
    def open_blob(self, ref: Reference, digest: Digest, size: int | None) -> Iterator[Iterator[bytes]]:
        """Stream blob ``digest`` in chunks of at most 1 MiB, unverified; a dropped connection resumes by ``Range``."""
        host = ref.api_host
        what = f"blob {digest} of {ref.repository}"
        url = self._url(host, f"/v2/{ref.repository}/blobs/{digest}")
        scope = pull_scope(ref.repository)

        def fetch(offset: int) -> httpx.Response:
            headers = {"Accept-Encoding": "identity"}
            if offset > 0:
                headers["Range"] = f"bytes={offset}-"
            return self._call(host, "GET", url, scope=scope, headers=headers, stream=True)

        def fail(resp: httpx.Response) -> NoReturn:
            self._fail(resp, host, "GET", what)

        opts = self.options
        cap = opts.retry_cap()
        reader = ResumableBlob(
            fetch,
            fail,
            what=what,
            host=host,
            size=size,
            max_resumes=opts.retries(),
            delay=lambda n: backoff_delay(n, opts.backoff_base, cap),
            sleep=lambda seconds: self._session.wait(seconds, f"resuming {what} in {seconds:g} s"),
        )
        try:
            yield reader.chunks()
        finally:
            reader.close()

    def get_blob(self, ref: Reference, digest: Digest, size: int | None) -> bytes:
        """The whole blob, verified against ``digest`` (and ``size`` when given)."""
        with self.open_blob(ref, digest, size) as chunks:
            data = b"".join(chunks)
        return verify_bytes(data, digest, f"blob {digest} of {ref.name}", size=size)

    def push_blob(self, ref: Reference, data: bytes) -> Digest:
        """Upload ``data`` as a blob (skipped when the registry already has it); returns its digest."""
        host = ref.api_host
        digest = Digest.of(data)
        scope = push_scope(ref.repository)
        what = f"blob {digest} of {ref.repository}"
        head = self._call(host, "HEAD", self._url(host, f"/v2/{ref.repository}/blobs/{digest}"), scope=scope)
        if head.status_code == 200:
            return digest
        if head.status_code != 404:
            self._fail(head, host, "HEAD", what)
        start = self._call(
            host, "POST", self._url(host, f"/v2/{ref.repository}/blobs/uploads/"), scope=scope, content=b""
        )
        if start.status_code not in (201, 202):
            self._fail(start, host, "POST", f"upload to {ref.repository}")
        location = start.headers.get("location")
        if not location:
            raise RegistryError(
                f"registry {host} started an upload to {ref.repository} without a Location header",
                status=start.status_code,
            )
        upload = start.request.url.join(location).copy_merge_params({"digest": str(digest)})
        if upload.scheme == "http" and start.request.url.scheme == "https":
            raise RegistryError(
                f"registry {host} sent an upload location on plain HTTP ({host_of(upload)}); refusing to downgrade",
            )
        put = self._call(
            host,
            "PUT",
            upload,
            scope=scope,
            headers={"Content-Type": "application/octet-stream"},
            content=data,
        )
        if put.status_code not in (201, 204):
            self._fail(put, host, "PUT", what)
        return digest

    # -- tags and referrers ------------------------------------------------------------------------

    def _pages(
        self, host: str, url: httpx.URL, scope: str, what: str, headers: Mapping[str, str]
    ) -> Iterator[httpx.Response]:
        """GET ``url`` and every ``Link: rel="next"`` page after it (same host only), within ``pages``
        pages of at most ``page-bytes`` each."""
        registry = HostPort.parse(host)
        seen: set[str] = set()
        max_pages = self.options.bounds().pages
        for _ in range(max_pages):
            resp = self._call(host, "GET", url, scope=scope, headers=headers, body_limit="page_bytes")
            yield resp
            link = next_link(resp.headers.get("link"))
            if not link:
                return
            try:
                nxt = resp.request.url.join(link)
            except httpx.InvalidURL:
                raise RegistryError(f"registry {host} paginated {what} to an invalid URL {printable(link)!r}") from None
            if not registry.matches(nxt) or nxt.scheme != resp.request.url.scheme:
                raise RegistryError(
                    f"registry {host} paginated {what} to another host ({nxt.scheme}://{host_of(nxt)}); "
                    "refusing to follow",
                    hint="the registry is misconfigured",
                )
            if str(nxt) in seen:
                loop = printable(f"{nxt.path}?{nxt.query.decode()}")
                raise RegistryError(f"registry {host} paginated {what} in a loop ({loop})")
            seen.add(str(nxt))
            url = nxt
        raise LimitExceededError(f"registry {host}: {what} go on for more pages", "pages", limits=self.options.bounds())

    def list_tags(self, ref: Reference) -> list[str]:
        """Every tag of ``ref``'s repository, following ``Link`` pagination."""
        host = ref.api_host
        what = f"tags of {ref.repository}"
        url = self._url(host, f"/v2/{ref.repository}/tags/list")
        tags: list[str] = []
        for resp in self._pages(host, url, pull_scope(ref.repository), what, {"Accept": "application/json"}):
            if resp.status_code != 200:
                self._fail(resp, host, "GET", what)
            obj = _json_object(resp, host, what)
            page = obj.get("tags") or []
            if not isinstance(page, list) or not all(isinstance(t, str) for t in page):
                raise RegistryError(
                    f"registry {host} answered {what} with a 'tags' field that is not a list of strings"
                )
            tags.extend(page)
        return tags

    def list_repositories(self, registry: str) -> list[str]:
        """Every repository ``GET /v2/_catalog`` lists on ``registry`` (a host[:port]), following pagination."""
        host = Reference(registry=registry, repository="_").api_host
        what = "the repository catalog"
        url = self._url(host, "/v2/_catalog")
        names: list[str] = []
        for resp in self._pages(host, url, "registry:catalog:*", what, {"Accept": "application/json"}):
            if resp.status_code != 200:
                self._fail(resp, host, "GET", what)
            obj = _json_object(resp, host, what)
            page = obj.get("repositories") or []
            if not isinstance(page, list) or not all(isinstance(r, str) for r in page):
                raise RegistryError(
                    f"registry {host} answered {what} with a 'repositories' field that is not a list of strings"
                )
            names.extend(page)
        return names

    def get_referrers(self, ref: Reference, digest: Digest, artifact_type: str | None = None) -> bytes | None:
        """The OCI 1.1 referrers index of ``digest`` (pages merged); None when the API is not supported.

        When the registry did not apply the ``artifactType`` filter (no ``OCI-Filters-Applied``), it is
        applied here. Callers fall back to the ``sha256-<hex>`` tag on None.
        """
        host = ref.api_host
        what = f"referrers of {digest} in {ref.repository}"
        url = self._url(host, f"/v2/{ref.repository}/referrers/{digest}")
        if artifact_type:
            url = url.copy_merge_params({"artifactType": artifact_type})
        pages: list[tuple[dict[str, Any], bool]] = []
        raw_first: bytes | None = None
        max_entries = self.options.bounds().referrers
        entries = 0
        for resp in self._pages(host, url, pull_scope(ref.repository), what, {"Accept": mt.OCI_INDEX}):
            if resp.status_code in (404, 405) and not pages:
                return None
            if resp.status_code != 200:
                self._fail(resp, host, "GET", what)
            if raw_first is None:
                raw_first = resp.content
            filtered = "artifacttype" in resp.headers.get("oci-filters-applied", "").lower().replace(" ", "").split(",")
            page = _json_object(resp, host, what)
            listed = page.get("manifests")
            entries += len(listed) if isinstance(listed, list) else 0
            if entries > max_entries:
                raise LimitExceededError(
                    f"registry {host}: {what} list more than {max_entries} manifests",
                    "referrers",
                    limits=self.options.bounds(),
                )
            pages.append((page, filtered))
        if raw_first is not None and len(pages) == 1 and (pages[0][1] or not artifact_type):
            return raw_first
        merged: dict[str, Any] = dict(pages[0][0]) if pages else {}
        merged.setdefault("schemaVersion", 2)
        merged.setdefault("mediaType", mt.OCI_INDEX)
        manifests: list[Any] = []
        for obj, filtered in pages:
            items = obj.get("manifests") or []
            if not isinstance(items, list):
                raise RegistryError(f"registry {host} answered {what} with a 'manifests' field that is not a list")
            for item in items:
                if (
                    artifact_type
                    and not filtered
                    and not (isinstance(item, dict) and item.get("artifactType") == artifact_type)
                ):
                    continue
                manifests.append(item)
        merged["manifests"] = manifests
        return json.dumps(merged, separators=(",", ":")).encode("utf-8")


def _json_object(resp: httpx.Response, host: str, what: str) -> dict[str, Any]:
    try:
        obj = load_json(resp.content, f"{what} from registry {host}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RegistryError(f"registry {host} answered {what} with something that is not JSON") from None
    if not isinstance(obj, dict):
        raise RegistryError(f"registry {host} answered {what} with JSON that is not an object")
    return obj
