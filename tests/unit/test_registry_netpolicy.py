"""Where a registry may send us: redirects and token realms to private, link-local or metadata addresses.

No packet leaves the machine here: every test uses ``httpx.MockTransport`` (which records what would have
been sent) and a fake resolver.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from provenant.errors import AuthenticationError, RegistryError
from provenant.reference import Reference
from provenant.sources.registry import RegistryClient, RegistryOptions
from provenant.sources.registry.hosts import is_loopback
from provenant.sources.registry.netpolicy import address_class

NO_CONFIG = Path("/nonexistent/provenant-test/config.json")
SECRET_BODY = b"ami-id\ninstance-id\niam/security-credentials/admin-role\n" * 37


class Recorder:
    """A MockTransport handler: the registry answers with ``first``; anything else answers SECRET_BODY."""

    def __init__(self, registry: str, first: httpx.Response) -> None:
        self.registry = registry
        self.first = first
        self.seen: list[httpx.URL] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.url)
        if request.url.netloc.decode() == self.registry:
            return self.first
        return httpx.Response(200, content=SECRET_BODY)

    def hosts(self) -> list[str]:
        return [u.host for u in self.seen]


def _client(rec: Recorder, **opts: object) -> RegistryClient:
    options = RegistryOptions(
        transport=httpx.MockTransport(rec),
        sleep=lambda _: None,
        docker_config=NO_CONFIG,
        **opts,  # type: ignore[arg-type]
    )
    return RegistryClient(options, env={})


def _manifest(client: RegistryClient, registry: str) -> None:
    client.get_manifest(Reference.parse(f"{registry}/team/app:1"), "1")


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.1.2.3/blob",
        "http://172.20.0.1/blob",
        "http://192.168.1.1/blob",
        "http://100.64.0.1/blob",
        "http://[fc00::1]/blob",
        "http://[::ffff:169.254.169.254]/x",
        "http://0.0.0.0/x",
    ],
)
def test_a_redirect_to_a_private_or_metadata_address_is_refused_before_any_request(target: str) -> None:
    rec = Recorder("127.0.0.1:5000", httpx.Response(307, headers={"Location": target}))
    with pytest.raises(RegistryError) as info:
        _manifest(_client(rec), "127.0.0.1:5000")
    assert rec.hosts() == ["127.0.0.1"]  # nothing was sent to the target
    text = info.value.diagnostics()
    assert "refusing to connect" in text and "--allow-private-redirects" in text
    assert str(len(SECRET_BODY)) not in text and "bytes" not in text


def test_a_token_realm_at_the_metadata_address_is_refused_before_any_request() -> None:
    challenge = {"WWW-Authenticate": 'Bearer realm="http://169.254.169.254/latest/meta-data/iam",service="x"'}
    rec = Recorder("127.0.0.1:5000", httpx.Response(401, headers=challenge))
    with pytest.raises(RegistryError) as info:
        _manifest(_client(rec), "127.0.0.1:5000")
    assert rec.hosts() == ["127.0.0.1"]
    assert "169.254.169.254, a link-local or metadata address" in info.value.message
    assert str(len(SECRET_BODY)) not in info.value.diagnostics()


def test_a_host_name_is_resolved_and_its_addresses_checked() -> None:
    resolved: list[str] = []

    def resolver(name: str) -> list[str]:
        resolved.append(name)
        return {"metadata.evil.test": ["93.184.216.34", "169.254.169.254"], "cdn.test": ["93.184.216.34"]}[name]

    rec = Recorder("127.0.0.1:5000", httpx.Response(302, headers={"Location": "http://metadata.evil.test/x"}))
    with pytest.raises(RegistryError, match=r"metadata\.evil\.test, a link-local or metadata address"):
        _manifest(_client(rec, resolver=resolver), "127.0.0.1:5000")
    assert rec.hosts() == ["127.0.0.1"] and resolved == ["metadata.evil.test"]
    rec = Recorder("127.0.0.1:5000", httpx.Response(302, headers={"Location": "http://cdn.test/x"}))
    _manifest(_client(rec, resolver=resolver), "127.0.0.1:5000")  # a public address: followed
    assert rec.hosts() == ["127.0.0.1", "cdn.test"]


def test_allowed_by_the_user_or_when_the_registry_is_on_that_network() -> None:
    target = "http://169.254.169.254/x"
    rec = Recorder("127.0.0.1:5000", httpx.Response(307, headers={"Location": target}))
    _manifest(_client(rec, allow_private_redirects=True), "127.0.0.1:5000")
    assert rec.hosts() == ["127.0.0.1", "169.254.169.254"]  # (a mock: nothing left the machine)
    rec = Recorder("10.0.0.5:5000", httpx.Response(307, headers={"Location": "https://10.0.0.6/storage"}))
    _manifest(_client(rec, insecure=True), "10.0.0.5:5000")
    assert rec.hosts() == ["10.0.0.5", "10.0.0.6"]
    # A registry on a private network still may not send us to the metadata address.
    rec = Recorder("10.0.0.5:5000", httpx.Response(307, headers={"Location": "https://169.254.169.254/x"}))
    with pytest.raises(RegistryError, match="link-local or metadata"):
        _manifest(_client(rec, insecure=True), "10.0.0.5:5000")


def test_loopback_stays_allowed() -> None:
    rec = Recorder("127.0.0.1:5000", httpx.Response(307, headers={"Location": "http://127.0.0.2:5001/x"}))
    _manifest(_client(rec), "127.0.0.1:5000")
    assert rec.hosts() == ["127.0.0.1", "127.0.0.2"]


def test_address_classes_and_the_loopback_rule() -> None:
    assert address_class("169.254.169.254") == "link-local or metadata"
    assert address_class("fd00:ec2::254") == "link-local or metadata"
    assert address_class("fe80::1%eth0") == "link-local or metadata"
    assert address_class("172.31.255.255") == "private" and address_class("172.32.0.1") == "public"
    assert address_class("::1") == "loopback" and address_class("127.9.9.9") == "loopback"
    # IPv6 spellings of an IPv4 address reach that IPv4 host: mapped, 6to4 and NAT64 (RFC 6052).
    assert address_class("::ffff:169.254.169.254") == "link-local or metadata"
    assert address_class("2002:a9fe:a9fe::1") == "link-local or metadata"
    assert address_class("64:ff9b::a9fe:a9fe") == "link-local or metadata"
    assert address_class("64:ff9b::10.1.2.3") == "private"
    assert address_class("2002:0a00:0001::") == "private"
    assert address_class("64:ff9b::8.8.8.8") == "public" and address_class("2001:4860:4860::8888") == "public"
    for host in ("localhost", "localhost:5000", "127.0.0.1", "[::1]:5000"):
        assert is_loopback(host), host
    for host in ("localhost.evil.com", "localhost.evil.com:5000", "127.0.0.1.nip.io", "evil-localhost", "[::2]"):
        assert not is_loopback(host), host


def test_credentials_never_go_to_a_plain_http_token_realm_off_loopback() -> None:
    challenge = {"WWW-Authenticate": 'Bearer realm="http://auth.example.test/token",service="x"'}
    rec = Recorder("registry.example.test", httpx.Response(401, headers=challenge))
    client = _client(rec, username="alice", password="s3cret-pw")
    with pytest.raises(AuthenticationError) as info:
        _manifest(client, "registry.example.test")
    assert rec.hosts() == ["registry.example.test"]  # the realm never saw a request, let alone a password
    assert "refusing to send them unencrypted" in info.value.message
    assert "s3cret-pw" not in info.value.diagnostics()


def test_the_cli_flag_and_variable_reach_the_registry_options(monkeypatch: pytest.MonkeyPatch) -> None:
    import click

    from provenant.cli.options import build_registry_options, registry_options

    seen: list[bool] = []

    @click.command()
    @registry_options
    def cmd(insecure: bool, ca_file: Path | None, username: str | None, password_stdin: bool) -> None:
        seen.append(build_registry_options(insecure, ca_file, username, password_stdin).allow_private_redirects)

    runner = CliRunner()
    assert runner.invoke(cmd, []).exit_code == 0
    assert runner.invoke(cmd, ["--allow-private-redirects"]).exit_code == 0
    assert runner.invoke(cmd, [], env={"PROVENANT_ALLOW_PRIVATE_REDIRECTS": "1"}).exit_code == 0
    assert seen == [False, True, True]


def test_a_redirect_to_an_invalid_url_is_one_clean_line() -> None:
    rec = Recorder("127.0.0.1:5000", httpx.Response(302, headers={"Location": "http://a\x1b]0;x\x07b/"}))
    with pytest.raises(RegistryError) as info:
        _manifest(_client(rec), "127.0.0.1:5000")
    assert "location" in info.value.message.lower() and "\x1b" not in info.value.diagnostics()
