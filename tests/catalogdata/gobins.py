"""Real Go binaries built at test time, and what ``go version -m`` says about them.

No module proxy is reachable, so the dependencies come from a file-system ``GOPROXY`` the builder
writes (real module zips, so ``go`` computes real ``h1:`` sums) and from a local ``replace``
directory. The main module is a git repository, so the binary carries ``vcs.*`` build settings.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.catalogdata._run import need, run

CACHE = Path.home() / ".cache" / "provenant-test-data" / "go-build"

_MAIN_GO_MOD = """module example.com/provtest/app

go 1.19

require (
\texample.com/provtest/color v1.0.0
\texample.com/provtest/greet v1.4.2
\texample.com/provtest/util v0.3.0
)

replace example.com/provtest/greet => ../greet

replace example.com/provtest/color v1.0.0 => example.com/provtest/colorfork v1.0.1
"""

_MAIN_GO = """package main

import (
\t"fmt"

\t"example.com/provtest/color"
\t"example.com/provtest/greet"
\t"example.com/provtest/util"
)

func main() { fmt.Println(color.Red(util.Twice(greet.Hello()))) }
"""


@dataclass
class GoModule:
    """One ``mod``/``dep`` line of ``go version -m`` and its ``=>`` replacement."""

    path: str
    version: str
    sum: str = ""
    replace: GoModule | None = None


@dataclass
class GoVersionM:
    """``go version -m`` output, parsed."""

    go_version: str
    path: str = ""
    main: GoModule | None = None
    deps: list[GoModule] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)


def build_app(work: Path) -> Path:
    """Build the test program with ``go build -ldflags='-s -w'``; return the binary's path."""
    need("go", "git")
    proxy = work / "proxy"
    _publish(proxy, "example.com/provtest/util", "v0.3.0", "util", "func Twice(s string) string { return s + s }")
    _publish(proxy, "example.com/provtest/colorfork", "v1.0.1", "color", 'func Red(s string) string { return "!" + s }')
    greet = work / "greet"
    greet.mkdir()
    (greet / "go.mod").write_text("module example.com/provtest/greet\n\ngo 1.19\n")
    (greet / "greet.go").write_text('package greet\n\nfunc Hello() string { return "hello" }\n')
    app = work / "app"
    app.mkdir()
    (app / "go.mod").write_text(_MAIN_GO_MOD)
    (app / "main.go").write_text(_MAIN_GO)
    CACHE.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GOPROXY": proxy.as_uri(),
        "GOSUMDB": "off",
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": "local",
        "GOWORK": "off",
        "CGO_ENABLED": "0",
        "GOCACHE": str(CACHE),
        "GOPATH": str(work / "gopath"),
    }
    run(["go", "mod", "tidy"], cwd=app, env=env)
    git = ["git", "-c", "user.name=provenant", "-c", "user.email=test@example.invalid"]
    run([*git, "init", "-q", "."], cwd=app)
    run([*git, "add", "-A"], cwd=app)
    run([*git, "commit", "-qm", "test program"], cwd=app)
    out = work / "app-bin"
    run(["go", "build", "-ldflags=-s -w", "-o", out, "."], cwd=app, env=env)
    run(["go", "clean", "-modcache"], cwd=app, env=env)  # module cache files are read-only; tmp cleanup needs this
    return out


def _publish(proxy: Path, module: str, version: str, package: str, body: str) -> None:
    """Write one module version in GOPROXY layout: list, .info, .mod, .zip."""
    d = proxy / module / "@v"
    d.mkdir(parents=True)
    go_mod = f"module {module}\n\ngo 1.19\n"
    (d / "list").write_text(version + "\n")
    (d / f"{version}.info").write_text(json.dumps({"Version": version, "Time": "2024-01-02T03:04:05Z"}))
    (d / f"{version}.mod").write_text(go_mod)
    with zipfile.ZipFile(d / f"{version}.zip", "w") as z:
        z.writestr(f"{module}@{version}/go.mod", go_mod)
        z.writestr(f"{module}@{version}/{package}.go", f"package {package}\n\n{body}\n")


def go_version_m(binary: Path) -> GoVersionM:
    """Ask the Go toolchain what build info ``binary`` carries."""
    lines = run(["go", "version", "-m", binary]).splitlines()
    result = GoVersionM(go_version=lines[0].rsplit(": ", 1)[1])
    last: GoModule | None = None
    for line in lines[1:]:
        kind, _, rest = line.strip("\t").partition("\t")
        fields = rest.split("\t")
        if kind == "path":
            result.path = rest
        elif kind == "build":
            key, _, value = rest.partition("=")
            result.settings[key] = value
        elif kind in ("mod", "dep", "=>"):
            mod = GoModule(fields[0], fields[1], fields[2] if len(fields) > 2 else "")
            if kind == "=>" and last is not None:
                last.replace = mod
            elif kind == "mod":
                result.main = last = mod
            elif kind == "dep":
                result.deps.append(mod)
                last = mod
    return result
