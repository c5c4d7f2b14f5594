"""Built-in policies by name, one copy of their files, and ``policy init``'s starter file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from provenant.cli.main import cli
from provenant.policy import builtin
from provenant.policy.schema import load_policy

ROOT = Path(__file__).resolve().parents[2]


def test_repository_policies_are_the_packaged_files() -> None:
    # One source of truth: the repository's policies/ is a link to the package data, not a second copy.
    repo = ROOT / "policies"
    assert repo.is_symlink()
    assert repo.resolve() == (ROOT / "provenant" / "policies").resolve()
    assert sorted(p.stem for p in repo.glob("*.yaml")) == sorted(builtin.NAMES)
    for name in builtin.NAMES:
        assert builtin.builtin_path(name).resolve() == (repo / f"{name}.yaml").resolve()
        assert load_policy(builtin.builtin_path(name)).metadata.name == name


def test_resolve_names_and_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "strict").write_text("not yaml: [")
    assert builtin.resolve("strict") == builtin.builtin_path("strict")  # a bare name is the built-in
    assert builtin.resolve("./strict") == Path("./strict")  # a path is a path
    assert builtin.resolve("team.yaml") == Path("team.yaml")
    with pytest.raises(KeyError):
        builtin.builtin_path("lenient")


def test_validate_by_name() -> None:
    res = CliRunner().invoke(cli, ["policy", "validate", "default", "strict"])
    assert res.exit_code == 0, res.output
    assert res.stdout.count(": valid (") == 2


@pytest.mark.parametrize("base", ["default", "strict"])
def test_init_writes_a_valid_commented_starter(tmp_path: Path, base: str) -> None:
    dest = tmp_path / "policy.yaml"
    res = CliRunner().invoke(cli, ["policy", "init", str(dest), "--from", base])
    assert res.exit_code == 0, res.output
    text = dest.read_text()
    assert text.startswith("# Starter policy written by `provenant policy init`")
    assert "policies/" not in text.splitlines()[0]
    # Commented: every line that sets a key explains it.
    keyed = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert keyed and all("#" in ln for ln in keyed)
    assert load_policy(dest).model_dump() == load_policy(builtin.builtin_path(base)).model_dump()
    valid = CliRunner().invoke(cli, ["policy", "validate", str(dest)])
    assert valid.exit_code == 0, valid.output


def test_init_keeps_an_existing_file(tmp_path: Path) -> None:
    dest = tmp_path / "policy.yaml"
    dest.write_text("mine\n")
    res = CliRunner().invoke(cli, ["policy", "init", str(dest)])
    assert res.exit_code == 2
    assert "exists; pass --force" in res.stderr
    assert dest.read_text() == "mine\n"
    forced = CliRunner().invoke(cli, ["policy", "init", str(dest), "--force"])
    assert forced.exit_code == 0 and load_policy(dest).metadata.name == "default"
