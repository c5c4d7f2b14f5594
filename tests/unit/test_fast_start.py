"""Fast start: ``--help`` and ``inspect --raw`` import neither httpx nor pydantic nor rich.

Start-up was most of an ``inspect --raw`` run (~16x skopeo's time on a local registry): every command
built the pydantic ``Limits`` model, and the raw manifest came through the httpx client. Each test runs
the real CLI in a fresh interpreter under ``-X importtime`` and reads which modules it imported.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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


def _apk_layout(tmp: Path) -> Path:
    """A one-layer OCI layout holding one apk package (with a license): a cataloged, encoded image."""
    from fixtures.layers import File, build_layer
    from fixtures.ociimage import ImageSpec, Platform, Step, build_image, write_layout

    db = b"P:musl\nV:1.2.4-r2\nL:MIT\nA:x86_64\n\n"
    layer = build_layer({"lib/apk/db/installed": File(db)})
    image = build_image(ImageSpec(platform=Platform("linux", "amd64"), steps=[Step("COPY", layer)], config={}))
    layout = tmp / "layout"
    write_layout(layout, [("1", image.manifest)], image.blobs())
    return layout


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "table"])
def test_sbom_loads_neither_the_httpx_cli_nor_pydantic_plugins(tmp_path: Path, fmt: str) -> None:
    """A cold ``sbom`` pays only for what it runs: before, httpx's own CLI (rich, pygments: ~60 ms) was
    imported with httpx, and pydantic read every installed distribution's entry points (~30 ms)."""
    layout = _apk_layout(tmp_path)
    code = (
        "import json, sys\n"
        "from provenant.cli.main import cli\n"
        "try:\n"
        f"    cli(['sbom', '--no-cache', '-o', '{fmt}=' + sys.argv[2], 'oci:' + sys.argv[1] + ':1'], prog_name='p')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "import pydantic.plugin._loader as plugins\n"
        "print(json.dumps({'code': code, 'modules': sorted(sys.modules), 'plugins': plugins._plugins}))\n"
    )
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(layout), str(out)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
        check=False,
    )
    facts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert facts["code"] == 0, proc.stderr[-2000:]
    assert "musl" in out.read_text()
    loaded = {m.split(".")[0] for m in facts["modules"]}
    assert loaded.isdisjoint({"rich", "pygments"}), sorted(loaded & {"rich", "pygments"})
    # What only some images need is imported when one needs it (Java poms, Cargo.lock, rpmdb.sqlite).
    assert loaded.isdisjoint({"xml", "tomllib", "sqlite3"}), sorted(loaded & {"xml", "tomllib", "sqlite3"})
    assert facts["plugins"] is None  # pydantic never looked for plugins
    # The encoders of the other formats are not imported.
    others = {"provenant.sbom.cyclonedx_xml", "provenant.sbom.spdx_json", "provenant.sbom.validate"}
    assert others.isdisjoint(facts["modules"]), sorted(others & set(facts["modules"]))


def test_start_up_regexes_match_what_they_say() -> None:
    """The character classes spelled for a cheap compile match exactly the sets they stand for."""
    from provenant.jsontext import _NOT_ASCII
    from provenant.textsafe import _XML_BAD

    def xml_char(c: int) -> bool:  # XML 1.0 production [2] Char
        return c in (0x9, 0xA, 0xD) or 0x20 <= c <= 0xD7FF or 0xE000 <= c <= 0xFFFD or 0x10000 <= c <= 0x10FFFF

    every = "".join(map(chr, range(0x110000)))
    assert [ord(c) for c in _XML_BAD.findall(every)] == [c for c in range(0x110000) if not xml_char(c)]
    assert [ord(c) for c in _NOT_ASCII.findall(every)] == list(range(0x7F, 0x110000))


_GC_PROBE = (
    "import gc, json, runpy, sys\n"
    "from provenant.cli import startup\n"
    "state = {'collections': 0, 'at_pause': None, 'at_resume': None}\n"
    "def count(phase, info):\n"
    "    state['collections'] += phase == 'start'\n"
    "gc.callbacks.append(count)\n"
    "pause, resume = startup.pause, startup.resume\n"
    "def paused():\n"
    "    state['at_pause'] = state['at_pause'] if state['at_pause'] is not None else state['collections']\n"
    "    pause()\n"
    "def resumed():\n"
    "    state['at_resume'] = state['collections']\n"
    "    state['imported'] = sorted(m for m in ('provenant.sbom.generate', 'httpx', 'pydantic') if m in sys.modules)\n"
    "    resume()\n"
    "startup.pause, startup.resume = paused, resumed\n"
    "sys.argv = ['provenant', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('provenant', run_name='__main__')\n"
    "except SystemExit as exc:\n"
    "    state['code'] = exc.code\n"
    "state['enabled'], state['frozen'] = gc.isenabled(), gc.get_freeze_count()\n"
    "print(json.dumps(state))\n"
)


def _gc_probe(*args: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", _GC_PROBE, *args], capture_output=True, text=True, env=_env(), timeout=60, check=False
    )
    facts: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert facts["code"] in (0, None), proc.stderr[-2000:]
    return facts


def test_sbom_start_up_runs_no_cycle_collection(tmp_path: Path) -> None:
    """Start-up's imports are not walked by the collector (~110 collections, 20-35 ms of a small image's cold
    run before); it resumes once they are done, with them frozen, for the scan and the encoding."""
    out = tmp_path / "sbom.json"
    facts = _gc_probe("sbom", "--no-cache", "-o", f"cyclonedx-json={out}", f"oci:{_apk_layout(tmp_path)}:1")
    assert "musl" in out.read_text()
    assert facts["at_pause"] is not None and facts["at_resume"] == facts["at_pause"]  # none in between
    assert facts["imported"] == ["httpx", "provenant.sbom.generate", "pydantic"]  # after the heavy imports
    assert facts["enabled"] is True and isinstance(facts["frozen"], int) and facts["frozen"] > 10_000


def test_other_commands_collect_from_their_start(tmp_path: Path) -> None:
    facts = _gc_probe("cache", "dir")
    assert facts["at_resume"] is not None and facts["enabled"] is True


def test_cli_called_as_a_library_leaves_the_collector_alone() -> None:
    """Only the console entry point pauses it: ``cli(...)`` in a process (tests, embedders) changes nothing."""
    import gc

    from click.testing import CliRunner

    from provenant.cli.main import cli

    frozen = gc.get_freeze_count()
    assert CliRunner().invoke(cli, ["cache", "dir"]).exit_code == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen
