"""Real jars from Debian packages (``apt-get download``, cached), read from the .deb in memory."""

from __future__ import annotations

import io
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

from tests.catalogdata._run import need, run, run_bytes

CACHE = Path.home() / ".cache" / "provenant-test-data" / "debs"

#: Debian package -> the jar it ships (the real file, not one of its symlinks).
JARS = {
    "libcommons-lang3-java": "usr/share/java/commons-lang3.jar",  # pom.properties
    "libjsoup-java": "usr/share/java/jsoup.jar",  # pom.properties, <licenses> in pom.xml
    "libhamcrest-java": "usr/share/java/hamcrest-2.2.jar",  # no pom.properties; OSGi manifest
    "libjcip-annotations-java": "usr/share/java/jcip-annotations-1.0.jar",  # bare manifest; versioned name
}


class DownloadFailed(RuntimeError):
    """The Debian packages could not be downloaded."""


@dataclass(frozen=True)
class DebJar:
    """One jar as a Debian package ships it."""

    package: str
    deb_version: str
    path: str
    data: bytes

    @property
    def upstream_version(self) -> str:
        """The Debian version without epoch and Debian revision (``3.12.0-2+deb12u1`` -> ``3.12.0``)."""
        return re.sub(r"-[^-]*$", "", self.deb_version.split(":", 1)[-1])


def debian_jars() -> dict[str, DebJar]:
    """Download (once) the packages in :data:`JARS` and return their jars by package name."""
    need("apt-get", "dpkg-deb")
    CACHE.mkdir(parents=True, exist_ok=True)
    missing = [p for p in JARS if not list(CACHE.glob(f"{p}_*.deb"))]
    if missing:
        try:
            run(["apt-get", "download", *missing], cwd=CACHE)
        except RuntimeError as exc:
            raise DownloadFailed(str(exc)) from exc
    out = {}
    for package, path in JARS.items():
        deb = sorted(CACHE.glob(f"{package}_*.deb"))[-1]
        version = run(["dpkg-deb", "-f", deb, "Version"]).strip()
        with tarfile.open(fileobj=io.BytesIO(run_bytes(["dpkg-deb", "--fsys-tarfile", deb]))) as tar:
            member = tar.extractfile(f"./{path}")
            if member is None:
                raise DownloadFailed(f"{deb.name} has no regular file {path}")
            out[package] = DebJar(package, version, path, member.read())
    return out
