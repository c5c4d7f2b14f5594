"""Python metadata of issue 13 from syft's and trivy's corpora: upper-case dirs, the interpreter, zipped eggs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from provenant.catalog.base import CatalogError
from provenant.catalog.python import PythonCataloger

DATA = Path(__file__).resolve().parent.parent / "data" / "catalog" / "python"
CAT = PythonCataloger()


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        (
            "usr/lib/python3/site-packages/Pygments-2.6.1.DIST-INFO/METADATA",
            "site-packages/uppercase/dist-name/DIST-INFO/METADATA",
            ("pkg:pypi/pygments@2.6.1", "usr/lib/python3/site-packages"),
        ),
        (
            "usr/lib/python3/site-packages/requests-2.22.0-py3.8.egg/EGG-INFO/PKG-INFO",
            "site-packages/uppercase/egg-name/EGG-INFO/PKG-INFO",
            ("pkg:pypi/requests@2.22.0", "usr/lib/python3/site-packages"),
        ),
    ],
)
def test_upper_case_metadata_dirs(path: str, data: str, expected: tuple[str, str]) -> None:
    assert CAT.matches(path)
    (pkg,) = CAT.parse(path, (DATA / data).read_bytes()).packages
    assert (pkg.purl, pkg.metadata["site"]) == expected


def test_the_interpreters_own_egg_info_is_not_a_pypi_package() -> None:
    path = "usr/lib/python2.7/lib-dynload/Python-2.7.egg-info"
    assert CAT.matches(path)
    assert CAT.parse(path, (DATA / "Python-2.7.egg-info").read_bytes()).packages == []


def test_zipped_egg() -> None:
    path = "usr/lib/python2.7/site-packages/kitchen-1.2.6-py2.7.egg"
    assert CAT.matches(path)
    (pkg,) = CAT.parse(path, (DATA / "kitchen-1.2.6-py2.7.egg").read_bytes()).packages
    assert (pkg.purl, pkg.licenses, pkg.metadata["site"]) == (
        "pkg:pypi/kitchen@1.2.6",
        ["GNU Library or Lesser General Public License (LGPL)"],  # its classifier, which names no version
        "usr/lib/python2.7/site-packages",
    )


def _egg(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


def test_egg_without_metadata_or_not_a_zip_is_an_error() -> None:
    with pytest.raises(CatalogError, match="without EGG-INFO/PKG-INFO"):
        CAT.parse("x.egg", _egg({"kitchen/__init__.py": b""}))
    with pytest.raises(CatalogError, match="unreadable"):
        CAT.parse("x.egg", b"PK\x03\x04 not really")


def test_egg_metadata_that_inflates_past_the_cap_is_refused() -> None:
    with pytest.raises(CatalogError, match="over"):
        CAT.parse("x.egg", _egg({"EGG-INFO/PKG-INFO": b"Name: x\nVersion: 1\n" + b" " * (5 << 20)}))
