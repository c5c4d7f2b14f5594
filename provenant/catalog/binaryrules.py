"""The binary classifiers: ONE declarative table of what runtimes installed without a package manager look like.

Each row: the path globs that select candidate files, an optional file-name regex (its ``v`` group
specialises the byte patterns, as ``python3.12`` says which version string to look for), byte regexes
with a ``version`` group tried in order, and the package it names with purl and CPE templates
(CPE templates take ``{version}`` and ``{short}``, the version before any ``+``; the purl gets the
version), shaped as syft emits them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class Classifier:
    """One kind of binary and how its version is found."""

    name: str
    globs: tuple[str, ...]
    package: str
    purl: str
    patterns: tuple[bytes, ...]
    cpes: tuple[str, ...] = ()
    #: Regex over the file's base name; the classifier only looks at files it matches.
    file_name: str = ""
    #: Licenses the runtime is distributed under (only where unambiguous).
    licenses: tuple[str, ...] = field(default=())

    @cached_property
    def name_rx(self) -> re.Pattern[str] | None:
        return re.compile(self.file_name) if self.file_name else None

    def compiled(self, name_version: str | None) -> tuple[tuple[bytes, re.Pattern[bytes]], ...]:
        """(needle, pattern) pairs, ``{v}`` replaced by the (escaped) version the file name gave.

        The needle is a literal every match contains: a chunk without it is not searched at all, which
        is what keeps a 100 MB binary from costing a regex scan per pattern.
        """
        out = []
        for pattern in self.patterns:
            if b"{v}" in pattern:
                if name_version is None:
                    continue
                pattern = pattern.replace(b"{v}", re.escape(name_version).encode())  # noqa: PLW2901
            out.append((needle(pattern), re.compile(pattern)))
        return tuple(out)


_META = set(b"()[]{}?*+|^$.")
_ESCAPED_LITERAL = set(b".()/[]{}?*+|^$\\-#&~ ")


def needle(pattern: bytes) -> bytes:
    """The longest literal run outside groups of a regex, if 3 bytes or more (b"" when unsure)."""
    runs: list[bytes] = []
    run = bytearray()
    depth = 0
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        lit: int | None = None
        step = 1
        if ch == 0x5C and i + 1 < len(pattern):  # backslash
            nxt = pattern[i + 1]
            if nxt == ord("x") and i + 3 < len(pattern):
                lit, step = int(pattern[i + 2 : i + 4], 16), 4
            elif nxt in _ESCAPED_LITERAL:
                lit, step = nxt, 2
            else:
                step = 2  # \d, \s, \w, \A ...: not a literal
        elif ch == ord("|") and depth == 0:
            return b""  # a top-level alternative: no literal is certain
        elif ch == ord("("):
            depth += 1
        elif ch == ord(")"):
            depth -= 1
        elif ch == ord("["):
            end = pattern.find(b"]", i + 2)
            step = (end - i + 1) if end > 0 else 1
        elif ch == ord("{"):  # a counted repeat {m,n}: its digits are no literal
            end = pattern.find(b"}", i + 1)
            step = (end - i + 1) if end > 0 else 1
        elif ch not in _META:
            lit = ch
        quantified = i + step < len(pattern) and pattern[i + step] in b"?*{"
        if lit is not None and depth == 0 and not quantified:
            run.append(lit)
        else:
            if run:
                runs.append(bytes(run))
            run = bytearray()
        i += step
    if run:
        runs.append(bytes(run))
    best = max(runs, key=len, default=b"")
    return best if len(best) >= 3 else b""


_V3 = rb"(?P<version>\d+\.\d+\.\d+)"

CLASSIFIERS: tuple[Classifier, ...] = (
    Classifier(
        name="python-binary",
        globs=("**/python*",),
        file_name=r"^python(?P<v>\d+\.\d+)$",
        patterns=(rb"\x00(?P<version>{v}[-._a-zA-Z0-9]*)\x00",),
        package="python",
        purl="pkg:generic/python",
        cpes=(
            "cpe:2.3:a:python_software_foundation:python:{version}:*:*:*:*:*:*:*",
            "cpe:2.3:a:python:python:{version}:*:*:*:*:*:*:*",
        ),
    ),
    Classifier(
        name="python-binary-lib",
        globs=("**/libpython*.so*",),
        file_name=r"^libpython(?P<v>\d+\.\d+)[a-z]?\.so",
        patterns=(rb"\x00(?P<version>{v}[-._a-zA-Z0-9]*)\x00",),
        package="python",
        purl="pkg:generic/python",
        cpes=(
            "cpe:2.3:a:python_software_foundation:python:{version}:*:*:*:*:*:*:*",
            "cpe:2.3:a:python:python:{version}:*:*:*:*:*:*:*",
        ),
    ),
    Classifier(
        name="nodejs-binary",
        globs=("**/node", "**/libnode.so*"),
        file_name=r"^(?:node|libnode\.so(?:\.\d+)*)$",
        patterns=(
            rb"node\.js/v" + _V3,
            # Node <= 6 wrote "[NUL]node v0.10.48[NUL]" (the bare "[NUL]v4.9.1[NUL]" form is not looked
            # for: without a literal to find first, it cost a regex scan of every 100 MB node binary).
            rb"\x00node v(?P<version>(?:0|4|5|6)\.\d+\.\d+)\x00",
        ),
        package="node",
        purl="pkg:generic/node",
        cpes=("cpe:2.3:a:nodejs:node.js:{version}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="java-release",
        globs=("**/release",),
        file_name=r"^release$",
        # The runtime version first (it carries the build), as syft prefers it.
        patterns=(
            rb'(?m)^JAVA_RUNTIME_VERSION="(?P<version>[^"\s]{1,64})"',
            rb'(?m)^JAVA_VERSION="(?P<version>[^"\s]{1,64})"',
        ),
        package="openjdk",
        purl="pkg:generic/oracle/openjdk",
        cpes=("cpe:2.3:a:oracle:openjdk:{short}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="java-binary-openjdk",
        globs=("**/java", "**/libjvm.so"),
        file_name=r"^(?:java|libjvm\.so)$",
        patterns=(
            # the launcher: [NUL]openjdk[NUL]java[NUL]0.0[NUL]17.0.9+9-Debian-1deb12u1[NUL]
            rb"\x00openjdk\x00java\x00[0-9.]+\x00(?P<version>\d+[^\x00]{0,63})\x00",
            rb"\x00[0-9.]+\x00+(?P<version>\d+[^\x00]{0,63})\x00+openjdk\x00java",
            # libjvm: [NUL]17.0.9+9-Debian-1deb12u1[NUL] (a JEP 223 version with its build number)
            rb"\x00(?P<version>\d+(?:\.\d+){1,3}\+\d+[^\x00]{0,60})\x00",
        ),
        package="openjdk",
        purl="pkg:generic/oracle/openjdk",
        cpes=("cpe:2.3:a:oracle:openjdk:{short}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="go-binary",
        globs=("**/go", "**/go.exe"),
        file_name=r"^go(?:\.exe)?$",
        patterns=(rb"go(?P<version>\d+\.\d+(?:\.\d+|beta\d+|alpha\d+|rc\d+)?)\x00",),
        package="go",
        purl="pkg:generic/go",
        cpes=("cpe:2.3:a:golang:go:{version}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="go-toolchain-version",
        globs=("**/go/VERSION", "**/go-*/VERSION"),
        file_name=r"^VERSION$",
        patterns=(rb"(?m)^go(?P<version>\d+\.\d+(?:\.\d+|beta\d+|alpha\d+|rc\d+)?)(?:\s|\Z)",),
        package="go",
        purl="pkg:generic/go",
        cpes=("cpe:2.3:a:golang:go:{version}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="ruby-binary",
        globs=("**/ruby", "**/libruby*.so*"),
        file_name=r"^(?:ruby|libruby(?:-\d+\.\d+)?\.so(?:\.\d+)*)$",
        patterns=(rb"ruby (?P<version>\d+\.\d+\.\d+(?:(?:p|preview|rc|dev)\d*)?) ",),
        package="ruby",
        purl="pkg:generic/ruby",
        cpes=("cpe:2.3:a:ruby-lang:ruby:{version}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="php-binary",
        globs=("**/php*", "**/libphp*.so"),
        file_name=r"^(?:php|php\d+(?:\.\d+)?|php-fpm(?:\d+(?:\.\d+)?)?|php-cgi(?:\d+(?:\.\d+)?)?|libphp\d*\.so)$",
        patterns=(rb"X-Powered-By: PHP/" + _V3, rb"PHP/" + _V3 + rb"\x00"),
        package="php",
        purl="pkg:generic/php",
        cpes=("cpe:2.3:a:php:php:{version}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="perl-binary",
        globs=("**/perl",),
        file_name=r"^perl$",
        # official images: /usr/local/lib/perl5/5.38.0; Debian: /usr/local/lib/x86_64-linux-gnu/perl/5.36.0
        patterns=(rb"/usr/local/lib/(?:[\w-]+/)?perl5?/" + _V3,),
        package="perl",
        purl="pkg:generic/perl",
        cpes=("cpe:2.3:a:perl:perl:{version}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="redis-binary",
        globs=("**/redis-server",),
        file_name=r"^redis-server$",
        # version + build id: "7.0.14buildkitsandbox-1702957741000000000", "4.0.11841ce7054bd9-1542…",
        # Debian's "7.0.151790282056000000000" (empty build host); and "Redis version 2.8.23".
        patterns=(
            rb"[^\d.]" + _V3 + rb"(?:buildkitsandbox-|[0-9a-f]{12}-)?\d{19}\x00",
            rb"Redis version " + _V3,
        ),
        package="redis",
        purl="pkg:generic/redis",
        cpes=(
            "cpe:2.3:a:redislabs:redis:{version}:*:*:*:*:*:*:*",
            "cpe:2.3:a:redis:redis:{version}:*:*:*:*:*:*:*",
        ),
    ),
    Classifier(
        name="nginx-binary",
        globs=("**/nginx",),
        file_name=r"^nginx$",
        patterns=(rb"(?:\x00|\?)nginx version: [^/\x00]{1,32}/(?P<version>\d+\.\d+\.\d+(?:\+\d+)?(?:-\d+)?)",),
        package="nginx",
        purl="pkg:generic/nginx",
        cpes=(
            "cpe:2.3:a:f5:nginx:{version}:*:*:*:*:*:*:*",
            "cpe:2.3:a:nginx:nginx:{version}:*:*:*:*:*:*:*",
        ),
    ),
    Classifier(
        name="httpd-binary",
        globs=("**/httpd", "**/apache2"),
        file_name=r"^(?:httpd|apache2)$",
        patterns=(rb"Apache/" + _V3,),
        package="httpd",
        purl="pkg:generic/httpd",
        cpes=("cpe:2.3:a:apache:http_server:{version}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="postgresql-binary",
        globs=("**/postgres",),
        file_name=r"^postgres$",
        patterns=(rb"(?:\x00|\?)PostgreSQL (?P<version>\d+(?:\.\d+)?(?:\.\d+)?(?:alpha\d|beta\d|rc\d)?)",),
        package="postgresql",
        purl="pkg:generic/postgresql",
        cpes=("cpe:2.3:a:postgresql:postgresql:{version}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="mariadb-binary",
        globs=("**/mariadbd", "**/mysqld", "**/mariadb", "**/mysql"),
        file_name=r"^(?:mariadbd?|mysqld?)$",
        patterns=(rb"(?P<version>\d+\.\d+\.\d+(?:alpha\d|beta\d|rc\d)?)-MariaDB",),
        package="mariadb",
        purl="pkg:generic/mariadb",
        cpes=("cpe:2.3:a:mariadb:mariadb:{version}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="mysql-binary",
        globs=("**/mysqld", "**/mysql"),
        file_name=r"^mysqld?$",
        patterns=(
            rb"\x00(?P<version>\d+\.\d+\.\d+(?:alpha\d|beta\d|rc\d)?)\x00+mysql",
            rb"/mysql-(?P<version>\d+\.\d+\.\d+(?:-rc|-dmr)?)/",
        ),
        package="mysql",
        purl="pkg:generic/mysql",
        cpes=("cpe:2.3:a:oracle:mysql:{version}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="haproxy-binary",
        globs=("**/haproxy",),
        file_name=r"^haproxy$",
        # "version 2.8.3-86e043a, released 2023/09/07"; Debian: "version 2.6.12-1+deb12u4, released …"
        patterns=(
            rb"version (?P<version>\d+\.\d+(?:\.\d+|-dev\d+|-rc\d+))[-+.~\w]{0,40}, released 20",
            rb"HA-Proxy version (?P<version>\d+\.\d+(?:\.\d+|-dev\d+))",
        ),
        package="haproxy",
        purl="pkg:generic/haproxy",
        cpes=("cpe:2.3:a:haproxy:haproxy:{version}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="busybox-binary",
        globs=("**/busybox",),
        file_name=r"^busybox$",
        patterns=(rb"BusyBox\s+v" + _V3,),
        package="busybox",
        purl="pkg:generic/busybox",
        cpes=("cpe:2.3:a:busybox:busybox:{version}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="curl-binary",
        globs=("**/curl", "**/libcurl.so*"),
        file_name=r"^(?:curl|libcurl\.so(?:\.\d+)*)$",
        patterns=(rb"curl/" + _V3,),
        package="curl",
        purl="pkg:generic/curl",
        cpes=("cpe:2.3:a:haxx:curl:{version}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="openssl-binary",
        globs=("**/openssl", "**/libcrypto.so*", "**/libssl.so*"),
        file_name=r"^(?:openssl|libcrypto\.so(?:\.\d+)*|libssl\.so(?:\.\d+)*)$",
        patterns=(rb"\x00OpenSSL (?P<version>\d+\.\d+\.\d+(?:[a-z]+|-alpha\d|-beta\d|-rc\d)?)[ \x00]",),
        package="openssl",
        purl="pkg:generic/openssl",
        cpes=("cpe:2.3:a:openssl:openssl:{version}:*:*:*:*:*:*:*",),
    ),
    Classifier(
        name="bash-binary",
        globs=("**/bash",),
        file_name=r"^bash$",
        patterns=(rb"@\(#\)Bash version " + _V3 + rb"\(\d\) [a-z0-9]+ GNU",),
        package="bash",
        purl="pkg:generic/bash",
        cpes=("cpe:2.3:a:gnu:bash:{version}:*:*:*:*:*:*:*",),
    ),
)
