"""``fleet policy`` on a hand-built inventory: rows, counts, filters, not-evaluated reasons, trusted bases
from the inventory; the stored evidence model converts both ways."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from provenant.attest.evaluate import Attachment, SubjectCheck
from provenant.attest.result import AttestationsResult, SubjectResult
from provenant.errors import ProvenantError
from provenant.evidence.model import Evidence, PlatformEvidence, TrustedBase
from provenant.evidence.stored import FORMAT, ImageFacts, PlatformFacts, facts_of, from_facts
from provenant.fleet import models as m
from provenant.fleet.ingest import ImageRecord, write_image
from provenant.fleet.policy import (
    FleetPolicyResult,
    InventoryBases,
    evaluate_inventory,
    evaluate_stored,
    policy_digest,
    target_of,
    verdict_rows,
)
from provenant.fleet.store import Store, open_store
from provenant.hygiene import HygieneReport
from provenant.policy.schema import ImagePolicy, policy_from_data
from provenant.reference import parse_reference
from provenant.sbom.model import Package
from provenant.sbom.result import ImageSbom, LayerInfo

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
AMD, ARM = "linux/amd64", "linux/arm64/v8"
TODAY = dt.date(2026, 6, 1)
REG = "reg.example"


def sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _hygiene(*, root: bool = False, size: int = 10) -> HygieneReport:
    return HygieneReport(
        user="0" if root else "app",
        runs_as_root=root,
        secrets=[],
        build_tooling=[],
        caches=[],
        wasted_bytes=0,
        wasted_files=[],
        size=size,
        compressed_size=size // 2,
    )


def _sbom(digest: str, platform: str, layers: list[str], packages: list[Package] | None = None) -> ImageSbom:
    return ImageSbom(
        name="x",
        platform=platform,
        manifest_digest=digest,
        config_digest=sha("config " + digest),
        layers=[
            LayerInfo(
                index=i,
                digest=sha("blob " + d),
                diff_id=d,
                media_type="tar+gzip",
                size=5,
                uncompressed_size=10,
                file_count=1,
            )
            for i, d in enumerate(layers)
        ],
        packages=packages or [Package(name="libc6", version="2.36", type="deb", found_by="dpkg", licenses=["LGPL"])],
    )


def _attachment(subject: str) -> Attachment:
    return Attachment(
        kind="sbom",
        format="in-toto",
        source="oci-referrers",
        location="referrer",
        container_digest=sha("att " + subject),
        media_type="application/vnd.in-toto+json",
        predicate_type="https://spdx.dev/Document",
        predicate_family="spdx",
        trust="unsigned",
        subject_check=SubjectCheck(status="match", expected=subject, found=[subject]),
    )


class Built:
    """An image as fleet scan would store it: facts and SBOMs."""

    def __init__(
        self,
        name: str,
        *,
        root: bool = False,
        platforms: tuple[str, ...] = (AMD, ARM),
        index: bool = True,
        keys: tuple[str, ...] = (),
        layers: tuple[str, ...] = ("base",),
        media_type: str = INDEX,
    ) -> None:
        self.digest = sha("image " + name)
        self.index = index
        self.media_type = media_type if index else MANIFEST
        self.sboms = []
        plats = []
        subjects = [SubjectResult(kind="index", digest=self.digest, media_type=INDEX, attachments=[])] if index else []
        for plat in platforms:
            pd = self.digest if not index else sha(f"{name} {plat}")
            diff_ids = [sha(f"{layer} {plat}") for layer in layers] + [sha(f"{name} app {plat}")]
            self.sboms.append(_sbom(pd, plat, diff_ids))
            plats.append(
                PlatformFacts(
                    platform=plat,
                    digest=pd,
                    annotations={"k": plat},
                    diff_ids=diff_ids,
                    compressed_size=100,
                    uncompressed_size=200,
                    hygiene=_hygiene(root=root),
                )
            )
            subjects.append(
                SubjectResult(
                    kind="platform", digest=pd, media_type=MANIFEST, platform=plat, attachments=[_attachment(pd)]
                )
            )
        self.facts = ImageFacts(
            digest=self.digest,
            source=f"registry {REG}/{name}",
            is_index=index,
            index_platforms=list(platforms),
            platforms=plats,
            attestations=AttestationsResult(
                reference=name,
                source="registry",
                digest=self.digest,
                media_type=INDEX if index else MANIFEST,
                keys=list(keys),
                referrers="api",
                subjects=subjects,
            ),
            notes=["a note"],
        )

    def store(self, store: Store, repository: str, *tags: str, error: str | None = None, facts: bool = True) -> None:
        record = ImageRecord(
            digest=self.digest,
            media_type=self.media_type,
            source=self.facts.source,
            scanner="test",
            sboms=self.sboms,
            evidence=self.facts if facts else None,
            error=error,
        )
        with store.sessions.begin() as db:
            write_image(db, record, [(repository, t) for t in tags])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(str(tmp_path / "inv.sqlite"), migrate=True)
    yield s
    s.close()


def _policy(checks: dict[str, Any], images: list[str] | None = None) -> ImagePolicy:
    data = {
        "apiVersion": "provenant/v1",
        "kind": "ImagePolicy",
        "metadata": {"name": "unit"},
        "images": images or ["**"],
        "checks": checks,
    }
    return policy_from_data(data, "unit")


PINNING_USER = {
    "pinning": {"requireDigest": False, "forbiddenTags": ["latest"], "requireBaseDigest": False},
    "user": {},
}


def _run(store: Store, policy: ImagePolicy, tmp_path: Path, **kw: Any) -> FleetPolicyResult:
    path = tmp_path / "policy.yaml"
    path.write_text("unit policy\n")
    with store.sessions() as db:
        return evaluate_inventory(db, policy, path, today=TODAY, **kw)


def _rows(result: FleetPolicyResult) -> list[tuple[str, str, str, str, list[str]]]:
    return [(r.repository, r.tag, r.subject, r.verdict, r.failing) for r in result.rows]


def test_rows_verdicts_and_counts(store: Store, tmp_path: Path) -> None:
    Built("a").store(store, f"{REG}/team/a", "1", "latest")
    Built("b", root=True).store(store, f"{REG}/team/b", "1")
    result = _run(store, _policy(PINNING_USER), tmp_path)
    a, b = f"{REG}/team/a", f"{REG}/team/b"
    assert _rows(result) == [
        (a, "1", "image", "pass", []),
        (a, "1", AMD, "pass", []),
        (a, "1", ARM, "pass", []),
        (a, "latest", "image", "deny", ["pinning.forbidden-tags=deny"]),
        (a, "latest", AMD, "pass", []),
        (a, "latest", ARM, "pass", []),
        (b, "1", "image", "pass", []),
        (b, "1", AMD, "deny", ["user.non-root=deny"]),
        (b, "1", ARM, "deny", ["user.non-root=deny"]),
    ]
    assert [r.digest for r in result.rows[:3]] == [Built("a").digest, sha(f"a {AMD}"), sha(f"a {ARM}")]
    assert {r.image_digest for r in result.rows[6:]} == {Built("b").digest}
    assert all(r.reason is None for r in result.rows)
    assert [r.reference for r in result.reports] == [f"{a}:1", f"{a}:latest", f"{b}:1"]
    assert [r.verdict for r in result.reports] == ["pass", "deny", "deny"]
    assert result.reports[0].notes == ["a note"] and result.reports[0].evaluated_on == TODAY
    assert (result.images, result.not_evaluated, result.not_applicable) == (3, 0, 0)
    assert (result.verdict, result.exit_code) == ("deny", 1)
    assert result.policy_name == "unit" and result.evaluated_on == TODAY
    assert result.policy_digest == "sha256:" + hashlib.sha256(b"unit policy\n").hexdigest()
    assert result.line() == (
        "fleet policy unit: 3 tagged images, 2 denied, 0 warned, 1 passed, 0 not evaluated, "
        "0 not matching the policy's images"
    )


def test_warn_only_exits_zero(store: Store, tmp_path: Path) -> None:
    Built("b", root=True).store(store, f"{REG}/team/b", "1")
    result = _run(store, _policy({"user": {"action": "warn"}}), tmp_path)
    assert (result.verdict, result.exit_code) == ("warn", 0)
    assert [r.verdict for r in result.rows] == ["warn", "warn"]
    result = _run(store, _policy({"user": {"action": "off"}}), tmp_path)
    assert (result.verdict, result.exit_code) == ("pass", 0)


def test_filters_and_policy_images(store: Store, tmp_path: Path) -> None:
    Built("a").store(store, f"{REG}/team/a", "1", "latest")
    Built("b", root=True).store(store, f"{REG}/other/b", "1")
    only_a = _run(store, _policy(PINNING_USER), tmp_path, repositories=[f"{REG}/team/*"])
    assert {r.repository for r in only_a.rows} == {f"{REG}/team/a"} and only_a.images == 2
    tags = _run(store, _policy(PINNING_USER), tmp_path, tags=["l*", "nothing"])
    assert {(r.repository, r.tag) for r in tags.rows} == {(f"{REG}/team/a", "latest")} and tags.images == 1
    both = _run(store, _policy(PINNING_USER), tmp_path, repositories=[f"{REG}/other/*", f"{REG}/team/*"], tags=["1"])
    assert both.images == 2 and len(both.reports) == 2
    scoped = _run(store, _policy(PINNING_USER, images=[f"{REG}/team/**"]), tmp_path)
    assert (scoped.images, scoped.not_applicable, len(scoped.reports)) == (3, 1, 2)
    assert scoped.verdict == "deny" and {r.repository for r in scoped.rows} == {f"{REG}/team/a"}


def test_not_evaluated_is_never_a_pass(store: Store, tmp_path: Path) -> None:
    Built("old").store(store, f"{REG}/t/old", "1", facts=False)
    Built("broken").store(store, f"{REG}/t/broken", "1", error="blob sha256:x is corrupt")
    Built("keyed", keys=("SHA256:abc",)).store(store, f"{REG}/t/keyed", "1")
    future = Built("future")
    future.facts.format = FORMAT + 1
    future.store(store, f"{REG}/t/future", "1")
    Built("garbled").store(store, f"{REG}/t/garbled", "1")
    Built("truncated").store(store, f"{REG}/t/truncated", "1")
    with store.sessions.begin() as db:
        garbled = gzip.compress(b'{"format": 1}')  # gzip, but not the model
        db.execute(update(m.Image).where(m.Image.digest == Built("garbled").digest).values(evidence=garbled))
        truncated = gzip.compress(Built("truncated").facts.model_dump_json().encode())[:-20]
        db.execute(update(m.Image).where(m.Image.digest == Built("truncated").digest).values(evidence=truncated))
    result = _run(store, _policy(PINNING_USER), tmp_path)
    reasons = {r.repository.rsplit("/", 1)[1]: r.reason or "" for r in result.rows}
    assert reasons.pop("garbled") == (
        "its stored evidence is unreadable (ValidationError): rescan with provenant fleet scan --rescan"
    )
    assert reasons.pop("truncated").startswith("its stored evidence is unreadable (EOFError)")
    assert {r.verdict for r in result.rows} == {"not-evaluated"} and len(result.rows) == 6
    assert all(r.subject == "image" and r.digest == r.image_digest and r.failing == [] for r in result.rows)
    assert reasons["old"].startswith("no stored evidence") and "fleet scan --rescan" in reasons["old"]
    assert reasons["broken"] == (
        "its scan failed (blob sha256:x is corrupt): fix the image and run provenant fleet scan again"
    )
    assert "verified against other keys" in reasons["keyed"] and "--rescan --policy FILE" in reasons["keyed"]
    assert (
        reasons["future"] == f"stored evidence format {FORMAT + 1}, this provenant reads {FORMAT}: rescan with --rescan"
    )
    assert (result.images, result.not_evaluated, result.reports) == (6, 6, [])
    assert (result.verdict, result.exit_code) == ("pass", 0)
    assert "6 not evaluated" in result.line()


def test_stored_keys_match_the_policy_keys(store: Store, tmp_path: Path) -> None:
    """A policy with the scan's keys is evaluated: same fingerprints, no keyless on either side."""
    from provenant.attest.keys import load_public_key
    from tests.attestdata import crypto

    key = crypto.new_key()
    _, pub = crypto.write_keys(key, tmp_path, "k")
    Built("keyed", keys=(crypto.fingerprint(key),)).store(store, f"{REG}/t/keyed", "1")
    assert _run(store, _policy({"user": {}}), tmp_path).not_evaluated == 1
    result = _run(store, _policy({"user": {}}), tmp_path, keys=[load_public_key(pub)])
    assert result.not_evaluated == 0 and [r.verdict for r in result.reports] == ["pass"]


def test_trusted_bases_come_from_the_inventory(store: Store, tmp_path: Path) -> None:
    base = Built("base", layers=())
    base.store(store, f"{REG}/base", "12")
    single = Built("single", layers=(), platforms=(AMD,), index=False)
    single.store(store, f"{REG}/single", "1")
    on_base = Built("app", layers=())
    on_base.facts.platforms[0].diff_ids = [*base.facts.platforms[0].diff_ids, sha("more")]
    with store.sessions() as db:
        resolve = InventoryBases(db)
        ev = from_facts(
            on_base.facts, {s.manifest_digest: s for s in on_base.sboms}, target="t", reference=None, resolver=resolve
        )
        by_tag = resolve(ev, f"{REG}/base:12", ARM)
        assert by_tag == TrustedBase(f"{REG}/base:12", sha(f"base {ARM}"), (sha(f"base app {ARM}"),))
        assert resolve(ev, f"{REG}/base@{base.digest}", AMD) == TrustedBase(
            f"{REG}/base@{base.digest}", sha(f"base {AMD}"), (sha(f"base app {AMD}"),)
        )
        # a single-platform image is its own platform, whatever the platform asked for
        assert resolve(ev, f"{REG}/single:1", ARM).manifest_digest == single.digest
        assert resolve(ev, f"{REG}/base:13", AMD) == TrustedBase(
            f"{REG}/base:13", None, (), f"{REG}/base:13 is not in the inventory: add it to a fleet scan"
        )
        assert (
            resolve(ev, f"{REG}/base:12", "linux/s390x").error
            == f"{REG}/base:12 has no linux/s390x manifest in the inventory"
        )
        assert resolve(ev, f"{REG}/base", AMD).error is not None  # no tag: latest, which is not stored
        assert resolve(ev, "UPPER/Case:1", AMD).error is not None  # not a reference at all
        assert resolve(ev, f"{REG}/base:12", "not a platform!").error is not None
    Built("failed").store(store, f"{REG}/failed", "1", error="broken")
    with store.sessions() as db:
        assert InventoryBases(db)(ev, f"{REG}/failed:1", AMD).manifest_digest is None


def test_base_image_check_over_the_inventory(store: Store, tmp_path: Path) -> None:
    base = Built("base", layers=())
    base.store(store, f"{REG}/base", "12")
    app = Built("app", layers=())
    for p, b in zip(app.facts.platforms, base.facts.platforms, strict=True):
        p.diff_ids = [*b.diff_ids, sha("app " + p.platform)]
    app.store(store, f"{REG}/app", "1")
    result = _run(store, _policy({"baseImage": {"trusted": [f"{REG}/base:12"]}}), tmp_path, repositories=[f"{REG}/app"])
    (report,) = result.reports
    findings = [f for r in report.results for f in r.findings]
    assert [(f.status, f.evidence["source"], f.evidence["base"]) for f in findings] == [
        ("pass", "layers", f"{REG}/base:12")
    ] * 2


def test_verdict_rows_and_helpers(store: Store, tmp_path: Path) -> None:
    Built("b", root=True).store(store, f"{REG}/team/b", "1")
    result = _run(store, _policy({"user": {}}), tmp_path)
    path = tmp_path / "policy.yaml"
    rows = verdict_rows(result.reports[0], path)
    assert [(r.check_id, r.platform, r.result) for r in rows] == [
        ("user.non-root", AMD, "fail"),
        ("user.non-root", ARM, "fail"),
    ]
    assert {r.policy_digest for r in rows} == {policy_digest(path)}
    assert json.loads(rows[0].evidence) == result.reports[0].results[0].findings[0].evidence
    image_rows = verdict_rows(_run(store, _policy(PINNING_USER), tmp_path).reports[0], path)
    assert ("pinning.forbidden-tags", None) in {(r.check_id, r.platform) for r in image_rows}
    assert target_of("/srv/layout", "v1") == ("oci:/srv/layout:v1", False)
    assert target_of(f"{REG}/team/b", "v1") == (f"{REG}/team/b:v1", True)


def test_a_layout_image_is_evaluated_without_a_reference(store: Store, tmp_path: Path) -> None:
    Built("local", root=True).store(store, str(tmp_path / "layout"), "v1")
    result = _run(store, _policy(PINNING_USER, images=[f"{REG}/only/**"]), tmp_path)
    # no registry name to match the policy's images against: evaluated, as provenant policy does for a layout
    (report,) = result.reports
    assert report.reference == f"oci:{tmp_path / 'layout'}:v1" and result.not_applicable == 0
    assert report.verdict == "deny"


# -- the evidence model ------------------------------------------------------------------------------


def test_stored_evidence_round_trips() -> None:
    built = Built("rt")
    sboms = {s.manifest_digest: s for s in built.sboms}
    ev = from_facts(built.facts, sboms, target="t:1", reference=None, resolver=None)
    assert facts_of(ev) == built.facts
    assert ev.target == "t:1" and ev.reference is None and ev.dockerfile is None and ev.session is None
    assert [p.attachments for p in ev.platforms] == [[_attachment(p.digest)] for p in ev.platforms]
    assert ev.image_attachments == [] and ev.top_attachments() == []
    p = ev.platforms[0]
    assert (p.compressed_size, p.uncompressed_size, p.diff_ids) == (100, 200, built.facts.platforms[0].diff_ids)
    assert p.packages == built.sboms[0].packages and p.hygiene() == built.facts.platforms[0].hygiene
    assert p.annotations == {"k": AMD} and p.analysis is None
    with pytest.raises(ProvenantError, match="stored evidence has no layer analysis"):
        _ = ev.live
    assert ev.source == built.facts.source  # a layout: as stored
    named = from_facts(built.facts, sboms, target="t", reference=parse_reference(f"{REG}/x/y:1"), resolver=None)
    assert named.source == f"registry {REG}/x/y"  # the repository asked about, not the one first scanned
    single = Built("one", platforms=(AMD,), index=False)
    one = from_facts(
        single.facts, {s.manifest_digest: s for s in single.sboms}, target="o", reference=None, resolver=None
    )
    assert one.platforms[0].attachments == [_attachment(single.digest)] and one.image_attachments == []
    indexed = Built("idx")
    indexed.facts.attestations.subjects[0].attachments = [_attachment(indexed.digest)]
    on_index = from_facts(
        indexed.facts, {s.manifest_digest: s for s in indexed.sboms}, target="i", reference=None, resolver=None
    )
    assert on_index.image_attachments == [_attachment(indexed.digest)]
    assert on_index.top_attachments() == on_index.image_attachments


def test_platform_evidence_needs_analysis_or_stored_facts() -> None:
    bare = PlatformEvidence(AMD, sha("x"), None, {}, [])
    for read in (
        lambda: bare.diff_ids,
        lambda: bare.packages,
        lambda: bare.compressed_size,
        lambda: bare.uncompressed_size,
        bare.hygiene,
    ):
        with pytest.raises(ProvenantError, match=f"no analysis nor stored evidence for platform {AMD}"):
            read()


def test_trusted_bases_are_resolved_once_and_need_a_resolver() -> None:
    built = Built("tb")
    calls: list[tuple[str, str]] = []

    def resolver(got: Evidence, ref: str, platform: str) -> TrustedBase:
        assert got is ev
        calls.append((ref, platform))
        return TrustedBase(ref, "sha256:d", ("a",))

    ev = from_facts(
        built.facts, {s.manifest_digest: s for s in built.sboms}, target="t", reference=None, resolver=resolver
    )
    assert ev.trusted_base("r", AMD) == ev.trusted_base("r", AMD) == TrustedBase("r", "sha256:d", ("a",))
    ev.trusted_base("r", ARM)
    assert calls == [("r", AMD), ("r", ARM)]
    ev.resolver = None
    assert ev.trusted_base("q", AMD) == TrustedBase("q", None, (), "no way to resolve trusted base images here")


def test_attachments_of_a_live_platform() -> None:
    built = Built("live")
    ev = from_facts(built.facts, {s.manifest_digest: s for s in built.sboms}, target="t", reference=None, resolver=None)

    class _Image:
        class image:
            manifest_digest = built.facts.platforms[1].digest

    assert ev.attachments(_Image()) == [_attachment(built.facts.platforms[1].digest)]  # type: ignore[arg-type]
    _Image.image.manifest_digest = sha("unknown")
    assert ev.attachments(_Image()) == []  # type: ignore[arg-type]


# -- details the verdicts depend on ------------------------------------------------------------------------


def test_report_names_the_policy_and_rows_are_sorted(store: Store, tmp_path: Path) -> None:
    Built("z").store(store, f"{REG}/team/z", "latest", "1")
    Built("a").store(store, f"{REG}/team/a", "2")
    result = _run(store, _policy({"user": {}}), tmp_path)
    assert [(r.repository, r.tag) for r in result.rows[::2]] == [
        (f"{REG}/team/a", "2"),
        (f"{REG}/team/z", "1"),
        (f"{REG}/team/z", "latest"),
    ]
    assert result.policy == str(tmp_path / "policy.yaml") and {r.policy for r in result.reports} == {result.policy}
    unnamed = policy_from_data({"apiVersion": "provenant/v1", "kind": "ImagePolicy", "checks": {"user": {}}}, "u")
    assert _run(store, unnamed, tmp_path).policy_name == ""
    none_match = _run(store, _policy({"user": {}}, images=[f"{REG}/other/**"]), tmp_path)
    assert (none_match.not_applicable, none_match.rows, none_match.verdict) == (3, [], "pass")


def test_evaluate_stored_names_the_policy_and_defaults_to_today(tmp_path: Path) -> None:
    built = Built("s", root=True)
    path = tmp_path / "p.yaml"
    report = evaluate_stored(built.facts, built.sboms, f"{REG}/s:1", _policy({"user": {}}), path, registry=True)
    assert report.policy == str(path) and report.evaluated_on == dt.datetime.now(dt.UTC).date()
    assert report.source == f"registry {REG}/s" and report.verdict == "deny"
    local = evaluate_stored(built.facts, built.sboms, "oci:/l:1", _policy({"user": {}}), path, registry=False)
    assert local.source == built.facts.source and local.reference == "oci:/l:1"


def test_verdict_evidence_is_canonical_json(store: Store, tmp_path: Path) -> None:
    Built("b", root=True).store(store, f"{REG}/team/b", "1")
    report = _run(store, _policy({"user": {}}), tmp_path).reports[0]
    report.results[0].findings[0].evidence = {"b": 1, "a": TODAY}
    row = verdict_rows(report, tmp_path / "policy.yaml")[0]
    assert row.evidence == '{"a": "2026-06-01", "b": 1}'


def test_inventory_bases_edge_cases(store: Store, tmp_path: Path) -> None:
    solo = Built("solo", layers=(), platforms=(AMD,))  # an index with one platform is still an index
    solo.store(store, f"{REG}/solo", "1")
    docker = Built(
        "docker", layers=(), platforms=(AMD,), media_type="application/vnd.docker.distribution.manifest.list.v2+json"
    )
    docker.store(store, f"{REG}/docker", "1")
    latest = Built("latest", layers=())
    latest.store(store, f"{REG}/implicit", "latest")
    Built("failed").store(store, f"{REG}/failed", "1", error="broken")
    ev = from_facts(solo.facts, {s.manifest_digest: s for s in solo.sboms}, target="t", reference=None, resolver=None)
    with store.sessions() as db:
        resolve = InventoryBases(db)
        for name in ("solo", "docker"):
            ref = f"{REG}/{name}:1"
            assert resolve(ev, ref, ARM) == TrustedBase(ref, None, (), f"{ref} has no {ARM} manifest in the inventory")
            assert resolve(ev, ref, AMD).manifest_digest == sha(f"{name} {AMD}")
        assert resolve(ev, f"{REG}/implicit", ARM).manifest_digest == sha(f"latest {ARM}")
        for ref in (f"{REG}/failed:1", f"{REG}/failed@{Built('failed').digest}"):
            assert resolve(ev, ref, AMD) == TrustedBase(
                ref, None, (), f"{ref} is not in the inventory: add it to a fleet scan"
            )
        bad = resolve(ev, "UPPER/Case:1", AMD)
        assert (bad.reference, bad.manifest_digest, bad.diff_ids) == ("UPPER/Case:1", None, ())
        assert bad.error and "UPPER/Case:1" in bad.error


def test_trust_mismatch_compares_keys_and_keyless(store: Store, tmp_path: Path) -> None:
    from types import SimpleNamespace

    from provenant.fleet.policy import _trust_mismatch

    built = Built("k")
    keyless = SimpleNamespace(match=SimpleNamespace(describe=lambda: "id@issuer"))
    assert _trust_mismatch(built.facts, [], None) is None
    assert _trust_mismatch(built.facts, [], keyless) == (  # type: ignore[arg-type]
        "its signatures were verified against other keys or signers than this policy's: rescan with "
        "provenant fleet scan --rescan --policy FILE (and the same --key)"
    )
    built.facts.attestations.keyless = "id@issuer"
    assert _trust_mismatch(built.facts, [], keyless) is None  # type: ignore[arg-type]
    assert _trust_mismatch(built.facts, [], None) is not None


def test_policy_keys_count_as_the_scans_keys(store: Store, tmp_path: Path) -> None:
    """The policy's own provenance.keys (relative to the policy file) join --key, as fleet scan --policy used them."""
    from tests.attestdata import crypto

    key = crypto.new_key()
    crypto.write_keys(key, tmp_path, "k")
    Built("keyed", keys=(crypto.fingerprint(key),)).store(store, f"{REG}/t/keyed", "1")
    result = _run(store, _policy({"provenance": {"keys": ["k.pub"]}}), tmp_path)
    assert result.not_evaluated == 0 and len(result.reports) == 1


def test_platforms_without_attachments(tmp_path: Path) -> None:
    built = Built("bare")
    built.facts.attestations.subjects = []
    ev = from_facts(built.facts, {s.manifest_digest: s for s in built.sboms}, target="t", reference=None, resolver=None)
    assert [p.attachments for p in ev.platforms] == [[], []] and ev.image_attachments == []
