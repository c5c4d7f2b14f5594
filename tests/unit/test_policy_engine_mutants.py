"""The policy engine on evidence gathered from the in-memory registry: actions, missing data, waivers and
unused exceptions, report fields, and the policy's keys. (tests/integration/test_policy_registry.py runs the
same engine on the real fixture images; these run in-process in a fraction of a second.)"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import hashlib
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenant.attest.keys import PublicKey, load_public_key
from provenant.cache import LayerCache
from provenant.errors import ProvenantError, UsageError
from provenant.evidence import Evidence, gather
from provenant.policy.dockerfile import parse_dockerfile
from provenant.policy.engine import check_image, evaluate, policy_keys, rule_for
from provenant.policy.model import PolicyReport
from provenant.policy.schema import ImagePolicy, PolicyError, policy_from_data
from provenant.session import Session
from provenant.sources.registry import RegistryOptions
from tests.attestdata import crypto
from tests.fakeregistry import FakeRegistry

REPO = "team/app"
TODAY = dt.date(2026, 6, 1)
AMD, ARM = "linux/amd64", "linux/arm64/v8"
FAR = "2030-01-01"


def _layer(files: dict[str, bytes]) -> tuple[bytes, str]:
    """A gzip layer and its diff_id."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0), "sha256:" + hashlib.sha256(raw).hexdigest()


def _session(fake: FakeRegistry) -> Session:
    return Session(
        RegistryOptions(
            transport=fake.transport(),
            sleep=lambda _s: None,
            docker_config=Path("/nonexistent/provenant-test/config.json"),
        )
    )


@dataclasses.dataclass
class World:
    fake: FakeRegistry
    session: Session
    ev: Evidence
    index: str

    @property
    def ref(self) -> str:
        return f"{self.fake.host}/{REPO}:12"


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """A two-platform index tagged 12: amd64 runs as root, arm64 as 1000; both keep apt lists (a cache)."""
    fake = FakeRegistry(referrers=True)
    layer, diff_id = _layer({"etc/os-release": b"ID=debian\nVERSION_ID=12\n", "var/lib/apt/lists/x": b"abc"})
    images = [
        fake.put_image(
            REPO,
            layers=[layer],
            architecture=arch,
            variant=variant,
            config_extra={"config": {"User": user}, "rootfs": {"type": "layers", "diff_ids": [diff_id]}},
        )
        for arch, variant, user in (("amd64", None, "root"), ("arm64", "v8", "1000"))
    ]
    index = fake.put_index(REPO, images, tag="12")
    session = _session(fake)
    ev = gather(session, f"{fake.host}/{REPO}:12")
    yield World(fake, session, ev, index)
    session.close()


def policy(checks: dict[str, Any], **top: Any) -> ImagePolicy:
    return policy_from_data({"apiVersion": "provenant/v1", "kind": "ImagePolicy", "checks": checks, **top}, "test")


def run(ev: Evidence, checks: dict[str, Any], today: dt.date = TODAY, **top: Any) -> PolicyReport:
    return evaluate(ev, policy(checks, **top), today=today)


def waiver(check: str, images: str = "**", expires: str = FAR, reason: str = "accepted", **kw: Any) -> dict[str, Any]:
    return {"check": check, "images": images, "reason": reason, "expires": expires, **kw}


# -- actions and missing data ------------------------------------------------------------------------------


def test_rule_beats_family_beats_defaults_for_action_and_missing_data() -> None:
    from provenant.policy.checks import BY_ID

    check = BY_ID["sbom.attested"]
    assert rule_for(policy({"sbom": {}}), check) == ("deny", "deny")
    assert rule_for(policy({"sbom": {}}, defaults={"action": "warn", "onMissingData": "off"}), check) == (
        "warn",
        "off",
    )
    family = policy({"sbom": {"action": "off", "onMissingData": "warn"}}, defaults={"action": "warn"})
    assert rule_for(family, check) == ("off", "warn")
    ruled = policy(
        {"sbom": {"action": "off", "onMissingData": "warn"}},
        rules={"sbom.attested": {"action": "warn", "onMissingData": "deny"}},
    )
    assert rule_for(ruled, check) == ("warn", "deny")
    # A rule that sets only the action leaves missing data to the family section.
    half = policy({"sbom": {"onMissingData": "off"}}, rules={"sbom.attested": {"action": "warn"}})
    assert rule_for(half, check) == ("warn", "off")
    # A check whose family section is absent takes the defaults.
    assert rule_for(policy({"sbom": {}}, defaults={"action": "warn"}), BY_ID["user.non-root"]) == ("warn", "deny")
    # A rule for another check changes nothing.
    other = policy({"sbom": {}, "user": {}}, rules={"user.non-root": {"action": "off", "onMissingData": "off"}})
    assert rule_for(other, check) == ("deny", "deny")


def test_a_failure_denies_warns_or_is_off_as_the_action_says(world: World) -> None:
    deny = run(world.ev, {"user": {}})
    f = deny.finding("user.non-root", AMD)
    assert (f.status, f.effect) == ("fail", "deny")
    assert f.message == "runs as root (User is 'root')"
    assert f.fix is not None and f.digest == world.ev.platforms[0].digest
    assert (deny.finding("user.non-root", ARM).status, deny.finding("user.non-root", ARM).effect) == ("pass", "none")
    assert (deny.verdict, deny.exit_code) == ("deny", 1)
    assert [(r.subject, r.verdict, r.exit_code) for r in deny.results] == [(AMD, "deny", 1), (ARM, "pass", 0)]

    warn = run(world.ev, {"user": {"action": "warn"}})
    f = warn.finding("user.non-root", AMD)
    assert (f.status, f.effect) == ("warn", "warn")
    assert (warn.verdict, warn.exit_code) == ("warn", 0)
    strict = evaluate(world.ev, policy({"user": {"action": "warn"}}), today=TODAY, fail_on_warn=True)
    assert (strict.verdict, strict.exit_code, strict.fail_on_warn) == ("warn", 1, True)
    assert [(r.subject, r.exit_code) for r in strict.results] == [(AMD, 1), (ARM, 0)]

    off = run(world.ev, {"user": {"action": "off"}})
    assert [(f.subject, f.status, f.effect, f.message, f.digest) for f in off.findings()] == [
        (AMD, "off", "none", "the check is off in this policy", world.ev.platforms[0].digest),
        (ARM, "off", "none", "the check is off in this policy", world.ev.platforms[1].digest),
    ]
    assert (off.verdict, off.exit_code) == ("pass", 0)
    # Nothing about the image as a whole: no "image" result at all.
    assert [r.subject for r in off.results] == [AMD, ARM]


def test_an_image_check_that_is_off_has_one_finding_about_the_image(world: World) -> None:
    rep = run(world.ev, {"platforms": {"required": [AMD], "action": "off"}})
    assert [(f.check, f.subject, f.status, f.digest) for f in rep.findings()] == [
        ("platforms.required", "image", "off", world.index)
    ]
    assert [(r.subject, r.digest) for r in rep.results] == [
        ("image", world.index),
        (AMD, world.ev.platforms[0].digest),
        (ARM, world.ev.platforms[1].digest),
    ]
    assert [r.findings for r in rep.results[1:]] == [[], []]


@pytest.mark.parametrize(("missing", "effect", "verdict"), [("deny", "deny", "deny"), ("warn", "warn", "warn"),
                                                             ("off", "none", "pass")])  # fmt: skip
def test_missing_data_takes_the_on_missing_data_effect(world: World, missing: str, effect: str, verdict: str) -> None:
    rep = run(world.ev, {"pinning": {"requireDigest": False, "forbiddenTags": [], "onMissingData": missing}})
    f = rep.finding("pinning.base-digest")
    assert (f.status, f.effect) == ("no-data", effect)
    assert f.message.startswith("no base image evidence")
    assert f.fix == "pass --dockerfile, or build with provenance (buildx --provenance=mode=max)"
    assert rep.verdict == verdict


def test_findings_carry_the_outcome_evidence_location_and_key(world: World) -> None:
    pinned = f"{world.fake.host}/{REPO}@{world.index}"
    dockerfile = parse_dockerfile(f"FROM {pinned} AS base\nRUN true\n", "build/Dockerfile")
    ev = dataclasses.replace(world.ev, dockerfile=dockerfile)
    rep = run(ev, {"pinning": {"requireDigest": False, "forbiddenTags": []}})
    f = rep.finding("pinning.base-digest")
    assert (f.status, f.effect, f.digest) == ("pass", "none", world.index)
    assert f.location is not None and (f.location.path, f.location.line) == ("build/Dockerfile", 1)
    assert f.key == "dockerfile:1"
    assert f.evidence["source"] == "dockerfile" and f.evidence["line"] == 1

    caches = run(world.ev, {"caches": {}})
    f = caches.finding("caches.package-manager", ARM)
    assert (f.status, f.effect) == ("fail", "deny")
    assert f.evidence["caches"] == ["apt-lists: /var/lib/apt/lists (1 files, 3 bytes)"]
    assert f.fix is not None and f.fix.startswith("Clean up in the same RUN")


def test_report_fields(world: World) -> None:
    p = policy({"user": {"action": "warn"}, "sbom": {}}, metadata={"name": "team policy"})
    rep = evaluate(world.ev, p, today=TODAY, policy_path="policies/team.yaml")
    assert (rep.reference, rep.source, rep.digest) == (world.ref, world.ev.source, world.index)
    assert (rep.policy, rep.policy_name, rep.evaluated_on, rep.fail_on_warn) == (
        "policies/team.yaml",
        "team policy",
        TODAY,
        False,
    )
    assert rep.notes == world.ev.notes
    noted = evaluate(dataclasses.replace(world.ev, notes=["referrers API missing: tag scheme used"]), p, today=TODAY)
    assert noted.notes == ["referrers API missing: tag scheme used"]
    assert [(c.id, c.action, c.on_missing_data) for c in rep.checks] == [
        ("user.non-root", "warn", "deny"),
        ("sbom.attested", "deny", "deny"),
    ]
    info = rep.checks[0]
    from provenant.policy.checks import BY_ID

    check = BY_ID["user.non-root"]
    assert (info.title, info.description, info.help, info.evidence) == (
        check.title,
        check.description,
        check.help,
        check.evidence,
    )


def test_a_policy_for_other_images_is_a_usage_error(world: World) -> None:
    p = policy({"user": {}}, images=["ghcr.io/acme/**", "ghcr.io/team/*"])
    with pytest.raises(UsageError) as exc:
        evaluate(world.ev, p, today=TODAY, policy_path="acme.yaml")
    assert exc.value.message == (
        f"the policy acme.yaml applies to images matching ghcr.io/acme/**, ghcr.io/team/*, not {world.ev.reference}"
    )
    assert exc.value.hint == "check the policy's images: list, or pick the policy meant for this image"
    with pytest.raises(UsageError) as exc:
        evaluate(world.ev, p, today=TODAY)
    assert exc.value.message.startswith("the policy applies to images matching ghcr.io/acme/**")
    # One matching glob is enough; an image without a name (a local layout) is never refused.
    mixed = policy({"user": {}}, images=["ghcr.io/acme/**", f"{world.fake.host}/team/*"])
    assert evaluate(world.ev, mixed, today=TODAY).verdict == "deny"
    assert evaluate(dataclasses.replace(world.ev, reference=None), p, today=TODAY).verdict == "deny"


# -- waivers -----------------------------------------------------------------------------------------------


def test_waiver_until_its_expiry_day_inclusive(world: World) -> None:
    w = waiver("user.non-root", images=f"{world.fake.host}/team/*", expires="2026-06-30", reason="INC-42")
    on_the_day = run(world.ev, {"user": {}}, today=dt.date(2026, 6, 30), waivers=[w])
    f = on_the_day.finding("user.non-root", AMD)
    assert (f.status, f.effect) == ("waived", "none")
    assert f.waiver is not None
    assert (f.waiver.reason, f.waiver.expires, f.waiver.expired, f.waiver.waived_effect) == (
        "INC-42",
        dt.date(2026, 6, 30),
        False,
        "deny",
    )
    assert f.message == "runs as root (User is 'root')"
    assert (on_the_day.verdict, on_the_day.exit_code, on_the_day.warnings, on_the_day.unused_waivers) == (
        "pass",
        0,
        [],
        [],
    )
    # A passing finding is never waived.
    assert on_the_day.finding("user.non-root", ARM).waiver is None

    after = run(world.ev, {"user": {"action": "warn"}}, today=dt.date(2026, 7, 1), waivers=[w])
    f = after.finding("user.non-root", AMD)
    assert (f.status, f.effect) == ("warn", "warn")
    assert f.waiver is not None
    assert (f.waiver.reason, f.waiver.expired, f.waiver.waived_effect) == ("INC-42", True, "warn")
    note = "the waiver expired on 2026-06-30 (INC-42); the finding is active again"
    assert f.message == f"runs as root (User is 'root') [{note}]"
    assert after.warnings == [f"user.non-root on {AMD}: {note}"]
    assert after.unused_waivers == []


def test_the_latest_expired_waiver_is_the_one_reported(world: World) -> None:
    older = waiver("user.non-root", expires="2026-01-01", reason="first")
    newer = waiver("user.non-root", expires="2026-03-01", reason="second")
    for order in ([older, newer], [newer, older]):
        rep = run(world.ev, {"user": {}}, waivers=order)
        f = rep.finding("user.non-root", AMD)
        assert f.waiver is not None and (f.waiver.reason, f.waiver.expires) == ("second", dt.date(2026, 3, 1))
        assert rep.warnings == [
            f"user.non-root on {AMD}: the waiver expired on 2026-03-01 (second); the finding is active again"
        ]


def test_a_renewed_waiver_wins_over_the_expired_one(world: World) -> None:
    old = waiver("user.non-root", expires="2026-01-01", reason="old")
    renewed = waiver("user.non-root", expires="2026-12-31", reason="renewed")
    rep = run(world.ev, {"user": {}}, waivers=[old, renewed])
    f = rep.finding("user.non-root", AMD)
    assert (f.status, f.waiver.reason if f.waiver else None, rep.warnings) == ("waived", "renewed", [])
    assert "expired" not in f.message and rep.unused_waivers == []


def test_a_waiver_applies_to_its_check_and_image_only(world: World) -> None:
    checks: dict[str, Any] = {"user": {}}
    for w in (
        waiver("sbom.attested"),
        waiver("user.non-root", images="ghcr.io/**"),
        waiver("user.non-root", images=f"{world.fake.host}/team/other"),
    ):
        f = run(world.ev, checks, waivers=[w]).finding("user.non-root", AMD)
        assert (f.status, f.waiver) == ("fail", None)


def test_a_local_image_is_waived_only_by_a_waiver_for_every_image(world: World) -> None:
    local = dataclasses.replace(world.ev, reference=None)
    glob = f"{world.fake.host}/team/app"  # it names this image, but a local copy has no name
    named = run(local, {"user": {}}, waivers=[waiver("user.non-root", images=glob)])
    assert named.finding("user.non-root", AMD).status == "fail"
    assert [u.detail for u in named.unused_waivers] == [f"this image does not match {glob}"]
    every = run(local, {"user": {}}, waivers=[waiver("user.non-root", images="**")])
    assert every.finding("user.non-root", AMD).status == "waived"


def test_a_waiver_for_some_platforms(world: World) -> None:
    w = waiver("sbom.attested", platforms=["linux/arm64/v8"])
    rep = run(world.ev, {"sbom": {}}, waivers=[w])
    assert rep.finding("sbom.attested", ARM).status == "waived"
    assert rep.finding("sbom.attested", AMD).status == "fail"
    # Platforms are compared normalised: linux/arm64 is linux/arm64/v8.
    short = run(world.ev, {"sbom": {}}, waivers=[waiver("sbom.attested", platforms=["linux/arm64"])])
    assert short.finding("sbom.attested", ARM).status == "waived"
    # A waiver limited to platforms never waives a finding about the image as a whole.
    image = run(
        world.ev,
        {"platforms": {"required": ["linux/s390x"]}},
        waivers=[waiver("platforms.required", platforms=[AMD, ARM])],
    )
    assert image.finding("platforms.required").status == "fail"


# -- unused waivers and exception entries ------------------------------------------------------------------


def test_unused_waivers_say_why_they_matched_nothing(world: World) -> None:
    applied = waiver("sbom.attested", reason="pending")
    stale = [
        waiver("sbom.attested", images="ghcr.io/other/**", reason="other team"),
        waiver("user.non-root", reason="no user section"),
        waiver("sbom.attested", platforms=["linux/s390x"], reason="mainframe"),
        waiver("platforms.required", platforms=[ARM], reason="arm later"),
        waiver("pinning.forbidden-tags", expires="2026-05-01", reason="old"),
        waiver("caches.package-manager", reason="caches are off"),
        waiver("sbom.attested", platforms=["linux/s390x", AMD], reason="partly"),
    ]
    checks = {
        "sbom": {},
        "platforms": {"required": [AMD, "linux/s390x"]},
        "pinning": {"requireDigest": False, "requireBaseDigest": False},  # forbidden-tags passes: tag 12
        "caches": {"action": "off"},
    }
    lean = run(world.ev, checks, waivers=[applied])
    rep = run(world.ev, checks, waivers=[applied, *stale])
    assert lean.unused_waivers == []
    assert [(u.location, u.check, u.detail) for u in rep.unused_waivers] == [
        ("waivers[1]", "sbom.attested", "this image does not match ghcr.io/other/**"),
        ("waivers[2]", "user.non-root", "user.non-root does not run with this policy"),
        ("waivers[3]", "sbom.attested", "none of its platforms was evaluated"),
        ("waivers[4]", "platforms.required",
         "platforms.required is about the image as a whole, which a waiver with platforms never waives"),
        ("waivers[5]", "pinning.forbidden-tags", "no pinning.forbidden-tags finding denied or warned"),
        ("waivers[6]", "caches.package-manager", "caches.package-manager is off in this policy"),
    ]  # fmt: skip
    assert rep.unused_waivers[0].entry == f"sbom.attested for ghcr.io/other/**, until {FAR}: other team"
    assert rep.unused_waivers[2].entry == f"sbom.attested for ** on linux/s390x, until {FAR}: mainframe"
    assert rep.unused_waivers[3].entry == f"platforms.required for ** on {ARM}, until {FAR}: arm later"
    assert rep.unused_waivers[4].entry == "pinning.forbidden-tags for **, until 2026-05-01 (expired): old"
    # Reporting them changes nothing else: same findings, warnings and verdict as without them.
    assert (rep.verdict, rep.exit_code, rep.warnings) == (lean.verdict, lean.exit_code, lean.warnings)
    assert [f.model_dump() for f in rep.findings()] == [f.model_dump() for f in lean.findings()]


def test_a_platform_waiver_for_a_platform_that_passed(world: World) -> None:
    w = waiver("user.non-root", platforms=["linux/s390x", ARM], reason="arm runs as 1000")
    rep = run(world.ev, {"user": {}}, waivers=[w])
    assert [(u.entry, u.detail) for u in rep.unused_waivers] == [
        (
            f"user.non-root for ** on linux/s390x, {ARM}, until {FAR}: arm runs as 1000",
            "no user.non-root finding denied or warned",
        )
    ]


def test_a_waiver_expiring_today_is_not_marked_expired(world: World) -> None:
    w = waiver("pinning.forbidden-tags", expires=TODAY.isoformat(), reason="today")
    rep = run(world.ev, {"pinning": {"requireDigest": False, "requireBaseDigest": False}}, waivers=[w])
    assert [u.entry for u in rep.unused_waivers] == [f"pinning.forbidden-tags for **, until {TODAY}: today"]


def test_an_expired_waiver_that_matched_is_reported_once(world: World) -> None:
    w = waiver("sbom.attested", images="**/team/app", expires="2026-05-31", reason="INC-7")
    rep = run(world.ev, {"sbom": {}}, waivers=[w])
    assert len(rep.warnings) == 2 and rep.unused_waivers == []


def test_unused_allow_and_ignore_entries_are_named_by_their_policy_field(world: World) -> None:
    checks = {
        "caches": {"allow": ["pip-cache", "apt-lists", "npm-cache"]},
        "secrets": {"ignoreRules": ["aws-access-key"], "ignorePaths": ["/etc/*"]},
        "buildTooling": {"allow": ["gcc"]},
    }
    rep = run(world.ev, checks)
    assert [(u.location, u.check, u.entry, u.detail) for u in rep.unused_waivers] == [
        ("checks.secrets.ignoreRules[0]", "secrets.none", "aws-access-key", "secrets.none found nothing it matches"),
        ("checks.secrets.ignorePaths[0]", "secrets.none", "/etc/*", "secrets.none found nothing it matches"),
        ("checks.buildTooling.allow[0]", "tooling.build-tools", "gcc", "tooling.build-tools found nothing it matches"),
        ("checks.caches.allow[0]", "caches.package-manager", "pip-cache",
         "caches.package-manager found nothing it matches"),
        ("checks.caches.allow[2]", "caches.package-manager", "npm-cache",
         "caches.package-manager found nothing it matches"),
    ]  # fmt: skip
    # apt-lists matched the cache on both platforms: used, so not listed, and the check passes.
    assert rep.finding("caches.package-manager", AMD).status == "pass"
    off = run(world.ev, {"caches": {"allow": ["pip-cache"], "action": "off"}})
    assert [(u.location, u.detail) for u in off.unused_waivers] == [
        ("checks.caches.allow[0]", "caches.package-manager is off in this policy")
    ]
    # A family section that is absent, or whose check does not run, lists nothing.
    assert run(world.ev, {"user": {}}).unused_waivers == []


# -- keys and check_image ----------------------------------------------------------------------------------


def test_policy_keys_are_read_relative_to_the_policy_file(tmp_path: Path) -> None:
    key_a, key_b = crypto.new_key(), crypto.new_key()
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "a.pub").write_bytes(crypto.public_pem(key_a))
    absolute = tmp_path / "b.pub"
    absolute.write_bytes(crypto.public_pem(key_b))
    p = policy({"provenance": {"keys": ["keys/a.pub", str(absolute)]}})
    keys = policy_keys(p, tmp_path / "policy.yaml")
    assert [k.fingerprint for k in keys] == [crypto.fingerprint(key_a), crypto.fingerprint(key_b)]
    assert policy_keys(policy({"user": {}}), tmp_path / "policy.yaml") == []
    assert policy_keys(policy({"provenance": {}}), None) == []


def test_an_unreadable_policy_key_names_the_policy_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = policy({"provenance": {"keys": ["missing.pub"]}})
    with pytest.raises(PolicyError) as exc:
        policy_keys(p, tmp_path / "policy.yaml")
    assert exc.value.message.startswith(
        f"{tmp_path / 'policy.yaml'}: checks.provenance.keys[0]: cannot read public key"
    )
    assert str(tmp_path / "missing.pub") in exc.value.message
    (tmp_path / "bad.pub").write_text("not a key")
    second = policy({"provenance": {"keys": [str(tmp_path / "bad.pub"), "x"]}})
    with pytest.raises(PolicyError, match=r"checks\.provenance\.keys\[0\]") as bad:
        policy_keys(second, tmp_path / "policy.yaml")
    with pytest.raises(ProvenantError) as direct:
        load_public_key(tmp_path / "bad.pub")
    assert direct.value.hint is not None and bad.value.hint == direct.value.hint
    # Without a policy file the path is relative to the working directory and the message has no file name.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "here.pub").write_bytes(crypto.public_pem(crypto.new_key()))
    assert len(policy_keys(policy({"provenance": {"keys": ["here.pub"]}}), None)) == 1
    with pytest.raises(PolicyError) as exc:
        policy_keys(p, None)
    assert exc.value.message.startswith("checks.provenance.keys[0]: cannot read public key missing.pub")


def test_check_image_gathers_and_evaluates(world: World, tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    p = policy({"user": {"action": "warn"}})
    rep = check_image(world.session, world.ref, p, policy_path=path, today=TODAY, fail_on_warn=True, workers=1)
    assert (rep.reference, rep.digest, rep.policy, rep.evaluated_on) == (world.ref, world.index, str(path), TODAY)
    assert (rep.verdict, rep.exit_code) == ("warn", 1)
    # Without a date it is today's (UTC); without a policy file the report names none.
    before = dt.datetime.now(dt.UTC).date()
    plain = check_image(world.session, world.ref, p, platforms=None)
    assert plain.evaluated_on in {before, dt.datetime.now(dt.UTC).date()}
    assert (plain.policy, plain.exit_code) == ("", 0)


def test_check_image_passes_platforms_dockerfile_and_cache_on(world: World, tmp_path: Path) -> None:
    from provenant.oci.platform import PlatformSpec

    dockerfile = parse_dockerfile(f"FROM {world.fake.host}/{REPO}@{world.index}\n", "Dockerfile")
    p = policy({"user": {}, "pinning": {"requireDigest": False, "forbiddenTags": []}})
    cache = LayerCache(tmp_path / "cache")
    rep = check_image(
        world.session,
        world.ref,
        p,
        platforms=[PlatformSpec.parse("linux/arm64")],
        dockerfile=dockerfile,
        cache=cache,
        today=TODAY,
    )
    assert [r.subject for r in rep.results] == ["image", ARM]
    assert rep.finding("pinning.base-digest").location is not None
    assert any((tmp_path / "cache").rglob("*"))


def test_check_image_reads_the_policy_keys(world: World, tmp_path: Path) -> None:
    p = policy({"provenance": {"keys": ["missing.pub"]}})
    with pytest.raises(PolicyError, match=r"checks\.provenance\.keys\[0\]"):
        check_image(world.session, world.ref, p, policy_path=tmp_path / "policy.yaml", keys=[_key()])


def _key() -> PublicKey:
    return PublicKey.from_pem(crypto.public_pem(crypto.new_key()), "k.pub")
