"""Which image BuildKit's LLB graph says the result stands on, op by op (provenant.attest.buildstages)."""

from __future__ import annotations

from typing import Any

import pytest

from provenant.attest.buildstages import RuntimeBase, identifier_digest, identifier_name, runtime_base

A = "docker-image://docker.io/library/alpine:3.20@sha256:" + "a" * 64
B = "docker-image://docker.io/library/golang:1.22@sha256:" + "b" * 64


def _src(step: str, identifier: str | None) -> dict[str, Any]:
    source = {} if identifier is None else {"identifier": identifier}
    return {"id": step, "op": {"Op": {"source": source}}}


def _base(op: dict[str, Any], ref: str = "op:0", inputs: list[str] | None = None) -> RuntimeBase | None:
    """The base of a graph: sources a (A) and b (B), one step ``op`` over them, and the result on ``ref``
    (``RuntimeBase(None)``: scratch or not an image; None: no claim)."""
    steps = [
        _src("a", A),
        _src("b", B),
        {"id": "op", "op": {"Op": op}, "inputs": ["a:0", "b:0"] if inputs is None else inputs},
        {"id": "result", "op": {"Op": {}}, "inputs": [ref]},
    ]
    return runtime_base({"llbDefinition": steps})


SCRATCH = RuntimeBase(None)


def test_an_exec_output_is_the_mount_with_that_output_number() -> None:
    mounts = [{"input": 0, "dest": "/", "output": 0}, {"input": 1, "dest": "/out", "output": 1}]
    assert _base({"exec": {"mounts": mounts}}, "op:0") == RuntimeBase(A)
    assert _base({"exec": {"mounts": mounts}}, "op:1") == RuntimeBase(B)


def test_an_exec_without_an_output_number_is_its_root_mount() -> None:
    # Go's omitempty leaves out output 0 and input 0
    assert _base({"exec": {"mounts": [{"input": 1, "dest": "/"}]}}) == RuntimeBase(B)
    assert _base({"exec": {"mounts": [{"dest": "/"}]}}) == RuntimeBase(A)
    assert _base({"exec": {"mounts": [{"input": 1, "dest": "/out", "output": 3}]}}) is None  # no such output
    # a mount without an output number is no output's, whichever output is asked for
    assert _base({"exec": {"mounts": [{"input": 1, "dest": "/out"}, {"dest": "/", "output": 0}]}}) == RuntimeBase(A)
    assert _base({"exec": {"mounts": [{"dest": "/"}, {"input": 1, "dest": "/o", "output": 1}]}}, "op:1") == RuntimeBase(
        B
    )


def test_a_file_op_output_is_its_action_and_an_action_may_build_on_an_earlier_one() -> None:
    # the first action has no output (an intermediate result); output 0 is the second one's
    assert _base({"file": {"actions": [{"input": 0}, {"input": 1, "output": 0}]}}) == RuntimeBase(B)
    # input 2 with two op inputs is action 0, whose input 1 is b
    assert _base({"file": {"actions": [{"input": 1}, {"input": 2, "output": 0}]}}) == RuntimeBase(B)
    # with one op input, input 1 is action 0 (not an op input), whose input 0 is a
    assert _base({"file": {"actions": [{"input": 0}, {"input": 1, "output": 0}]}}, inputs=["a:0"]) == RuntimeBase(A)
    assert _base({"file": {"actions": [{"input": -1, "output": 0}]}}) == SCRATCH  # an empty filesystem
    assert _base({"file": {"actions": [{"input": 0}, {"input": 1, "output": 1}]}}, "op:1") == RuntimeBase(B)
    # input 3 with two op inputs would be action 1, which does not exist: no claim
    assert _base({"file": {"actions": [{"input": 3, "output": 0}]}}) is None


def test_merge_stands_on_its_first_input_and_diff_on_its_lower_one() -> None:
    assert _base({"merge": {"inputs": [{"input": 1}, {"input": 0}]}}) == RuntimeBase(B)
    assert _base({"merge": {}}) == RuntimeBase(A)
    assert _base({"merge": {"inputs": ["b"]}}) is None
    assert _base({"diff": {"lower": {"input": 1}, "upper": {"input": 0}}}) == RuntimeBase(B)
    assert _base({"diff": {"upper": {"input": 0}}}) == SCRATCH  # no lower


def test_sources_that_are_not_images_and_graphs_that_are_not_buildkits() -> None:
    assert _base({"source": {"identifier": "local://context"}}) == SCRATCH
    assert _base({"build": {}}) is None  # a nested build: no claim
    steps = [_src("a", A), {"id": "result", "op": {"Op": {"exec": {}}}, "inputs": ["a:0"]}]
    assert runtime_base({"llbDefinition": steps}) is None  # the last step is not a result vertex
    steps = [_src("a", A), {"id": "result", "op": {"Op": {}}, "inputs": ["a:0", "a:0"]}]
    assert runtime_base({"llbDefinition": steps}) is None
    steps = [_src("a", A), {"id": "result", "op": {"Op": {}}, "inputs": ["a:0"]}]
    assert runtime_base({"llbDefinition": steps}) == RuntimeBase(A)
    assert runtime_base({"llbDefinition": [_src("a", None), steps[1]]}) == RuntimeBase(None)
    assert runtime_base({"llbDefinition": [_src("a", A), {**steps[1], "inputs": ["a:x"]}]}) is None
    assert runtime_base({"llbDefinition": [_src("a:b", A), {**steps[1], "inputs": ["a:b:0"]}]}) == RuntimeBase(A)


@pytest.mark.parametrize(
    ("identifier", "digest", "name"),
    [
        (A, "sha256:" + "a" * 64, "alpine"),
        ("docker-image://docker.io/bitnami/redis:7", None, "bitnami/redis"),
        ("docker-image://index.docker.io/library/busybox", None, "busybox"),
        ("docker-image://index.docker.io/foo/bar:1@sha512:" + "c" * 128, None, "foo/bar"),
        (
            "docker-image://localhost:5000/team/app:1@sha256:" + "d" * 64,
            "sha256:" + "d" * 64,
            "localhost:5000/team/app",
        ),
        ("docker-image://ghcr.io/x/y", None, "ghcr.io/x/y"),
        ("docker-image://localhost:5000/team/app", None, "localhost:5000/team/app"),
        ("docker-image://busybox", None, "busybox"),
    ],
)
def test_identifier_digest_and_name(identifier: str, digest: str | None, name: str) -> None:
    assert identifier_digest(identifier) == digest
    assert identifier_name(identifier) == name
