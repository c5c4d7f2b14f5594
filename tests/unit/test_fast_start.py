"""Fast start: ``--help`` and ``inspect --raw`` import neither httpx nor pydantic nor rich.

Start-up was most of an ``inspect --raw`` run (~16x skopeo's time on a local registry): every command
built the pydantic ``Limits`` model, and the raw manifest came through the httpx client. Each test runs
the real CLI in a fresh interpreter under ``-X importtime`` and reads which modules it imported.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.unit.test_quick_resolve import MANIFEST, OCI_MANIFEST, Answer, Server

HEAVY = ("httpx", "httpcore", "pydantic", "pydantic_core", "rich")


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[bytes], set[str]]:
    """``python -X importtime -m provenant ARGS``: the process, and the top-level packages it imported."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "provenant", *args],
        capture_output=True,
        env=env,
        check=False,
        timeout=60,
    )
    imported = set()
    for line in proc.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            imported.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return proc, imported


@pytest.fixture
def registry() -> Iterator[Server]:
    """Serves MANIFEST for every manifest path (by tag, by any digest)."""

    def answer(method: str, path: str, headers: dict[str, str]) -> Answer:
        return 200, {"Content-Type": OCI_MANIFEST}, MANIFEST

    srv = Server(answer)
    yield srv
    srv.close()


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith("PROVENANT_")}


def test_help_imports_no_heavy_library() -> None:
    proc, imported = _run("--help", env=_env())
    assert proc.returncode == 0 and b"inspect" in proc.stdout
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))  # before: pydantic (via limits)


def test_inspect_raw_takes_the_lean_path(registry: Server) -> None:
    proc, imported = _run("inspect", "--raw", f"{registry.host}/team/app:1", env=_env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == MANIFEST  # the bytes exactly as served
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))  # before: httpx, pydantic, rich
    assert [(m, p) for m, p, _ in registry.requests] == [("GET", "/v2/team/app/manifests/1")]


def test_inspect_raw_by_digest_is_verified(registry: Server) -> None:
    digest = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
    proc, imported = _run("inspect", "--raw", f"{registry.host}/team/app@{digest}", env=_env())
    assert proc.returncode == 0 and proc.stdout == MANIFEST
    assert imported.isdisjoint(HEAVY)
    # Bytes that do not match the digest asked for: the lean path gives up, the full client reports it.
    wrong = "sha256:" + "0" * 64
    proc, imported = _run("inspect", "--raw", f"{registry.host}/team/app@{wrong}", env=_env())
    assert proc.returncode == 2 and proc.stdout == b""
    err = proc.stderr.decode().splitlines()
    assert [line for line in err if line.startswith("provenant: error:")] == [err[-1]]
    assert wrong in err[-1]
    assert "httpx" in imported


def test_options_the_lean_path_does_not_take_go_to_the_full_client(registry: Server) -> None:
    proc, imported = _run("inspect", "--raw", "--platform", "linux/amd64", f"{registry.host}/team/app:1", env=_env())
    assert proc.returncode == 0 and proc.stdout == MANIFEST
    assert "httpx" in imported


def test_tags_takes_the_lean_path() -> None:
    pages = {
        "/v2/team/app/tags/list": (
            b'{"name": "team/app", "tags": ["1", "2\\u001b[31m"]}',
            "/v2/team/app/tags/list?n=2",
        ),
        "/v2/team/app/tags/list?n=2": (b'{"name": "team/app", "tags": ["3"]}', None),
    }

    def answer(method: str, path: str, headers: dict[str, str]) -> Answer:
        body, nxt = pages[path]
        return 200, {"Content-Type": "application/json", **({"Link": f'<{nxt}>; rel="next"'} if nxt else {})}, body

    srv = Server(answer)
    try:
        proc, imported = _run("tags", f"{srv.host}/team/app", env=_env())
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout == b"1\n2\\x1b[31m\n3\n"  # escaped as the full path prints them
        assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))
        proc, imported = _run("tags", "-o", "json", f"{srv.host}/team/app", env=_env())
        assert proc.returncode == 0 and b'"3"' in proc.stdout
        assert "pydantic" in imported  # -o json is the model's JSON: the full path
    finally:
        srv.close()
