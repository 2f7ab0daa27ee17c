"""The `dispute-desk` command line: serve, worker, rules check, explain, events, deadlines,
feedback report, db upgrade.

Commands that need the application get it from Flask's ScriptInfo, so tests run them with
`app.test_cli_runner()` against a test app, exactly as a user runs them from a shell.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo, pass_script_info

from integration.core import engine, explain
from integration.core.plan import PlanAbandoned
from integration.core.syntax.problems import RuleSetError
from integration.logs import configure as configure_logging
from integration.runtime import clock, platforms
from integration.runtime.inbox import EventStatus
from integration.runtime.rulefiles import check_rules, load_ruleset

log = logging.getLogger("dispute_desk")


@click.group(help="Dispute-escalation rules for Zendesk and Jira tickets.")
@click.pass_context
def main(ctx: click.Context) -> None:
    if ctx.obj is None:
        from integration import create_app

        ctx.obj = ScriptInfo(create_app=create_app)


def run() -> None:
    """The console script: JSON logs on stderr, then the command."""
    configure_logging()
    main(prog_name="dispute-desk")


def _load_app(info: ScriptInfo) -> Flask:
    try:
        return info.load_app()
    except RuleSetError as error:
        raise click.ClickException("the rule files have problems; fix them and start again:\n" + error.report()) from None
    except Exception as error:
        from integration.config import ConfigError

        if isinstance(error, ConfigError):
            raise click.ClickException(str(error)) from None
        raise


# ---- serve and worker ----------------------------------------------------------------------


@main.command(help="Web, worker and deadline clock in one process, for a single machine.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="Worker threads.")
@pass_script_info
def serve(info: ScriptInfo, host: str, port: int, workers: int) -> None:
    import os

    from integration.config import Config, ConfigError, unsigned_for_local_dry_run
    from integration.runtime import local_secret
    from integration.web.server import make_server

    # One machine, no SECRET_KEY: a generated one beside the SQLite file, so feedback links
    # work out of the box (this process's environment only, before the app reads it).
    try:
        generated = local_secret.provide(os.environ, Config.database_url)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    unsigned = unsigned_for_local_dry_run(os.environ, host)
    app = _load_app(info)
    if generated:
        click.echo(f"SECRET_KEY not set: feedback links are signed with the key kept in {generated}", err=True)
    if unsigned:
        click.echo("no platform connected: unsigned webhooks from this machine are accepted (dry run)", err=True)
    stop = threading.Event()
    server = make_server(app, host, port)  # listening before the helpdesks are asked anything
    threads = _start_workers(app, workers, stop)
    click.echo(f"dispute-desk listening on http://{host}:{server.effective_port} ({_mode(app)})", err=True)
    try:
        server.run()  # returns on Ctrl-C or SIGTERM, its request threads stopped
    finally:
        stop.set()
        server.close()
        for thread in list(threads):
            thread.join(timeout=10)


@main.command(help="Worker and deadline clock (the Procfile's worker process).")
@click.option("--threads", default=2, show_default=True, type=int)
@pass_script_info
def worker(info: ScriptInfo, threads: int) -> None:
    app = _load_app(info)
    stop = threading.Event()
    click.echo(f"dispute-desk worker started ({_mode(app)})", err=True)
    running = _start_workers(app, threads, stop)
    try:
        while any(thread.is_alive() for thread in list(running)):
            for thread in list(running):
                thread.join(timeout=1)
    except KeyboardInterrupt:
        stop.set()
        for thread in list(running):
            thread.join(timeout=30)


def _start_workers(app: Flask, count: int, stop: threading.Event) -> list[threading.Thread]:
    """The rules watcher and the clock at once; the worker threads once every platform has
    answered (connected in the background, retried through outages: see /readyz). The list
    returned grows when the workers start."""
    from integration.runtime.connections.workers import start_when_connected

    _stop_on_sigterm()
    services = app.extensions["dispute_desk"]
    adapters = platforms.make_adapters(services)
    threads = [
        threading.Thread(target=_watch_rules, args=(services.rules, stop), name="rules-watcher", daemon=True),
        threading.Thread(target=clock.run, args=(services.engine, services.inbox, stop, services.config.clock_tick), name="clock", daemon=True),
    ]
    threads.append(threading.Thread(target=start_when_connected, args=(services, adapters, count, stop, threads), name="connector", daemon=True))
    for thread in threads:  # the connector appends the workers to `threads`
        thread.start()
    return threads


def _watch_rules(rules: Any, stop: threading.Event, every_seconds: float = 5.0) -> None:
    """Pick up edited rule files; a rule set with problems never replaces the one in force,
    and nothing that goes wrong stops the watching."""
    while not stop.wait(every_seconds):
        try:
            rules.reload_if_changed()
        except Exception:  # e.g. the rules folder unreadable for a moment
            log.exception("watching the rule files failed; trying again")


def _stop_on_sigterm() -> None:
    """SIGTERM (what Procfile platforms and systemd send) stops as Ctrl-C does: leases are
    settled by the running step, and nothing is left half-done for longer than a lease."""
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _mode(app: Flask) -> str:
    config = app.extensions["dispute_desk"].config
    zendesk = config.zendesk_subdomain or "dry run (no credentials)"
    jira = config.jira_url or "dry run (no credentials)"
    return f"Zendesk: {zendesk}; Jira: {jira}"


# ---- rules ---------------------------------------------------------------------------------


@main.group(help="Rule files.")
def rules() -> None:
    pass


@rules.command("check", help="Validate rule files; every problem as FILE:LINE:COL: PATH: message.")
@click.argument("path", required=False)
def rules_check(path: str | None) -> None:
    from integration.config import Config

    path = path or Config.from_env().rules_path
    ruleset, problems = check_rules(path)
    for problem in problems:
        click.echo(str(problem))
    if problems or ruleset is None:
        count = len(problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found in {path}", err=True)
        sys.exit(1)
    click.echo(
        f"{path}: {len(ruleset.rules)} rules, {len(ruleset.departments)} departments, {len(ruleset.checklists)} checklists, "
        f"{len(ruleset.templates)} templates, {len(ruleset.calendars)} calendars in {len(ruleset.files)} files: OK"
    )


# ---- explain -------------------------------------------------------------------------------


@main.command("explain", help="Which rules match an event, which conditions failed, and the plan. Touches no ticket.")
@click.argument("event_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--platform", type=click.Choice(["zendesk", "jira"]), help="Default: guessed from the payload.")
@click.option("--rules", "rules_path", help="Rule files (default: RULES_PATH or ./rules).")
@click.option("--now", "now_text", help="Plan as of this ISO time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="The plan as JSON.")
def explain_command(event_file: str, platform: str | None, rules_path: str | None, now_text: str | None, as_json: bool) -> None:
    from integration.config import Config

    try:
        ruleset = load_ruleset(rules_path or Config.from_env().rules_path)
    except RuleSetError as error:
        raise click.ClickException("the rule files have problems:\n" + error.report()) from None
    payload = _read_json(Path(event_file))
    platform = platform or platforms.guess_platform(payload)
    if platform not in platforms.SUPPORTED:
        raise click.ClickException(f"{event_file} looks like a {platform} payload; this version explains {', '.join(platforms.SUPPORTED)} payloads")
    try:
        event = platforms.normalizer(platform)(payload, {})
    except ValueError as error:
        raise click.ClickException(f"{event_file} is not a {platform} ticket event: {error}") from None
    now = _parse_now(now_text)
    try:
        plan = engine.plan(event, ruleset, now)
    except PlanAbandoned as error:  # the worker would dead-letter this event with the same reason
        raise click.ClickException(f"planning {event_file} was stopped: {error}") from None
    click.echo(json.dumps(explain.as_dict(plan), indent=2, ensure_ascii=False, default=str) if as_json else explain.as_text(plan))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise click.ClickException(f"{path}: not readable JSON ({error})") from None


def _parse_now(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"expected an ISO time like 2026-03-02T10:00:00Z (got {text!r})", param_hint="--now") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---- events --------------------------------------------------------------------------------


@main.group(help="Stored webhook events.")
def events() -> None:
    pass


@events.command("list", help="Recent events, newest first.")
@click.option("--status", type=click.Choice([s.value for s in EventStatus]))
@click.option("--limit", default=50, show_default=True, type=int)
@pass_script_info
def events_list(info: ScriptInfo, status: str | None, limit: int) -> None:
    inbox = _load_app(info).extensions["dispute_desk"].inbox
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
    inbox = _load_app(info).extensions["dispute_desk"].inbox
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

    services = _load_app(info).extensions["dispute_desk"]
    before = datetime.now(UTC) - timedelta(days=days)
    pruned = services.inbox.prune(before)
    with writing(services.engine) as connection:
        ended = timers.prune(connection, before)
    click.echo(f"pruned {pruned} event{'s' if pruned != 1 else ''} and {ended} ended deadline{'s' if ended != 1 else ''} from before {before:%Y-%m-%d %H:%M} UTC; dead, pending and running ones are kept")


# ---- deadlines ------------------------------------------------------------------------------


@main.group(help="Follow-up deadlines.")
def deadlines() -> None:
    pass


@deadlines.command("list", help="Running, paused, met, breached and cancelled deadlines, latest first.")
@click.option("--ticket", help="One ticket, as PLATFORM:ID (e.g. zendesk:35436).")
@click.option("--limit", default=200, show_default=True, type=int)
@pass_script_info
def deadlines_list(info: ScriptInfo, ticket: str | None, limit: int) -> None:
    from integration.runtime import deadlines as timers

    services = _load_app(info).extensions["dispute_desk"]
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


# ---- feedback --------------------------------------------------------------------------------


@main.group(help="Customers' answers to feedback requests.")
def feedback() -> None:
    pass


@feedback.command("report", help="Response rate and average rating per department.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Requests sent on or after this day (UTC), YYYY-MM-DD.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@pass_script_info
def feedback_report(info: ScriptInfo, since: datetime | None, as_json: bool) -> None:
    from integration.runtime.feedback.store import report

    services = _load_app(info).extensions["dispute_desk"]
    start = since.replace(tzinfo=UTC) if since else None
    with services.engine.connect() as connection:
        rows = report(connection, start)
    if as_json:
        departments = [{**vars(row), "response_rate": round(row.response_rate, 4), "average_rating": _round(row.average_rating)} for row in rows]
        click.echo(json.dumps({"since": start.date().isoformat() if start else None, "departments": departments}, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"no feedback requests since {start:%Y-%m-%d}" if start else "no feedback requests yet")
        return
    click.echo(f"{'department':<24} {'requests':>8} {'answered':>8} {'response rate':>13} {'average rating':>14}")
    for department, requests, answered, average in [*((r.department or "(no department)", r.requests, r.answered, r.average_rating) for r in rows), _total(rows)]:
        rate = f"{100 * answered / requests:.1f}%" if requests else "-"
        click.echo(f"{department:<24} {requests:>8} {answered:>8} {rate:>13} {'-' if average is None else f'{average:.2f}':>14}")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _total(rows: list[Any]) -> tuple[str, int, int, float | None]:
    """All departments together; the average weighs each department by its answers."""
    answered = sum(row.answered for row in rows)
    rated = sum(row.average_rating * row.answered for row in rows if row.average_rating is not None)
    return "total", sum(row.requests for row in rows), answered, rated / answered if answered else None


# ---- database -------------------------------------------------------------------------------


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


def register_commands(app: Flask) -> None:
    """The same commands under `flask --app integration ...`."""
    for command in main.commands.values():
        app.cli.add_command(command)
