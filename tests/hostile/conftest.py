"""Hostile cases: each builds an adversarial image, registry behaviour or policy file and runs the CLI on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile.harness import Sandbox
from tests.hostile.server import HostileServer, hostile_server


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path / "sandbox")


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with hostile_server() as srv:
        yield srv
