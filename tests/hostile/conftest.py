"""Hostile cases: each builds an adversarial image, registry behaviour or policy file and runs the CLI on it."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile.harness import Sandbox, under_system_tmp
from tests.hostile.server import HostileServer, hostile_server


def _sandboxes() -> Path:
    """Where sandboxes go: outside /tmp and /var/tmp when possible, which the child gets private copies of."""
    for base in (Path(__file__).resolve().parents[1] / "artifacts", Path.home() / ".cache"):
        if not under_system_tmp(base):
            return base / "provenant-hostile"
    return Path(tempfile.gettempdir()) / "provenant-hostile"  # then the harness watches the real /tmp instead


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    root = _sandboxes() / f"{request.node.name[:80]}-{uuid.uuid4().hex[:8]}"
    yield Sandbox(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with hostile_server() as srv:
        yield srv
