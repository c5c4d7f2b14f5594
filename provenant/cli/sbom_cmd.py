"""``provenant sbom``."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from provenant.cli.options import (
    build_registry_options,
    cache_options,
    open_cache,
    parse_platforms,
    platform_option,
    registry_options,
    workers_option,
)
from provenant.sbom.formats import FORMATS

if TYPE_CHECKING:
    from provenant.attest.push import Mode
    from provenant.sbom.doccache import DocumentCache
    from provenant.sbom.formats import Document
    from provenant.sources.registry import RegistryOptions

FORMAT_NAMES = tuple(FORMATS)


def per_platform_path(path: str, platform: str | None) -> Path:
    """``sbom.cdx.json`` → ``sbom.linux-arm64-v8.cdx.json``; ``{platform}`` in the name is replaced."""
    if platform is None:
        return Path(path)
    slug = re.sub(r"[^A-Za-z0-9.-]+", "-", platform)
    if "{platform}" in path:
        return Path(path.replace("{platform}", slug))
    p = Path(path)
    stem, dot, rest = p.name.partition(".")
    return p.with_name(f"{stem}.{slug}{dot}{rest}")


@click.command("sbom")
@click.argument("ref")
@platform_option
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    metavar="FORMAT[=FILE]",
    help=f"Repeatable. FORMAT: {', '.join(FORMAT_NAMES)}. Default: table to stdout. "
    "Several platforms write one FILE each (platform inserted before the extension, or at {platform}).",
)
@click.option("--merge", is_flag=True, help="One document for all selected platforms of an index.")
@click.option(
    "--validate",
    is_flag=True,
    help="Check every document against its format's schema (CycloneDX 1.6, SPDX 2.3) before writing it; "
    "a document that fails is an error (exit 2). Off by default: it costs more than encoding.",
)
@workers_option
@click.option(
    "--attest",
    "attest_format",
    type=click.Choice(["cyclonedx-json", "spdx-json"]),
    default=None,
    help="Also sign each platform's SBOM in this format as an in-toto attestation about that platform's "
    "manifest and push it to the registry (needs --key).",
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Private key for --attest (PEM; passphrase from $PROVENANT_KEY_PASSWORD or a prompt).",
)
@click.option(
    "--attest-mode",
    type=click.Choice(["tag", "referrers", "both"]),
    default="tag",
    show_default=True,
    help="Where --attest pushes: cosign .att tag, OCI referrer (Sigstore bundle), or both.",
)
@cache_options
@registry_options
def sbom_cmd(
    ref: str,
    platforms: tuple[str, ...],
    outputs: tuple[str, ...],
    merge: bool,
    validate: bool,
    workers: int,
    attest_format: str | None,
    key: Path | None,
    attest_mode: str,
    cache_dir: Path | None,
    no_cache: bool,
    insecure: bool,
    ca_file: Path | None,
    username: str | None,
    password_stdin: bool,
) -> None:
    """List every package in the final filesystem of each platform of REF.

    OS packages (dpkg, apk, rpm) and language packages (Python, npm, Go binaries, Java archives), each
    with its purl, licenses, locations and the layer that introduced it. All platforms of an index are
    scanned by default; layers shared between platforms are fetched and scanned once, and per-layer
    results are cached by digest. With --attest and --key, each platform's SBOM is also signed and pushed
    as an attestation whose subject is that platform's manifest digest.
    """
    from provenant.cachedir import default_cache_dir
    from provenant.errors import UsageError
    from provenant.sbom.doccache import DocumentCache

    specs: list[tuple[str, str | None]] = []
    for spec in outputs or ("table",):
        fmt, eq, target = spec.partition("=")
        if fmt not in FORMAT_NAMES:
            raise UsageError(f"unknown output format {fmt!r} in -o {spec}; choose one of: {', '.join(FORMAT_NAMES)}")
        if eq and not target:
            raise UsageError(f"-o {spec}: missing file name after '='")
        specs.append((fmt, target or None))
    if sum(1 for _, target in specs if target is None) > 1:
        raise UsageError("only one -o may write to standard output; give the others a =FILE")
    if (attest_format is None) != (key is None):
        raise UsageError("--attest and --key go together: --attest FORMAT --key KEY")
    documents = None if no_cache else DocumentCache(cache_dir or default_cache_dir())
    if documents is not None and attest_format is None and not (insecure or username or password_stdin):
        from provenant.sbom.cached import cached_outputs

        hit = cached_outputs(ref, platforms, specs, merge, documents, ca_file=ca_file)
        if hit is not None:
            if validate:
                from provenant.sbom.validate import validate_document

                for out in hit:
                    for doc in out.found.documents:
                        validate_document(out.fmt, doc.text)
            for out in hit:
                _write(out.fmt, out.dest, out.found.documents, out.found.images, merge, out.implied_merge)
            return
    _full(
        ref,
        platforms,
        specs,
        merge,
        validate,
        workers,
        documents,
        attest_format,
        key,
        attest_mode,
        cache_dir,
        no_cache,
        build_registry_options(insecure, ca_file, username, password_stdin),
    )


def _full(
    ref: str,
    platforms: tuple[str, ...],
    specs: list[tuple[str, str | None]],
    merge: bool,
    validate: bool,
    workers: int,
    documents: DocumentCache | None,
    attest_format: str | None,
    key: Path | None,
    attest_mode: str,
    cache_dir: Path | None,
    no_cache: bool,
    registry: RegistryOptions,
) -> None:
    """Analyse, encode (caching the documents), write, and attest when asked."""
    from provenant.cli import startup
    from provenant.sbom.doccache import DocumentRequest
    from provenant.sbom.formats import MULTI_IMAGE, encode
    from provenant.sbom.generate import generate_sbom
    from provenant.session import Session

    startup.resume()  # start-up's imports are done (main.RESUME_LATE)

    private_key = None
    if key is not None:
        from provenant.cli.options import load_signing_key

        private_key = load_signing_key(key)
    with Session(registry) as session:
        result = generate_sbom(
            session, ref, parse_platforms(platforms), cache=open_cache(cache_dir, no_cache), workers=workers
        )
        images = len(result.images)
        for fmt, dest in specs:
            implied = dest is None and not merge and fmt not in MULTI_IMAGE and images > 1
            docs = encode(result, fmt, merge=merge or implied, validate=validate)
            if documents is not None:
                documents.put(DocumentRequest.of(ref, platforms, fmt, merge or implied), result.digest, images, docs)
            _write(fmt, dest, docs, images, merge, implied)
        if attest_format is not None and private_key is not None:
            from provenant.sbom.attest import attest_sbom

            mode = cast("Mode", attest_mode)  # click.Choice guarantees one of Mode's values
            for pushed in attest_sbom(session, ref, result, attest_format, private_key, mode=mode):
                for item in pushed.items:
                    what = f"{item.platform} ({item.subject})" if item.platform else item.subject
                    click.echo(f"attested {what}: {pushed.predicate_type} -> {item.location}", err=True)


def _write(fmt: str, dest: str | None, docs: list[Document], images: int, merge: bool, implied_merge: bool) -> None:
    from provenant.errors import UsageError

    if implied_merge:
        click.echo(
            f"provenant: {images} platforms to standard output: writing one merged {fmt} document "
            "(use -o FORMAT=FILE for one document per platform)",
            err=True,
        )
    for doc in docs:
        if dest is None:
            sys.stdout.write(doc.text if doc.text.endswith("\n") else doc.text + "\n")
            continue
        path = per_platform_path(dest, doc.platform if images > 1 and not merge else None)
        try:
            path.write_text(doc.text if doc.text.endswith("\n") else doc.text + "\n")
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror}") from exc
        click.echo(f"wrote {path}", err=True)
