"""The `dispute-desk` group itself, and what its commands share: the application from Flask's
ScriptInfo (so tests run commands with `app.test_cli_runner()` against a test app, exactly as
a user runs them from a shell), and times given on the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo

from integration.core.syntax.problems import RuleSetError


@click.group(help="Dispute-escalation rules for Zendesk and Jira tickets.")
@click.pass_context
def main(ctx: click.Context) -> None:
    if ctx.obj is None:
        from integration import create_app

        ctx.obj = ScriptInfo(create_app=create_app)


def load_app(info: ScriptInfo) -> Flask:
    try:
        return info.load_app()
    except RuleSetError as error:
        raise click.ClickException("the rule files have problems; fix them and start again:\n" + error.report()) from None
    except Exception as error:
        from integration.config import ConfigError

        if isinstance(error, ConfigError):
            raise click.ClickException(str(error)) from None
        raise


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise click.ClickException(f"{path}: not readable JSON ({error})") from None


def parse_now(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"expected an ISO time like 2026-03-02T10:00:00Z (got {text!r})", param_hint="--now") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
