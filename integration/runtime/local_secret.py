"""A SECRET_KEY for one machine that was given none: `dispute-desk serve` on SQLite keeps a
generated key beside the database file, so feedback links work out of the box and stay valid
across restarts. Several machines (PostgreSQL) must share one key: there it is never made up.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import MutableMapping
from pathlib import Path

from sqlalchemy.engine import make_url

from integration.config import ConfigError

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
        return _read_private(path)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(secrets.token_urlsafe(32) + "\n")
    return path.read_text(encoding="ascii").strip()


def _read_private(path: Path) -> str:
    """The key, if only the user running us can have written or read it: whoever can change
    the key can sign feedback links that post to tickets."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(descriptor, encoding="ascii") as file:
        status = os.fstat(file.fileno())
        if status.st_uid != os.getuid():
            raise ConfigError(
                f"{path} belongs to another user (uid {status.st_uid}), not to the user running dispute-desk "
                f"(uid {os.getuid()}): whoever wrote it could sign feedback links. Remove it to have a new key made, or set SECRET_KEY."
            )
        mode = stat.S_IMODE(status.st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"{path} can be read or changed by other users (mode {mode:04o}), and anyone who knows the key can sign "
                f"feedback links: run `chmod 600 {path}` (or remove it to have a new key made) and start again."
            )
        return file.read().strip()


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
