"""Plain-text package table per platform: NAME, VERSION, TYPE, INTRODUCED; then counts and issues."""

from __future__ import annotations

from collections.abc import Sequence

from provenant.sbom.model import Package
from provenant.sbom.result import ImageSbom, ScanIssue
from provenant.textsafe import printable

INTRO_WIDTH = 40
#: The order rows are sorted in when the packages are not in it already: every package list's.
_order = Package.order


def _plain(text: str) -> str:
    return " ".join(text.split())


def _oneline(text: str) -> str:
    # Names, versions and history lines come from the image: controls are shown escaped, never emitted.
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        # Nothing to do (the common case): isprintable() is False for every control, separator and
        # bidi character printable() escapes and for all whitespace but the ASCII space.
        return text
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


def _grid(rows: Sequence[Sequence[str]], widths: Sequence[int]) -> list[str]:
    """Rows in columns of ``widths``, one for each column but the last, which is not padded."""
    # One format string for every row (the last column unpadded: lines carry no trailing blanks).
    line = "  ".join([*(f"{{:<{w}}}" for w in widths), "{}"])
    return [line.format(*r).rstrip() for r in rows]


def _block(img: ImageSbom) -> str:
    distro = (img.distro.pretty_name or img.distro.purl_distro) if img.distro else "unknown distro"
    lines = [_oneline(f"{img.name} {img.platform} {img.manifest_digest}") + f" ({_oneline(distro)})"]
    # One pass over the model: each package's strings are read while they are in the cache, for its
    # cells, their widths, its type's count and whether the packages are already in table order (the
    # model keeps them so). Every later step touches only the small rows made here: passes that went
    # back to the model's strings (widths, the sort, counts) found them evicted once the model
    # outgrew the cache, and time(20k)/time(10k) was above 2.
    intros: dict[tuple[int, str | None], str] = {}  # a layer's column, made once for all its packages
    rows: list[tuple[str, str, str, str]] = []
    counts: dict[str, int] = {}
    header = ("NAME", "VERSION", "TYPE", "INTRODUCED")
    name_w, version_w, type_w = (len(h) for h in header[:3])  # INTRODUCED, last, is not padded
    ordered, last = True, ("", "", "", "")
    for p in img.packages:
        name, version, kind, intro = p.name, p.version, p.type, p.introduced_in
        where = "-"
        if intro is not None:
            at = (intro.layer_index, intro.created_by)
            where = intros.get(at) or intros.setdefault(at, _where(*at))
        key = (kind, name, version, p.key())  # p.order(), without a second call a package
        if key < last:
            ordered = False
        last = key
        counts[kind] = counts.get(kind, 0) + 1
        name, version, kind = _oneline(name), _oneline(version), _oneline(kind)
        rows.append((name, version, kind, where))
        # A conditional: cheaper than a call of max(), three times a package.
        name_w = name_w if len(name) <= name_w else len(name)
        version_w = version_w if len(version) <= version_w else len(version)
        type_w = type_w if len(kind) <= type_w else len(kind)
    if not ordered:  # never for a model generate_sbom made; read again, in order, only then
        order = sorted(range(len(rows)), key=lambda i: _order(img.packages[i]))
        rows = [rows[i] for i in order]
    lines += _grid([header, *rows], (name_w, version_w, type_w))
    summary = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
    lines.append(f"{len(img.packages)} packages" + (f": {summary}" if summary else ""))
    lines += [f"issue: {_oneline(issue_text(i))}" for i in img.issues]
    return "\n".join(lines)


def _where(layer_index: int, created_by: str | None) -> str:
    """The INTRODUCED cell: the layer's index and what created it."""
    text = _created_by(created_by)
    return f"{layer_index} {text}" if text else str(layer_index)


def render_table(images: Sequence[ImageSbom]) -> str:
    """One block per platform image, separated by a blank line."""
    return "\n\n".join(_block(img) for img in images) + "\n"
