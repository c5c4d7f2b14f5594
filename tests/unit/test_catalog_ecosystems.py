"""Ruby, PHP Composer, .NET, Rust, conda and Python RECORD/direct_url.json on peers' real test data
(tests/data/catalog/SOURCE.md), with the peers' own expectations where they state them."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.layers import File
from provenant.catalog.composer import ComposerCataloger
from provenant.catalog.conda import CondaCataloger
from provenant.catalog.dotnet import DotnetCataloger
from provenant.catalog.ruby import RubyCataloger
from provenant.catalog.rust import RustCataloger
from tests.catalogdata.image import catalog_files

DATA = Path(__file__).resolve().parent.parent / "data" / "catalog"


def read(rel: str) -> bytes:
    return (DATA / rel).read_bytes()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rack-2.2.22.gemspec", ("pkg:gem/rack@2.2.22", "MIT", "Leah Neukirchen")),  # Debian's ruby-rack
        ("bundler.gemspec", ("pkg:gem/bundler@2.1.4", "MIT", None)),
        ("formatador.gemspec", ("pkg:gem/formatador@1.1.0", "MIT", "geemus (Wesley Beary)")),
    ],
)
def test_gemspecs_read_statically(name: str, expected: tuple[str, str, str | None]) -> None:
    path = f"usr/share/rubygems-integration/all/specifications/{name}"
    assert RubyCataloger().matches(path)
    (pkg,) = RubyCataloger().parse(path, read(f"ruby/{name}")).packages
    assert (pkg.purl, pkg.license_expression) == expected[:2]
    if expected[2] is not None:
        assert pkg.supplier == expected[2]
    else:
        assert pkg.supplier is not None and pkg.supplier.startswith("André Arko")  # \u00E9 decoded


def test_gemspec_licenses_as_declared() -> None:
    (pkg,) = RubyCataloger().parse("x/specifications/t.gemspec", read("ruby/multiple_licenses.gemspec")).packages
    assert (pkg.name, pkg.version, pkg.licenses) == ("test-unit", "3.3.7", ["Ruby", "BSDL", "PSFL"])


def test_gemfile_lock_matches_syft() -> None:
    got = RubyCataloger().parse("srv/app/Gemfile.lock", read("ruby/Gemfile.lock")).packages
    assert len(got) == 52  # syft's expectation for this file: GEM, GIT and PATH specs, no BAD-SECTION
    names = {p.name for p in got}
    assert {"google-cloud-errors", "turbolinks", "actionmailer"} <= names and "bad-entry" not in names


@pytest.mark.parametrize("version", ["composer_1", "composer_2"])
def test_composer_installed_json(version: str) -> None:
    path = "var/www/html/vendor/composer/installed.json"
    assert ComposerCataloger().matches(path)
    got = ComposerCataloger().parse(path, read(f"php/{version}/installed.json")).packages
    assert [(p.purl, p.license_expression) for p in got] == [
        ("pkg:composer/asm89/stack-cors@1.3.0", "MIT"),
        ("pkg:composer/behat/mink@v1.8.1", "MIT"),
    ]


def test_dotnet_deps_json() -> None:
    got = DotnetCataloger().parse("app/TestLibrary.deps.json", read("dotnet/TestLibrary.deps.json")).packages
    purls = {p.purl for p in got}
    assert len(got) == 14
    assert {"pkg:nuget/TestLibrary@1.0.0", "pkg:nuget/Newtonsoft.Json@13.0.1", "pkg:nuget/Serilog@2.10.0"} <= purls
    # trivy's happy.deps.json: the app project and its one package
    got = DotnetCataloger().parse("app/ExampleApp1.deps.json", read("dotnet/happy.deps.json")).packages
    assert [p.purl for p in got] == ["pkg:nuget/ExampleApp1@1.0.0", "pkg:nuget/Newtonsoft.Json@13.0.1"]


def test_cargo_lock() -> None:
    got = RustCataloger().parse("src/Cargo.lock", read("rust/Cargo.lock")).packages
    assert len(got) == 14 and got[0].purl == "pkg:cargo/ansi_term@0.12.1"


@pytest.mark.parametrize("size", [1, 7, 4096, 1 << 20])
def test_cargo_auditable_binary_streamed(size: int) -> None:
    data = read("rust/test.elf")
    parser = RustCataloger().stream("usr/local/bin/app", len(data))
    assert parser is not None
    for i in range(0, len(data), size):
        parser.feed(data[i : i + size])
    parsed = parser.close()
    assert parsed is not None and parsed.issues == []
    # trivy's expectation for this binary
    assert [p.purl for p in parsed.packages] == ["pkg:cargo/crate_with_features@0.1.0", "pkg:cargo/library_crate@0.1.0"]


def test_conda_meta() -> None:
    (pkg,) = (
        CondaCataloger().parse("opt/conda/conda-meta/zlib.json", read("conda/zlib-1.2.11-h90dfc92_1014.json")).packages
    )
    assert pkg.purl == "pkg:conda/zlib@1.2.11?build=h90dfc92_1014&channel=conda-forge&subdir=osx-arm64"
    assert pkg.license_expression == "Zlib"
    assert "opt/conda/lib/libz.dylib" in pkg.files  # relative to the environment


def test_images_with_ecosystem_files(tmp_path: Path) -> None:
    """Through the real scan: the Rust binary via the executable stream, RECORD and direct_url.json joined."""
    site = "usr/local/lib/python3.11/site-packages"
    info = "python/with-license-file-declared.dist-info"
    result = catalog_files(
        tmp_path,
        {
            "usr/local/bin/app": File(read("rust/test.elf"), 0o755),
            f"{site}/Pygments-2.6.1.dist-info/METADATA": File(read(f"{info}/METADATA")),
            f"{site}/Pygments-2.6.1.dist-info/RECORD": File(read(f"{info}/RECORD")),
            f"{site}/Pygments-2.6.1.dist-info/direct_url.json": File(read(f"{info}/direct_url.json")),
            "srv/app/vendor/composer/installed.json": File(read("php/composer_2/installed.json")),
            "opt/conda/conda-meta/zlib-1.2.11-h90dfc92_1014.json": File(read("conda/zlib-1.2.11-h90dfc92_1014.json")),
        },
    )
    assert result.issues == []
    by_type: dict[str, list[str]] = {}
    for p in result.packages:
        by_type.setdefault(p.type, []).append(p.purl or "")
    assert sorted(by_type) == ["cargo", "composer", "conda", "pypi"]
    assert by_type["cargo"] == ["pkg:cargo/crate_with_features@0.1.0", "pkg:cargo/library_crate@0.1.0"]
    (py,) = [p for p in result.packages if p.type == "pypi"]
    assert py.metadata["direct_url"] == "https://github.com/python-test/test.git"
    assert py.metadata["vcs_commit_id"] == "a" * 40
    assert "usr/local/bin/pygmentize" in py.files and f"{site}/pygments/util.py" in py.files
