"""rpm databases of issue 13 from go-rpmdb's corpus, seen as images: RHEL purls, rpm-ostree's usr/share/rpm."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.layers import File, Symlink
from tests.catalogdata.image import catalog_files

DATA = Path(__file__).resolve().parent.parent / "data" / "catalog"


def _rpms(tmp_path: Path, os_release: str, db_path: str, db: str, *, link: bool = False) -> list[tuple[str, str]]:
    files: dict[str, File | Symlink] = {
        "etc/os-release": File((DATA / "os-release" / os_release).read_bytes()),
        db_path: File((DATA / "rpm" / db).read_bytes()),
    }
    if link:  # rpm-ostree images point the usual place at the image's own copy
        files["var/lib/rpm"] = Symlink("../../usr/share/rpm")
    result = catalog_files(tmp_path, files)
    return [(p.name, p.purl or "") for p in result.packages if p.type == "rpm"]


def test_rhel_rpms_are_in_the_redhat_namespace(tmp_path: Path) -> None:
    # UBI 8's libuuid with syft's RHEL os-release sample (ID="rhel"): Red Hat, syft and trivy say "redhat".
    got = _rpms(tmp_path, "redhat_from-os-release__usr_lib__os-release", "var/lib/rpm/Packages", "libuuid.Packages")
    assert got == [("libuuid", "pkg:rpm/redhat/libuuid@2.32.1-42.el8_8?arch=x86_64&distro=rhel-7.3")]


def test_opensuse_ids_share_one_namespace(tmp_path: Path) -> None:
    got = _rpms(tmp_path, "opensuse-leap__etc__os-release", "var/lib/rpm/Packages.db", "sle15-bci.Packages.db")
    assert len(got) == 35 and all(purl.startswith("pkg:rpm/opensuse/") for _, purl in got)


@pytest.mark.parametrize("link", [False, True])
def test_rpm_ostree_database_under_usr_share_rpm(tmp_path: Path, link: bool) -> None:
    got = _rpms(
        tmp_path, "mariner__etc__os-release", "usr/share/rpm/rpmdb.sqlite", "cbl-mariner-2.0.rpmdb.sqlite", link=link
    )
    assert len(got) == 129  # each once, also when var/lib/rpm leads to the same file
    assert ("curl", "pkg:rpm/mariner/curl@7.76.0-6.cm2?arch=x86_64&distro=mariner-1.0") in got
