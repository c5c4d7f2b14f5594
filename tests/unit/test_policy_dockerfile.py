"""Dockerfile FROM parsing: stages, ARG defaults and --build-arg, --platform, scratch, registry ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenant.errors import UsageError
from provenant.policy.dockerfile import load_dockerfile, parse_build_args, parse_dockerfile

DIGEST = "sha256:" + "ab" * 32

MULTI = f"""\
# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
ARG REGISTRY=registry:5000
ARG RUNTIME
FROM --platform=$BUILDPLATFORM golang:${{GO_VERSION}}-bookworm AS build
RUN go build -o /app . \\
    && strip /app
FROM $REGISTRY/tools AS tools
from build as test
FROM ${{RUNTIME:-gcr.io/distroless/static}}@{DIGEST}
COPY --from=build /app /app
FROM scratch AS export
"""


def test_multistage_with_args() -> None:
    df = parse_dockerfile(MULTI, "Dockerfile")
    froms = df.froms
    assert [f.line for f in froms] == [5, 8, 9, 10, 12]
    build, tools, test, final, export = froms
    assert build.image == "golang:1.22-bookworm"
    assert build.stage == "build"
    assert build.platform == "$BUILDPLATFORM"  # set by the builder, left as written
    assert build.reference is not None and str(build.reference) == "docker.io/library/golang:1.22-bookworm"
    assert not build.pinned and build.explicit_tag
    # registry:5000/tools: the port is not a tag; no tag means latest
    assert tools.reference is not None
    assert tools.reference.registry == "registry:5000"
    assert tools.reference.repository == "tools"
    assert tools.reference.tag == "latest" and not tools.explicit_tag
    assert test.stage_ref and not test.is_base  # FROM <stage> (case-insensitive keyword)
    assert final.pinned and final.image == f"gcr.io/distroless/static@{DIGEST}"
    assert export.scratch and not export.is_base
    assert [f.line for f in df.bases] == [5, 8, 10]


def test_build_args_override_defaults() -> None:
    df = parse_dockerfile(MULTI, "Dockerfile", {"GO_VERSION": "1.23", "RUNTIME": "cgr.dev/chainguard/static"})
    assert df.froms[0].image == "golang:1.23-bookworm"
    assert df.froms[3].image == f"cgr.dev/chainguard/static@{DIGEST}"


def test_arg_without_value_is_reported_unresolved() -> None:
    df = parse_dockerfile("ARG BASE\nFROM ${BASE}debian:12\n")
    assert df.froms[0].unresolved == ("BASE",)
    assert df.froms[0].image == "debian:12"


def test_backtick_escape_directive_and_comments_in_continuations() -> None:
    text = "# escape=`\nFROM `\n  # a comment inside\n  alpine:3.20 `\n  AS base\nFROM base\n"
    df = parse_dockerfile(text)
    assert [(f.line, f.image, f.stage) for f in df.froms] == [(2, "alpine:3.20", "base"), (6, "base", None)]
    assert df.froms[1].stage_ref


def test_invalid_reference_is_kept_with_its_error() -> None:
    df = parse_dockerfile("FROM Not/Valid:tag\n")
    assert df.froms[0].reference is None
    assert df.froms[0].error is not None and "invalid repository path component" in df.froms[0].error


def test_load_and_build_arg_parsing(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("ARG V=1\nFROM alpine:$V\n")
    assert load_dockerfile(path, parse_build_args(["V=2"])).froms[0].image == "alpine:2"
    with pytest.raises(UsageError, match="expected KEY=VALUE"):
        parse_build_args(["novalue"])
    with pytest.raises(UsageError, match="cannot read Dockerfile"):
        load_dockerfile(tmp_path / "missing")
    path.write_text("# not a Dockerfile\nname: ci\non: push\n")
    with pytest.raises(UsageError, match=r"no FROM instruction found"):
        load_dockerfile(path)


def test_from_that_needs_an_arg_without_value_says_which() -> None:
    df = parse_dockerfile("ARG VER\nARG BASE\nFROM debian:${VER}\nFROM ${BASE}\n")
    tagless, empty = df.froms
    assert tagless.reference is None and empty.reference is None
    assert tagless.error is not None and tagless.error.startswith(
        "debian:${VER} uses ARG VER without a value: give it a default before the first FROM or pass --build-arg"
    )
    assert (
        empty.error
        == "${BASE} uses ARG BASE without a value: give it a default before the first FROM or pass --build-arg"
    )


def test_heredoc_bodies_are_not_instructions() -> None:
    text = (
        "FROM alpine:3.20 AS build\n"
        "RUN <<EOF\n"
        "FROM nginx:latest\n"
        "echo hi\n"
        "EOF\n"
        'COPY <<-"A" /a <<B /b\n'
        "FROM evil:1\n"
        "A\n"
        "FROM evil:2\n"
        "B\n"
        "FROM debian:12\n"
    )
    df = parse_dockerfile(text)
    assert [(f.line, f.image) for f in df.froms] == [(1, "alpine:3.20"), (11, "debian:12")]
