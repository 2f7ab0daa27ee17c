"""`feedback report`: answers to feedback requests, per department."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from flask.cli import ScriptInfo, pass_script_info

from integration.cli.group import load_app, main


@main.group(help="Customers' answers to feedback requests.")
def feedback() -> None:
    pass


@feedback.command("report", help="Response rate and average rating per department.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Requests sent on or after this day (UTC), YYYY-MM-DD.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@pass_script_info
def feedback_report(info: ScriptInfo, since: datetime | None, as_json: bool) -> None:
    from integration.runtime.feedback.store import report

    services = load_app(info).extensions["dispute_desk"]
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
