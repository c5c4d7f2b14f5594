"""Renderers on hostile values: escapes shown, never emitted; markup printed, never interpreted."""

from __future__ import annotations

import io
import re
import sys

import pytest
from rich.console import Console
from rich.table import Table

from provenant.cli import render
from provenant.policy.model import CheckInfo, Finding, PolicyReport, PolicyResult
from provenant.policy.reports import render as render_policy
from provenant.sbom.model import Package
from provenant.sbom.result import ImageSbom, ScanIssue
from provenant.sbom.table import render_table
from provenant.textsafe import lines, markup, one_line, printable, writable, xml_safe

EVIL = "a\x1b]0;title\x07b\x1b[2J\x9b31m[link=http://evil]x[/link][/]"
_RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_markup_is_printed_as_written() -> None:
    buf = io.StringIO()
    con = Console(file=buf, width=200, color_system=None)
    con.print(markup("linux/arm64[/]"))  # raised MarkupError before
    t = Table()
    t.add_column("x")
    t.add_row(markup(EVIL))
    con.print(t)
    out = buf.getvalue()
    assert "linux/arm64[/]" in out
    assert "[link=http://evil]x[/link][/]" in out and "\\x1b]0;title\\x07" in out and "\\x9b31m" in out
    assert not _RAW.search(out)


def test_terminal_guard_keeps_only_sgr() -> None:
    out = io.StringIO()
    guard = render._TerminalGuard(out)
    guard.write("\x1b[1mbold\x1b[0m \x1b]0;t\x07 \x1b]52;c;eA==\x07 \x9b2J\nnext")
    assert out.getvalue() == "\x1b[1mbold\x1b[0m \\x1b]0;t\\x07 \\x1b]52;c;eA==\\x07 \\x9b2J\nnext"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream", [io.StringIO, _Tty])
def test_console_escapes_a_value_a_renderer_forgot(monkeypatch: pytest.MonkeyPatch, stream: type[io.StringIO]) -> None:
    out = stream()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setenv("NO_COLOR", "1")
    with render.console() as con:
        t = Table()
        t.add_column("value")
        t.add_row(EVIL.replace("[", "("))  # raw control characters, as if a renderer had not escaped them
        con.print(t)
    text = out.getvalue()
    assert "\\x1b]0;title" in text  # (rich itself drops the BEL)
    assert not _RAW.search(re.sub(r"\x1b\[[0-9;]*m", "", text))


def test_github_format_escapes_controls_and_cannot_start_a_command() -> None:
    finding = Finding(
        check="user.non-root", subject=f"linux/amd64{EVIL}", digest="sha256:" + "0" * 64, status="fail",
        effect="deny", message=f"user {EVIL}\n::add-mask::x\r%0A", evidence={},
    )  # fmt: skip
    info = CheckInfo(
        id="user.non-root", title="t", description="d", help="h", evidence="e", action="deny", on_missing_data="deny"
    )
    import datetime as dt

    rep = PolicyReport(
        reference="r:1", source="s", digest="sha256:" + "1" * 64, policy="p.yaml", evaluated_on=dt.date(2026, 1, 1),
        fail_on_warn=False, checks=[info],
        results=[PolicyResult(subject="image", digest=None, findings=[finding], verdict="deny", exit_code=1)],
        verdict="deny", exit_code=1,
    )  # fmt: skip
    out = render_policy(rep, "github")
    assert all(line.startswith("::") for line in out.splitlines())
    first = out.splitlines()[0]
    assert "%0A::add-mask::x%0D%250A" in first
    assert "\\x1b]0;title\\x07" in first and "%3A" in first.split("::")[1]  # ':' in a property is escaped
    assert not _RAW.search(out.replace("\n", ""))
    text = render_policy(rep, "text")
    assert "\\x1b]0;title\\x07" in text and not _RAW.search(text.replace("\n", ""))


def test_sbom_table_escapes_and_stays_aligned() -> None:
    img = ImageSbom(
        name="r/app", platform="linux/amd64", manifest_digest="sha256:" + "0" * 64, config_digest="sha256:" + "1" * 64,
        layers=[], packages=[Package(name=f"evil{EVIL}", version=f"1{EVIL}", type="npm", found_by="npm"),
                             Package(name="ok", version="2", type="npm", found_by="npm")],
        issues=[ScanIssue(path=f"usr/lib/x{EVIL}", reason=f"bad {EVIL}", layer_index=0)],
    )  # fmt: skip
    out = render_table([img])
    assert not _RAW.search(out.replace("\n", ""))
    rows = out.splitlines()
    header, evil_row = rows[1], rows[2]
    assert evil_row.index("1a\\x1b") == header.index("VERSION")  # columns measured on what is shown
    assert "issue: layer 0 /usr/lib/xa\\x1b]0;title" in out


def test_lines_keeps_newlines_and_tabs_only() -> None:
    assert lines("a\tb\nc\x1bd\re") == "a\tb\nc\\x1bd\\re"


def test_printable_escapes_tabs_unless_kept() -> None:
    assert printable("a\tb") == "a\\tb"
    assert printable("a\tb", keep_tabs=True) == "a\tb"
    assert printable("plain ✓ café") == "plain ✓ café"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("caf\udce9", "caf\\xe9"),  # a byte that was not UTF-8 (surrogateescape): the byte itself
        ("\udc80\udcff", "\\x80\\xff"),  # the first and last such bytes
        ("\udc7f", "\\udc7f"),  # other lone surrogates (a JSON escape) as their code point
        ("\udd00\ud800", "\\udd00\\ud800"),
    ],
)
def test_lone_surrogates_are_shown_escaped(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert writable(text) == shown
    assert xml_safe(text) == shown
    assert writable("tab\t\x1b") == "tab\t\x1b"  # writable leaves everything else to the format's own escaping


def test_one_line_cuts_at_the_limit() -> None:
    assert one_line("x" * 300) == "x" * 300
    assert one_line("x" * 301) == "x" * 297 + "..."
    assert one_line("a  b\n c") == "a b c"
