"""Plain-text package table per platform: NAME, VERSION, TYPE, INTRODUCED; then counts and issues."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from provenant.sbom.result import ImageSbom, ScanIssue
from provenant.textsafe import printable

INTRO_WIDTH = 40


def _plain(text: str) -> str:
    return " ".join(text.split())


def _oneline(text: str) -> str:
    # Names, versions and history lines come from the image: controls are shown escaped, never emitted.
    return printable(_plain(text))


def issue_text(issue: ScanIssue) -> str:
    """``layer 2 /var/lib/rpm/rpmdb.sqlite: reason`` (the parts that are known)."""
    where = " ".join(
        part
        for part in (
            f"layer {issue.layer_index}" if issue.layer_index is not None else "",
            "/" + issue.path.lstrip("/") if issue.path else "",
        )
        if part
    )
    reason = _plain(issue.reason)  # not escaped here: SBOM documents carry it as data
    return f"{where}: {reason}" if where else reason


def _created_by(line: str | None) -> str:
    text = _oneline(line or "")
    # The builders' shell-form wrapping carries no information for a reader and would use up the width.
    if text.startswith("/bin/sh -c #(nop)"):
        text = text.removeprefix("/bin/sh -c #(nop)").strip()
    elif text.startswith(("/bin/sh -c ", "RUN /bin/sh -c ")):
        text = "RUN " + text.split("/bin/sh -c ", 1)[1]
    text = text.removesuffix(" # buildkit")
    return text[:INTRO_WIDTH] + ("…" if len(text) > INTRO_WIDTH else "")


def _grid(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def _block(img: ImageSbom) -> str:
    distro = (img.distro.pretty_name or img.distro.purl_distro) if img.distro else "unknown distro"
    lines = [_oneline(f"{img.name} {img.platform} {img.manifest_digest}") + f" ({_oneline(distro)})"]
    rows = [["NAME", "VERSION", "TYPE", "INTRODUCED"]]
    for p in sorted(img.packages, key=lambda p: (p.type, p.name, p.version, p.key())):
        intro = p.introduced_in
        where = "-"
        if intro is not None:
            created_by = _created_by(intro.created_by)
            where = f"{intro.layer_index} {created_by}" if created_by else str(intro.layer_index)
        rows.append([_oneline(p.name), _oneline(p.version), _oneline(p.type), where])
    lines += _grid(rows)
    counts = Counter(p.type for p in img.packages)
    summary = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
    lines.append(f"{len(img.packages)} packages" + (f": {summary}" if summary else ""))
    lines += [f"issue: {_oneline(issue_text(i))}" for i in img.issues]
    return "\n".join(lines)


def render_table(images: Sequence[ImageSbom]) -> str:
    """One block per platform image, separated by a blank line."""
    return "\n\n".join(_block(img) for img in images) + "\n"
