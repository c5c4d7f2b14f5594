"""The hygiene families of ``provenant policy`` (user, secrets, build tooling, caches, wasted bytes) on the
hygiene fixture images in the real registry, against the expected reports the fixtures compute themselves
(a plain tarfile walk and the fixture definitions, never provenant)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fixtures import FixtureSet, Registry
from fixtures.hygieneimages import SECRET_VALUES, TOOLING, expected_report
from provenant.cache import LayerCache
from provenant.cli.main import cli
from provenant.evidence import Evidence, gather
from provenant.policy.engine import evaluate
from provenant.policy.model import PolicyReport
from provenant.policy.schema import policy_from_data
from provenant.session import Session

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
AMD = "linux/amd64"
TODAY = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def evidence(
    registry: Registry, fixture_set: FixtureSet, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Evidence]]:
    cache = LayerCache(tmp_path_factory.mktemp("hygiene-cache"))
    with Session() as s:
        yield {
            name: gather(s, f"{registry.host}/{name}", cache=cache)
            for name in ("hygiene-bad:1", "hygiene-good:1", "debian-multiarch:12")
        }


def expected(fixture_set: FixtureSet, name: str) -> dict[str, Any]:
    return expected_report(fixture_set.image(name).layout)


def run(e: Evidence, checks: dict[str, Any]) -> PolicyReport:
    pol = policy_from_data({"apiVersion": "provenant/v1", "kind": "ImagePolicy", "checks": checks}, "test")
    return evaluate(e, pol, today=TODAY)


def test_user_non_root(evidence: dict[str, Evidence], fixture_set: FixtureSet) -> None:
    bad = run(evidence["hygiene-bad:1"], {"user": {}}).finding("user.non-root", AMD)
    assert expected(fixture_set, "hygiene-bad:1")["user"] is None
    assert (bad.status, bad.message, bad.evidence) == ("fail", "runs as root (User is not set)", {"user": None})
    good = run(evidence["hygiene-good:1"], {"user": {}}).finding("user.non-root", AMD)
    user = expected(fixture_set, "hygiene-good:1")["user"]
    assert (good.status, good.evidence) == ("pass", {"user": user})
    for plat in ("linux/amd64", "linux/arm64/v8"):  # USER 65534:65534 (fixtures.recipes.app_config)
        f = run(evidence["debian-multiarch:12"], {"user": {}}).finding("user.non-root", plat)
        assert (f.status, f.evidence) == ("pass", {"user": "65534:65534"})


def _secret_line(s: dict[str, Any]) -> str:
    if s["where"] == "file":
        deleted = ", deleted by a later layer but still shipped" if s["deleted"] else ""
        return f"{s['rule']}: file {s['path']} (layer {s['layer_index']}{deleted}): {s['detail']}"
    if s["where"] == "history":
        where = f"layer {s['layer_index']}" if s["layer_index"] is not None else "a step without a layer"
        return f"{s['rule']}: history of {where}: {s['detail']}"
    return f"{s['rule']}: env: {s['detail']}"


def test_secrets(evidence: dict[str, Evidence], fixture_set: FixtureSet) -> None:
    exp = expected(fixture_set, "hygiene-bad:1")["secrets"]
    bad = run(evidence["hygiene-bad:1"], {"secrets": {}}).finding("secrets.none", AMD)
    assert bad.status == "fail"
    assert bad.evidence == {"secrets": [_secret_line(s) for s in exp]}
    deleted = [s for s in exp if s["deleted"]]
    assert deleted and any(s["path"] == "/app/.env" for s in deleted)  # the whiteout does not unship it
    assert f"({len(deleted)} in files deleted later, still shipped)" in bad.message
    ignored = run(evidence["hygiene-bad:1"], {"secrets": {"ignorePaths": ["/app/*"], "ignoreRules": ["secret-env"]}})
    left = ignored.finding("secrets.none", AMD).evidence["secrets"]
    assert left == [_secret_line(s) for s in exp if s["rule"] != "secret-env" and s["path"] != "/app/.env"]
    # a pattern written without the leading slash means the same image path
    relative = run(evidence["hygiene-bad:1"], {"secrets": {"ignorePaths": ["app/*"], "ignoreRules": ["secret-env"]}})
    assert relative.finding("secrets.none", AMD).evidence["secrets"] == left
    good = run(evidence["hygiene-good:1"], {"secrets": {}}).finding("secrets.none", AMD)
    assert good.status == "pass"
    assert expected(fixture_set, "hygiene-good:1")["secrets"] == []
    # debian-multiarch sets API_TOKEN=s3cr3t-value in its env (fixtures.recipes.app_config)
    multi = run(evidence["debian-multiarch:12"], {"secrets": {}}).finding("secrets.none", "linux/arm64/v8")
    assert multi.status == "fail"
    assert any(line.startswith("secret-env: env: env API_TOKEN=") for line in multi.evidence["secrets"])


def test_no_secret_value_in_any_report_format(registry: Registry, tmp_path: Path) -> None:
    outs = {fmt: tmp_path / f"r.{fmt}" for fmt in ("json", "sarif", "junit", "github")}
    res = CliRunner().invoke(
        cli,
        ["policy", "check", f"{registry.host}/hygiene-bad:1", "--policy", str(ROOT / "policies" / "strict.yaml"),
         "--cache-dir", str(tmp_path / "cache"), *[a for f, p in outs.items() for a in ("-o", f"{f}={p}")]],
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    texts = [res.stdout, *(p.read_text() for p in outs.values())]
    for value in SECRET_VALUES:
        assert all(value not in t for t in texts), value
    assert "secrets.none" in res.stdout


def test_build_tooling(evidence: dict[str, Evidence], fixture_set: FixtureSet) -> None:
    exp = expected(fixture_set, "hygiene-bad:1")["build_tooling"]
    bad = run(evidence["hygiene-bad:1"], {"buildTooling": {}}).finding("tooling.build-tools", AMD)
    assert bad.status == "fail"
    assert [t["package"] for t in exp] == sorted(TOOLING)
    assert bad.evidence == {"packages": [f"{t['package']}@{t['version']} ({t['type']}): {t['reason']}" for t in exp]}
    allowed = run(evidence["hygiene-bad:1"], {"buildTooling": {"allow": sorted(TOOLING)}})
    assert allowed.finding("tooling.build-tools", AMD).status == "pass"
    good = run(evidence["hygiene-good:1"], {"buildTooling": {}}).finding("tooling.build-tools", AMD)
    assert good.status == "pass"


def test_build_tooling_without_a_package_database_is_no_data(evidence: dict[str, Evidence]) -> None:
    # hygiene-good:1 as a scratch/static image would look: its SBOM without the dpkg packages
    e = copy.copy(evidence["hygiene-good:1"])
    e.platforms = [
        replace(
            p,
            analysis=replace(
                p.analysis,
                sbom=p.analysis.sbom.model_copy(
                    update={"packages": [x for x in p.analysis.sbom.packages if x.type not in ("deb", "rpm", "apk")]}
                ),
            ),
        )
        for p in e.platforms
    ]
    f = run(e, {"buildTooling": {}}).finding("tooling.build-tools", AMD)
    assert (f.status, f.message) == (
        "no-data",
        "no OS package database (dpkg, rpm, apk) found: installed tooling cannot be listed",
    )


def test_caches(evidence: dict[str, Evidence], fixture_set: FixtureSet) -> None:
    exp = expected(fixture_set, "hygiene-bad:1")["caches"]
    bad = run(evidence["hygiene-bad:1"], {"caches": {}}).finding("caches.package-manager", AMD)
    assert bad.status == "fail"
    assert bad.evidence == {
        "caches": [f"{c['kind']}: {c['path']} ({c['files']} files, {c['bytes']} bytes)" for c in exp],
        "bytes": sum(c["bytes"] for c in exp),
    }
    assert {c["path"] for c in exp} >= {"/var/lib/apt/lists"}
    good = run(evidence["hygiene-good:1"], {"caches": {}}).finding("caches.package-manager", AMD)
    assert good.status == "pass"


def test_wasted_bytes(evidence: dict[str, Evidence], fixture_set: FixtureSet) -> None:
    exp = expected(fixture_set, "hygiene-bad:1")
    wasted = exp["wasted_bytes"]
    over = run(evidence["hygiene-bad:1"], {"size": {"maxWasted": wasted - 1}}).finding("size.wasted", AMD)
    assert over.status == "fail"
    assert over.evidence["wasted_bytes"] == wasted
    top = exp["wasted_files"][0]
    assert (
        over.evidence["files"][0] == f"{top['path']} (layer {top['layer_index']}, {top['reason']}, {top['size']} bytes)"
    )
    at_limit = run(evidence["hygiene-bad:1"], {"size": {"maxWasted": wasted}}).finding("size.wasted", AMD)
    assert at_limit.status == "pass"
    good = run(evidence["hygiene-good:1"], {"size": {"maxWasted": 0}}).finding("size.wasted", AMD)
    assert (good.status, good.evidence["wasted_bytes"]) == (
        "pass",
        expected(fixture_set, "hygiene-good:1")["wasted_bytes"],
    )


def test_strict_policy_verdicts_on_hygiene_images(registry: Registry, tmp_path: Path) -> None:
    def statuses(name: str) -> dict[str, str]:
        res = CliRunner().invoke(
            cli,
            ["policy", "check", f"{registry.host}/{name}", "--policy", str(ROOT / "policies" / "strict.yaml"),
             "--cache-dir", str(tmp_path / "cache"), "--format", "json"],
        )  # fmt: skip
        doc = json.loads(res.stdout)
        assert doc["exit_code"] == res.exit_code == 1
        return {f["check"]: f["status"] for r in doc["results"] for f in r["findings"] if f["subject"] == AMD}

    bad, good = statuses("hygiene-bad:1"), statuses("hygiene-good:1")
    for check in ("user.non-root", "secrets.none", "tooling.build-tools", "caches.package-manager"):
        assert (bad[check], good[check]) == ("fail", "pass"), check


def test_unused_ignore_and_allow_entries(evidence: dict[str, Evidence], fixture_set: FixtureSet) -> None:
    """Every ignoreRules / ignorePaths / allow entry that matched nothing on any platform is reported; the entries
    that did match are not, and the verdict and findings are those of the policy without the unused entries."""
    from provenant.catalog.secretrules import RULE_IDS
    from provenant.hygiene.caches import RULES

    exp = expected(fixture_set, "hygiene-bad:1")
    present_rule = exp["secrets"][0]["rule"]
    absent_rule = next(r for r in RULE_IDS if r not in {s["rule"] for s in exp["secrets"]})
    present_kind = exp["caches"][0]["kind"]
    absent_kind = next(k for k, _ in RULES if k not in {c["kind"] for c in exp["caches"]})
    used = {
        "secrets": {"ignoreRules": [present_rule], "ignorePaths": ["app/*"]},
        "buildTooling": {"allow": ["make"]},
        "caches": {"allow": [present_kind]},
    }
    stale = {
        "secrets": {"ignoreRules": [present_rule, absent_rule], "ignorePaths": ["app/*", "/srv/testdata/*"]},
        "buildTooling": {"allow": ["make", "gcc-12"]},
        "caches": {"allow": [present_kind, absent_kind]},
    }
    lean, rep = run(evidence["hygiene-bad:1"], used), run(evidence["hygiene-bad:1"], stale)
    assert lean.unused_waivers == []
    assert [(u.location, u.check, u.entry) for u in rep.unused_waivers] == [
        ("checks.secrets.ignoreRules[1]", "secrets.none", absent_rule),
        ("checks.secrets.ignorePaths[1]", "secrets.none", "/srv/testdata/*"),
        ("checks.buildTooling.allow[1]", "tooling.build-tools", "gcc-12"),
        ("checks.caches.allow[1]", "caches.package-manager", absent_kind),
    ]
    assert all(u.detail == f"{u.check} found nothing it matches" for u in rep.unused_waivers)
    assert (rep.verdict, rep.exit_code, rep.warnings) == (lean.verdict, lean.exit_code, lean.warnings)
    assert [(f.check, f.status, f.evidence) for f in rep.findings()] == [
        (f.check, f.status, f.evidence) for f in lean.findings()
    ]
    # The good image has nothing to ignore: every entry is unused, and it still passes.
    good = run(evidence["hygiene-good:1"], used)
    assert [u.location for u in good.unused_waivers] == [
        "checks.secrets.ignoreRules[0]", "checks.secrets.ignorePaths[0]", "checks.buildTooling.allow[0]",
        "checks.caches.allow[0]",
    ]  # fmt: skip
    assert good.verdict == "pass"
    # An entry of a check that is off matches nothing either, and the report says why.
    off = run(evidence["hygiene-bad:1"], {"secrets": {"action": "off", "ignoreRules": [present_rule]}})
    assert [(u.location, u.detail) for u in off.unused_waivers] == [
        ("checks.secrets.ignoreRules[0]", "secrets.none is off in this policy")
    ]
