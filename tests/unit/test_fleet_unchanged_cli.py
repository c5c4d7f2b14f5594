"""``fleet scan`` answered before click: the command line it accepts, and what it does with it.

:func:`provenant.cli.fleet_unchanged.parse` must read every command line it accepts exactly as click's
``fleet scan`` does (checked on a table and on thousands of random command lines against click's own
parser), and step aside on everything else. :func:`~provenant.cli.fleet_unchanged.run` answers an
unchanged registry with the full scan's line, and hands anything else to click without a second round
of HEAD requests.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
import pytest

from provenant.cli import fleet_unchanged
from provenant.cli.fleet_cmd import scan_cmd
from provenant.cli.fleet_unchanged import ScanArgs, parse, run
from tests.fleet.scripted import REPOS, TAGS, put_app, scripted_fleet
from tests.hostile.server import HostileServer

#: What click passes for the options this path does not accept, when they are not given.
CLICK_DEFAULTS = {
    "order": "semver",
    "workers": None,
    "executor": "local",
    "scheduler": None,
    "rescan": False,
    "policy_path": None,
    "keys": (),
    "insecure": False,
    "username": None,
    "password_stdin": False,
}


def _click(argv: list[str], environ: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any] | None:
    """The parameters click's ``fleet scan`` gets for ``argv`` (after ``fleet scan``), or None if it refuses them."""
    for var in ("PROVENANT_FLEET_DB", "PROVENANT_CACHE_DIR", "PROVENANT_ALLOW_PRIVATE_REDIRECTS"):
        monkeypatch.delenv(var, raising=False)
    for var, value in environ.items():
        monkeypatch.setenv(var, value)
    try:
        ctx = scan_cmd.make_context("scan", list(argv))
    except click.ClickException:
        return None
    params = dict(ctx.params)
    params.pop("cache_location", None)  # --cache-dir is not read by either unchanged path
    return params


def _as_click(args: ScanArgs) -> dict[str, Any]:
    return {
        "targets": args.targets,
        "db": args.db,
        "tag_globs": args.tag_globs,
        "newest": args.newest,
        "ca_file": args.ca_file,
        **CLICK_DEFAULTS,
    }


@pytest.fixture(autouse=True)
def _default_limits() -> Iterator[None]:
    """run() activates the limits its environment says (a 0.2 s deadline here and there): not for later tests."""
    yield
    from provenant import limits

    limits.reset()


@pytest.fixture
def ca(tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    path.write_text("not read by the parser\n")
    return str(path)


@pytest.mark.parametrize(
    ("argv", "environ"),
    [
        (["r/a"], {}),
        (["r/a", "r/b:1", "@refs.txt", "--db", "inv.sqlite"], {}),
        (["--db=inv.sqlite", "r/a"], {}),
        (["r/a", "--tag", "v*", "--tag=1.*", "--newest", "3"], {}),
        (["r/a", "--newest=12", "--tag=a=b"], {}),
        (["r/a", "--newest", "1"], {}),
        (["r/a"], {"PROVENANT_FLEET_DB": "env.sqlite"}),
        (["r/a", "--db", "flag.sqlite"], {"PROVENANT_FLEET_DB": "env.sqlite"}),
        (["r/a"], {"PROVENANT_FLEET_DB": ""}),
        (["r/a", "--ca-file", "CA"], {}),
    ],
)
def test_what_it_accepts_click_reads_the_same_way(
    argv: list[str], environ: dict[str, str], ca: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = [ca if a == "CA" else a for a in argv]
    got = parse(["fleet", "scan", *argv], environ)
    assert got is not None
    assert _as_click(got) == _click(argv, environ, monkeypatch)


@pytest.mark.parametrize(
    "argv",
    [
        ["fleet", "scan"],  # click: a target is required
        ["fleet", "scan", "r/a", "--rescan"],
        ["fleet", "scan", "r/a", "--db", "a", "--db", "b"],  # click keeps the last; left to it
        ["fleet", "scan", "r/a", "--newest", "0"],
        ["fleet", "scan", "r/a", "--newest", "+3"],
        ["fleet", "scan", "r/a", "--newest", "3.0"],
        ["fleet", "scan", "r/a", "--newest", "\u0663"],  # a digit, not an ASCII one
        ["fleet", "scan", "r/a", "--db"],
        ["fleet", "scan", "r/a", "--db", ""],
        ["fleet", "scan", "r/a", "--db", "--tag"],
        ["fleet", "scan", "r/a", "--ca-file", "/nonexistent/ca.pem"],
        ["fleet", "scan", "r/a", "--ca-file", "/"],
        ["fleet", "scan", "--", "-r/a"],
        ["fleet", "scan", "r/a", "-"],
        ["fleet", "scan", "r/a", "-q"],
        ["fleet", "scan", "r/a", "--help"],
        ["fleet", "scan", "r/a", "--by", "semver"],
        ["--debug", "fleet", "scan", "r/a"],
        ["fleet", "query", "package", "openssl"],
        ["scan", "r/a"],
        [],
    ],
)
def test_everything_else_is_left_to_click(argv: list[str]) -> None:
    assert parse(argv, {}) is None


def test_random_command_lines_are_read_as_click_reads_them(ca: str, monkeypatch: pytest.MonkeyPatch) -> None:
    vocabulary = [
        "r/a", "reg:5000/t/*", "@refs.txt", "x=y", "--db", "inv.sqlite", "--db=other.sqlite", "--tag", "v*",
        "--tag=1.*", "--newest", "2", "--newest=0", "--newest=07", "--ca-file", ca, f"--ca-file={ca}", "--rescan",
        "--", "-", "--by", "created", "-q", "", "--workers", "3", "--insecure", "--no-such-option",
    ]  # fmt: skip
    rng = random.Random(20261206)
    accepted = 0
    for _ in range(3000):
        argv = rng.choices(vocabulary, k=rng.randint(0, 7))
        environ = {"PROVENANT_FLEET_DB": "env.sqlite"} if rng.random() < 0.3 else {}
        got = parse(["fleet", "scan", *argv], environ)
        if got is None:
            continue
        accepted += 1
        assert _as_click(got) == _click(argv, environ, monkeypatch), argv
    assert accepted > 300  # the table above is not all the property checks


@pytest.fixture
def srv() -> Iterator[HostileServer]:
    with scripted_fleet() as s:
        yield s


def _scan(srv: HostileServer, tmp_path: Path, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -X importtime -m provenant fleet scan @refs --db inv.sqlite`` against the scripted fleet."""
    refs = tmp_path / "refs.txt"
    refs.write_text("".join(f"{srv.host}/{repo}:{tag}\n" for repo in REPOS for tag in TAGS))
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith("PROVENANT_")}
    env["PROVENANT_CACHE_DIR"] = str(tmp_path / "cache")
    cmd = [sys.executable, "-X", "importtime", "-m", "provenant", "fleet", "scan", f"@{refs}"]
    cmd += ["--db", str(tmp_path / "inv.sqlite"), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)


def _modules(stderr: str) -> set[str]:
    return {ln.split("|")[-1].strip() for ln in stderr.splitlines() if ln.startswith("import time:")}


def _lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if not ln.startswith("import time:")]


def _manifest_heads(srv: HostileServer) -> int:
    return sum(1 for r in srv.log if r.method == "HEAD" and "/manifests/" in r.path)


def test_the_entry_point_answers_an_unchanged_registry_without_click(srv: HostileServer, tmp_path: Path) -> None:
    cold = _scan(srv, tmp_path)
    assert cold.returncode == 0 and "click" in _modules(cold.stderr), cold.stderr[-2000:]
    srv.log.clear()
    again = _scan(srv, tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert _lines(again.stderr) == [
        f"fleet scan: {len(REPOS) * len(TAGS)} references, {len(REPOS) * len(TAGS)} images (0 scanned, "
        f"{len(REPOS) * len(TAGS)} unchanged, 0 failed), 0 platform manifests, 0 unique layers (0 scanned, "
        "0 from the cache), 0 tags new or moved, 0.0 s"
    ]
    assert not _modules(again.stderr) & {"click", "sqlalchemy", "httpx", "pydantic", "provenant.cli.main"}
    # Nor what the standard library's HTTP client and dataclasses would cost (~25 ms of a ~80 ms run before):
    # a loopback registry needs no ssl, and a host name passed as bytes is never IDNA-encoded. (Under mutation
    # testing, mutmut's trampolines import mutmut itself, which imports these.)
    lean = {"http.client", "email", "ssl", "dataclasses", "inspect", "encodings.idna"}
    assert "mutmut" in _modules(again.stderr) or not _modules(again.stderr) & lean
    assert _manifest_heads(srv) == len(REPOS) * len(TAGS)


def test_a_changed_registry_is_asked_once_then_scanned_by_click(srv: HostileServer, tmp_path: Path) -> None:
    assert _scan(srv, tmp_path).returncode == 0
    put_app(srv, REPOS[0], TAGS[0], "9.9")  # a tag moved
    srv.log.clear()
    again = _scan(srv, tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "1 scanned" in again.stderr and "click" in _modules(again.stderr)
    # The entry point's HEADs, and not a second round from click's fleet scan.
    assert _manifest_heads(srv) == len(REPOS) * len(TAGS)


def test_options_it_does_not_read_go_to_click_which_answers_the_same(srv: HostileServer, tmp_path: Path) -> None:
    assert _scan(srv, tmp_path).returncode == 0
    srv.log.clear()
    again = _scan(srv, tmp_path, "--workers", "1")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "click" in _modules(again.stderr) and "0 scanned" in again.stderr
    assert not _modules(again.stderr) & {"sqlalchemy", "httpx", "pydantic"}  # click's own unchanged path
    assert _manifest_heads(srv) == len(REPOS) * len(TAGS)


def _ready(tmp_path: Path) -> list[str]:
    """A command line run() accepts, with an existing database file (its content is not reached)."""
    db = tmp_path / "inv.sqlite"
    db.write_bytes(b"")
    return ["fleet", "scan", "127.0.0.1:9/app:1", "--db", str(db)]


def test_the_deadline_ends_it_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _ready(tmp_path)

    def stalls(*args: object, **kwargs: object) -> None:
        time.sleep(5)

    monkeypatch.setattr("provenant.fleet.unchanged.unchanged_scan", stalls)
    monkeypatch.setattr(fleet_unchanged, "_asked", [False])
    started = time.monotonic()
    assert run(argv, {"PROVENANT_TIMEOUT": "0.2"}) == 2
    assert time.monotonic() - started < 3
    assert capsys.readouterr().err == (
        "provenant: error: the command did not finish within its deadline of 0.2 s "
        "(raise it with --timeout SECONDS or PROVENANT_TIMEOUT)\n"
    )
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL


@pytest.mark.parametrize(
    ("raised", "line"),
    [
        (KeyboardInterrupt(), "provenant: interrupted\n"),
        (
            RuntimeError("boom\nsecond line"),
            "provenant: error: internal error: RuntimeError: boom second line "
            "(run with --debug for the traceback and report it)\n",
        ),
        (  # as long as click's commands let an error line be
            RuntimeError("x" * 1800),
            f"provenant: error: internal error: RuntimeError: {'x' * 1800} "
            "(run with --debug for the traceback and report it)\n",
        ),
    ],
)
def test_an_interrupt_or_a_bug_is_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    raised: BaseException,
    line: str,
) -> None:
    argv = _ready(tmp_path)

    def fails(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr("provenant.fleet.unchanged.unchanged_scan", fails)
    monkeypatch.setattr(fleet_unchanged, "_asked", [False])
    assert run(argv, {}) == 2
    assert capsys.readouterr().err == line
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_what_the_full_command_must_report_is_left_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _ready(tmp_path)
    called: list[object] = []
    monkeypatch.setattr("provenant.fleet.unchanged.unchanged_scan", lambda *a, **k: called.append(a))
    monkeypatch.setattr(fleet_unchanged, "_asked", [False])
    # A bad limit in the environment, and a missing fleet extra: click's command says what is wrong.
    assert run(argv, {"PROVENANT_LIMIT_PAGES": "lots"}) is None
    monkeypatch.setattr("provenant.fleet.EXTRA_MODULES", ("sqlalchemy", "no_such_module_provenant_needs"))
    assert run(argv, {}) is None
    assert called == [] and not fleet_unchanged.asked()
    # A registry it cannot answer for (unchanged_scan gave None): click runs the full scan, told not to ask again.
    monkeypatch.undo()
    monkeypatch.setattr("provenant.fleet.unchanged.unchanged_scan", lambda *a, **k: called.append(a))
    monkeypatch.setattr(fleet_unchanged, "_asked", [False])
    assert run(argv, {}) is None
    assert len(called) == 1 and fleet_unchanged.asked()
    assert capsys.readouterr().err == ""


def test_it_asks_with_what_the_command_line_says_and_prints_the_answer(
    tmp_path: Path, ca: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from provenant.fleet.targets import TagFilter
    from provenant.fleet.unchanged import UnchangedScan

    calls: list[tuple[object, ...]] = []

    def answered(targets: object, filt: object, db: object, **options: object) -> UnchangedScan:
        calls.append((targets, filt, db, options))
        return UnchangedScan(references=4, images=3, seconds=0.25)

    monkeypatch.setattr("provenant.fleet.unchanged.unchanged_scan", answered)
    monkeypatch.setattr(fleet_unchanged, "_asked", [False])
    environ = {"PROVENANT_FLEET_DB": "ignored.sqlite"}
    argv = ["fleet", "scan", "reg/team/*", "--tag", "v*", "--newest", "2", "--db", "inv.sqlite", "--ca-file", ca]
    assert run(argv, environ) == 0
    assert calls == [(("reg/team/*",), TagFilter(("v*",), 2), "inv.sqlite", {"ca_file": Path(ca), "env": environ})]
    assert capsys.readouterr().err == (
        "fleet scan: 4 references, 3 images (0 scanned, 3 unchanged, 0 failed), 0 platform manifests, "
        "0 unique layers (0 scanned, 0 from the cache), 0 tags new or moved, 0.2 s\n"
    )
    assert fleet_unchanged.asked()
