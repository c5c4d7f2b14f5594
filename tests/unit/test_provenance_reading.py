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
