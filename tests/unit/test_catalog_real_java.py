"""Java archives of issue 13, zipped from syft's real jar metadata (as syft's own tests do)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from provenant.catalog.java import JavaCataloger

DATA = Path(__file__).resolve().parent.parent / "data" / "catalog" / "java"


def jar(directory: str, *, skip: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted((DATA / directory).rglob("*")):
            rel = f.relative_to(DATA / directory).as_posix()
            if f.is_file() and not (skip and rel.endswith(skip)):
                zf.writestr(rel, f.read_bytes())
    return buf.getvalue()


def purls(path: str, data: bytes) -> list[str | None]:
    parsed = JavaCataloger().parse(path, data)
    assert parsed.issues == []
    return [p.purl for p in parsed.packages]


def test_play_layout_name_with_pom_xml_only() -> None:
    # lib/<group>.<artifact>-<version>.jar with META-INF/maven/<g>/<a>/pom.xml and no pom.properties.
    data = jar("com.fasterxml.jackson.core.jackson-core-2.15.2")
    got = JavaCataloger().parse("app/lib/com.fasterxml.jackson.core.jackson-core-2.15.2.jar", data).packages
    assert [(p.purl, p.license_expression, p.metadata["evidence"]) for p in got] == [
        ("pkg:maven/com.fasterxml.jackson.core/jackson-core@2.15.2", "Apache-2.0", "pom.xml")
    ]


def test_play_layout_name_with_manifest_only() -> None:
    data = jar("com.fasterxml.jackson.core.jackson-core-2.15.2", skip="pom.xml")
    path = "app/lib/com.fasterxml.jackson.core.jackson-core-2.15.2.jar"
    assert purls(path, data) == ["pkg:maven/com.fasterxml.jackson.core/jackson-core@2.15.2"]


def test_pom_xml_without_parent_fields() -> None:
    assert purls("app/micronaut-aop-4.9.11.jar", jar("micronaut-aop-4.9.11")) == [
        "pkg:maven/io.micronaut/micronaut-aop@4.9.11"
    ]


@pytest.mark.parametrize("suffix", ["hpi", "jpi"])
def test_jenkins_plugin_from_its_manifest(suffix: str) -> None:
    # syft's expectation for this manifest: pkg:maven/org.jenkins-ci.plugins/gradle@2.11.
    path = f"var/jenkins_home/plugins/gradle.{suffix}"
    assert JavaCataloger().matches(path)
    assert purls(path, jar("jenkins-plugins/gradle/2.11")) == ["pkg:maven/org.jenkins-ci.plugins/gradle@2.11"]


@pytest.mark.parametrize("suffix", ["par", "sar", "nar", "kar", "lpkg"])
def test_other_java_archive_suffixes_are_read(suffix: str) -> None:
    path = f"opt/app/micronaut-aop-4.9.11.{suffix}"
    assert JavaCataloger().matches(path)
    assert purls(path, jar("micronaut-aop-4.9.11")) == ["pkg:maven/io.micronaut/micronaut-aop@4.9.11"]
