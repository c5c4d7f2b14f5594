"""No secrets shipped: in the config env, in history lines, or in files of any layer (deleted ones too)."""

from __future__ import annotations

import fnmatch

from provenant.evidence import Evidence, PlatformEvidence
from provenant.hygiene import SecretFinding
from provenant.policy.checks.base import Check, PlatformCheck, failed, passed
from provenant.policy.model import Outcome
from provenant.policy.schema import ImagePolicy


def _abs(path: str) -> str:
    """Image paths compared with one leading slash, however the policy or the scan wrote them."""
    return "/" + path.lstrip("/")


def _path_matches(s: SecretFinding, pattern: str) -> bool:
    return s.path is not None and fnmatch.fnmatchcase(_abs(s.path), _abs(pattern))


def describe(s: SecretFinding) -> str:
    """One line per secret, never the value (``detail`` is redacted by the hygiene scan)."""
    if s.where == "file":
        deleted = ", deleted by a later layer but still shipped" if s.deleted else ""
        return f"{s.rule}: file {s.path} (layer {s.layer_index}{deleted}): {s.detail}"
    if s.where == "history":
        where = f"layer {s.layer_index}" if s.layer_index is not None else "a step without a layer"
        return f"{s.rule}: history of {where}: {s.detail}"
    return f"{s.rule}: env: {s.detail}"


class NoSecrets(PlatformCheck):
    id = "secrets.none"
    family = "secrets"
    title = "No secrets in the image"
    description = (
        "No secret-looking env variables or values, no secrets in history created_by lines, and no private "
        "keys, .env files, .npmrc/.pypirc tokens or cloud credentials in the files of ANY layer: a file "
        "deleted by a later layer is still shipped in the layer that added it."
    )
    help = (
        "Rotate the secret, then rebuild without it in any layer: use build secrets (RUN --mount=type=secret) "
        "instead of ENV/ARG/COPY; deleting a file in a later layer does not remove it from the image."
    )
    evidence = "config env, history created_by, files of every layer (redacted findings)"
    exceptions = ("ignore_rules", "ignore_paths")

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        cfg = policy.checks.secrets
        assert cfg is not None
        secrets = p.hygiene().secrets
        found = [
            s
            for s in secrets
            if s.rule not in cfg.ignore_rules and not any(_path_matches(s, g) for g in cfg.ignore_paths)
        ]
        if not found:
            outcome = passed("no secrets found in env, history or any layer's files")
        else:
            rules = sorted({s.rule for s in found})
            deleted = sum(1 for s in found if s.deleted)
            extra = f" ({deleted} in files deleted later, still shipped)" if deleted else ""
            outcome = failed(
                f"{len(found)} secret(s) found{extra}: {', '.join(rules)}",
                fix=self.help,
                secrets=[describe(s) for s in found],
            )
        outcome.matched = [
            ("ignore_rules", i) for i, r in enumerate(cfg.ignore_rules) if any(s.rule == r for s in secrets)
        ]
        outcome.matched += [
            ("ignore_paths", i) for i, g in enumerate(cfg.ignore_paths) if any(_path_matches(s, g) for s in secrets)
        ]
        return [outcome]


CHECKS: list[Check] = [NoSecrets()]
