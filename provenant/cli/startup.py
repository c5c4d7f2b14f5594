"""The cycle collector while a command starts up: paused, then resumed with what start-up made frozen.

Start-up is imports: hundreds of modules, classes and pydantic schemas that live until the process
ends. The collector walked them ~110 times during a cold ``sbom`` of a small image (~20-35 ms of its
~350 ms) and could free none of them. :func:`pause` is called first thing by the console entry point;
:func:`resume` once the command has imported what it needs: :func:`gc.freeze` moves everything made
so far out of the collector's sight and collection goes on as usual, so a long run on a big image is
collected as any other.
"""

from __future__ import annotations

import gc

_paused = [False]


def pause() -> None:
    """Stop the cycle collector until :func:`resume` (a no-op when it is off already)."""
    if gc.isenabled():
        gc.disable()
        _paused[0] = True


def resume() -> None:
    """Freeze what start-up made and collect again (only if :func:`pause` stopped the collector)."""
    if _paused[0]:
        _paused[0] = False
        gc.freeze()
        gc.enable()
