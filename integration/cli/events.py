"""`events list|replay|prune`: the stored webhook events."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import click
from flask.cli import ScriptInfo, pass_script_info

from integration.cli.group import load_app, main
from integration.runtime.inbox import EventStatus


@main.group(help="Stored webhook events.")
def events() -> None:
    pass


@events.command("list", help="Recent events, newest first.")
@click.option("--status", type=click.Choice([s.value for s in EventStatus]))
@click.option("--limit", default=50, show_default=True, type=int)
@pass_script_info
def events_list(info: ScriptInfo, status: str | None, limit: int) -> None:
    inbox = load_app(info).extensions["dispute_desk"].inbox
    rows = inbox.list(EventStatus(status) if status else None, limit)
    if not rows:
        click.echo("no events")
    for row in rows:
        label = "error" if row.status in (EventStatus.DEAD, EventStatus.PENDING) else "earlier error"
        error = f"  {label}: {row.last_error}" if row.last_error else ""
        click.echo(f"{row.id:>6}  {row.status.value:<8} {row.ticket_key:<22} {row.source_type:<44} attempts={row.attempts} received={row.received_at:%Y-%m-%d %H:%M:%S}{error}")


@events.command("replay", help="Queue a dead (or finished) event again, or every dead one with --dead.")
@click.argument("event_id", required=False, type=int)
@click.option("--dead", "all_dead", is_flag=True, help="Replay every dead-lettered event.")
@pass_script_info
def events_replay(info: ScriptInfo, event_id: int | None, all_dead: bool) -> None:
    if (event_id is None) == (not all_dead):
        raise click.UsageError("give an EVENT_ID or --dead (not both)")
    inbox = load_app(info).extensions["dispute_desk"].inbox
    now = datetime.now(UTC)
    ids = [event_id] if event_id is not None else [row.id for row in inbox.list(EventStatus.DEAD, limit=100000)]
    replayed = [i for i in ids if inbox.replay(i, now)]
    missing = sorted(set(ids) - set(replayed))
    click.echo(f"replayed {len(replayed)} event{'s' if len(replayed) != 1 else ''}" + (f"; not replayable (unknown or in flight): {missing}" if missing else ""))
    if missing and event_id is not None:
        sys.exit(1)


@events.command("prune", help="Delete events done or skipped more than DAYS ago, their action log, and deadlines ended as long ago.")
@click.option("--older-than", "days", required=True, type=click.FloatRange(min=1), metavar="DAYS", help="At least 1: webhooks are retried within hours.")
@pass_script_info
def events_prune(info: ScriptInfo, days: float) -> None:
    from integration.runtime import deadlines as timers
    from integration.runtime.store import writing

    services = load_app(info).extensions["dispute_desk"]
    before = datetime.now(UTC) - timedelta(days=days)
    pruned = services.inbox.prune(before)
    with writing(services.engine) as connection:
        ended = timers.prune(connection, before)
    click.echo(f"pruned {pruned} event{'s' if pruned != 1 else ''} and {ended} ended deadline{'s' if ended != 1 else ''} from before {before:%Y-%m-%d %H:%M} UTC; dead, pending and running ones are kept")
