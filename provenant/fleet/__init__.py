"""Fleet inventory: scan many images once per unique layer and keep what was found in a database.

The fleet modules import SQLAlchemy and Alembic (the ``fleet`` extra); :func:`require_extra` turns their
absence into one line naming the extra, so plain ``provenant`` keeps working without them.
"""

from __future__ import annotations

import importlib.util

from provenant.errors import UsageError

#: Modules the fleet commands need, all from the ``fleet`` extra.
EXTRA_MODULES = ("sqlalchemy", "alembic")


def require_extra() -> None:
    """Raise a one-line UsageError when a module of the ``fleet`` extra is missing."""
    missing = [m for m in EXTRA_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(
            f"the fleet commands need {', '.join(missing)}: install the fleet extra (pip install 'provenant[fleet]')"
        )
