"""The harness itself must catch what it claims to catch; otherwise every hostile case could pass vacuously."""

from __future__ import annotations

from pathlib import Path

from tests.hostile.harness import Sandbox, isolated, run_cli, run_python
from tests.hostile.server import HostileServer, response


def test_a_clean_error_is_one_line_exit_2(sandbox: Sandbox) -> None:
    out = run_cli(["inspect", "oci:/nonexistent/layout"], sandbox)
    out.assert_bounded(exit_code=2)


def test_memory_is_measured_per_child(sandbox: Sandbox) -> None:
    # The child's own peak: ~300 MB when it allocates that much, a few MB when it allocates nothing, whatever
    # this pytest process holds (a fork of it would report the parent's pages as the child's).
    ballast = bytearray(200 << 20)
    ballast[::4096] = b"x" * len(ballast[::4096])
    big = run_python(["-c", "b = bytearray(300 << 20); b[::4096] = b'x' * len(b[::4096])"], sandbox)
    small = run_python(["-c", "pass"], sandbox)
    assert big.exit_code == 0 and small.exit_code == 0
    assert 290 < big.peak_rss_mb < 400, big.summary()
    assert small.peak_rss_mb < 40, small.summary()
    del ballast


def test_writes_outside_the_cache_are_seen(sandbox: Sandbox) -> None:
    (sandbox.work / "policy.yaml").write_text("not: [valid")
    out = run_cli(["policy", "validate", "policy.yaml"], sandbox)
    assert out.written_outside == []
    code = (
        "import os, pathlib, tempfile\n"
        "pathlib.Path('/tmp/stray-tmp').write_text('x')\n"
        "pathlib.Path('/var/tmp/stray-var').write_text('x')\n"
        "pathlib.Path('stray-cwd').write_text('x')\n"
        "pathlib.Path(os.environ['PROVENANT_CACHE_DIR'], 'allowed').write_text('x')\n"
        "f = tempfile.TemporaryFile()\n"  # unlinked at once, like SQLite's spill files: seen as disk use
        "f.write(b'\\0' * (100 << 20)); f.flush(); import time; time.sleep(0.5)\n"
    )
    out = run_python(["-c", code], sandbox)
    assert out.exit_code == 0, out.summary()
    names = sorted(Path(p).name for p in out.written_outside)
    assert names == ["stray-cwd", "stray-tmp", "stray-var"] if isolated(sandbox) else "stray-cwd" in names
    assert out.disk_mb >= 90, out.summary()
    if isolated(sandbox):
        assert not Path("/tmp/stray-tmp").exists()  # the child's /tmp was the sandbox's


def test_the_server_answers_scripted_bytes(server: HostileServer, sandbox: Sandbox) -> None:
    server.answer("GET", r"/v2/team/app/manifests/", response(500, b"\x1b]0;owned\x07 boom"))
    out = run_cli(["inspect", f"{server.host}/team/app:1"], sandbox, env={"PROVENANT_LIMIT_RETRIES": "0"})
    out.assert_bounded(exit_code=2)
