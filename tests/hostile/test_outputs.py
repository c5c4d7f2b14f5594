"""Hostile images against every text renderer: terminal escapes and rich markup in image metadata.

Each case writes an OCI image layout whose config (labels, env, user, author, entrypoint, cmd, history),
annotations, platform strings, package names and attestation predicate types carry terminal escape
sequences (window title, clear screen, OSC 52 clipboard write, OSC 8 hidden link), C1 controls and rich
markup, then runs the CLI and asserts that stdout shows them escaped and never raw. Also: manifests and
configs nested 100k deep, and ``report`` on an index of thousands of platforms.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from tests.fakeregistry import OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST
from tests.hostile.harness import Outcome, Sandbox, run_cli

IN_TOTO = "application/vnd.in-toto+json"

# Every kind of hostile text at once: title, clear screen, clipboard, hidden link, C1 CSI, rich markup.
TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
LINK = "\x1b]8;;http://x\x1b\\shown\x1b]8;;\x1b\\"
C1 = "\x9b31m"
MARKUP = "[link=http://evil]x[/link] [bold]b[/bold] [/]"
EVIL = f"v{TITLE}{CLEAR}{CLIPBOARD}{LINK}{C1}{MARKUP}"
#: What a renderer must show instead of the raw controls.
ESCAPED = ("\\x1b]0;pwned\\x07", "\\x1b[2J", "\\x1b]52;c;", "\\x1b]8;;http://x", "\\x9b31m")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


class Layout:
    """An OCI image layout written blob by blob; ``finish`` writes index.json."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True)
        (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')

    def blob(self, data: bytes, media_type: str, **extra: Any) -> dict[str, Any]:
        digest = _digest(data)
        (self.root / "blobs" / "sha256" / digest.removeprefix("sha256:")).write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data), **extra}

    def image(
        self, config: dict[str, Any], layers: list[bytes], annotations: dict[str, str] | None = None
    ) -> dict[str, Any]:
        diff_ids = [_digest(gzip.decompress(b)) for b in layers]
        config = {**config, "rootfs": {"type": "layers", "diff_ids": diff_ids}}
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self.blob(_json(config), OCI_CONFIG),
            "layers": [self.blob(b, OCI_LAYER_GZIP) for b in layers],
        }
        if annotations:
            manifest["annotations"] = annotations
        return self.blob(_json(manifest), OCI_MANIFEST)

    def finish(self, top: dict[str, Any], tag: str = "1") -> str:
        top = {**top, "annotations": {"org.opencontainers.image.ref.name": tag}}
        (self.root / "index.json").write_bytes(_json({"schemaVersion": 2, "manifests": [top]}))
        return f"oci:{self.root}:{tag}"


def _layer(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def _evil_config(arch: str = "amd64", variant: str | None = None) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "architecture": arch,
        "os": "linux",
        "created": "2025-01-01T00:00:00Z",
        "author": f"author {EVIL}",
        "config": {
            "User": f"user{EVIL}",
            "Env": [f"PATH=/usr/bin{EVIL}", f"EVIL{TITLE}=x"],
            "Labels": {"org.example.label": f"label {EVIL}", f"key{CLEAR}": "v"},
            "Entrypoint": [f"/bin/entry{EVIL}"],
            "Cmd": [f"cmd{EVIL}"],
        },
        "history": [{"created": "2025-01-01T00:00:00Z", "created_by": f"RUN make {EVIL}"}],
    }
    if variant:
        cfg["variant"] = variant
    return cfg


def _evil_layer() -> bytes:
    pkg = {"name": f"evil-pkg{EVIL}", "version": f"1.0.0{EVIL}", "license": f"MIT{EVIL}"}
    return _layer({"usr/lib/node_modules/evil/package.json": _json(pkg)})


def _evil_image(root: Path, *, arch: str = "amd64", with_attestation: bool = True) -> str:
    """An index of one hostile platform (arch may itself be hostile) and an in-index attestation."""
    lay = Layout(root)
    platform = {"architecture": arch, "os": "linux"}
    img = lay.image(_evil_config(arch), [_evil_layer()], annotations={f"org.example.note{TITLE}": f"note {EVIL}"})
    entries = [{**img, "platform": platform}]
    if with_attestation:
        statement = {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": f"image{EVIL}", "digest": {"sha256": img["digest"].removeprefix("sha256:")}}],
            "predicateType": f"https://example.com/predicate{EVIL}",
            "predicate": {"note": EVIL},
        }
        layer = lay.blob(
            _json(statement), IN_TOTO, annotations={"in-toto.io/predicate-type": statement["predicateType"]}
        )
        att_manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": lay.blob(b"{}", "application/vnd.oci.image.config.v1+json"),
            "layers": [layer],
        }
        att = lay.blob(_json(att_manifest), OCI_MANIFEST)
        entries.append(
            {
                **att,
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {
                    "vnd.docker.reference.digest": img["digest"],
                    "vnd.docker.reference.type": "attestation-manifest",
                },
            }
        )
    index = lay.blob(_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}), OCI_INDEX)
    return lay.finish(index)


def _assert_clean(out: Outcome, *expected: str) -> None:
    """No raw control character that a terminal acts on; the escaped forms shown instead."""
    for stream in (out.stdout, out.stderr):
        for raw in ("\x1b", "\x9b", "\x07", "\x9d"):
            assert raw not in stream, f"raw {raw!r} in output: {stream[:2000]!r}"
    for text in expected:
        assert text in out.stdout, f"{text!r} not in {out.stdout[:3000]!r}"


def test_inspect_shows_hostile_metadata_escaped(sandbox: Sandbox) -> None:
    ref = _evil_image(sandbox.work / "layout")
    out = run_cli(["inspect", ref], sandbox)
    out.assert_bounded(exit_code=0)
    _assert_clean(out, *ESCAPED)
    # rich markup in values is printed as written, not interpreted (a link would vanish into "x").
    assert "[link=http://evil]x[/link]" in out.stdout and "[bold]b[/bold]" in out.stdout
    for where in ("user", "/bin/entry", "cmd", "label ", "author ", "RUN make", "note "):
        assert f"{where}v\\x1b]0;pwned" in out.stdout or f"{where} v\\x1b]0;pwned" in out.stdout, where


def test_inspect_platform_string_with_markup(sandbox: Sandbox) -> None:
    # `arm64[/]` raised rich's MarkupError: a traceback and exit 1 ("denied" to CI).
    ref = _evil_image(sandbox.work / "layout", arch="arm64[/]", with_attestation=False)
    out = run_cli(["inspect", ref], sandbox)
    out.assert_bounded(exit_code=0)
    _assert_clean(out, "linux/arm64[/]")


def test_sbom_table_escapes_package_fields(sandbox: Sandbox) -> None:
    ref = _evil_image(sandbox.work / "layout", with_attestation=False)
    out = run_cli(["sbom", ref, "-o", "table"], sandbox)
    out.assert_bounded(exit_code=0)
    _assert_clean(out, "evil-pkgv\\x1b]0;pwned\\x07", "1.0.0v\\x1b[2J".replace("[2J", "]0;pwned"))


def test_sbom_json_stays_exact(sandbox: Sandbox) -> None:
    ref = _evil_image(sandbox.work / "layout", with_attestation=False)
    out = run_cli(["sbom", ref, "-o", "cyclonedx-json"], sandbox)
    out.assert_bounded(exit_code=0)
    doc = json.loads(out.stdout)
    names = [c["name"] for c in doc["components"] if c.get("type") == "library"]
    assert f"evil-pkg{EVIL}" in names  # the data itself is not altered: JSON escapes it


def test_sbom_cyclonedx_xml_is_well_formed(sandbox: Sandbox) -> None:
    ref = _evil_image(sandbox.work / "layout", with_attestation=False)
    out = run_cli(["sbom", ref, "-o", "cyclonedx-xml"], sandbox)
    out.assert_bounded(exit_code=0)
    root = ET.fromstring(out.stdout.encode())
    names = [el.text or "" for el in root.iter() if el.tag.endswith("}name")]
    assert any(n.startswith("evil-pkgv") for n in names), names


def test_attestations_escape_predicate_types_and_subjects(sandbox: Sandbox) -> None:
    ref = _evil_image(sandbox.work / "layout")
    out = run_cli(["attestations", ref], sandbox)
    out.assert_bounded(exit_code=0)
    _assert_clean(out, "predicatev\\x1b]0;pwned\\x07")


def _policy(sandbox: Sandbox, extra: str = "") -> Path:
    path = sandbox.work / "policy.yaml"
    path.write_text(
        "apiVersion: provenant/v1\nkind: ImagePolicy\nimages: ['**']\n"
        "defaults: {action: deny, onMissingData: warn}\n"
        "checks:\n  user: {}\n  secrets: {}\n  licenses: {denied: [GPL-3.0-only]}\n" + extra
    )
    return path


def test_policy_text_github_and_junit(sandbox: Sandbox) -> None:
    ref = _evil_image(sandbox.work / "layout")
    policy = _policy(sandbox)
    text = run_cli(["policy", "check", ref, "--policy", str(policy)], sandbox)
    text.assert_bounded(exit_code=text.exit_code)
    assert text.exit_code in (0, 1), text.summary()
    _assert_clean(text)
    github = run_cli(["policy", "check", ref, "--policy", str(policy), "--format", "github"], sandbox)
    assert github.exit_code in (0, 1), github.summary()
    _assert_clean(github)
    for line in github.stdout.splitlines():
        assert line.startswith("::"), line  # nothing a value wrote started a line (or a workflow command) of its own
    junit = run_cli(["policy", "check", ref, "--policy", str(policy), "--format", "junit"], sandbox)
    assert junit.exit_code in (0, 1), junit.summary()
    _assert_clean(junit)
    ET.fromstring(junit.stdout.encode())


def test_compare_escapes_platforms_and_packages(sandbox: Sandbox) -> None:
    lay = Layout(sandbox.work / "layout")
    entries = []
    for arch in ("amd64", "arm64[/]"):
        img = lay.image(_evil_config(arch), [_evil_layer() if arch == "amd64" else _layer({"x": b"1"})])
        entries.append({**img, "platform": {"architecture": arch, "os": "linux"}})
    index = lay.blob(_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}), OCI_INDEX)
    ref = lay.finish(index)
    out = run_cli(["compare", ref], sandbox)
    out.assert_bounded(exit_code=0)
    _assert_clean(out, "linux/arm64[/]", "evil-pkgv\\x1b]0;pwned\\x07")
    md = run_cli(["compare", ref, "-o", "markdown"], sandbox)
    md.assert_bounded(exit_code=0)
    _assert_clean(md, "\\x1b]0;pwned")


def test_diff_escapes_config_changes(sandbox: Sandbox) -> None:
    refs = []
    for n, cfg in enumerate((_evil_config(), {"architecture": "amd64", "os": "linux", "config": {}})):
        lay = Layout(sandbox.work / f"layout{n}")
        img = lay.image(cfg, [_evil_layer() if n == 0 else _layer({"x": b"1"})])
        refs.append(lay.finish(img))
    out = run_cli(["diff", *refs], sandbox)
    out.assert_bounded(exit_code=0)
    _assert_clean(out, "labelv\\x1b]0;pwned".replace("labelv", "label v"), "evil-pkgv\\x1b]0;pwned")


# --- structured input nested 100k deep ----------------------------------------------------------------

DEEP = 100_000


def test_manifest_nested_deep(sandbox: Sandbox) -> None:
    lay = Layout(sandbox.work / "layout")
    deep = b'{"schemaVersion":2,"mediaType":"' + OCI_MANIFEST.encode() + b'","x":' + b"[" * DEEP + b"]" * DEEP + b"}"
    ref = lay.finish(lay.blob(deep, OCI_MANIFEST))
    out = run_cli(["inspect", ref], sandbox)
    # Names the document and the limit (the CLI's RecursionError backstop could say neither).
    out.assert_bounded(exit_code=2, error="over the json-depth limit of 256")
    assert "manifest" in out.stderr, out.summary()


def test_config_nested_deep(sandbox: Sandbox) -> None:
    lay = Layout(sandbox.work / "layout")
    deep = b'{"architecture":"amd64","os":"linux","x":' + b"[" * DEEP + b"]" * DEEP + b"}"
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": lay.blob(deep, OCI_CONFIG),
        "layers": [],
    }
    ref = lay.finish(lay.blob(_json(manifest), OCI_MANIFEST))
    out = run_cli(["inspect", ref], sandbox)
    out.assert_bounded(exit_code=2, error="over the json-depth limit of 256")
    assert f"config {manifest['config']['digest']}" in out.stderr, out.summary()


# --- an index of thousands of platforms ------------------------------------------------------------------


def _wide_index(root: Path, n: int) -> str:
    """An index of ``n`` platforms (distinct manifests and configs) sharing one base layer."""
    lay = Layout(root)
    base = _layer({"etc/os-release": b"ID=hostile\n"})
    entries = []
    for i in range(n):
        cfg = {"architecture": "amd64", "os": "linux", "variant": f"x{i}", "config": {"Labels": {"n": str(i)}}}
        img = lay.image(cfg, [base])
        entries.append({**img, "platform": {"architecture": "amd64", "os": "linux", "variant": f"x{i}"}})
    index = lay.blob(_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}), OCI_INDEX)
    return lay.finish(index)


def test_report_on_an_index_over_the_platforms_limit(sandbox: Sandbox) -> None:
    ref = _wide_index(sandbox.work / "layout", 10_000)
    out = run_cli(["report", ref, "-o", str(sandbox.cache / "report.html")], sandbox)
    out.assert_bounded(exit_code=2, error="over the platforms limit of 1024")
    assert "10000 manifests" in out.stderr, out.summary()


def test_report_on_a_wide_index_is_linear(sandbox: Sandbox) -> None:
    # Raised limit, 2000 platforms sharing one layer: every row used to list every other platform.
    n = 2000
    ref = _wide_index(sandbox.work / "layout", n)
    dest = sandbox.cache / "report.html"  # the harness counts any other file written as a stray write
    out = run_cli(["--limit", f"platforms={n}", "report", ref, "-o", str(dest)], sandbox)
    out.assert_bounded(exit_code=0)
    html = dest.read_text()
    assert f"and {n - 1 - 16} more" in html
    assert len(html) < 40 * n * 1024  # linear: tens of KB per platform, not n x n names
