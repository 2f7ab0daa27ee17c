"""`deadlines list`: follow-up deadlines."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import ScriptInfo, pass_script_info

from integration.cli.group import load_app, main


@main.group(help="Follow-up deadlines.")
def deadlines() -> None:
    pass


@deadlines.command("list", help="Running, paused, met, breached and cancelled deadlines, latest first.")
@click.option("--ticket", help="One ticket, as PLATFORM:ID (e.g. zendesk:35436).")
@click.option("--limit", default=200, show_default=True, type=int)
@pass_script_info
def deadlines_list(info: ScriptInfo, ticket: str | None, limit: int) -> None:
    from integration.runtime import deadlines as timers

    services = load_app(info).extensions["dispute_desk"]
    with services.engine.connect() as connection:
        rows = timers.listing(connection, ticket, limit)
    if not rows:
        click.echo("no deadlines")
    for row in rows:
        when = _deadline_when(row)
        click.echo(f"{row.ticket_key:<22} {row.name:<22} {row.status:<9} {when:<32} {row.within:<14} rule {row.rule_id}")


def _deadline_when(row: Any) -> str:
    if row.status == "paused":
        return f"{round(row.remaining_seconds or 0)} s left when resumed"
    if row.status == "breached" and row.breached_at:
        return f"breached {row.breached_at:%Y-%m-%d %H:%M:%S} UTC"
    return f"due {row.due_at:%Y-%m-%d %H:%M:%S} UTC" if row.due_at else ""
