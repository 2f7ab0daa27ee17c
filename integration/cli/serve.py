"""`serve` (web, worker and clock in one process) and `worker` (worker and clock)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo, pass_script_info

from integration.cli.group import load_app, main
from integration.runtime import clock, platforms

log = logging.getLogger("dispute_desk")


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
    app = load_app(info)
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
    app = load_app(info)
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
    # A snapshot: the connector appends (and starts) the workers, possibly before this loop ends.
    starting = tuple(threads)
    for thread in starting:
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
