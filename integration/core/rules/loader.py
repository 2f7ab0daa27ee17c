"""Load rule files: parse every file, validate every section, then resolve references
across files. All problems are collected and reported together; a rule set with any
problem is never returned. The files come in as text (`integration.runtime.rulefiles` reads
them from disk), so loading does no I/O.

This module drives the load and reads version, settings and rules itself; the named
definitions (departments, calendars, checklists, templates) are read by
`integration.core.rules.sections`, into the `Collected` of `integration.core.rules.collected`."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import jinja2

from integration.core.actions import ACTIONS, Action
from integration.core.conditions import Group, parse_group
from integration.core.events import EVENT_KINDS, EventKind
from integration.core.rules.collected import Collected
from integration.core.rules.sections import DEFINITION_SECTIONS, SectionLoader
from integration.core.rules.settings import settings_from, settings_section
from integration.core.ruleset import Department, Rule, RuleSet, Settings
from integration.core.syntax.context import ParseContext, Ref
from integration.core.syntax.nodes import Node, parse
from integration.core.syntax.problems import Problem
from integration.core.syntax.schema import one_of, unknown_key
from integration.core.templates import (
    FEEDBACK_SAMPLE_CONTEXT,
    SAMPLE_CONTEXT,
    TEMPLATE_VARIABLES,
    Template,
    render_bounded,
)

SECTIONS = ("version", "settings", "departments", "calendars", "checklists", "templates", "rules")
RULE_KEYS = ("id", "description", "on", "if", "then", "stop")
SUPPORTED_VERSION = 1


def load_sources(sources: Mapping[str, str]) -> tuple[RuleSet | None, list[Problem]]:
    """Rule files given as {file name: text}, loaded in name order."""
    ctx = ParseContext()
    collected = Collected()
    for file in sorted(sources):
        root, syntax = parse(sources[file], file)
        ctx.problems.extend(syntax)
        collected.files.append(file)
        if root is not None and not syntax:
            _load_document(root, ctx, collected)
    settings = settings_from(collected)
    _check_default_language(collected, settings, ctx)
    _resolve_references(collected, ctx)
    if ctx.problems:
        return None, sorted(set(ctx.problems))
    return _ruleset(collected, settings), []


def _load_document(root: Node, ctx: ParseContext, collected: Collected) -> None:
    checked = ctx.mapping(root, optional=SECTIONS, what=f"a mapping of sections ({one_of(SECTIONS)})")
    if not checked and not root.is_mapping:
        return
    loaders: dict[str, SectionLoader] = {
        "version": _version,
        "settings": settings_section,
        **DEFINITION_SECTIONS,
        "rules": _rules,
    }
    for key, node in root.items():
        if key in loaders:
            loaders[key](node, ctx, collected)


def _version(node: Node, ctx: ParseContext, collected: Collected) -> None:
    if node.value != SUPPORTED_VERSION or isinstance(node.value, bool):
        ctx.expected(node, f"{SUPPORTED_VERSION} (this dispute-desk reads version {SUPPORTED_VERSION} of the format)")


# ---- rules ---------------------------------------------------------------------------------


def _rules(node: Node, ctx: ParseContext, collected: Collected) -> None:
    if not node.is_list:
        ctx.expected(node, "a list of rules")
        return
    for rule_node in node.value:
        rule = _rule(rule_node, ctx)
        if rule is None:
            continue
        if rule.id in collected.rule_nodes:
            first = collected.rule_nodes[rule.id]
            ctx.report(rule_node.value["id"], f'rule id "{rule.id}" is used twice (first at {first.file}:{first.line})')
            continue
        collected.rule_nodes[rule.id] = rule_node
        collected.rules.append(rule)


def _rule(node: Node, ctx: ParseContext) -> Rule | None:
    # Unknown keys are reported, and the rule is still read so its other problems show too.
    checked = ctx.mapping(node, required=("id", "on", "then"), optional=("description", "if", "stop"), what="a rule (a mapping with id, on and then)")
    if not checked and (not node.is_mapping or any(key not in node.value for key in ("id", "on", "then"))):
        return None
    values = node.value
    ident = ctx.identifier(values["id"])
    kinds = ctx.choice_list(values["on"], EVENT_KINDS)
    condition: Group | None = parse_group(values["if"], ctx) if "if" in values else None
    actions = _actions(values["then"], ctx)
    description = ctx.string(values["description"]) if "description" in values else ""
    stop = ctx.boolean(values["stop"]) if "stop" in values else False
    if ident is None or kinds is None or actions is None or ("if" in values and condition is None):
        return None
    return Rule(
        id=ident,
        on=frozenset(EventKind(kind) for kind in kinds),
        actions=tuple(actions),
        condition=condition,
        description=description or "",
        stop=bool(stop),
        file=node.file,
        line=node.line,
    )


def _actions(node: Node, ctx: ParseContext) -> list[Action] | None:
    if not node.is_mapping or not node.value:
        ctx.expected(node, f"a mapping of actions ({one_of(ACTIONS)})")
        return None
    actions: list[Action] = []
    ok = True
    for name, config in node.items():
        action_type = ACTIONS.get(name)
        if action_type is None:
            ctx.problems.append(node.key_problem(name, unknown_key(name, list(ACTIONS)).replace("key", "action", 1)))
            ok = False
            continue
        action = action_type.parse(config, ctx)
        ok = ok and action is not None
        if action is not None:
            actions.append(action)
    return actions if ok else None


# ---- across files --------------------------------------------------------------------------


def _check_default_language(collected: Collected, settings: Settings, ctx: ParseContext) -> None:
    for node in collected.localized:
        if settings.default_language not in node.value:
            given = ", ".join(node.value)
            ctx.report(node, f'must have a text in the default language "{settings.default_language}" (settings.default_language) (got only {given})')


def _resolve_references(collected: Collected, ctx: ParseContext) -> None:
    defined: dict[str, Any] = {
        "department": collected.departments,
        "checklist": collected.checklists,
        "template": collected.templates,
        "calendar": collected.calendars,
        "custom_field": collected.settings.get("custom_fields", {}),
        "deadline": {name: None for name in ctx.deadlines_started},
    }
    usages: dict[str, set[str]] = {}
    for ref in ctx.refs:
        if ref.id not in defined[ref.kind] and (ref.kind, ref.id) not in collected.declared:
            ctx.report(ref.node, _unknown_ref(ref, defined[ref.kind]))
        elif ref.kind == "template" and ref.id in defined["template"]:
            usages.setdefault(ref.id, set()).add(ref.usage)
    for ident, (template, node) in collected.templates.items():
        # Not used by any rule yet: allow everything any action could give it.
        _test_render(template, node, usages.get(ident, {"feedback"}), ctx)


def _unknown_ref(ref: Ref, defined: Mapping[str, Any]) -> str:
    if ref.kind == "deadline":
        return f'no rule starts a deadline named "{ref.id}" (started: {one_of(sorted(defined)) or "none"})'
    noun = "custom field (settings.custom_fields)" if ref.kind == "custom_field" else ref.kind
    guess = difflib.get_close_matches(ref.id, list(defined), n=1)
    hint = f'; did you mean "{guess[0]}"?' if guess else ""
    return f'unknown {noun} "{ref.id}"{hint} (defined: {one_of(sorted(defined)) or "none"})'


def _test_render(template: Template, node: Node, usages: set[str], ctx: ParseContext) -> None:
    """Render every language against a sample event, as each action that uses it would."""
    for usage in sorted(usages):
        context = FEEDBACK_SAMPLE_CONTEXT if usage == "feedback" else SAMPLE_CONTEXT
        for lang, compiled in template.compiled.items():
            try:
                render_bounded(compiled, context)
            except jinja2.UndefinedError as error:
                ctx.report(node.value[lang], _undefined_message(error, usage))
            except Exception as error:  # noqa: BLE001 - any failure to render is the admin's to fix
                ctx.report(node.value[lang], f"must render against a sample event (got {type(error).__name__}: {error})")


def _undefined_message(error: jinja2.UndefinedError, usage: str) -> str:
    variables = list(TEMPLATE_VARIABLES) + (["feedback_url"] if usage == "feedback" else [])
    extra = "; feedback_url is only available to request_feedback" if "feedback_url" in str(error) else ""
    return f"must use only the available variables ({one_of(variables)}){extra} (got {error.message})"


def _ruleset(collected: Collected, settings: Settings) -> RuleSet:
    return RuleSet(
        rules=tuple(collected.rules),
        settings=settings,
        departments={k: v for k, (v, _) in collected.departments.items()},
        calendars={k: v for k, (v, _) in collected.calendars.items()},
        checklists={k: v for k, (v, _) in collected.checklists.items()},
        templates={k: v for k, (v, _) in collected.templates.items()},
        files=tuple(collected.files),
    )


def with_departments(ruleset: RuleSet, departments: Mapping[str, Department]) -> RuleSet:
    """A copy with resolved department targets (e.g. Zendesk group names turned into ids)."""
    return replace(ruleset, departments=dict(departments))
