"""Apply a policy to gathered evidence: run the enabled checks, then actions, missing-data rules and waivers.

``today`` is a parameter (the CLI passes the current UTC date) so waiver expiry is testable without a clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from provenant.attest.identity import IdentityMatcher
from provenant.attest.keyless import KeylessPolicy
from provenant.attest.keys import PublicKey
from provenant.cache import LayerCache
from provenant.errors import ProvenantError, UsageError
from provenant.evidence import Evidence, gather
from provenant.oci.platform import PlatformSpec
from provenant.policy.checks import BY_ID, CHECKS, Check
from provenant.policy.dockerfile import Dockerfile
from provenant.policy.match import matches
from provenant.policy.model import (
    IMAGE_SUBJECT,
    CheckInfo,
    Finding,
    Outcome,
    PolicyReport,
    PolicyResult,
    UnusedWaiver,
    WaiverNote,
    exit_code_of,
    verdict_of,
)
from provenant.policy.schema import Action, Checks, ImagePolicy, PolicyError, Waiver
from provenant.session import Session


def rule_for(policy: ImagePolicy, check: Check) -> tuple[Action, Action]:
    """(action, onMissingData): the rule for the check id, else its family section, else the defaults."""
    rule = policy.rules.get(check.id)
    family = policy.family(check.family)
    action = (rule.action if rule else None) or (family.action if family else None) or policy.defaults.action
    missing = (
        (rule.on_missing_data if rule else None)
        or (family.on_missing_data if family else None)
        or policy.defaults.on_missing_data
    )
    return action, missing


def _info(policy: ImagePolicy, check: Check) -> CheckInfo:
    action, missing = rule_for(policy, check)
    return CheckInfo(
        id=check.id,
        title=check.title,
        description=check.description,
        help=check.help,
        evidence=check.evidence,
        action=action,
        on_missing_data=missing,
    )


def _apply(check: Check, where: tuple[str, str | None], o: Outcome, action: Action, missing: Action) -> Finding:
    subject, digest = where
    base = Finding(
        check=check.id,
        subject=subject,
        digest=digest,
        status="pass",
        effect="none",
        message=o.message,
        evidence=o.evidence,
        fix=o.fix,
        location=o.location,
        key=o.key,
    )
    if o.status == "fail":
        if action == "deny":
            base.status, base.effect = "fail", "deny"
        elif action == "warn":
            base.status, base.effect = "warn", "warn"
        else:
            base.status = "off"  # pragma: no mutate (unreachable: a check that is off never runs)
    elif o.status == "no-data":
        base.status = "no-data"
        base.effect = "deny" if missing == "deny" else "warn" if missing == "warn" else "none"
    return base


def _waiver_image_matches(w: Waiver, ev: Evidence) -> bool:
    # A local layout or archive has no name to match: only a waiver for every image ("**") applies.
    return matches(w.images, ev.reference) if ev.reference is not None else w.images == "**"


def _waiver_applies(w: Waiver, ev: Evidence, f: Finding) -> bool:
    if w.check != f.check or not _waiver_image_matches(w, ev):
        return False
    if w.platforms:
        # Only platform findings: a waiver for some platforms must not waive a finding about the whole image.
        return f.subject != IMAGE_SUBJECT and f.subject in {str(PlatformSpec.parse(p)) for p in w.platforms}
    return True


def _waive(policy: ImagePolicy, ev: Evidence, f: Finding, today: dt.date, *, warnings: list[str]) -> None:
    if f.effect == "none":
        return
    matching = [w for w in policy.waivers if _waiver_applies(w, ev, f)]
    # An unexpired waiver wins over an expired one for the same finding (a renewed waiver added below it).
    active = next((w for w in matching if today <= w.expires), None)
    if active is not None:
        f.waiver = WaiverNote(reason=active.reason, expires=active.expires, expired=False, waived_effect=f.effect)
        f.status, f.effect = "waived", "none"
        return
    if matching:
        w = max(matching, key=lambda m: m.expires)
        f.waiver = WaiverNote(reason=w.reason, expires=w.expires, expired=True, waived_effect=f.effect)
        note = f"the waiver expired on {w.expires.isoformat()} ({w.reason}); the finding is active again"
        f.message = f"{f.message} [{note}]"
        warnings.append(f"{f.check} on {f.subject}: {note}")


def _why_unmatched(w: Waiver, ev: Evidence, actions: dict[str, Action]) -> str:
    if w.check not in actions:
        return f"{w.check} does not run with this policy"
    if actions[w.check] == "off":
        return f"{w.check} is off in this policy"
    if not _waiver_image_matches(w, ev):
        return f"this image does not match {w.images}"
    if w.platforms:
        if BY_ID[w.check].scope == "image":
            return f"{w.check} is about the image as a whole, which a waiver with platforms never waives"
        if not {str(PlatformSpec.parse(p)) for p in w.platforms} & {p.platform for p in ev.platforms}:
            return "none of its platforms was evaluated"
    return f"no {w.check} finding denied or warned"


def _unused_waivers(
    ev: Evidence,
    policy: ImagePolicy,
    today: dt.date,
    *,
    actions: dict[str, Action],
    findings: list[Finding],
    used_entries: set[tuple[str, str, int]],
) -> list[UnusedWaiver]:
    """Every waiver, and every entry of an enabled check's ignore/allow lists, that matched nothing in this run."""
    # A waiver is used when it applies to a finding that denied or warned (those carry a waiver note):
    # the one applied, and any expired one a renewal sits next to.
    waivable = [f for f in findings if f.waiver is not None]
    out = []
    for i, w in enumerate(policy.waivers):
        if any(_waiver_applies(w, ev, f) for f in waivable):
            continue  # it matched a finding: applied, or (expired) reported by its expiry warning
        where = f" on {', '.join(w.platforms)}" if w.platforms else ""
        expired = " (expired)" if today > w.expires else ""
        entry = f"{w.check} for {w.images}{where}, until {w.expires.isoformat()}{expired}: {w.reason}"
        out.append(
            UnusedWaiver(location=f"waivers[{i}]", check=w.check, entry=entry, detail=_why_unmatched(w, ev, actions))
        )
    for check in CHECKS:
        section = policy.family(check.family)
        if section is None or check.id not in actions:
            continue
        family = Checks.model_fields[check.family].alias or check.family
        for field in check.exceptions:
            alias = type(section).model_fields[field].alias or field
            for i, value in enumerate(getattr(section, field)):
                if (check.family, field, i) in used_entries:
                    continue
                off = actions[check.id] == "off"
                detail = f"{check.id} is off in this policy" if off else f"{check.id} found nothing it matches"
                out.append(
                    UnusedWaiver(
                        location=f"checks.{family}.{alias}[{i}]", check=check.id, entry=str(value), detail=detail
                    )
                )
    return out


def evaluate(
    ev: Evidence,
    policy: ImagePolicy,
    *,
    today: dt.date,
    policy_path: str = "",
    fail_on_warn: bool = False,
) -> PolicyReport:
    """Run every enabled check of ``policy`` on ``ev`` and build the report."""
    if ev.reference is not None and not any(matches(g, ev.reference) for g in policy.images):
        raise UsageError(
            f"the policy{' ' + policy_path if policy_path else ''} applies to images matching "
            f"{', '.join(policy.images)}, not {ev.reference}",
            hint="check the policy's images: list, or pick the policy meant for this image",
        )
    warnings: list[str] = []
    used_entries: set[tuple[str, str, int]] = set()
    infos: list[CheckInfo] = []
    subjects: dict[str, list[Finding]] = {IMAGE_SUBJECT: []}
    digests: dict[str, str | None] = {IMAGE_SUBJECT: ev.digest}
    for p in ev.platforms:
        subjects[p.platform] = []
        digests[p.platform] = p.digest
    for check in CHECKS:
        if not check.enabled(policy):
            continue
        info = _info(policy, check)
        infos.append(info)
        if info.action == "off":
            where = [IMAGE_SUBJECT] if check.scope == "image" else [p.platform for p in ev.platforms]
            for s in where:
                subjects[s].append(
                    Finding(
                        check=check.id,
                        subject=s,
                        digest=digests[s],
                        status="off",
                        effect="none",
                        message="the check is off in this policy",
                    )
                )
            continue
        for subject, digest, outcome in check.run(ev, policy):
            used_entries.update((check.family, field, i) for field, i in outcome.matched)
            finding = _apply(check, (subject, digest), outcome, info.action, info.on_missing_data)
            _waive(policy, ev, finding, today, warnings=warnings)
            subjects[subject].append(finding)
    results = []
    for subject, findings in subjects.items():
        if subject == IMAGE_SUBJECT and not findings:
            continue
        verdict = verdict_of(findings)
        results.append(
            PolicyResult(
                subject=subject,
                digest=digests[subject],
                findings=findings,
                verdict=verdict,
                exit_code=exit_code_of(verdict, fail_on_warn=fail_on_warn),
            )
        )
    all_findings = [f for r in results for f in r.findings]
    verdict = verdict_of(all_findings)
    return PolicyReport(
        reference=ev.target,
        source=ev.source,
        digest=ev.digest,
        policy=policy_path,
        policy_name=policy.metadata.name,
        evaluated_on=today,
        fail_on_warn=fail_on_warn,
        checks=infos,
        results=results,
        warnings=warnings,
        unused_waivers=_unused_waivers(
            ev,
            policy,
            today,
            actions={i.id: i.action for i in infos},
            findings=all_findings,
            used_entries=used_entries,
        ),
        notes=list(ev.notes),
        verdict=verdict,
        exit_code=exit_code_of(verdict, fail_on_warn=fail_on_warn),
    )


def policy_keys(policy: ImagePolicy, policy_path: Path | None) -> list[PublicKey]:
    """The public keys the policy names (paths relative to the policy file)."""
    from provenant.attest.keys import load_public_key

    cfg = policy.checks.provenance
    if cfg is None:
        return []
    base = policy_path.parent if policy_path is not None else Path()
    keys = []
    for i, k in enumerate(cfg.keys):
        try:
            keys.append(load_public_key(k if k.is_absolute() else base / k))
        except ProvenantError as exc:
            # Name the policy field: the path is relative to the policy file, not to where CI runs.
            where = f"{policy_path}: " if policy_path is not None else ""
            raise PolicyError(f"{where}checks.provenance.keys[{i}]: {exc.message}", hint=exc.hint) from None
    return keys


def policy_keyless(
    policy: ImagePolicy,
    policy_path: Path | None,
    *,
    trusted_root: Path | None = None,
    signer: IdentityMatcher | None = None,
) -> KeylessPolicy | None:
    """The keyless signers the policy trusts, with its trusted root (relative to the policy file).

    ``signer`` (the command line's ``--certificate-*`` flags) is one more trusted signer; ``trusted_root``
    (``--trusted-root``) replaces the policy's ``trustedRoot``.
    """
    from provenant.attest.identity import Signers
    from provenant.attest.keyless import KeylessPolicy

    cfg = policy.checks.provenance
    matchers = [s.matcher() for s in (cfg.keyless if cfg is not None else [])]
    if signer is not None:
        matchers.append(signer)
    root, field = trusted_root, "--trusted-root"
    if root is None and cfg is not None and cfg.trusted_root is not None:
        base = policy_path.parent if policy_path is not None else Path()
        root = cfg.trusted_root if cfg.trusted_root.is_absolute() else base / cfg.trusted_root
        where = f"{policy_path}: " if policy_path is not None else ""
        field = f"{where}checks.provenance.trustedRoot"
    if not matchers:
        if trusted_root is not None:
            raise UsageError(
                "--trusted-root needs --certificate-identity (or -regexp) and --certificate-oidc-issuer (or -regexp),"
                " or keyless signers in the policy (checks.provenance.keyless)"
            )
        return None
    if root is None:
        raise UsageError(
            "--certificate-identity/--certificate-oidc-issuer need --trusted-root (or checks.provenance.trustedRoot)"
        )
    first = matchers[0]
    # Always provenant's matcher: sigstore-python's exact Identity cannot say "any one of these signers".
    keyless = KeylessPolicy(root, first.identity.text, first.issuer.text, Signers(tuple(matchers)))
    try:
        _ = keyless.trust  # a trusted root that does not load is an error now, naming where it came from
    except ProvenantError as exc:
        error = PolicyError if field != "--trusted-root" else UsageError
        raise error(f"{field}: {exc.message}", hint=exc.hint) from None
    return keyless


def check_image(
    session: Session,
    target: str,
    policy: ImagePolicy,
    *,
    policy_path: Path | None = None,
    dockerfile: Dockerfile | None = None,
    platforms: list[PlatformSpec] | None = None,
    keys: Sequence[PublicKey] = (),
    trusted_root: Path | None = None,
    signer: IdentityMatcher | None = None,
    cache: LayerCache | None = None,
    today: dt.date | None = None,
    fail_on_warn: bool = False,
    workers: int = 4,
) -> PolicyReport:
    """Library entry point of ``provenant policy check``: gather the evidence once, then evaluate.

    ``keys`` and ``signer`` add to the policy's trusted keys and keyless signers; ``trusted_root`` replaces
    the policy's ``trustedRoot`` (see :func:`policy_keyless`)."""
    all_keys = [*keys, *policy_keys(policy, policy_path)]
    keyless = policy_keyless(policy, policy_path, trusted_root=trusted_root, signer=signer)
    ev = gather(
        session,
        target,
        platforms=platforms,
        cache=cache,
        keys=all_keys,
        keyless=keyless,
        dockerfile=dockerfile,
        workers=workers,
    )
    return evaluate(
        ev,
        policy,
        today=today or dt.datetime.now(dt.UTC).date(),
        policy_path=str(policy_path) if policy_path else "",
        fail_on_warn=fail_on_warn,
    )
