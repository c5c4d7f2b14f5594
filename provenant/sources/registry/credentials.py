"""Where registry credentials come from, in order, and which source each one came from.

Order: explicit ``--username``/``--password-stdin``; the ``PROVENANT_REGISTRY_USERNAME``/``..._PASSWORD``
environment variables; Docker's ``config.json`` (``credHelpers[host]``, then ``credsStore``, then
``auths``). Nothing here ever puts a secret into a message or a ``repr()``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenant.errors import CredentialError
from provenant.sources.registry.options import RegistryOptions
from provenant.sources.registry.redact import remember

ENV_USERNAME = "PROVENANT_REGISTRY_USERNAME"
ENV_PASSWORD = "PROVENANT_REGISTRY_PASSWORD"  # noqa: S105 - the name of a variable, not a secret

#: How Docker Hub is keyed in config.json, and the names that mean Docker Hub.
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

#: A helper's username that means "Secret is an identity (refresh) token".
IDENTITY_TOKEN_USERNAME = "<token>"  # noqa: S105 - a protocol marker, not a secret
HELPER_TIMEOUT = 30.0


@dataclass(frozen=True)
class Credential:
    """Credentials for one registry; ``source`` says where they came from. ``repr()`` hides secrets."""

    source: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    #: An OAuth2 refresh token (``identitytoken`` / a helper's ``<token>`` user).
    identity_token: str | None = field(default=None, repr=False)

    @property
    def anonymous(self) -> bool:
        """True when there is nothing to authenticate with."""
        return self.identity_token is None and (self.username is None or self.password is None)

    @property
    def has_basic(self) -> bool:
        """True when a username and password are available for basic authentication."""
        return self.username is not None and self.password is not None

    def secrets(self) -> tuple[str, ...]:
        """The secret strings (for tests and redaction checks)."""
        return tuple(s for s in (self.password, self.identity_token) if s)

    def __repr__(self) -> str:
        return (
            f"Credential(source={self.source!r}, username={self.username!r}, "
            f"password={'***' if self.password else None}, "
            f"identity_token={'***' if self.identity_token else None})"
        )


ANONYMOUS = Credential(source="anonymous")


def normalize_host(host: str) -> str:
    """The bare lowercase ``host[:port]`` of a config.json key or registry name (no scheme, no path)."""
    text = host.strip()
    for prefix in ("https://", "http://"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
            break
    text = text.split("/", 1)[0].lower()
    return "docker.io" if text in DOCKER_HUB_HOSTS else text


def server_url(host: str) -> str:
    """What to hand a credential helper for ``host`` (Docker Hub's legacy key, else the host)."""
    norm = normalize_host(host)
    return DOCKER_HUB_KEY if norm == "docker.io" else norm


def _display(path: Path) -> str:
    home = str(Path.home())
    text = str(path)
    if home not in ("", "/") and (text == home or text.startswith(home + os.sep)):
        return "~" + text[len(home) :]
    return text


def basic_header(cred: Credential) -> str:
    """``Basic base64(user:password)``."""
    raw = f"{cred.username}:{cred.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


class CredentialResolver:
    """Resolves and caches one :class:`Credential` per registry host; thread-safe."""

    def __init__(self, options: RegistryOptions, env: Mapping[str, str] | None = None) -> None:
        self._options = options
        self._env = env if env is not None else os.environ
        self._lock = threading.Lock()
        self._cache: dict[str, Credential] = {}
        self._config: dict[str, Any] | None = None
        self._config_loaded = False

    def __repr__(self) -> str:
        return f"CredentialResolver(hosts={sorted(self._cache)!r})"

    def resolved(self, host: str) -> Credential | None:
        """The credential already resolved for ``host``, without resolving."""
        with self._lock:
            return self._cache.get(normalize_host(host))

    def resolve(self, host: str) -> Credential:
        """The credential for ``host`` (anonymous when no source has one); cached per host."""
        key = normalize_host(host)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                return cached
            cred = self._lookup(key)
            self._cache[key] = cred
        # Whatever a server echoes of these later is masked in messages.
        remember(cred.password, cred.identity_token, basic_header(cred)[len("Basic ") :] if cred.has_basic else None)
        return cred

    # -- sources, in order -------------------------------------------------------------------------

    def _lookup(self, host: str) -> Credential:
        opts = self._options
        if opts.username is not None or opts.password is not None:
            if opts.username is None or opts.password is None:
                raise CredentialError(
                    "--username and --password-stdin must be given together",
                    hint="pass both, or neither to use the environment or docker config.json",
                )
            return Credential("--username", opts.username, opts.password)
        env_user, env_pass = self._env.get(ENV_USERNAME), self._env.get(ENV_PASSWORD)
        if env_user or env_pass:
            if not env_user or not env_pass:
                missing = ENV_PASSWORD if env_user else ENV_USERNAME
                raise CredentialError(
                    f"{ENV_USERNAME} and {ENV_PASSWORD} must be set together; {missing} is empty or unset",
                    hint="set both, or unset both to use docker config.json",
                )
            return Credential(f"env {ENV_USERNAME}", env_user, env_pass)
        return self._from_docker_config(host)

    def _load_config(self) -> dict[str, Any] | None:
        if self._config_loaded:
            return self._config
        path = self._options.docker_config_path()
        shown = _display(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = None
        except OSError as exc:
            raise CredentialError(
                f"cannot read docker config {shown}: {exc.strerror or exc}",
                hint="fix its permissions, or point DOCKER_CONFIG elsewhere",
            ) from None
        config: dict[str, Any] | None = None
        if text is not None and text.strip():
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise CredentialError(
                    f"docker config {shown} is not valid JSON (line {exc.lineno}, column {exc.colno})",
                    hint="fix or remove the file, or run `docker login` again",
                ) from None
            if not isinstance(obj, dict):
                raise CredentialError(f"docker config {shown} is not a JSON object")
            config = obj
        self._config = config
        self._config_loaded = True
        return config

    def _from_docker_config(self, host: str) -> Credential:
        config = self._load_config()
        if config is None:
            return ANONYMOUS
        shown = _display(self._options.docker_config_path())
        helpers = config.get("credHelpers")
        if helpers is not None and not isinstance(helpers, dict):
            raise CredentialError(f"docker config {shown}: credHelpers is not an object")
        helper = None
        for key, name in (helpers or {}).items():
            if normalize_host(str(key)) == host and isinstance(name, str) and name:
                helper = name
                break
        if helper is None:
            store = config.get("credsStore")
            if store is not None and not isinstance(store, str):
                raise CredentialError(f"docker config {shown}: credsStore is not a string")
            helper = store or None
        if helper is not None:
            cred = run_credential_helper(helper, server_url(host))
            if cred is not None:
                return cred
        return self._from_auths(config, host, shown)

    @staticmethod
    def _from_auths(config: dict[str, Any], host: str, shown: str) -> Credential:
        auths = config.get("auths")
        if auths is None:
            return ANONYMOUS
        if not isinstance(auths, dict):
            raise CredentialError(f"docker config {shown}: auths is not an object")
        # An exact key wins over one that only matches after normalisation.
        candidates = sorted(
            (k for k in auths if normalize_host(str(k)) == host),
            key=lambda k: (str(k) != host, str(k)),
        )
        source = f"config.json auths ({shown})"
        for key in candidates:
            entry = auths[key]
            if not isinstance(entry, dict):
                raise CredentialError(f"docker config {shown}: auths entry for {key!r} is not an object")
            identity = entry.get("identitytoken")
            auth = entry.get("auth")
            username, password = entry.get("username"), entry.get("password")
            if isinstance(auth, str) and auth:
                try:
                    decoded = base64.b64decode(auth, validate=True).decode("utf-8")
                except ValueError:  # binascii.Error, a character outside ASCII, or bytes that are not UTF-8
                    raise CredentialError(
                        f"docker config {shown}: auths entry for {key!r} has an 'auth' value that is not "
                        "base64 of user:password",
                        hint="run `docker login` again",
                    ) from None
                user, sep, pw = decoded.partition(":")
                if not sep:
                    raise CredentialError(
                        f"docker config {shown}: auths entry for {key!r} has an 'auth' value without "
                        "a ':' between user and password",
                        hint="run `docker login` again",
                    )
                username, password = user, pw
            if isinstance(identity, str) and identity:
                return Credential(source, username if isinstance(username, str) else None, None, identity)
            if isinstance(username, str) and isinstance(password, str) and username:
                return Credential(source, username, password)
        return ANONYMOUS


def run_credential_helper(name: str, url: str) -> Credential | None:
    """Ask ``docker-credential-<name>`` for ``url``; None when it has no credentials for it."""
    program = f"docker-credential-{name}"
    source = f"credential helper {program}"
    path = shutil.which(program)
    if path is None:
        raise CredentialError(
            f"{source} is configured in docker config.json but not found on PATH",
            hint=f"install {program}, or remove it from credHelpers/credsStore",
        )
    try:
        proc = subprocess.run(
            [path, "get"],
            input=url.encode("utf-8"),
            capture_output=True,
            timeout=HELPER_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CredentialError(
            f"{source} did not answer within {HELPER_TIMEOUT:g} s",
            hint="is it waiting for a password prompt?",
        ) from None
    except OSError as exc:
        raise CredentialError(f"{source} could not be run: {exc.strerror or exc}") from None
    out = proc.stdout.decode("utf-8", "replace").strip()
    err = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        if "credentials not found" in out.lower() or "credentials not found" in err.lower():
            return None
        # Never the helper's output: a failing helper may still have printed its Secret.
        raise CredentialError(
            f"{source} failed for {url} (exit status {proc.returncode})",
            hint="check the helper works: `echo <server> | " + program + " get`",
        )
    try:
        obj = json.loads(out)
    except json.JSONDecodeError:
        raise CredentialError(f"{source} answered with something that is not JSON for {url}") from None
    if not isinstance(obj, dict):
        raise CredentialError(f"{source} answered with JSON that is not an object for {url}")
    username, secret = obj.get("Username"), obj.get("Secret")
    if not isinstance(secret, str) or not secret:
        return None
    if username == IDENTITY_TOKEN_USERNAME:
        return Credential(source, None, None, secret)
    if not isinstance(username, str):
        raise CredentialError(f"{source} answered without a Username for {url}")
    return Credential(source, username, secret)
