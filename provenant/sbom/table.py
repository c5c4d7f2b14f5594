"""Plain-text package table per platform: NAME, VERSION, TYPE, INTRODUCED; then counts and issues."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from provenant.sbom.result import ImageSbom

INTRO_WIDTH = 40


def _introduced(layer: int, created_by: str | None) -> str:
    text = " ".join((created_by or "").split())
    if len(text) > INTRO_WIDTH:
        text = text[: INTRO_WIDTH - 1] + "…"
    return f"{layer}: {text}" if text else str(layer)


def _grid(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def render_table(images: Sequence[ImageSbom]) -> str:
    """One block per platform image."""
    blocks = []
    for img in images:
        distro = img.distro.pretty_name or img.distro.id if img.distro else "unknown distro"
        lines = [f"{img.name} {img.platform} {img.manifest_digest} ({distro})"]
        rows = [["NAME", "VERSION", "TYPE", "INTRODUCED"]]
        for p in sorted(img.packages, key=lambda p: (p.type, p.name, p.version)):
            intro = p.introduced_in
            where = _introduced(intro.layer_index, intro.created_by) if intro else "-"
            rows.append([p.name, p.version, p.type, where])
        lines += _grid(rows)
        counts = Counter(p.type for p in img.packages)
        summary = ", ".join(f"{n} {t}" for t, n in sorted(counts.items())) or "none"
        lines.append(f"{len(img.packages)} packages: {summary}")
        for issue in img.issues:
            where = f"layer {issue.layer_index} {issue.path}" if issue.path else f"layer {issue.layer_index}"
            lines.append(f"issue: {where}: {issue.reason}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
