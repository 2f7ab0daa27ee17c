"""`rules check`: validate rule files."""

from __future__ import annotations

import sys

import click

from integration.cli.group import main
from integration.runtime.rulefiles import check_rules


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
