"""GitHub env-file and summary escaping: no value from an image can set outputs, run commands or add markup."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenant.ci import envfiles, markdown
from provenant.ci.github import Inputs, Outcome, _pinned, exit_code, outputs, split_list, summary
from tests.integration.test_ci_github import parse_outputs


def test_output_blocks_survive_hostile_values() -> None:
    evil = "a\nverdict=pass\nghadelimiter_x\n" + "sbom<<EOF"
    text = envfiles.output_block("digest", evil) + envfiles.output_block("verdict", "deny")
    assert parse_outputs(text) == {"digest": evil, "verdict": "deny"}
    with pytest.raises(ValueError):
        envfiles.output_block("a=b", "x")


def test_workflow_command_escaping() -> None:
    line = envfiles.command("error", "100% bad\r\n::add-mask::x\x1b[31m", title="a:b,c")
    assert line == "::error title=a%3Ab%2Cc::100%25 bad%0D%0A::add-mask::x\\x1b[31m"
    assert "\n" not in line


def test_markdown_text_is_inert() -> None:
    cell = markdown.text("x | [click](https://evil) <img src=x> `code` *b*\n## heading")
    assert "|" not in cell.replace("\\|", "")
    assert "<" not in cell and "[click]" not in cell and "\n" not in cell
    assert cell.startswith("x \\| \\[click\\]\\(https://evil\\) &lt;img src=x&gt;")


def test_summary_and_outputs_of_hostile_findings(tmp_path: Path) -> None:
    out = Outcome(verdict="deny", digest="sha256:" + "a" * 64, policy_name="p")
    out.findings = [{"effect": "deny", "check": "secrets.none", "subject": "linux/amd64", "message": "a|b\n| x | y |"}]
    text = summary(Inputs(image="r/a:1"), out)
    rows = [ln for ln in text.splitlines() if ln.startswith("| deny")]
    assert len(rows) == 1 and rows[0].count(" | ") == 3
    parsed = parse_outputs(outputs(out))
    assert parsed["verdict"] == "deny" and parsed["sbom"] == "" and parsed["digest"] == out.digest


@pytest.mark.parametrize(
    ("verdict", "fail_on", "code"),
    [("pass", "deny", 0), ("warn", "deny", 0), ("warn", "warn", 1), ("deny", "deny", 1), ("deny", "never", 0),
     ("error", "never", 2)],
)  # fmt: skip
def test_exit_code(verdict: str, fail_on: str, code: int) -> None:
    assert exit_code(verdict, fail_on) == code  # type: ignore[arg-type]


def test_inputs_helpers() -> None:
    assert split_list("a.pem\nb.pem, c.pem ") == ("a.pem", "b.pem", "c.pem")
    assert split_list("") == ()
    d = "sha256:" + "b" * 64
    assert _pinned("127.0.0.1:5000/app:1", d) == f"127.0.0.1:5000/app@{d}"
    assert _pinned("127.0.0.1:5000/app", d) == f"127.0.0.1:5000/app@{d}"
    assert _pinned(f"r/app@{d}", "sha256:other") == f"r/app@{d}"
    assert _pinned("registry:app:1", d) == f"registry:app@{d}"
    assert _pinned("docker://ghcr.io/o/app:1", d) == f"docker://ghcr.io/o/app@{d}"


def test_local_sources_are_not_pinned(tmp_path: Path) -> None:
    """A layout or tarball has no @digest form: pinning one made every later step fail to open it."""
    d = "sha256:" + "b" * 64
    layout = tmp_path / "layout"
    layout.mkdir()
    archive = tmp_path / "image.tar"
    archive.write_bytes(b"")
    for image in (
        f"oci:{layout}:v1",
        f"oci:{layout}",
        str(layout),
        f"oci-archive:{archive}",
        f"docker-archive:{archive}",
    ):
        assert _pinned(image, d) == image
    assert _pinned("app:1", d) == f"app@{d}"  # not a path here: a registry reference
