"""Hostile policy files: nested deep, alias bombs, huge lists, globs that backtrack.

Policy files are shared between teams and copied from the internet: ``policy validate`` and ``policy
check`` must end quickly, in bounded memory, with one line naming the limit.
"""

from __future__ import annotations

from pathlib import Path

from tests.hostile.harness import Sandbox, run_cli
from tests.hostile.server import HostileServer

HEAD = "apiVersion: provenant/v1\nkind: ImagePolicy\n"


def _write(sandbox: Sandbox, text: str | bytes) -> Path:
    path = sandbox.work / "policy.yaml"
    if isinstance(text, str):
        path.write_text(text)
    else:
        path.write_bytes(text)
    return path


def test_policy_yaml_nested_deep(sandbox: Sandbox) -> None:
    _write(sandbox, HEAD + "images: ['**']\nmetadata:\n  name: " + "[" * 100_000)
    out = run_cli(["policy", "validate", "policy.yaml"], sandbox)
    out.assert_bounded(exit_code=2, error="over the json-depth limit of 256")
    assert "policy file" in out.stderr, out.summary()


def test_policy_yaml_block_nested_deep(sandbox: Sandbox) -> None:
    # Block style: PyYAML's scanner has no flow-level cap here; the composer recursed once per level.
    body = "".join("  " * i + "- \n" for i in range(1, 1500))
    _write(sandbox, HEAD + "images: ['**']\nmetadata:\n  name:\n" + body)
    out = run_cli(["policy", "validate", "policy.yaml"], sandbox)
    out.assert_bounded(exit_code=2, error="over the json-depth limit of 256")


def test_policy_yaml_alias_bomb(sandbox: Sandbox) -> None:
    # Billion laughs: 9 levels of 9 aliases, 9^9 (387 million) strings once expanded.
    lines = ["bomb:", "  a: &a [" + ", ".join(["lol"] * 9) + "]"]
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"  {name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
        prev = name
    _write(sandbox, HEAD + "images: ['**']\n" + "\n".join(lines) + f"\nmetadata: {{name: *{prev}}}\n")
    out = run_cli(["policy", "validate", "policy.yaml"], sandbox)
    out.assert_bounded(exit_code=2, error="alias *a is not allowed")


def test_policy_file_of_93_mb(sandbox: Sandbox) -> None:
    item = b"  - docker.io/library/debian:12\n"
    _write(sandbox, HEAD.encode() + b"images:\n" + item * (93_000_000 // len(item)))
    out = run_cli(["policy", "validate", "policy.yaml"], sandbox)
    out.assert_bounded(exit_code=2, error="over the policy-bytes limit of 4 MiB")


def test_policy_just_under_the_size_limit_is_read_in_bounded_memory(sandbox: Sandbox) -> None:
    # The largest file the default allows: a list of ~130k image globs. Read, validated, bounded.
    item = b"  - docker.io/library/debian:12\n"
    _write(sandbox, HEAD.encode() + b"images:\n" + item * ((4 * 2**20 - 100) // len(item)) + b"checks: {user: {}}\n")
    out = run_cli(["policy", "validate", "policy.yaml"], sandbox)
    out.assert_bounded(exit_code=0)


def test_adversarial_image_glob(sandbox: Sandbox, server: HostileServer) -> None:
    # `*a*a*a…b` against a name of 60 a's: a regex translation backtracks for longer than the universe.
    repo = "a" * 60
    server.put_image(repo, "1", [])
    glob = "**/" + "*a" * 28 + "b"
    _write(sandbox, HEAD + f"images: ['{glob}']\nchecks: {{user: {{}}}}\n")
    out = run_cli(["policy", "check", f"{server.host}/{repo}:1", "--policy", "policy.yaml", "--insecure"], sandbox)
    out.assert_bounded(exit_code=2, error="policy")
    assert out.seconds < 10, out.summary()
