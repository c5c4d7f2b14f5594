"""Run the hostile-input cases and print their figures as the Markdown table of docs/security.md.

    .venv/bin/python benchmarks/hostile_figures.py [PYTEST ARGS...]

Each case runs the CLI in a subprocess (tests/hostile/harness.py); this collects exit code, wall time,
peak RSS and disk use per run, and the first line of stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "hostile.jsonl"
        env = {**os.environ, "PROVENANT_HOSTILE_REPORT": str(report)}
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/hostile", *argv],
            cwd=ROOT,
            env=env,
            check=False,
            stdout=sys.stderr,  # pytest's progress to stderr: stdout is the table alone, ready for the docs
        )
        rows = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    print("| case | command | exit | seconds | peak RSS | stderr |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        if "test_harness.py" in r["test"]:
            continue  # the harness's own checks, not hostile cases
        case = r["test"].split("::")[-1]
        module = Path(r["test"].split("::")[0]).stem.removeprefix("test_")
        command = " ".join(a if len(a) < 40 else a[:37] + "..." for a in r["args"][:4])
        stderr = r["stderr"].replace("|", "\\|")
        stderr = stderr if len(stderr) < 140 else stderr[:137] + "..."
        print(
            f"| {module}: {case} | `{command}` | {r['exit']} | {r['seconds']:.1f} | {r['peak_rss_mb']:.0f} MB "
            f"| {stderr} |"
        )
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
