"""What a SLSA provenance predicate (v0.2 or v1) says about the build, in one flat model.

Builder id, build type, source repository / ref / commit, base images and other resolved
dependencies (purl + digest), build arguments, BuildKit mode (``min``/``max``) and completeness, and
where each fact came from when there were several candidates.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from provenant.attest import constants as c
from provenant.attest.buildstages import identifier_digest, identifier_name, runtime_base
from provenant.attest.models import Material, ResourceDescriptor, SlsaProvenanceV01, SlsaProvenanceV02, SlsaProvenanceV1

SLSA_V01 = "https://slsa.dev/provenance/v0.1"
BUILDKIT_V02_TYPE = "https://mobyproject.org/buildkit@v1"
BUILDKIT_V1_TYPE = "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md"
BUILDKIT_V02_METADATA = "https://mobyproject.org/buildkit@v1#metadata"
#: The Dockerfile frontend image BuildKit lists among its materials; not a base image.
FRONTEND_IMAGES = ("docker/dockerfile", "docker/dockerfile-upstream")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEX40 = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


class Dependency(BaseModel):
    """A resolved dependency (material) of the build."""

    uri: str | None
    purl: str | None = Field(description="the uri when it is a package URL")
    digest: dict[str, str]
    kind: str = Field(description="base-image, build-stage, frontend, source, or other")


class SourceInfo(BaseModel):
    """Where the build's source came from."""

    repository: str | None = None
    ref: str | None = None
    commit: str | None = None
    path: str | None = Field(default=None, description="build definition in the repository (Dockerfile, workflow)")
    from_field: str | None = Field(default=None, description="the predicate field the facts were read from")
    dirty: bool = Field(
        default=False,
        description="built from a work tree with uncommitted changes (BuildKit revision '<commit>-dirty')",
    )
    revision: str | None = Field(default=None, description="the revision as recorded, when it is not a clean commit")


class ProvenanceSummary(BaseModel):
    """The facts of one provenance predicate."""

    slsa_version: str
    builder_id: str
    build_type: str
    is_buildkit: bool
    buildkit_mode: str | None = Field(description="min or max (BuildKit only)")
    source: SourceInfo
    base_images: list[Dependency] = Field(
        description="the runtime base (the final stage's FROM) when stages_known; else every image the build pulled"
    )
    build_stages: list[Dependency] = Field(
        default_factory=list, description="images of build stages, not in the final filesystem (stages_known only)"
    )
    stages_known: bool = Field(
        default=False, description="the LLB graph (BuildKit mode=max) told the runtime base apart from build stages"
    )
    dependencies: list[Dependency] = Field(description="every resolved dependency, base images included")
    build_args: dict[str, str]
    frontend_options: dict[str, str] = Field(default_factory=dict)
    invocation_id: str | None = None
    started_on: str | None = None
    finished_on: str | None = None
    completeness: dict[str, bool]
    complete: bool = Field(description="True when the builder claims every completeness flag")
    reproducible: bool | None = None


def _dependency(uri: str | None, digest: dict[str, str]) -> Dependency:
    purl = uri if uri and uri.startswith("pkg:") else None
    kind = "other"
    if purl and purl.startswith("pkg:docker/"):
        name = urllib.parse.unquote(purl[len("pkg:docker/") :].split("@", 1)[0].split("?", 1)[0])
        kind = "frontend" if name.endswith(FRONTEND_IMAGES) else "base-image"
    elif uri and (
        uri.startswith(("git+", "git@", "ssh://", "git://"))
        or uri.endswith(".git")
        or ".git#" in uri
        or "://github.com/" in uri
    ):
        kind = "source"
    return Dependency(uri=uri, purl=purl, digest=dict(digest), kind=kind)


def _purl_name(purl: str | None) -> str | None:
    if not purl or not purl.startswith("pkg:docker/"):
        return None
    name = urllib.parse.unquote(purl[len("pkg:docker/") :].split("?", 1)[0].split("@", 1)[0])
    return name.removeprefix("docker.io/").removeprefix("library/")


def _stages(deps: list[Dependency], build_config: object) -> tuple[list[Dependency], list[Dependency], bool]:
    """``(base_images, build_stages, stages_known)``: the runtime base told apart by the LLB graph when there is one."""
    images = [d for d in deps if d.kind == "base-image"]
    base = runtime_base(build_config)
    if base is None:
        return images, [], False  # mode=min: which image is the runtime base is not recorded
    runtime: Dependency | None = None
    if base.identifier is not None:
        pinned = identifier_digest(base.identifier)
        name = identifier_name(base.identifier)
        runtime = next((d for d in images if pinned and d.digest.get("sha256") == pinned.partition(":")[2]), None)
        runtime = runtime or next((d for d in images if _purl_name(d.purl) == name), None)
    stages = [d for d in images if d is not runtime]
    for d in stages:
        d.kind = "build-stage"
    return ([runtime] if runtime else []), stages, True


def _split_args(args: dict[str, Any] | None) -> tuple[dict[str, str], dict[str, str]]:
    build: dict[str, str] = {}
    other: dict[str, str] = {}
    for k, v in (args or {}).items():
        value = v if isinstance(v, str) else str(v)
        if k.startswith("build-arg:"):
            build[k[len("build-arg:") :]] = value
        elif _ENV_NAME.match(k) and k.upper() == k:
            build[k] = value
        else:
            other[k] = value
    return build, other


_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@(?P<host>[A-Za-z0-9.-]+):(?!//)(?P<path>.+)$")
_SSH_URL = re.compile(r"^(?:git\+)?ssh://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/(?P<path>.+)$")
_COMMIT_PATH = re.compile(r"^(?P<repo>https://[^/]+/[^/]+/[^/]+)/commit/(?P<commit>[0-9a-f]{40})$")


def normalize_repository(url: str) -> str:
    """A repository URL as ``https://host/org/repo``: ``git@host:org/repo.git``, ``ssh://``, ``git+https://`` and a
    trailing ``.git`` or ``/`` all name the same repository."""
    text = url.strip()
    m = _SCP_LIKE.match(text) or _SSH_URL.match(text)
    if m is not None:
        text = f"https://{m.group('host')}/{m.group('path')}"
    text = text.removeprefix("git+")
    if text.startswith("git://"):
        text = "https://" + text[len("git://") :]
    return text.rstrip("/").removesuffix(".git")


def _as_url(uri: str) -> str:
    """scp-like and ssh git locations as https URLs (keeping ``@ref`` / ``#fragment`` for the parser)."""
    m = _SCP_LIKE.match(uri) or _SSH_URL.match(uri)
    return f"https://{m.group('host')}/{m.group('path')}" if m else uri


_GIT_URI = re.compile(r"^(?P<repo>[a-z][a-z0-9+.-]*://[^/]+/[^@#]+?)(?:@(?P<ref>[^#]+))?(?:#(?P<frag>.*))?$")


def _source_from_uri(uri: str | None, field: str) -> SourceInfo | None:
    """``https://github.com/o/r.git#<commit>`` (BuildKit) or ``git+https://github.com/o/r@refs/heads/main``."""
    if not uri:
        return None
    commit_url = _COMMIT_PATH.match(uri)
    if commit_url:  # Cloud Build v0.2 materials: https://github.com/o/r/commit/<sha>
        return SourceInfo(repository=commit_url.group("repo"), commit=commit_url.group("commit"), from_field=field)
    m = _GIT_URI.match(_as_url(uri.removeprefix("git+")))
    if m is None:
        return SourceInfo(repository=uri, from_field=field)
    repo = normalize_repository(m.group("repo"))
    ref, frag = m.group("ref"), m.group("frag")
    commit = frag if frag and _HEX40.match(frag) else None
    if ref and _HEX40.match(ref):
        commit, ref = commit or ref, None
    if frag and commit is None:
        ref = ref or frag
    return SourceInfo(repository=repo, ref=ref, commit=commit, from_field=field)


def _vcs(meta: dict[str, Any] | None) -> SourceInfo | None:
    vcs = (meta or {}).get("vcs")
    if not isinstance(vcs, dict) or not vcs.get("source"):
        return None
    repo = normalize_repository(str(vcs["source"]))
    rev = str(vcs["revision"]) if vcs.get("revision") else None
    if rev and rev.endswith("-dirty"):
        # buildx records a work tree with uncommitted changes as "<commit>-dirty": the image is not that commit
        return SourceInfo(repository=repo, dirty=True, revision=rev, from_field="buildkit metadata vcs")
    return SourceInfo(repository=repo, commit=rev, from_field="buildkit metadata vcs")


def _merge(primary: SourceInfo | None, *others: SourceInfo | None) -> SourceInfo:
    out = primary.model_copy() if primary else SourceInfo()
    for o in others:
        if o is None:
            continue
        if out.repository is None:
            out.repository, out.from_field = o.repository, o.from_field
        if out.commit is None and (o.repository is None or o.repository == out.repository):
            out.commit = o.commit
        if out.ref is None and (o.repository is None or o.repository == out.repository):
            out.ref = o.ref
        if o.dirty and (o.repository is None or o.repository == out.repository):
            out.dirty, out.revision = True, o.revision
    return out


def _completeness(parameters: bool | None, environment: bool | None, materials: bool | None) -> dict[str, bool]:
    """SLSA v0.x ``metadata.completeness`` claims, the ones stated."""
    stated = (("parameters", parameters), ("environment", environment), ("materials", materials))
    return {k: v for k, v in stated if v is not None}


def _from_v01(pred: SlsaProvenanceV01) -> ProvenanceSummary:
    """SLSA v0.1 (Google Cloud Build): ``recipe`` instead of ``invocation``, ``arguments`` instead of ``parameters``."""
    recipe = pred.recipe
    deps = [_dependency(m.uri, m.digest) for m in pred.materials]
    index = recipe.defined_in_material if recipe else None
    defining: Material | None = None
    if index is not None and 0 <= index < len(pred.materials):
        defining = pred.materials[index]
    else:  # Cloud Build leaves definedInMaterial out: its source is the repository material
        defining = next((m for m, d in zip(pred.materials, deps, strict=True) if d.kind == "source"), None)
    source = SourceInfo()
    if defining is not None:
        source = _source_from_uri(defining.uri, "materials (recipe)") or SourceInfo()
        if source.commit is None:
            source.commit = defining.digest.get("sha1") or defining.digest.get("gitCommit")
    source.path = recipe.entry_point if recipe else None
    meta = pred.metadata
    comp = meta.completeness if meta else None
    completeness = _completeness(
        comp.arguments if comp else None, comp.environment if comp else None, comp.materials if comp else None
    )
    return ProvenanceSummary(
        slsa_version="v0.1",
        builder_id=pred.builder.id,
        build_type=recipe.type if recipe else "",
        is_buildkit=False,
        buildkit_mode=None,
        source=source,
        base_images=[d for d in deps if d.kind == "base-image"],
        dependencies=deps,
        build_args={},
        invocation_id=meta.build_invocation_id if meta else None,
        started_on=meta.build_started_on if meta else None,
        finished_on=meta.build_finished_on if meta else None,
        completeness=completeness,
        complete=bool(completeness) and all(completeness.values()) and len(completeness) == 3,
        reproducible=meta.reproducible if meta else None,
    )


def _from_v02(pred: SlsaProvenanceV02) -> ProvenanceSummary:
    is_bk = pred.build_type == BUILDKIT_V02_TYPE
    inv = pred.invocation
    params = inv.parameters if inv else None
    args = params.get("args") if isinstance(params, dict) else None
    build_args, other = _split_args(args if isinstance(args, dict) else None)
    cs = inv.config_source if inv else None
    src = _source_from_uri(cs.uri if cs else None, "invocation.configSource.uri")
    if src is not None and cs is not None:
        src.path = cs.entry_point
        if src.commit is None:
            src.commit = cs.digest.get("sha1") or cs.digest.get("gitCommit")
    meta = pred.metadata
    extra = (meta.model_extra or {}).get(BUILDKIT_V02_METADATA) if meta else None
    source = _merge(src, _vcs(extra if isinstance(extra, dict) else None))
    deps = [_dependency(m.uri, m.digest) for m in pred.materials]
    bases, stages, known = (
        _stages(deps, pred.build_config) if is_bk else ([d for d in deps if d.kind == "base-image"], [], False)
    )
    comp = meta.completeness if meta else None
    completeness = _completeness(
        comp.parameters if comp else None, comp.environment if comp else None, comp.materials if comp else None
    )
    return ProvenanceSummary(
        slsa_version="v0.2",
        builder_id=pred.builder.id,
        build_type=pred.build_type,
        is_buildkit=is_bk,
        buildkit_mode=("max" if pred.build_config is not None else "min") if is_bk else None,
        source=source,
        base_images=bases,
        build_stages=stages,
        stages_known=known,
        dependencies=deps,
        build_args=build_args,
        frontend_options=other,
        invocation_id=meta.build_invocation_id if meta else None,
        started_on=meta.build_started_on if meta else None,
        finished_on=meta.build_finished_on if meta else None,
        completeness=completeness,
        complete=bool(completeness) and all(completeness.values()) and len(completeness) == 3,
        reproducible=meta.reproducible if meta else None,
    )


def _from_v1(pred: SlsaProvenanceV1) -> ProvenanceSummary:
    bd, rd = pred.build_definition, pred.run_details
    is_bk = bd.build_type == BUILDKIT_V1_TYPE
    ext = bd.external_parameters
    request = ext.get("request") if isinstance(ext.get("request"), dict) else {}
    args = request.get("args") if isinstance(request, dict) else None
    build_args, other = _split_args(args if isinstance(args, dict) else None)
    cs = ext.get("configSource") if isinstance(ext.get("configSource"), dict) else None
    src = _source_from_uri(cs.get("uri") if cs else None, "externalParameters.configSource.uri")
    if src is not None and cs is not None:
        src.path = cs.get("path")
        digest = cs.get("digest")
        if src.commit is None and isinstance(digest, dict):
            src.commit = digest.get("sha1") or digest.get("gitCommit")
    workflow = ext.get("workflow") if isinstance(ext.get("workflow"), dict) else None
    wf_src = None
    if workflow:  # GitHub Actions generic SLSA v1 (slsa-github-generator, actions/attest-build-provenance)
        wf_repo = workflow.get("repository")
        wf_src = SourceInfo(
            repository=normalize_repository(wf_repo) if isinstance(wf_repo, str) else None,
            ref=workflow.get("ref"),
            path=workflow.get("path"),
            from_field="externalParameters.workflow",
        )
    meta = rd.metadata
    meta_extra = (meta.model_extra or {}) if meta else {}
    bk_meta = meta_extra.get("buildkit_metadata")
    deps = [_dependency(d.uri, d.digest) for d in bd.resolved_dependencies]
    git_dep = next((r for r, d in zip(bd.resolved_dependencies, deps, strict=True) if d.kind == "source"), None)
    dep_src = _git_dependency_source(git_dep) if git_dep else None
    source = _merge(src, wf_src, _vcs(bk_meta if isinstance(bk_meta, dict) else None), dep_src)
    if source.path is None and wf_src is not None:
        source.path = wf_src.path
    comp_raw = meta_extra.get("buildkit_completeness") or meta_extra.get("completeness")
    completeness = {k: v for k, v in (comp_raw or {}).items() if isinstance(v, bool)}
    internal = bd.internal_parameters or {}
    bases, stages, known = (
        _stages(deps, internal.get("buildConfig"))
        if is_bk
        else ([d for d in deps if d.kind == "base-image"], [], False)
    )
    invocation = (meta.invocation_id if meta else None) or meta_extra.get("invocationID")
    return ProvenanceSummary(
        slsa_version="v1",
        builder_id=rd.builder.id,
        build_type=bd.build_type,
        is_buildkit=is_bk,
        buildkit_mode=("max" if "buildConfig" in internal else "min") if is_bk else None,
        source=source,
        base_images=bases,
        build_stages=stages,
        stages_known=known,
        dependencies=deps,
        build_args=build_args,
        frontend_options=other,
        invocation_id=str(invocation) if invocation else None,
        started_on=meta.started_on if meta else None,
        finished_on=meta.finished_on if meta else None,
        completeness=completeness,
        complete=bool(completeness) and all(completeness.values()),
        reproducible=meta_extra.get("buildkit_reproducible")
        if isinstance(meta_extra.get("buildkit_reproducible"), bool)
        else None,
    )


def _git_dependency_source(dep: ResourceDescriptor) -> SourceInfo | None:
    info = _source_from_uri(dep.uri, "resolvedDependencies")
    if info is not None and info.commit is None:
        info.commit = dep.digest.get("gitCommit") or dep.digest.get("sha1")
    return info


def extract_provenance(predicate_type: str, predicate: dict[str, Any] | None) -> ProvenanceSummary | None:
    """The build facts of a SLSA v0.1, v0.2 or v1 predicate; None for other predicate types.

    A predicate of a SLSA type that does not have the required shape raises ``ValueError`` with the
    first field that is wrong.
    """
    if predicate is None or c.predicate_family(predicate_type) != "slsa-provenance":
        return None
    try:
        if predicate_type == SLSA_V01 or ("recipe" in predicate and "buildType" not in predicate):
            return _from_v01(SlsaProvenanceV01.model_validate(predicate))
        if predicate_type == c.SLSA_V1 or "buildDefinition" in predicate:
            return _from_v1(SlsaProvenanceV1.model_validate(predicate))
        return _from_v02(SlsaProvenanceV02.model_validate(predicate))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(predicate)"
        raise ValueError(f"not valid SLSA provenance: {loc}: {err['msg']}") from None
