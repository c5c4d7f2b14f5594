"""Terminal tables (rich) for ``compare`` and ``diff``."""

from __future__ import annotations

from rich.console import Console, JustifyMethod
from rich.table import Table

from provenant.compare.diff import DiffResult, PlatformDiff
from provenant.compare.platforms import CompareResult
from provenant.sizes import human_size
from provenant.textsafe import markup


def signed_size(n: int) -> str:
    """``+1.2 kB`` / ``-300 B`` / ``0 B``."""
    return ("+" if n > 0 else "-" if n < 0 else "") + human_size(abs(n))


#: Columns of long text (digests, names, values) that fold onto more lines when the terminal is narrow.
#: The others (platforms, sizes, counts) keep their full width: rich would otherwise cut every column
#: to "…", which leaves two rows both reading "linux/a…".
FOLDING = frozenset({"DIGEST", "CREATED BY", "NAME", "KEY", "OLD", "NEW", "VERSIONS", "ON", "MISSING ON", "EVIDENCE"})


def _table(title: str, *columns: str, right: tuple[str, ...] = ()) -> Table:
    t = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for col in columns:
        justify: JustifyMethod = "right" if col in right else "left"
        if col in FOLDING:
            t.add_column(col, justify=justify, overflow="fold")
        else:
            t.add_column(col, justify=justify, no_wrap=True, min_width=len(col))
    return t


# Package names, versions, platforms and config values come from the image: markup() shows their control
# characters escaped and makes "[/x]" in them literal (rich would garble the line or raise MarkupError).


def _render_differences(result: CompareResult, con: Console) -> None:
    if result.partial_packages:
        t = _table("Packages not on every platform", "TYPE", "NAME", "ON", "MISSING ON")
        for pp in result.partial_packages:
            on = ", ".join(f"{p} {v}" for p, v in pp.versions.items())
            t.add_row(markup(pp.type), markup(pp.name), markup(on), markup(", ".join(pp.missing_on)))
        con.print(t)
    else:
        con.print("Packages: every platform has the same package names.")
    con.print()
    if result.version_skew:
        t = _table("Version skew", "TYPE", "NAME", "VERSIONS")
        for s in result.version_skew:
            t.add_row(markup(s.type), markup(s.name), markup("; ".join(f"{p} {v}" for p, v in s.versions.items())))
        con.print(t)
    else:
        con.print("Version skew: none.")


def render_compare(result: CompareResult, con: Console) -> None:
    """Platforms, packages not on every platform, version skew, required platforms."""
    con.print(
        f"[bold]{markup(result.reference)}[/bold]  {markup(result.digest)}  ({len(result.platforms)} platform(s))"
    )
    con.print()
    t = _table(
        "Platforms",
        "PLATFORM", "DIGEST", "COMPRESSED", "UNCOMPRESSED", "LAYERS", "SHARED", "UNIQUE", "PACKAGES", "EVIDENCE",
        right=("COMPRESSED", "UNCOMPRESSED", "LAYERS", "SHARED", "UNIQUE", "PACKAGES"),
    )  # fmt: skip
    for p in result.platforms:
        by_type = ", ".join(f"{k} {v}" for k, v in p.packages_by_type.items())
        t.add_row(
            markup(p.platform),
            markup(p.manifest_digest),
            human_size(p.compressed_size),
            human_size(p.uncompressed_size),
            str(p.layer_count),
            str(p.shared_layers),
            str(p.unique_layers),
            markup(f"{p.package_count} ({by_type})") if by_type else "0",
            markup(p.attestations.summary),
        )
    con.print(t)
    con.print()
    if len(result.platforms) > 1:
        _render_differences(result, con)
    if result.required:
        con.print()
        if result.missing_required:
            con.print(f"[bold red]Missing required platforms:[/bold red] {markup(', '.join(result.missing_required))}")
        else:
            con.print(f"Required platforms present: {markup(', '.join(result.required))}")
    for note in result.notes:
        con.print(f"Note: {markup(note)}")


def _diff_platform(p: PlatformDiff, con: Console) -> None:
    title = p.platform if p.platform_b is None else f"{p.platform} → {p.platform_b}"
    con.print(f"[bold]{markup(title)}[/bold]  {markup(p.a.manifest_digest)} → {markup(p.b.manifest_digest)}")
    if p.identical:
        con.print("  identical manifests")
        return
    con.print(
        f"  size: {human_size(p.a.compressed_size)} → {human_size(p.b.compressed_size)} "
        f"({signed_size(p.compressed_delta)} compressed, {signed_size(p.uncompressed_delta)} uncompressed)"
    )
    con.print(f"  layers: {len(p.layers_reused)} reused, {len(p.layers_added)} new, {len(p.layers_removed)} dropped")
    old, new = p.a.base_image, p.b.base_image
    if old is not None and new is not None:
        state = "changed" if p.base_image_changed else "unchanged"
        via = old.evidence if old.evidence == new.evidence else f"{old.evidence} / {new.evidence}"
        con.print(f"  base image: {state} ({markup(old.name or '-')} → {markup(new.name or '-')}, from {markup(via)})")
    elif old is not None:
        con.print(f"  base image: only A's evidence names one ({markup(old.name or '-')})")
    elif new is not None:
        con.print(f"  base image: only B's evidence names one ({markup(new.name or '-')})")
    t = _table("", "CHANGE", "TYPE", "NAME", "OLD", "NEW")
    for a in p.packages_added:
        t.add_row("added", markup(a.type), markup(a.name), "", markup(a.version))
    for r in p.packages_removed:
        t.add_row("removed", markup(r.type), markup(r.name), markup(r.version), "")
    for c in p.packages_changed:
        t.add_row("changed", markup(c.type), markup(c.name), markup(c.old_version), markup(c.new_version))
    if t.row_count:
        con.print(t)
    else:
        con.print("  packages: no changes")
    if p.config_changes:
        ct = _table("", "CONFIG", "KEY", "OLD", "NEW")
        for cc in p.config_changes:
            ct.add_row(markup(cc.field), markup(cc.key or ""), markup(cc.old or "-"), markup(cc.new or "-"))
        con.print(ct)
    else:
        con.print("  config: no changes")
    for layer in p.layers_added:
        created_by = " ".join((layer.created_by or "").split())  # one line per layer, however the step was written
        con.print(f"  new layer {layer.index}: {human_size(layer.size)}  {markup(created_by)}", soft_wrap=True)


def render_diff(result: DiffResult, con: Console) -> None:
    """One block per compared platform."""
    con.print(f"A: {markup(result.a)} ({markup(result.a_digest)})")
    con.print(f"B: {markup(result.b)} ({markup(result.b_digest)})")
    for p in result.platforms:
        con.print()
        _diff_platform(p, con)
    if result.only_in_a or result.only_in_b:
        con.print()
    if result.only_in_a:
        con.print(f"Only in A (not compared): {markup(', '.join(result.only_in_a))}")
    if result.only_in_b:
        con.print(f"Only in B (not compared): {markup(', '.join(result.only_in_b))}")
