"""Seconds to encode an image of N packages in every ``sbom`` output format, and how that scales.

For each N (default 100, 1,000, 10,000 and 20,000) and for 2N, builds a synthetic OCI layout of N
packages across deb, npm and pypi (:mod:`benchmarks.pkgimage`), scans and catalogs it once
in-process (timed: ``scan``), then encodes the result in each format in a fresh process: the time
printed is one cold encode in that process (imports excluded; every one-time cost a CLI run pays,
such as building the SPDX licensing index, included), the best of ``--repeat`` processes (default
5): wall seconds, and CPU seconds of the process (steadier than wall time on a loaded machine).
Then the ratio time(2N)/time(N) per format, of both: linear encoders stay near 2.

The processes run in rounds, each round one process per format and size, so that a slow spell of the
machine (on a shared 2-core VM one process ran 1.5x slower than the next, for tens of seconds) falls
on every size alike: measuring all of N and then all of 2N put such a spell on one side of a ratio.
Within a round a format's sizes run back to back, so each round also gives a ratio of two processes
that met the same conditions; the median of those is printed below the ratio of the best times.
Last, the best of the odd rounds over the best of the even rounds, per size and format: one measure
taken twice, whose distance from 1 is the precision of every ratio above on the machine at the time.

Every encode starts from the same cache state: before the clock the process writes and reads a
buffer four times the CPU's last-level cache (:func:`evict_caches`). Otherwise an encode began with
whatever loading the model and the collection before the clock had left in the cache, much of the
model at 10,000 packages and less of it at 20,000: a head start that shrinks as the model grows.

Beside the formats, ``walk``: the same kind of fresh process reading each package's name, version,
type and purl once, in order: linear by construction, so its ratio is what the memory hierarchy alone
does to a walk over the model at that size; an encoder's ratio reads beside it.

``--instructions`` also counts the instructions of each encode (valgrind's cachegrind: the count of a
process that loads the result and encodes it, minus that of one that only loads it), which no load on
the machine changes: its ratio is the encoder's own scaling. Slow (valgrind), so off by default.

Run: ``.venv/bin/python benchmarks/encode_formats.py [--sizes 100,1000,10000,20000] [--repeat 5] [--instructions]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FORMATS = ("cyclonedx-json", "cyclonedx-xml", "spdx-json", "table", "json")
#: Not a format: a plain read of every package (see the module's docstring).
WALK = "walk"
#: What --encode-one does with the "load only" pseudo-format (the baseline of --instructions).
LOAD_ONLY = "load-only"
CACHEGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null")


def encode_once(result_file: Path, fmt: str) -> None:
    """In this (fresh) process: load a saved result, encode it once, print seconds and output bytes."""
    # Imported before the clock starts: a CLI run pays imports whatever the image, not per package.
    import provenant.sbom.cyclonedx_json
    import provenant.sbom.cyclonedx_xml
    import provenant.sbom.spdx_json
    import provenant.sbom.table  # noqa: F401
    from provenant.sbom.formats import encode
    from provenant.sbom.result import SbomResult

    result = SbomResult.model_validate_json(result_file.read_bytes())
    # Loading made every object of the model at once, so a full collection of them is due; whether it
    # fell inside the timed encode was chance (78 ms at 10,000 packages, more than the table's whole
    # encode). It is the load's cost, paid here, before the clock.
    gc.collect()
    evict_caches()
    if fmt == LOAD_ONLY:  # everything before the clock, so that --instructions subtracts all of it
        return
    start, cpu = time.perf_counter(), time.process_time()
    if fmt == WALK:
        size = sum(len(p.name) + len(p.version) + len(p.type) + len(p.purl or "") for p in result.images[0].packages)
    else:
        size = sum(len(d.text) for d in encode(result, fmt, merge=False))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{seconds:.6f} {cpu:.6f} {size}")


def last_level_cache_bytes() -> int:
    """Size of the CPU's last-level cache (sysfs), or 32 MiB where the kernel does not say."""
    sizes = []
    for entry in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        text = entry.read_text().strip()
        scale = {"K": 1 << 10, "M": 1 << 20}.get(text[-1:], 1)
        sizes.append(int(text.rstrip("KM")) * scale)
    return max(sizes, default=32 << 20)


def evict_caches() -> None:
    """Write and read a buffer four times the last-level cache: what follows starts with none of the model cached."""
    buf = bytearray(b"\x01") * (4 * last_level_cache_bytes())
    buf.count(0)
    del buf


def scan(ref: str, dest: Path) -> tuple[float, int]:
    """Scan and catalog ``ref`` in-process; save the result to ``dest``. Seconds and package count."""
    from provenant.sbom.generate import generate_sbom
    from provenant.session import Session

    start = time.perf_counter()
    with Session() as session:
        result = generate_sbom(session, ref)
    seconds = time.perf_counter() - start
    dest.write_text(result.model_dump_json())
    return seconds, sum(len(img.packages) for img in result.images)


def instructions(result_file: Path, fmt: str) -> int:
    """Instructions of one process that loads ``result_file`` and encodes it as ``fmt`` (cachegrind's count).

    With ``fmt`` = :data:`LOAD_ONLY` it stops where the clock would start: the baseline subtracted from the others.
    """
    # One hash seed for both processes: with a random one per process, dicts and sets probe differently
    # and the two loads' counts differ by more than a small encode's (the walk's ratio came out 1.41, 3.04).
    err = subprocess.run(
        [*CACHEGRIND, sys.executable, __file__, "--encode-one", str(result_file), fmt],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    ).stderr
    line = next(line for line in err.splitlines() if "I   refs:" in line or "I refs:" in line)
    return int(line.rsplit(":", 1)[1].replace(",", ""))


def timed_encodes(
    result_files: dict[int, Path], formats: list[str], repeat: int
) -> dict[int, dict[str, list[tuple[float, float]]]]:
    """Wall and CPU seconds per size and format, one pair per fresh process, in round order.

    ``repeat`` rounds, each running every format at every size once, the sizes of a format back to
    back (see the module's docstring).
    """
    samples: dict[int, dict[str, list[tuple[float, float]]]] = {n: {f: [] for f in formats} for n in result_files}
    for _ in range(repeat):
        for fmt in formats:
            for n, result_file in result_files.items():
                out = subprocess.run(
                    [sys.executable, __file__, "--encode-one", str(result_file), fmt],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                # A tiny N can take "0" CPU seconds: ratios stay defined.
                samples[n][fmt].append((max(float(out[0]), 1e-6), max(float(out[1]), 1e-6)))
    return samples


def best(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """The least wall and the least CPU seconds of a measure's processes."""
    return min(w for w, _ in runs), min(c for _, c in runs)


def split_half(runs: list[tuple[float, float]]) -> float:
    """Best wall time of the odd rounds over that of the even rounds: the same measure twice, so how far
    from 1 this lies is how far apart two measures of one thing come out on this machine."""
    return min(w for w, _ in runs[0::2]) / min(w for w, _ in runs[1::2])


def paired_ratio(small: list[tuple[float, float]], large: list[tuple[float, float]]) -> float:
    """Median over rounds of wall(2N)/wall(N), each pair measured back to back (a slow spell hits both)."""
    return statistics.median(big[0] / little[0] for little, big in zip(small, large, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000,20000", help="comma-separated N (2N is measured too)")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--repeat", type=int, default=5, help="processes per measure (the best is kept)")
    parser.add_argument("--instructions", action="store_true", help="also count instructions (valgrind; slow)")
    parser.add_argument("--encode-one", nargs=2, metavar=("RESULT", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.encode_one:
        encode_once(Path(args.encode_one[0]), args.encode_one[1])
        return
    from benchmarks.pkgimage import write_package_image

    formats = [f for f in args.formats.split(",") if f] + [WALK]
    sizes = [int(n) for n in args.sizes.split(",") if n]
    counts: dict[int, dict[str, int]] = {}
    print(
        f"seconds to encode, wall / CPU (best of {args.repeat} fresh processes); {WALK}: a plain read of every package"
    )
    print(f"{'N':>7} {'found':>7} {'scan s':>8} " + " ".join(f"{f:>17}" for f in formats))
    with tempfile.TemporaryDirectory() as tmp:
        scanned: dict[int, tuple[Path, float, int]] = {}
        for n in sorted({m for size in sizes for m in (size, 2 * size)}):
            ref = write_package_image(Path(tmp) / f"img{n}", n)
            result_file = Path(tmp) / f"result{n}.json"
            scanned[n] = (result_file, *scan(ref, result_file))
        samples = timed_encodes({n: f for n, (f, _, _) in scanned.items()}, formats, args.repeat)
        times = {n: {f: best(runs) for f, runs in per.items()} for n, per in samples.items()}
        for n, (result_file, scan_s, found) in scanned.items():
            cells = " ".join(f"{times[n][f][0]:>8.3f}/{times[n][f][1]:<8.3f}" for f in formats)
            print(f"{n:>7} {found:>7} {scan_s:>8.3f} {cells}", flush=True)
            if args.instructions:
                base = instructions(result_file, LOAD_ONLY)
                counts[n] = {fmt: instructions(result_file, fmt) - base for fmt in formats}
    print("time(2N)/time(N), wall / CPU:")
    for n in sizes:
        ratios = " ".join(
            f"{times[2 * n][f][0] / times[n][f][0]:>8.2f}/{times[2 * n][f][1] / times[n][f][1]:<8.2f}" for f in formats
        )
        print(f"{n:>7} {'':>7} {'':>8} {ratios}")
    print("median over rounds of wall(2N)/wall(N), the two processes of a round run back to back:")
    for n in sizes:
        ratios = " ".join(f"{paired_ratio(samples[n][f], samples[2 * n][f]):>17.2f}" for f in formats)
        print(f"{n:>7} {'':>7} {'':>8} {ratios}")
    if args.repeat >= 2:
        print("the same measure twice: best wall time of the odd rounds / best of the even rounds, per size:")
        for n in sorted(samples):
            cells = " ".join(f"{split_half(samples[n][f]):>17.2f}" for f in formats)
            print(f"{n:>7} {'':>7} {'':>8} {cells}")
    if counts:
        print("instructions(2N)/instructions(N) (cachegrind; instructions at N in millions):")
        for n in sizes:
            cells = " ".join(f"{counts[2 * n][f] / counts[n][f]:>8.2f} {counts[n][f] / 1e6:>8.0f}" for f in formats)
            print(f"{n:>7} {'':>7} {'':>8} {cells}")


if __name__ == "__main__":
    main()
