"""No secrets shipped: in the config env, in history lines, or in files of any layer (deleted ones too)."""

from __future__ import annotations

import fnmatch

from provenant.hygiene import SecretFinding
from provenant.policy.checks.base import Check, PlatformCheck, failed, passed
from provenant.policy.evidence import Evidence, PlatformEvidence
from provenant.policy.model import Outcome
from provenant.policy.schema import ImagePolicy


def _abs(path: str) -> str:
    """Image paths compared with one leading slash, however the policy or the scan wrote them."""
    return "/" + path.lstrip("/")


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

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        cfg = policy.checks.secrets
        assert cfg is not None
        found = [
            s
            for s in p.hygiene().secrets
            if s.rule not in cfg.ignore_rules
            and not (s.path is not None and any(fnmatch.fnmatchcase(_abs(s.path), _abs(g)) for g in cfg.ignore_paths))
        ]
        if not found:
            return [passed("no secrets found in env, history or any layer's files")]
        rules = sorted({s.rule for s in found})
        deleted = sum(1 for s in found if s.deleted)
        extra = f" ({deleted} in files deleted later, still shipped)" if deleted else ""
        return [
            failed(
                f"{len(found)} secret(s) found{extra}: {', '.join(rules)}",
                fix=self.help,
                secrets=[describe(s) for s in found],
            )
        ]


CHECKS: list[Check] = [NoSecrets()]
