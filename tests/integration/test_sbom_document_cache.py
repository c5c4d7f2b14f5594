"""``sbom`` served from the document cache: same documents with new stamps, tag moves followed, auth."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures import FixtureSet, Registry, push_layout
from provenant.cache import LayerCache
from provenant.cli.main import cli
from provenant.sbom.cyclonedx import cyclonedx_bom, encode_cyclonedx
from provenant.sbom.generate import generate_sbom
from provenant.sbom.spdx import encode_spdx_json, spdx_document
from provenant.sbom.stamps import RESTAMP, Stamps
from provenant.session import Session
from tests.conftest import PASSWORD, USER
from tests.tokenserver import TokenService

pytestmark = pytest.mark.integration

FORMATS = ("cyclonedx-json", "cyclonedx-xml", "spdx-json", "json")


@pytest.fixture(autouse=True)
def _no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cached path leaves proxied environments to the full client; these tests are about the cached path."""
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def _no_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the full SBOM pipeline ran")

    monkeypatch.setattr("provenant.sbom.generate.generate_sbom", refuse)


def _run(ref: str, cache: Path, out: Path, *extra: str) -> dict[str, str]:
    args = ["sbom", "--cache-dir", str(cache), *extra, ref, "-o", "table"]
    for fmt in FORMATS:
        args += ["-o", f"{fmt}={out / fmt}"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    texts = {fmt: (out / fmt).read_text() for fmt in FORMATS}
    texts["table"] = res.stdout
    return texts


def _without_stamps(fmt: str, text: str) -> object:
    if fmt == "cyclonedx-xml":
        return re.sub(r"urn:uuid:[0-9a-f-]{36}|<timestamp>[^<]*</timestamp>", "", text)
    if fmt == "table":
        return text
    doc = json.loads(text)
    if fmt == "cyclonedx-json":
        del doc["serialNumber"], doc["metadata"]["timestamp"]
    elif fmt == "spdx-json":
        del doc["creationInfo"]["created"]
    elif fmt == "json":
        for image in doc["images"]:
            for layer in image["layers"]:
                del layer["from_cache"]
    return doc


def _copy(fixture_set: FixtureSet, image: str, dest: str) -> None:
    fx = fixture_set.image(image)
    push_layout(fx.layout, fx.tag, dest)


def test_second_run_is_served_from_documents_and_follows_the_tag(
    registry: Registry, fixture_set: FixtureSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = f"{registry.host}/doc-cache-moving:1"
    _copy(fixture_set, "debian-amd64:12", ref)
    cache = tmp_path / "cache"
    (tmp_path / "cold").mkdir()
    (tmp_path / "warm").mkdir()
    cold = _run(ref, cache, tmp_path / "cold")
    assert list((cache / "sboms").glob("*/*/*.json.gz")), "the cold run stored its documents"

    with monkeypatch.context() as m:
        _no_pipeline(m)
        warm = _run(ref, cache, tmp_path / "warm")
    for fmt in (*FORMATS, "table"):
        assert _without_stamps(fmt, warm[fmt]) == _without_stamps(fmt, cold[fmt]), fmt
    cdx_cold, cdx_warm = json.loads(cold["cyclonedx-json"]), json.loads(warm["cyclonedx-json"])
    assert cdx_warm["serialNumber"] != cdx_cold["serialNumber"]
    uuid.UUID(cdx_warm["serialNumber"].removeprefix("urn:uuid:"))
    assert datetime.fromisoformat(cdx_warm["metadata"]["timestamp"]) >= datetime.fromisoformat(
        cdx_cold["metadata"]["timestamp"]
    )
    layers = [layer for image in json.loads(warm["json"])["images"] for layer in image["layers"]]
    assert layers and all(layer["from_cache"] for layer in layers)

    # The tag now names another image: its SBOM, not the cached one.
    _copy(fixture_set, "sbom-apk:1", ref)
    moved = _run(ref, cache, tmp_path / "cold")
    names = {c["name"] for c in json.loads(moved["cyclonedx-json"])["components"]}
    assert "musl" in names and "base-files" not in names

    # Back to the first image: its documents are still cached, per digest.
    _copy(fixture_set, "debian-amd64:12", ref)
    with monkeypatch.context() as m:
        _no_pipeline(m)
        again = _run(ref, cache, tmp_path / "warm")
    assert _without_stamps("cyclonedx-json", again["cyclonedx-json"]) == _without_stamps(
        "cyclonedx-json", cold["cyclonedx-json"]
    )


def test_several_platforms_and_a_digest_reference_need_no_network(
    registry: Registry, fixture_set: FixtureSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    ref = f"{registry.host}/{fx.repo}@{fx.digest}"
    cache = tmp_path / "cache"
    args = ["sbom", "--cache-dir", str(cache), ref, "-o", f"spdx-json={tmp_path}/doc.json"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    with monkeypatch.context() as m:
        _no_pipeline(m)

        def offline(*args: object, **kwargs: object) -> None:
            raise AssertionError("network used")

        m.setattr("http.client.HTTPConnection.connect", offline)
        second = CliRunner().invoke(cli, args)
    assert second.exit_code == 0, second.output
    assert sorted(p.name for p in tmp_path.glob("doc.*.json")) == ["doc.linux-amd64.json", "doc.linux-arm64-v8.json"]
    assert second.stderr.count("wrote ") == 2


def test_implied_merge_to_stdout_is_cached_with_its_notice(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["sbom", "--cache-dir", str(tmp_path), f"{registry.host}/debian-multiarch:12", "-o", "cyclonedx-json"]
    cold = CliRunner().invoke(cli, args)
    assert cold.exit_code == 0, cold.output
    with monkeypatch.context() as m:
        _no_pipeline(m)
        warm = CliRunner().invoke(cli, args)
    assert warm.exit_code == 0, warm.output
    assert "writing one merged cyclonedx-json document" in warm.stderr
    assert _without_stamps("cyclonedx-json", warm.stdout) == _without_stamps("cyclonedx-json", cold.stdout)


def test_no_cache_writes_no_documents(registry: Registry, tmp_path: Path) -> None:
    args = ["sbom", "--no-cache", "--cache-dir", str(tmp_path), f"{registry.host}/debian-amd64:12", "-o", "json"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert not (tmp_path / "sboms").exists()


def test_token_registry_quick_path_uses_the_credentials(
    token_registry: Registry, token_service: TokenService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANT_REGISTRY_USERNAME", USER)
    monkeypatch.setenv("PROVENANT_REGISTRY_PASSWORD", PASSWORD)
    args = ["sbom", "--cache-dir", str(tmp_path), f"{token_registry.host}/debian-amd64:12", "-o", "cyclonedx-json"]
    cold = CliRunner().invoke(cli, args)
    assert cold.exit_code == 0, cold.output
    before = len(token_service.requests)
    with monkeypatch.context() as m:
        _no_pipeline(m)
        warm = CliRunner().invoke(cli, args)
    assert warm.exit_code == 0, warm.output
    assert [(r["user"], r["query"]["scope"]) for r in token_service.requests[before:]] == [
        (USER, ["repository:debian-amd64:pull"])
    ]
    assert _without_stamps("cyclonedx-json", warm.stdout) == _without_stamps("cyclonedx-json", cold.stdout)


def test_restamping_equals_encoding_with_those_stamps(registry: Registry, tmp_path: Path) -> None:
    with Session() as session:
        result = generate_sbom(session, f"{registry.host}/debian-amd64:12", cache=LayerCache(tmp_path))
    old = Stamps(uuid.uuid4(), datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC))
    new = Stamps.fresh()

    def cdx(fmt: str, s: Stamps) -> str:
        bom = cyclonedx_bom(result.images, result.tool, serial=s.serial, timestamp=s.now)
        return encode_cyclonedx(bom, "json" if fmt == "cyclonedx-json" else "xml")

    def spdx(s: Stamps) -> str:
        return encode_spdx_json(spdx_document(result.images, result.tool, created=s.now))

    for fmt in ("cyclonedx-json", "cyclonedx-xml"):
        assert RESTAMP[fmt].faithful(cdx(fmt, old))
        assert RESTAMP[fmt].restamp(cdx(fmt, old), new) == cdx(fmt, new)
    assert RESTAMP["spdx-json"].faithful(spdx(old))
    assert RESTAMP["spdx-json"].restamp(spdx(old), new) == spdx(new)
