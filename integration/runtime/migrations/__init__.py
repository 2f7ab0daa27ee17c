"""Schema migrations (Alembic), shipped inside the package so `dispute-desk db upgrade`
works from an installed wheel, with no alembic.ini to find."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

HERE = Path(__file__).resolve().parent


def _config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["engine"] = engine
    return config


def head() -> str:
    return ScriptDirectory(str(HERE)).get_current_head() or ""


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the latest revision; returns (before, after)."""
    before = current(engine)
    command.upgrade(_config(engine), "head")
    return before, head()
