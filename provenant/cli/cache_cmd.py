"""``provenant cache``."""

from __future__ import annotations

from pathlib import Path

import click

from provenant.cli.options import cache_dir_option


@click.group("cache")
def cache_group() -> None:
    """Inspect and prune the cache (layer scans and SBOM documents)."""


@cache_group.command("dir")
@cache_dir_option
def cache_dir_cmd(cache_dir: Path | None) -> None:
    """Print the cache directory."""
    from provenant.cachedir import default_cache_dir

    click.echo(str(cache_dir or default_cache_dir()))


@cache_group.command("prune")
@cache_dir_option
@click.option("--older-than", type=float, metavar="DAYS", help="Also remove entries not used for DAYS days.")
@click.option("--all", "remove_all", is_flag=True, help="Remove every entry.")
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
def cache_prune_cmd(cache_dir: Path | None, older_than: float | None, remove_all: bool, output: str) -> None:
    """Remove layer scans and SBOM documents made by other provenant versions (and old or all entries)."""
    from provenant.cache import LayerCache
    from provenant.catalog.scanversion import scanner_version
    from provenant.sbom.doccache import DocumentCache

    days = 0 if remove_all else older_than
    layers = LayerCache(cache_dir).prune(current_scanner=scanner_version(), older_than_days=days)
    removed, removed_bytes, kept, kept_bytes = DocumentCache(Path(layers.cache_dir)).prune(older_than_days=days)
    result = layers.model_copy(
        update={
            "removed_entries": layers.removed_entries + removed,
            "removed_bytes": layers.removed_bytes + removed_bytes,
            "kept_entries": layers.kept_entries + kept,
            "kept_bytes": layers.kept_bytes + kept_bytes,
        }
    )
    if output == "json":
        from provenant.jsontext import model_json

        click.echo(model_json(result, indent=2))
        return
    click.echo(
        f"{result.cache_dir}: removed {result.removed_entries} entries ({result.removed_bytes} bytes), "
        f"kept {result.kept_entries} ({result.kept_bytes} bytes)"
    )
