"""The policy file: ``apiVersion: provenant/v1``, ``kind: ImagePolicy``; unknown keys are rejected.

A file that does not load is one :class:`PolicyError` line naming the file, the field path and the
problem, e.g. ``policies/x.yaml: checks.pinning.forbiddenTags: Input should be a valid list``.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ByteSize, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from provenant.errors import ProvenantError
from provenant.policy.match import normalize_glob
from provenant.reference import parse_reference

Action = Literal["deny", "warn", "off"]
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
SLSA_V1 = "https://slsa.dev/provenance/v1"


class PolicyError(ProvenantError):
    """A policy file is missing, is not YAML, or does not match the schema."""


def _glob(value: str) -> str:
    normalize_glob(value)  # raises ValueError with the reason
    return value


def _reference(value: str) -> str:
    try:
        parse_reference(value)
    except ProvenantError as exc:
        raise ValueError(exc.message) from None  # pydantic reports ValueErrors with the field path
    return value


def _platform(value: str) -> str:
    from provenant.oci.platform import PlatformSpec

    try:
        PlatformSpec.parse(value)
    except ProvenantError as exc:
        raise ValueError(exc.message) from None
    return value


def _cache_kind(value: str) -> str:
    from provenant.hygiene.caches import RULES

    kinds = [kind for kind, _ in RULES]
    if value not in kinds:
        raise ValueError(f"unknown cache kind {value!r}; known: {', '.join(kinds)}")
    return value


def _secret_rule(value: str) -> str:
    import difflib

    from provenant.catalog.secretrules import RULE_IDS

    if value not in RULE_IDS:
        # Rule ids are compared exactly: a typo would silently ignore nothing.
        close = difflib.get_close_matches(value.lower(), RULE_IDS, n=1)
        guess = f" did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown secret rule id {value!r};{guess} known: {', '.join(RULE_IDS)}")
    return value


Glob = Annotated[str, AfterValidator(_glob)]
PlatformText = Annotated[str, AfterValidator(_platform)]
CacheKind = Annotated[str, AfterValidator(_cache_kind)]
SecretRule = Annotated[str, AfterValidator(_secret_rule)]
ImageRef = Annotated[str, AfterValidator(_reference)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)


class Rule(_Strict):
    """Per-check settings: what a failure means, and what missing evidence means."""

    action: Action | None = None
    on_missing_data: Action | None = None


class _Family(_Strict):
    action: Action | None = Field(default=None, description="default action of this family's checks")
    on_missing_data: Action | None = None


class Pinning(_Family):
    """``pinning.digest``, ``pinning.forbidden-tags``, ``pinning.base-digest``."""

    require_digest: bool = True
    forbidden_tags: list[str] = Field(default_factory=lambda: ["latest"])
    require_base_digest: bool = True


class BaseImage(_Family):
    """``base-image.allowed``."""

    allowed: list[Glob] = Field(default_factory=list, description="image globs a base image must match")
    registries: list[str] = Field(default_factory=list, description="registry hosts a base image may come from")
    trusted: list[ImageRef] = Field(
        default_factory=list, description="trusted base images whose layers are matched as a prefix (references)"
    )


class KeylessSigner(_Strict):
    """A keyless (Fulcio certificate) signer the policy trusts: identity and issuer, each exact or regexp
    (cosign's semantics: a regexp may match anywhere; anchor it), and optional GitHub workflow claims."""

    identity: str | None = None
    identity_regexp: str | None = None
    issuer: str | None = None
    issuer_regexp: str | None = None
    github_workflow_repository: str | None = None
    github_workflow_ref: str | None = None
    github_workflow_trigger: str | None = None

    @model_validator(mode="after")
    def _one_each(self) -> KeylessSigner:
        self.matcher()  # a missing identity or issuer, or a bad regexp, is a schema error now
        return self

    def matcher(self) -> Any:
        """The :class:`~provenant.attest.identity.IdentityMatcher` of this signer; ValueError when incomplete."""
        from provenant.attest.identity import Expect, IdentityMatcher, expect

        try:
            identity = expect(self.identity, self.identity_regexp, "identity")
            issuer = expect(self.issuer, self.issuer_regexp, "issuer")
        except ProvenantError as exc:
            raise ValueError(exc.message) from None
        if identity is None or issuer is None:
            raise ValueError("a keyless signer needs identity (or identityRegexp) and issuer (or issuerRegexp)")
        claims = {
            "repository": self.github_workflow_repository,
            "ref": self.github_workflow_ref,
            "trigger": self.github_workflow_trigger,
        }
        return IdentityMatcher(identity, issuer, {k: Expect(v) for k, v in claims.items() if v is not None})


class Provenance(_Family):
    """``provenance.present``, ``.signed``, ``.builder``, ``.source``, ``.subject``."""

    predicate_types: list[str] = Field(default_factory=lambda: [SLSA_V02, SLSA_V1], min_length=1)
    require_signed: bool = False
    keys: list[Path] = Field(default_factory=list, description="public keys (PEM), relative to the policy file")
    trusted_root: Path | None = Field(
        default=None, description="Sigstore trusted_root.json for keyless signers, relative to the policy file"
    )
    keyless: list[KeylessSigner] = Field(
        default_factory=list, description="trusted keyless signers (any one may have signed); need trustedRoot"
    )

    @model_validator(mode="after")
    def _keyless_needs_root(self) -> Provenance:
        if self.keyless and self.trusted_root is None:
            raise ValueError("keyless signers need trustedRoot (a Sigstore trusted_root.json)")
        return self

    builders: list[str] = Field(default_factory=list, description="allowed builder ids (shell-style patterns)")
    sources: list[str] = Field(default_factory=list, description="allowed source repositories (shell-style patterns)")
    require_subject_match: bool = True


class Platforms(_Family):
    """``platforms.required``, ``platforms.provenance``."""

    required: list[PlatformText] = Field(default_factory=list)
    require_provenance: bool = False


class Size(_Family):
    """``size.budget`` and ``size.wasted``."""

    max_compressed: ByteSize | None = Field(default=None, description="what a pull transfers, e.g. 200MB")
    max_uncompressed: ByteSize | None = Field(default=None, description="the layers' tar bytes")
    max_wasted: ByteSize | None = Field(default=None, description="bytes of files hidden by later layers")


class User(_Family):
    """``user.non-root``."""


class Secrets(_Family):
    """``secrets.none``."""

    ignore_rules: list[SecretRule] = Field(default_factory=list, description="secret rule ids not to report")
    ignore_paths: list[str] = Field(default_factory=list, description="image paths not to report (shell patterns)")


class BuildTooling(_Family):
    """``tooling.build-tools``."""

    allow: list[str] = Field(default_factory=list, description="package names accepted in the final image")


class Caches(_Family):
    """``caches.package-manager``."""

    allow: list[CacheKind] = Field(default_factory=list, description="cache kinds accepted (apt-lists, pip-cache, ...)")


class Sbom(_Family):
    """``sbom.attested``."""

    require_attestation: bool = True


class Licenses(_Family):
    """``licenses.denied``."""

    denied: list[str] = Field(default_factory=list, description="SPDX license ids no package may be under")


class Checks(_Strict):
    """Which families run; a family that is absent does not run."""

    @model_validator(mode="before")
    @classmethod
    def _empty_sections_run(cls, data: Any) -> Any:
        # `user:` with nothing after it is YAML null: the writer means "run with defaults", as `user: {}` does.
        if isinstance(data, dict):
            return {k: ({} if v is None else v) for k, v in data.items()}
        return data

    pinning: Pinning | None = None
    base_image: BaseImage | None = None
    provenance: Provenance | None = None
    platforms: Platforms | None = None
    user: User | None = None
    secrets: Secrets | None = None
    build_tooling: BuildTooling | None = None
    caches: Caches | None = None
    size: Size | None = None
    sbom: Sbom | None = None
    licenses: Licenses | None = None


class Defaults(_Strict):
    """The action and missing-data behaviour of every check unless a family or rule says otherwise."""

    action: Action = "deny"
    on_missing_data: Action = "deny"


class Waiver(_Strict):
    """An accepted exception: one check, images matching a glob, a reason, and a mandatory expiry date."""

    check: str
    images: Glob = Field(description="image glob the waiver applies to")
    reason: Annotated[str, Field(min_length=1)]
    expires: dt.date
    platforms: list[PlatformText] = Field(default_factory=list, description="only these platforms (default: all)")


class Metadata(_Strict):
    """Free-form identification of the policy."""

    name: str | None = None
    description: str | None = None


class ImagePolicy(_Strict):
    """The whole policy file."""

    api_version: Literal["provenant/v1"]
    kind: Literal["ImagePolicy"]
    metadata: Metadata = Field(default_factory=Metadata)
    images: list[Glob] = Field(
        default_factory=lambda: ["**"], min_length=1, description="which images this policy applies to"
    )
    defaults: Defaults = Field(default_factory=Defaults)
    checks: Checks = Field(default_factory=Checks)
    rules: dict[str, Rule] = Field(default_factory=dict, description="per-check overrides, keyed by check id")
    waivers: list[Waiver] = Field(default_factory=list)

    def family(self, name: str) -> _Family | None:
        """The family section named ``name`` (the ``Checks`` field name), or None when absent."""
        section: _Family | None = getattr(self.checks, name)
        return section


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def policy_from_data(data: Any, where: str) -> ImagePolicy:
    """Validate parsed YAML; the first problem becomes one line naming the field path."""
    from provenant.policy.checks import CHECKS

    if not isinstance(data, dict):
        raise PolicyError(f"{where}: the policy must be a YAML mapping, got {type(data).__name__}")
    try:
        policy = ImagePolicy.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise PolicyError(f"{where}: {_location(tuple(err['loc']))}: {msg}") from None
    known = {c.id for c in CHECKS}
    for key in policy.rules:
        if key not in known:
            raise PolicyError(f"{where}: rules.{key}: unknown check id; known: {', '.join(sorted(known))}")
        check = next(c for c in CHECKS if c.id == key)
        if not check.enabled(policy):
            # A rule for a check that does not run has no effect: almost always a missing section or setting.
            alias = Checks.model_fields[check.family].alias or check.family
            raise PolicyError(
                f"{where}: rules.{key}: the check does not run with this policy, so the rule has no effect",
                hint=f"enable it under checks.{alias} (see docs/policy-reference.md), or remove the rule",
            )
    for i, waiver in enumerate(policy.waivers):
        if waiver.check not in known:
            raise PolicyError(f"{where}: waivers[{i}].check: unknown check id {waiver.check!r}")
    return policy


@functools.cache
def _yaml_loader() -> type[Any]:
    """``SafeLoader`` with YAML 1.2 booleans: only true/false, so ``action: off`` stays the string ``off``.

    YAML 1.1 (PyYAML's default) reads ``off``/``on``/``yes``/``no`` as booleans, which would turn the
    documented ``action: off`` into ``False`` and a confusing schema error. Duplicate keys are errors, as
    YAML 1.2 says.
    """
    import re

    import yaml

    # libyaml's parser when present: ~6x faster on a large file, and load_yaml has checked its events.
    base: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc]
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            # A repeated key would silently replace the first (a second `checks:` drops every family above it).
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, str | int | float | bool | None):
                    continue  # unhashable keys are reported by SafeLoader itself
                if key in seen:
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
            mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
            return mapping

    bool_tag = "tag:yaml.org,2002:bool"
    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != bool_tag]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(bool_tag, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    return Loader


def load_policy(path: Path) -> ImagePolicy:
    """Read and validate a policy file (YAML 1.2 booleans, safe loading: no tags that build objects).

    The file is bounded by the ``policy-bytes`` limit before it is read, its nesting by ``json-depth``,
    and aliases are refused: policy files may come from people the user does not trust.
    """
    import yaml

    from provenant import limits
    from provenant.structured import load_yaml

    lim = limits.current()
    try:
        with path.open("rb") as fh:
            raw = fh.read(lim.policy_bytes + 1)
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy file: {exc.strerror}") from None
    if len(raw) > lim.policy_bytes:
        raise limits.LimitExceededError(f"policy file {path}", "policy_bytes", limits=lim)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: the policy file is not UTF-8 text (byte {exc.start})") from None
    try:
        data = load_yaml(text, f"policy file {path}", _yaml_loader(), lim)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PolicyError(f"{path}: not valid YAML{at}: {problem}") from None
    return policy_from_data(data, str(path))
