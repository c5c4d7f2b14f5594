"""Each distro family's purl namespace, from os-release files in peers' test data (syft, trivy) put in an
image beside a real package database of that family; and scratch images with static binaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.layers import File
from tests.catalogdata.image import catalog_files

DATA = Path(__file__).resolve().parent.parent / "data"
OS = DATA / "catalog" / "os-release"

DBS = {
    "deb": ("var/lib/dpkg/status", DATA / "catalog" / "dpkg" / "corrupsed.status"),
    "apk": ("lib/apk/db/installed", DATA / "apk" / "installed"),
    "rpm": ("var/lib/rpm/Packages", DATA / "catalog" / "rpm" / "libuuid.Packages"),
}

# (os-release sample, package type, purl namespace, distro qualifier)
CASES = [
    ("ubuntu__etc__os-release", "deb", "ubuntu", "ubuntu-20.04"),
    ("debian_from-os-release__usr_lib__os-release", "deb", "debian", None),
    ("alpine__etc__os-release", "apk", "alpine", None),
    ("wolfi__etc__os-release", "apk", "wolfi", None),
    ("redhat_from-os-release__usr_lib__os-release", "rpm", "redhat", "rhel-7.3"),
    ("trivy_rhel", "rpm", "redhat", "rhel-9.4"),  # UBI 9 says ID="rhel" too
    ("rockylinux_from-os-release__etc__os-release", "rpm", "rocky", None),
    ("almalinux_from-os-release__etc__os-release", "rpm", "almalinux", None),
    ("amazon__etc__os-release", "rpm", "amzn", None),
    ("centos__usr_lib__os-release", "rpm", "centos", None),
    ("oraclelinux__etc__os-release", "rpm", "ol", None),
    ("fedora__usr_lib__os-release", "rpm", "fedora", None),
    ("sles__etc__os-release", "rpm", "sles", None),
    ("opensuse-leap__etc__os-release", "rpm", "opensuse", None),
    ("trivy_opensusetumbleweed", "rpm", "opensuse", None),
    ("photon__etc__os-release", "rpm", "photon", None),
    ("mariner__etc__os-release", "rpm", "mariner", None),
    ("trivy_mariner-2.0", "rpm", "mariner", "mariner-2.0"),
    ("trivy_azurelinux-3.0", "rpm", "azurelinux", "azurelinux-3.0"),
]


@pytest.mark.parametrize(
    ("sample", "kind", "namespace", "qualifier"), CASES, ids=[c[0].split("_")[0] + "-" + c[1] for c in CASES]
)
def test_purl_namespace_per_distro(
    tmp_path: Path, sample: str, kind: str, namespace: str, qualifier: str | None
) -> None:
    db_path, db = DBS[kind]
    result = catalog_files(
        tmp_path, {"etc/os-release": File((OS / sample).read_bytes()), db_path: File(db.read_bytes())}
    )
    assert result.distro is not None
    purls = [p.purl or "" for p in result.packages if p.type == kind]
    assert purls, sample
    assert all(purl.startswith(f"pkg:{kind}/{namespace}/") for purl in purls), purls[:3]
    distro = f"{result.distro.id}-{result.distro.version_id}" if result.distro.version_id else result.distro.id
    assert all(f"distro={distro}" in purl for purl in purls)
    if qualifier is not None:
        assert distro == qualifier


def test_distroless_is_debian(tmp_path: Path) -> None:
    os_release = (
        b'PRETTY_NAME="Distroless"\nNAME="Debian GNU/Linux"\nID="debian"\nVERSION_ID="12"\n'
        b'HOME_URL="https://github.com/GoogleContainerTools/distroless"\n'
    )
    status = DBS["deb"][1].read_bytes().split(b"\n\n")[0]  # one real paragraph, as status.d holds
    result = catalog_files(
        tmp_path, {"etc/os-release": File(os_release), "var/lib/dpkg/status.d/libpam-runtime": File(status)}
    )
    assert result.distro is not None and result.distro.pretty_name == "Distroless"
    assert [p.purl for p in result.packages] == [
        "pkg:deb/debian/libpam-runtime@1.1.8-3.1ubuntu3?arch=all&distro=debian-12&upstream=pam"
    ]


def test_scratch_with_static_binaries(tmp_path: Path) -> None:
    go = (DATA / "catalog" / "go" / "test.elf").read_bytes()
    rust = (DATA / "catalog" / "rust" / "test.elf").read_bytes()
    result = catalog_files(tmp_path, {"app": File(go, 0o755), "bin/tool": File(rust, 0o755)})
    assert result.distro is None
    assert {p.type for p in result.packages} == {"golang", "cargo"}
    assert "pkg:golang/stdlib@1.15.2" in {p.purl for p in result.packages}
