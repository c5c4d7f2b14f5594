"""Retry policy: which answers are worth another attempt, how long to wait, and rate-limit headers."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

#: Statuses that are retried with backoff (and ``Retry-After`` when given).
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

#: Response headers that describe a registry's rate limit (lowercase), recorded on the client.
_RATE_LIMIT_PREFIXES = ("ratelimit-", "x-ratelimit-")
_RATE_LIMIT_NAMES = frozenset({"docker-ratelimit-source"})


#: A delta-seconds beyond any real wait (float() of a longer run of digits is inf): said as this many seconds.
_LONGEST_WAIT = 1e16


def parse_retry_after(value: str | None, *, date: str | None = None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date.

    An HTTP-date is measured against the response's own ``Date`` header when there is one (so the
    client's and server's clocks need not agree), else against ``now`` (default: the wall clock).
    None when the value is missing or unparseable; never negative.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():  # "²".isdigit() too; and int() refuses thousands of digits
        return min(float(text), _LONGEST_WAIT)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    base: datetime | None = None
    if date:
        try:
            base = parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError):
            base = None
        if base is not None and base.tzinfo is None:
            base = base.replace(tzinfo=UTC)
    if base is None:
        base = now or datetime.now(UTC)
    return max(0.0, (when - base).total_seconds())


def backoff_delay(retry: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Jittered exponential backoff for retry ``retry`` (0-based): in ``[d/2, d]``, ``d = base*2**retry``."""
    full = min(cap, base * 2.0**retry)
    return full / 2 + rand() * full / 2


def rate_limit_headers(response: httpx.Response) -> dict[str, str]:
    """A response's rate-limit headers (``RateLimit-*``, Docker Hub's ``ratelimit-*``), names lowercased."""
    out: dict[str, str] = {}
    for name, value in response.headers.items():
        low = name.lower()
        if low.startswith(_RATE_LIMIT_PREFIXES) or low in _RATE_LIMIT_NAMES:
            out[low] = value
    return out
