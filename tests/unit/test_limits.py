"""The Limits model: defaults, overrides from flags and environment, messages, the deadline, the CLI boundary."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from provenant import limits
from provenant.cli.main import cli
from provenant.errors import UsageError
from provenant.limits import GiB, KiB, LimitExceededError, Limits

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    limits.reset()
    yield
    limits.reset()


def test_sizes_accept_binary_and_decimal_units() -> None:
    got = Limits().with_overrides(
        [("layer-bytes", "2GiB"), ("manifest_bytes", "512 KiB"), ("page-bytes", "3MB"), ("token-bytes", "100")]
    )
    sizes = (got.layer_bytes, got.manifest_bytes, got.page_bytes, got.token_bytes)
    assert sizes == (2 * GiB, 512 * KiB, 3_000_000, 100)


def test_counts_refuse_units_and_times_take_seconds() -> None:
    with pytest.raises(UsageError, match="pages: '3MB' is not a whole number"):
        Limits().with_overrides([("pages", "3MB")])
    assert Limits().with_overrides([("timeout", "90s"), ("read-timeout", "2.5")]).read_timeout == 2.5
    with pytest.raises(UsageError, match="not a finite number"):
        Limits().with_overrides([("timeout", "inf")])


def test_unknown_names_and_out_of_range_values_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown limit 'layers'") as info:
        Limits().with_overrides([("layers", "1")])
    assert "layer-bytes" in info.value.diagnostics()
    with pytest.raises(UsageError, match="invalid limit value"):
        Limits().with_overrides([("pages", "0")])


def test_values_are_checked_and_typed_however_limits_are_made() -> None:
    """Made directly, by position, copied or unpickled (as a Dask worker gets them): the same checks."""
    import copy
    import pickle

    made = Limits(timeout=5, pages=3.0)  # type: ignore[arg-type]  # a whole float is taken as an int
    assert (made.timeout, type(made.timeout), made.pages, type(made.pages)) == (5.0, float, 3, int)
    assert Limits(1, 2).connect_timeout == 2.0 and Limits(1, 2).read_timeout == 30.0
    for value, why in [(0, "pages must be greater than 0"), (2.5, "whole number"), (True, "must be a number")]:
        with pytest.raises(ValueError, match=why):
            Limits(pages=value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="retries must be less than or equal to 100"):
        Limits(retries=101)
    with pytest.raises(TypeError, match="unexpected keyword argument 'layers'"):
        Limits(layers=1)  # type: ignore[call-arg]
    for again in (pickle.loads(pickle.dumps(made)), copy.copy(made), copy.deepcopy(made)):
        assert again == made and type(again) is Limits and type(again.pages) is int
    assert list(Limits.model_fields) == list(Limits._fields) and len(Limits.model_fields) == 25
    assert all(getattr(Limits(), name) == spec.default for name, spec in Limits.model_fields.items())
    with pytest.raises(AttributeError):
        made.pages = 7  # type: ignore[misc]


def test_environment_overrides_defaults() -> None:
    env = {"PROVENANT_LIMIT_LAYER_BYTES": "1GiB", "PROVENANT_TIMEOUT": "12", "UNRELATED": "x"}
    got = Limits.from_env(env)
    assert got.layer_bytes == GiB and got.timeout == 12.0
    assert got.pages == Limits().pages


def test_message_names_the_limit_its_value_and_how_to_raise_it() -> None:
    lim = Limits().with_overrides([("layer-bytes", "16MiB")])
    text = LimitExceededError("layer sha256:ab", "layer_bytes", limits=lim, got="more than 16 MiB").diagnostics()
    assert text == (
        "layer sha256:ab: over the layer-bytes limit of 16 MiB (more than 16 MiB) "
        "(raise it with --limit layer-bytes=N or PROVENANT_LIMIT_LAYER_BYTES)"
    )
    assert "--timeout SECONDS" in LimitExceededError("pull", "timeout", limits=lim).diagnostics()


def test_deadline_starts_on_activation_and_expires() -> None:
    assert limits.remaining() is None
    limits.activate(Limits(timeout=0.05))
    left = limits.remaining()
    assert left is not None and 0 < left <= 0.05
    limits.check_deadline("early")  # not yet
    time.sleep(0.06)
    assert limits.remaining() == 0.0
    with pytest.raises(LimitExceededError, match=r"late: over the timeout limit of 0\.05 s"):
        limits.check_deadline("late")
    limits.activate(Limits(timeout=0))
    assert limits.deadline() is None


def test_cli_flags_activate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Limits] = []
    monkeypatch.setattr("provenant.cli.deadline.arm", lambda seconds: None)
    original = limits.activate

    def recording(lim: Limits, **kw: Any) -> Limits:
        seen.append(lim)
        return original(lim, **kw)

    monkeypatch.setattr(limits, "activate", recording)
    result = CliRunner().invoke(cli, ["--timeout", "7", "--limit", "pages=3", "tags", "oci:/nonexistent"])
    assert result.exit_code == 2
    assert seen and seen[0].timeout == 7.0 and seen[0].pages == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "pages"], "--limit 'pages': expected NAME=VALUE"),
        (["--limit", "nope=1"], "unknown limit 'nope'"),
        (["--timeout", "-1"], "invalid limit value"),
    ],
)
def test_bad_limit_flags_are_one_line_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, [*args, "tags", "oci:/x"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("provenant: error: ") and message in lines[0]


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
        (MemoryError(), "out of memory"),
        (KeyError("boom"), "internal error: KeyError: 'boom'"),
    ],
)
def test_unexpected_failures_end_as_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, exc: BaseException, message: str
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr("provenant.tags.list_tags", explode)
    result = CliRunner().invoke(cli, ["tags", "127.0.0.1:1/x"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    debug = CliRunner().invoke(cli, ["--debug", "tags", "127.0.0.1:1/x"])
    assert debug.exception is exc  # --debug lets it through, traceback and all


def test_error_lines_are_sanitised(capsys: pytest.CaptureFixture[str]) -> None:
    from provenant.cli.main import fail

    with pytest.raises(SystemExit) as info:
        fail("registry said \x1b]0;owned\x07 and\nmore")
    assert info.value.code == 2
    assert capsys.readouterr().err == "provenant: error: registry said \\x1b]0;owned\\x07 and more\n"


def test_security_doc_lists_every_limit_with_its_default() -> None:
    text = DOC.read_text()
    for name in Limits.model_fields:
        row = re.search(rf"^\| `{limits.flag_name(name)}` \| ([^|]+) \|", text, re.M)
        assert row is not None, f"docs/security.md has no row for {name}"
        assert row.group(1).strip() == Limits().describe(name), name
