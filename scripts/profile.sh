#!/usr/bin/env bash
# Run one provenant command under cProfile; write the raw profile and a readable report.
# Usage: scripts/profile.sh [--out DIR] [--top N] [--imports] CMD [ARGS...]
#   e.g. scripts/profile.sh sbom --no-cache -o cyclonedx-json=/dev/null oci:/tmp/img:1
# Writes DIR/provenant.prof (open with `python -m pstats`, snakeviz, ...) and DIR/report.txt: wall time,
# then the top N functions by cumulative time, by own time, and the callers of the top own-time ones.
# --imports also runs the command once more under `python -X importtime` and writes DIR/imports.txt:
# the N imports that cost most by themselves and the N top-level ones by cumulative time (on a small
# image, start-up is most of a cold run, and cProfile inflates imports). Give the command a fresh
# --cache-dir (or --no-cache) so that both runs do the same work.
# DIR defaults to ./profile-<UTC time>; N to 40. Python is $PYTHON, else .venv/bin/python, else python3.
# The command's stdout/stderr go where they usually go; the report path is printed on stderr at the end.
# cProfile sees only the main thread: layer scans run in worker threads unless the command is given
# --workers 1 (then they run in the main thread and show up), e.g.
#   scripts/profile.sh sbom --no-cache --workers 1 -o cyclonedx-json=/dev/null oci:/tmp/img:1
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="" TOP=40 IMPORTS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --top) TOP="$2"; shift 2 ;;
    --imports) IMPORTS=1; shift ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: scripts/profile.sh [--out DIR] [--top N] CMD [ARGS...]" >&2; exit 2; }
PY=${PYTHON:-}
[ -n "$PY" ] || { [ -x "$ROOT/.venv/bin/python" ] && PY="$ROOT/.venv/bin/python"; } || PY=python3
OUT=${OUT:-profile-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
PROF="$OUT/provenant.prof"
start=$(date +%s.%N)
rc=0
"$PY" -m cProfile -o "$PROF" -m provenant "$@" || rc=$?
end=$(date +%s.%N)
"$PY" - "$PROF" "$TOP" "$*" "$start" "$end" "$rc" > "$OUT/report.txt" <<'EOF'
import io
import pstats
import sys

prof, top, cmd, start, end, rc = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
print(f"command: provenant {cmd}")
print(f"exit code: {rc}; wall time under cProfile: {end - start:.2f} s (profiling slows calls, not I/O waits)")
for key, title in (("cumulative", "by cumulative time (the function and what it calls)"), ("tottime", "by own time")):
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.strip_dirs().sort_stats(key).print_stats(top)
    body = buf.getvalue()
    print(f"\n==== top {top} {title} ====")
    print(body[body.find("   ncalls"):] if "   ncalls" in body else body)
buf = io.StringIO()
stats = pstats.Stats(prof, stream=buf)
stats.strip_dirs().sort_stats("tottime").print_callers(min(top, 10))
body = buf.getvalue()
print(f"\n==== who calls the top {min(top, 10)} by own time ====")
print(body[body.find("Function"):] if "Function" in body else body)
EOF
if [ "$IMPORTS" = 1 ]; then
  "$PY" -X importtime -m provenant "$@" >/dev/null 2>"$OUT/importtime.raw" || true
  "$PY" - "$OUT/importtime.raw" "$TOP" > "$OUT/imports.txt" <<'EOF'
import sys

raw, top = sys.argv[1], int(sys.argv[2])
rows = []  # (self us, cumulative us, depth, module)
for line in open(raw, encoding="utf-8", errors="replace"):
    if line.startswith("import time:") and "|" in line and "self [us]" not in line:
        own, cum, name = line[len("import time:"):].split("|", 2)
        rows.append((int(own), int(cum), len(name) - len(name.lstrip()) - 1, name.strip()))
print(f"imports: {len(rows)}, {sum(r[0] for r in rows) / 1000:.1f} ms in all (under -X importtime)")
print(f"\n==== top {top} by own time (ms): own, cumulative ====")
for own, cum, _, name in sorted(rows, reverse=True)[:top]:
    print(f"{own / 1000:8.1f} {cum / 1000:8.1f}  {name}")
print(f"\n==== top {top} top-level imports by cumulative time (ms): own, cumulative ====")
for own, cum, _, name in sorted((r for r in rows if r[2] == 0), key=lambda r: -r[1])[:top]:
    print(f"{own / 1000:8.1f} {cum / 1000:8.1f}  {name}")
EOF
  echo "imports: $OUT/imports.txt" >&2
fi
echo "profile: $OUT/report.txt ($PROF)" >&2
exit "$rc"
