"""``provenant dockerfile check FILE...``: FROM lines pinned by digest, no forbidden tags; offline (pre-commit)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group("dockerfile")
def dockerfile_group() -> None:
    """Check Dockerfiles without building or pulling anything."""


@dockerfile_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--policy",
    "policy_spec",
    metavar="NAME|FILE",
    shell_complete=lambda ctx, param, incomplete: _complete_policy(incomplete),
    help="Take forbidden tags, requireBaseDigest and baseImage registries/allowed from this policy "
    "(built-in name or file). Default: every base image by digest, no 'latest'.",
)
@click.option("--build-arg", "build_args", multiple=True, metavar="KEY=VALUE", help="ARG values for the FROM lines.")
def check_cmd(files: tuple[Path, ...], policy_spec: str | None, build_args: tuple[str, ...]) -> None:
    """Report FROM lines not pinned by digest, with a forbidden tag, or (with --policy) from a base not allowed.

    One line per finding (FILE:LINE: CHECK: message). Exit 0 clean, 1 findings, 2 a file that cannot be read.
    """
    from provenant.errors import UsageError
    from provenant.policy.dockerfile import parse_build_args, parse_dockerfile
    from provenant.policy.dockerfile_check import Rules, check
    from provenant.textsafe import printable

    rules = Rules()
    if policy_spec is not None:
        from provenant.policy.builtin import resolve
        from provenant.policy.schema import load_policy

        rules = Rules.from_policy(load_policy(resolve(policy_spec)))
    args = parse_build_args(build_args)
    problems = []
    for path in files:
        try:
            text = _read(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read Dockerfile {path}: {exc}") from None
        problems += check(parse_dockerfile(text, str(path), args), rules)
    for p in problems:
        click.echo(printable(p.render()))
    if problems:
        click.echo(f"{len(problems)} finding(s) in {len({p.path for p in problems})} file(s)", err=True)
    sys.exit(1 if problems else 0)


def _complete_policy(incomplete: str) -> list[click.shell_completion.CompletionItem]:
    from provenant.cli.policy_cmd import complete_policy

    return complete_policy(incomplete)


def _read(path: Path) -> str:
    from provenant import limits

    lim = limits.current()
    with path.open("rb") as fh:
        raw = fh.read(lim.policy_bytes + 1)  # bounded before it is read, as policy check --dockerfile does
    if len(raw) > lim.policy_bytes:
        raise limits.LimitExceededError(f"Dockerfile {path}", "policy_bytes", limits=lim)
    return raw.decode("utf-8")
