"""``provenant fleet``: scan many images into an inventory database and ask it questions."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from provenant.cli.options import build_registry_options, public_key_option, registry_options

if TYPE_CHECKING:
    from pydantic import BaseModel

    from provenant.fleet.store import Store

F = TypeVar("F", bound=Callable[..., Any])


def db_option(f: F) -> F:
    """``--db PATH|URL``."""
    return click.option(
        "--db",
        metavar="PATH|URL",
        envvar="PROVENANT_FLEET_DB",
        help="Inventory database: a SQLite file, or postgresql+psycopg://USER@HOST:PORT/DB "
        "(default: fleet.sqlite in the cache directory; env PROVENANT_FLEET_DB).",
    )(f)


def format_option(f: F) -> F:
    """``--format table|json|csv``."""
    return click.option(
        "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
    )(f)


def _need_extra() -> None:
    """First thing in every command: a missing extra is one line naming it, before any import needs it."""
    from provenant.fleet import require_extra

    require_extra()


def _open(db: str | None, *, migrate: bool) -> Store:
    from provenant.fleet.store import open_store

    return open_store(db, migrate=migrate)


def _emit(rows: Sequence[BaseModel], fmt: str, columns: Sequence[str]) -> None:
    """Rows as a JSON array, CSV with a header, or a table (an empty table says so on stderr)."""
    import json

    if fmt == "json":
        sys.stdout.write(json.dumps([r.model_dump(mode="json") for r in rows], indent=2) + "\n")
        return
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            d = r.model_dump(mode="json")
            w.writerow([_cell(d[c]) for c in columns])
        from provenant.textsafe import lines

        sys.stdout.write(lines(buf.getvalue()))
        return
    if not rows:
        click.echo("no matches", err=True)
        return
    from rich.table import Table

    from provenant.cli.render import console
    from provenant.textsafe import markup

    table = Table(box=None, pad_edge=False)
    for c in columns:
        table.add_column(c.upper().replace("_", " "), overflow="fold")
    for r in rows:
        d = r.model_dump(mode="json")
        table.add_row(*(markup(_cell(d[c]) or "-") for c in columns))
    with console() as out:
        out.print(table)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


@click.group("fleet")
def fleet_group() -> None:
    """Scan registries and layouts into an inventory (once per unique layer) and query it.

    Needs the fleet extra: pip install 'provenant[fleet]'. See docs/fleet.md.
    """


@fleet_group.group("db")
def db_group() -> None:
    """The inventory database itself."""


@db_group.command("upgrade")
@db_option
def db_upgrade_cmd(db: str | None) -> None:
    """Create the inventory, or migrate it to this provenant's schema revision."""
    _need_extra()
    from provenant.fleet.store import _engine, db_url, redacted, upgrade

    url = db_url(db)
    engine = _engine(url)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    state = "already at" if before == after else f"migrated from {before or 'empty'} to"
    click.echo(f"{redacted(url)}: {state} schema revision {after}", err=True)


@fleet_group.command("scan")
@click.argument("targets", nargs=-1, required=True)
@db_option
@click.option("--tag", "tag_globs", multiple=True, metavar="GLOB", help="Only tags matching GLOB (repeatable).")
@click.option("--newest", type=click.IntRange(min=1), metavar="N", help="Only the N newest tags of each repository.")
@click.option(
    "--by",
    "order",
    type=click.Choice(["semver", "created"]),
    default="semver",
    show_default=True,
    help="What --newest orders by: the tag read as a version, or the image's created date.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Worker processes of the local executor (default: the cores).",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Where layer scans run: a local process pool, or a Dask cluster (--scheduler).",
)
@click.option(
    "--scheduler",
    metavar="tcp://HOST:PORT",
    help="The Dask scheduler for --executor dask (its workers must share --cache-dir).",
)
@click.option("--rescan", is_flag=True, help="Scan images again even when the inventory has them.")
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also evaluate this policy on every scanned image and record its verdicts.",
)
@public_key_option("Public key (PEM) signatures are verified against; repeatable. Without one nothing is 'verified'.")
@click.option(
    "--cache-dir",
    "cache_location",
    metavar="DIR|URL",
    envvar="PROVENANT_CACHE_DIR",
    help="Layer-scan cache: a directory, or shared storage through fsspec (s3://bucket/prefix; endpoint and "
    "credentials from the storage library's environment). Default: the usual cache directory.",
)
@registry_options
def scan_cmd(
    targets: tuple[str, ...],
    db: str | None,
    tag_globs: tuple[str, ...],
    newest: int | None,
    order: str,
    workers: int | None,
    executor: str,
    scheduler: str | None,
    rescan: bool,
    policy_path: Path | None,
    keys: tuple[Path, ...],
    cache_location: str | None,
    insecure: bool,
    ca_file: Path | None,
    username: str | None,
    password_stdin: bool,
) -> None:
    """Scan every image TARGET names into the inventory.

    TARGET: REGISTRY/REPO (every tag), REGISTRY/REPO:TAG, REGISTRY/team/* (a glob over the registry's
    catalog), oci:DIR or DIR (every image of an OCI layout), @FILE (targets, one a line). Every platform
    of every index; each unique layer is scanned once (and cached by digest); an image already in the
    inventory is not scanned again; a registry that has not changed since costs one manifest HEAD per
    reference. A broken image is recorded as failed and the others go on.
    Exit code 0 when every image was scanned, 2 when some failed (listed on stderr).
    """
    _need_extra()
    from provenant.errors import UsageError

    if (executor == "dask") != (scheduler is not None):
        raise UsageError("--executor dask and --scheduler tcp://HOST:PORT go together")
    if executor == "dask" and workers is not None:
        raise UsageError("--workers sizes the local executor; a Dask cluster has its own workers")
    if executor == "dask" and password_stdin:
        raise UsageError(
            "--executor dask does not send registry passwords in the task graph; give the workers "
            "credentials in their Docker config instead of --password-stdin"
        )
    from provenant.fleet.targets import TagFilter

    filt = TagFilter(tag_globs, newest, order)
    from provenant.cli import fleet_unchanged

    if not (rescan or policy_path or keys or insecure or username or password_stdin or fleet_unchanged.asked()):
        # An unchanged registry is answered without the scan pipeline's imports (its figure: docs/fleet.md);
        # the console entry point usually answered it before click (provenant.cli.fleet_unchanged).
        from provenant.fleet.unchanged import unchanged_scan

        quick = unchanged_scan(targets, filt, db, ca_file=ca_file)
        if quick is not None:
            click.echo(quick.line(), err=True)
            return
    store = _open(db, migrate=True)
    from provenant.cachedir import default_cache_dir
    from provenant.fleet.executor_local import LocalExecutor
    from provenant.fleet.scan import Executor, ScanSettings, scan_fleet
    from provenant.session import Session

    policy = None
    if policy_path is not None:
        from provenant.policy.schema import load_policy

        policy = load_policy(policy_path)
    from provenant.cli.options import load_public_keys

    public_keys = load_public_keys(keys) if keys else []  # cryptography costs half a second to import
    registry = build_registry_options(insecure, ca_file, username, password_stdin)
    runner: Executor = LocalExecutor(workers)
    if scheduler is not None:
        from provenant.fleet.executor_dask import DaskExecutor

        runner = DaskExecutor(scheduler)
    settings = ScanSettings(
        registry=registry,
        cache=cache_location or str(default_cache_dir()),
        executor=runner,
        policy=policy,
        policy_path=policy_path,
        rescan=rescan,
        keys=public_keys,
    )
    try:
        from dataclasses import replace

        from provenant.sources.registry.gate import LocalGate

        # The scan's own requests run on threads (resolving, attachments): one budget for all of them.
        with Session(replace(registry, gate=LocalGate())) as session:
            summary = scan_fleet(session, store, targets, filt, settings)
    finally:
        store.close()
    for f in summary.failures:
        from provenant.textsafe import one_line

        click.echo(f"provenant: failed: {one_line(f.reference)}: {one_line(f.error)}", err=True)
    click.echo(summary.line(), err=True)
    if summary.failures:
        sys.exit(2)


@fleet_group.group("query")
def query_group() -> None:
    """Where is a package: by name or by purl, with a version range."""


_HIT_COLUMNS = ("repository", "tag", "platform", "name", "version", "type", "purl", "manifest_digest")


@query_group.command("package")
@click.argument("name")
@click.option("--version", "version_spec", metavar="SPEC", help="Version range, e.g. '>=3.0,<3.0.12' (|| for OR).")
@click.option("--type", "types", multiple=True, metavar="TYPE", help="Package type: deb, rpm, apk, pypi, npm, ...")
@db_option
@format_option
def query_package_cmd(name: str, version_spec: str | None, types: tuple[str, ...], db: str | None, fmt: str) -> None:
    """Every tag and platform holding package NAME (in range, in its ecosystem's version order)."""
    _need_extra()
    from provenant.fleet.queries import find_packages

    store = _open(db, migrate=False)
    try:
        with store.sessions() as s:
            hits = find_packages(s, name=name, version=version_spec, types=types)
    finally:
        store.close()
    _emit(hits, fmt, _HIT_COLUMNS)


@query_group.command("purl")
@click.argument("purl")
@click.option("--version", "version_spec", metavar="SPEC", help="Version range, e.g. '>=3.0,<3.0.12' (|| for OR).")
@db_option
@format_option
def query_purl_cmd(purl: str, version_spec: str | None, db: str | None, fmt: str) -> None:
    """Every tag and platform holding PURL (pkg:TYPE/NAMESPACE/NAME[@VERSION]; qualifiers ignored)."""
    _need_extra()
    from provenant.errors import UsageError
    from provenant.fleet.queries import find_packages, parse_purl_query

    base, exact = parse_purl_query(purl)
    if exact and version_spec:
        raise UsageError("give the version either in the purl (@VERSION) or with --version, not both")
    store = _open(db, migrate=False)
    try:
        with store.sessions() as s:
            hits = find_packages(s, purl_base=base, version=version_spec or (f"=={exact}" if exact else None))
    finally:
        store.close()
    _emit(hits, fmt, _HIT_COLUMNS)


@fleet_group.command("images")
@click.option(
    "--unsigned",
    is_flag=True,
    help="Only images with no signature attached (to the index or any platform), verified or not.",
)
@click.option(
    "--unverified",
    is_flag=True,
    help="Only images with no signature verified against the keys the scan was given (fleet scan --key).",
)
@click.option(
    "--without-provenance", is_flag=True, help="Only images without a SLSA provenance attestation (signed or not)."
)
@click.option("--missing-platform", metavar="OS/ARCH", help="Only images that have no manifest for this platform.")
@click.option("--base", "base_ref", metavar="REF", help="Only images built on REF (an image in the inventory).")
@click.option("--failed", is_flag=True, help="The images whose scan failed, with the error.")
@db_option
@format_option
def images_cmd(
    unsigned: bool,
    unverified: bool,
    without_provenance: bool,
    missing_platform: str | None,
    base_ref: str | None,
    failed: bool,
    db: str | None,
    fmt: str,
) -> None:
    """Tagged images of the inventory; the options filter (all must hold)."""
    _need_extra()
    from provenant.fleet.queries import list_images

    store = _open(db, migrate=False)
    try:
        with store.sessions() as s:
            rows = list_images(
                s,
                unsigned=unsigned,
                unverified=unverified,
                without_provenance=without_provenance,
                missing_platform=missing_platform,
                base=base_ref,
                failed=failed,
            )
    finally:
        store.close()
    _emit(rows, fmt, ("repository", "tag", "image_digest", "status", "platforms", "error"))


@fleet_group.command("policy")
@click.option(
    "--policy",
    "policy_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The policy file (as for provenant policy check).",
)
@click.option("--repository", "repositories", multiple=True, metavar="GLOB", help="Only repositories matching.")
@click.option("--tag", "tag_globs", multiple=True, metavar="GLOB", help="Only tags matching (repeatable).")
@public_key_option("Public key the scan verified signatures against (fleet scan --key); repeatable.")
@db_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "sarif"]), default="table", show_default=True)
def policy_cmd(
    policy_path: Path,
    repositories: tuple[str, ...],
    tag_globs: tuple[str, ...],
    keys: tuple[Path, ...],
    db: str | None,
    fmt: str,
) -> None:
    """Evaluate a policy over every tagged image of the inventory, from the evidence the scan stored.

    No rescan, no network: trusted base images must be in the inventory. One row per image and subject
    (the image as a whole, each platform) with pass/warn/deny and the checks that failed; an image scanned
    without stored evidence is "not evaluated" with the command that fixes it. Exit code 0 when nothing
    is denied, 1 when any image is, 2 on error.
    """
    _need_extra()
    from provenant.cli.options import load_public_keys
    from provenant.fleet.policy import evaluate_inventory
    from provenant.policy.schema import load_policy

    policy = load_policy(policy_path)
    public_keys = load_public_keys(keys) if keys else []
    store = _open(db, migrate=False)
    try:
        with store.sessions() as s:
            result = evaluate_inventory(
                s, policy, policy_path, repositories=repositories, tags=tag_globs, keys=public_keys
            )
    finally:
        store.close()
    if fmt == "json":
        from provenant.jsontext import model_json

        sys.stdout.write(model_json(result, indent=2) + "\n")
    elif fmt == "sarif":
        from provenant.policy.reports.sarif import render_many

        sys.stdout.write(render_many(result.reports))
    else:
        _emit(result.rows, "table", ("repository", "tag", "subject", "verdict", "failing", "reason"))
    click.echo(result.line(), err=True)
    sys.exit(result.exit_code)


@fleet_group.command("layers")
@click.option("--shared", is_flag=True, required=True, help="The layers most platform images share (required).")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True, help="How many layers.")
@db_option
@format_option
def layers_cmd(shared: bool, top: int, db: str | None, fmt: str) -> None:
    """The layers shared by the most platform images: what a scan per unique layer saves."""
    _need_extra()
    from provenant.fleet.queries import shared_layers

    store = _open(db, migrate=False)
    try:
        with store.sessions() as s:
            rows = shared_layers(s, limit=top)
    finally:
        store.close()
    _emit(rows, fmt, ("digest", "size", "manifests", "repositories"))


@fleet_group.command("export")
@click.argument("ref")
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    required=True,
    metavar="FORMAT=FILE",
    help="Repeatable. FORMAT: cyclonedx-json, cyclonedx-xml, spdx-json. One FILE per platform of an index "
    "(platform inserted before the extension, or at {platform}), as provenant sbom writes them.",
)
@db_option
def export_cmd(ref: str, outputs: tuple[str, ...], db: str | None) -> None:
    """Write the SBOMs stored for REF (REPOSITORY:TAG or REPOSITORY@DIGEST, as scanned) without a rescan."""
    _need_extra()
    from provenant.cli.sbom_cmd import per_platform_path
    from provenant.errors import UsageError
    from provenant.fleet.export import EXPORT_FORMATS, stored_result
    from provenant.sbom.formats import encode

    specs = []
    for spec in outputs:
        fmt, eq, dest = spec.partition("=")
        if fmt not in EXPORT_FORMATS or not eq or not dest:
            raise UsageError(f"-o {spec}: expected FORMAT=FILE with FORMAT one of {', '.join(EXPORT_FORMATS)}")
        specs.append((fmt, dest))
    store = _open(db, migrate=False)
    try:
        with store.sessions() as s:
            result = stored_result(s, ref)
    finally:
        store.close()
    for fmt, dest in specs:
        for doc in encode(result, fmt, merge=False):
            path = per_platform_path(dest, doc.platform if len(result.images) > 1 else None)
            try:
                path.write_text(doc.text if doc.text.endswith("\n") else doc.text + "\n")
            except OSError as exc:
                raise UsageError(f"cannot write {path}: {exc.strerror}") from exc
            click.echo(f"wrote {path}", err=True)
