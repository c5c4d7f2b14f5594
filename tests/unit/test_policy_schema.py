"""Policy files: valid ones load, malformed ones are one line naming the file and the field path (exit 2)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from provenant.cli.main import cli
from provenant.policy.schema import PolicyError, load_policy

ROOT = Path(__file__).resolve().parents[2]
HEAD = "apiVersion: provenant/v1\nkind: ImagePolicy\n"


def _write(tmp_path: Path, body: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


@pytest.mark.parametrize("name", ["default.yaml", "strict.yaml"])
def test_shipped_policies_load(name: str) -> None:
    policy = load_policy(ROOT / "policies" / name)
    assert policy.metadata.name == name.removesuffix(".yaml")
    assert policy.checks.pinning is not None


def test_every_line_of_shipped_policies_is_commented() -> None:
    for name in ("default.yaml", "strict.yaml"):
        for number, line in enumerate((ROOT / "policies" / name).read_text().splitlines(), 1):
            if line.strip() and not line.strip().startswith("#"):
                assert "#" in line, f"{name}:{number} has no comment: {line!r}"


def test_minimal_policy_has_defaults(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, HEAD))
    assert policy.images == ["**"]
    assert policy.defaults.action == "deny"
    assert policy.defaults.on_missing_data == "deny"
    assert policy.checks.pinning is None


def test_sizes_and_waivers_parse(tmp_path: Path) -> None:
    body = HEAD + (
        "checks:\n  size: {maxCompressed: 200MiB, maxUncompressed: 1GB}\n"
        "waivers:\n  - {check: size.budget, images: 'ghcr.io/acme/**', reason: big model, expires: 2027-01-31}\n"
    )
    policy = load_policy(_write(tmp_path, body))
    assert policy.checks.size is not None
    assert int(policy.checks.size.max_compressed or 0) == 200 * 1024 * 1024
    assert int(policy.checks.size.max_uncompressed or 0) == 10**9
    assert policy.waivers[0].expires == dt.date(2027, 1, 31)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "checks:\n  pinning:\n    forbiddenTags: latest\n",
            "checks.pinning.forbiddenTags: Input should be a valid list",
        ),
        (
            "checks:\n  pinning:\n    requireDigets: true\n",
            "checks.pinning.requireDigets: Extra inputs are not permitted",
        ),
        ("colour: blue\n", "colour: Extra inputs are not permitted"),
        ("images: []\n", "images: List should have at least 1 item after validation, not 0"),
        (
            "images: ['ghcr.io/a**b']\n",
            "images[0]: invalid image glob 'ghcr.io/a**b': '**' must be a whole path segment",
        ),
        (
            "checks:\n  baseImage:\n    allowed: ['docker.io//x']\n",
            "checks.baseImage.allowed[0]: invalid image glob 'docker.io//x': empty path segment",
        ),
        ("defaults: {action: block}\n", "defaults.action: Input should be 'deny', 'warn' or 'off'"),
        (
            "waivers:\n  - {check: pinning.digest, images: '**', reason: x}\n",
            "waivers[0].expires: Field required",
        ),
        (
            "waivers:\n  - {check: pinning.digest, images: '**', reason: x, expires: soon}\n",
            "waivers[0].expires: Input should be a valid date",
        ),
        ("waivers:\n  - {check: pinning.nope, images: '**', reason: x, expires: 2030-01-01}\n", "waivers[0].check"),
        ("rules:\n  pinning.digets: {action: warn}\n", "rules.pinning.digets: unknown check id"),
        (
            "checks:\n  provenance: {}\nrules:\n  provenance.signed: {action: warn}\n",
            "rules.provenance.signed: the check does not run with this policy, so the rule has no effect "
            "(enable it under checks.provenance",
        ),
        (
            "rules:\n  user.non-root: {action: warn}\n",
            "rules.user.non-root: the check does not run with this policy, so the rule has no effect "
            "(enable it under checks.user",
        ),
        ("checks:\n  platforms: {required: [linux]}\n", "checks.platforms.required[0]: invalid platform 'linux'"),
        (
            "waivers:\n  - {check: user.non-root, images: '**', reason: x, expires: 2030-01-01, platforms: [arm64]}\n",
            "waivers[0].platforms[0]: invalid platform 'arm64'",
        ),
        (
            "checks:\n  caches: {allow: [apt-list]}\n",
            "checks.caches.allow[0]: unknown cache kind 'apt-list'; known: apt-lists",
        ),
        (
            "checks:\n  secrets: {ignoreRules: [secret-env, secret-evn]}\n",
            "checks.secrets.ignoreRules[1]: unknown secret rule id 'secret-evn'; did you mean 'secret-env'? "
            "known: private-key, aws-access-key, ",
        ),
        (
            "checks:\n  secrets: {ignoreRules: [AWS-Credentials]}\n",
            "checks.secrets.ignoreRules[0]: unknown secret rule id 'AWS-Credentials'; did you mean 'aws-credentials'?",
        ),
        (
            "checks:\n  secrets: {ignoreRules: [jwt]}\n",
            "checks.secrets.ignoreRules[0]: unknown secret rule id 'jwt'; known: private-key, ",
        ),
        ("checks:\n  size: {maxCompressed: huge}\n", "checks.size.maxCompressed: could not parse value and unit"),
        (
            "checks:\n  baseImage: {trusted: ['Bad Ref']}\n",
            "checks.baseImage.trusted[0]: invalid repository path component 'Bad Ref'",
        ),
    ],
)
def test_malformed_policy_names_the_field(tmp_path: Path, body: str, expected: str) -> None:
    path = _write(tmp_path, HEAD + body)
    with pytest.raises(PolicyError) as exc:
        load_policy(path)
    line = exc.value.diagnostics()
    assert "\n" not in line
    assert line.startswith(f"{path}: ")
    assert expected in line


def test_wrong_api_version_and_kind(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"apiVersion: Input should be 'provenant/v1'"):
        load_policy(_write(tmp_path, "apiVersion: v2\nkind: ImagePolicy\n"))
    with pytest.raises(PolicyError, match=r"kind: Input should be 'ImagePolicy'"):
        load_policy(_write(tmp_path, "apiVersion: provenant/v1\nkind: Policy\n"))


def test_not_yaml_and_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"not valid YAML at line 4"):
        load_policy(_write(tmp_path, HEAD + "checks: [\n"))
    with pytest.raises(PolicyError, match=r"must be a YAML mapping, got list"):
        load_policy(_write(tmp_path, "- a\n- b\n"))
    with pytest.raises(PolicyError, match=r"cannot read the policy file"):
        load_policy(tmp_path / "missing.yaml")


def test_a_family_section_without_value_runs_with_defaults(tmp_path: Path) -> None:
    """``user:`` alone is YAML null; it must not silently disable the family it names."""
    policy = load_policy(_write(tmp_path, HEAD + "checks:\n  user:\n  pinning:\n"))
    assert policy.checks.user is not None
    assert policy.checks.pinning is not None and policy.checks.pinning.forbidden_tags == ["latest"]
    res = CliRunner().invoke(cli, ["policy", "validate", str(tmp_path / "p.yaml")])
    assert res.exit_code == 0 and "valid (4 checks: pinning.digest=deny" in res.output


def test_duplicate_keys_are_an_error(tmp_path: Path) -> None:
    body = HEAD + "checks:\n  secrets: {}\nwaivers: []\nchecks:\n  user: {}\n"
    with pytest.raises(PolicyError) as exc:
        load_policy(_write(tmp_path, body))
    assert (
        exc.value.diagnostics() == f"{tmp_path / 'p.yaml'}: not valid YAML at line 6, column 1: duplicate key 'checks'"
    )
    nested = HEAD + "checks:\n  pinning:\n    requireDigest: true\n    requireDigest: false\n"
    with pytest.raises(PolicyError, match=r"at line 6, column 5: duplicate key 'requireDigest'"):
        load_policy(_write(tmp_path, nested))
    with pytest.raises(PolicyError, match=r"not valid YAML at line 3"):
        load_policy(_write(tmp_path, HEAD + "? [a, b]\n: 1\n"))  # an unhashable key: still one line


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    body = HEAD + "metadata: !!python/object/apply:os.system ['echo pwned']\n"
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(_write(tmp_path, body))


def test_cli_validate_exit_codes(tmp_path: Path) -> None:
    good = ROOT / "policies" / "strict.yaml"
    res = CliRunner().invoke(cli, ["policy", "validate", str(good)])
    assert res.exit_code == 0, res.output
    assert "valid (19 checks" in res.output
    bad = _write(tmp_path, HEAD + "checks:\n  pinning:\n    forbiddenTags: latest\n")
    res = CliRunner().invoke(cli, ["policy", "validate", str(bad)])
    assert res.exit_code == 2
    assert res.output.strip() == (
        f"provenant: error: {bad}: checks.pinning.forbiddenTags: Input should be a valid list"
    )


def test_cli_unknown_secret_rule_id_exits_2_in_validate_and_check(tmp_path: Path) -> None:
    """A typo in ignoreRules would silently ignore nothing: both commands refuse the file, in one line."""
    bad = _write(tmp_path, HEAD + "checks:\n  secrets:\n    ignoreRules: [dotenv-files]\n")
    expected = (
        f"provenant: error: {bad}: checks.secrets.ignoreRules[0]: unknown secret rule id 'dotenv-files'; "
        "did you mean 'dotenv-file'? known: "
    )
    for args in (["policy", "validate", str(bad)], ["policy", "check", "127.0.0.1:1/none:1", "--policy", str(bad)]):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 2, res.output
        assert res.output.startswith(expected) and len(res.output.strip().splitlines()) == 1, res.output
    good = _write(tmp_path, HEAD + "checks:\n  secrets:\n    ignoreRules: [dotenv-file, secret-env]\n", "ok.yaml")
    assert CliRunner().invoke(cli, ["policy", "validate", str(good)]).exit_code == 0


def test_secret_rule_ids_are_every_rule_the_scans_emit() -> None:
    """RULE_IDS (what ignoreRules accepts) lists exactly the ids the scanners can report and docs/hygiene.md names."""
    import ast
    import re

    from provenant.catalog.secretrules import RULE_IDS, TOKEN_SHAPES

    emitted = {rule for rule, _ in TOKEN_SHAPES}
    for module in ("provenant/catalog/secrets.py", "provenant/hygiene/secrets.py"):
        for node in ast.walk(ast.parse((ROOT / module).read_text())):
            if not isinstance(node, ast.Call):
                continue
            # _finding("rule", ...) in the cataloger; SecretFinding(rule="...") in the hygiene scan
            args = [a for a in node.args[:1] if isinstance(node.func, ast.Name) and node.func.id == "_finding"]
            args += [k.value for k in node.keywords if k.arg == "rule"]
            emitted |= {a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    assert emitted == set(RULE_IDS)
    assert len(RULE_IDS) == len(set(RULE_IDS))
    documented = re.findall(
        r"^\| `([a-z0-9-]+)` \| (?:env|history|file|any)", (ROOT / "docs" / "hygiene.md").read_text(), re.M
    )
    assert documented == list(RULE_IDS)


def test_cli_check_with_bad_policy_exits_2_before_touching_the_image(tmp_path: Path) -> None:
    bad = _write(tmp_path, HEAD + "checks:\n  licenses: {denied: GPL}\n")
    res = CliRunner().invoke(cli, ["policy", "check", "127.0.0.1:1/none:1", "--policy", str(bad)])
    assert res.exit_code == 2
    assert "checks.licenses.denied: Input should be a valid list" in res.output


def test_reference_doc_names_every_check_and_field() -> None:
    from pydantic import BaseModel

    from provenant.policy.checks import CHECKS
    from provenant.policy.schema import Checks, ImagePolicy

    doc = (ROOT / "docs" / "policy-reference.md").read_text()
    for check in CHECKS:
        assert f"`{check.id}`" in doc, check.id
    families: list[type[BaseModel]] = []
    for name, field in Checks.model_fields.items():
        assert f"`checks.{field.alias or name}`" in doc, name
        ann = field.annotation
        families += [a for a in getattr(ann, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)]
    for model in [ImagePolicy, *families]:
        for name, field in model.model_fields.items():
            alias = field.alias or name
            if alias in ("action", "onMissingData", "checks"):
                continue
            assert f"`{alias}`" in doc or f"`{alias}." in doc, f"{model.__name__}.{alias}"


@pytest.mark.parametrize("word", ["off", "on", "yes", "no"])
def test_yaml_1_1_booleans_stay_strings(tmp_path: Path, word: str) -> None:
    """``action: off`` as the docs write it, unquoted: YAML 1.1 would read it as ``False``."""
    body = HEAD + f"defaults: {{action: off, onMissingData: off}}\nmetadata: {{name: {word}}}\n"
    body += "checks:\n  user: {action: off}\n  pinning: {requireDigest: false, requireBaseDigest: true}\n"
    policy = load_policy(_write(tmp_path, body))
    assert (policy.defaults.action, policy.defaults.on_missing_data) == ("off", "off")
    assert policy.checks.user is not None and policy.checks.user.action == "off"
    assert policy.metadata.name == word
    assert policy.checks.pinning is not None
    assert (policy.checks.pinning.require_digest, policy.checks.pinning.require_base_digest) == (False, True)


def test_policy_keys_that_do_not_load_name_the_field(tmp_path: Path) -> None:
    """Keys are relative to the policy file; ``validate`` loads them too, ``check`` fails before any image."""
    (tmp_path / "bad.pub").write_text("not a key\n")
    body = HEAD + "checks:\n  provenance: {requireSigned: true, keys: [bad.pub, missing.pub]}\n"
    path = _write(tmp_path, body)
    res = CliRunner().invoke(cli, ["policy", "validate", str(path)])
    assert res.exit_code == 2
    assert res.output.startswith(f"provenant: error: {path}: checks.provenance.keys[0]: {tmp_path / 'bad.pub'}: ")
    assert len(res.output.strip().splitlines()) == 1
    path = _write(tmp_path, HEAD + "checks:\n  provenance: {keys: [missing.pub]}\n")
    res = CliRunner().invoke(cli, ["policy", "check", "127.0.0.1:1/none:1", "--policy", str(path)])
    assert res.exit_code == 2
    assert res.output.strip() == (
        f"provenant: error: {path}: checks.provenance.keys[0]: cannot read public key {tmp_path / 'missing.pub'}: "
        "No such file or directory"
    )
