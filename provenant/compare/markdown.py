"""GitHub-flavoured Markdown for ``compare`` and ``diff`` (ready for a pull-request comment)."""

from __future__ import annotations

from collections.abc import Sequence

from provenant.compare.diff import DiffResult, PlatformDiff
from provenant.compare.platforms import CompareResult
from provenant.compare.table import signed_size
from provenant.sizes import human_size
from provenant.textsafe import printable


def cell(text: str) -> str:
    """A table cell: pipes escaped, line breaks flattened, other controls shown escaped (``\\x1b``)."""
    flat = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")
    return printable(flat, keep_tabs=True)


def code(text: str) -> str:
    """Inline code; text holding a backtick gets a double-backtick span."""
    t = cell(text)
    return f"`` {t} ``" if "`" in t else f"`{t}`"


def _opt(text: str | None, empty: str) -> str:
    return code(text) if text else empty


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(header))]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def _differences(result: CompareResult) -> list[str]:
    lines: list[str] = []
    if result.partial_packages:
        lines += ["#### Packages not on every platform", ""]
        lines += _table(
            ["Type", "Package", "Present on", "Missing on"],
            [
                [
                    pp.type,
                    code(pp.name),
                    cell(", ".join(f"{p} {v}" for p, v in pp.versions.items())),
                    cell(", ".join(pp.missing_on)),
                ]
                for pp in result.partial_packages
            ],
        )
    else:
        lines.append("Every platform has the same package names.")
    lines.append("")
    if result.version_skew:
        lines += ["#### Version skew", ""]
        lines += _table(
            ["Type", "Package", "Versions"],
            [
                [s.type, code(s.name), cell("; ".join(f"{p} {v}" for p, v in s.versions.items()))]
                for s in result.version_skew
            ],
        )
    else:
        lines.append("No version skew.")
    return lines


def compare_markdown(result: CompareResult) -> str:
    """The comparison as a Markdown section."""
    lines = [f"### Platforms of {code(result.reference)}", "", f"Digest {code(result.digest)}", ""]
    rows = [
        [
            code(p.platform),
            code(p.manifest_digest[:19]),
            human_size(p.compressed_size),
            human_size(p.uncompressed_size),
            str(p.layer_count),
            f"{p.shared_layers} / {p.unique_layers}",
            ", ".join(f"{k} {v}" for k, v in p.packages_by_type.items()) or "0",
            cell(p.attestations.summary),
        ]
        for p in result.platforms
    ]
    lines += _table(
        ["Platform", "Digest", "Compressed", "Uncompressed", "Layers", "Shared / unique", "Packages", "Evidence"],
        rows,
        right=(2, 3, 4),
    )
    lines.append("")
    if len(result.platforms) > 1:
        lines += _differences(result)
    if result.required:
        lines.append("")
        if result.missing_required:
            lines.append(f"**Missing required platforms:** {', '.join(code(p) for p in result.missing_required)}")
        else:
            lines.append(f"Required platforms present: {', '.join(code(p) for p in result.required)}")
    lines += [f"_{cell(note)}_" for note in result.notes]
    return "\n".join(lines).rstrip("\n") + "\n"


def _platform_section(p: PlatformDiff) -> list[str]:
    title = p.platform if p.platform_b is None else f"{p.platform} → {p.platform_b}"
    lines = [f"#### {cell(title)}", ""]
    if p.identical:
        return [*lines, f"Identical manifests ({code(p.a.manifest_digest)}).", ""]
    lines += [
        f"- Manifest: {code(p.a.manifest_digest)} → {code(p.b.manifest_digest)}",
        f"- Size: {human_size(p.a.compressed_size)} → {human_size(p.b.compressed_size)} "
        f"({signed_size(p.compressed_delta)} compressed, {signed_size(p.uncompressed_delta)} uncompressed)",
        f"- Layers: {len(p.layers_reused)} reused, {len(p.layers_added)} new, {len(p.layers_removed)} dropped",
    ]
    old, new = p.a.base_image, p.b.base_image
    if old is not None or new is not None:
        state = "unknown" if p.base_image_changed is None else "changed" if p.base_image_changed else "unchanged"
        lines.append(
            f"- Base image ({state}): {_opt(old.name if old else None, '-')} → {_opt(new.name if new else None, '-')}"
        )
    lines.append("")
    rows = [["added", p_.type, code(p_.name), "", code(p_.version)] for p_ in p.packages_added]
    rows += [["removed", r.type, code(r.name), code(r.version), ""] for r in p.packages_removed]
    rows += [["changed", c.type, code(c.name), code(c.old_version), code(c.new_version)] for c in p.packages_changed]
    if rows:
        lines += _table(["Change", "Type", "Package", "Old", "New"], rows)
    else:
        lines.append("No package changes.")
    lines.append("")
    if p.config_changes:
        lines += _table(
            ["Config", "Key", "Old", "New"],
            [
                [
                    cc.field,
                    code(cc.key) if cc.key else "",
                    code(cc.old) if cc.old else "-",
                    code(cc.new) if cc.new else "-",
                ]
                for cc in p.config_changes
            ],
        )
    else:
        lines.append("No config changes.")
    lines.append("")
    return lines


def diff_markdown(result: DiffResult) -> str:
    """The diff as a Markdown section."""
    lines = [f"### {code(result.a)} → {code(result.b)}", ""]
    for p in result.platforms:
        lines += _platform_section(p)
    if result.only_in_a:
        lines.append(f"Only in A (not compared): {', '.join(code(p) for p in result.only_in_a)}")
    if result.only_in_b:
        lines.append(f"Only in B (not compared): {', '.join(code(p) for p in result.only_in_b)}")
    return "\n".join(lines).rstrip("\n") + "\n"
