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
