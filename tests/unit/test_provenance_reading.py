"""Provenance reading: SLSA v0.1 (Google Cloud Build), dirty BuildKit builds, git URLs normalised."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provenant.attest import constants as c
from provenant.attest.discover import Found
from provenant.attest.evaluate import Trust, evaluate
from provenant.attest.provenance import extract_provenance, normalize_repository

DATA = Path(__file__).parent.parent / "data" / "bundles"


def _statement(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / name).read_bytes())
    return doc


@pytest.mark.parametrize(
    ("name", "builder", "build_type", "repo", "commit"),
    [
        (
            "gcb-v0.2-gcloud-container-github.statement.json",
            "https://cloudbuild.googleapis.com/GoogleHostedWorker@v0.2",
            "https://cloudbuild.googleapis.com/GoogleHostedWorker@v0.2",
            "https://github.com/laurentsimon/gcb-tests",
            "fbbb98765e85ad464302dc5977968104d36e455e",
        ),
        (
            "gcb-v0.3-gcloud-container-github-tag.statement.json",
            "https://cloudbuild.googleapis.com/GoogleHostedWorker@v0.3",
            "https://cloudbuild.googleapis.com/CloudBuildYaml@v0.1",
            "https://github.com/slsa-framework/example-package",
            "c750fd73a1669b095df7c74da9f1ff2032f926c9",
        ),
    ],
)
def test_cloud_build_slsa_v01_is_read_with_its_own_model(
    name: str, builder: str, build_type: str, repo: str, commit: str
) -> None:
    stmt = _statement(name)
    assert stmt["predicateType"] == "https://slsa.dev/provenance/v0.1"
    p = extract_provenance(stmt["predicateType"], stmt["predicate"])
    assert p is not None and p.slsa_version == "v0.1"
    assert (p.builder_id, p.build_type) == (builder, build_type)
    assert (p.source.repository, p.source.commit, p.source.path) == (repo, commit, "cloudbuild.yaml")
    assert p.invocation_id and p.started_on and p.finished_on
    assert p.base_images == []  # Cloud Build records the source repository only


def test_cloud_build_statement_evaluates_without_problems() -> None:
    raw = (DATA / "gcb-v0.3-gcloud-container-github-tag.statement.json").read_bytes()
    subject = (
        "sha256:" + _statement("gcb-v0.3-gcloud-container-github-tag.statement.json")["subject"][0]["digest"]["sha256"]
    )
    item = Found(
        subject=subject,
        source="cosign-tag",
        location="x",
        container="sha256:" + "c" * 64,
        format="in-toto",
        media_type="application/vnd.in-toto+json",
        data=raw,
    )
    a = evaluate(item, Trust())
    assert a.problems == [] and a.provenance is not None and a.subject_check.status == "match"


def _buildkit_v02(vcs: dict[str, str]) -> dict[str, Any]:
    """A BuildKit mode=min v0.2 predicate with the vcs metadata buildx sends (docs/attestations/slsa-definitions.md)."""
    return {
        "builder": {"id": ""},
        "buildType": "https://mobyproject.org/buildkit@v1",
        "materials": [],
        "invocation": {"configSource": {"entryPoint": "Dockerfile"}, "parameters": {"frontend": "dockerfile.v0"}},
        "metadata": {"https://mobyproject.org/buildkit@v1#metadata": {"vcs": vcs}},
    }


def test_dirty_buildkit_revision_is_flagged_not_taken_as_the_commit() -> None:
    rev = "a5973387abf03990dd3b8247b7c59f4ef9bb7c3b"
    clean = extract_provenance(c.SLSA_V02, _buildkit_v02({"source": "https://github.com/o/r", "revision": rev}))
    assert clean is not None and clean.source.commit == rev and not clean.source.dirty
    dirty = extract_provenance(
        c.SLSA_V02, _buildkit_v02({"source": "git@github.com:o/r.git", "revision": rev + "-dirty"})
    )
    assert dirty is not None and dirty.source.commit is None and dirty.source.dirty
    assert dirty.source.revision == rev + "-dirty" and dirty.source.repository == "https://github.com/o/r"
    stmt = {
        "_type": c.STATEMENT_V01,
        "subject": [{"digest": {"sha256": "a" * 64}}],
        "predicateType": c.SLSA_V02,
        "predicate": _buildkit_v02({"source": "https://github.com/o/r", "revision": rev + "-dirty"}),
    }
    item = Found(
        subject="sha256:" + "a" * 64,
        source="buildkit-index",
        location="x",
        container="sha256:" + "c" * 64,
        format="in-toto",
        media_type="application/vnd.in-toto+json",
        data=json.dumps(stmt).encode(),
    )
    (problem,) = evaluate(item, Trust()).problems
    assert "uncommitted changes" in problem and "-dirty" in problem


@pytest.mark.parametrize(
    "url",
    [
        "git@github.com:org/repo",
        "git@github.com:org/repo.git",
        "ssh://git@github.com/org/repo.git",
        "git+ssh://git@github.com:22/org/repo.git",
        "git+https://github.com/org/repo.git",
        "https://github.com/org/repo/",
        "git://github.com/org/repo.git",
    ],
)
def test_git_urls_name_the_same_https_repository(url: str) -> None:
    assert normalize_repository(url) == "https://github.com/org/repo"


def test_scp_like_configsource_and_materials_are_sources() -> None:
    pred = _buildkit_v02({})
    pred["invocation"]["configSource"]["uri"] = "git@github.com:org/repo.git#refs/heads/main"
    pred["materials"] = [{"uri": "git@github.com:org/repo.git", "digest": {"sha1": "b" * 40}}]
    p = extract_provenance(c.SLSA_V02, pred)
    assert p is not None and p.source.repository == "https://github.com/org/repo"
    assert p.source.ref == "refs/heads/main" and [d.kind for d in p.dependencies] == ["source"]


# -- build stages vs the runtime base (BuildKit mode=max llbDefinition) -------------------------------

GOLANG = "sha256:" + "1" * 64
ALPINE = "sha256:" + "2" * 64
FRONTEND = "sha256:" + "3" * 64


def _source(step: str, identifier: str) -> dict[str, Any]:
    return {"id": step, "op": {"Op": {"source": {"identifier": identifier}}, "platform": {"OS": "linux"}}}


def _multistage_llb(final_from: str | None) -> list[dict[str, Any]]:
    """The LLB BuildKit writes for::

        FROM golang:1.22 AS build
        RUN go build -o /out/app .
        FROM alpine:3.20            (or FROM scratch)
        COPY --from=build /out/app /app
        RUN chmod +x /app           (exec on the final stage)

    in the post-order and JSON shape of solver/llbsolver/provenance/buildconfig.go.
    """
    steps = [
        _source("step0", f"docker-image://docker.io/library/golang:1.22@{GOLANG}"),
        _source("step1", "local://context"),
        {
            "id": "step2",
            "op": {
                "Op": {
                    "exec": {
                        "meta": {"args": ["/bin/sh", "-c", "go build -o /out/app ."]},
                        "mounts": [
                            {"input": 0, "dest": "/", "output": 0},
                            {"input": 1, "selector": "/", "dest": "/src", "output": -1, "readonly": True},
                        ],
                    }
                }
            },
            "inputs": ["step0:0", "step1:0"],
        },
    ]
    if final_from:
        steps.append(_source("step3", final_from))
        base_ref, base_input = ["step3:0"], 0
    else:
        base_ref, base_input = [], -1
    steps.append(
        {
            "id": "step4",
            "op": {
                "Op": {
                    "file": {
                        "actions": [
                            {
                                "input": base_input,
                                "secondaryInput": len(base_ref),
                                "output": 0,
                                "Action": {"copy": {"src": "/out/app", "dest": "/app"}},
                            },
                        ]
                    }
                }
            },
            "inputs": [*base_ref, "step2:0"],
        }
    )
    steps.append(
        {
            "id": "step5",
            "op": {
                "Op": {
                    "exec": {
                        "meta": {"args": ["chmod", "+x", "/app"]},
                        "mounts": [
                            {"dest": "/", "output": 0},  # input 0 left out, as Go's omitempty does
                        ],
                    }
                }
            },
            "inputs": ["step4:0"],
        }
    )
    steps.append({"id": "step6", "op": {"Op": {}}, "inputs": ["step5:0"]})
    return steps


def _materials() -> list[dict[str, Any]]:
    return [
        {"uri": "pkg:docker/docker/dockerfile@1", "digest": {"sha256": FRONTEND[7:]}},
        {"uri": "pkg:docker/golang@1.22?platform=linux%2Famd64", "digest": {"sha256": GOLANG[7:]}},
        {"uri": "pkg:docker/alpine@3.20?platform=linux%2Famd64", "digest": {"sha256": ALPINE[7:]}},
    ]


def _max_v02(llb: list[dict[str, Any]] | None) -> dict[str, Any]:
    pred = _buildkit_v02({})
    pred["materials"] = _materials()
    if llb is not None:
        pred["buildConfig"] = {"llbDefinition": llb}
    return pred


def test_final_stage_base_is_told_apart_from_build_stages_v02() -> None:
    p = extract_provenance(
        c.SLSA_V02, _max_v02(_multistage_llb(f"docker-image://docker.io/library/alpine:3.20@{ALPINE}"))
    )
    assert p is not None and p.stages_known
    assert [b.uri for b in p.base_images] == ["pkg:docker/alpine@3.20?platform=linux%2Famd64"]
    assert [b.uri for b in p.build_stages] == ["pkg:docker/golang@1.22?platform=linux%2Famd64"]
    assert [d.kind for d in p.dependencies] == ["frontend", "build-stage", "base-image"]


def test_final_stage_from_scratch_has_no_runtime_base() -> None:
    p = extract_provenance(c.SLSA_V02, _max_v02(_multistage_llb(None)))
    assert p is not None and p.stages_known and p.base_images == []
    assert {b.uri.split("@")[0] for b in p.build_stages if b.uri} == {"pkg:docker/golang", "pkg:docker/alpine"}


def test_v1_internal_build_config_and_unpinned_identifier() -> None:
    pred = {
        "buildDefinition": {
            "buildType": "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md",
            "externalParameters": {},
            "internalParameters": {
                "buildConfig": {"llbDefinition": _multistage_llb("docker-image://docker.io/library/alpine:3.20")}
            },
            "resolvedDependencies": _materials(),
        },
        "runDetails": {"builder": {"id": ""}},
    }
    p = extract_provenance(c.SLSA_V1, pred)
    assert p is not None and p.stages_known
    assert [b.uri for b in p.base_images] == ["pkg:docker/alpine@3.20?platform=linux%2Famd64"]  # matched by name


def test_mode_min_keeps_every_image_and_says_stages_are_unknown() -> None:
    p = extract_provenance(c.SLSA_V02, _max_v02(None))
    assert p is not None and not p.stages_known and p.build_stages == []
    assert len(p.base_images) == 2


@pytest.mark.parametrize(
    "llb",
    [
        [{"id": "step0", "op": {"Op": {}}, "inputs": ["step0:0"]}],  # the result points at itself
        [
            {"id": "step0", "op": {"Op": {"exec": {"mounts": [{"dest": "/", "output": 0}]}}}, "inputs": ["step1:0"]},
            {"id": "step1", "op": {"Op": {"exec": {"mounts": [{"dest": "/", "output": 0}]}}}, "inputs": ["step0:0"]},
            {"id": "step2", "op": {"Op": {}}, "inputs": ["step1:0"]},
        ],  # a cycle
        [
            {"id": "step0", "op": {"Op": {"file": {"actions": [{"input": 5, "output": 0}]}}}, "inputs": []},
            {"id": "step1", "op": {"Op": {}}, "inputs": ["step0:0"]},
        ],  # an action index out of range
        "not a list",
    ],
)
def test_malformed_graphs_make_no_claim(llb: Any) -> None:
    p = extract_provenance(c.SLSA_V02, _max_v02(llb))
    assert p is not None and not p.stages_known and len(p.base_images) == 2


def _node_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path to every member and element below ``node``."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    out = []
    for key, value in items:
        out.append((*path, key))
        out += _node_paths(value, (*path, key))
    return out


@pytest.mark.parametrize("odd", [None, True, 7, -1, "x", "step0:\u00b2", [], [["a"]], {}, {"a": 1}])
def test_any_member_of_the_graph_of_another_json_type_makes_no_claim_and_no_error(odd: Any) -> None:
    """The graph is what the registry served, unsigned or signed by anyone: every member of the genuine one
    replaced in turn by a value of another type reads as a base, scratch, or no claim; never an exception."""
    import copy

    from provenant.attest.buildstages import RuntimeBase, runtime_base

    genuine = _multistage_llb(f"docker-image://docker.io/library/alpine:3.20@{ALPINE}")
    paths = _node_paths(genuine)
    assert len(paths) > 60
    for path in paths:
        llb = copy.deepcopy(genuine)
        parent = llb
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = copy.deepcopy(odd)
        found = runtime_base({"llbDefinition": llb})
        assert found is None or isinstance(found, RuntimeBase), path
