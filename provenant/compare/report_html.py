"""Render :class:`~provenant.compare.report.ReportData` as one self-contained HTML page.

No scripts, no external stylesheets, fonts or images: inline CSS, and bars drawn as sized ``div``
elements, so the page opens the same offline, in a CI artifact viewer or attached to a ticket. Every
piece of text from the image (labels, history lines, names) is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from provenant.compare.platforms import AttestationCoverage, CompareResult, PlatformSummary
from provenant.compare.report import AttachmentRow, PlatformReport, ReportData
from provenant.sizes import human_size
from provenant.textsafe import writable

#: Colours of the layer segments in the stacked bars (cycled).
PALETTE = ("#3b6ea5", "#e07b39", "#5a9e5a", "#b04f6f", "#7d64b0", "#4aa3a3", "#a58a3b", "#6b7280")

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
section.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;margin:12px 0}
table{border-collapse:collapse;width:100%;margin:6px 0}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.num,th.num{text-align:right;white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.muted{color:#656d76}.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}.warn{color:#9a6700;font-weight:600}
.bar{display:flex;height:18px;background:#eaeef2;border-radius:3px;overflow:hidden;min-width:2px}
.seg{height:100%}.barrow{display:grid;grid-template-columns:160px 1fr 220px;gap:8px;align-items:center;margin:4px 0}
.legend span{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;border:1px solid #d0d7de;margin-right:4px}
.badge.yes{background:#dafbe1;border-color:#1a7f37}.badge.no{background:#ffebe9;border-color:#cf222e}
details summary{cursor:pointer;color:#0969da}
td:first-child code{word-break:normal;white-space:nowrap}
h1,p{overflow-wrap:anywhere}
"""


def e(value: object) -> str:
    """Escaped text (quotes too: values also go into attributes)."""
    return html.escape(writable(str(value)), quote=True)


def size(n: int) -> str:
    """``12.3 MB (12,345,678 bytes)``: readable and exact."""
    return f"{human_size(n)} ({n:,} bytes)"


def _table(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Sequence[int] = (), raw: bool = False
) -> str:
    """A table; cells are escaped unless ``raw`` (then the caller escaped them)."""
    th = "".join(f'<th class="num">{e(h)}</th>' if i in numeric else f"<th>{e(h)}</th>" for i, h in enumerate(header))
    body = []
    for row in rows:
        tds = "".join(
            f'<td class="num">{c if raw else e(c)}</td>' if i in numeric else f"<td>{c if raw else e(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _badge(label: str, present: bool) -> str:
    return f'<span class="badge {"yes" if present else "no"}">{e(label)}: {"yes" if present else "no"}</span>'


def _coverage(cov: AttestationCoverage) -> str:
    state = {"signed": "signed, not verified", "signature invalid": "does not verify with the given key(s)"}.get(
        cov.state, cov.state
    )
    signature = (
        '<span class="badge no">signature: invalid</span>'
        if cov.state == "signature invalid"
        else _badge("signature", cov.signed)
    )
    badges = [_badge("provenance", cov.provenance), _badge("SBOM", cov.sbom), signature]
    return " ".join(badges) + f' <span class="muted">{e(state)}</span>'


def _size_bars(platforms: Sequence[PlatformSummary]) -> str:
    """Per platform: the uncompressed size as a bar of its layers (one scale for all), both totals beside it."""
    biggest = max((p.uncompressed_size for p in platforms), default=0) or 1
    out = ['<div class="legend muted">Bars: uncompressed size, one segment per layer; scale: largest platform.</div>']
    for p in platforms:
        segs = "".join(
            f'<div class="seg" style="width:{100 * layer.uncompressed_size / biggest:.3f}%;'
            f'background:{PALETTE[layer.index % len(PALETTE)]}" title="layer {layer.index}: '
            f'{e(size(layer.uncompressed_size))}"></div>'
            for layer in p.layers
        )
        out.append(
            f'<div class="barrow"><code>{e(p.platform)}</code><div class="bar">{segs}</div>'
            f"<span>{e(human_size(p.uncompressed_size))} uncompressed, "
            f"{e(human_size(p.compressed_size))} compressed</span></div>"
        )
    return "".join(out)


def _overview(c: CompareResult) -> str:
    rows = [
        [
            f"<code>{e(p.platform)}</code>",
            f"<code>{e(p.manifest_digest)}</code>",
            e(size(p.compressed_size)),
            e(size(p.uncompressed_size)),
            str(p.layer_count),
            f"{p.shared_layers} shared, {p.unique_layers} unique",
            str(p.package_count),
            e(p.distro or "-"),
            _coverage(p.attestations),
        ]
        for p in c.platforms
    ]
    return _table(
        ["Platform", "Manifest", "Compressed", "Uncompressed", "Layers", "Layer sharing", "Packages", "Distro",
         "Attestations"],
        rows,
        numeric=(2, 3, 4, 6),
        raw=True,
    )  # fmt: skip


def _package_types(c: CompareResult) -> str:
    types = sorted({t for p in c.platforms for t in p.packages_by_type})
    rows = [
        [p.platform, *(str(p.packages_by_type.get(t, 0)) for t in types), str(p.package_count)] for p in c.platforms
    ]
    return _table(["Platform", *types, "total"], rows, numeric=tuple(range(1, len(types) + 2)))


def _differences(c: CompareResult) -> str:
    out = []
    if c.missing_required:
        out.append(f'<p class="bad">Missing required platforms: {e(", ".join(c.missing_required))}</p>')
    elif c.required:
        out.append(f'<p class="ok">Required platforms present: {e(", ".join(c.required))}</p>')
    if len(c.platforms) == 1:
        out.append('<p class="muted">A single platform: nothing to compare it with.</p>')
        return "".join(out)
    out.append("<h3>Packages not on every platform</h3>")
    if c.partial_packages:
        out.append(
            _table(
                ["Type", "Package", "Present on", "Missing on"],
                [
                    [pp.type, pp.name, ", ".join(f"{p} {v}" for p, v in pp.versions.items()), ", ".join(pp.missing_on)]
                    for pp in c.partial_packages
                ],
            )
        )
    else:
        out.append('<p class="ok">Every platform has the same packages.</p>')
    out.append("<h3>Version skew</h3>")
    if c.version_skew:
        out.append(
            _table(
                ["Type", "Package", "Versions"],
                [[s.type, s.name, "; ".join(f"{p} {v}" for p, v in s.versions.items())] for s in c.version_skew],
            )
        )
    else:
        out.append('<p class="ok">No version skew: shared packages have the same version everywhere.</p>')
    return "".join(out)


def _attachments(rows: Sequence[AttachmentRow]) -> str:
    if not rows:
        return '<p class="warn">Nothing attached.</p>'
    # Trust labels and signers carry 71-character key fingerprints: as <code> they may break anywhere,
    # so the table stays inside the page instead of pushing Signer and Subject off the right edge.
    return _table(
        ["Kind", "Predicate type", "Found via", "Trust", "Signer", "Subject"],
        [
            [
                e(a.kind),
                f"<code>{e(a.predicate_type)}</code>" if a.predicate_type else "-",
                e(a.source),
                f"<code>{e(a.trust)}</code>",
                f"<code>{e(a.signer)}</code>" if a.signer else "-",
                e(a.subject_check),
            ]
            for a in rows
        ],
        raw=True,
    )


def _shared(listed: Sequence[str], count: int) -> str:
    """``a, b and 3 more``: the page stays linear in the platforms however many share a layer."""
    if not count:
        return "unique"
    more = count - len(listed)
    return ", ".join(listed) + (f" and {more} more" if more > 0 else "")


def _platform_section(p: PlatformSummary, detail: PlatformReport) -> str:
    total = p.uncompressed_size or 1
    layer_rows = []
    for layer, layer_waste in zip(p.layers, detail.wasted_by_layer, strict=True):
        share = 100 * layer.uncompressed_size / total
        colour = PALETTE[layer.index % len(PALETTE)]
        bar = f'<div class="bar"><div class="seg" style="width:{share:.3f}%;background:{colour}"></div></div>'
        layer_rows.append(
            [
                str(layer.index),
                f"<code>{e(layer.created_by or '(no history entry)')}</code>",
                e(size(layer.size)),
                e(size(layer.uncompressed_size)),
                str(layer.file_count),
                e(_shared(layer.shared_with, layer.shared_count)),
                e(size(layer_waste)) if layer_waste else "0",
                bar,
            ]
        )
    layers = _table(
        ["#", "Created by", "Compressed", "Uncompressed", "Files", "Shared with", "Wasted", "Share of image"],
        layer_rows,
        numeric=(0, 2, 3, 4, 6),
        raw=True,
    )
    wasted = _table(
        ["Path", "Layer", "Size", "Why"],
        [[w.path, str(w.layer_index), size(w.size), f"{w.reason} by a later layer"] for w in detail.largest_wasted],
        numeric=(1, 2),
    )
    shown, count = len(detail.largest_wasted), detail.wasted_file_count
    wasted_text = (
        f"<p>Wasted: {e(size(detail.wasted_bytes))} in {count} file(s) that a later layer "
        "deletes or overwrites, still pulled with their layer.</p>"
    )
    if shown:
        wasted_text += f"<details><summary>Largest wasted files ({shown} of {count})</summary>{wasted}</details>"
    history = _table(
        ["Created by", "Layer", "Size"],
        [
            [
                e(h.created_by),
                "(empty)" if h.empty_layer else f"<code>{e(h.layer_digest)}</code>" if h.layer_digest else "-",
                e(human_size(h.size)),
            ]
            for h in detail.history
        ],
        numeric=(2,),
        raw=True,
    )
    base = p.base_image
    base_text = (
        f"{e(base.name or '-')} <code>{e(base.digest or '-')}</code> "
        f'<span class="muted">(from {e(base.evidence)}: {e(base.detail)})</span>'
        if base
        else '<span class="muted">not stated by any evidence</span>'
    )
    return (
        f'<section class="card" id="platform-{e(p.platform.replace("/", "-"))}">'
        f"<h3>{e(p.platform)}</h3>"
        f"<p>Manifest <code>{e(p.manifest_digest)}</code> · base image: {base_text}</p>"
        f"<h4>Layers</h4>{layers}{wasted_text}"
        f"<details><summary>History ({len(detail.history)} lines)</summary>{history}</details>"
        f"<h4>Attestations and signatures</h4>{_attachments(detail.attachments)}"
        "</section>"
    )


def render_html(report: ReportData) -> str:
    """The whole page."""
    c = report.compare
    details = {d.platform: d for d in report.platforms}
    sections = "".join(_platform_section(p, details[p.platform]) for p in c.platforms)
    index_att = (
        '<h2>Attached to the index</h2><section class="card" id="index-attachments">'
        f"{_attachments(report.index_attachments)}</section>"
        if c.is_index
        else ""
    )
    notes = "".join(f'<p class="muted">{e(n)}</p>' for n in c.notes)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>provenant report: {e(c.reference)}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{e(c.reference)}</h1>"
        f'<p class="muted">Digest <code>{e(c.digest)}</code> · source {e(c.source)} · '
        f"{len(c.platforms)} platform(s) · provenant {e(report.tool_version)}</p>"
        f"{notes}"
        f'<h2>Sizes</h2><section class="card" id="sizes">{_size_bars(c.platforms)}</section>'
        f'<h2>Platforms</h2><section class="card" id="platforms">{_overview(c)}'
        f'<p class="muted">Compressed = config + layer blobs as the manifest states them; uncompressed = sum of '
        f"the layers' tar streams. Layers are shared when another platform has the same diff_id.</p></section>"
        f'<h2>Packages by type</h2><section class="card" id="package-types">{_package_types(c)}</section>'
        f'<h2>Differences between platforms</h2><section class="card" id="differences">{_differences(c)}</section>'
        f"{index_att}"
        f"<h2>Per platform</h2>{sections}"
        "</main></body></html>\n"
    )
