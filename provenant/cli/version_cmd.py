"""``provenant version``: provenant's version and those of the libraries that shape its output."""

from __future__ import annotations

import json
import platform

import click

#: Distributions whose versions change what provenant writes (SBOM encoders, purls, signatures).
LIBRARIES = ("cyclonedx-python-lib", "spdx-tools", "packageurl-python", "sigstore")


def versions() -> dict[str, str | None]:
    """provenant, Python and each of :data:`LIBRARIES` (None when not installed); metadata only, no imports."""
    from importlib.metadata import PackageNotFoundError, version

    from provenant import __version__

    out: dict[str, str | None] = {"provenant": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


@click.command("version")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of lines.")
def version_cmd(as_json: bool) -> None:
    """Print provenant's version and the versions of cyclonedx-python-lib, spdx-tools, packageurl-python, sigstore."""
    found = versions()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for name, value in found.items():
        click.echo(f"{name} {value or '(not installed)'}")
