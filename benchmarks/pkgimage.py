"""Synthetic images with N packages: a Debian base layer plus dpkg, npm and pypi packages.

The packages are well formed for provenant's catalogers (and syft's): one ``var/lib/dpkg/status``
with a paragraph per deb, a DEP-5 ``usr/share/doc/<name>/copyright`` and an ``info/<name>.list`` each;
``app/node_modules/<name>/package.json`` files; ``*.dist-info/METADATA`` files in a site-packages
directory. Licenses cycle through SPDX ids, compound expressions, common non-SPDX spellings and free
text, as real images do. The same N always gives the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

from fixtures.layers import File, build_layer
from fixtures.ociimage import ImageSpec, Platform, Step, build_image, write_layout

#: Declared licenses, cycled: SPDX ids, expressions, aliases (mapped), and free text (kept as names).
LICENSES = (
    "MIT",
    "Apache-2.0",
    "GPL-2+",
    "BSD-3-Clause",
    "MIT OR Apache-2.0",
    "LGPL-2.1+",
    "ISC",
    "Expat",
    "GPL-3.0-or-later WITH GCC-exception-3.1",
    "public-domain",
    "Artistic or GPL-1+",
    "Custom License of Example Corp",
    "MPL-2.0",
    "BSD-2-Clause AND Zlib",
    "Unicode-DFS-2016",
    "PSF-2.0",
)

OS_RELEASE = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'


def _license(i: int) -> str:
    return LICENSES[i % len(LICENSES)]


def _deb_tree(count: int) -> dict[str, File]:
    tree: dict[str, File] = {}
    paragraphs = []
    for i in range(count):
        name = f"libsynth{i}"
        paragraphs.append(
            f"Package: {name}\nStatus: install ok installed\nPriority: optional\nSection: libs\n"
            f"Installed-Size: {100 + i % 900}\nMaintainer: Synthetic Maintainers <synth{i % 7}@example.org>\n"
            f"Architecture: amd64\nMulti-Arch: same\nSource: synth-src{i // 3}\nVersion: {1 + i % 5}.{i % 10}-{i % 3}\n"
            f"Depends: libc6 (>= 2.36)\nDescription: synthetic library {i}\n this package is generated.\n"
            f"Homepage: https://example.org/synth/{i}\n"
        )
        tree[f"var/lib/dpkg/info/{name}:amd64.list"] = File(f"/usr/lib/x86_64-linux-gnu/{name}.so.1\n".encode())
        tree[f"usr/share/doc/{name}/copyright"] = File(
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
            f"Upstream-Name: {name}\n\nFiles: *\nCopyright: 2024 Example\nLicense: {_license(i)}\n".encode()
        )
    tree["var/lib/dpkg/status"] = File("\n".join(paragraphs).encode())
    return tree


def _npm_tree(count: int) -> dict[str, File]:
    tree: dict[str, File] = {}
    for i in range(count):
        name = f"@synth/pkg{i}" if i % 4 == 0 else f"synth-pkg{i}"
        doc = {
            "name": name,
            "version": f"{i % 7}.{i % 13}.{i % 5}",
            "description": f"synthetic npm package {i}",
            "license": _license(i + 1),
            "author": f"Synth Author {i % 11} <author{i % 11}@example.org>",
            "homepage": f"https://example.org/npm/{i}",
            "main": "index.js",
        }
        tree[f"app/node_modules/{name}/package.json"] = File(json.dumps(doc, indent=2).encode())
    return tree


def _pypi_tree(count: int) -> dict[str, File]:
    tree: dict[str, File] = {}
    site = "usr/local/lib/python3.11/site-packages"
    for i in range(count):
        name, version = f"synth_dist{i}", f"{i % 9}.{i % 4}.{i % 6}"
        text = (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: synthetic distribution {i}\n"
            f"Home-page: https://example.org/pypi/{i}\nAuthor: Synth Dev\nAuthor-email: dev{i % 5}@example.org\n"
            f"License: {_license(i + 2)}\nRequires-Python: >=3.8\n\nLong description.\n"
        )
        tree[f"{site}/{name}-{version}.dist-info/METADATA"] = File(text.encode())
        tree[f"{site}/{name}-{version}.dist-info/RECORD"] = File(f"{name}/__init__.py,,\n".encode())
        tree[f"{site}/{name}/__init__.py"] = File(b"")
    return tree


def write_package_image(dest: Path, packages: int) -> str:
    """An OCI layout at ``dest`` (tag ``1``) with ``packages`` packages split over deb, npm and pypi.

    Returns the ``oci:`` reference of the image.
    """
    deb = packages // 3
    npm = packages // 3
    pypi = packages - deb - npm
    base = {"etc/os-release": File(OS_RELEASE), "bin/sh": File(b"\x7fELF", mode=0o755)}
    steps = [
        Step("ADD rootfs.tar /", build_layer(base)),
        Step(f"RUN apt-get install {deb} packages", build_layer(_deb_tree(deb))),
        Step(f"RUN npm install {npm} packages", build_layer(_npm_tree(npm))),
        Step(f"RUN pip install {pypi} packages", build_layer(_pypi_tree(pypi))),
    ]
    image = build_image(ImageSpec(platform=Platform("linux", "amd64"), steps=steps, config={"Cmd": ["/bin/sh"]}))
    write_layout(dest, [("1", image.manifest)], image.blobs())
    return f"oci:{dest}:1"
