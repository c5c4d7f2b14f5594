"""Which image a BuildKit build's result stands on: its runtime base, told apart from build stages.

BuildKit lists every image the build pulled among its materials (``materials`` in SLSA v0.2,
``resolvedDependencies`` in v1): the runtime base and the images of build stages (``FROM golang AS
build``) alike. Only ``mode=max`` provenance says which is which: ``buildConfig.llbDefinition`` is the
LLB graph, written by BuildKit (solver/llbsolver/provenance/buildconfig.go) as steps in depth-first
post-order, the last step being the result vertex (no op, one input). Following the result's root
filesystem back through the graph, from each step to the input its output was made from, ends at the
``source`` op of the final stage's ``FROM``: ``docker-image://<ref>@<digest>``, or no image (``FROM scratch``).

The JSON is Go's encoding of the LLB protobuf: ``{"id": "stepN", "op": {"Op": {"exec"|"file"|"source"|
"merge"|"diff"|"build": ...}}, "inputs": ["stepM:K", ...]}``. An ``exec`` op's output K is the mount with
``"output": K`` (its ``input`` is the mount's source); a ``file`` op's output is the action with that
``output``, whose ``input`` refers to an op input, or (at ``len(inputs)`` and above) to an earlier action;
``-1`` means an empty filesystem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provenant.structured import as_array, as_object

DOCKER_IMAGE = "docker-image://"


@dataclass(frozen=True)
class RuntimeBase:
    """What the LLB graph says the result's root filesystem starts from."""

    #: ``docker-image://...`` of the final stage's FROM; None for ``FROM scratch`` or a non-image source.
    identifier: str | None


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _step_ref(ref: object) -> tuple[str, int] | None:
    if not isinstance(ref, str) or ":" not in ref:
        return None
    step, _, out = ref.rpartition(":")
    return (step, int(out)) if out.isascii() and out.isdigit() else None


def _exec_input(op: dict[str, Any], output: int) -> int | None:
    mounts = [m for m in as_array(op.get("mounts")) if isinstance(m, dict)]
    mount = next((m for m in mounts if _int(m.get("output"), -1) == output), None)
    mount = mount or next((m for m in mounts if m.get("dest") == "/"), None)
    return _int(mount.get("input")) if mount is not None else None


def _file_input(op: dict[str, Any], output: int, n_inputs: int) -> int | None:
    actions = [a for a in as_array(op.get("actions")) if isinstance(a, dict)]
    action = next((a for a in actions if _int(a.get("output"), -1) == output), None)
    for _ in range(len(actions) + 1):  # an action may build on an earlier action's result
        if action is None:
            return None
        idx = _int(action.get("input"))
        if idx < n_inputs:
            return idx
        action = actions[idx - n_inputs] if idx - n_inputs < len(actions) else None
    return None


def runtime_base(build_config: object) -> RuntimeBase | None:
    """The final stage's base image per ``buildConfig.llbDefinition``; None when the graph is absent or unreadable."""
    steps = build_config.get("llbDefinition") if isinstance(build_config, dict) else None
    if not isinstance(steps, list) or not steps or not all(isinstance(s, dict) for s in steps):
        return None
    by_id = {s["id"]: s for s in steps if isinstance(s.get("id"), str)}
    result = steps[-1]
    inputs = as_array(result.get("inputs"))
    if as_object(result.get("op")).get("Op") or len(inputs) != 1:
        return None  # not BuildKit's result vertex
    ref = _step_ref(inputs[0])
    for _ in range(len(steps) + 1):  # each hop visits another step; a cycle ends the walk
        if ref is None or ref[0] not in by_id:
            return None
        step = by_id[ref[0]]
        op = as_object(as_object(step.get("op")).get("Op"))
        inputs = as_array(step.get("inputs"))
        if "source" in op:
            ident = str(as_object(op.get("source")).get("identifier") or "")
            return RuntimeBase(ident if ident.startswith(DOCKER_IMAGE) else None)
        if "exec" in op:
            idx = _exec_input(as_object(op["exec"]), ref[1])
        elif "file" in op:
            idx = _file_input(as_object(op["file"]), ref[1], len(inputs))
        elif "merge" in op:
            merged = as_array(as_object(op["merge"]).get("inputs")) or [{}]
            idx = _int(merged[0].get("input")) if isinstance(merged[0], dict) else None
        elif "diff" in op:
            idx = _int(as_object(as_object(op["diff"]).get("lower")).get("input"), -1)
        else:
            return None  # a nested build or an op this reader does not know: no claim
        if idx is None:
            return None
        if idx < 0:
            return RuntimeBase(None)  # scratch
        if idx >= len(inputs):
            return None
        ref = _step_ref(inputs[idx])
    return None


def identifier_digest(identifier: str) -> str | None:
    """``sha256:<hex>`` pinned in a ``docker-image://name:tag@sha256:<hex>`` identifier."""
    _, at, digest = identifier.partition("@")
    return digest if at and digest.startswith("sha256:") else None


def identifier_name(identifier: str) -> str:
    """The repository of a ``docker-image://`` identifier, without registry ``docker.io``/``library``, tag or digest."""
    ref = identifier.removeprefix(DOCKER_IMAGE).partition("@")[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        ref = ref[:colon]
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/", "index.docker.io/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref
