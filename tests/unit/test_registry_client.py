"""The registry client API: manifests, HEAD, errors, tags, pushes, referrers, schemes and the source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenant.digest import Digest, VerifyingStream, verify_bytes
from provenant.errors import AuthenticationError, ManifestError, NotFoundError, RegistryError, UsageError
from provenant.limits import LimitExceededError
from provenant.oci import mediatypes as mt
from provenant.reference import Reference
from provenant.sources.base import ImageSource
from provenant.sources.registry import ManifestHead, RegistryClient, RegistryOptions, RegistrySource
from provenant.sources.registry.hosts import is_loopback
from tests.fakeregistry import Canned, FakeRegistry, make_client, ref


def _multiarch(fake: FakeRegistry) -> str:
    amd = fake.put_image("team/app", architecture="amd64", layers=[b"a1", b"a2"])
    arm = fake.put_image("team/app", architecture="arm64", variant="v8", layers=[b"r1"])
    return fake.put_index("team/app", [amd, arm], tag="v1")


def test_inspect_of_multiarch_tag_costs_one_plus_platforms_plus_configs() -> None:
    fake = FakeRegistry()
    _multiarch(fake)
    client, _ = make_client(fake)
    r = ref(fake, "team/app:v1")
    index = json.loads(client.get_manifest(r, "v1").data)
    for entry in index["manifests"]:
        m = client.get_manifest(r, entry["digest"])
        verify_bytes(m.data, Digest.parse(entry["digest"]), "manifest")
        cfg = json.loads(m.data)["config"]
        client.get_blob(r, Digest.parse(cfg["digest"]), cfg["size"])
    assert client.request_count == 1 + 2 + 2
    accept = fake.requests[0].headers["accept"]
    assert mt.OCI_INDEX in accept and mt.DOCKER_SCHEMA1_SIGNED in accept


def test_get_manifest_returns_bytes_and_media_type_without_trusting_the_digest_header() -> None:
    fake = FakeRegistry()
    digest = _multiarch(fake)
    client, _ = make_client(fake)
    raw = client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert raw.media_type == mt.OCI_INDEX
    assert Digest.of(raw.data) == Digest.parse(digest)
    # A lying Docker-Content-Digest header changes nothing: the bytes are returned as served.
    fake.inject(
        "/v2/team/app/manifests/v1",
        Canned(200, {"Content-Type": mt.OCI_INDEX, "Docker-Content-Digest": digest}, b'{"evil":1}'),
    )
    assert client.get_manifest(ref(fake, "team/app:v1"), "v1").data == b'{"evil":1}'


def test_schema1_is_refused() -> None:
    fake = FakeRegistry()
    fake.put_manifest("old/app", b'{"schemaVersion":1,"name":"old/app"}', mt.DOCKER_SCHEMA1_SIGNED, tag="v1")
    client, _ = make_client(fake)
    with pytest.raises(ManifestError) as info:
        client.get_manifest(ref(fake, "old/app:v1"), "v1")
    assert "unsupported schema1 manifest" in info.value.message
    assert "old/app:v1" in info.value.message


def test_error_codes_are_surfaced() -> None:
    fake = FakeRegistry()
    _multiarch(fake)
    client, _ = make_client(fake)
    with pytest.raises(NotFoundError) as info:
        client.get_manifest(ref(fake, "team/app:nope"), "nope")
    assert info.value.message == "registry 127.0.0.1:5000: MANIFEST_UNKNOWN: manifest unknown (team/app:nope)"
    assert info.value.code == "MANIFEST_UNKNOWN"
    assert info.value.status == 404
    missing = Digest.of(b"x")
    with pytest.raises(NotFoundError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), str(missing))
    assert info.value.message.endswith(f"(team/app@{missing})")
    with pytest.raises(NotFoundError) as info:
        client.get_manifest(ref(fake, "nobody/here:v1"), "v1")
    assert "NAME_UNKNOWN" in info.value.message


def test_denied_and_plain_errors() -> None:
    fake = FakeRegistry()
    _multiarch(fake)
    fake.inject(
        "/v2/team/app/manifests/v1",
        Canned(403, {"Content-Type": "application/json"}, b'{"errors":[{"code":"DENIED","message":"no"}]}'),
        Canned(418),
    )
    client, _ = make_client(fake)
    with pytest.raises(AuthenticationError) as denied:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert denied.value.message == "registry 127.0.0.1:5000: DENIED: no (team/app:v1)"
    assert "docker login" in (denied.value.hint or "")
    with pytest.raises(RegistryError) as teapot:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert teapot.value.message == (
        "registry 127.0.0.1:5000 answered 418 I'm a teapot for GET /v2/team/app/manifests/v1 (team/app:v1)"
    )


def test_head_manifest() -> None:
    fake = FakeRegistry()
    digest = _multiarch(fake)
    client, _ = make_client(fake)
    r = ref(fake, "team/app:v1")
    head = client.head_manifest(r, "v1")
    assert head == ManifestHead(Digest.parse(digest), mt.OCI_INDEX, len(fake.manifest("team/app", "v1")[0]))  # type: ignore[index]
    assert client.request_count == 1
    assert client.head_manifest(r, "missing") is None
    fake.head_digest = False
    n = client.request_count
    head = client.head_manifest(r, "v1")
    assert head is not None and head.digest == Digest.parse(digest)
    assert client.request_count - n == 2  # HEAD without a digest, then GET


def test_list_tags_follows_link_pagination() -> None:
    fake = FakeRegistry()
    digest = _multiarch(fake)
    for t in ["a", "b", "c", "d"]:
        fake.tag("team/app", t, digest)
    fake.tags_page_size = 2
    client, _ = make_client(fake)
    assert client.list_tags(ref(fake, "team/app:v1")) == ["a", "b", "c", "d", "v1"]
    assert client.request_count == 3
    assert fake.requests[1].url.params["last"] == "b"


def test_list_tags_absolute_link_same_host_ok_other_host_refused() -> None:
    fake = FakeRegistry()
    _multiarch(fake)
    path = "/v2/team/app/tags/list"
    fake.inject(
        path,
        Canned(200, {"Link": f'<http://127.0.0.1:5000{path}?n=1&last=a>; rel="next"'}, b'{"tags":["a"]}'),
        Canned(200, {"Link": f'<http://elsewhere.test{path}?last=v1>; rel="next"'}, b'{"tags":["v1"]}'),
    )
    client, _ = make_client(fake)
    with pytest.raises(RegistryError) as info:
        client.list_tags(ref(fake, "team/app:v1"))
    assert "another host" in info.value.message
    assert fake.count(host="elsewhere.test") == 0


def test_push_blob_and_manifest() -> None:
    fake = FakeRegistry()
    _multiarch(fake)
    client, _ = make_client(fake)
    r = ref(fake, "team/app:v1")
    digest = client.push_blob(r, b"attestation layer")
    assert digest == Digest.of(b"attestation layer")
    assert fake.blob("team/app", str(digest)) == b"attestation layer"
    assert [q.method for q in fake.requests] == ["HEAD", "POST", "PUT"]
    assert fake.requests[2].url.params["digest"] == str(digest)
    assert fake.requests[2].url.params["_state"].startswith("s")
    n = client.request_count
    client.push_blob(r, b"attestation layer")
    assert client.request_count - n == 1  # HEAD says it exists

    fake.upload_location = "absolute"
    assert client.push_blob(r, b"second") == Digest.of(b"second")

    manifest = json.dumps({"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "layers": []}).encode()
    got = client.put_manifest(r, "sha256-abc.att", manifest, mt.OCI_MANIFEST)
    assert got == Digest.of(manifest)
    assert fake.manifest("team/app", "sha256-abc.att") == (manifest, mt.OCI_MANIFEST)
    assert client.put_manifest(r, str(got), manifest, mt.OCI_MANIFEST) == got
    with pytest.raises(Exception, match="does not match"):
        client.put_manifest(r, str(Digest.of(b"other")), manifest, mt.OCI_MANIFEST)


def test_referrers_api_absent_returns_none() -> None:
    fake = FakeRegistry()
    digest = _multiarch(fake)
    client, _ = make_client(fake)
    assert client.get_referrers(ref(fake, "team/app:v1"), Digest.parse(digest), None) is None


def _with_referrers(fake: FakeRegistry) -> str:
    subject = fake.put_image("team/app", tag="v1")
    desc = {"mediaType": mt.OCI_MANIFEST, "digest": subject.digest, "size": subject.size}
    for i, kind in enumerate(["application/vnd.dev.sigstore.bundle.v0.3+json", "application/spdx+json"] * 2):
        fake.put_image("team/app", layers=[f"ref{i}".encode()], subject=desc, artifact_type=kind)
    return subject.digest


def test_referrers_pages_are_merged_into_one_index() -> None:
    fake = FakeRegistry(referrers=True)
    digest = _with_referrers(fake)
    fake.referrers_page_size = 3
    client, _ = make_client(fake)
    data = client.get_referrers(ref(fake, "team/app:v1"), Digest.parse(digest), None)
    assert data is not None
    index = json.loads(data)
    assert index["mediaType"] == mt.OCI_INDEX
    assert len(index["manifests"]) == 4
    assert client.request_count == 2


@pytest.mark.parametrize("server_filters", [True, False])
def test_referrers_artifact_type_filter(server_filters: bool) -> None:
    fake = FakeRegistry(referrers=True)
    digest = _with_referrers(fake)
    fake.referrers_filter = server_filters
    client, _ = make_client(fake)
    data = client.get_referrers(ref(fake, "team/app:v1"), Digest.parse(digest), "application/spdx+json")
    assert data is not None
    kinds = {m["artifactType"] for m in json.loads(data)["manifests"]}
    assert kinds == {"application/spdx+json"}
    assert fake.requests[0].url.params["artifactType"] == "application/spdx+json"


def test_loopback_hosts_use_http_others_https() -> None:
    assert is_loopback("localhost:5000")
    assert is_loopback("127.1.2.3")
    assert is_loopback("[::1]:5000")
    assert not is_loopback("registry.example.test")
    assert not is_loopback("10.0.0.1:5000")
    fake = FakeRegistry(host="registry.example.test", scheme="https")
    fake.put_image("team/app", tag="v1")
    client, _ = make_client(fake)
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert fake.requests[0].url.scheme == "https"
    v6 = FakeRegistry(host="[::1]:5000")
    v6.put_image("team/app", tag="v1")
    client, _ = make_client(v6)
    client.get_manifest(Reference.parse("[::1]:5000/team/app:v1"), "v1")
    assert v6.requests[0].url.scheme == "http"


def test_insecure_falls_back_to_http_for_non_loopback_hosts() -> None:
    fake = FakeRegistry(host="registry.internal:5000", scheme="http")
    digest = fake.put_image("team/app", tag="v1").digest
    r = ref(fake, "team/app:v1")
    strict, _ = make_client(fake, max_retries=0)
    with pytest.raises(RegistryError) as info:
        strict.get_manifest(r, "v1")
    assert "--insecure" in info.value.diagnostics()
    client, sleeps = make_client(fake, insecure=True)
    client.get_manifest(r, "v1")
    assert [q.url.scheme for q in fake.requests[-2:]] == ["https", "http"]
    assert sleeps == []
    n = client.request_count
    client.get_manifest(r, digest)
    assert client.request_count - n == 1
    assert fake.requests[-1].url.scheme == "http"


def test_insecure_keeps_https_when_it_works() -> None:
    fake = FakeRegistry(host="registry.internal", scheme="https")
    fake.put_image("team/app", tag="v1")
    client, _ = make_client(fake, insecure=True)
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert [q.url.scheme for q in fake.requests] == ["https"]


def test_docker_hub_names_talk_to_the_api_host() -> None:
    fake = FakeRegistry(host="registry-1.docker.io", scheme="https")
    fake.put_image("library/alpine", tag="3.20")
    client, _ = make_client(fake)
    raw = client.get_manifest(Reference.parse("alpine:3.20"), "3.20")
    assert raw.data
    assert fake.requests[0].url.path == "/v2/library/alpine/manifests/3.20"


def test_registry_source_implements_the_protocol() -> None:
    fake = FakeRegistry()
    img = fake.put_image("team/app", tag="v1", layers=[b"layer"])
    client, _ = make_client(fake)
    source: ImageSource = RegistrySource(ref(fake, "team/app:v1"), client)
    assert source.describe() == "registry 127.0.0.1:5000/team/app"
    assert source.default_identifier() == "v1"
    assert source.get_manifest("v1").data == img.manifest
    layer = Digest.parse(img.layer_digests[0])
    with source.open_blob(layer, 5) as chunks:
        assert b"".join(VerifyingStream(chunks, layer, "layer", 5)) == b"layer"
    assert RegistrySource(ref(fake, "team/app:v1"), client).list_tags() == ["v1"]
    pinned = RegistrySource(ref(fake, f"team/app@{img.digest}"), client)
    assert pinned.default_identifier() == img.digest
    source.close()
    # The shared client still works after a source is closed.
    assert client.get_manifest(ref(fake, "team/app:v1"), "v1").data == img.manifest
    client.close()


def test_ca_file_is_loaded_and_a_bad_one_is_a_usage_error(tmp_path: Path) -> None:
    import certifi

    RegistryClient(RegistryOptions(ca_file=Path(certifi.where()))).close()
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(UsageError, match="--ca-file"):
        RegistryClient(RegistryOptions(ca_file=bad))
    with pytest.raises(UsageError, match="--ca-file"):
        RegistryClient(RegistryOptions(ca_file=tmp_path / "missing.pem"))


def test_insecure_fallback_applies_to_a_blob_resume_too() -> None:
    fake = FakeRegistry(host="registry.internal:5000", scheme="http")
    img = fake.put_image("team/app", tag="v1", layers=[b"z" * 300_000])
    layer = Digest.parse(img.layer_digests[0])
    fake.drop_blob(str(layer), after=100_000, how="truncate")
    client, _ = make_client(fake, insecure=True)
    assert client.get_blob(ref(fake, "team/app:v1"), layer, 300_000) == b"z" * 300_000
    assert [q.url.scheme for q in fake.requests] == ["https", "http", "http"]


def test_host_of_a_url() -> None:
    import httpx

    from provenant.sources.registry.transport import host_of

    assert host_of(httpx.URL("https://registry.example.test/v2/")) == "registry.example.test"
    assert host_of(httpx.URL("http://127.0.0.1:5000/v2/")) == "127.0.0.1:5000"
    assert host_of(httpx.URL("http://[::1]:5000/v2/")) == "[::1]:5000"
    assert host_of(httpx.URL("https://[fd00::1]/token")) == "[fd00::1]"


def test_redirect_errors_name_the_hop() -> None:
    fake = FakeRegistry()
    fake.put_image("team/app", tag="v1")
    path = "/v2/team/app/manifests/v1"
    fake.inject(path, Canned(302, {"Location": "ftp://mirror.example.test/x"}))
    client, _ = make_client(fake)
    with pytest.raises(RegistryError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.message == (f"registry {fake.host} redirected GET {path} to an unsupported URL scheme 'ftp'")
    assert info.value.status == 302
    fake.inject(path, *[Canned(307, {"Location": path})] * 6)
    with pytest.raises(LimitExceededError) as loop:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert loop.value.message == (
        f"registry {fake.host}: GET {path} was redirected again and again: over the redirects limit of 5"
    )
    assert loop.value.hint == "raise it with --limit redirects=N or PROVENANT_LIMIT_REDIRECTS"
    # A redirect without a Location is the final answer.
    fake.inject(path, Canned(302))
    with pytest.raises(RegistryError):
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert fake.count("GET", path=path) == 1 + 6 + 1
