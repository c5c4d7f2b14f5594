"""``provenant attestations``, ``verify``, ``attest``, ``sign`` and ``keygen``."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, cast

import click

from provenant.cli.options import (
    build_registry_options,
    key_passphrase,
    load_signing_key,
    parse_platforms,
    platform_option,
    public_key_option,
    registry_options,
)
from provenant.structured import load_json
from provenant.textsafe import printable

if TYPE_CHECKING:
    from provenant.attest.evaluate import Attachment
    from provenant.attest.identity import Expect, IdentityMatcher
    from provenant.attest.keyless import KeylessPolicy
    from provenant.attest.push import Mode
    from provenant.attest.result import AttestationsResult
    from provenant.attest.verify import VerifyResult

F = TypeVar("F", bound=Callable[..., Any])


# -- shared options ---------------------------------------------------------------------------------


def _output_option(f: F) -> F:
    return click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)(f)


_KEYLESS_PARAMS = (
    "trusted_root",
    "certificate_identity",
    "certificate_identity_regexp",
    "certificate_oidc_issuer",
    "certificate_oidc_issuer_regexp",
    "certificate_github_workflow_repository",
    "certificate_github_workflow_ref",
    "certificate_github_workflow_trigger",
)


def _keyless_options(f: F) -> F:
    """The keyless options, handed to the command as one ``keyless`` argument (a KeylessPolicy or None)."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _KEYLESS_PARAMS}
        return f(*args, keyless=_keyless(**values), **kwargs)

    return cast(F, _add_keyless_flags(wrapper))


#: For the other commands that show signature evidence (``compare``, ``report``): the same flags as ``verify``.
keyless_options = _keyless_options


def keyless_signer_options(f: F) -> F:
    """The keyless options for commands that combine them with a policy file (``policy check``): handed to
    the command as ``trusted_root`` (a Path or None) and ``signer`` (an IdentityMatcher or None), each of
    which may come from the policy instead."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _KEYLESS_PARAMS}
        root = values.pop("trusted_root")
        return f(*args, trusted_root=root, signer=_signer(**values), **kwargs)

    return cast(F, _add_keyless_flags(wrapper))


def _add_keyless_flags(wrapper: Callable[..., Any]) -> Any:
    options = [
        ("--certificate-github-workflow-trigger", "EVENT", "GitHub event that must have triggered the workflow."),
        ("--certificate-github-workflow-ref", "REF", "Git ref the signing GitHub workflow must have run on."),
        ("--certificate-github-workflow-repository", "OWNER/REPO", "Repository the signing GitHub workflow ran in."),
        ("--certificate-oidc-issuer-regexp", "RE", "Regexp the keyless signer's issuer must contain (as cosign)."),
        ("--certificate-oidc-issuer", "URL", "Issuer a keyless signature must come from (with --trusted-root)."),
        (
            "--certificate-identity-regexp",
            "RE",
            "Regexp the keyless identity must contain (as cosign; anchor with ^$).",
        ),
        ("--certificate-identity", "ID", "Identity (SAN) a keyless signature must name (with --trusted-root)."),
    ]
    out: Any = wrapper
    for flag, metavar, text in options:
        out = click.option(flag, metavar=metavar, help=text)(out)
    return click.option(
        "--trusted-root",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Sigstore trusted_root.json: verify keyless (certificate) signatures, attestations and bundles.",
    )(out)


class _Expected(NamedTuple):
    """What the keyless-signer flags ask for."""

    identity: Expect | None
    issuer: Expect | None
    claims: dict[str, Expect]
    #: Any GitHub workflow claim flag was given a value.
    github: bool


def _expected(
    certificate_identity: str | None,
    certificate_identity_regexp: str | None,
    certificate_oidc_issuer: str | None,
    certificate_oidc_issuer_regexp: str | None,
    certificate_github_workflow_repository: str | None,
    certificate_github_workflow_ref: str | None,
    certificate_github_workflow_trigger: str | None,
) -> _Expected:
    from provenant.attest.identity import Expect, expect

    github = {
        "repository": certificate_github_workflow_repository,
        "ref": certificate_github_workflow_ref,
        "trigger": certificate_github_workflow_trigger,
    }
    return _Expected(
        expect(certificate_identity, certificate_identity_regexp, "--certificate-identity"),
        expect(certificate_oidc_issuer, certificate_oidc_issuer_regexp, "--certificate-oidc-issuer"),
        {k: Expect(v) for k, v in github.items() if v is not None},
        any(github.values()),
    )


def _signer(**flags: str | None) -> IdentityMatcher | None:
    """The keyless signer the flags name (None when they name none); a partial one is a usage error."""
    from provenant.attest.identity import IdentityMatcher
    from provenant.errors import UsageError

    want = _expected(**flags)
    if want.identity is None and want.issuer is None and not want.github:
        return None
    if want.identity is None or want.issuer is None:
        raise UsageError(
            "a keyless signer needs --certificate-identity (or -regexp) and --certificate-oidc-issuer (or -regexp)"
        )
    return IdentityMatcher(want.identity, want.issuer, want.claims)


def _keyless(trusted_root: Path | None, **flags: str | None) -> KeylessPolicy | None:
    from provenant.attest.identity import IdentityMatcher
    from provenant.errors import UsageError

    identity, issuer, claims, github = _expected(**flags)
    if trusted_root is None:
        if identity or issuer or github:
            raise UsageError("--certificate-identity/--certificate-oidc-issuer need --trusted-root")
        return None
    if identity is None or issuer is None:
        raise UsageError(
            "--trusted-root needs --certificate-identity (or -regexp) and --certificate-oidc-issuer (or -regexp)"
        )
    from provenant.attest.keyless import KeylessPolicy

    exact = identity.regexp is None and issuer.regexp is None and not claims
    matcher = None if exact else IdentityMatcher(identity, issuer, claims)
    policy = KeylessPolicy(trusted_root, identity.text, issuer.text, matcher)
    _ = policy.root  # a bad file is an error now, not only once a keyless bundle turns up; loaded once
    _ = policy.trust
    return policy


# -- rendering --------------------------------------------------------------------------------------


def _describe(a: Attachment) -> str:
    if a.kind == "signature" and a.format == "simplesigning":
        what = "signature (cosign simple signing)"
    elif a.kind == "sbom":
        what = f"sbom ({a.predicate_family or a.media_type})"
    elif a.predicate_type:
        what = f"{a.kind} {a.predicate_type}"
    else:
        what = f"{a.kind} ({a.media_type})"
    subject = {"match": "subject ok", "mismatch": "SUBJECT MISMATCH", "not-checked": "subject not checked"}
    return f"{what}  [{a.source}: {a.location}]  {a.trust}  {subject[a.subject_check.status]}"


def _details(a: Attachment) -> list[str]:
    lines: list[str] = []
    if a.signer and not a.trust.startswith("signed:key="):
        lines.append(f"signer: {a.signer}" + (f" (issuer {a.signer_issuer})" if a.signer_issuer else ""))
    lines += [f"{k}: {v}" for k, v in a.signer_claims.items()]
    if a.subject_check.status == "mismatch" and a.subject_check.detail:
        lines.append(f"subject: {a.subject_check.detail}")
    p = a.provenance
    if p is not None:
        lines.append(f"builder: {p.builder_id}  build type: {p.build_type}")
        src = p.source
        if src.repository or src.commit:
            ref = f" ref {src.ref}" if src.ref else ""
            commit = f"dirty work tree {src.revision} (not a clean commit)" if src.dirty else src.commit or "?"
            lines.append(f"source: {src.repository or '?'}{ref} commit {commit}")
        for b in p.base_images:
            what = "base image" if p.stages_known or not p.is_buildkit else "image used (stage not recorded: mode=min)"
            lines.append(f"{what}: {b.uri} {' '.join(f'{k}:{v}' for k, v in b.digest.items())}")
        for b in p.build_stages:
            lines.append(f"build stage: {b.uri} {' '.join(f'{k}:{v}' for k, v in b.digest.items())}")
        if p.build_args:
            lines.append("build args: " + ", ".join(f"{k}={v}" for k, v in sorted(p.build_args.items())))
        mode = f"mode={p.buildkit_mode}  " if p.buildkit_mode else ""
        comp = ", ".join(f"{k}={v}" for k, v in p.completeness.items()) or "not stated"
        lines.append(f"{mode}completeness: {comp}")
    lines += [f"problem: {x}" for x in a.problems]
    if a.error:
        lines.append(f"error: {a.error}")
    return lines


def render_attestations(result: AttestationsResult) -> list[str]:
    """A tree per subject, like ``cosign tree``."""
    out = [f"{result.reference}  {result.digest}  ({result.source}; referrers: {result.referrers})"]
    if result.keys:
        out.append("keys: " + ", ".join(result.keys))
    for s in result.subjects:
        label = s.platform or s.kind
        out.append("")
        out.append(f"{label}  {s.digest}")
        if not s.attachments:
            out.append("└── (nothing attached)")
        for i, a in enumerate(s.attachments):
            last = i == len(s.attachments) - 1
            out.append(f"{'└──' if last else '├──'} {_describe(a)}")
            pad = "    " if last else "│   "
            out += [f"{pad}    {line}" for line in _details(a)]
    for note in result.notes:
        out.append(f"note: {note}")
    # Identities, predicate types, builder ids and notes come from images and servers: one line each,
    # every control character shown escaped.
    return [printable(line, keep_tabs=True) for line in out]


def render_verify(result: VerifyResult) -> list[str]:
    """One block per subject: PASS/FAIL, what satisfied it or why it failed."""
    out = [f"{result.reference}  {result.digest}", "keys: " + (", ".join(result.keys) or "(keyless)")]
    for s in result.subjects:
        label = s.platform or s.kind
        out.append(f"{'PASS' if s.passed else 'FAIL'}  {label}  {s.digest}")
        if s.passed:
            via = " (signature on the index)" if s.inherited_from_index else ""
            out += [f"      signed{via}: {loc}" for loc in s.satisfied_by]
            for ev in s.evidence:
                if ev.location in s.satisfied_by and ev.trust.startswith("signed:keyless="):
                    issuer = f" (issuer {ev.signer_issuer})" if ev.signer_issuer else ""
                    out.append(f"      signer: {ev.signer}{issuer}")
                    out += [f"      {k}: {v}" for k, v in ev.signer_claims.items()]
            # a pass does not hide a bad signature next to the good one (tampering is worth a look)
            for ev in s.evidence:
                bad = [ev.trust] if ev.trust == "signature-invalid" else []
                bad += ["subject mismatch"] if ev.subject_check == "mismatch" else []
                if bad:
                    out.append(f"      warning: {ev.kind} at {ev.location}: {', '.join(bad)}")
        else:
            out += [f"      {r}" for r in s.reasons]
    # e.g. "not a registry: only attestations inside the index were looked for" explains a FAIL
    out += [f"note: {note}" for note in result.notes]
    out.append("verified" if result.passed else "verification FAILED")
    return [printable(line, keep_tabs=True) for line in out]


# -- commands ---------------------------------------------------------------------------------------


@click.command("attestations")
@click.argument("ref")
@public_key_option("Public key (PEM) to check signatures with; repeatable.")
@platform_option
@click.option(
    "--artifact-type", metavar="MEDIATYPE", help="Only referrers of this artifactType (the referrers API filter)."
)
@_keyless_options
@_output_option
@registry_options
def attestations_cmd(
    ref: str,
    keys: tuple[Path, ...],
    platforms: tuple[str, ...],
    artifact_type: str | None,
    keyless: KeylessPolicy | None,
    output: str,
    insecure: bool,
    ca_file: Path | None,
    username: str | None,
    password_stdin: bool,
) -> None:
    """List the supply-chain evidence attached to REF, per subject (index, each platform).

    Finds BuildKit attestations inside the index, cosign .sig/.att/.sbom tags, OCI referrers (or the
    sha256-<hex> tag fallback) and Sigstore bundles, and labels each: unsigned, signed:key=<fingerprint>,
    signed-unverified, keyless-unverified, signature-invalid, unreadable.
    """
    from provenant.attest.cert_keys import load_keys
    from provenant.attest.result import list_attestations
    from provenant.session import Session

    policy = keyless
    public, key_notes = load_keys(keys, policy)
    with Session(build_registry_options(insecure, ca_file, username, password_stdin)) as session:
        result = list_attestations(
            session, ref, keys=public, platforms=parse_platforms(platforms), keyless=policy, artifact_type=artifact_type
        )
    result.notes.extend(key_notes)
    if output == "json":
        from provenant.jsontext import model_json

        click.echo(model_json(result, indent=2))
        return
    for line in render_attestations(result):
        click.echo(line)


@click.command("verify")
@click.argument("ref")
@public_key_option("Trusted public key (PEM); repeatable: any one of them may have signed.")
@platform_option
@click.option(
    "--type",
    "predicate_type",
    metavar="TYPE",
    help="Require a signed attestation of this predicate type (URI or shorthand).",
)
@_keyless_options
@_output_option
@registry_options
@click.pass_context
def verify_cmd(
    ctx: click.Context,
    ref: str,
    keys: tuple[Path, ...],
    platforms: tuple[str, ...],
    predicate_type: str | None,
    keyless: KeylessPolicy | None,
    output: str,
    insecure: bool,
    ca_file: Path | None,
    username: str | None,
    password_stdin: bool,
) -> None:
    """Check that every selected subject of REF is signed by one of the keys.

    Subjects are the index and each platform (or only the --platform ones). A subject passes with a
    valid cosign signature, signed attestation or Sigstore bundle that names its digest; a platform
    also passes when the index is signed. Exit 0 when all pass, 1 when any fails, 2 on errors.
    """
    from provenant.attest.cert_keys import load_keys
    from provenant.attest.constants import resolve_predicate_type
    from provenant.attest.verify import verify_image
    from provenant.session import Session

    policy = keyless
    public, key_notes = load_keys(keys, policy)
    ptype = resolve_predicate_type(predicate_type) if predicate_type else None
    with Session(build_registry_options(insecure, ca_file, username, password_stdin)) as session:
        result = verify_image(
            session, ref, public, platforms=parse_platforms(platforms), keyless=policy, predicate_type=ptype
        )
    result.notes.extend(key_notes)
    if output == "json":
        from provenant.jsontext import model_json

        click.echo(model_json(result, indent=2))
    else:
        for line in render_verify(result):
            click.echo(line)
    if not result.passed:
        ctx.exit(1)


#: ``sign`` and ``attest`` act on the image itself unless told otherwise, unlike the reading commands.
_subject_platform_option = click.option(
    "--platform",
    "platforms",
    multiple=True,
    metavar="OS/ARCH[/VARIANT]",
    help="Sign these platform manifests (repeatable or comma-separated) instead of the index; "
    "default: the image REF names (the index of a multi-arch tag).",
)


@click.command("attest")
@click.argument("ref")
@click.option(
    "--predicate",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Predicate JSON file.",
)
@click.option(
    "--type",
    "predicate_type",
    default="custom",
    show_default=True,
    metavar="TYPE",
    help="slsaprovenance, slsaprovenance1, spdx, cyclonedx, vuln, openvex, link, custom, or a predicate type URI.",
)
@click.option(
    "--key", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Private key (PEM)."
)
@click.option(
    "--mode",
    type=click.Choice(["tag", "referrers", "both"]),
    default="tag",
    show_default=True,
    help="cosign .att tag, OCI referrer Sigstore bundle, or both.",
)
@_subject_platform_option
@_output_option
@registry_options
def attest_cmd(
    ref: str,
    predicate: Path,
    predicate_type: str,
    key: Path,
    mode: str,
    platforms: tuple[str, ...],
    output: str,
    insecure: bool,
    ca_file: Path | None,
    username: str | None,
    password_stdin: bool,
) -> None:
    """Sign a predicate as an in-toto statement about REF (or each --platform) and push it.

    The passphrase of an encrypted key comes from $PROVENANT_KEY_PASSWORD or a prompt.
    """
    from provenant.attest.push import attest_image
    from provenant.errors import UsageError
    from provenant.session import Session

    try:
        obj = load_json(predicate.read_bytes(), f"predicate {predicate}")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read predicate {predicate}: {exc}") from None
    if not isinstance(obj, dict):
        raise UsageError(f"predicate {predicate} must be a JSON object, got {type(obj).__name__}")
    private = load_signing_key(key)
    with Session(build_registry_options(insecure, ca_file, username, password_stdin)) as session:
        result = attest_image(
            session, ref, obj, predicate_type, private, cast("Mode", mode), parse_platforms(platforms)
        )
    if output == "json":
        from provenant.jsontext import model_json

        click.echo(model_json(result, indent=2))
        return
    for item in result.items:
        where = item.location if item.mode == "tag" else f"referrer {item.location}"
        extra = f" (referrers tag {item.referrers_tag})" if item.referrers_tag else ""
        click.echo(printable(f"attested {item.platform or item.subject}: {result.predicate_type} -> {where}{extra}"))


@click.command("sign")
@click.argument("ref")
@click.option(
    "--key", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Private key (PEM)."
)
@_subject_platform_option
@click.option(
    "--annotation",
    "-a",
    "annotations",
    multiple=True,
    metavar="KEY=VALUE",
    help="Add to the signed payload's 'optional' claims.",
)
@_output_option
@registry_options
def sign_cmd(
    ref: str,
    key: Path,
    platforms: tuple[str, ...],
    annotations: tuple[str, ...],
    output: str,
    insecure: bool,
    ca_file: Path | None,
    username: str | None,
    password_stdin: bool,
) -> None:
    """Push a cosign-compatible signature of REF (or of each --platform) to its sha256-<hex>.sig tag."""
    from provenant.attest.push import sign_image
    from provenant.errors import UsageError
    from provenant.session import Session

    claims: dict[str, str] = {}
    for a in annotations:
        k, eq, v = a.partition("=")
        if not eq or not k:
            raise UsageError(f"--annotation {a!r}: expected KEY=VALUE")
        claims[k] = v
    private = load_signing_key(key)
    with Session(build_registry_options(insecure, ca_file, username, password_stdin)) as session:
        result = sign_image(session, ref, private, platforms=parse_platforms(platforms), annotations=claims or None)
    if output == "json":
        from provenant.jsontext import model_json

        click.echo(model_json(result, indent=2))
        return
    for item in result.items:
        click.echo(
            printable(
                f"signed {item.platform or item.subject} -> {item.location} ({item.layers_in_manifest} signature(s))"
            )
        )


@click.command("keygen")
@click.option(
    "--output-key-prefix",
    "prefix",
    default="provenant",
    show_default=True,
    metavar="PREFIX",
    help="Write PREFIX.key and PREFIX.pub.",
)
@click.option(
    "--format",
    "key_format",
    type=click.Choice(["pkcs8", "cosign"]),
    default="pkcs8",
    show_default=True,
    help="Private key format: encrypted PKCS#8 PEM, or cosign's ENCRYPTED SIGSTORE PRIVATE KEY (cosign reads it).",
)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
def keygen_cmd(prefix: str, key_format: str, force: bool) -> None:
    """Generate an ECDSA P-256 key pair (the private key is encrypted with a passphrase).

    The passphrase comes from $PROVENANT_KEY_PASSWORD (or $COSIGN_PASSWORD) or a prompt (asked twice).
    """
    from provenant.attest.keys import generate_keypair
    from provenant.errors import UsageError

    key_path, pub_path = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    for p in (key_path, pub_path):
        if p.exists() and not force:
            raise UsageError(f"{p} already exists", hint="pass --force to overwrite it, or another --output-key-prefix")
    pair = generate_keypair(key_passphrase(confirm=True, what="the new private key"), key_format)
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pair.private_pem)
        os.chmod(key_path, 0o600)
        pub_path.write_bytes(pair.public_pem)
    except OSError as exc:
        raise UsageError(f"cannot write the key pair: {exc.strerror} ({exc.filename})") from None
    click.echo(f"wrote {key_path} (private, encrypted, {key_format}) and {pub_path}; fingerprint {pair.fingerprint}")
