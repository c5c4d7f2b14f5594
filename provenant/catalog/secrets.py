"""Secret-candidate files, looked at during the one layer scan the SBOM already does.

The parse keeps NO packages and never the secret itself: ``facts["findings"]`` is a list of
``{"rule", "detail"}`` with the value redacted, so neither the layer cache nor any output can hold
it. Files that are not secrets (public certificates, ``.env.example``, ``${VAR}`` references) give
no findings. The hygiene library (:mod:`provenant.hygiene`) joins these per-layer findings with
visibility (deleted / overwritten copies are still shipped).

Globbed (service-account JSON keys have no fixed name; the globs below catch the conventional
ones, other names are found only by a token shape such as a PEM private key inside them):
dotenv files, ``.npmrc``, ``.pypirc``, ``.git-credentials``, ``.docker/config.json``,
``.aws/credentials``, SSH private keys (``id_rsa`` ...), ``*.pem``, ``*.key``,
``*service-account*.json``, ``*service_account*.json``, ``*credentials*.json``. PKCS#12 (``.p12``,
``.pfx``) and DER keys are binary and not looked at.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Any, ClassVar

from provenant.catalog.base import Cataloger, ParsedFile
from provenant.catalog.secretrules import (
    ASSIGNMENT,
    Match,
    is_literal_secret,
    is_secret_name,
    line_of,
    token_matches,
)
from provenant.structured import load_json

KiB = 1024
#: ``.env.<suffix>`` files that are templates, not configuration.
TEMPLATE_SUFFIXES = ("example", "sample", "template", "dist", "defaults", "tmpl", "tpl")
NPMRC_SECRET_KEYS = ("_authtoken", "_auth", "_password")
_INI_LINE = re.compile(r"^\s*([A-Za-z0-9_.:/@-]+)\s*[=:]\s*(.*?)\s*$")
_URL_CREDENTIALS = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<userinfo>[^@/\s]+:[^@/\s]+)@(?P<host>\S+)$")


def _kind(path: str) -> str:
    base = posixpath.basename(path)
    if base == ".env" or base.endswith(".env") or base.startswith(".env."):
        return "dotenv"
    if base == ".npmrc":
        return "npmrc"
    if base == ".pypirc":
        return "pypirc"
    if base == ".git-credentials":
        return "git-credentials"
    if path.endswith(".docker/config.json"):
        return "docker-config"
    if path.endswith(".aws/credentials"):
        return "aws-credentials"
    if base.endswith(".json"):
        return "json"
    return "key"


def _finding(rule: str, detail: str) -> dict[str, str]:
    return {"rule": rule, "detail": detail}


def _ini_lines(text: str) -> Iterator[tuple[int, str, str]]:
    """(line number, key, value) of ``key = value`` / ``key: value`` lines; comments skipped."""
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(("#", ";", "[")):
            continue
        m = _INI_LINE.match(line)
        if m:
            yield n, m.group(1), m.group(2)


def _dotenv(path: str, text: str) -> list[dict[str, str]]:
    """``.env``/``.env.<stage>``: any set variable (the app-settings convention); ``<name>.env``
    (also what packages ship, e.g. locale or service defaults): only with a secret-named one."""
    base = posixpath.basename(path)
    conventional = base == ".env" or base.startswith(".env.")
    if base.startswith(".env.") and base.rsplit(".", 1)[-1].lower() in TEMPLATE_SUFFIXES:
        return []
    names = []
    for line in text.splitlines():
        stripped = line.strip().removeprefix("export ").strip()
        if stripped.startswith("#"):
            continue
        m = ASSIGNMENT.match(stripped)
        if m and is_literal_secret(m.group(2)):
            names.append(m.group(1))
    if not names or not (conventional or any(is_secret_name(n) for n in names)):
        return []
    unique = sorted(set(names))
    noun = "variable" if len(unique) == 1 else "variables"
    return [_finding("dotenv-file", f"{len(unique)} {noun}: {', '.join(unique)} (values redacted)")]


def _npmrc(text: str) -> list[dict[str, str]]:
    out = []
    for n, key, value in _ini_lines(text):
        if key.rsplit(":", 1)[-1].lower() in NPMRC_SECRET_KEYS and is_literal_secret(value):
            out.append(_finding("npmrc-token", f"line {n}: {key}=<redacted>"))
    return out


def _pypirc(text: str) -> list[dict[str, str]]:
    return [
        _finding("pypirc-password", f"line {n}: {key}=<redacted>")
        for n, key, value in _ini_lines(text)
        if key.lower() == "password" and is_literal_secret(value)
    ]


def _aws_credentials(text: str) -> list[dict[str, str]]:
    return [
        _finding("aws-credentials", f"line {n}: {key}=<redacted>")
        for n, key, value in _ini_lines(text)
        if key.lower() in ("aws_secret_access_key", "aws_session_token") and is_literal_secret(value)
    ]


def _git_credentials(text: str) -> list[dict[str, str]]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        m = _URL_CREDENTIALS.match(line.strip())
        if m:
            out.append(_finding("git-credentials", f"line {n}: {m.group('scheme')}<redacted>@{m.group('host')}"))
    return out


def _load_json(text: str) -> Any:
    try:
        return load_json(text, "JSON file")
    except ValueError:
        return None


def _docker_config(doc: Any) -> list[dict[str, str]]:
    if not isinstance(doc, dict):
        return []
    out = []
    auths = doc.get("auths")
    for host, entry in (auths or {}).items() if isinstance(auths, dict) else ():
        if not isinstance(entry, dict):
            continue
        for key in ("auth", "password", "identitytoken", "registrytoken"):
            value = entry.get(key)
            if isinstance(value, str) and is_literal_secret(value):
                out.append(_finding("docker-config-auth", f"auths[{host}].{key}=<redacted>"))
    return out


def _json_secrets(doc: Any) -> list[dict[str, str]]:
    """A GCP service-account key, else secret-named string members (one level deep)."""
    if not isinstance(doc, dict):
        return []
    if doc.get("type") == "service_account" and isinstance(doc.get("private_key"), str):
        project = doc.get("project_id")
        where = f" of project {project}" if isinstance(project, str) else ""
        return [_finding("gcp-service-account", f"service account key{where}: private_key=<redacted>")]
    return [
        _finding("generic-api-key", f"{key}=<redacted>")
        for key, value in doc.items()
        if isinstance(value, str) and is_secret_name(key) and is_literal_secret(value)
    ]


def _tokens(text: str, *, skip_private_key: bool) -> list[dict[str, str]]:
    matches: list[Match] = token_matches(text)
    return [
        _finding(m.rule, f"line {line_of(text, m.start)}: {m.detail}")
        for m in sorted(matches, key=lambda m: m.start)
        if not (skip_private_key and m.rule == "private-key")
    ]


def find_secrets(path: str, data: bytes) -> list[dict[str, str]]:
    """Redacted findings in one secret-candidate file (pure; never raises on odd input)."""
    text = data.decode("utf-8", "replace")
    kind = _kind(path)
    found: list[dict[str, str]] = []
    if kind == "dotenv":
        found += _dotenv(path, text)
    elif kind == "npmrc":
        found += _npmrc(text)
    elif kind == "pypirc":
        found += _pypirc(text)
    elif kind == "aws-credentials":
        found += _aws_credentials(text)
    elif kind == "git-credentials":
        found += _git_credentials(text)
    elif kind == "docker-config":
        found += _docker_config(_load_json(text))
    elif kind == "json":
        found += _json_secrets(_load_json(text))
    # The key inside a service-account JSON is that finding, not a second one.
    service_account = any(f["rule"] == "gcp-service-account" for f in found)
    return found + _tokens(text, skip_private_key=service_account)


class SecretsCataloger(Cataloger):
    """Secret-candidate files; no packages, redacted findings in ``facts["findings"]``."""

    name: ClassVar[str] = "secrets"
    patterns: ClassVar[tuple[str, ...]] = (
        "**/.env",
        "**/*.env",
        "**/.env.*",
        "**/.npmrc",
        "**/.pypirc",
        "**/.git-credentials",
        "**/.docker/config.json",
        "**/.aws/credentials",
        "**/id_rsa",
        "**/id_dsa",
        "**/id_ecdsa",
        "**/id_ed25519",
        "**/*.pem",
        "**/*.key",
        "**/*service-account*.json",
        "**/*service_account*.json",
        "**/*credentials*.json",
    )
    # Secrets are small; a larger match (a CA bundle such as certifi's cacert.pem) is skipped silently.
    max_size: ClassVar[int] = 256 * KiB
    report_oversize: ClassVar[bool] = False

    def parse(self, path: str, data: bytes) -> ParsedFile:
        """Findings only; an empty ``facts`` when the file holds nothing secret."""
        findings = find_secrets(path, data)
        return ParsedFile(facts={"findings": findings} if findings else {})
