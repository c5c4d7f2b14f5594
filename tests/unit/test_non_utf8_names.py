"""Images whose file names are not UTF-8, and documents spelling lone surrogates (``\\udXXX``).

A tar entry named ``caf\\xe9`` (Latin-1) keeps its byte as a lone surrogate; pydantic-core refuses to
write one, which made every command that writes the layer cache (``sbom``, ``policy check``, ...)
end in an internal error on such an image, and ``-o json`` outputs likewise (found by
``scripts/fuzz_catalogers.py --only @image``). What is written must be valid UTF-8 JSON that reads
back to the same names.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pydantic import BaseModel

from fixtures.layers import LayerBlob
from fixtures.ociimage import Blob, ImageSpec, Platform, Step, build_image, write_layout
from provenant.catalog.registry import default_plan
from provenant.cli.main import cli
from provenant.jsontext import escape_surrogates, model_from_json, model_json
from provenant.layers.scan import LayerScan, scan_layer

DATA = Path(__file__).resolve().parents[1] / "data" / "catalog"
DIST_INFO = "usr/lib/python3/dist-packages/caf\udce9-1.0.dist-info/METADATA"  # b"caf\xe9", surrogateescape'd
PLAIN = "etc/r\udce9sum\udcff"


def _tar() -> bytes:
    buf = io.BytesIO()
    files = [
        (DIST_INFO, (DATA / "python/with-license-file-declared.dist-info/METADATA").read_bytes()),
        ("etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
        (PLAIN, b"x"),
    ]
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in files:
            info = tarfile.TarInfo(name)  # tarfile writes the surrogates back as the original bytes
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    assert b"caf\xe9-1.0.dist-info" in raw and b"r\xe9sum\xff" in raw
    return raw


def _layer() -> LayerBlob:
    tar = _tar()
    return LayerBlob(
        "application/vnd.oci.image.layer.v1.tar+gzip",
        gzip.compress(tar, mtime=0),
        "sha256:" + hashlib.sha256(tar).hexdigest(),
        len(tar),
    )


def test_layer_cache_entry_round_trips_names_that_are_not_utf8() -> None:
    layer = _layer()
    scan = scan_layer(iter([layer.data]), digest=layer.digest, diff_id=layer.diff_id, plan=default_plan())
    paths = [row[0] for row in scan.rows]
    assert DIST_INFO in paths and PLAIN in paths
    assert [c.path for c in scan.captured if c.cataloger == "python"] == [DIST_INFO]
    data = scan.to_json()
    doc = json.loads(data.decode("utf-8"))  # strict UTF-8: the names are written as \udce9 escapes
    assert b"caf\\udce9-1.0.dist-info" in data
    assert any(row[0] == PLAIN for row in doc["rows"])
    again = LayerScan.from_json(data)
    assert again.rows == scan.rows
    assert [(c.path, c.cataloger, c.parsed) for c in again.captured] == [
        (c.path, c.cataloger, c.parsed) for c in scan.captured
    ]
    assert again.issues == scan.issues


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    image = build_image(ImageSpec(Platform("linux", "amd64"), [Step("ADD rootfs /", _layer())], {"User": "app"}))
    dest = tmp_path / "layout"
    write_layout(dest, [("v1", image.manifest)], image.blobs())
    return dest


def _run(tmp_path: Path, *args: str) -> Result:
    env = {"PROVENANT_CACHE_DIR": str(tmp_path / "cache")}
    return CliRunner().invoke(cli, ["-q", *args], env=env, catch_exceptions=False)


def test_sbom_of_an_image_with_such_names_cold_and_cached(layout: Path, tmp_path: Path) -> None:
    cold = _run(tmp_path, "sbom", f"oci:{layout}:v1")
    assert (cold.exit_code, cold.stderr) == (0, "")
    assert list((tmp_path / "cache").rglob("*.json.gz")), "the layer's scan was cached"
    cached = _run(tmp_path, "sbom", f"oci:{layout}:v1")
    assert (cached.exit_code, cached.stdout) == (0, cold.stdout)
    out = _run(tmp_path, "sbom", "-o", "json", f"oci:{layout}:v1")
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout.encode("utf-8"))
    (pkg,) = [p for p in doc["images"][0]["packages"] if p["type"] == "pypi"]
    assert [loc["path"] for loc in pkg["locations"]] == [DIST_INFO]


def test_policy_check_of_such_an_image(layout: Path, tmp_path: Path) -> None:
    policy = str(Path(__file__).resolve().parents[2] / "policies" / "default.yaml")
    for fmt in ("text", "json"):
        out = _run(tmp_path, "policy", "check", "--policy", policy, "--format", fmt, f"oci:{layout}:v1")
        assert out.exit_code in (0, 1), out.stderr
        if fmt == "json":
            assert json.loads(out.stdout.encode("utf-8"))["verdict"] in ("pass", "warn", "deny")


@pytest.fixture
def odd_config(tmp_path: Path) -> Path:
    """A layout whose config and manifest spell such names as JSON escapes, as a registry may serve them."""
    image = build_image(ImageSpec(Platform("linux", "amd64"), [Step("ADD rootfs /", _layer())], {"User": "app"}))
    config = json.loads(image.config.data)
    config["config"].update(
        {"User": "app\udce9", "Env": ["A=caf\udce9"], "Labels": {"l\udce9": "v\ud800"}, "Entrypoint": ["/bin/\udce9"]}
    )
    config["history"][0]["created_by"] = "RUN echo caf\udce9"
    served_config = Blob(image.config.media_type, json.dumps(config, sort_keys=True).encode())
    manifest = json.loads(image.manifest.data)
    manifest["config"].update(digest=served_config.digest, size=served_config.size)
    served = Blob(image.manifest.media_type, json.dumps(manifest, sort_keys=True).encode())
    dest = tmp_path / "odd"
    write_layout(dest, [("v1", served)], [served_config, *image.layers])
    return dest


def test_text_outputs_show_such_bytes_escaped(odd_config: Path, layout: Path, tmp_path: Path) -> None:
    inspected = _run(tmp_path, "inspect", f"oci:{odd_config}:v1")
    assert inspected.exit_code == 0, inspected.stderr
    shown = [" ".join(line.split()) for line in inspected.stdout.splitlines()]
    for expected in ("User app\\xe9", "Entrypoint /bin/\\xe9", "Env A=caf\\xe9", "Label l\\xe9=v\\ud800"):
        assert expected in shown
    assert any("RUN echo caf\\xe9" in line for line in shown)
    diffed = _run(tmp_path, "diff", f"oci:{odd_config}:v1", f"oci:{layout}:v1")
    assert diffed.exit_code == 0, diffed.stderr
    assert "app\\xe9" in diffed.stdout
    report = tmp_path / "report.html"
    written = _run(tmp_path, "report", "-o", str(report), f"oci:{odd_config}:v1")
    assert written.exit_code == 0, written.stderr
    assert "RUN echo caf\\xe9" in report.read_bytes().decode("utf-8")


def test_inspect_json_of_an_index_spelling_a_lone_surrogate(tmp_path: Path) -> None:
    image = build_image(ImageSpec(Platform("linux", "amd64"), [Step("ADD rootfs /", _layer())], {"User": "app"}))
    manifest = json.loads(image.manifest.data)
    manifest["annotations"] = {"org.example.note": "\ud800 and caf\udce9"}
    # JSON's own escapes, as a registry may serve them (ensure_ascii writes lone surrogates so).
    served = Blob(image.manifest.media_type, json.dumps(manifest, sort_keys=True).encode())
    assert b"\\ud800 and caf\\udce9" in served.data
    dest = tmp_path / "layout"
    write_layout(dest, [("v1", served)], [image.config, *image.layers])
    out = _run(tmp_path, "inspect", "-o", "json", f"oci:{dest}:v1")
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout.encode("utf-8"))
    assert doc["annotations"]["org.example.note"] == "\ud800 and caf\udce9"


class _Doc(BaseModel):
    name: str
    labels: dict[str, str]
    sizes: list[tuple[str, int]]


def test_model_json_is_pydantics_own_text_unless_it_refuses() -> None:
    plain = _Doc(name="café ✓", labels={"a": "b"}, sizes=[("x", 1)])
    for indent in (None, 2):
        assert model_json(plain, indent=indent) == plain.model_dump_json(indent=indent)
    odd = _Doc(name="caf\udce9 ✓", labels={"k\udcff": "v\ud800"}, sizes=[("x\udce9", 1)])
    for indent in (None, 2):
        text = model_json(odd, indent=indent)
        separators = (",", ":") if indent is None else None
        assert text == escape_surrogates(
            json.dumps(json.loads(text), indent=indent, separators=separators, ensure_ascii=False)
        )
        assert "\\udce9 ✓" in text  # only the surrogates escaped, other characters as pydantic writes them
        assert model_from_json(_Doc, text.encode("utf-8"), "test") == odd
        assert json.loads(text) == odd.model_dump(mode="python") | {"sizes": [["x\udce9", 1]]}


def test_escape_surrogates_only_touches_surrogates() -> None:
    assert escape_surrogates('{"a": "é\udce9\ud83d"}') == '{"a": "é\\udce9\\ud83d"}'
    text = '{"a": "plain ✓"}'
    assert escape_surrogates(text) is text


def test_model_from_json_fallback_keeps_the_depth_limit() -> None:
    deep = b'{"name": "\\udce9", "labels": {}, "sizes": ' + b"[" * 300 + b"]" * 300 + b"}"
    with pytest.raises(ValueError, match=r"^stored thing: over the json-depth limit"):
        model_from_json(_Doc, deep, "stored thing")


def test_model_from_json_still_refuses_invalid_json() -> None:
    with pytest.raises(ValueError, match="Invalid JSON"):
        model_from_json(_Doc, b'{"name": "x"', "test")
    with pytest.raises(ValueError, match="Expecting"):
        model_from_json(_Doc, b'{"name": "\\udce9", ', "test")  # spells a surrogate, but broken: stdlib says so
    with pytest.raises(ValueError, match="labels"):
        model_from_json(_Doc, b'{"name": "\\udce9", "sizes": []}', "test")  # valid JSON, not the model


def test_fleet_stores_and_reads_back_such_an_image(layout: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "inventory.sqlite")
    scan = _run(tmp_path, "fleet", "scan", f"oci:{layout}", "--db", db)
    assert scan.exit_code == 0, scan.stderr
    assert "1 images (1 scanned, 0 unchanged, 0 failed)" in scan.stderr
    exported = tmp_path / "sbom.cdx.json"
    out = _run(tmp_path, "fleet", "export", f"{layout}:v1", "--db", db, "-o", f"cyclonedx-json={exported}")
    assert out.exit_code == 0, out.stderr
    fresh = tmp_path / "fresh.cdx.json"
    sbom = _run(tmp_path, "sbom", "-o", f"cyclonedx-json={fresh}", f"oci:{layout}:v1")
    assert sbom.exit_code == 0, sbom.stderr
    stored, scanned = (_strings(json.loads(f.read_bytes().decode("utf-8"))) for f in (exported, fresh))
    assert any(DIST_INFO in text for text in stored)  # the name as it was, read back from the database
    assert {t for t in stored if "dist-info" in t} == {t for t in scanned if "dist-info" in t}
    policy = str(Path(__file__).resolve().parents[2] / "policies" / "default.yaml")
    verdicts = _run(tmp_path, "fleet", "policy", "--policy", policy, "--db", db, "--format", "json")
    assert verdicts.exit_code == 0, verdicts.stderr
    assert "0 not evaluated" in verdicts.stderr


def _strings(doc: object) -> set[str]:
    if isinstance(doc, dict):
        return set().union(*(_strings(v) for v in doc.values())) if doc else set()
    if isinstance(doc, list):
        return set().union(*(_strings(v) for v in doc)) if doc else set()
    return {doc} if isinstance(doc, str) else set()
