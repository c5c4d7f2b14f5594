"""``provenant ci github``: what the GitHub Action runs: policy check, optional keyless verify and SBOMs.

It runs the same commands a user would (``provenant policy check``, ``verify``, ``sbom``) in subprocesses,
then turns their results into what a workflow needs: the SARIF file for ``github/codeql-action/upload-sarif``,
workflow annotations (``::error``/``::warning``) on standard output, a markdown verdict table appended to
``$GITHUB_STEP_SUMMARY`` and outputs (``digest``, ``verdict``, ``sarif``, ``report``, ``sbom``) appended to
``$GITHUB_OUTPUT``. Exit code: 1 when the verdict reaches ``fail-on``, 2 on an error, else 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from provenant.ci import envfiles, markdown
from provenant.sources.kind import registry_text, split_kind
from provenant.textsafe import one_line

FailOn = Literal["deny", "warn", "never"]
#: File extension per SBOM format the action offers.
SBOM_EXT = {"cyclonedx-json": "cdx.json", "cyclonedx-xml": "cdx.xml", "spdx-json": "spdx.json"}
#: Rows of the findings table; a summary is capped at 1 MiB by GitHub, and nobody reads more.
MAX_ROWS = 200
#: Reports ``policy check`` writes (``-o FORMAT=FILE``) into the output directory.
REPORT_FILES = {"sarif": "provenant.sarif", "junit": "junit.xml", "github": "annotations.txt", "text": "policy.txt"}
ICON = {"pass": "✅", "warn": "⚠️", "deny": "❌", "error": "❌"}


@dataclass(frozen=True)
class Inputs:
    """The action's inputs, already split."""

    image: str
    policy: str = "default"
    keys: tuple[str, ...] = ()
    dockerfile: str | None = None
    trusted_root: str | None = None
    identity: str | None = None
    issuer: str | None = None
    sbom_formats: tuple[str, ...] = ()
    fail_on: FailOn = "deny"
    output_dir: Path = Path("provenant-results")


@dataclass
class Outcome:
    """What the run found, before it is written anywhere."""

    verdict: str = "error"  # pass | warn | deny | error
    digest: str = ""
    policy_name: str = ""
    errors: list[str] = field(default_factory=list)
    findings: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    keyless: str | None = None  # "verified" | "failed" | None (not asked)
    keyless_message: str = ""
    sarif: Path | None = None
    report: Path | None = None
    junit: Path | None = None
    text: Path | None = None
    annotations: Path | None = None
    sboms: list[Path] = field(default_factory=list)


def split_list(value: str | None) -> tuple[str, ...]:
    """An action input holding a list: separated by newlines, commas or spaces; empty items dropped."""
    if not value:
        return ()
    return tuple(item for item in value.replace(",", " ").split() if item)


def exit_code(verdict: str, fail_on: FailOn) -> int:
    """1 when the verdict reaches ``fail_on``, 2 on an error, else 0."""
    if verdict == "error":
        return 2
    if fail_on == "never":
        return 0
    if verdict == "deny" or (verdict == "warn" and fail_on == "warn"):
        return 1
    return 0


class _Runner:
    def __init__(self, provenant: Sequence[str], out: Outcome) -> None:
        self.provenant = list(provenant)
        self.out = out

    def run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        """Run one provenant command; its progress lines go to the job log as they come (a big image is minutes
        of work), its standard output is kept, and its last stderr line is the error when it exits 2."""
        cmd = [*self.provenant, "--progress", "plain", *args]
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
            assert child.stdout is not None and child.stderr is not None
            errs = child.stderr
            tail: deque[str] = deque(maxlen=20)

            def pump() -> None:
                for line in errs:
                    # Plain progress lines start with "provenant: " and are escaped: no workflow command.
                    sys.stderr.write(line)
                    tail.append(line)
                sys.stderr.flush()

            reader = threading.Thread(target=pump, daemon=True)
            reader.start()
            stdout = child.stdout.read()
            code = child.wait()
            reader.join()
        proc = subprocess.CompletedProcess(cmd, code, stdout, "".join(tail))
        if proc.returncode == 2:
            # provenant's errors are one sanitised line; keep the last non-empty line of stderr.
            lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
            self.out.errors.append(one_line(lines[-1] if lines else f"provenant {args[0]} failed (exit 2)"))
        return proc


def run(inputs: Inputs, provenant: Sequence[str] = (sys.executable, "-m", "provenant")) -> Outcome:
    """Run the checks, writing every report under ``inputs.output_dir``; the outcome (with any errors)."""
    out = Outcome()
    runner = _Runner(provenant, out)
    d = inputs.output_dir
    d.mkdir(parents=True, exist_ok=True)
    files = {kind: d / name for kind, name in REPORT_FILES.items()}
    args = ["policy", "check", inputs.image, "--policy", inputs.policy, "--format", "json"]
    for kind, path in files.items():
        args += ["-o", f"{kind}={path}"]
    for key in inputs.keys:
        args += ["--key", key]
    if inputs.dockerfile:
        args += ["--dockerfile", inputs.dockerfile]
    if inputs.fail_on == "warn":
        args.append("--fail-on-warn")
    proc = runner.run(args)
    if proc.returncode in (0, 1):
        doc = json.loads(proc.stdout)
        report = d / "policy.json"
        report.write_text(proc.stdout, encoding="utf-8")
        out.verdict, out.digest, out.sarif, out.report = doc["verdict"], doc["digest"], files["sarif"], report
        out.junit, out.text, out.annotations = files["junit"], files["text"], files["github"]
        out.policy_name = doc.get("policy_name") or doc.get("policy") or inputs.policy
        for result in doc["results"]:
            for f in result["findings"]:
                out.counts[f["status"]] = out.counts.get(f["status"], 0) + 1
                if f["effect"] != "none":
                    out.findings.append({k: str(f.get(k) or "") for k in ("effect", "check", "subject", "message")})
    if out.verdict != "error" and inputs.identity:
        _keyless(inputs, runner)
    if out.verdict != "error" and inputs.sbom_formats:
        _sboms(inputs, runner)
    if out.errors:
        out.verdict = "error"
    return out


def github_log(out: Outcome) -> str:
    """Standard output for the runner: the text report in a group fenced off from command parsing, annotations."""
    log: list[str] = []
    if out.text is not None and out.annotations is not None:
        token = envfiles.stop_commands_token()
        # The text report quotes the image (labels, package names): the runner must not read commands in it.
        log += ["::group::provenant policy report", f"::stop-commands::{token}"]
        log += [out.text.read_text(encoding="utf-8").rstrip("\n"), f"::{token}::", "::endgroup::"]
        log.append(out.annotations.read_text(encoding="utf-8").rstrip("\n"))
    if out.keyless == "failed":
        log.append(envfiles.command("error", out.keyless_message, title="provenant verify"))
    log += [envfiles.command("error", e, title="provenant") for e in out.errors]
    return "\n".join(line for line in log if line) + "\n"


def _keyless(inputs: Inputs, runner: _Runner) -> None:
    out = runner.out
    if not inputs.identity or not inputs.issuer or not inputs.trusted_root:
        out.errors.append("keyless verification needs certificate-identity, certificate-oidc-issuer and trusted-root")
        return
    ref = _pinned(inputs.image, out.digest)
    proc = runner.run(
        ["verify", ref, "--trusted-root", inputs.trusted_root, "--certificate-identity", inputs.identity,
         "--certificate-oidc-issuer", inputs.issuer]
    )  # fmt: skip
    if proc.returncode == 0:
        out.keyless = "verified"
    elif proc.returncode == 1:
        out.keyless = "failed"
        out.verdict = "deny"
        out.keyless_message = f"no valid keyless signature by {inputs.identity} (issuer {inputs.issuer}) on {ref}"


def _sboms(inputs: Inputs, runner: _Runner) -> None:
    ref = _pinned(inputs.image, runner.out.digest)
    for fmt in inputs.sbom_formats:
        if fmt not in SBOM_EXT:
            runner.out.errors.append(f"sbom format {fmt!r}: choose from {', '.join(SBOM_EXT)}")
            continue
        dest = inputs.output_dir / f"sbom.{SBOM_EXT[fmt]}"
        # One document for all platforms: one path per format for the next steps to pick up.
        if runner.run(["sbom", ref, "--merge", "-o", f"{fmt}={dest}"]).returncode == 0:
            runner.out.sboms.append(dest)


def _pinned(image: str, digest: str) -> str:
    """``image`` by the digest the policy checked, so every step looks at the same bytes.

    Only a registry reference is pinned: a tag can move between steps, while an OCI layout or a
    tarball in the workspace cannot, and has no ``@digest`` form (``oci:DIR@sha256:…`` names no file).
    """
    if not digest or registry_text(image) is None:
        return image
    _, rest = split_kind(image)
    if "@" in rest:
        return image
    prefix, name = image[: len(image) - len(rest)], rest  # "registry:" or "docker://" stays
    last = rest.rsplit("/", 1)[-1]
    if ":" in last:  # drop the tag; a registry port lives before the last "/"
        name = rest[: len(rest) - len(last)] + last.split(":", 1)[0]
    return f"{prefix}{name}@{digest}"


def summary(inputs: Inputs, out: Outcome) -> str:
    """The markdown verdict appended to ``$GITHUB_STEP_SUMMARY``."""
    t = markdown.text
    parts = [f"## {ICON[out.verdict]} provenant policy: {out.verdict}\n\n"]
    rows = [["Image", t(inputs.image)], ["Policy", t(out.policy_name or inputs.policy)]]
    if out.digest:
        rows.insert(1, ["Digest", t(out.digest)])
    if out.keyless is not None:
        rows.append(["Keyless signature", t(f"{out.keyless}: {inputs.identity} ({inputs.issuer})")])
    if out.counts:
        rows.append(["Checks", t(", ".join(f"{n} {s}" for s, n in sorted(out.counts.items())))])
    rows += [["SBOM", t(str(p))] for p in out.sboms]
    parts.append(markdown.table(["", ""], rows))
    if out.errors:
        parts.append("\n### Errors\n\n" + "".join(f"- {t(e, limit=2000)}\n" for e in out.errors))
    if out.findings:
        shown = out.findings[:MAX_ROWS]
        body = [[t(f["effect"]), t(f["check"]), t(f["subject"]), t(f["message"])] for f in shown]
        parts.append(
            "\n### Findings that deny or warn\n\n" + markdown.table(["Effect", "Check", "Subject", "Message"], body)
        )
        if len(out.findings) > MAX_ROWS:
            parts.append(f"\n{len(out.findings) - MAX_ROWS} more in the SARIF file and the JSON report.\n")
    return "".join(parts) + "\n"


def outputs(out: Outcome) -> str:
    """The ``$GITHUB_OUTPUT`` blocks."""
    values = {
        "verdict": out.verdict,
        "digest": out.digest,
        "sarif": str(out.sarif or ""),
        "report": str(out.report or ""),
        "sbom": "\n".join(str(p) for p in out.sboms),
    }
    return "".join(envfiles.output_block(k, v) for k, v in values.items())


def main(inputs: Inputs, env: Mapping[str, str], provenant: Sequence[str] = (sys.executable, "-m", "provenant")) -> int:
    """Run, print the log, append summary and outputs to the files ``env`` names; the exit code."""
    out = run(inputs, provenant)
    sys.stdout.write(github_log(out))
    sys.stdout.flush()
    summary_path = env.get("GITHUB_STEP_SUMMARY")
    output_path = env.get("GITHUB_OUTPUT")
    envfiles.append(Path(summary_path) if summary_path else None, summary(inputs, out))
    envfiles.append(Path(output_path) if output_path else None, outputs(out))
    return exit_code(out.verdict, inputs.fail_on)
