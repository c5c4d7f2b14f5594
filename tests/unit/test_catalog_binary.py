"""The binary cataloger's mechanics: streaming across chunk boundaries, the bounded window, the
literal pre-filter, which files it looks at, and dropping what an OS package owns.

The byte strings are the version strings found in Debian 12's real binaries (see
tests/integration/test_sbom_runtimes.py for the binaries themselves in fixture images)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from provenant import limits
from provenant.catalog.binary import BinaryCataloger, drop_os_owned
from provenant.catalog.binaryrules import CLASSIFIERS, needle
from provenant.sbom.model import Location, Package

CAT = BinaryCataloger()

#: (path, bytes around the version in the real Debian 12 binary, expected purl)
REAL = [
    ("usr/local/bin/python3.11", b"\x00%s\x003.11.2\x00", "pkg:generic/python@3.11.2"),
    ("usr/local/lib/libpython3.11.so.1.0", b"\x003.11.2\x00", "pkg:generic/python@3.11.2"),
    ("usr/local/lib/libnode.so.108", b"\x00node.js/v18.20.4\x00", "pkg:generic/node@18.20.4"),
    (
        "opt/java/openjdk/release",
        b'JAVA_RUNTIME_VERSION="17.0.21.1+2-1-deb12u1-Debian"\n',
        "pkg:generic/oracle/openjdk@17.0.21.1%2B2-1-deb12u1-Debian",
    ),
    (
        "opt/java/openjdk/bin/java",
        b"\x00openjdk\x00java\x000.0\x0017.0.21.1+2-1-deb12u1-Debian\x00",
        "pkg:generic/oracle/openjdk@17.0.21.1%2B2-1-deb12u1-Debian",
    ),
    (
        "opt/java/openjdk/lib/server/libjvm.so",
        b"sharing\x0017.0.21.1+2-1-deb12u1-Debian\x00linux-amd64\x00",
        "pkg:generic/oracle/openjdk@17.0.21.1%2B2-1-deb12u1-Debian",
    ),
    ("usr/local/bin/redis-server", b"A7.0.151790282056000000000\x00", "pkg:generic/redis@7.0.15"),
    ("usr/sbin/nginx", b"\x00nginx version: nginx/1.22.1\x00", "pkg:generic/nginx@1.22.1"),
    ("bin/busybox", b"BusyBox v1.35.0 (Debian 1:1.35.0-4+b3)", "pkg:generic/busybox@1.35.0"),
    ("bin/bash", b"@(#)Bash version 5.2.15(1) release GNU", "pkg:generic/bash@5.2.15"),
    ("usr/bin/curl", b"curl/7.88.1\x00", "pkg:generic/curl@7.88.1"),
    ("usr/lib/x86_64-linux-gnu/libcrypto.so.3", b"\x00OpenSSL 3.0.22 17 Sep 2026\x00", "pkg:generic/openssl@3.0.22"),
    ("usr/bin/perl", b"/usr/local/lib/x86_64-linux-gnu/perl/5.36.0\x00", "pkg:generic/perl@5.36.0"),
    (
        "usr/lib/libruby-3.1.so.3.1.2",
        b"ruby 3.1.2p20 (2022-04-12 revision 4491bb740a) [x86_64-linux-gnu]",
        "pkg:generic/ruby@3.1.2p20",
    ),
    ("usr/bin/php8.2", b"X-Powered-By: PHP/8.2.36\x00", "pkg:generic/php@8.2.36"),
    ("usr/sbin/apache2", b"Apache/2.4.71 (Debian)\x00", "pkg:generic/httpd@2.4.71"),
    (
        "usr/lib/postgresql/15/bin/postgres",
        b"\x00PostgreSQL 15.20 (Debian 15.20-0+deb12u1)",
        "pkg:generic/postgresql@15.20",
    ),
    ("usr/sbin/mariadbd", b"\x0010.11.19-MariaDB\x00", "pkg:generic/mariadb@10.11.19"),
    ("usr/sbin/haproxy", b" version 2.6.12-1+deb12u4, released 2026/10/17\x00", "pkg:generic/haproxy@2.6.12"),
    ("usr/lib/go-1.19/bin/go", b"\x00go1.19.8\x00", "pkg:generic/go@1.19.8"),
    ("usr/lib/go-1.19/VERSION", b"go1.19.8\ntime 2023-04-04\n", "pkg:generic/go@1.19.8"),
]


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


def _run(path: str, pieces: Iterator[bytes], size: int) -> list[str]:
    parser = CAT.stream(path, size)
    assert parser is not None, path
    for piece in pieces:
        parser.feed(piece)
    parsed = parser.close()
    return [p.purl or "" for p in parsed.packages] if parsed else []


@pytest.mark.parametrize(("path", "snippet", "purl"), REAL, ids=[r[0].rsplit("/", 1)[-1] for r in REAL])
def test_real_version_strings(path: str, snippet: bytes, purl: str) -> None:
    snippet = snippet.replace(b"%s", b"")
    pad = b"#\n" * 2500 if b"\x00" not in snippet else bytes(5000)  # text files (release, VERSION) have lines
    data = b"\x7fELF" + pad + snippet + pad[:3000]
    assert _run(path, iter([data]), len(data)) == [purl]
    # ...and wherever a chunk boundary falls inside the version string
    start = 5004
    for cut in range(start - 2, start + len(snippet) + 2):
        assert _run(path, iter([data[:cut], data[cut:]]), len(data)) == [purl], cut


def test_every_pattern_has_a_real_string_and_its_needle_is_in_it() -> None:
    tried = {c.name for c in CLASSIFIERS}
    covered = set()
    for path, raw, _ in REAL:
        snippet = raw.replace(b"%s", b"")
        parser = CAT.stream(path, 1)
        assert parser is not None
        for classifier, patterns in parser._candidates:  # the pre-filter is what is tested
            for literal, rx in patterns:
                if rx.search(snippet):
                    covered.add(classifier.name)
                    assert literal in snippet, (classifier.name, literal)
    assert tried - covered == {"mysql-binary"}  # no MySQL in Debian 12 to take a real string from


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        (rb"version (?P<version>\d+)[-+.~\w]{0,40}, released 20", b", released 20"),
        (rb"ab{2}cdef", b"cdef"),
        (rb"x[abc]{1,2}yyyz", b"yyyz"),
        (rb"foo?barbaz", b"barbaz"),
        (rb"abc|defgh", b""),  # an alternative at the top: nothing is certain
        (rb"\x00go(?P<v>1)", b"\x00go"),
    ],
)
def test_needle(pattern: bytes, literal: bytes) -> None:
    assert needle(pattern) == literal


def test_window_is_bounded_by_file_bytes() -> None:
    data = bytes(10_000) + b"BusyBox v1.35.0 (x)"
    limits.activate(limits.Limits(file_bytes=8192), start_deadline=False)
    try:
        assert _run("bin/busybox", chunks(data, 1000), len(data)) == []
    finally:
        limits.reset()
    assert _run("bin/busybox", chunks(data, 1000), len(data)) == ["pkg:generic/busybox@1.35.0"]


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("usr/local/bin/python3.12", True),
        ("usr/bin/python3", False),  # no minor version to look for: the symlink's target is the one
        ("usr/bin/python3.11-config", False),
        ("usr/share/man/man1/python3.11.1.gz", False),
        ("usr/local/lib/libpython3.12.so.1.0", True),
        ("etc/lsb-release", False),
        ("opt/java/openjdk/release", True),
        ("usr/local/bin/php", True),
        ("usr/bin/phar8.2", False),
        ("srv/app/node_modules/.bin/go", True),
    ],
)
def test_which_files_are_looked_at(path: str, wanted: bool) -> None:
    assert (CAT.stream(path, 100) is not None) is wanted
    assert not wanted or CAT.matches(path)


def _loc(path: str) -> Location:
    return Location(path=path, layer_index=0, layer_digest="sha256:" + "0" * 64, diff_id="sha256:" + "0" * 64)


def test_os_owned_binaries_are_dropped_with_merged_usr() -> None:
    bash = Package(name="bash", version="5.2.15", type="binary", found_by="binary", locations=[_loc("usr/bin/bash")])
    py = Package(
        name="python",
        version="3.11.2",
        type="binary",
        found_by="binary",
        locations=[_loc("usr/bin/python3.11"), _loc("usr/local/bin/python3.11")],
    )
    deb = Package(
        name="bash", version="5.2.15-2", type="deb", found_by="dpkg", files=["/bin/bash", "/usr/bin/python3.11"]
    )
    out = drop_os_owned([bash, py, deb])
    assert [(p.name, p.type, [loc.path for loc in p.locations]) for p in out] == [
        ("python", "binary", ["usr/local/bin/python3.11"]),
        ("bash", "deb", []),
    ]
