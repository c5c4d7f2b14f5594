"""Blobs: streaming, resumption with Range, wrong bytes, redirects and credential scoping."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from provenant.digest import Digest, VerifyingStream
from provenant.errors import DigestMismatchError, NotFoundError, RegistryError
from provenant.limits import LimitExceededError, Limits
from provenant.reference import Reference
from provenant.sources.registry import RegistryClient, RegistryOptions
from provenant.sources.registry.blobs import CHUNK_SIZE, parse_content_range
from tests.fakeregistry import Canned, FakeRegistry, make_client, ref

BLOB = os.urandom(3 * CHUNK_SIZE + 12345)


def _fake(**kw: object) -> tuple[FakeRegistry, Digest]:
    fake = FakeRegistry(**kw)  # type: ignore[arg-type]
    img = fake.put_image("team/app", tag="v1", layers=[BLOB])
    return fake, Digest.parse(img.layer_digests[0])


def _read_verified(fake: FakeRegistry, digest: Digest, size: int | None = len(BLOB), **opts: Any) -> bytes:
    client, _ = make_client(fake, **opts)
    with client.open_blob(ref(fake, "team/app:v1"), digest, size) as chunks:
        stream = VerifyingStream(chunks, digest, "layer", size)
        parts = list(stream)
    assert all(len(p) <= CHUNK_SIZE for p in parts)
    return b"".join(parts)


def test_blob_streams_in_chunks_and_verifies() -> None:
    fake, digest = _fake()
    assert _read_verified(fake, digest) == BLOB
    (req,) = fake.matching("GET", path="/blobs/")
    assert "range" not in req.headers
    assert req.headers["accept-encoding"] == "identity"


def test_connection_reset_mid_blob_resumes_with_range() -> None:
    fake, digest = _fake()
    fake.drop_blob(str(digest), after=CHUNK_SIZE + 500_000)
    assert _read_verified(fake, digest) == BLOB
    first, second = fake.matching("GET", path="/blobs/")
    assert "range" not in first.headers
    start = int(second.headers["range"].removeprefix("bytes=").removesuffix("-"))
    assert 0 < start <= CHUNK_SIZE + 500_000


def test_premature_end_resumes_too() -> None:
    fake, digest = _fake()
    fake.drop_blob(str(digest), after=200_000, how="truncate")
    assert _read_verified(fake, digest, size=None) == BLOB
    assert fake.count("GET", path="/blobs/") == 2


def test_server_answering_200_to_a_range_request_is_skipped_ahead() -> None:
    fake, digest = _fake()
    fake.honour_ranges = False
    fake.accept_ranges = False
    fake.drop_blob(str(digest), after=CHUNK_SIZE * 2 + 10)
    assert _read_verified(fake, digest) == BLOB
    assert fake.count("GET", path="/blobs/") == 2


def test_resumption_is_bounded() -> None:
    fake, digest = _fake()
    fake.drop_blob(str(digest), after=10, times=100)
    with pytest.raises(RegistryError) as info:
        _read_verified(fake, digest, max_retries=2)
    assert "broke off" in info.value.message
    assert fake.count("GET", path="/blobs/") == 3


def test_wrong_bytes_fail_verification() -> None:
    fake, digest = _fake()
    fake.corrupt_blob(str(digest), b"x" * len(BLOB))
    with pytest.raises(DigestMismatchError):
        _read_verified(fake, digest)
    client, _ = make_client(fake)
    with pytest.raises(DigestMismatchError):
        client.get_blob(ref(fake, "team/app:v1"), digest, len(BLOB))


def test_more_bytes_than_the_descriptor_says_is_an_error_at_once() -> None:
    fake, digest = _fake()
    fake.corrupt_blob(str(digest), BLOB + b"trailing junk" * 1000)
    client, _ = make_client(fake)
    got = 0
    with pytest.raises(RegistryError) as info, client.open_blob(ref(fake, "team/app:v1"), digest, len(BLOB)) as chunks:
        for c in chunks:
            got += len(c)
    assert got <= len(BLOB)
    assert f"blob {digest} of team/app is larger than its descriptor says ({len(BLOB)} bytes)" in info.value.message


def test_missing_blob_is_not_found_at_open() -> None:
    fake, _ = _fake()
    client, _ = make_client(fake)
    missing = Digest.of(b"nope")
    with pytest.raises(NotFoundError) as info, client.open_blob(ref(fake, "team/app:v1"), missing, None):
        pass
    assert "BLOB_UNKNOWN" in info.value.message
    assert f"blob {missing} of team/app" in info.value.message


def test_blob_redirect_to_another_host_drops_authorization() -> None:
    fake, digest = _fake()
    fake.require_bearer(users={"alice": "pw"}, anonymous_pull=False)
    fake.redirect_blobs("https://storage.example.test")
    data = _read_verified(fake, digest, username="alice", password="pw")
    assert data == BLOB
    registry_get = fake.matching("GET", path="/blobs/", host="127.0.0.1:5000")[-1]
    assert registry_get.headers["authorization"].startswith("Bearer ")
    (storage,) = fake.matching(host="storage.example.test")
    assert "authorization" not in storage.headers
    assert storage.url.params["signature"] == "abc"


def test_resume_through_a_redirect_asks_the_registry_again() -> None:
    fake, digest = _fake()
    fake.require_basic("bob", "pw")
    fake.redirect_blobs("https://storage.example.test")
    fake.drop_blob(str(digest), after=CHUNK_SIZE + 1)
    assert _read_verified(fake, digest, username="bob", password="pw") == BLOB
    storage = fake.matching(host="storage.example.test")
    assert len(storage) == 2
    # every byte that arrived before the drop is kept: the resume starts right after it
    assert storage[1].headers["range"] == f"bytes={CHUNK_SIZE + 1}-"
    assert all("authorization" not in r.headers for r in storage)


def test_https_to_http_redirect_is_refused() -> None:
    fake, digest = _fake(host="registry.example.test", scheme="https")
    fake.redirect_blobs("http://storage.example.test")
    client, _ = make_client(fake)
    with pytest.raises(RegistryError) as info, client.open_blob(ref(fake, "team/app:v1"), digest, None):
        pass
    assert "refusing to downgrade" in info.value.message
    assert fake.count(host="storage.example.test") == 0


def test_redirect_loop_is_bounded() -> None:
    fake, digest = _fake()
    path = f"/v2/team/app/blobs/{digest}"
    fake.inject(path, *[Canned(307, {"Location": path}) for _ in range(10)])
    client, _ = make_client(fake)
    with pytest.raises(LimitExceededError) as info:
        client.get_blob(ref(fake, "team/app:v1"), digest, None)
    assert "redirected again and again: over the redirects limit of 5" in info.value.diagnostics()
    assert client.request_count == 6
    fake.inject(path, *[Canned(307, {"Location": path}) for _ in range(10)])
    client, _ = make_client(fake, limits=Limits(redirects=2))
    with pytest.raises(LimitExceededError):
        client.get_blob(ref(fake, "team/app:v1"), digest, None)
    assert client.request_count == 3


def test_transport_error_on_a_fresh_blob_request_is_retried() -> None:
    fake, digest = _fake()
    fake.inject(f"/v2/team/app/blobs/{digest}", httpx.RemoteProtocolError("server disconnected"))
    assert _read_verified(fake, digest) == BLOB


def test_real_socket_connection_drop_is_resumed() -> None:
    """Through httpx's real transport: the server closes the socket mid-body, the client resumes."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from provenant.reference import Reference
    from provenant.sources.registry import RegistryClient, RegistryOptions

    data = os.urandom(2 * CHUNK_SIZE + 777)
    digest = Digest.of(data)
    ranges: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            rng = self.headers.get("Range")
            ranges.append(rng)
            if rng is None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                self.wfile.write(data[: CHUNK_SIZE + 100])
                self.wfile.flush()
                self.close_connection = True
                return
            start = int(rng.removeprefix("bytes=").removesuffix("-"))
            self.send_response(206)
            self.send_header("Content-Length", str(len(data) - start))
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            self.wfile.write(data[start:])

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sleeps: list[float] = []
        client = RegistryClient(
            RegistryOptions(sleep=sleeps.append, docker_config=Path("/nonexistent/config.json"), timeout=5),
            env={},
        )
        r = Reference.parse(f"127.0.0.1:{server.server_address[1]}/team/app:v1")
        assert client.get_blob(r, digest, len(data)) == data
        assert ranges[0] is None and ranges[1] is not None and ranges[1].startswith("bytes=")
        assert len(sleeps) == 1
        client.close()
    finally:
        server.shutdown()
        server.server_close()


def test_redirect_to_the_same_address_on_another_port_drops_authorization() -> None:
    fake, digest = _fake()
    fake.require_basic("bob", "pw")
    fake.redirect_blobs("http://127.0.0.1:5001")
    assert _read_verified(fake, digest, username="bob", password="pw") == BLOB
    (storage,) = fake.matching(host="127.0.0.1:5001")
    assert "authorization" not in storage.headers


# -- the resume rules: never past the size, restart once on a range that does not fit -----------------

SMALL = os.urandom(10_000)
SMALL_DIGEST = Digest.of(SMALL)


class _Broken(httpx.SyncByteStream):
    """``data``, then the connection breaks (as a Content-Length the body does not reach ends)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        if self.data:
            yield self.data
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


Answer = Callable[[httpx.Request], httpx.Response]


def _scripted(*answers: Answer) -> tuple[RegistryClient, list[str | None]]:
    """A client whose blob GETs get ``answers`` in turn; returns it and the Range header of each GET."""
    ranges: list[str | None] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        ranges.append(request.headers.get("range"))
        return queue.pop(0)(request)

    opts = RegistryOptions(
        transport=httpx.MockTransport(handler), sleep=lambda _: None, docker_config=Path("/nonexistent/c.json")
    )
    return RegistryClient(opts, env={}), ranges


def _get(client: RegistryClient) -> bytes:
    return client.get_blob(Reference.parse("127.0.0.1:5000/team/app:v1"), SMALL_DIGEST, len(SMALL))


def _full(headers: dict[str, str] | None = None) -> Answer:
    return lambda r: httpx.Response(200, headers=headers or {}, stream=httpx.ByteStream(SMALL))


def _cut(n: int, declared: int = len(SMALL)) -> Answer:
    return lambda r: httpx.Response(200, headers={"Content-Length": str(declared)}, stream=_Broken(SMALL[:n]))


def _partial(start: int, claimed: int | None = None, total: int = len(SMALL)) -> Answer:
    """A 206 with the bytes from ``start``, claiming (in Content-Range) to start at ``claimed``."""
    first = start if claimed is None else claimed
    rng = f"bytes {first}-{first + len(SMALL) - start - 1}/{total}"
    return lambda r: httpx.Response(206, headers={"Content-Range": rng}, stream=httpx.ByteStream(SMALL[start:]))


def test_all_bytes_in_then_a_lying_content_length_finishes_without_asking_for_more() -> None:
    client, ranges = _scripted(_cut(len(SMALL), declared=len(SMALL) + 100))
    assert _get(client) == SMALL
    assert ranges == [None]  # not `bytes=10000-`: nothing past the descriptor's size is ever asked for


def test_416_restarts_once_from_zero() -> None:
    lying_416 = lambda r: httpx.Response(416, headers={"Content-Length": "99999"}, stream=_Broken(b"no"))  # noqa: E731
    client, ranges = _scripted(_cut(4000), lying_416, _full())
    assert _get(client) == SMALL
    assert ranges == [None, "bytes=4000-", None]


def test_416_twice_fails_naming_the_blob() -> None:
    lying_416 = lambda r: httpx.Response(416)  # noqa: E731
    client, ranges = _scripted(_cut(4000), lying_416, _cut(6000), lying_416)
    with pytest.raises(RegistryError) as info:
        _get(client)
    assert f"blob {SMALL_DIGEST} of team/app cannot be resumed" in info.value.message
    assert "416" in info.value.message
    assert ranges == [None, "bytes=4000-", None, "bytes=6000-"]


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (_partial(4000, claimed=3990), "starting at byte 3990 when byte 4000 was asked for"),
        (_partial(4010, claimed=4010), "starting at byte 4010 when byte 4000 was asked for"),
        (_partial(4000, total=len(SMALL) + 1), f"a blob of {len(SMALL) + 1} bytes, not {len(SMALL)}"),
    ],
)
def test_a_partial_answer_that_does_not_fit_restarts_once_then_fails(answer: Answer, why: str) -> None:
    client, ranges = _scripted(_cut(4000), answer, _full())
    assert _get(client) == SMALL  # the restart from zero got the blob
    assert ranges == [None, "bytes=4000-", None]
    client, ranges = _scripted(_cut(4000), answer, _cut(4000), answer)
    with pytest.raises(RegistryError) as info:
        _get(client)
    assert why in info.value.message and str(SMALL_DIGEST) in info.value.message


def test_a_206_starting_before_the_offset_is_never_used_even_with_the_right_bytes() -> None:
    # The bytes it carries from 3990 are the blob's real ones: skipping 10 would "work", but the answer
    # does not say what it is; it is refused and the reader starts over.
    client, ranges = _scripted(_cut(4000), _partial(3990), _full())
    assert _get(client) == SMALL
    assert ranges == [None, "bytes=4000-", None]


def test_a_fitting_206_resumes() -> None:
    client, ranges = _scripted(_cut(4000), _partial(4000))
    assert _get(client) == SMALL
    assert ranges == [None, "bytes=4000-"]


def test_a_compressed_blob_answer_is_never_inflated_past_the_size() -> None:
    bomb = gzip.compress(SMALL + b"\0" * (64 << 20))
    client, _ = _scripted(
        lambda r: httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(bomb))
    )
    with pytest.raises(RegistryError, match="larger than its descriptor says"):
        _get(client)


def test_a_restart_answered_with_a_whole_206_skips_what_was_handed_out() -> None:
    # After a 416 the reader starts over with a plain GET; a server may still answer 206 for bytes 0-…:
    # the 4000 bytes already handed out must not be handed out again.
    client, ranges = _scripted(_cut(4000), lambda r: httpx.Response(416), _partial(0))
    assert _get(client) == SMALL
    assert ranges == [None, "bytes=4000-", None]


def test_content_range_values() -> None:
    assert parse_content_range("bytes 0-9/10") == (0, 9, 10)
    assert parse_content_range(" Bytes 5-9/* ") == (5, 9, None)
    for bad in (None, "", "bytes */10", "items 0-1/2", "bytes 1-2", "bytes 1-2/3 trailing"):
        assert parse_content_range(bad) is None


def _blob_path(digest: Digest) -> str:
    return f"/v2/team/app/blobs/{digest}"


def test_a_partial_answer_that_starts_after_the_offset_restarts_from_zero() -> None:
    fake, digest = _fake()
    n = len(BLOB)
    fake.inject(
        _blob_path(digest),
        Canned(200, {"Content-Length": str(n)}, BLOB[:1000]),
        Canned(206, {"Content-Range": f"bytes 2000-{n - 1}/{n}"}, BLOB[2000:]),
    )
    assert _read_verified(fake, digest) == BLOB
    assert [r.headers.get("range") for r in fake.matching("GET", path="/blobs/")] == [None, "bytes=1000-", None]


def test_a_partial_answer_that_starts_before_the_offset_restarts_from_zero() -> None:
    fake, digest = _fake()
    n = len(BLOB)
    fake.inject(
        _blob_path(digest),
        Canned(200, {"Content-Length": str(n)}, BLOB[:1000]),
        Canned(206, {"Content-Range": f"bytes 400-{n - 1}/{n}"}, BLOB[400:]),
    )
    assert _read_verified(fake, digest, size=None) == BLOB
    assert [r.headers.get("range") for r in fake.matching("GET", path="/blobs/")] == [None, "bytes=1000-", None]


def test_the_total_comes_from_content_range_when_the_size_is_unknown() -> None:
    fake, digest = _fake()
    n = len(BLOB)
    fake.inject(
        _blob_path(digest),
        Canned(200, {}, BLOB[:1000]),  # no length: the end of this answer is the end of the blob
    )
    client, _ = make_client(fake)
    with client.open_blob(ref(fake, "team/app:v1"), digest, None) as chunks:
        assert b"".join(chunks) == BLOB[:1000]
    fake.inject(
        _blob_path(digest),
        Canned(200, {"Content-Length": str(n)}, BLOB[:1000]),
        Canned(206, {"Content-Range": f"bytes 1000-1999/{n}"}, BLOB[1000:2000]),
    )
    with client.open_blob(ref(fake, "team/app:v1"), digest, None) as chunks:
        assert b"".join(chunks) == BLOB  # the rest after a third request


def test_resumption_limit_message() -> None:
    fake, digest = _fake()
    fake.drop_blob(str(digest), after=10, times=100, how="truncate")
    with pytest.raises(RegistryError) as info:
        _read_verified(fake, digest, max_retries=1)
    err = info.value
    assert err.message.endswith(
        f" broke off after 20 of {len(BLOB)} bytes 2 times (the answer ended early at byte 20 of {len(BLOB)})"
    )
    assert err.hint == "the connection to the registry is unstable; try again later"
    fake.drop_blob(str(digest), after=10, times=100, how="reset")
    with pytest.raises(RegistryError) as info:
        _read_verified(fake, digest, max_retries=1)
    assert (
        info.value.message.endswith(" bytes 2 times (ReadError: connection reset)") or "ReadError" in info.value.message
    )


def _chunks_of(fake: FakeRegistry, digest: Digest, size: int | None) -> tuple[list[bytes], list[float]]:
    client, sleeps = make_client(fake)
    with client.open_blob(ref(fake, "team/app:v1"), digest, size) as chunks:
        return list(chunks), sleeps


def test_no_empty_chunk_at_a_skip_or_size_boundary() -> None:
    fake, digest = _fake()
    fake.honour_ranges = False
    fake.accept_ranges = False
    fake.drop_blob(str(digest), after=CHUNK_SIZE * 2)  # the repeat's first two chunks are exactly what we had
    parts, sleeps = _chunks_of(fake, digest, len(BLOB))
    assert b"".join(parts) == BLOB and all(parts)
    assert len(sleeps) == 1 and all(isinstance(s, float) and s >= 0 for s in sleeps)
    with pytest.raises(RegistryError, match="larger than its descriptor says"):
        _chunks_of(_with_trailing_junk(), digest, len(BLOB))


def _with_trailing_junk() -> FakeRegistry:
    fake, digest = _fake()
    fake.corrupt_blob(str(digest), BLOB + b"junk" * CHUNK_SIZE)
    return fake


# -- what the resume rules say when they give up, and the edges of the rules ---------------------------


class _BrokenWith(httpx.SyncByteStream):
    """``data``, then the connection breaks with ``message`` (which may be empty)."""

    def __init__(self, data: bytes, message: str) -> None:
        self.data, self.message = data, message

    def __iter__(self) -> Iterator[bytes]:
        yield self.data
        raise httpx.RemoteProtocolError(self.message)


def _recorded(*answers: Answer, max_retries: int = 3) -> tuple[RegistryClient, list[str | None], list[float]]:
    """Like :func:`_scripted`, with a retry budget, also returning the sleeps between attempts."""
    ranges: list[str | None] = []
    sleeps: list[float] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        ranges.append(request.headers.get("range"))
        return queue.pop(0)(request)

    opts = RegistryOptions(
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
        max_retries=max_retries,
        docker_config=Path("/nonexistent/c.json"),
    )
    return RegistryClient(opts, env={}), ranges, sleeps


def _ranged(content_range: str, data: bytes) -> Answer:
    return lambda r: httpx.Response(206, headers={"Content-Range": content_range}, stream=httpx.ByteStream(data))


def _open_unsized(client: RegistryClient) -> bytes:
    with client.open_blob(Reference.parse("127.0.0.1:5000/team/app:v1"), SMALL_DIGEST, None) as chunks:
        return b"".join(chunks)


def test_giving_up_after_a_restart_names_the_registry_the_blob_and_what_to_do() -> None:
    client, _ = _scripted(_cut(4000), lambda r: httpx.Response(416), _cut(6000), lambda r: httpx.Response(416))
    with pytest.raises(RegistryError) as info:
        _get(client)
    assert info.value.message == (
        f"registry 127.0.0.1:5000: download of blob {SMALL_DIGEST} of team/app cannot be resumed: "
        "the registry answered 416 (range not satisfiable) for bytes 6000-, again after starting over"
    )
    assert info.value.hint == "the registry's range support is broken; try again later"


def test_an_unusable_content_range_is_quoted_when_giving_up() -> None:
    garbled = lambda r: httpx.Response(206, headers={"Content-Range": "bytes 4000-?"}, stream=httpx.ByteStream(b"x"))  # noqa: E731
    client, ranges = _scripted(_cut(4000), garbled, _cut(4000), garbled)
    with pytest.raises(RegistryError) as info:
        _get(client)
    assert "a partial answer with an unusable Content-Range 'bytes 4000-?', again" in info.value.message
    assert ranges == [None, "bytes=4000-", None, "bytes=4000-"]


def test_more_bytes_than_the_size_names_the_registry_and_the_cause() -> None:
    client, _ = _scripted(lambda r: httpx.Response(200, stream=httpx.ByteStream(SMALL + b"!")))
    with pytest.raises(RegistryError) as info:
        _get(client)
    assert info.value.message.startswith(f"registry 127.0.0.1:5000: blob {SMALL_DIGEST} of team/app is larger")
    assert info.value.hint == "the registry serves other content than the manifest describes"


def test_a_one_byte_partial_answer_fits() -> None:
    one = _ranged("bytes 4000-4000/10000", SMALL[4000:4001])
    client, ranges = _scripted(_cut(4000), one, _partial(4001))
    assert _get(client) == SMALL
    assert ranges == [None, "bytes=4000-", "bytes=4001-"]


def test_a_partial_answer_with_an_unknown_total_keeps_the_known_one() -> None:
    # The first answer said 10000 bytes; a 206 saying `/*` does not make the blob end where that answer ends.
    starless = _ranged("bytes 4000-5999/*", SMALL[4000:6000])
    client, ranges, _ = _recorded(_cut(4000), starless, _partial(6000))
    assert _open_unsized(client) == SMALL
    assert ranges == [None, "bytes=4000-", "bytes=6000-"]


def test_an_answer_without_a_length_is_the_whole_blob_when_the_size_is_unknown() -> None:
    client, ranges, _ = _recorded(lambda r: httpx.Response(200, stream=httpx.ByteStream(SMALL)))
    assert _open_unsized(client) == SMALL
    assert ranges == [None]


def test_the_descriptor_size_wins_over_a_first_answer_content_length() -> None:
    # A first answer claiming 10100 bytes, then a fitting 206 for the descriptor's 10000: used, no restart.
    client, ranges = _scripted(_cut(4000, declared=len(SMALL) + 100), _partial(4000))
    assert _get(client) == SMALL
    assert ranges == [None, "bytes=4000-"]


def test_an_error_status_on_a_resume_is_an_error_not_a_restart() -> None:
    client, ranges = _scripted(_cut(4000), lambda r: httpx.Response(404), _full())
    with pytest.raises(NotFoundError):
        _get(client)
    assert ranges == [None, "bytes=4000-"]


def test_416_on_the_first_request_is_an_error_but_at_byte_1_a_restart() -> None:
    client, ranges = _scripted(lambda r: httpx.Response(416), _full())
    with pytest.raises(RegistryError):
        _get(client)
    assert ranges == [None]
    client, ranges = _scripted(_cut(1), lambda r: httpx.Response(416), _full())
    assert _get(client) == SMALL
    assert ranges == [None, "bytes=1-", None]


def test_an_empty_blob_is_asked_for_once() -> None:
    client, ranges, _ = _recorded(lambda r: httpx.Response(200, stream=httpx.ByteStream(b"")))
    assert client.get_blob(Reference.parse("127.0.0.1:5000/team/app:v1"), Digest.of(b""), 0) == b""
    assert ranges == [None]


def test_all_bytes_in_then_a_break_neither_waits_nor_counts_as_a_resume() -> None:
    client, ranges, sleeps = _recorded(_cut(len(SMALL), declared=len(SMALL) + 100), max_retries=0)
    assert _get(client) == SMALL
    assert ranges == [None] and sleeps == []


@pytest.mark.parametrize(
    ("message", "cause"),
    [("peer went away", "RemoteProtocolError: peer went away"), ("", "RemoteProtocolError")],
)
def test_the_resumption_limit_names_the_transport_error(message: str, cause: str) -> None:
    broken = lambda r: httpx.Response(200, stream=_BrokenWith(SMALL[:4000], message))  # noqa: E731
    client, _, _ = _recorded(broken, max_retries=0)
    with pytest.raises(RegistryError) as info:
        _open_unsized(client)
    # No length and no size: the total is unknown, so the message has no "of N".
    assert info.value.message.endswith(f" broke off after 4000 bytes 1 times ({cause})")
