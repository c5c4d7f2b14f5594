"""Retries: 429/5xx with Retry-After and backoff, connection errors, exhaustion, rate-limit headers."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from provenant import limits as limits_mod
from provenant.errors import RegistryError
from provenant.limits import LimitExceededError, Limits
from provenant.sources.registry import RegistryClient, RegistryOptions
from provenant.sources.registry.retry import backoff_delay, parse_retry_after
from tests.fakeregistry import Canned, FakeRegistry, make_client, ref

PATH = "/v2/team/app/manifests/v1"


def _fake() -> FakeRegistry:
    fake = FakeRegistry()
    fake.put_image("team/app", tag="v1")
    return fake


def test_429_retry_after_seconds() -> None:
    fake = _fake()
    fake.inject(PATH, Canned(429, {"Retry-After": "3"}))
    client, sleeps = make_client(fake)
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert sleeps == [3.0]
    assert client.request_count == 2


def test_429_retry_after_http_date_is_measured_against_the_date_header() -> None:
    fake = _fake()
    fake.inject(
        PATH,
        Canned(429, {"Date": "Wed, 21 Oct 2015 07:28:00 GMT", "Retry-After": "Wed, 21 Oct 2015 07:28:07 GMT"}),
    )
    client, sleeps = make_client(fake)
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert sleeps == [7.0]


def test_retry_after_over_the_cap_fails_at_once_naming_the_wait_and_the_limit() -> None:
    fake = _fake()
    fake.inject(PATH, Canned(503, {"Retry-After": "999999999"}))
    client, sleeps = make_client(fake, retry_after_cap=12)
    with pytest.raises(LimitExceededError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert sleeps == []  # not 12 s of waiting before a retry the server asked to postpone for years
    text = info.value.diagnostics()
    assert "999999999 s" in text and "retry-after-cap limit of 12 s" in text and "\n" not in text
    assert client.request_count == 1


def test_retry_after_within_the_cap_is_honoured() -> None:
    fake = _fake()
    fake.inject(PATH, Canned(503, {"Retry-After": "12"}))
    client, sleeps = make_client(fake, retry_after_cap=12)
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert sleeps == [12.0]


def test_retry_after_cap_comes_from_the_limits() -> None:
    fake = _fake()
    fake.inject(PATH, Canned(503, {"Retry-After": "61"}))
    client, sleeps = make_client(fake)
    with pytest.raises(LimitExceededError, match="retry-after-cap limit of 60 s"):
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    fake.inject(PATH, Canned(503, {"Retry-After": "61"}))
    client, sleeps = make_client(fake, limits=Limits(retry_after_cap=61))
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert sleeps == [61.0]


def test_retry_after_past_the_deadline_fails_at_once() -> None:
    fake = _fake()
    fake.inject(PATH, Canned(503, {"Retry-After": "50"}))
    client, sleeps = make_client(fake)
    limits_mod.activate(Limits(timeout=20))
    try:
        with pytest.raises(LimitExceededError) as info:
            client.get_manifest(ref(fake, "team/app:v1"), "v1")
    finally:
        limits_mod.reset()
    assert sleeps == []
    assert "retrying in 50 s would pass the deadline" in info.value.message
    assert "--timeout" in info.value.diagnostics()


def test_backoff_sleeps_stay_inside_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake()
    fake.inject(PATH, *[Canned(503) for _ in range(5)])
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # time passes: the deadline comes closer
        sleeps.append(seconds)
        monkeypatch.setattr(limits_mod, "_deadline", limits_mod._deadline - seconds)  # type: ignore[operator]

    client = RegistryClient(RegistryOptions(transport=fake.transport(), sleep=sleep, backoff_base=4.0), env={})
    limits_mod.activate(Limits(timeout=10))
    try:
        with pytest.raises(LimitExceededError, match="deadline"):
            client.get_manifest(ref(fake, "team/app:v1"), "v1")
    finally:
        limits_mod.reset()
    assert sum(sleeps) < 10


def test_retries_and_timeouts_come_from_the_limits() -> None:
    fake = _fake()
    fake.inject(PATH, *[Canned(503) for _ in range(3)])
    client, _ = make_client(fake, limits=Limits(retries=1))
    with pytest.raises(RegistryError, match="after 2 attempts"):
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    opts = RegistryOptions(limits=Limits(connect_timeout=3, read_timeout=7, retries=2, retry_after_cap=9))
    assert (opts.timeouts(), opts.retries(), opts.retry_cap()) == ((3, 7), 2, 9)
    mine = RegistryOptions(timeout=4, max_retries=0, retry_after_cap=1, limits=Limits())
    assert (mine.timeouts(), mine.retries(), mine.retry_cap()) == ((4, 4), 0, 1)
    limits_mod.activate(Limits(retries=7), start_deadline=False)
    try:
        assert RegistryOptions().retries() == 7
    finally:
        limits_mod.reset()


def test_503_then_success_uses_jittered_backoff() -> None:
    fake = _fake()
    fake.inject(PATH, Canned(503), Canned(502))
    client, sleeps = make_client(fake, backoff_base=0.5)
    raw = client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert raw.data
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5
    assert 0.5 <= sleeps[1] <= 1.0
    assert client.request_count == 3


def test_retries_exhausted_is_one_line_with_the_status() -> None:
    fake = _fake()
    fake.inject(PATH, *[Canned(429) for _ in range(10)])
    client, sleeps = make_client(fake, max_retries=5)
    with pytest.raises(RegistryError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    err = info.value
    assert err.message == (
        "registry 127.0.0.1:5000 answered 429 Too Many Requests for GET /v2/team/app/manifests/v1 after 6 attempts"
    )
    assert err.diagnostics().endswith("(try again later, or lower concurrency)")
    assert "\n" not in err.diagnostics()
    assert err.status == 429
    assert len(sleeps) == 5
    assert client.request_count == 6
    for i, s in enumerate(sleeps):
        assert 0.5 * 2**i / 2 <= s <= 0.5 * 2**i


def test_exhausted_5xx_surfaces_the_error_code() -> None:
    fake = _fake()
    body = b'{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}'
    fake.inject(PATH, *[Canned(503, {"Content-Type": "application/json"}, body) for _ in range(3)])
    client, _ = make_client(fake, max_retries=2)
    with pytest.raises(RegistryError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert "503 Service Unavailable" in info.value.message
    assert "after 3 attempts: UNAVAILABLE: service unavailable" in info.value.message
    assert info.value.code == "UNAVAILABLE"


def test_connection_errors_are_retried() -> None:
    fake = _fake()
    fake.inject(PATH, httpx.ConnectError("connection reset"), httpx.ReadTimeout("slow"))
    client, sleeps = make_client(fake)
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert len(sleeps) == 2
    assert client.request_count == 3


def test_connection_refused_after_retries_has_a_hint() -> None:
    fake = _fake()
    client, sleeps = make_client(fake, max_retries=2)
    other = ref(fake, "team/app:v1")
    other = type(other)(registry="127.0.0.1:5999", repository="team/app", tag="v1")
    with pytest.raises(RegistryError) as info:
        client.get_manifest(other, "v1")
    text = info.value.diagnostics()
    assert text.startswith("cannot reach registry 127.0.0.1:5999 (GET http://127.0.0.1:5999/v2/team/app/manifests/v1)")
    assert "after 3 attempts" in text
    assert "is the registry running" in text and "--insecure" in text
    assert "\n" not in text
    assert len(sleeps) == 2


def test_408_and_500_and_504_are_retried_but_400_is_not() -> None:
    fake = _fake()
    fake.inject(PATH, Canned(408), Canned(500), Canned(504), Canned(400))
    client, sleeps = make_client(fake)
    with pytest.raises(RegistryError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.status == 400
    assert len(sleeps) == 3


def test_rate_limit_headers_are_recorded_and_reported_as_facts() -> None:
    fake = _fake()
    fake.extra_headers = {
        "RateLimit-Limit": "100;w=21600",
        "RateLimit-Remaining": "42;w=21600",
        "docker-ratelimit-source": "203.0.113.7",
    }
    client, _ = make_client(fake)
    raw = client.get_manifest(ref(fake, "team/app:v1"), "v1")
    expected = {
        "ratelimit-limit": "100;w=21600",
        "ratelimit-remaining": "42;w=21600",
        "docker-ratelimit-source": "203.0.113.7",
    }
    assert raw.facts == expected
    assert client.rate_limit == expected
    fake.extra_headers = {"ratelimit-remaining": "41;w=21600"}
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert client.rate_limit["ratelimit-remaining"] == "41;w=21600"
    assert client.rate_limit["ratelimit-limit"] == "100;w=21600"


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now=now) == 0.0
    # digits past any real wait (int() refuses over 4,300 of them, float() makes them inf) and digits that
    # are not ASCII ("²".isdigit() is true)
    assert parse_retry_after("9" * 15) == 999_999_999_999_999.0
    assert parse_retry_after("9" * 5000) == parse_retry_after("1" + "0" * 400) == 1e16
    assert parse_retry_after("\u00b2") is None and parse_retry_after("\u0663") is None


def test_backoff_delay_bounds() -> None:
    assert backoff_delay(0, 0.5, 60, rand=lambda: 0.0) == 0.25
    assert backoff_delay(0, 0.5, 60, rand=lambda: 1.0) == 0.5
    assert backoff_delay(3, 0.5, 60, rand=lambda: 1.0) == 4.0
    assert backoff_delay(20, 0.5, 60, rand=lambda: 1.0) == 60.0


@pytest.mark.parametrize(
    ("exc", "hint"),
    [
        (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "--ca-file"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "check the host name"),
        (httpx.ConnectTimeout("timed out"), "did not accept a connection in time"),
    ],
)
def test_connection_failure_hints(exc: Exception, hint: str) -> None:
    fake = _fake()
    fake.inject(PATH, exc, exc)
    client, _ = make_client(fake, max_retries=1)
    with pytest.raises(RegistryError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert hint in (info.value.hint or "")
    assert "\n" not in info.value.diagnostics()


def test_a_read_timeout_is_retried_once_only() -> None:
    fake = _fake()
    fake.inject(PATH, httpx.ReadTimeout("timed out"), httpx.ReadTimeout("timed out"))
    client, sleeps = make_client(fake, limits=Limits(read_timeout=7))
    with pytest.raises(LimitExceededError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert "timed out, twice: over the read-timeout limit of 7 s" in info.value.message
    assert client.request_count == 2 and len(sleeps) == 1
