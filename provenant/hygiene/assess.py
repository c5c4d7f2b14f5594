"""``assess``: the hygiene evidence of one analysed platform image (a pure function of the analysis)."""

from __future__ import annotations

from provenant.hygiene.caches import cache_dirs
from provenant.hygiene.models import HygieneReport, SecretFinding
from provenant.hygiene.secrets import env_secrets, file_secrets, history_secrets
from provenant.hygiene.tooling import build_tooling
from provenant.hygiene.waste import wasted_files
from provenant.sbom.generate import ImageAnalysis

ROOT_NAMES = ("", "0", "root")


def runs_as_root(user: str | None) -> bool:
    """Whether a config ``User`` runs as root: unset, ``""``, ``0``, ``root``, or ``0``/``root`` with
    any group (``0:0``, ``root:staff``); the group alone never makes a process root."""
    name = (user or "").strip().split(":", 1)[0]
    return name in ROOT_NAMES


def _secret_order(f: SecretFinding) -> tuple[int, str, int, str, str]:
    order = {"env": 0, "history": 1, "file": 2}[f.where]
    return (order, f.path or "", -1 if f.layer_index is None else f.layer_index, f.rule, f.detail)


def assess(image: ImageAnalysis) -> HygieneReport:
    """Secrets (env, history, every layer's files), build tooling, caches, wasted bytes and sizes."""
    config = image.image.config
    view = image.view
    secrets = [
        *env_secrets(config.config.env),
        *history_secrets(config.history),
        *file_secrets(image.scans, view),
    ]
    wasted = wasted_files(image.scans, view)
    return HygieneReport(
        user=config.config.user,
        runs_as_root=runs_as_root(config.config.user),
        secrets=sorted(secrets, key=_secret_order),
        build_tooling=build_tooling(image.sbom.packages),
        caches=cache_dirs(view),
        wasted_bytes=sum(w.size for w in wasted),
        wasted_files=wasted,
        size=image.uncompressed_size,
        compressed_size=image.image.compressed_size,
    )
