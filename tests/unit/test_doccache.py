"""The SBOM document cache: keys, stamps, faithfulness, corrupt entries, prune, fingerprint."""

from __future__ import annotations

import gzip
import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from provenant.sbom import doccache
from provenant.sbom.doccache import DocumentCache, DocumentRequest
from provenant.sbom.formats import Document
from provenant.sbom.stamps import RESTAMP, Stamps

DIGEST = "sha256:" + "ab" * 32
STAMPS = Stamps(uuid.UUID("12345678-1234-4234-8234-123456789abc"), datetime(2026, 11, 29, 5, 6, 7, 890, tzinfo=UTC))


def _cdx(serial: str = "urn:uuid:00000000-0000-4000-8000-000000000000") -> str:
    doc = {"components": [{"name": "zlib1g", "description": "café"}], "metadata": {"timestamp": "x"}}
    return json.dumps({**doc, "serialNumber": serial}, indent=2)


def test_request_key_normalises_platforms_but_keeps_the_reference() -> None:
    a = DocumentRequest.of("r/x:1", ("linux/arm64,LINUX/amd64",), "json", False)
    b = DocumentRequest.of("r/x:1", ("linux/amd64", "linux/arm64"), "json", False)
    assert a == b and a.key() == b.key()
    assert DocumentRequest.of("r/x:2", (), "json", False).key() != DocumentRequest.of("r/x:1", (), "json", False).key()
    assert DocumentRequest.of("r/x:1", (), "json", True).key() != DocumentRequest.of("r/x:1", (), "json", False).key()


def test_put_get_renews_stamps_per_document(tmp_path: Path) -> None:
    cache = DocumentCache(tmp_path, fingerprint="f")
    req = DocumentRequest.of("r/x:1", (), "cyclonedx-json", False)
    assert not cache.knows(req)
    assert cache.put(req, DIGEST, 2, [Document("linux/amd64", _cdx()), Document("linux/arm64", _cdx())])
    assert cache.knows(req)
    found = cache.get(req, DIGEST)
    assert found is not None and found.images == 2
    serials = [json.loads(d.text)["serialNumber"] for d in found.documents]
    assert len(set(serials)) == 2 and all(s.startswith("urn:uuid:") for s in serials)
    assert [d.platform for d in found.documents] == ["linux/amd64", "linux/arm64"]
    fixed = cache.get(req, DIGEST, lambda: STAMPS)
    assert fixed is not None
    doc = json.loads(fixed.documents[0].text)
    assert doc["serialNumber"] == STAMPS.serial.urn
    assert doc["metadata"]["timestamp"] == "2026-11-29T05:06:07.000890+00:00"
    assert "\\u00e9" in fixed.documents[0].text  # written back with the encoder's ASCII escapes
    assert cache.get(req, "sha256:" + "cd" * 32) is None
    assert cache.get(DocumentRequest.of("r/x:1", (), "spdx-json", False), DIGEST) is None


def test_text_that_would_not_round_trip_is_not_cached(tmp_path: Path) -> None:
    cache = DocumentCache(tmp_path, fingerprint="f")
    req = DocumentRequest.of("r/x:1", (), "cyclonedx-json", False)
    compact = json.dumps(json.loads(_cdx()))  # not the encoder's indentation: restamping would change it
    assert not cache.put(req, DIGEST, 1, [Document(None, compact)])
    assert not cache.knows(req)
    assert not cache.put(DocumentRequest.of("r/x:1", (), "unknown", False), DIGEST, 1, [Document(None, "x")])


def test_documents_over_the_size_bound_are_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from provenant.sbom import doccache

    cache = DocumentCache(tmp_path, fingerprint="f")
    req = DocumentRequest.of("r/x:1", (), "cyclonedx-json", False)
    docs = [Document("linux/amd64", _cdx()), Document("linux/arm64", _cdx())]
    monkeypatch.setattr(doccache, "MAX_CACHED_TEXT", sum(len(d.text) for d in docs) - 1)
    assert not cache.put(req, DIGEST, 2, docs)
    assert not cache.knows(req) and not list(tmp_path.rglob("*.json.gz"))
    monkeypatch.setattr(doccache, "MAX_CACHED_TEXT", sum(len(d.text) for d in docs))
    assert cache.put(req, DIGEST, 2, docs)


def test_corrupt_or_foreign_entry_is_a_miss(tmp_path: Path) -> None:
    cache = DocumentCache(tmp_path, fingerprint="f")
    req = DocumentRequest.of("r/x:1", (), "table", False)
    assert cache.put(req, DIGEST, 1, [Document(None, "NAME\n")])
    (entry,) = (tmp_path / "sboms").rglob("*.json.gz")
    entry.write_bytes(b"not gzip")
    assert cache.get(req, DIGEST) is None
    entry.write_bytes(gzip.compress(json.dumps({"digest": "sha256:" + "00" * 32, "request": req.key()}).encode()))
    assert cache.get(req, DIGEST) is None


def test_prune_drops_other_fingerprints_and_old_entries(tmp_path: Path) -> None:
    old = DocumentCache(tmp_path, fingerprint="old")
    cur = DocumentCache(tmp_path, fingerprint="cur")
    req = DocumentRequest.of("r/x:1", (), "table", False)
    assert old.put(req, DIGEST, 1, [Document(None, "a\n")])
    assert cur.put(req, DIGEST, 1, [Document(None, "b\n")])
    removed, removed_bytes, kept, _ = cur.prune(older_than_days=None)
    assert (removed, kept) == (1, 1) and removed_bytes > 0
    assert not (tmp_path / "sboms" / "old").exists()
    assert cur.prune(older_than_days=0)[0] == 1
    assert not cur.knows(req)


def test_fingerprint_follows_the_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "provenant"
    shutil.copytree(Path(doccache.__file__).parent.parent, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(doccache, "_PACKAGE", pkg)
    before = doccache.code_fingerprint()
    assert doccache.code_fingerprint() == before
    (pkg / "sbom" / "table.py").write_text((pkg / "sbom" / "table.py").read_text() + "\n# changed\n")
    assert doccache.code_fingerprint() != before


def test_xml_restamp_touches_only_the_header() -> None:
    xml = (
        '<?xml version="1.0" ?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.6" '
        'serialNumber="urn:uuid:00000000-0000-4000-8000-000000000000" version="1">\n'
        "  <metadata>\n    <timestamp>2020-01-01T00:00:00+00:00</timestamp>\n  </metadata>\n"
        "  <components><component><description>&lt;timestamp&gt;</description></component></components>\n</bom>"
    )
    out = RESTAMP["cyclonedx-xml"].restamp(xml, STAMPS)
    assert f'serialNumber="{STAMPS.serial.urn}"' in out
    assert "<timestamp>2026-11-29T05:06:07.000890+00:00</timestamp>" in out
    assert out.count("&lt;timestamp&gt;") == 1
    assert not RESTAMP["cyclonedx-xml"].faithful("<bom/>")


def test_request_key_normalises_platform_aliases() -> None:
    # docs/cache.md promises normalised --platform values: the spellings platform matching treats as
    # one platform must share one cached document.
    base = DocumentRequest.of("r/x:1", ("linux/arm64",), "json", False)
    for alias in ("linux/aarch64", "LINUX/ARM64/v8", "linux/arm64/8", "linux/aarch64,linux/arm64"):
        other = DocumentRequest.of("r/x:1", (alias,), "json", False)
        assert other.key() == base.key(), alias
    assert DocumentRequest.of("r/x:1", ("linux/amd64",), "json", False).key() != base.key()


def test_aliased_platform_hits_the_cached_document(tmp_path: Path) -> None:
    cache = DocumentCache(tmp_path, fingerprint="f")
    req = DocumentRequest.of("r/x:1", ("linux/aarch64",), "cyclonedx-json", False)
    assert cache.put(req, DIGEST, 1, [Document("linux/arm64/v8", _cdx())])
    hit = cache.get(DocumentRequest.of("r/x:1", ("linux/arm64",), "cyclonedx-json", False), DIGEST, lambda: STAMPS)
    assert hit is not None


def test_request_key_changes_with_scan_limits() -> None:
    from provenant import limits

    before = DocumentRequest.of("r/x:1", (), "json", False).key()
    try:
        limits.activate(limits.Limits(hardlinks=5), start_deadline=False)
        assert DocumentRequest.of("r/x:1", (), "json", False).key() != before
        limits.activate(limits.Limits(timeout=5), start_deadline=False)  # not a scan limit
        assert DocumentRequest.of("r/x:1", (), "json", False).key() == before
    finally:
        limits.reset()
