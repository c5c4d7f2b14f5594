"""The library does not depend on the CLI: only ``provenant/cli/`` (and ``python -m provenant``) import it."""

from __future__ import annotations

import ast
from importlib.util import resolve_name
from pathlib import Path

import provenant

PACKAGE = Path(provenant.__file__).parent
#: ``python -m provenant`` runs the CLI: the one module outside ``provenant/cli/`` that must import it.
ENTRY_POINTS = {PACKAGE / "__main__.py"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_cli(name: str) -> bool:
    return name == "provenant.cli" or name.startswith("provenant.cli.")


def cli_imports(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """Modules under ``provenant.cli`` that ``source`` (the text of ``module``) imports, anywhere in it.

    Relative imports are resolved against the module's package, and ``from provenant import cli``
    counts, so neither spelling slips past.
    """
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _is_cli(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            base = resolve_name("." * node.level + (node.module or ""), package) if node.level else node.module or ""
            if _is_cli(base):
                found.append(base)
            else:
                found += [f"{base}.{alias.name}" for alias in node.names if _is_cli(f"{base}.{alias.name}")]
    return found


def test_the_checker_sees_every_spelling() -> None:
    source = (
        "import provenant.cli.render\n"
        "from provenant.cli import options\n"
        "from provenant import cli\n"
        "from ..cli.main import main\n"
        "def f() -> None:\n"
        "    from provenant.cli.render import console\n"
        "import provenant.clifford\n"
        "from provenant import client\n"
    )
    assert cli_imports(source, "provenant.compare.table") == [
        "provenant.cli.render",
        "provenant.cli",
        "provenant.cli",
        "provenant.cli.main",
        "provenant.cli.render",
    ]
    assert cli_imports("from .cli import main\n", "provenant", is_package=True) == ["provenant.cli"]


def test_no_library_module_imports_the_cli() -> None:
    files = [p for p in sorted(PACKAGE.rglob("*.py")) if p.relative_to(PACKAGE).parts[0] != "cli"]
    assert len(files) > 50  # the walk found the library, not an empty directory
    offenders = {
        str(path.relative_to(PACKAGE.parent)): names
        for path in files
        if path not in ENTRY_POINTS
        and (names := cli_imports(path.read_text(), _module_name(path), is_package=path.name == "__init__.py"))
    }
    assert offenders == {}
    # The exemption is needed (else it should go).
    assert all(cli_imports(p.read_text(), _module_name(p)) for p in ENTRY_POINTS)
