"""Media types, annotation keys, tag suffixes and predicate types of the attachment formats."""

from __future__ import annotations

# -- in-toto / DSSE ---------------------------------------------------------------------------------
IN_TOTO = "application/vnd.in-toto+json"
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
STATEMENT_V01 = "https://in-toto.io/Statement/v0.1"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
STATEMENT_TYPES = frozenset({STATEMENT_V01, STATEMENT_V1})

# -- cosign (tag scheme) ----------------------------------------------------------------------------
SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIMPLESIGNING_TYPE = "cosign container image signature"
COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
COSIGN_CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
COSIGN_PREDICATE_ANNOTATION = "predicateType"
TAG_SUFFIXES = ("sig", "att", "sbom")

# -- BuildKit ---------------------------------------------------------------------------------------
IN_TOTO_PREDICATE_ANNOTATION = "in-toto.io/predicate-type"
DOCKER_ATTESTATION_MANIFEST = "application/vnd.docker.attestation.manifest.v1+json"

# -- Sigstore bundles (cosign v3) -------------------------------------------------------------------
SIGSTORE_BUNDLE_03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
SIGSTORE_BUNDLE_TYPES = frozenset(
    {
        SIGSTORE_BUNDLE_03,
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
        "application/vnd.dev.sigstore.bundle+json;version=0.1",
    }
)
BUNDLE_CONTENT_ANNOTATION = "dev.sigstore.bundle.content"
BUNDLE_PREDICATE_ANNOTATION = "dev.sigstore.bundle.predicateType"
CREATED_ANNOTATION = "org.opencontainers.image.created"
TITLE_ANNOTATION = "org.opencontainers.image.title"

# -- OCI --------------------------------------------------------------------------------------------
OCI_EMPTY_JSON = b"{}"

# -- SBOM media types (cosign attach sbom, OCI artifacts) -------------------------------------------
SBOM_MEDIA_TYPES = {
    "text/spdx": "spdx",
    "text/spdx+json": "spdx",
    "application/spdx+json": "spdx",
    "text/spdx+xml": "spdx",
    "application/vnd.cyclonedx": "cyclonedx",
    "application/vnd.cyclonedx+json": "cyclonedx",
    "application/vnd.cyclonedx+xml": "cyclonedx",
    "application/vnd.syft+json": "syft",
}

# -- predicate types --------------------------------------------------------------------------------
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
SLSA_V1 = "https://slsa.dev/provenance/v1"
SLSA_TYPES = frozenset({SLSA_V02, SLSA_V1, "https://slsa.dev/provenance/v0.1"})
SPDX = "https://spdx.dev/Document"
CYCLONEDX = "https://cyclonedx.org/bom"
COSIGN_CUSTOM = "https://cosign.sigstore.dev/attestation/v1"
COSIGN_VULN = "https://cosign.sigstore.dev/attestation/vuln/v1"
OPENVEX = "https://openvex.dev/ns"
LINK_V02 = "https://in-toto.io/Link/v0.2"

#: ``--type`` shorthands, as cosign names them.
PREDICATE_ALIASES = {
    "slsaprovenance": SLSA_V02,
    "slsaprovenance02": SLSA_V02,
    "slsaprovenance1": SLSA_V1,
    "spdx": SPDX,
    "spdxjson": SPDX,
    "cyclonedx": CYCLONEDX,
    "vuln": COSIGN_VULN,
    "openvex": OPENVEX,
    "link": LINK_V02,
    "custom": COSIGN_CUSTOM,
}


def predicate_family(predicate_type: str | None) -> str:
    """``slsa-provenance``, ``spdx``, ``cyclonedx``, ``vex``, ``vuln``, ``link`` or ``other``."""
    if not predicate_type:
        return "other"
    if predicate_type in SLSA_TYPES or predicate_type.startswith("https://slsa.dev/provenance/"):
        return "slsa-provenance"
    if predicate_type.startswith("https://spdx.dev/Document"):
        return "spdx"
    if predicate_type.startswith(("https://cyclonedx.org/bom", "https://cyclonedx.org/schema")):
        return "cyclonedx"
    if predicate_type.startswith("https://openvex.dev/"):
        return "vex"
    if predicate_type == COSIGN_VULN:
        return "vuln"
    if predicate_type.startswith("https://in-toto.io/Link"):
        return "link"
    return "other"


def resolve_predicate_type(text: str) -> str:
    """A ``--type`` value: a cosign shorthand or a predicate type URI."""
    if text in PREDICATE_ALIASES:
        return PREDICATE_ALIASES[text]
    if "://" in text or text.startswith("urn:"):
        return text
    from provenant.errors import UsageError

    raise UsageError(
        f"unknown predicate type {text!r}",
        hint=f"use one of {', '.join(PREDICATE_ALIASES)} or a predicate type URI",
    )


def tag_for(digest: str, suffix: str | None = None) -> str:
    """``sha256:<hex>`` → ``sha256-<hex>[.suffix]`` (cosign tags and the OCI referrers tag fallback)."""
    base = digest.replace(":", "-", 1)
    return f"{base}.{suffix}" if suffix else base
