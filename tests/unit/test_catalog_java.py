"""The Java cataloger against real jars from Debian packages, alone and nested in wars, ears and fat jars."""

from __future__ import annotations

import io
import re
import zipfile
from typing import ClassVar

import pytest

from provenant.catalog.base import CatalogError, MiB, ParsedFile
from provenant.catalog.java import JavaCataloger
from tests.catalogdata import jars
from tests.catalogdata._run import ToolMissing
from tests.purls import assert_same_purl

CAT = JavaCataloger()


@pytest.fixture(scope="session")
def debian() -> dict[str, jars.DebJar]:
    try:
        return jars.debian_jars()
    except (ToolMissing, jars.DownloadFailed) as exc:
        pytest.skip(f"real jars come from Debian packages (apt-get download): {exc}")


def zip_of(entries: dict[str, bytes], *, stored: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def member(jar: bytes, pattern: str) -> str:
    """The text of the one entry of ``jar`` whose name matches ``pattern`` (read here, independently)."""
    with zipfile.ZipFile(io.BytesIO(jar)) as z:
        (name,) = [n for n in z.namelist() if re.fullmatch(pattern, n)]
        return z.read(name).decode()


def pom_properties(jar: bytes) -> dict[str, str]:
    text = member(jar, r"META-INF/maven/[^/]+/[^/]+/pom\.properties")
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


def coords(parsed: ParsedFile) -> list[tuple[str | None, str, str, str | None]]:
    return [(p.metadata.get("group_id"), p.name, p.version, p.metadata.get("path_in_archive")) for p in parsed.packages]


@pytest.mark.parametrize("package", ["libcommons-lang3-java", "libjsoup-java"])
def test_pom_properties_match_the_jar_and_debian(debian: dict[str, jars.DebJar], package: str) -> None:
    jar = debian[package]
    props = pom_properties(jar.data)
    parsed = CAT.parse(jar.path, jar.data)
    assert parsed.issues == []
    assert props["version"] == jar.upstream_version
    assert coords(parsed) == [(props["groupId"], props["artifactId"], jar.upstream_version, None)]
    (pkg,) = parsed.packages
    assert_same_purl(pkg.purl, f"pkg:maven/{props['groupId']}/{props['artifactId']}@{jar.upstream_version}")
    assert pkg.type == "maven"
    assert pkg.found_by == "java"
    assert pkg.metadata["evidence"] == "pom.properties"


def test_licenses_from_pom_xml(debian: dict[str, jars.DebJar]) -> None:
    jar = debian["libjsoup-java"]
    pom = member(jar.data, r"META-INF/maven/[^/]+/[^/]+/pom\.xml")
    block = re.search(r"<licenses>(.*?)</licenses>", pom, re.S)
    assert block is not None
    declared = [n.strip() for n in re.findall(r"<name>(.*?)</name>", block.group(1), re.S)]
    (pkg,) = CAT.parse(jar.path, jar.data).packages
    assert pkg.licenses == declared
    assert declared  # jsoup's pom declares its license
    # commons-lang3 inherits its license from a parent pom that is not in the jar: nothing declared.
    (lang,) = CAT.parse("x.jar", debian["libcommons-lang3-java"].data).packages
    assert lang.licenses == []


def test_manifest_fallback(debian: dict[str, jars.DebJar]) -> None:
    jar = debian["libhamcrest-java"]
    manifest = member(jar.data, "META-INF/MANIFEST.MF")
    assert "META-INF/maven/" not in "".join(zipfile.ZipFile(io.BytesIO(jar.data)).namelist())
    implementation_version = re.search(r"^Implementation-Version: (.*?)\r?$", manifest, re.M)
    assert implementation_version is not None
    parsed = CAT.parse(jar.path, jar.data)
    assert coords(parsed) == [(None, "hamcrest", jar.upstream_version, None)]
    assert implementation_version.group(1) == jar.upstream_version
    (pkg,) = parsed.packages
    assert pkg.metadata["evidence"] == "manifest"
    assert pkg.metadata["version_from"] == "manifest:Implementation-Version"
    assert_same_purl(pkg.purl, f"pkg:maven/hamcrest@{jar.upstream_version}")


def test_file_name_fallback(debian: dict[str, jars.DebJar]) -> None:
    jar = debian["libjcip-annotations-java"]
    manifest = member(jar.data, "META-INF/MANIFEST.MF")
    assert re.search(r"^(Implementation|Bundle|Specification)-Version", manifest, re.M) is None
    parsed = CAT.parse(jar.path, jar.data)
    assert coords(parsed) == [(None, "jcip-annotations", "1.0", None)]  # from jcip-annotations-1.0.jar
    assert parsed.packages[0].metadata["evidence"] == "filename"


def test_unversioned_jar_without_evidence_is_no_package() -> None:
    data = zip_of({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\n\r\n", "a/B.class": b"\xca\xfe\xba\xbe"})
    assert CAT.parse("usr/share/java/plain.jar", data) == ParsedFile()


def test_war_with_libraries(debian: dict[str, jars.DebJar]) -> None:
    lang, jsoup = debian["libcommons-lang3-java"], debian["libjsoup-java"]
    war = zip_of(
        {
            "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\n\r\n",
            "META-INF/maven/com.example/shop/pom.properties": b"groupId=com.example\nartifactId=shop\nversion=2.0.1\n",
            "WEB-INF/web.xml": b"<web-app/>",
            "WEB-INF/lib/commons-lang3-3.12.0.jar": lang.data,
            "WEB-INF/lib/jsoup-1.15.3.jar": jsoup.data,
        }
    )
    parsed = CAT.parse("opt/app/shop.war", war)
    assert parsed.issues == []
    assert coords(parsed) == [
        ("com.example", "shop", "2.0.1", None),
        (
            "org.apache.commons",
            "commons-lang3",
            lang.upstream_version,
            "shop.war!/WEB-INF/lib/commons-lang3-3.12.0.jar",
        ),
        ("org.jsoup", "jsoup", jsoup.upstream_version, "shop.war!/WEB-INF/lib/jsoup-1.15.3.jar"),
    ]


def test_spring_boot_fat_jar_and_ear(debian: dict[str, jars.DebJar]) -> None:
    hamcrest, lang = debian["libhamcrest-java"], debian["libcommons-lang3-java"]
    fat = zip_of({"BOOT-INF/lib/hamcrest-2.2.jar": hamcrest.data, "BOOT-INF/classes/app/Main.class": b"x"}, stored=True)
    war = zip_of({"WEB-INF/lib/commons-lang3-3.12.0.jar": lang.data})
    ear = zip_of({"lib/boot-app-1.0.jar": fat, "web.war": war})
    parsed = CAT.parse("srv/app.ear", ear)
    assert parsed.issues == []
    assert sorted(coords(parsed), key=lambda c: c[1]) == [
        (None, "boot-app", "1.0", "app.ear!/lib/boot-app-1.0.jar"),
        (
            "org.apache.commons",
            "commons-lang3",
            lang.upstream_version,
            "app.ear!/web.war!/WEB-INF/lib/commons-lang3-3.12.0.jar",
        ),
        (None, "hamcrest", hamcrest.upstream_version, "app.ear!/lib/boot-app-1.0.jar!/BOOT-INF/lib/hamcrest-2.2.jar"),
    ]


def test_nesting_depth_limit(debian: dict[str, jars.DebJar]) -> None:
    inner = debian["libjcip-annotations-java"].data
    name = "jcip-annotations-1.0.jar"
    for level in range(6):  # the real jar ends up 6 archives below the top one
        inner, name = zip_of({name: inner}), f"level{level}.jar"
    parsed = CAT.parse("deep.jar", inner)
    assert len(parsed.issues) == 1
    assert "nested more than 4 archives deep" in parsed.issues[0]
    assert "jcip-annotations" not in [p.name for p in parsed.packages]


class SmallBudget(JavaCataloger):
    max_uncompressed: ClassVar[int] = 2 * MiB


def test_zip_bomb_is_an_issue(debian: dict[str, jars.DebJar]) -> None:
    bomb = zip_of({"filler.bin": bytes(3 * MiB)})  # 3 MiB of zeros deflate to a few KiB
    outer = zip_of({"WEB-INF/lib/a-1.0.jar": debian["libjcip-annotations-java"].data, "WEB-INF/lib/bomb-1.0.jar": bomb})
    assert len(outer) < 64 * 1024
    parsed = SmallBudget().parse("bomb.war", zip_of({"x.war": outer}))
    assert [p.name for p in parsed.packages] == ["a", "bomb"]  # the bomb jar itself is listed; its content not read
    assert parsed.issues == []
    deeper = zip_of({"x.war": zip_of({"WEB-INF/lib/bomb-1.0.jar": zip_of({"inner.jar": bytes(3 * MiB)})})})
    parsed = SmallBudget().parse("bomb.war", deeper)
    assert len(parsed.issues) == 1
    assert "exceeds the uncompressed size limit" in parsed.issues[0]


def test_corrupt_archives(debian: dict[str, jars.DebJar]) -> None:
    with pytest.raises(CatalogError, match="zip"):
        CAT.parse("broken.jar", b"PK\x03\x04 not really a zip")
    with pytest.raises(CatalogError):
        CAT.parse("truncated.jar", debian["libjsoup-java"].data[:10000])
    parsed = CAT.parse("app.war", zip_of({"WEB-INF/lib/broken-1.0.jar": b"garbage"}))
    assert parsed.packages == []
    assert len(parsed.issues) == 1
    assert parsed.issues[0].startswith("app.war!/WEB-INF/lib/broken-1.0.jar: nested archive unreadable")


def test_damaged_entry_is_an_issue(debian: dict[str, jars.DebJar]) -> None:
    jar = debian["libjcip-annotations-java"].data
    war = bytearray(zip_of({"WEB-INF/lib/jcip-annotations-1.0.jar": jar, "WEB-INF/lib/z-2.0.jar": jar}))
    with zipfile.ZipFile(io.BytesIO(bytes(war))) as z:
        info = z.getinfo("WEB-INF/lib/jcip-annotations-1.0.jar")
    data_start = info.header_offset + 30 + len(info.filename.encode())  # local header has no extra field here
    war[data_start : data_start + 64] = bytes(64)
    parsed = CAT.parse("app.war", bytes(war))
    assert coords(parsed) == [(None, "z", "2.0", "app.war!/WEB-INF/lib/z-2.0.jar")]
    assert len(parsed.issues) == 1
    assert parsed.issues[0].startswith("app.war!/WEB-INF/lib/jcip-annotations-1.0.jar: entry unreadable")


def test_pom_with_doctype_yields_no_licenses() -> None:
    pom = (
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "MIT">]>'
        b"<project><licenses><license><name>&a;</name></license></licenses></project>"
    )
    jar = zip_of(
        {
            "META-INF/maven/g/a/pom.properties": b"groupId=g\nartifactId=a\nversion=1\n",
            "META-INF/maven/g/a/pom.xml": pom,
        }
    )
    (pkg,) = CAT.parse("a.jar", jar).packages
    assert pkg.licenses == []


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("usr/share/java/x.jar", True),
        ("app.war", True),
        ("opt/jenkins/plugins/git.jpi", True),
        ("opt/jenkins/plugins/git.hpi", True),
        ("srv/a.ear", True),
        ("usr/share/java/x.jar.sha1", False),
    ],
)
def test_patterns(path: str, wanted: bool) -> None:
    assert CAT.matches(path) is wanted


def test_depth_and_budget_come_from_the_limits(debian: dict[str, jars.DebJar]) -> None:
    from provenant import limits

    inner = debian["libjcip-annotations-java"].data
    nested = zip_of({"lib/b.jar": zip_of({"lib/jcip-annotations-1.0.jar": inner})})  # the jar is 2 deep
    assert "jcip-annotations" in [p.name for p in CAT.parse("a.jar", nested).packages]
    try:
        limits.activate(limits.Limits(archive_depth=1), start_deadline=False)
        parsed = CAT.parse("a.jar", nested)
        assert "jcip-annotations" not in [p.name for p in parsed.packages]
        assert parsed.issues and "archive-depth" in parsed.issues[0]
        limits.activate(limits.Limits(file_bytes=len(inner) // 2), start_deadline=False)
        parsed = CAT.parse("a.jar", nested)
        assert parsed.issues and "file-bytes" in parsed.issues[0]
    finally:
        limits.reset()
