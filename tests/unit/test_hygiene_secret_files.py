"""The secrets cataloger: each file rule's true positives, the look-alikes it must not report, and
that no finding ever carries the secret value."""

from __future__ import annotations

import base64
import json
import random
import re
import subprocess
from pathlib import Path

import pytest

from fixtures.hygieneimages import certificate, private_key
from provenant.catalog.base import compile_globs, glob_to_regex
from provenant.catalog.registry import all_catalogers
from provenant.catalog.secrets import SecretsCataloger, find_secrets

CAT = SecretsCataloger()
GHP = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"  # 36 chars after the prefix
AKIA = "AKIAZ7EXAMPLEKEY0042"


def rules(path: str, text: str | bytes) -> list[tuple[str, str]]:
    data = text.encode() if isinstance(text, str) else text
    found = [(f["rule"], f["detail"]) for f in find_secrets(path, data)]
    parsed = CAT.parse(path, data)
    assert parsed.packages == [] and parsed.issues == []
    assert parsed.facts == ({"findings": find_secrets(path, data)} if found else {})
    return found


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("app/.env", True),
        ("srv/prod.env", True),
        ("app/.env.production", True),
        ("root/.npmrc", True),
        ("home/dev/.pypirc", True),
        ("root/.git-credentials", True),
        ("root/.docker/config.json", True),
        ("root/.aws/credentials", True),
        ("home/a/.ssh/id_rsa", True),
        ("home/a/.ssh/id_ed25519", True),
        ("etc/ssl/private/server.key", True),
        ("etc/ssl/certs/ca.pem", True),
        ("srv/gcp-service-account.json", True),
        ("srv/app/credentials.json", True),
        ("home/a/.ssh/id_rsa.pub", False),
        ("app/environment.py", False),
        ("app/package.json", False),
        ("app/keys.txt", False),
    ],
)
def test_globs(path: str, wanted: bool) -> None:
    assert (compile_globs(CAT.patterns).match(path) is not None) is wanted


def test_factored_globs_match_like_the_plain_alternation() -> None:
    """compile_globs factors out the leading ``**/`` (the secrets globs made the scan's path matching
    twice as slow otherwise); it must accept exactly what one regex per glob accepts."""
    globs = tuple(g for c in all_catalogers() for g in c.patterns)
    each = [re.compile(glob_to_regex(g) + r"\Z") for g in globs]
    parts = [
        "usr",
        "lib",
        "etc",
        "node_modules",
        "@scope",
        "x",
        ".env",
        "a.env",
        ".env.prod",
        "id_rsa",
        "k.pem",
        "package.json",
        "status",
        "var",
        "dpkg",
        "rpm",
        "os-release",
        "METADATA",
        "y.dist-info",
        ".docker",
        "config.json",
        ".aws",
        "credentials",
        "app.jar",
        "installed",
        "apk",
        "db",
        "Packages",
        "rpmdb.sqlite",
    ]
    rng = random.Random(7)
    paths = ["/".join(rng.choice(parts) for _ in range(rng.randint(1, 6))) for _ in range(20_000)]
    combined = compile_globs(globs)
    hits = 0
    for path in paths:
        want = any(rx.match(path) for rx in each)
        hits += want
        assert (combined.match(path) is not None) is want, path
    assert hits > 1000


def test_private_keys_of_every_pem_flavour() -> None:
    assert rules("etc/ssl/private/app.key", private_key()) == [
        ("private-key", "line 1: -----BEGIN PRIVATE KEY----- block")
    ]
    for header in ("RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"):
        text = f"comment\n-----BEGIN {header}-----\nAAAA\n-----END {header}-----\n"
        assert rules("home/a/.ssh/id_rsa", text) == [("private-key", f"line 2: -----BEGIN {header}----- block")]


def test_real_openssl_rsa_key(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", key],
                   check=True, capture_output=True)  # fmt: skip
    found = rules("srv/tls/server.key", key.read_bytes())
    assert found == [("private-key", "line 1: -----BEGIN PRIVATE KEY----- block")]


def test_public_certificates_and_public_keys_are_not_findings() -> None:
    assert rules("etc/ssl/certs/provenant.pem", certificate()) == []
    assert rules("usr/share/ca-certificates/x/ca.key", certificate()) == []
    pub = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n"
    assert rules("etc/keys/signing.pem", pub) == []
    assert rules("srv/blob.key", bytes(range(256)) * 4) == []  # binary (DER-like): not parsed as PEM


def test_dotenv_files_and_templates() -> None:
    text = f"# settings\nexport DB_PASSWORD='s3cr3t'\nDB_HOST=db\nEMPTY=\nTOKEN=${{FROM_ENV}}\nKEY={GHP}\n"
    assert rules("app/.env", text) == [
        ("dotenv-file", "3 variables: DB_HOST, DB_PASSWORD, KEY (values redacted)"),
        ("github-token", "line 6: ghp_…(40 chars)"),
    ]
    # A template's variables are not settings; a real token pasted into one still is a leak.
    for template in ("app/.env.example", "app/.env.sample", "app/.env.template", "app/.env.dist"):
        assert rules(template, text) == [("github-token", "line 6: ghp_…(40 chars)")]
        assert rules(template, "DB_PASSWORD=changeme\n") == []
    assert rules("app/.env", "# nothing set yet\nDB_PASSWORD=\nAPI_KEY=${API_KEY}\n") == []
    # <name>.env: packages ship such defaults; only a secret-named variable makes it a finding.
    assert rules("usr/share/foo/defaults.env", "LANG=C.UTF-8\nFOO_HOME=/usr/share/foo\n") == []
    assert rules("srv/prod.env", "HOST=db\nDB_PASSWORD=pw1\n") == [
        ("dotenv-file", "2 variables: DB_PASSWORD, HOST (values redacted)")
    ]


def test_npmrc() -> None:
    text = "registry=https://registry.npmjs.org/\n//npm.example/:_authToken = abc123def456\n_auth=dXNlcjpwYXNz\n"
    assert rules("root/.npmrc", text) == [
        ("npmrc-token", "line 2: //npm.example/:_authToken=<redacted>"),
        ("npmrc-token", "line 3: _auth=<redacted>"),
    ]
    # The recommended form: the token comes from the environment at install time.
    assert rules("root/.npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n") == []


def test_pypirc_and_aws_credentials_and_git_credentials() -> None:
    pypirc = "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc\n"
    assert rules("root/.pypirc", pypirc) == [("pypirc-password", "line 6: password=<redacted>")]
    assert rules("root/.pypirc", "[pypi]\nusername = __token__\n") == []
    aws = f"[default]\naws_access_key_id = {AKIA}\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    assert rules("root/.aws/credentials", aws) == [
        ("aws-credentials", "line 3: aws_secret_access_key=<redacted>"),
        ("aws-access-key", "line 2: AKIA…(20 chars)"),
    ]
    git = "https://octo:hunter2secret@github.com\nhttps://github.com/public/repo\n"
    assert rules("root/.git-credentials", git) == [("git-credentials", "line 1: https://<redacted>@github.com")]


def test_docker_config() -> None:
    auth = base64.b64encode(b"user:pa55word").decode()
    doc = {"auths": {"registry.example:5000": {"auth": auth}, "ghcr.io": {}}, "credsStore": "desktop"}
    assert rules("root/.docker/config.json", json.dumps(doc)) == [
        ("docker-config-auth", "auths[registry.example:5000].auth=<redacted>")
    ]
    helpers_only = {"auths": {"ghcr.io": {}}, "credHelpers": {"gcr.io": "gcloud"}}
    assert rules("root/.docker/config.json", json.dumps(helpers_only)) == []
    assert rules("root/.docker/config.json", "{not json") == []


def test_service_account_json() -> None:
    pem = private_key().decode()
    doc = {"type": "service_account", "project_id": "demo-123", "private_key_id": "abc", "private_key": pem,
           "client_email": "svc@demo-123.iam.gserviceaccount.com"}  # fmt: skip
    # One finding for the key file, not a second one for the PEM block inside it.
    assert rules("srv/gcp-service-account.json", json.dumps(doc)) == [
        ("gcp-service-account", "service account key of project demo-123: private_key=<redacted>")
    ]
    other = {"client_id": "app", "client_secret": "Zm9vYmFyYmF6", "token_url": "https://auth.example/token"}
    assert rules("srv/credentials.json", json.dumps(other)) == [("generic-api-key", "client_secret=<redacted>")]
    assert rules("srv/credentials.json", json.dumps({"client_id": "app", "token_url": "https://x"})) == []


def test_token_shapes_in_any_candidate_file() -> None:
    text = f"slack=xoxb-1234567890-abcdefghij\naws={AKIA}\nnot=AKIA123\n{GHP}X\n"
    assert rules("srv/tokens.key", text) == [
        ("slack-token", "line 1: xoxb-…(26 chars)"),
        ("aws-access-key", "line 2: AKIA…(20 chars)"),
    ]


def test_no_value_ever_in_a_finding() -> None:
    secrets = ["s3cr3t-value-1", "abc123def456", "pypi-AgEIcHlwaS5vcmc", GHP, AKIA]
    files = {
        "app/.env": f"DB_PASSWORD={secrets[0]}\nAPI_KEY={GHP}\nAWS={AKIA}\n",
        "root/.npmrc": f"//r/:_authToken={secrets[1]}\n",
        "root/.pypirc": f"[pypi]\npassword = {secrets[2]}\n",
    }
    for path, text in files.items():
        dumped = json.dumps(CAT.parse(path, text.encode()).facts)
        assert "findings" in dumped
        for s in secrets:
            assert s not in dumped
            assert s[4:] not in dumped  # not even the part after a public prefix


def test_undecodable_bytes_do_not_raise() -> None:
    assert rules("app/.env", b"\xff\xfe\x00 garbage\nDB_PASSWORD=\xff\xfe\n") == [
        ("dotenv-file", "1 variable: DB_PASSWORD (values redacted)")
    ]
