"""Text rendering of :class:`~provenant.inspect.InspectResult`."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from provenant.cli.render import when
from provenant.inspect import ImageDetail, InspectResult
from provenant.sizes import human_size
from provenant.textsafe import markup


def _kv(rows: list[tuple[str, str]]) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    for k, v in rows:
        # Keys too: annotation and label keys come from the image as much as their values.
        t.add_row(markup(k), markup(v))
    return t


def _list(v: list[str] | None) -> str:
    return " ".join(v) if v else "-"


def render_inspect(result: InspectResult, con: Console, *, verbose: bool) -> None:
    """Print the summary, the per-platform table, attestations, then each image in detail."""
    kind = f"index of {result.platform_count} platform(s)" if result.is_index else "image manifest"
    head = [
        ("Reference", result.reference),
        ("Source", result.source),
        ("Digest", result.digest),
        ("Media type", f"{result.media_type} ({kind})"),
    ]
    head += [(f"Note ({k})", v) for k, v in result.facts.items() if verbose or k == "synthesized"]
    if verbose and result.registry is not None:
        r = result.registry
        head.append(("Credentials", r.credential_source or "anonymous"))
        head.append(("Requests", str(r.request_count)))
        head += [(k, v) for k, v in sorted(r.rate_limit.items())]
    head += [(f"Annotation {k}", v) for k, v in sorted(result.annotations.items())]
    con.print(_kv(head))
    con.print()

    table = Table(title="Platforms", title_justify="left", box=None, pad_edge=False)
    for col in ("PLATFORM", "DIGEST", "SIZE", "LAYERS", "CREATED"):
        table.add_column(col, justify="right" if col in ("SIZE", "LAYERS") else "left", no_wrap=True)
    for p in result.platforms:
        table.add_row(
            markup(p.platform), markup(p.digest), human_size(p.compressed_size), str(p.layer_count), when(p.created)
        )
    con.print(table)
    if result.attestations:
        con.print()
        at = Table(title="Attestation manifests (not platforms)", title_justify="left", box=None, pad_edge=False)
        for col in ("DIGEST", "SIZE", "FOR PLATFORM", "FOR MANIFEST"):
            at.add_column(col, no_wrap=True)
        for a in result.attestations:
            at.add_row(
                markup(a.digest), human_size(a.size), markup(a.refers_to_platform or "?"), markup(a.refers_to or "?")
            )
        con.print(at)
    for img in result.images:
        con.print()
        _render_image(img, con)


def _render_image(img: ImageDetail, con: Console) -> None:
    con.rule(markup(f"{img.platform}  {img.digest}"), align="left")
    c = img.config
    rows = [
        ("Config", img.config_digest),
        (
            "Size",
            f"{human_size(img.compressed_size)} compressed ({img.compressed_size} bytes), {img.layer_count} layers",
        ),
        ("Created", when(img.created)),
        ("User", c.user or "(root by default)"),
        ("Entrypoint", _list(c.entrypoint)),
        ("Cmd", _list(c.cmd)),
        ("Workdir", c.working_dir or "-"),
        ("Ports", _list(c.exposed_ports)),
        ("Volumes", _list(c.volumes)),
        ("Stop signal", c.stop_signal or "-"),
    ]
    if img.author:
        rows.append(("Author", img.author))
    rows += [("Env", f"{k}={v}") for k, v in c.env.items()]
    rows += [("Label", f"{k}={v}") for k, v in c.labels.items()]
    rows += [("Annotation", f"{k}={v}") for k, v in sorted(img.annotations.items())]
    con.print(_kv(rows))
    con.print()
    hist = Table(title="History", title_justify="left", box=None, pad_edge=False)
    hist.add_column("CREATED", no_wrap=True)
    hist.add_column("CREATED BY", overflow="fold")
    hist.add_column("SIZE", justify="right", no_wrap=True)
    hist.add_column("LAYER", no_wrap=True)
    for h in img.history:
        hist.add_row(
            when(h.created),
            markup(h.created_by),
            human_size(h.size),
            markup((h.layer_digest or "")[:19]) if not h.empty_layer else "(empty)",
        )
    con.print(hist)
