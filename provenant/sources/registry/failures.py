"""Turning registry answers and network failures into one-line provenant errors with a hint."""

from __future__ import annotations

import ssl

import httpx

from provenant.errors import AuthenticationError, NotFoundError, RegistryError
from provenant.sources.registry.credentials import ENV_PASSWORD, ENV_USERNAME
from provenant.sources.registry.redact import server_text
from provenant.structured import load_json

_MAX_MESSAGE = 200


def auth_hint(host: str) -> str:
    """What to do when a registry wants credentials we do not have (or rejected ours)."""
    return f"run `docker login {host}`, pass --username with --password-stdin, or set {ENV_USERNAME} and {ENV_PASSWORD}"


def target(repository: str, identifier: str | None) -> str:
    """``repo:tag`` or ``repo@sha256:...`` (just ``repo`` without an identifier)."""
    if not identifier:
        return repository
    sep = "@" if ":" in identifier else ":"
    return f"{repository}{sep}{identifier}"


def _short(text: str) -> str:
    """Server or library text for a message: secrets masked, control characters escaped, one short line."""
    return server_text(text, limit=_MAX_MESSAGE)


def parse_error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    """The first ``{"errors":[{"code","message"}]}`` entry of an error answer, as (code, message)."""
    try:
        body = response.content
    except httpx.ResponseNotRead:
        return None, None
    if not body:
        return None, None
    try:
        obj = load_json(body, "error answer")
    except (UnicodeDecodeError, ValueError):  # not JSON, or nested too deep: no code to show
        return None, None
    errors = obj.get("errors") if isinstance(obj, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None, None
    first = errors[0]
    code = first.get("code")
    message = first.get("message")
    code_s = _short(str(code)) if isinstance(code, str) and code else None
    msg_s = _short(str(message)) if isinstance(message, str) and message else None
    if len(errors) > 1 and msg_s:
        msg_s += f" (+{len(errors) - 1} more)"
    return code_s, msg_s


def status_text(response: httpx.Response) -> str:
    """``429 Too Many Requests`` (the server's reason phrase, made safe to show)."""
    reason = response.reason_phrase or httpx.codes.get_reason_phrase(response.status_code)
    return f"{response.status_code} {_short(reason)}".strip()


def error_for_response(response: httpx.Response, host: str, method: str, path: str, what: str) -> RegistryError:
    """The error for a final (non-retryable or retries-exhausted) non-success answer about ``what``."""
    status = response.status_code
    code, message = parse_error_body(response)
    if code or message:
        text = f"registry {host}: {code or status_text(response)}: {message or 'no message'} ({what})"
    else:
        text = f"registry {host} answered {status_text(response)} for {method} {path} ({what})"
    if status == 401:
        return AuthenticationError(text, hint=auth_hint(host), status=status, code=code)
    if status == 403:
        return AuthenticationError(
            text,
            hint=f"the registry denied access to {what}; check the name and that your account may pull it, "
            f"or {auth_hint(host)}",
            status=status,
            code=code,
        )
    if status == 404:
        return NotFoundError(text, hint="check the repository name and the tag or digest", status=status, code=code)
    return RegistryError(text, status=status, code=code)


def error_for_exhausted(response: httpx.Response, who: str, method: str, path: str, attempts: int) -> RegistryError:
    """The error after retryable answers (429, 5xx) kept coming back ``attempts`` times."""
    code, message = parse_error_body(response)
    detail = f": {code}: {message}" if code and message else ""
    hint = (
        "try again later, or lower concurrency"
        if response.status_code == 429
        else "the registry is having trouble; try again later"
    )
    return RegistryError(
        f"{who} answered {status_text(response)} for {method} {path} after {attempts} attempts{detail}",
        hint=hint,
        status=response.status_code,
        code=code,
    )


def _is_tls(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLError):
            return True
        text = str(cur)
        if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text or "TLS" in text:
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def error_for_transport(
    exc: httpx.TransportError, who: str, *, host: str, method: str, url: httpx.URL, attempts: int
) -> RegistryError:
    """The error after a connection-level failure (refused, DNS, TLS, timeout, reset) talking to ``who``."""
    where = f"{method} {url.scheme}://{url.netloc.decode('ascii', 'replace')}{url.path}"
    detail = _short(str(exc)) or type(exc).__name__
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    low = detail.lower()
    if _is_tls(exc):
        hint = (
            "TLS verification failed: if the registry uses a private CA pass --ca-file PATH; "
            "to skip verification (not recommended) use --insecure"
        )
    elif isinstance(exc, httpx.ConnectTimeout):
        hint = "the registry did not accept a connection in time; try again, or raise --limit connect-timeout=SECONDS"
    elif isinstance(exc, httpx.TimeoutException):
        hint = "the registry did not answer in time; try again, or raise --limit read-timeout=SECONDS"
    elif "name or service not known" in low or "nodename nor servname" in low or "name resolution" in low:
        hint = f"cannot resolve {url.host}: check the host name and your network"
    elif isinstance(exc, httpx.ConnectError):
        hint = (
            f"is the registry running and reachable at {host}? For a plain-HTTP registry on a non-loopback "
            "host use --insecure; for a private CA use --ca-file"
        )
    else:
        hint = "the connection failed; try again"
    return RegistryError(f"cannot reach {who} ({where}){tries}: {detail}", hint=hint)
