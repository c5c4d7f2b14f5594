#!/usr/bin/env bash
# Run one provenant command under cProfile; write the raw profile and a readable report.
# Usage: scripts/profile.sh [--out DIR] [--top N] CMD [ARGS...]
#   e.g. scripts/profile.sh sbom --no-cache -o cyclonedx-json=/dev/null oci:/tmp/img:1
# Writes DIR/provenant.prof (open with `python -m pstats`, snakeviz, ...) and DIR/report.txt: wall time,
# then the top N functions by cumulative time, by own time, and the callers of the top own-time ones.
# DIR defaults to ./profile-<UTC time>; N to 40. Python is $PYTHON, else .venv/bin/python, else python3.
# The command's stdout/stderr go where they usually go; the report path is printed on stderr at the end.
# cProfile sees only the main thread: layer scans run in worker threads unless the command is given
# --workers 1 (then they run in the main thread and show up), e.g.
#   scripts/profile.sh sbom --no-cache --workers 1 -o cyclonedx-json=/dev/null oci:/tmp/img:1
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="" TOP=40
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --top) TOP="$2"; shift 2 ;;
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
echo "profile: $OUT/report.txt ($PROF)" >&2
exit "$rc"
