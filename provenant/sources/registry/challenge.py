"""Parsing ``WWW-Authenticate`` challenges (RFC 7235), including quoted values that contain commas,
and the pure parts of answering a Bearer challenge: the token request's scopes and the token answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from provenant.structured import load_json

_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True)
class Challenge:
    """One challenge: its scheme (lowercased) and parameters (names lowercased)."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        """The ``realm`` parameter, if any."""
        return self.params.get("realm")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def skip_ws_commas(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t,":
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def token(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _TOKEN_CHARS:
            self.pos += 1
        return self.text[start : self.pos]

    def quoted(self) -> str:
        # At the opening quote.
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if ch == '"':
                self.pos += 1
                break
            out.append(ch)
            self.pos += 1
        return "".join(out)

    def value(self) -> str:
        if self.peek() == '"':
            return self.quoted()
        # Be lenient with unquoted values: take everything up to the next comma.
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",":
            self.pos += 1
        return self.text[start : self.pos].strip()


def parse_www_authenticate(header: str) -> list[Challenge]:
    """All challenges in a ``WWW-Authenticate`` value, e.g. ``Bearer realm="..",scope=".."``.

    Unparseable trailing garbage is ignored rather than raising: a registry's header is best effort.
    """
    sc = _Scanner(header)
    challenges: list[Challenge] = []
    current: Challenge | None = None
    while True:
        sc.skip_ws_commas()
        if sc.pos >= len(sc.text):
            break
        start = sc.pos
        name = sc.token()
        if not name:
            sc.pos += 1  # skip a stray character
            continue
        sc.skip_ws()
        if sc.peek() == "=" and current is not None:
            # name=value parameter of the current challenge (or token68 padding, which we ignore).
            sc.pos += 1
            sc.skip_ws()
            if sc.peek() in ("=", ",", ""):
                while sc.peek() == "=":
                    sc.pos += 1
                continue
            current.params[name.lower()] = sc.value()
            continue
        if sc.peek() == "=" and current is None:
            sc.pos = start + len(name) + 1
            sc.value()
            continue
        # A new challenge scheme.
        current = Challenge(scheme=name.lower())
        challenges.append(current)
        # A token68 right after the scheme is skipped; one that ends in "=" padding (``Negotiate abc==``) reads
        # as a parameter without a value, which the loop skips the same way.
        save = sc.pos
        tok = sc.token()
        sc.skip_ws()
        if tok and sc.peek() == "=":
            sc.pos = save  # it was the first param's name
    return challenges


def pick_challenge(header: str | None) -> Challenge | None:
    """The challenge we can answer: Bearer preferred over Basic; None if neither is offered."""
    if not header:
        return None
    found = {c.scheme: c for c in reversed(parse_www_authenticate(header))}
    return found.get("bearer") or found.get("basic")


def pull_scope(repository: str) -> str:
    """``repository:<repo>:pull``."""
    return f"repository:{repository}:pull"


def push_scope(repository: str) -> str:
    """``repository:<repo>:pull,push``."""
    return f"repository:{repository}:pull,push"


def token_scopes(challenge: Challenge, scope: str) -> list[str]:
    """``scope`` first, then the scopes the challenge itself asked for (without repeats)."""
    scopes = [scope]
    for s in (challenge.params.get("scope") or "").split(" "):
        if s and s not in scopes:  # against the scopes so far: a challenge may repeat one of its own
            scopes.append(s)
    return scopes


def sendable_token(token: str) -> bool:
    """Whether ``token`` can go in an ``Authorization: Bearer`` header: printable ASCII, no spaces
    (RFC 6750's b64token is narrower; registries' tokens are JWTs)."""
    return token.isascii() and token.isprintable() and " " not in token


def read_token(body: bytes) -> tuple[str, float | None] | None:
    """The token (``token`` or ``access_token``) of a token service's answer and its ``expires_in``, if any."""
    try:
        obj = load_json(body, "token answer")
    except (UnicodeDecodeError, ValueError):  # not JSON, or nested too deep
        return None
    if not isinstance(obj, dict):
        return None
    raw = obj.get("token") or obj.get("access_token")
    if not isinstance(raw, str) or not raw:
        return None
    exp = obj.get("expires_in")
    if isinstance(exp, int | float) and not isinstance(exp, bool) and exp > 0:
        return raw, float(exp)
    return raw, None
