"""Opening the inventory database: URL from ``--db``, schema brought to the current revision.

SQLite (a file under the cache directory by default) or PostgreSQL (``postgresql+psycopg://...``). The
schema is managed by the Alembic migrations shipped in :mod:`provenant.fleet.migrations`: a new database
is created at the head revision; an older one is migrated when ``upgrade`` is allowed (``fleet scan``),
otherwise reading it fails with one line naming ``provenant fleet db upgrade``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenant.cachedir import default_cache_dir
from provenant.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
#: The newest revision in MIGRATIONS (a test checks it against Alembic's script directory): opening a
#: database at this revision needs no Alembic import, which costs more than an unchanged rescan.
HEAD = "0003"


def default_db_path() -> Path:
    """``<cache dir>/fleet.sqlite``."""
    return default_cache_dir() / "fleet.sqlite"


def db_url(db: str | None) -> str:
    """The SQLAlchemy URL for ``--db``: a URL with ``://`` as given, else a SQLite file path."""
    if db is None:
        path = default_db_path()
    elif "://" in db:
        if not db.startswith(("sqlite", "postgresql")):
            raise UsageError(f"--db {db.split('://', 1)[0]}://...: only sqlite and postgresql+psycopg are supported")
        return db
    else:
        path = Path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path.absolute()}"


def redacted(url: str) -> str:
    """``url`` with any password replaced, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: say nothing of it that might hold a secret
        return url.split("://", 1)[0] + "://..."


def _alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def known_revisions() -> list[str]:
    """Every schema revision this provenant ships, newest first."""
    from alembic.script import ScriptDirectory

    return [s.revision for s in ScriptDirectory.from_config(_alembic_config()).walk_revisions()]


def head_revision() -> str:
    """The newest schema revision this provenant ships."""
    return known_revisions()[0]


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None: no provenant schema yet)."""
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return str(rows[0]) if len(rows) == 1 else None


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Migrate the database to ``revision`` (default: the newest); return (before, after)."""
    from alembic import command

    with engine.begin() as conn:
        before = current_revision(conn)
        command.upgrade(_alembic_config(conn), revision)
        after = current_revision(conn)
    assert after is not None
    return before, after


def _engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event

    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL: readers do not block the writer; foreign keys: SQLite leaves them off by default.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    return engine


class Store:
    """An open inventory: the engine and a session factory.

    A plain class, not a dataclass: the rescan of an unchanged registry imports this module (for
    :data:`HEAD` and :func:`default_db_path`) and nothing that imports :mod:`dataclasses`.
    """

    def __init__(self, url: str, engine: Engine, sessions: sessionmaker[Any]) -> None:
        self.url = url
        self.engine = engine
        self.sessions = sessions

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()


def open_store(db: str | None, *, migrate: bool) -> Store:
    """Open the inventory ``db`` names, at the head revision.

    A database without the schema is always created. One at an older revision is migrated when
    ``migrate`` is true, else refused with the command that migrates it; one from a newer provenant is
    refused either way.
    """
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import sessionmaker

    url = db_url(db)
    engine = _engine(url)
    head = HEAD
    try:
        with engine.connect() as conn:
            rev = current_revision(conn)
        if rev != head:
            if rev is not None and rev not in known_revisions():
                raise UsageError(
                    f"the inventory {redacted(url)} is at schema revision {rev}, which this provenant does not "
                    f"know (newer release?); upgrade provenant or use another --db"
                )
            if rev is not None and not migrate:
                raise UsageError(
                    f"the inventory {redacted(url)} is at an older schema revision ({rev}, current {head}); "
                    f"migrate it with: provenant fleet db upgrade --db ..."
                )
            upgrade(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"cannot open the inventory {redacted(url)}: {reason}") from None
    return Store(url, engine, sessionmaker(engine, expire_on_commit=False))
