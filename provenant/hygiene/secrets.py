"""Secrets in the config env, in history ``created_by`` lines and in every layer's files."""

from __future__ import annotations

from collections.abc import Sequence

from provenant.catalog.secretrules import is_literal_secret, is_secret_name, secret_assignments, token_matches
from provenant.hygiene.models import SecretFinding
from provenant.layers.scan import LayerScan
from provenant.layers.view import ImageView
from provenant.oci.models import HistoryEntry

SECRETS_CATALOGER = "secrets"


def env_secrets(env: Sequence[str] | None) -> list[SecretFinding]:
    """``NAME=value`` config env lines: a known token shape in the value, else a secret-looking name
    with a literal value (``DB_PASSWORD_FILE``, ``GPG_KEY`` and ``$VAR`` references are not secrets)."""
    out = []
    for line in env or []:
        name, _, value = line.partition("=")
        tokens = token_matches(value)
        for m in tokens:
            out.append(SecretFinding(rule=m.rule, where="env", detail=f"env {name}: {m.detail}"))
        if not tokens and is_secret_name(name) and is_literal_secret(value):
            out.append(SecretFinding(rule="secret-env", where="env", detail=f"env {name}=<redacted>"))
    return out


def history_secrets(history: Sequence[HistoryEntry]) -> list[SecretFinding]:
    """Token shapes and secret-named ``NAME=value`` assignments (``ENV``, ``ARG``, BuildKit's
    ``RUN |1 NAME=value ...`` build args, inline ``NAME=value cmd``) in ``created_by`` lines.
    ``layer_index`` is the layer the line made (None for empty-layer lines such as ENV)."""
    out = []
    layer = 0
    for h in history:
        index = None if h.empty_layer else layer
        if not h.empty_layer:
            layer += 1
        text = h.created_by or ""
        tokens = token_matches(text)
        for m in tokens:
            out.append(SecretFinding(rule=m.rule, where="history", layer_index=index, detail=f"history: {m.detail}"))
        for m in secret_assignments(text, tokens):
            detail = f"history: {m.detail}"
            out.append(SecretFinding(rule="secret-in-history", where="history", layer_index=index, detail=detail))
    return out


def file_secrets(scans: Sequence[LayerScan], view: ImageView) -> list[SecretFinding]:
    """Findings of the secrets cataloger in EVERY layer: a copy deleted or replaced by a later layer
    is still in the blob a pull downloads, so it is reported with ``deleted=True``."""
    out = []
    for i, scan in enumerate(scans):
        for captured in scan.captured:
            if captured.cataloger != SECRETS_CATALOGER:
                continue
            visible = view.entries.get(captured.path)
            deleted = visible is None or visible.layer_index != i
            for f in captured.parsed.facts.get("findings", []):
                out.append(
                    SecretFinding(
                        rule=str(f["rule"]),
                        where="file",
                        path="/" + captured.path,
                        layer_index=i,
                        deleted=deleted,
                        detail=str(f["detail"]),
                    )
                )
    return out
