"""``provenant dockerfile check``: the policy's FROM-line checks, offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from provenant.cli.main import cli
from provenant.policy.dockerfile import parse_dockerfile
from provenant.policy.dockerfile_check import Rules, check

DIGEST = "sha256:" + "ab" * 32


def _checks(text: str, rules: Rules | None = None) -> list[tuple[int, str]]:
    return [(p.line, p.check) for p in check(parse_dockerfile(text, "Dockerfile"), rules or Rules())]


def test_unpinned_from_is_flagged_pinned_passes() -> None:
    assert _checks("FROM debian:12\n") == [(1, "pinning.base-digest")]
    assert _checks(f"FROM debian:12@{DIGEST}\n") == []
    assert _checks(f"FROM docker.io/library/debian@{DIGEST}\n") == []


def test_latest_stages_scratch_and_args() -> None:
    text = (
        "ARG BASE=golang:1.22\n"
        "ARG MISSING\n"
        "FROM $BASE AS build\n"
        "FROM python\n"  # no tag means latest
        "FROM build\n"  # a stage, not a base image
        "FROM scratch\n"
        "FROM ${MISSING}\n"  # an ARG without a value: cannot be checked
        f"FROM registry:5000/app:latest@{DIGEST}\n"  # a digest makes the tag irrelevant
    )
    assert _checks(text) == [
        (3, "pinning.base-digest"),
        (4, "pinning.base-digest"),
        (4, "pinning.forbidden-tags"),
        (7, "dockerfile.from"),
    ]
    pinned_arg = parse_dockerfile(text, "Dockerfile", {"BASE": f"golang:1.22@{DIGEST}", "MISSING": f"x@{DIGEST}"})
    assert [(p.line, p.check) for p in check(pinned_arg, Rules())] == [
        (4, "pinning.base-digest"),
        (4, "pinning.forbidden-tags"),
    ]


def test_rules_from_a_policy() -> None:
    rules = Rules(require_digest=False, forbidden_tags=("edge",), registries=("ghcr.io",), allowed=("ghcr.io/acme/*",))
    assert _checks("FROM ghcr.io/acme/base:1\n", rules) == []
    assert _checks("FROM ghcr.io/acme/base:edge\n", rules) == [(1, "pinning.forbidden-tags")]
    assert _checks("FROM docker.io/library/debian:12\n", rules) == [(1, "base-image.allowed")]


def test_no_from_is_a_finding() -> None:
    assert _checks("RUN echo\n") == [(1, "dockerfile.from")]


def test_cli_exit_codes_and_output(tmp_path: Path) -> None:
    bad, good = tmp_path / "Dockerfile", tmp_path / "ok.Dockerfile"
    bad.write_text("FROM alpine:3.20\nFROM alpine\x1b[31m:3\n")
    good.write_text(f"FROM alpine:3.20@{DIGEST}\n")
    res = CliRunner().invoke(cli, ["dockerfile", "check", str(bad), str(good)])
    assert res.exit_code == 1
    lines = res.stdout.splitlines()
    assert lines[0] == (
        f"{bad}:1: pinning.base-digest: base image alpine:3.20 is not pinned by digest "
        "(fix: FROM name:version@sha256:<digest> (Renovate or Dependabot keep it current))"
    )
    assert "\x1b" not in res.stdout
    assert CliRunner().invoke(cli, ["dockerfile", "check", str(good)]).exit_code == 0
    strict = CliRunner().invoke(cli, ["dockerfile", "check", "--policy", "strict", str(good)])
    assert strict.exit_code == 1 and "base-image.allowed" in strict.stdout
    missing = CliRunner().invoke(cli, ["dockerfile", "check", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "cannot read Dockerfile" in missing.stderr


@pytest.mark.parametrize("name", ["Dockerfile", "Containerfile", "Dockerfile.prod", "build/app.dockerfile"])
def test_hook_matches_dockerfile_names(name: str) -> None:
    import re

    import yaml

    root = Path(__file__).resolve().parents[2]
    (hook,) = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())
    assert re.search(hook["files"], name)
    assert not re.search(hook["files"], "docs/Dockerfile-guide.md")


def test_a_file_past_the_policy_bytes_limit_is_one_error(tmp_path: Path) -> None:
    big = tmp_path / "Dockerfile"
    big.write_text("FROM alpine:3.20\n" + "RUN true\n" * 2000)
    res = CliRunner().invoke(cli, ["--limit", "policy-bytes=4KiB", "dockerfile", "check", str(big)])
    assert res.exit_code == 2
    (line,) = res.stderr.splitlines()
    assert line.startswith("provenant: error: ") and "policy-bytes" in line
