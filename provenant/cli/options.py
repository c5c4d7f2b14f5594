"""Options shared by the commands: registry access, platforms, output."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from provenant.attest.keys import PrivateKey, PublicKey
    from provenant.cache import LayerCache
    from provenant.oci.platform import PlatformSpec
    from provenant.sources.registry import RegistryOptions

F = TypeVar("F", bound=Callable[..., Any])


_ALLOW_PRIVATE_KEY = "provenant.allow_private_redirects"


def _remember_allow_private(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    # Kept on the context, not passed to each command: build_registry_options reads it from there.
    ctx.meta[_ALLOW_PRIVATE_KEY] = bool(value)
    return value


def registry_options(f: F) -> F:
    """``--insecure``, ``--ca-file``, ``--username``, ``--password-stdin``, ``--allow-private-redirects``."""
    f = click.option(
        "--allow-private-redirects",
        is_flag=True,
        expose_value=False,
        callback=_remember_allow_private,
        envvar="PROVENANT_ALLOW_PRIVATE_REDIRECTS",
        help="Follow redirects and token realms to private, link-local or cloud-metadata addresses even when "
        "the registry is not on such a network (env PROVENANT_ALLOW_PRIVATE_REDIRECTS=1).",
    )(f)
    f = click.option(
        "--password-stdin", is_flag=True, help="Read the registry password (or token) from standard input."
    )(f)
    f = click.option("--username", "-u", metavar="NAME", help="Registry user name (with --password-stdin).")(f)
    f = click.option(
        "--ca-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Extra CA bundle (PEM).",
    )(f)
    f = click.option(
        "--insecure",
        is_flag=True,
        help="Allow plain HTTP and unverified TLS for non-loopback registries (loopback uses HTTP anyway).",
    )(f)
    return f


def build_registry_options(
    insecure: bool, ca_file: Path | None, username: str | None, password_stdin: bool
) -> RegistryOptions:
    """RegistryOptions from the shared flags; the password is read from stdin, never from argv."""
    from provenant.errors import UsageError
    from provenant.sources.registry import RegistryOptions

    password = None
    if password_stdin:
        if username is None:
            raise UsageError("--password-stdin needs --username")
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: standard input was empty")
    elif username is not None:
        raise UsageError("--username needs --password-stdin (passwords are never taken from the command line)")
    ctx = click.get_current_context(silent=True)
    allow_private = bool(ctx is not None and ctx.meta.get(_ALLOW_PRIVATE_KEY))
    return RegistryOptions(
        insecure=insecure,
        ca_file=ca_file,
        username=username,
        password=password,
        allow_private_redirects=allow_private,
    )


def platform_option(f: F) -> F:
    """``--platform os/arch[/variant]``, repeatable or comma-separated."""
    return click.option(
        "--platform",
        "platforms",
        multiple=True,
        metavar="OS/ARCH[/VARIANT]",
        help="Only these platforms (repeatable or comma-separated); default: all platforms.",
    )(f)


def parse_platforms(values: tuple[str, ...]) -> list[PlatformSpec] | None:
    """Normalised platforms from ``--platform`` values, or None for all."""
    from provenant.oci.platform import PlatformSpec

    specs = [PlatformSpec.parse(p) for v in values for p in v.split(",") if p.strip()]
    return specs or None


def workers_option(f: F) -> F:
    """``--workers N``: layers scanned at once."""
    return click.option(
        "--workers", type=click.IntRange(1, 32), default=4, show_default=True, help="Layers scanned at once."
    )(f)


def use_color() -> bool:
    """Colour only on a terminal and when NO_COLOR is unset."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def cache_dir_option(f: F) -> F:
    """``--cache-dir``."""
    return click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="PROVENANT_CACHE_DIR",
        help="Layer-scan cache directory (default: $XDG_CACHE_HOME/provenant or ~/.cache/provenant).",
    )(f)


def cache_options(f: F) -> F:
    """``--cache-dir`` and ``--no-cache``."""
    f = click.option("--no-cache", is_flag=True, help="Neither read nor write the layer-scan cache.")(f)
    return cache_dir_option(f)


def open_cache(cache_dir: Path | None, no_cache: bool) -> LayerCache:
    """The layer cache the flags ask for."""
    from provenant.cache import LayerCache

    return LayerCache(cache_dir, enabled=not no_cache)


SIGNATURE_KEYS_HELP = (
    "Public key (PEM) to verify signatures with; repeatable. Without one, signatures show as unverified."
)


def parse_required(value: str | None) -> list[PlatformSpec]:
    """``--require linux/amd64,linux/arm64`` → the platforms it names (empty when none)."""
    from provenant.oci.platform import PlatformSpec

    return [PlatformSpec.parse(p.strip()) for p in (value or "").split(",") if p.strip()]


def public_key_option(help_text: str) -> Callable[[F], F]:
    """``--key PEM`` (repeatable, into ``keys``): public keys that signatures are checked against."""

    def decorate(f: F) -> F:
        return click.option(
            "--key",
            "keys",
            multiple=True,
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help=help_text,
        )(f)

    return decorate


def load_public_keys(paths: tuple[Path, ...]) -> list[PublicKey]:
    """The public keys ``--key`` names (one-line error for a file that is not one)."""
    from provenant.attest.keys import load_public_key

    return [load_public_key(p) for p in paths]


PASSWORD_ENV = "PROVENANT_KEY_PASSWORD"  # noqa: S105 - the variable's name, not a secret
#: cosign's variable, read when provenant's is unset (a cosign user's CI already sets it; it may be empty).
COSIGN_PASSWORD_ENV = "COSIGN_PASSWORD"  # noqa: S105 - the variable's name, not a secret


def key_passphrase(*, confirm: bool, what: str) -> bytes:
    """The key passphrase from $PROVENANT_KEY_PASSWORD or $COSIGN_PASSWORD, else a prompt on a terminal."""
    from provenant.errors import UsageError

    env = os.environ.get(PASSWORD_ENV, os.environ.get(COSIGN_PASSWORD_ENV))
    if env is not None:
        return env.encode("utf-8")
    if not sys.stdin.isatty():
        raise UsageError(
            f"no passphrase for {what}",
            hint=f"set {PASSWORD_ENV} (or {COSIGN_PASSWORD_ENV}) or run on a terminal to be prompted",
        )
    text: str = click.prompt(
        f"Passphrase for {what}", hide_input=True, confirmation_prompt=confirm, err=True, show_default=False
    )
    return text.encode("utf-8")


def load_signing_key(path: Path) -> PrivateKey:
    """Load a private key, asking for its passphrase when it is encrypted."""
    from provenant.attest.keys import is_encrypted_pem, load_private_key

    password = key_passphrase(confirm=False, what=str(path)) if is_encrypted_pem(path) else None
    return load_private_key(path, password)
