"""A SECRET_KEY for one machine that was given none: `dispute-desk serve` on SQLite keeps a
generated key beside the database file, so feedback links work out of the box and stay valid
across restarts. Several machines (PostgreSQL) must share one key: there it is never made up.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import MutableMapping
from pathlib import Path

from sqlalchemy.engine import make_url

FILE_NAME = "secret-key"


def key_file(database_url: str) -> Path | None:
    """Where a SQLite database's generated key lives; None for anything else."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).parent / FILE_NAME


def read_or_create(path: Path) -> str:
    """The key in `path`, made (readable by its owner only) the first time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(secrets.token_urlsafe(32) + "\n")
    return path.read_text(encoding="ascii").strip()


def provide(environ: MutableMapping[str, str], default_database_url: str) -> Path | None:
    """Set SECRET_KEY in `environ` from the local key file when it is unset and the database
    is a SQLite file; returns the file used, or None."""
    if environ.get("SECRET_KEY"):
        return None
    path = key_file(environ.get("DATABASE_URL") or default_database_url)
    if path is None:
        return None
    environ["SECRET_KEY"] = read_or_create(path)
    return path
