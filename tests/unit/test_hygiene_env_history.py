"""Secrets in the config env and in history lines; which look-alikes are deliberately not secrets."""

from __future__ import annotations

from provenant.hygiene import runs_as_root
from provenant.hygiene.secrets import env_secrets, history_secrets
from provenant.oci.models import HistoryEntry

AKIA = "AKIAZ7EXAMPLEKEY0042"
GHP = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def env(*lines: str) -> list[tuple[str, str]]:
    found = env_secrets(list(lines))
    assert all(f.where == "env" and f.path is None and f.layer_index is None for f in found)
    return [(f.rule, f.detail) for f in found]


def test_secret_names_with_values() -> None:
    named = ("DB_PASSWORD=hunter2", "STRIPE_SECRET=sk", "GITHUB_TOKEN=x1", "API_KEY=k", "AWS_SECRET_ACCESS_KEY=a")
    assert env(*named) == [
        ("secret-env", "env DB_PASSWORD=<redacted>"),
        ("secret-env", "env STRIPE_SECRET=<redacted>"),
        ("secret-env", "env GITHUB_TOKEN=<redacted>"),
        ("secret-env", "env API_KEY=<redacted>"),
        ("secret-env", "env AWS_SECRET_ACCESS_KEY=<redacted>"),
    ]
    assert env("db_password=lower", "MYSQL_ROOT_PASSWORD=pw", "SECRET=s", "CLIENT_SECRET=c", "PRIVATE_KEY=p") == [
        ("secret-env", "env db_password=<redacted>"),
        ("secret-env", "env MYSQL_ROOT_PASSWORD=<redacted>"),
        ("secret-env", "env SECRET=<redacted>"),
        ("secret-env", "env CLIENT_SECRET=<redacted>"),
        ("secret-env", "env PRIVATE_KEY=<redacted>"),
    ]


def test_not_secrets() -> None:
    assert (
        env(
            "DB_PASSWORD=",  # declared, empty
            "DB_PASSWORD_FILE=/run/secrets/db",  # the recommended way: a path to a mounted secret
            "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",  # official images: a public fingerprint
            "PYTHON_GET_PIP_SHA256=dfe9fd5c28dc98b5ac17979a953ea550cec37ae1b47a5116007395bfacff2ab9",
            "TOKEN_URL=https://auth.example/token",
            "AWS_ACCESS_KEY_ID_FILE=/run/secrets/aws",
            "PWD=/app",
            "API_KEY=${API_KEY}",
            "USE_TOKEN=true",  # a switch, not a secret
            "CLIENT_SECRET=none",
            "DB_PASSWORD=<set me>",
            "STRIPE_SECRET=********",
            "PATH=/usr/local/bin:/usr/bin",
            "NO_VALUE",
        )
        == []
    )


def test_token_shapes_in_any_env_value() -> None:
    assert env(f"AWS_ACCESS_KEY_ID={AKIA}", f"GH={GHP}", "SLACK_HOOK=xoxp-1234567890-abcdef") == [
        ("aws-access-key", "env AWS_ACCESS_KEY_ID: AKIA…(20 chars)"),
        ("github-token", "env GH: ghp_…(40 chars)"),
        ("slack-token", "env SLACK_HOOK: xoxp-…(22 chars)"),
    ]
    # A token under a secret name is reported once, by its shape.
    assert env(f"GITHUB_TOKEN={GHP}") == [("github-token", "env GITHUB_TOKEN: ghp_…(40 chars)")]
    assert env("TLS_KEY=-----BEGIN EC PRIVATE KEY-----\\nMHc...") == [
        ("private-key", "env TLS_KEY: -----BEGIN EC PRIVATE KEY----- block")
    ]


def hist(*lines: tuple[str, bool]) -> list[tuple[str, int | None, str]]:
    found = history_secrets([HistoryEntry(created_by=text, empty_layer=empty) for text, empty in lines])
    assert all(f.where == "history" and f.path is None for f in found)
    return [(f.rule, f.layer_index, f.detail) for f in found]


def test_history_lines() -> None:
    assert hist(
        ("/bin/sh -c #(nop) ADD file:abc in / ", False),
        ("ENV DB_PASSWORD=hunter2", True),
        ("ARG NPM_TOKEN=npm-default-token", True),
        ("RUN |2 NPM_TOKEN=abc123 APP=1 /bin/sh -c npm ci # buildkit", False),
        (f"RUN /bin/sh -c AWS_ACCESS_KEY_ID={AKIA} AWS_SECRET_ACCESS_KEY=s3cr3t aws s3 ls # buildkit", False),
        (f'RUN /bin/sh -c curl -H "Authorization: token {GHP}" https://api.github.com # buildkit', False),
    ) == [
        ("secret-in-history", None, "history: DB_PASSWORD=<redacted>"),
        ("secret-in-history", None, "history: NPM_TOKEN=<redacted>"),
        ("secret-in-history", 1, "history: NPM_TOKEN=<redacted>"),
        ("aws-access-key", 2, "history: AKIA…(20 chars)"),
        ("secret-in-history", 2, "history: AWS_SECRET_ACCESS_KEY=<redacted>"),
        ("github-token", 3, "history: ghp_…(40 chars)"),
    ]


def test_history_look_alikes() -> None:
    assert (
        hist(
            ("ENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D", True),
            ("ARG DB_PASSWORD", True),  # declared without a default
            ("RUN |1 DB_PASSWORD_FILE=/run/secrets/db /bin/sh -c ./migrate # buildkit", False),
            ('RUN /bin/sh -c echo "TOKEN=$TOKEN" > /dev/null # buildkit', False),
            ("RUN /bin/sh -c --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci # buildkit", False),
            ("ENV PASSWORD_MIN_LENGTH=12", True),
        )
        == []
    )


def test_root_user() -> None:
    for user in (None, "", "0", "root", "0:0", "root:staff", " 0 "):
        assert runs_as_root(user), user
    for user in ("10001", "app", "65532:65532", "nobody", "0app", "1000:0"):
        assert not runs_as_root(user), user
