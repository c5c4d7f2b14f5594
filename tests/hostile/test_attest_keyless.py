"""Hostile inputs of keyless verification: the annotations of a cosign layer, and the user's regexps.

A copy of a real `cosign save` layout gets one hostile annotation (the layer is attacker-controlled until
its SET and chain verify); the regexps come from the command line (copied from READMEs and CI configs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cosigndata import DATA, GENERATOR, GITHUB_ISSUER, PROD_ROOT, V120, atts_manifest, copy_layout, rewrite_atts
from tests.hostile.harness import Sandbox, run_cli

CHAIN = "dev.sigstore.cosign/chain"
BUNDLE = "dev.sigstore.cosign/bundle"


def _layout(sandbox: Sandbox, annotation: str, value: str) -> Path:
    layout = copy_layout(V120, sandbox.work)

    def change(m: dict[str, Any], _: Path) -> None:
        m["layers"][0]["annotations"][annotation] = value

    rewrite_atts(layout, change)
    return layout


def _verify(sandbox: Sandbox, identity: list[str]) -> Any:
    args = ["verify", f"oci:{V120}", "--trusted-root", str(PROD_ROOT), *identity]
    return run_cli([*args, "--certificate-oidc-issuer", GITHUB_ISSUER], sandbox)


def test_huge_chain_annotation(sandbox: Sandbox) -> None:
    # 3000 copies of the real intermediate (about 2.7 MB, under the manifest limit): refused by count
    one = atts_manifest(DATA / V120)["layers"][0]["annotations"][CHAIN].split("-----END CERTIFICATE-----")[0]
    _layout(sandbox, CHAIN, (one + "-----END CERTIFICATE-----\n") * 3000)
    out = _verify(sandbox, ["--certificate-identity-regexp", GENERATOR])
    out.assert_bounded(exit_code=1)
    assert "holds more than 10 certificates" in out.stdout, out.summary()


def test_deeply_nested_bundle_annotation(sandbox: Sandbox) -> None:
    _layout(sandbox, BUNDLE, "[" * 200_000)
    out = _verify(sandbox, ["--certificate-identity-regexp", GENERATOR])
    out.assert_bounded(exit_code=1)
    assert "over the json-depth limit" in out.stdout, out.summary()


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|aa)*b$", "^(h*)*y", "(.*a){20}", ".*.*.*.*.*.*#"])
def test_catastrophic_regexp_runs_in_linear_time(sandbox: Sandbox, pattern: str) -> None:
    # exponential or high-polynomial for a backtracking engine; the NFA answers in one pass
    copy_layout(V120, sandbox.work)
    out = _verify(sandbox, ["--certificate-identity-regexp", pattern])
    out.assert_bounded(exit_code=1)
    assert "identity mismatch" in out.stdout, out.summary()


def test_regexp_that_needs_backtracking_is_refused(sandbox: Sandbox) -> None:
    copy_layout(V120, sandbox.work)
    out = _verify(sandbox, ["--certificate-identity-regexp", "(a)\\1"])
    out.assert_bounded(exit_code=2, error="--certificate-identity-regexp: groupref is not supported")


def test_regexp_that_expands_beyond_the_state_bound_is_refused(sandbox: Sandbox) -> None:
    copy_layout(V120, sandbox.work)
    out = _verify(sandbox, ["--certificate-identity-regexp", "(a{1000}){1000}"])
    out.assert_bounded(exit_code=2, error="more than 4000 states")


def test_huge_regexp_is_refused(sandbox: Sandbox) -> None:
    copy_layout(V120, sandbox.work)
    out = _verify(sandbox, ["--certificate-identity-regexp", "a" * 100_000])
    out.assert_bounded(exit_code=2, error="over 1024")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # found by fuzzing (scripts/fuzz_catalogers.py @cosign): each ended `verify` in an internal error
        (lambda b: b["Payload"].__setitem__("integratedTime", 10**40), "integratedTime 10000000000000000000 is after"),
        (lambda b: b["Payload"].__setitem__("logID", "\udcff"), "body or logID holds characters other than ASCII"),
        (lambda b: b.__setitem__("SignedEntryTimestamp", "\u00e9"), "SignedEntryTimestamp is not base64"),
    ],
    ids=["integrated-time-past-9999", "lone-surrogate-log-id", "set-outside-ascii"],
)
def test_bundle_annotation_values_no_log_could_have_signed(sandbox: Sandbox, change: Any, reason: str) -> None:
    import json

    bundle = json.loads(atts_manifest(DATA / V120)["layers"][0]["annotations"][BUNDLE])
    change(bundle)
    _layout(sandbox, BUNDLE, json.dumps(bundle))  # a lone surrogate is written as the JSON escape "\udcff"
    out = _verify(sandbox, ["--certificate-identity-regexp", GENERATOR])
    out.assert_bounded(exit_code=1)
    assert reason in out.stdout, out.summary()
