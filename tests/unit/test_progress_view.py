"""Progress observers: registry-controlled text is shown inert, events in order, stdout untouched."""

from __future__ import annotations

import io

import pytest

from provenant import progress
from provenant.cli import progress_view

HOSTILE = "linux/[bold red]amd64[/]\x1b]0;pwned\x07\nprovenant: error: fake"
DIGEST = "sha256:" + "ab" * 32


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _drive(p: progress.Progress) -> None:
    p.resolved("127.0.0.1:5000/app:1\x1b[2J", DIGEST, "application/vnd.oci.image.index.v1+json")
    p.planned({HOSTILE: [DIGEST, "sha256:" + "cd" * 32]}, {DIGEST: 2048, "sha256:" + "cd" * 32: 10})
    p.layer_cached("sha256:" + "cd" * 32)
    p.layer_bytes(DIGEST, 1024)
    p.layer_bytes(DIGEST, 1024)
    p.layer_scanned(DIGEST)
    p.finished()


def test_plain_lines_are_inert() -> None:
    out = io.StringIO()
    _drive(progress_view.make("plain", out))
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text
    lines = text.splitlines()
    assert all(ln.startswith("provenant: ") for ln in lines)
    assert not any(ln.startswith("provenant: error") for ln in lines)  # the newline in the platform is escaped
    assert lines[0] == f"provenant: resolved 127.0.0.1:5000/app:1\\x1b[2J -> {DIGEST} (index)"
    assert "fetched and scanned: 2.0 kB in " in text
    assert lines[-1].startswith("provenant: done: 1 layer(s) fetched and scanned")


def test_live_shows_markup_as_text_and_no_foreign_escapes() -> None:
    out = Tty()
    _drive(progress_view.make("live", out))
    text = out.getvalue()
    assert "[bold red]amd64[/]" in text  # shown literally, not interpreted as rich markup
    assert "\x1b]0;pwned" not in text and "\x07" not in text
    assert "\\x1b]0;pwned" in text


@pytest.mark.parametrize(
    ("mode", "tty", "term", "kind"),
    [
        ("auto", True, "xterm", progress_view.LiveProgress),
        ("auto", True, "dumb", progress.Progress),
        ("auto", False, "xterm", progress.Progress),
        ("plain", True, "xterm", progress_view.PlainProgress),
        ("quiet", True, "xterm", progress.Progress),
    ],
)
def test_auto_is_live_only_on_a_capable_terminal(
    mode: str, tty: bool, term: str, kind: type[progress.Progress], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", term)
    chosen = progress_view.make(mode, Tty() if tty else io.StringIO())
    assert type(chosen) is kind


def test_counted_reports_every_chunk_and_passes_them_through() -> None:
    seen: list[int] = []

    class Rec(progress.Progress):
        def layer_bytes(self, digest: str, count: int) -> None:
            seen.append(count)

    chunks = [b"a" * 3, b"", b"b" * 5]
    assert list(progress.counted(iter(chunks), DIGEST, Rec())) == chunks
    assert seen == [3, 0, 5]
    assert list(progress.counted(iter(chunks), DIGEST, progress.NOOP)) == chunks


def test_plain_says_stopped_when_the_work_failed_midway() -> None:
    out = io.StringIO()
    p = progress_view.make("plain", out)
    p.resolved("r/a:1", DIGEST, "application/vnd.oci.image.manifest.v1+json")
    p.planned({"linux/amd64": [DIGEST, "sha256:" + "cd" * 32]}, {DIGEST: 10, "sha256:" + "cd" * 32: 10})
    p.layer_scanned(DIGEST)
    p.finished()  # the second layer never came
    assert out.getvalue().splitlines()[-1].startswith("provenant: stopped after 1 of 2 layer(s): 1 layer(s)")


@pytest.mark.parametrize(
    ("done", "total", "elapsed", "left"),
    [
        (0, 10, 5.0, None),  # no rate yet
        (5, 10, 0.0, None),
        (2, 10, 4.0, 16.0),  # 2 s each, 8 left
        (9, 10, 9.0, 1.0),
        (10, 10, 3.0, 0.0),
        (12, 10, 3.0, 0.0),  # more done than planned (a rerun job): nothing left, never negative
        (0, 0, 0.0, 0.0),  # nothing to do
    ],
)
def test_eta_is_the_rate_so_far_applied_to_what_is_left(
    done: float, total: float, elapsed: float, left: float | None
) -> None:
    assert progress.eta(done, total, elapsed) == left


def test_fleet_eta_follows_the_stage_and_weighs_layers_by_bytes() -> None:
    st = progress.FleetStatus(stage="resolve", references=100, resolved=25, stage_elapsed=1.0)
    assert st.eta() == 3.0
    # Layers: 1 of 4 done but it was 90% of the bytes: 1/9 of the time is left, not 3 times as much.
    layers = progress.FleetStatus(
        stage="layers", references=4, layers=4, layers_done=1, bytes_total=1000, bytes_done=900, stage_elapsed=9.0
    )
    assert layers.eta() == pytest.approx(1.0)
    assert progress.FleetStatus(stage="layers", references=4, layers=4, layers_done=2, stage_elapsed=2.0).eta() == 2.0
    images = progress.FleetStatus(stage="images", references=4, images=10, images_done=4, stage_elapsed=2.0)
    assert images.eta() == 3.0
    assert progress.FleetStatus(stage="done", references=4).eta() == 0.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "ETA ?"), (0.4, "ETA 0 s"), (59.4, "ETA 59 s"), (125, "ETA 2 min 05 s"), (3725, "ETA 1 h 02 min")],
)
def test_format_eta(seconds: float | None, text: str) -> None:
    assert progress_view.format_eta(seconds) == text


def _fleet_events(p: progress.Progress) -> None:
    fs = progress.FleetStatus
    p.fleet(fs(stage="resolve", references=3))
    p.fleet(fs(stage="resolve", references=3, resolved=3, failures=1, stage_elapsed=0.1))
    p.fleet(fs(stage="resolve", references=3, resolved=3, failures=1, images=1, unchanged=1))
    p.fleet(fs(stage="layers", references=3, resolved=3, images=1, unchanged=1, layers=2, bytes_total=2048, failures=1))
    p.fleet(fs(stage="layers", references=3, images=1, unchanged=1, layers=2, layers_done=2, bytes_total=2048,
               bytes_done=2048, failures=1, stage_elapsed=0.5))  # fmt: skip
    p.fleet(fs(stage="images", references=3, images=1, unchanged=1, layers=2, layers_done=2, bytes_total=2048,
               bytes_done=2048, failures=1))  # fmt: skip
    p.fleet(fs(stage="images", references=3, images=1, images_done=1, unchanged=1, layers=2, layers_done=2,
               bytes_total=2048, bytes_done=2048, failures=1, stage_elapsed=0.2))  # fmt: skip
    p.fleet(fs(stage="done", references=3, images=1, images_done=1))
    p.finished()


def test_plain_fleet_lines_each_stage_once_started_and_once_done() -> None:
    out = io.StringIO()
    _fleet_events(progress_view.make("plain", out))
    assert out.getvalue().splitlines() == [
        "provenant: resolving references 0/3 | 0 failed | ETA ?",
        "provenant: resolving references 3/3 | 1 failed | ETA 0 s",
        "provenant: references 3/3 resolved | 1 images to scan, 1 unchanged | 1 failed",
        "provenant: layers 0/2 (0 B of 2.0 kB fetched, 0 from the cache) | 1 images to scan, 1 unchanged | 1 failed "
        "| ETA ?",
        "provenant: layers 2/2 (2.0 kB of 2.0 kB fetched, 0 from the cache) | 1 images to scan, 1 unchanged | "
        "1 failed | ETA 0 s",
        "provenant: images 0/1 (1 unchanged) | layers 2 scanned, 0 from the cache, 2.0 kB fetched | 1 failed | ETA ?",
        "provenant: images 1/1 (1 unchanged) | layers 2 scanned, 0 from the cache, 2.0 kB fetched | 1 failed | ETA 0 s",
    ]


def test_plain_fleet_lines_between_start_and_end_come_at_most_every_few_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(progress_view.time, "monotonic", lambda: now[0])
    out = io.StringIO()
    p = progress_view.make("plain", out)
    for n in range(10):
        p.fleet(progress.FleetStatus(stage="images", references=10, images=10, images_done=n, stage_elapsed=n))
        now[0] += 0.5
    # n=0 (stage start), then one line per PLAIN_EVERY (2 s = 4 events): n=4 and n=8.
    assert [ln.split()[2] for ln in out.getvalue().splitlines()] == ["0/10", "4/10", "8/10"]


def test_live_fleet_display_draws_on_a_terminal_and_is_gone_when_done() -> None:
    out = Tty()
    p = progress_view.make("live", out)
    _fleet_events(p)
    text = out.getvalue()
    assert "resolving references 0/3" in text and "images 1/1 (1 unchanged)" in text
    assert text.endswith("\x1b[2K")  # transient: the line is erased, the summary line comes after it
    assert "\x07" not in text
    assert p._fleet is None  # type: ignore[attr-defined]  # stopped: nothing left drawing over the summary
