"""Hostile cases: each builds an adversarial image, registry behaviour or policy file and runs the CLI on it."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile.harness import Sandbox
from tests.hostile.server import HostileServer, hostile_server

#: Outside /tmp and /var/tmp, which the child gets private copies of (see harness.py).
SANDBOXES = Path(__file__).resolve().parents[1] / "artifacts" / "hostile"


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    root = SANDBOXES / f"{request.node.name[:80]}-{uuid.uuid4().hex[:8]}"
    yield Sandbox(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with hostile_server() as srv:
        yield srv
