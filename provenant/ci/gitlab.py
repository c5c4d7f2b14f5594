"""``provenant ci gitlab``: what the GitLab template (``templates/provenant.yml``) runs.

The same checks as the GitHub Action (:func:`provenant.ci.github.run`); for GitLab it leaves the JUnit report
(``artifacts:reports:junit``), the merged CycloneDX SBOM (``artifacts:reports:cyclonedx``) and a dotenv file
(``artifacts:reports:dotenv``: ``PROVENANT_VERDICT``, ``PROVENANT_DIGEST`` for later jobs) in the output
directory, and prints the text report to the job log.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

from provenant.ci.github import Inputs, Outcome, exit_code, run

#: The dotenv file's name in the output directory.
DOTENV = "provenant.env"
# GitLab's dotenv: keys of letters, digits and "_"; values without spaces or newlines, at most 5 KB in all.
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:@/+-]{0,200}$")


def dotenv(out: Outcome) -> str:
    """``KEY=value`` lines GitLab accepts; a value it could not hold is left out rather than written broken."""
    values = {"PROVENANT_VERDICT": out.verdict, "PROVENANT_DIGEST": out.digest}
    return "".join(f"{k}={v}\n" for k, v in values.items() if _SAFE_VALUE.match(v))


def main(inputs: Inputs, provenant: Sequence[str] = (sys.executable, "-m", "provenant")) -> int:
    """Run, print the report, write the dotenv file; the exit code (1 at fail-on, 2 on errors)."""
    out = run(inputs, provenant)
    if out.text is not None:
        sys.stdout.write(out.text.read_text(encoding="utf-8"))
    for path in (out.junit, *out.sboms):
        if path is not None:
            sys.stdout.write(f"wrote {path}\n")
    (inputs.output_dir / DOTENV).write_text(dotenv(out), encoding="utf-8")
    sys.stdout.flush()
    for error in out.errors:
        sys.stderr.write(f"{error}\n")
    return exit_code(out.verdict, inputs.fail_on)
