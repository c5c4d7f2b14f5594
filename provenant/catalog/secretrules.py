"""Secret shapes and secret-looking names, shared by the secrets cataloger (files) and the hygiene
library (config env, history). Every finding is described REDACTED: a rule id and where/what
matched, never the value.

Lives under ``catalog/`` because the layer scan's result depends on it (the layer cache key hashes
this directory).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Known token shapes: rule id -> pattern; ``prefix`` group is the public, non-secret part shown.
TOKEN_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("aws-access-key", re.compile(r"(?<![A-Z0-9])(?P<prefix>AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])")),
    ("github-token", re.compile(r"(?<![A-Za-z0-9_])(?P<prefix>gh[pousr]_)[A-Za-z0-9]{36}(?![A-Za-z0-9_])")),
    ("github-token", re.compile(r"(?<![A-Za-z0-9_])(?P<prefix>github_pat_)[A-Za-z0-9_]{60,255}")),
    ("slack-token", re.compile(r"(?<![A-Za-z0-9])(?P<prefix>xox[abposr]-)[A-Za-z0-9-]{10,250}")),
    ("npm-token", re.compile(r"(?<![A-Za-z0-9_])(?P<prefix>npm_)[A-Za-z0-9]{36}(?![A-Za-z0-9])")),
    ("private-key", re.compile(r"(?P<prefix>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----)")),
)

#: Every rule id a secret finding can carry (token shapes above, the secrets cataloger's file rules, the
#: hygiene env/history rules): what ``checks.secrets.ignoreRules`` of a policy may name.
RULE_IDS: tuple[str, ...] = (
    "private-key",
    "aws-access-key",
    "github-token",
    "slack-token",
    "npm-token",
    "secret-env",
    "secret-in-history",
    "dotenv-file",
    "npmrc-token",
    "pypirc-password",
    "aws-credentials",
    "git-credentials",
    "docker-config-auth",
    "gcp-service-account",
    "generic-api-key",
)

#: Names whose non-empty value is a secret: they END in one of these words. ``*_FILE`` (a path to a
#: mounted secret), ``GPG_KEY`` (official images' public signing-key fingerprints), ``*_KEY_ID``,
#: ``TOKEN_URL`` and ``PWD`` (the working directory) deliberately do not match.
SECRET_NAME = re.compile(
    r"(?:^|_)(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|SECRET_?KEY|PRIVATE_?KEY|"
    r"CLIENT_?SECRET|CREDENTIALS?)$"
)

#: ``NAME=value`` in shell text (history lines, dotenv files); quoted values kept whole.
ASSIGNMENT = re.compile(r"""(?<![A-Za-z0-9_.-])([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^\s"';&|]*)""")


def is_secret_name(name: str) -> bool:
    """Whether ``name`` (any case, ``-`` or ``.`` as separators) names a secret."""
    return SECRET_NAME.search(re.sub(r"[-.]", "_", name).upper()) is not None


#: Switch-like values (``USE_TOKEN=true``, ``API_KEY=none``): settings, not secrets.
NOT_SECRET_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "null", "none", "nil", "0", "1"})


def is_literal_secret(value: str) -> bool:
    """A value that is a real literal: not empty, not a ``$VAR``/``${VAR}``/``{{ tmpl }}`` reference,
    not an obvious mask or placeholder (``<...>``, ``****``, ``xxxx``), not a switch (``true``, ``0``)."""
    v = value.strip().strip("\"'").strip()
    if not v or "$" in v or "{{" in v or "%(" in v or v.lower() in NOT_SECRET_VALUES:
        return False
    if v.startswith("<") and v.endswith(">"):
        return False
    return not re.fullmatch(r"[*xX.\-_]+", v)


@dataclass(frozen=True)
class Match:
    """One redacted match: rule id, description, and its span in the scanned text."""

    rule: str
    detail: str
    start: int
    end: int


def token_matches(text: str) -> list[Match]:
    """Every known token shape in ``text``, described as ``<prefix>…(<n> chars)``."""
    out: list[Match] = []
    for rule, rx in TOKEN_SHAPES:
        for m in rx.finditer(text):
            if rule == "private-key":
                detail = f"{m.group('prefix')} block"
            else:
                detail = f"{m.group('prefix')}…({m.end() - m.start()} chars)"
            out.append(Match(rule, detail, m.start(), m.end()))
    return out


def line_of(text: str, pos: int) -> int:
    """1-based line number of ``pos`` in ``text``."""
    return text.count("\n", 0, pos) + 1


def secret_assignments(text: str, skip: list[Match]) -> list[Match]:
    """``NAME=value`` pairs whose name is secret-looking and whose value is a literal, except where
    the value is already a token match (in ``skip``). Detail: ``NAME=<redacted>``."""
    out: list[Match] = []
    for m in ASSIGNMENT.finditer(text):
        name, value = m.group(1), m.group(2)
        if not is_secret_name(name) or not is_literal_secret(value):
            continue
        if any(s.start < m.end(2) and m.start(2) < s.end for s in skip):
            continue
        out.append(Match("", f"{name}=<redacted>", m.start(), m.end()))
    return out
