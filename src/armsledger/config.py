"""Settings read from options and the environment.

The register's location comes from, in order: the ``--db`` option, the ``ARMSLEDGER_DB``
environment variable, then ``armsledger.db`` in the current folder. Each may be a plain
path to an SQLite file or an SQLAlchemy URL for SQLite or PostgreSQL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from armsledger.errors import ConfigError

#: The environment variable naming the register.
DB_ENV = "ARMSLEDGER_DB"

#: The register used when neither ``--db`` nor ``ARMSLEDGER_DB`` names one.
DEFAULT_DB = "armsledger.db"

#: URL schemes the register runs on; a ``+driver`` suffix (``postgresql+psycopg``) is allowed.
DB_SCHEMES = ("sqlite", "postgresql")

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


def resolve_db_url(db: str | None, *, environ: Mapping[str, str] | None = None) -> str:
    """The SQLAlchemy URL of the register.

    Args:
        db: the ``--db`` option: a path (``ledger.db``, ``~/data/ledger.db``) or a URL
            (``sqlite:///ledger.db``, ``postgresql://user@host/armsledger``).
        environ: where to look for ``ARMSLEDGER_DB``; ``os.environ`` by default.

    Returns:
        A URL: paths become ``sqlite:///PATH`` (``~`` expanded, relative paths kept
        relative to the current folder); URLs are returned unchanged.

    Raises:
        ConfigError: the value is empty or its URL scheme is not SQLite or PostgreSQL.
    """
    env = os.environ if environ is None else environ
    if db is not None:
        value, origin = db, "--db"
    elif env.get(DB_ENV):
        value, origin = env[DB_ENV], DB_ENV
    else:
        value, origin = DEFAULT_DB, "the default"
    value = value.strip()
    if not value:
        raise ConfigError(f"{origin}: empty; give a path or a sqlite:// or postgresql:// URL")
    match = _SCHEME.match(value)
    if match is None:
        return f"sqlite:///{Path(value).expanduser()}"
    scheme = match.group(1)
    if scheme.split("+", 1)[0].lower() not in DB_SCHEMES:
        hint = "write postgresql://" if scheme.lower() == "postgres" else None
        raise ConfigError(
            f"{origin}: unsupported database URL scheme '{scheme}'; "
            "allowed are sqlite:// and postgresql:// (optionally with +driver), or a file path",
            hint=hint,
        )
    return value
