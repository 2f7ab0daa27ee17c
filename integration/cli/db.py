"""`db upgrade`: the database schema."""

from __future__ import annotations

import click

from integration.cli.group import main


@main.group(help="The database.")
def db() -> None:
    pass


@db.command("upgrade", help="Bring the schema to this version (PostgreSQL: run once per release, before starting).")
@click.option("--database-url", help="Default: DATABASE_URL, or the embedded SQLite file.")
def db_upgrade(database_url: str | None) -> None:
    from integration.config import Config
    from integration.runtime.migrations import upgrade
    from integration.runtime.store import connect

    url = database_url or Config.from_env().database_url
    engine = connect(url)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    click.echo(f"schema already at {after}" if before == after else f"schema upgraded from {before or 'nothing'} to {after}")
