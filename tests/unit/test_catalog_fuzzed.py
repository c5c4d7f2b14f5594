"""Damaged files found by mutating real test data (``scripts/fuzz_catalogers.py``).

Each used to escape its cataloger as a library exception (recorded only as "could not parse it
(IndexError: ...)"); each is now the cataloger's own one-line reason, or read past.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from provenant.catalog.base import CatalogError
from provenant.catalog.composer import ComposerCataloger
from provenant.catalog.conda import CondaCataloger
from provenant.catalog.java import JavaCataloger
from provenant.catalog.npm import NpmCataloger
from provenant.catalog.python import PythonCataloger
from provenant.catalog.rpm import RpmCataloger
from provenant.catalog.rust import RustCataloger
from provenant.structured import load_json_text

DATA = Path(__file__).resolve().parents[1] / "data" / "catalog"
SITE = "usr/lib/python3/dist-packages"
COMPOSER = "app/vendor/composer/installed.json"


def test_record_with_a_carriage_return_in_a_path_is_a_catalog_error() -> None:
    record = b"pkg/__init__.py,sha256=abc,10\npkg/a\rb.py,,\npkg/c.py,,\n"
    with pytest.raises(CatalogError, match=r"^RECORD is not valid CSV at line 2; its file list is not read$"):
        PythonCataloger().parse(f"{SITE}/pkg-1.0.dist-info/RECORD", record)


def test_record_still_read_when_whole() -> None:
    record = b"pkg/__init__.py,sha256=abc,10\n\n../../../bin/x,,\n"
    parsed = PythonCataloger().parse(f"{SITE}/pkg-1.0.dist-info/RECORD", record)
    assert parsed.facts["files"] == [f"{SITE}/pkg/__init__.py", "usr/bin/x"]


def _jar_with_unnamed_entry() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        manifest = "Manifest-Version: 1.0\nImplementation-Title: demo\nImplementation-Version: 2.1\n"
        z.writestr("META-INF/MANIFEST.MF", manifest)
        z.writestr(zipfile.ZipInfo(""), b"no name")  # a central directory entry whose name is empty
        z.writestr("lib/inner.jar", b"not a zip")
    return buf.getvalue()


def test_archive_entry_without_a_name_is_passed_over() -> None:
    parsed = JavaCataloger().parse("app/lib/demo-2.1.jar", _jar_with_unnamed_entry())
    assert [(p.name, p.version) for p in parsed.packages] == [("demo", "2.1")]
    # The other entries are still looked at: the nested "jar" is reported, the unnamed one is not.
    assert len(parsed.issues) == 1
    assert parsed.issues[0].startswith("demo-2.1.jar!/lib/inner.jar: nested archive unreadable")


def test_sqlite_rpmdb_schema_that_is_not_utf8_is_a_catalog_error() -> None:
    data = (DATA / "rpm" / "cbl-mariner-2.0.rpmdb.sqlite").read_bytes()
    assert data.count(b"indexTriggername") == 6  # the index's name in the schema (and its older copies)
    damaged = data.replace(b"indexTriggername", b"indexTri\x9dgername")
    msg = r"^sqlite rpm database unreadable: its schema is damaged \(not UTF-8 text\)$"
    with pytest.raises(CatalogError, match=msg):
        RpmCataloger().parse("var/lib/rpm/rpmdb.sqlite", damaged)
    # The same file undamaged is read (the damage, not the file, is what fails).
    assert RpmCataloger().parse("var/lib/rpm/rpmdb.sqlite", data).packages


@pytest.mark.parametrize(
    ("only", "runs", "seeds"),
    [
        ([], 2500, r"\d+"),
        # One damaged package file in an image, `sbom --validate` in every format (slow: a whole scan a run).
        (["--only", "@sbom"], 150, "27"),
    ],
)
def test_seeded_damage_to_every_seed_ends_as_catalog_errors(
    tmp_path: Path, only: list[str], runs: int, seeds: str
) -> None:
    """A fixed run of the fuzzer (the same damaged inputs every time): nothing escapes, nothing is slow."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_catalogers.py"
    out = tmp_path / "findings"
    cmd = [sys.executable, str(script), *only, "--runs", str(runs), "--seed", "1", "--timeout", "20", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.fullmatch(rf"{runs} runs over {seeds} seeds, seed 1: 0 finding\(s\); peak RSS \d+ MB\n", done.stdout)
    assert not out.exists()  # a finding's input is written only when there is one


# Values of the wrong JSON type, empty names and lone-surrogate escapes (found with the JSON-aware damage).


def _composer(entry: dict[str, object], **doc: object) -> bytes:
    return json.dumps({"packages": [{"name": "acme/lib", "version": "1.2.0", **entry}], **doc}).encode()


def test_composer_values_of_the_wrong_type() -> None:
    cat = ComposerCataloger()
    (pkg,) = cat.parse(COMPOSER, _composer({"license": "MIT", "authors": 7.5})).packages
    assert (pkg.licenses, pkg.supplier) == (["MIT"], None)  # one string is one license (it was split in letters)
    (pkg,) = cat.parse(COMPOSER, _composer({"license": True}, **{"dev-package-names": [{"a": 1}, "acme/lib"]})).packages
    assert (pkg.licenses, pkg.metadata.get("dev")) == ([], "true")


def test_npm_values_of_the_wrong_type_and_empty_names() -> None:
    cat = NpmCataloger()
    path = "app/node_modules/x/package.json"
    doc = {"name": "x", "version": "1.0.0", "licenses": 3, "author": ["someone"]}
    (pkg,) = cat.parse(path, json.dumps(doc).encode()).packages
    assert (pkg.licenses, pkg.supplier) == ([], None)
    doc = {"name": "x", "version": "1.0.0", "licenses": {"type": "ISC"}, "author": {"name": "A", "email": 5}}
    (pkg,) = cat.parse(path, json.dumps(doc).encode()).packages
    assert (pkg.licenses, pkg.supplier) == (["ISC"], "A")
    for name in ("@scope/", ""):
        with pytest.raises(CatalogError, match="empty name or version"):
            cat.parse(path, json.dumps({"name": name, "version": "1.0.0"}).encode())


def test_conda_values_of_the_wrong_type_and_empty_names() -> None:
    cat = CondaCataloger()
    path = "opt/conda/conda-meta/zlib-1.2.11-0.json"
    (pkg,) = cat.parse(path, json.dumps({"name": "zlib", "version": "1.2.11", "files": 0.5}).encode()).packages
    assert pkg.files == []
    with pytest.raises(CatalogError, match="without a name and version"):
        cat.parse(path, json.dumps({"name": " ", "version": "1.2.11"}).encode())


def test_cargo_lock_package_that_is_not_an_array_and_empty_names() -> None:
    cat = RustCataloger()
    with pytest.raises(CatalogError, match=r"\[\[package\]\] is not an array of tables"):
        cat.parse("app/Cargo.lock", b"version = 3\npackage = 3\n")
    lock = b'version = 3\n[[package]]\nname = ""\nversion = "1"\n[[package]]\nname = "serde"\nversion = "1.0.0"\n'
    parsed = cat.parse("app/Cargo.lock", lock)
    assert [p.name for p in parsed.packages] == ["serde"]
    assert parsed.issues == ["package 0: no name and version; skipped"]


def test_lone_surrogates_in_package_json_become_replacement_characters() -> None:
    doc = b'{"name": "caf\\udce9", "version": "1.0.\\ud800", "description": "ok \\ud83d\\ude00"}'
    (pkg,) = NpmCataloger().parse("app/node_modules/cafe/package.json", doc).packages
    assert (pkg.name, pkg.version, pkg.description) == ("caf\ufffd", "1.0.\ufffd", "ok \U0001f600")
    assert pkg.purl == "pkg:npm/caf%ef%bf%bd@1.0.%EF%BF%BD"  # the npm purl type lowercases names


def test_jar_named_in_a_byte_that_is_not_utf8() -> None:
    manifest = "Manifest-Version: 1.0\n"  # no name or version inside: both come from the file name
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", manifest)
    (pkg,) = JavaCataloger().parse("app/lib/caf\udce9-2.0.jar", buf.getvalue()).packages
    assert (pkg.name, pkg.version) == ("caf\ufffd", "2.0")
    assert pkg.purl is not None and "caf%EF%BF%BD@2.0" in pkg.purl


def test_load_json_text_keeps_order_and_pairs() -> None:
    raw = b'{"b\\udce9": 1, "a": ["\\ud800", {"c": "\\ud83d\\ude00"}], "z": "plain"}'
    doc = load_json_text(raw, "test")
    assert list(doc) == ["b\ufffd", "a", "z"]
    assert doc["a"] == ["\ufffd", {"c": "\U0001f600"}]
    deep = b"[" * 200 + b'"\\udce9"' + b"]" * 200
    inner = load_json_text(deep, "test")
    for _ in range(199):
        inner = inner[0]
    assert inner == ["\ufffd"]
    assert load_json_text(b'{"a": "\\\\udce9"}', "test") == {"a": "\\udce9"}  # an escaped backslash, not a surrogate
