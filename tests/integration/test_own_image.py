"""provenant's own Dockerfile, built with buildah and checked with ``policy check --policy strict``.

There is no internet registry here, so the base is honest but local: Debian bookworm with python3 made by
mmdebstrap from Debian's packages, pushed to the loopback registry and passed pinned by digest as the
Dockerfile's BASE build-arg (the file's own default is python:3.12-slim-bookworm by digest). The build's
RUN steps reach PyPI with the host's pip CA configuration mounted (a TLS-inspecting proxy needs it); the
Dockerfile itself is unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures import Registry

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("PROVENANT_TEST_DATA", Path.home() / ".cache" / "provenant-test-data"))
BASE_PACKAGES = "python3,python3-venv,ca-certificates"


def _run(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, check=False, timeout=900, **kw)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{args[:3]}: {proc.stderr[-3000:]}"
    return proc  # type: ignore[no-any-return]


def _base_tar() -> Path:
    """Debian bookworm minbase + python3 as a rootfs tarball (cached between runs; ~1.5 min to make)."""
    tar = DATA / "own-image-base-v1" / "base.tar"
    if not tar.exists():
        tar.parent.mkdir(parents=True, exist_ok=True)
        part = tar.with_suffix(".part")
        _run(["mmdebstrap", "--variant=minbase", f"--include={BASE_PACKAGES}",
              "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr", "--format=tar", "bookworm", str(part)],
             env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})  # fmt: skip
        part.rename(tar)
    return tar


def test_dockerfile_builds_non_root_without_build_tooling(registry: Registry, tmp_path: Path) -> None:
    for tool in ("buildah", "mmdebstrap"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed (scripts/setup.sh installs it)")
    b = ["buildah", "--root", str(tmp_path / "store"), "--runroot", str(tmp_path / "run"), "--storage-driver", "vfs"]
    # The base: the rootfs as one layer, pushed and pinned by digest.
    ctr = _run([*b, "from", "scratch"]).stdout.strip()
    _run([*b, "add", ctr, str(_base_tar()), "/"])
    _run([*b, "config", "--cmd", "/usr/bin/python3", ctr])
    _run([*b, "commit", "-q", ctr, "own-base:12"])
    base_digest_file = tmp_path / "base.digest"
    _run([*b, "push", "-q", "--tls-verify=false", "--digestfile", str(base_digest_file), "own-base:12",
          f"docker://{registry.host}/own-base:12"])  # fmt: skip
    base = f"{registry.host}/own-base@{base_digest_file.read_text().strip()}"

    ca = os.environ.get("PIP_CERT") or ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"
    pip_conf = tmp_path / "pip.conf"
    pip_conf.write_text("[global]\ncert = /etc/provenant-build-ca.crt\n")
    _run([*b, "bud", "--isolation", "chroot", "--tls-verify=false", "-q",
          "-v", f"{ca}:/etc/provenant-build-ca.crt:ro", "-v", f"{pip_conf}:/etc/pip.conf:ro",
          "--build-arg", f"BASE={base}", "-t", "provenant:own", "-f", str(ROOT / "Dockerfile"), str(ROOT)])  # fmt: skip
    digest_file = tmp_path / "own.digest"
    _run([*b, "push", "-q", "--tls-verify=false", "--digestfile", str(digest_file), "provenant:own",
          f"docker://{registry.host}/provenant-own:test"])  # fmt: skip
    ref = f"{registry.host}/provenant-own@{digest_file.read_text().strip()}"

    # The image runs provenant as a non-root user.
    run_ctr = _run([*b, "from", "-q", "provenant:own"]).stdout.strip()
    ran = _run([*b, "run", "--isolation", "chroot", run_ctr, "--", "sh", "-c", "id -u && provenant version --json"])
    uid, _, versions = ran.stdout.partition("\n")
    assert uid == "65532"
    assert json.loads(versions)["provenant"]

    check = subprocess.run(
        [sys.executable, "-m", "provenant", "policy", "check", ref, "--policy", "strict", "--format", "json",
         "--dockerfile", str(ROOT / "Dockerfile"), "--build-arg", f"BASE={base}", "--no-cache"],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    # strict denies a local build (no signed provenance, no SBOM attestation, one platform, a base outside its
    # allow-list); everything the Dockerfile itself controls passes.
    assert check.returncode == 1, check.stderr
    report = json.loads(check.stdout)
    status = {(f["check"], f["subject"]): f["status"] for r in report["results"] for f in r["findings"]}
    for check_id in ("user.non-root", "tooling.build-tools", "caches.package-manager", "secrets.none",
                     "size.wasted", "licenses.denied"):  # fmt: skip
        assert status[(check_id, "linux/amd64")] == "pass", (check_id, status)
    assert status[("pinning.digest", "image")] == "pass"
    base_findings = [f for r in report["results"] for f in r["findings"] if f["check"] == "pinning.base-digest"]
    assert len(base_findings) == 2 and all(f["status"] == "pass" for f in base_findings)  # both FROM lines
    assert status[("provenance.present", "linux/amd64")] == "fail"
