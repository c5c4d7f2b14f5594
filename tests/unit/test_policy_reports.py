"""Report formatting details that do not need an image: GitHub escaping, JUnit structure, SARIF fingerprints."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from provenant.policy.model import CheckInfo, Finding, PolicyReport, PolicyResult, SourceLocation
from provenant.policy.reports import FORMATS, render
from provenant.policy.reports.sarif import fingerprint


def _report(message: str, *, location: SourceLocation | None = None) -> PolicyReport:
    finding = Finding(
        check="pinning.base-digest", subject="image", digest="sha256:" + "0" * 64, status="fail", effect="deny",
        message=message, evidence={"base": "a:1"}, fix="pin it", location=location, key="k",
    )  # fmt: skip
    info = CheckInfo(
        id="pinning.base-digest", title="t", description="d", help="h", evidence="e", action="deny",
        on_missing_data="deny",
    )  # fmt: skip
    return PolicyReport(
        reference="registry:5000/app:1", source="s", digest="sha256:" + "1" * 64, policy="p.yaml",
        evaluated_on=dt.date(2026, 1, 1), fail_on_warn=False, checks=[info],
        results=[PolicyResult(subject="image", digest=None, findings=[finding], verdict="deny", exit_code=1)],
        verdict="deny", exit_code=1,
    )  # fmt: skip


def test_github_escapes_data_and_properties() -> None:
    rep = _report("100% broken\nsecond line", location=SourceLocation(path="dir,a/Docker:file", line=3))
    first = render(rep, "github").splitlines()[0]
    assert first == (
        "::error file=dir%2Ca/Docker%3Afile,line=3,title=pinning.base-digest (image)::100%25 broken%0Asecond line "
        "Fix: pin it"
    )


def test_github_marks_no_data() -> None:
    rep = _report("no base image evidence")
    rep.results[0].findings[0].status = "no-data"
    first = render(rep, "github").splitlines()[0]
    assert first == "::error title=pinning.base-digest (image%2C no data)::no base image evidence Fix: pin it"


def test_junit_escapes_and_counts() -> None:
    root = ET.fromstring(render(_report('<bad> & "quoted"'), "junit"))
    assert root.get("tests") == "1" and root.get("failures") == "1"
    (case,) = root.iter("testcase")
    assert case.get("name") == "pinning.base-digest"  # the stable check id, whatever the finding's key
    assert (case.get("file"), case.get("line")) == (None, None)
    (located,) = ET.fromstring(render(_report("m", location=SourceLocation(path="Dockerfile", line=4)), "junit")).iter(
        "testcase"
    )
    assert (located.get("name"), located.get("file"), located.get("line")) == ("pinning.base-digest", "Dockerfile", "4")
    failure = case.find("failure")
    assert failure is not None and failure.get("message") == '<bad> & "quoted"'


def test_junit_case_names_are_unique_with_several_base_images() -> None:
    """One ``base-image.allowed`` finding per base image and platform: CI systems merge equal (classname, name)."""

    def finding(check: str, subject: str, key: str) -> Finding:
        return Finding(check=check, subject=subject, status="pass", effect="none", message="m", key=key)

    results = [
        PolicyResult(
            subject=plat,
            digest=None,
            verdict="pass",
            exit_code=0,
            findings=[
                finding("base-image.allowed", plat, "docker.io/library/debian:12"),
                finding("base-image.allowed", plat, "ghcr.io/acme/tools:1"),
                finding("base-image.allowed", plat, "ghcr.io/acme/tools:1"),  # the same base named twice
                finding("user.non-root", plat, ""),
            ],
        )
        for plat in ("linux/amd64", "linux/arm64/v8")
    ]
    rep = _report("m")
    rep.results = results
    pairs = [(tc.get("classname"), tc.get("name")) for tc in ET.fromstring(render(rep, "junit")).iter("testcase")]
    assert len(pairs) == 8 and len(set(pairs)) == len(pairs)
    assert [name for cls, name in pairs if cls == "linux/amd64"] == [
        "base-image.allowed[docker.io/library/debian:12]",
        "base-image.allowed[ghcr.io/acme/tools:1]",
        "base-image.allowed[ghcr.io/acme/tools:1]#2",
        "user.non-root",
    ]


def test_junit_parses_back_with_control_characters() -> None:
    """Image metadata (history lines, annotations) can hold characters XML 1.0 cannot carry at all."""
    root = ET.fromstring(render(_report("base \x1b[31mred\x00 \x07"), "junit"))
    failure = next(root.iter("failure"))
    assert failure.get("message") == "base \\x1b[31mred\\x00 \\x07"  # shown escaped, as on a terminal
    assert (failure.text or "").startswith("base \\x1b[31mred")


def test_junit_every_field_is_well_formed() -> None:
    """Suite names (reference), case names (keys), file attributes and evidence hold image data too."""
    evil = "a\x1b]0;title\x07\x0b\ud800\ufffe"
    rep = _report(evil, location=SourceLocation(path=f"Dockerfile{evil}", line=1))
    rep.reference = f"registry:5000/app:{evil}"
    rep.results[0].subject = evil
    rep.results[0].findings[0].evidence = {evil: [evil, evil]}
    twin = rep.results[0].findings[0].model_copy(update={"key": evil, "status": "pass", "effect": "none"})
    rep.results[0].findings.append(twin)
    text = render(rep, "junit")
    text.encode("utf-8")  # no lone surrogate left: the file can be written
    root = ET.fromstring(text)
    names = [tc.get("name") or "" for tc in root.iter("testcase")]
    assert any("\\x1b]0;title\\x07\\x0b\\ud800\\ufffe" in n for n in names), names
    suite = next(root.iter("testsuite"))
    assert "\\x1b" in (suite.get("name") or "")


def test_sarif_dockerfile_uri_is_percent_encoded() -> None:
    from provenant.policy.reports.sarif import to_sarif

    rep = _report("m", location=SourceLocation(path="build dir/Dockerfile#prod", line=7))
    (loc,) = to_sarif(rep)["runs"][0]["results"][0]["locations"]
    assert loc["physicalLocation"] == {
        "artifactLocation": {"uri": "build%20dir/Dockerfile%23prod"},
        "region": {"startLine": 7},
    }


def test_sarif_results_without_a_file_point_at_the_image() -> None:
    """GitHub code scanning rejects results without a physical location; a port must not look like a scheme."""
    from provenant.policy.reports.sarif import to_sarif

    (loc,) = to_sarif(_report("m"))["runs"][0]["results"][0]["locations"]
    assert loc["physicalLocation"] == {"artifactLocation": {"uri": "registry%3A5000/app"}, "region": {"startLine": 1}}
    assert loc["logicalLocations"][0]["name"] == "image"


def test_sarif_fingerprint_ignores_tag_and_digest() -> None:
    a, b = _report("m"), _report("m")
    b.reference = "registry:5000/app@sha256:" + "2" * 64
    f = a.findings()[0]
    assert fingerprint(a, f) == fingerprint(b, f)
    c = _report("m")
    c.reference = "registry:5000/other:1"
    assert fingerprint(c, f) != fingerprint(a, f)


def test_sarif_fingerprint_uses_the_normalised_name() -> None:
    short, full = _report("m"), _report("m")
    short.reference, short.source = "nginx:1", "registry docker.io/library/nginx"
    full.reference, full.source = "docker.io/library/nginx@sha256:" + "3" * 64, "registry docker.io/library/nginx"
    f = short.findings()[0]
    assert fingerprint(short, f) == fingerprint(full, f)


def test_every_format_renders() -> None:
    assert set(FORMATS) == {"text", "json", "sarif", "junit", "github"}
    for fmt in FORMATS:
        assert render(_report("m"), fmt).endswith("\n")
