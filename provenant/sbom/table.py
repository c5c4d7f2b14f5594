"""Plain-text package table per platform: NAME, VERSION, TYPE, INTRODUCED; then counts and issues."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from operator import itemgetter

from provenant.sbom.result import ImageSbom, ScanIssue
from provenant.textsafe import printable

INTRO_WIDTH = 40


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


def _grid(rows: Sequence[Sequence[str]], widths: Sequence[int] | None = None) -> list[str]:
    widths = widths or [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    # One format string for every row (the last column unpadded: lines carry no trailing blanks).
    line = "  ".join([*(f"{{:<{w}}}" for w in widths[:-1]), "{}"])
    return [line.format(*r).rstrip() for r in rows]


def _block(img: ImageSbom) -> str:
    distro = (img.distro.pretty_name or img.distro.purl_distro) if img.distro else "unknown distro"
    lines = [_oneline(f"{img.name} {img.platform} {img.manifest_digest}") + f" ({_oneline(distro)})"]
    # Each package is read once, in the model's order, into a small row that carries its sort key; the
    # sort and the grid then touch only these rows. Sorting the packages first and reading them in
    # sorted order jumped all over the model: time(20k)/time(10k) was ~2.4.
    intros: dict[tuple[int, str | None], str] = {}  # a layer's column, made once for all its packages
    keyed: list[tuple[str, str, str, str, str, str, str, str]] = []
    for p in img.packages:
        intro = p.introduced_in
        where = "-"
        if intro is not None:
            at = (intro.layer_index, intro.created_by)
            where = intros.get(at) or intros.setdefault(at, _where(*at))
        keyed.append(
            (p.type, p.name, p.version, p.key(), _oneline(p.name), _oneline(p.version), _oneline(p.type), where)
        )
    header = ("NAME", "VERSION", "TYPE", "INTRODUCED")
    # The widths before the sort, while the rows are still in the order their strings were made in.
    widths = [max(len(header[i]), max((len(row[4 + i]) for row in keyed), default=0)) for i in range(4)]
    keyed.sort(key=itemgetter(0, 1, 2, 3))
    rows: list[Sequence[str]] = [header]
    rows += [row[4:] for row in keyed]
    lines += _grid(rows, widths)
    counts = Counter(row[0] for row in keyed)
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
