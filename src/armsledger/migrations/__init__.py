"""The register's schema migrations (Alembic), shared by SQLite and PostgreSQL.

:class:`armsledger.store.Register` runs them on opening (:func:`upgrade`), so a register
is always at the newest revision its armsledger knows. The first revision, ``0001``, is
the schema as it stood before migrations: it creates only the tables that are missing, so
a register made by an older armsledger (whose later tables were created on opening) is
brought to it unchanged and then stamped.

A change to the tables in :mod:`armsledger.store` needs a new revision in ``versions/``
(``alembic revision`` with this folder as its script location, or by hand): a test compares
the migrated schema with the tables the code declares.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

#: Any number, the same in every armsledger: the PostgreSQL advisory lock held while
#: migrating, so that processes opening one register at once migrate it once.
_LOCK_KEY = 0x61726D73  # "arms"

_HERE = Path(__file__).resolve().parent


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision this armsledger knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("armsledger ships no schema migrations")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database at ``connection`` is at (``None``: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection) -> None:
    """Bring the database at ``connection`` to :func:`head_revision`, in its transaction.

    Cheap when it is there already (one query). On PostgreSQL an advisory lock held to the
    end of the transaction makes concurrent openers wait for the first to finish.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
    if current_revision(connection) == head_revision():
        return
    command.upgrade(_config(connection), "head")
