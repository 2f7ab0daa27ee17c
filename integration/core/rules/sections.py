"""The named-definition sections of a rule file: departments, calendars, checklists, templates.

Each maps ids to definitions that rules refer to by id. Every definition is validated here and
added to `Collected` with the node it was defined at; references to them are resolved across
files later, by the loader. Kept apart from `integration.core.rules.loader`, which reads the
other sections (version, settings, rules) and checks everything across files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jinja2

from integration.core.calendar_parsing import parse_holidays, parse_hours, parse_timezone
from integration.core.calendars import Calendar
from integration.core.events import LANGUAGES
from integration.core.rules.collected import Collected
from integration.core.ruleset import Checklist, Department
from integration.core.syntax.context import ParseContext
from integration.core.syntax.nodes import Node
from integration.core.syntax.schema import ID_PATTERN, one_of
from integration.core.templates import Template, compile_text

SectionLoader = Callable[[Node, ParseContext, Collected], None]


def _definitions(node: Node, ctx: ParseContext, what: str, collected: Collected) -> list[tuple[str, Node]]:
    if not ctx.mapping(node, what=f"a mapping of {what} ids to definitions", open_keys=True):
        return []
    valid = []
    for ident, value in node.items():
        collected.declared.add((what, ident))
        if ID_PATTERN.match(ident):
            valid.append((ident, value))
        else:
            ctx.problems.append(node.key_problem(ident, f'must be an id of lower-case letters, digits and dashes (got "{ident}")'))
    return valid


def _unique(ident: str, node: Node, existing: Mapping[str, tuple[Any, Node]], what: str, ctx: ParseContext) -> bool:
    if ident in existing:
        first = existing[ident][1]
        ctx.report(node, f'{what} "{ident}" is defined twice (first at {first.file}:{first.line})')
        return False
    return True


def _localized(node: Node, ctx: ParseContext, collected: Collected, what: str = "a text") -> dict[str, str] | None:
    if not node.is_mapping:
        ctx.expected(node, f"{what} per language, like {{en: ..., pt: ..., es: ...}}")
        return None
    if not ctx.mapping(node, optional=LANGUAGES, what=f"{what} per language"):
        return None
    texts = {lang: ctx.string(text_node, "a non-empty text") for lang, text_node in node.items()}
    if not texts:
        ctx.expected(node, f"{what} in at least one of {one_of(LANGUAGES)}")
        return None
    collected.localized.append(node)
    return None if None in texts.values() else texts  # type: ignore[return-value]


def _departments(node: Node, ctx: ParseContext, collected: Collected) -> None:
    for ident, spec in _definitions(node, ctx, "department", collected):
        if not ctx.mapping(spec, required=("title",), optional=("zendesk", "jira")):
            continue
        title = _localized(spec.value["title"], ctx, collected, "a title")
        zendesk = _zendesk_target(spec.get("zendesk"), ctx)
        jira = _jira_target(spec.get("jira"), ctx)
        if title is None or zendesk is None or jira is None:
            continue
        if _unique(ident, spec, collected.departments, "department", ctx):
            collected.departments[ident] = (Department(ident, title, zendesk, jira), spec)


def _zendesk_target(node: Node | None, ctx: ParseContext) -> dict[str, Any] | None:
    if node is None:
        return {}
    if not ctx.mapping(node, optional=("group_id", "group"), what="a mapping with group_id or group"):
        return None
    if len(node.value) != 1:
        ctx.expected(node, "either group_id or group (a group's name), not both")
        return None
    (key, value), = node.items()
    numeric = isinstance(value.value, int) and not isinstance(value.value, bool) or str(value.value).isdigit()
    if key == "group_id" and not numeric:
        ctx.expected(value, "a Zendesk group id (a number)")
        return None
    if key == "group" and ctx.string(value, "a Zendesk group name") is None:
        return None
    return {key: value.value}


def _jira_target(node: Node | None, ctx: ParseContext) -> dict[str, Any] | None:
    if node is None:
        return {}
    if not ctx.mapping(node, optional=("component", "assignee", "labels"), what="a mapping with component, assignee and labels"):
        return None
    target: dict[str, Any] = {}
    ok = True
    for key, value in node.items():
        parsed = ctx.string_list(value, "a list of labels", True) if key == "labels" else ctx.string(value)
        ok = ok and parsed is not None
        target[key] = parsed
    return target if ok else None


def _calendars(node: Node, ctx: ParseContext, collected: Collected) -> None:
    for ident, spec in _definitions(node, ctx, "calendar", collected):
        if not ctx.mapping(spec, required=("timezone", "hours"), optional=("holidays",)):
            continue
        values = spec.value
        tz = _parsed(values["timezone"], parse_timezone, ctx)
        hours = _parsed(values["hours"], parse_hours, ctx, mapping=True)
        holiday_code = _parsed(values["holidays"], parse_holidays, ctx) if "holidays" in values else None
        if tz is None or hours is None or ("holidays" in values and holiday_code is None):
            continue
        try:
            calendar = Calendar(ident, tz, hours, holiday_code)
        except ValueError as error:
            ctx.report(values["hours"], str(error))
            continue
        if _unique(ident, spec, collected.calendars, "calendar", ctx):
            collected.calendars[ident] = (calendar, spec)


def _parsed(node: Node, parser: Callable[[Any], Any], ctx: ParseContext, mapping: bool = False) -> Any:
    if mapping and not node.is_mapping:
        ctx.expected(node, 'a mapping of days to hours, like {mon-fri: "09:00-18:00"}')
        return None
    if not mapping and not isinstance(node.value, str):
        ctx.expected(node, "a text")
        return None
    try:
        return parser(node.plain())
    except ValueError as error:
        ctx.report(node, str(error))
        return None


def _checklists(node: Node, ctx: ParseContext, collected: Collected) -> None:
    for ident, spec in _definitions(node, ctx, "checklist", collected):
        if not ctx.mapping(spec, required=("title", "items")):
            continue
        title = _localized(spec.value["title"], ctx, collected, "a title")
        items_node = spec.value["items"]
        if not items_node.is_list or not items_node.value:
            ctx.expected(items_node, "a list of items, each a text per language")
            continue
        items = [_localized(item, ctx, collected, "an item") for item in items_node.value]
        if title is None or None in items:
            continue
        if _unique(ident, spec, collected.checklists, "checklist", ctx):
            collected.checklists[ident] = (Checklist(ident, title, tuple(items)), spec)  # type: ignore[arg-type]


def _templates(node: Node, ctx: ParseContext, collected: Collected) -> None:
    for ident, spec in _definitions(node, ctx, "template", collected):
        texts = _localized(spec, ctx, collected)
        if texts is None:
            continue
        compiled = {}
        for lang, source in texts.items():
            try:
                compiled[lang] = compile_text(source)
            except jinja2.TemplateSyntaxError as error:
                where = spec.value[lang]
                ctx.report(where, f"must be a valid template: {error.message} (line {error.lineno} of the text)")
        if len(compiled) == len(texts) and _unique(ident, spec, collected.templates, "template", ctx):
            collected.templates[ident] = (Template(ident, texts, compiled), spec)


# The loader reads each of these top-level sections with its function.
DEFINITION_SECTIONS: dict[str, SectionLoader] = {
    "departments": _departments,
    "calendars": _calendars,
    "checklists": _checklists,
    "templates": _templates,
}
