"""Discovery with what a fleet scan knows of the repository: its tag list, and whether it has the referrers API."""

from __future__ import annotations

from pathlib import Path

from provenant.attest import constants as c
from provenant.attest.discover import RepositoryHints, discover
from provenant.attest.keys import load_private_key_pem
from provenant.attest.push import sign_image
from provenant.reference import parse_reference
from provenant.session import Session
from provenant.sources.registry import RegistryOptions
from tests.attestdata import crypto
from tests.fakeregistry import FakeRegistry

REPO = "team/app"


def _session(fake: FakeRegistry) -> Session:
    options = RegistryOptions(
        transport=fake.transport(), sleep=lambda _s: None, docker_config=Path("/nonexistent/provenant/config.json")
    )
    return Session(options)


def _signed() -> tuple[FakeRegistry, str]:
    fake = FakeRegistry(referrers=False)
    amd = fake.put_image(REPO, layers=[b"amd"], architecture="amd64")
    arm = fake.put_image(REPO, layers=[b"arm"], architecture="arm64", variant="v8")
    index = fake.put_index(REPO, [amd, arm], tag="v1")
    key = load_private_key_pem(crypto.private_pem(crypto.new_key(), None), None, "a.key")
    with _session(fake) as s:
        sign_image(s, f"{fake.host}/{REPO}:v1", key)
    return fake, index


def _discover(fake: FakeRegistry, hints: RepositoryHints | None) -> list[str]:
    ref = parse_reference(f"{fake.host}/{REPO}:v1")
    with _session(fake) as s:
        reader = s.reader(s.open(str(ref)))
        found = discover(reader, s.client, ref, workers=1, hints=hints)
    return [f.source for f in found.found]


def test_listed_tags_are_looked_up_and_absent_ones_are_not() -> None:
    fake, index = _signed()
    sig = c.tag_for(index, "sig")
    fake.requests.clear()
    assert _discover(fake, RepositoryHints(tags=frozenset({"v1", sig}))) == ["cosign-tag"]
    looked_up = {r.path.rsplit("/", 1)[1] for r in fake.matching("GET", path="/manifests/sha256-")}
    assert looked_up == {sig}  # not .att, .sbom, nor any platform's tags, nor the referrers fallback tags
    # Without hints every subject's tags are tried (3 subjects x .sig/.att/.sbom + the referrers tag).
    fake.requests.clear()
    assert _discover(fake, None) == ["cosign-tag"]
    assert len(fake.matching("GET", path="/manifests/sha256-")) == 3 * 4


def test_a_registry_without_the_referrers_api_is_asked_once_per_repository() -> None:
    fake, _index = _signed()
    hints = RepositoryHints(tags=frozenset({"v1"}))
    fake.requests.clear()
    assert _discover(fake, hints) == []
    assert hints.referrers_api is False
    assert fake.count(path="/referrers/") == 1  # the first 404 settles it for the other subjects
    fake.requests.clear()
    assert _discover(fake, hints) == []
    assert fake.count(path="/referrers/") == 0
