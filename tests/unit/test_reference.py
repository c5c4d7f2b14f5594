"""Image reference parsing and Docker Hub normalisation."""

import pytest

from provenant.digest import Digest
from provenant.errors import InvalidReferenceError
from provenant.reference import parse_reference

SHA = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", "latest", None),
        ("nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("index.docker.io/nginx", "docker.io", "library/nginx", "latest", None),
        ("registry-1.docker.io/library/nginx:x", "docker.io", "library/nginx", "x", None),
        ("docker.io/bitnami/redis:7", "docker.io", "bitnami/redis", "7", None),
        ("user/app", "docker.io", "user/app", "latest", None),
        ("registry:5000/img", "registry:5000", "img", "latest", None),
        ("registry:5000/img:5000", "registry:5000", "img", "5000", None),
        ("localhost/a/b", "localhost", "a/b", "latest", None),
        ("localhost:5000/a", "localhost:5000", "a", "latest", None),
        ("ghcr.io/org/team/app:v1.2.3", "ghcr.io", "org/team/app", "v1.2.3", None),
        ("[::1]:5000/app:v1", "[::1]:5000", "app", "v1", None),
        ("[fe80::1%eth0]/app", "[fe80::1%eth0]", "app", "latest", None),
        (f"nginx@{SHA}", "docker.io", "library/nginx", None, SHA),
        (f"127.0.0.1:5000/a/b:t@{SHA}", "127.0.0.1:5000", "a/b", "t", SHA),
        ("Example.COM/app", "Example.COM", "app", "latest", None),
        ("a__b/c--d.e_f", "docker.io", "a__b/c--d.e_f", "latest", None),
    ],
)
def test_parse(text: str, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag) == (registry, repository, tag)
    assert (str(ref.digest) if ref.digest else None) == digest


def test_round_trip_and_identifier() -> None:
    ref = parse_reference(f"127.0.0.1:5000/a/b:t@{SHA}")
    assert str(ref) == f"127.0.0.1:5000/a/b:t@{SHA}"
    assert ref.identifier == SHA
    assert parse_reference("nginx").identifier == "latest"
    assert parse_reference("nginx").api_host == "registry-1.docker.io"
    assert parse_reference("ghcr.io/a").api_host == "ghcr.io"


def test_sha512() -> None:
    d = "sha512:" + "0f" * 64
    assert str(parse_reference(f"a/b@{d}").digest) == d


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        (" nginx", "whitespace"),
        ("Nginx", "component 'Nginx'"),
        ("nginx:", "invalid tag ''"),
        ("nginx:-bad", "invalid tag '-bad'"),
        ("nginx:" + "a" * 129, "invalid tag"),
        ("nginx@sha256:abc", "64 lowercase hex"),
        ("nginx@md5:" + "a" * 32, "unsupported digest algorithm 'md5'"),
        ("nginx@sha256:" + "A" * 64, "lowercase hex"),
        ("host:99999/app", "port"),
        ("host:abc/app:1", "port"),
        ("a//b", "component ''"),
        ("a/b_", "component 'b_'"),
        ("[zz::1/app", "IPv6"),
        ("ghcr.io/", "missing repository"),
        ("x/" + "a" * 260, "longer than 255"),
    ],
)
def test_bad_references_say_which_part(text: str, fragment: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference(text)
    assert fragment in info.value.diagnostics()
    assert "\n" not in info.value.diagnostics()


def test_digest_helpers() -> None:
    d = Digest.of(b"hello")
    assert str(d) == "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert Digest.parse(str(d)) == d
    assert d.short == "2cf24dba5fb0"


@pytest.mark.parametrize(
    "text",
    [
        "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\n",
        "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\r",
        "\nsha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    ],
)
def test_digest_with_a_trailing_newline_is_refused(text: str) -> None:
    with pytest.raises(InvalidReferenceError):
        Digest.parse(text)


@pytest.mark.parametrize("text", ["example.com/team\n/app:1", "example.com\n/team/app:1"])
def test_reference_parts_with_a_newline_are_refused(text: str) -> None:
    with pytest.raises(InvalidReferenceError):
        parse_reference(text)
