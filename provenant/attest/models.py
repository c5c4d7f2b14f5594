"""Pydantic models of the formats attached to images.

in-toto Statements (v0.1 and v1; v1 is also checked with the in-toto-attestation library), DSSE
envelopes, cosign simple-signing payloads, SLSA provenance v0.2 and v1 predicates, and the parts of a
Sigstore bundle (v0.1-v0.3) that provenant reads. Unknown fields are kept (``extra="allow"``) or
ignored: producers add their own.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provenant.attest import constants as c
from provenant.attest.errors import SignatureFormatError
from provenant.oci.models import first_error
from provenant.structured import load_json_text


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class _Open(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")


def b64decode(text: str, what: str) -> bytes:
    """Standard or URL-safe base64, padded or not (DSSE allows either)."""
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureFormatError(f"{what} is not valid base64: {exc}") from exc


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    # A lone surrogate the JSON spells ("\ud800") is read as U+FFFD, as Go's encoding/json (cosign, the
    # Sigstore and in-toto tools) reads it: such a string could not have been signed as UTF-8 either way.
    try:
        obj = load_json_text(data, what)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SignatureFormatError(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise SignatureFormatError(f"{what} is not a JSON object (got {type(obj).__name__})")
    return obj


# -- in-toto ----------------------------------------------------------------------------------------


class ResourceDescriptor(_Open):
    """An in-toto ResourceDescriptor (v1) / subject or material (v0.1)."""

    name: str | None = None
    uri: str | None = None
    digest: dict[str, str] = Field(default_factory=dict)
    media_type: str | None = Field(default=None, alias="mediaType")
    download_location: str | None = Field(default=None, alias="downloadLocation")
    annotations: dict[str, Any] | None = None


class Statement(_Model):
    """An in-toto Statement, v0.1 or v1."""

    type: str = Field(alias="_type")
    subject: list[ResourceDescriptor]
    predicate_type: str = Field(alias="predicateType")
    predicate: dict[str, Any] | None = None

    @property
    def version(self) -> str:
        """``v0.1`` or ``v1``."""
        return "v1" if self.type == c.STATEMENT_V1 else "v0.1"

    def subject_digests(self) -> list[str]:
        """Every subject digest as ``alg:hex``."""
        return [f"{alg}:{hx}" for s in self.subject for alg, hx in sorted(s.digest.items())]


def _validate_v1_with_library(obj: dict[str, Any], what: str) -> None:
    """The in-toto-attestation library's own checks of a v1 Statement."""
    import google.protobuf.json_format as pb_json  # type: ignore[import-untyped,unused-ignore]
    from in_toto_attestation.v1 import statement as it_statement  # type: ignore[import-untyped,unused-ignore]
    from in_toto_attestation.v1 import statement_pb2  # type: ignore[import-untyped,unused-ignore]

    try:
        pb = pb_json.ParseDict(obj, statement_pb2.Statement(), ignore_unknown_fields=True)
        it_statement.Statement.copy_from_pb(pb).validate()
    except ValueError as exc:
        # in-toto v1 makes ``predicate`` optional (cosign v3 signs with predicateType .../cosign/sign/v1 and
        # none, or an empty one); the library's validate() still demands it, and checks it last.
        if str(exc) == "Predicate object required" and obj.get("predicate") in (None, {}):
            return
        raise SignatureFormatError(f"{what} is not a valid in-toto v1 Statement: {exc}") from exc
    except pb_json.ParseError as exc:
        raise SignatureFormatError(f"{what} is not a valid in-toto v1 Statement: {exc}") from exc


def parse_statement(data: bytes, what: str) -> Statement:
    """Parse an in-toto Statement (v0.1 or v1); anything else raises :class:`SignatureFormatError`."""
    obj = _json_object(data, what)
    kind = obj.get("_type")
    if not isinstance(kind, str) or kind not in c.STATEMENT_TYPES:
        raise SignatureFormatError(
            f"{what} is not an in-toto Statement: _type is {kind!r}, expected {c.STATEMENT_V01} or {c.STATEMENT_V1}"
        )
    if kind == c.STATEMENT_V1:
        _validate_v1_with_library(obj, what)
    try:
        stmt = Statement.model_validate(obj)
    except ValidationError as exc:
        raise SignatureFormatError(f"{what} is not a valid in-toto Statement: {first_error(exc)}") from exc
    if not stmt.subject:
        raise SignatureFormatError(f"{what} has no subject")
    return stmt


# -- DSSE -------------------------------------------------------------------------------------------


class EnvelopeSignature(_Model):
    """One DSSE signature."""

    keyid: str | None = None
    sig: str
    #: A PEM signing certificate some producers put beside the signature; read, never written back.
    cert: str | None = Field(default=None, exclude=True)


class Envelope(_Model):
    """A DSSE envelope (JSON serialisation)."""

    payload_type: str = Field(alias="payloadType")
    payload: str
    signatures: list[EnvelopeSignature] = Field(default_factory=list)

    def payload_bytes(self) -> bytes:
        """The decoded payload (exactly the bytes that were signed, before PAE)."""
        return b64decode(self.payload, "DSSE payload")


def parse_envelope(data: bytes, what: str) -> Envelope:
    """Parse a DSSE envelope."""
    try:
        return Envelope.model_validate(_json_object(data, what))
    except ValidationError as exc:
        raise SignatureFormatError(f"{what} is not a valid DSSE envelope: {first_error(exc)}") from exc


# -- cosign simple signing --------------------------------------------------------------------------


class SimpleSigningIdentity(_Model):
    """``critical.identity``."""

    docker_reference: str | None = Field(default=None, alias="docker-reference")


class SimpleSigningImage(_Model):
    """``critical.image``; the spec's example capitalises the key, so both spellings are read."""

    docker_manifest_digest: str = Field(alias="docker-manifest-digest")


class SimpleSigningCritical(_Model):
    """``critical``."""

    identity: SimpleSigningIdentity | None = None
    image: SimpleSigningImage
    type: str


class SimpleSigning(_Model):
    """A cosign simple-signing payload."""

    critical: SimpleSigningCritical
    optional: dict[str, Any] | None = None


def parse_simple_signing(data: bytes, what: str) -> SimpleSigning:
    """Parse a simple-signing payload (``Docker-manifest-digest`` accepted as the spec's example spells it)."""
    obj = _json_object(data, what)
    crit = obj.get("critical")
    if isinstance(crit, dict):
        image = crit.get("image")
        if isinstance(image, dict) and "docker-manifest-digest" not in image and "Docker-manifest-digest" in image:
            crit["image"] = {**image, "docker-manifest-digest": image["Docker-manifest-digest"]}
    try:
        return SimpleSigning.model_validate(obj)
    except ValidationError as exc:
        raise SignatureFormatError(f"{what} is not a valid simple-signing payload: {first_error(exc)}") from exc


# -- SLSA provenance v0.1 (Google Cloud Build) -----------------------------------------------------


class Recipe(_Open):
    """``recipe`` (v0.1): what ran, and which material defined it."""

    type: str
    defined_in_material: int | None = Field(default=None, alias="definedInMaterial")
    entry_point: str | None = Field(default=None, alias="entryPoint")
    arguments: Any = None
    environment: Any = None


class CompletenessV01(_Open):
    """``metadata.completeness`` (v0.1): ``arguments`` where v0.2 says ``parameters``."""

    arguments: bool | None = None
    environment: bool | None = None
    materials: bool | None = None


class MetadataV01(_Open):
    """``metadata`` (v0.1); ``buildInvocationId`` (v0.2 spells it ``buildInvocationID``)."""

    build_invocation_id: str | None = Field(default=None, alias="buildInvocationId")
    build_started_on: str | None = Field(default=None, alias="buildStartedOn")
    build_finished_on: str | None = Field(default=None, alias="buildFinishedOn")
    completeness: CompletenessV01 | None = None
    reproducible: bool | None = None


# -- SLSA provenance v0.2 ---------------------------------------------------------------------------


class Builder(_Open):
    """``builder``."""

    id: str
    version: dict[str, str] | str | None = None
    builder_dependencies: list[ResourceDescriptor] | None = Field(default=None, alias="builderDependencies")


class ConfigSource(_Open):
    """``invocation.configSource`` (v0.2)."""

    uri: str | None = None
    digest: dict[str, str] = Field(default_factory=dict)
    entry_point: str | None = Field(default=None, alias="entryPoint")


class Invocation(_Open):
    """``invocation`` (v0.2)."""

    config_source: ConfigSource | None = Field(default=None, alias="configSource")
    parameters: dict[str, Any] | None = None
    environment: dict[str, Any] | None = None


class Completeness(_Open):
    """``metadata.completeness`` (v0.2)."""

    parameters: bool | None = None
    environment: bool | None = None
    materials: bool | None = None


class MetadataV02(_Open):
    """``metadata`` (v0.2)."""

    build_invocation_id: str | None = Field(default=None, alias="buildInvocationID")
    build_started_on: str | None = Field(default=None, alias="buildStartedOn")
    build_finished_on: str | None = Field(default=None, alias="buildFinishedOn")
    completeness: Completeness | None = None
    reproducible: bool | None = None


class Material(_Open):
    """``materials[]`` (v0.2)."""

    uri: str | None = None
    digest: dict[str, str] = Field(default_factory=dict)


class SlsaProvenanceV01(_Open):
    """SLSA provenance v0.1 predicate (what Google Cloud Build writes)."""

    builder: Builder
    recipe: Recipe | None = None
    metadata: MetadataV01 | None = None
    materials: list[Material] = Field(default_factory=list)


class SlsaProvenanceV02(_Open):
    """SLSA provenance v0.2 predicate."""

    builder: Builder
    build_type: str = Field(alias="buildType")
    invocation: Invocation | None = None
    build_config: dict[str, Any] | None = Field(default=None, alias="buildConfig")
    metadata: MetadataV02 | None = None
    materials: list[Material] = Field(default_factory=list)


# -- SLSA provenance v1 -----------------------------------------------------------------------------


class BuildDefinition(_Open):
    """``buildDefinition`` (v1)."""

    build_type: str = Field(alias="buildType")
    external_parameters: dict[str, Any] = Field(default_factory=dict, alias="externalParameters")
    internal_parameters: dict[str, Any] | None = Field(default=None, alias="internalParameters")
    resolved_dependencies: list[ResourceDescriptor] = Field(default_factory=list, alias="resolvedDependencies")


class BuildMetadataV1(_Open):
    """``runDetails.metadata`` (v1); BuildKit writes ``invocationID``, the spec ``invocationId``."""

    invocation_id: str | None = Field(default=None, alias="invocationId")
    started_on: str | None = Field(default=None, alias="startedOn")
    finished_on: str | None = Field(default=None, alias="finishedOn")


class RunDetails(_Open):
    """``runDetails`` (v1)."""

    builder: Builder
    metadata: BuildMetadataV1 | None = None
    byproducts: list[ResourceDescriptor] | None = None


class SlsaProvenanceV1(_Open):
    """SLSA provenance v1 predicate."""

    build_definition: BuildDefinition = Field(alias="buildDefinition")
    run_details: RunDetails = Field(alias="runDetails")


# -- Sigstore bundle --------------------------------------------------------------------------------


class RawBytes(_Model):
    """``{"rawBytes": base64}``."""

    raw_bytes: str = Field(alias="rawBytes")


class CertificateChain(_Model):
    """``x509CertificateChain``."""

    certificates: list[RawBytes] = Field(default_factory=list)


class PublicKeyIdentifier(_Model):
    """``publicKey`` (a hint naming a key the verifier already has)."""

    hint: str | None = None


class VerificationMaterial(_Model):
    """``verificationMaterial``."""

    certificate: RawBytes | None = None
    x509_certificate_chain: CertificateChain | None = Field(default=None, alias="x509CertificateChain")
    public_key: PublicKeyIdentifier | None = Field(default=None, alias="publicKey")
    tlog_entries: list[dict[str, Any]] = Field(default_factory=list, alias="tlogEntries")
    timestamp_verification_data: dict[str, Any] | None = Field(default=None, alias="timestampVerificationData")

    def leaf_certificate_der(self) -> bytes | None:
        """The signing certificate (DER), if the bundle carries one."""
        if self.certificate is not None:
            return b64decode(self.certificate.raw_bytes, "bundle certificate")
        if self.x509_certificate_chain is not None and self.x509_certificate_chain.certificates:
            return b64decode(self.x509_certificate_chain.certificates[0].raw_bytes, "bundle certificate")
        return None


class MessageDigest(_Model):
    """``messageSignature.messageDigest``."""

    algorithm: str
    digest: str


class MessageSignature(_Model):
    """``messageSignature``: a signature over an artifact's bytes (the artifact itself is not in the bundle)."""

    message_digest: MessageDigest | None = Field(default=None, alias="messageDigest")
    signature: str


class SigstoreBundle(_Model):
    """A Sigstore bundle (v0.1-v0.3), only the parts provenant reads."""

    media_type: str = Field(alias="mediaType")
    verification_material: VerificationMaterial = Field(alias="verificationMaterial")
    dsse_envelope: Envelope | None = Field(default=None, alias="dsseEnvelope")
    message_signature: MessageSignature | None = Field(default=None, alias="messageSignature")


def parse_bundle(data: bytes, what: str) -> SigstoreBundle:
    """Parse a Sigstore bundle."""
    try:
        bundle = SigstoreBundle.model_validate(_json_object(data, what))
    except ValidationError as exc:
        raise SignatureFormatError(f"{what} is not a valid Sigstore bundle: {first_error(exc)}") from exc
    if bundle.media_type not in c.SIGSTORE_BUNDLE_TYPES:
        raise SignatureFormatError(f"{what} has unknown bundle media type {bundle.media_type!r}")
    if (bundle.dsse_envelope is None) == (bundle.message_signature is None):
        raise SignatureFormatError(f"{what} must hold exactly one of dsseEnvelope and messageSignature")
    return bundle
