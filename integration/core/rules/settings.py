"""The `settings:` section: the default language, custom fields by name, and how Jira's
own status and priority names map onto the normalized ones rules test."""

from __future__ import annotations

from typing import Any

from integration.core.events import LANGUAGES, PRIORITIES, STATUSES
from integration.core.rules.collected import Collected
from integration.core.ruleset import Settings
from integration.core.syntax.context import ParseContext
from integration.core.syntax.nodes import Node
from integration.core.syntax.schema import ID_PATTERN

SETTINGS_KEYS = ("default_language", "custom_fields", "jira")


def settings_section(node: Node, ctx: ParseContext, collected: Collected) -> None:
    if not ctx.mapping(node, optional=SETTINGS_KEYS):
        return
    parsers = {"default_language": lambda n: ctx.choice(n, LANGUAGES), "custom_fields": lambda n: _custom_fields(n, ctx), "jira": lambda n: _jira(n, ctx)}
    for key, value in node.items():
        if key in collected.settings:
            ctx.problems.append(node.key_problem(key, f'"{key}" is already set in another file'))
            continue
        parsed = parsers[key](value) if key in parsers else None
        if parsed is not None:
            collected.settings[key] = parsed


def _custom_fields(node: Node, ctx: ParseContext) -> dict[str, dict[str, str]] | None:
    if not ctx.mapping(node, what="a mapping of field names to {zendesk: ID, jira: ID}", open_keys=True):
        return None
    fields: dict[str, dict[str, str]] = {}
    for name, spec in node.items():
        if not ID_PATTERN.match(name.replace("_", "-")):
            ctx.problems.append(node.key_problem(name, f'must be a name of letters, digits, "_" and "-" (got "{name}")'))
            continue
        if not ctx.mapping(spec, optional=("zendesk", "jira"), what="a mapping with zendesk and/or jira field ids"):
            continue
        ids = {platform: str(id_node.value) for platform, id_node in spec.items() if _field_id(id_node, ctx)}
        fields[name] = ids
    return fields


def _field_id(node: Node, ctx: ParseContext) -> bool:
    if isinstance(node.value, (int, str)) and not isinstance(node.value, bool) and str(node.value):
        return True
    ctx.expected(node, "a field id")
    return False


def _jira(node: Node, ctx: ParseContext) -> dict[str, Any] | None:
    """`jira: {statuses: {"Waiting for support": open}, priorities: {Blocker: urgent},
    agent_groups: [jira-servicedesk-users]}`: Jira names (case-insensitive) onto normalized
    values, over the built-in tables; the groups whose members' comments are agents' replies."""
    if not ctx.mapping(node, optional=("statuses", "priorities", "agent_groups"), what="a mapping with statuses, priorities and/or agent_groups"):
        return None
    tables: dict[str, Any] = {}
    agent_groups = node.get("agent_groups")
    if agent_groups is not None:
        groups = ctx.string_list(agent_groups, what="a list of Jira group names")
        if groups is None:
            return None
        tables["agent_groups"] = tuple(groups)
    for key, choices in (("statuses", STATUSES), ("priorities", PRIORITIES)):
        table = node.get(key)
        if table is None:
            continue
        if not ctx.mapping(table, what=f"a mapping of Jira {key} names to {', '.join(choices)}", open_keys=True):
            return None
        values = {name: ctx.choice(value, choices) for name, value in table.items()}
        if None in values.values():
            return None
        tables[key] = {name.casefold(): value for name, value in values.items() if value}
    return tables


def settings_from(collected: Collected) -> Settings:
    jira = collected.settings.get("jira", {})
    return Settings(
        default_language=collected.settings.get("default_language", "en"),
        custom_fields=collected.settings.get("custom_fields", {}),
        jira_statuses=jira.get("statuses", {}),
        jira_priorities=jira.get("priorities", {}),
        jira_agent_groups=jira.get("agent_groups", ()),
    )
