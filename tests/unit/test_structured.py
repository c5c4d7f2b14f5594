"""Untrusted JSON and YAML: nesting bounded before any recursive parser sees it; YAML aliases refused."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from provenant.errors import ManifestError
from provenant.limits import LimitExceededError, Limits
from provenant.oci.models import parse_config, parse_manifest
from provenant.structured import DepthError, json_depth, load_json, load_yaml

DEEP = 100_000


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b"{}", 1),
        (b"1", 0),
        (b'[{"a": [1, 2]}, []]', 3),
        (b'["[[[[", "{{{"]', 1),  # brackets inside strings do not count
        (b'["a\\"[[[", "b"]', 1),  # nor after an escaped quote
        (b'["\\\\", [[]]]', 3),  # an escaped backslash ends before the quote
        (b'["unterminated [[[[', 1),
    ],
)
def test_depth_counts_brackets_outside_strings(text: bytes, depth: int) -> None:
    assert json_depth(text) == depth


def test_deep_json_is_a_limit_error_not_recursion() -> None:
    with pytest.raises(DepthError) as info:
        load_json(b"[" * DEEP + b"]" * DEEP, "manifest x")
    assert "json-depth" in str(info.value) and "manifest x" in str(info.value)
    assert isinstance(info.value, LimitExceededError)


def test_depth_follows_the_limit() -> None:
    doc = b"[" * 10 + b"]" * 10
    assert load_json(doc, "x", Limits(json_depth=10)) == [[[[[[[[[[]]]]]]]]]]
    with pytest.raises(DepthError):
        load_json(doc, "x", Limits(json_depth=9))


def test_depth_scan_is_linear_on_escape_runs() -> None:
    # An unterminated string full of escaped quotes would make a naive "find the next string" regex quadratic.
    doc = b'["' + b'\\"' * 2_000_000 + b"[" * 300
    start = time.monotonic()
    json_depth(doc)
    assert time.monotonic() - start < 2


def test_manifest_and_config_parsers_use_the_bound() -> None:
    deep = b'{"schemaVersion": 2, "x": ' + b"[" * DEEP + b"]" * DEEP + b"}"
    with pytest.raises(LimitExceededError, match="json-depth"):
        parse_manifest(deep, "manifest sha256:x")
    with pytest.raises(LimitExceededError, match="json-depth"):
        parse_config(deep, "config sha256:x")
    with pytest.raises(ManifestError, match="not valid JSON"):
        parse_manifest(b"[1,", "manifest")  # invalid JSON keeps its own message


def test_attestation_payloads_use_the_bound() -> None:
    from provenant.attest.models import parse_statement

    with pytest.raises(LimitExceededError, match="json-depth"):
        parse_statement(b'{"_type": ' + b"[" * DEEP + b"]" * DEEP + b"}", "statement")


def test_deep_yaml_block_and_flow() -> None:
    flow = "a: " + "[" * DEEP
    block = "a:\n" + "".join("  " * i + "- \n" for i in range(1, 2000))
    for text in (flow, block):
        with pytest.raises(DepthError, match="json-depth"):
            load_yaml(text, "policy p")


def test_yaml_aliases_are_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    with pytest.raises(yaml.YAMLError, match="alias"):
        load_yaml(bomb, "policy p")


def test_yaml_plain_documents_load() -> None:
    assert load_yaml("a: [1, {b: c}]\nd: e\n", "p") == {"a": [1, {"b": "c"}], "d": "e"}
    assert json.loads("[1]") == load_yaml("[1]", "p")
