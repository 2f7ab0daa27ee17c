"""Load rule files: parse every file, validate every section, then resolve references
across files. All problems are collected and reported together; a rule set with any
problem is never returned."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2

from integration import calendars
from integration.actions import ACTIONS, Action
from integration.conditions import Group, parse_group
from integration.events import EVENT_KINDS, LANGUAGES, EventKind
from integration.rules.context import ParseContext, Ref
from integration.rules.nodes import Node, parse
from integration.rules.problems import Problem, RuleSetError
from integration.rules.schema import ID_PATTERN, one_of, unknown_key
from integration.ruleset import Checklist, Department, Rule, RuleSet, Settings
from integration.templates import (
    FEEDBACK_SAMPLE_CONTEXT,
    SAMPLE_CONTEXT,
    TEMPLATE_VARIABLES,
    Template,
    compile_text,
)

SECTIONS = ("version", "settings", "departments", "calendars", "checklists", "templates", "rules")
RULE_KEYS = ("id", "description", "on", "if", "then", "stop")
SUPPORTED_VERSION = 1


@dataclass
class Collected:
    """Definitions gathered from every file, with the node each was defined at."""

    settings: dict[str, Any] = field(default_factory=dict)
    departments: dict[str, tuple[Department, Node]] = field(default_factory=dict)
    calendars: dict[str, tuple[calendars.Calendar, Node]] = field(default_factory=dict)
    checklists: dict[str, tuple[Checklist, Node]] = field(default_factory=dict)
    templates: dict[str, tuple[Template, Node]] = field(default_factory=dict)
    localized: list[Node] = field(default_factory=list)  # texts that must have the default language
    rules: list[Rule] = field(default_factory=list)
    rule_nodes: dict[str, Node] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    # Ids written down but invalid: references to them are not reported again (no cascades).
    declared: set[tuple[str, str]] = field(default_factory=set)


def rule_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def load_ruleset(path: str | Path) -> RuleSet:
    """The rule set at `path` (a directory of *.yaml files, or one file); raises RuleSetError."""
    ruleset, problems = check_rules(path)
    if problems or ruleset is None:
        raise RuleSetError(problems)
    return ruleset


def check_rules(path: str | Path) -> tuple[RuleSet | None, list[Problem]]:
    path = Path(path)
    if not path.exists():
        return None, [Problem(str(path), 1, 1, "", "no such file or directory")]
    files = rule_files(path)
    if not files:
        return None, [Problem(str(path), 1, 1, "", "no rule files (*.yaml) found here")]
    sources: dict[str, str] = {}
    problems: list[Problem] = []
    for file in files:
        try:
            sources[str(file)] = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Problem(str(file), 1, 1, "", f"cannot be read: {error}"))
    ruleset, more = load_sources(sources)
    return (None if problems else ruleset), problems + more


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
    settings = _settings(collected)
    _check_default_language(collected, settings, ctx)
    _resolve_references(collected, ctx)
    if ctx.problems:
        return None, sorted(set(ctx.problems))
    return _ruleset(collected, settings), []


def _load_document(root: Node, ctx: ParseContext, collected: Collected) -> None:
    checked = ctx.mapping(root, optional=SECTIONS, what=f"a mapping of sections ({one_of(SECTIONS)})")
    if not checked and not root.is_mapping:
        return
    loaders: dict[str, Callable[[Node, ParseContext, Collected], None]] = {
        "version": _version,
        "settings": _settings_section,
        "departments": _departments,
        "calendars": _calendars,
        "checklists": _checklists,
        "templates": _templates,
        "rules": _rules,
    }
    for key, node in root.items():
        if key in loaders:
            loaders[key](node, ctx, collected)


def _version(node: Node, ctx: ParseContext, collected: Collected) -> None:
    if node.value != SUPPORTED_VERSION or isinstance(node.value, bool):
        ctx.expected(node, f"{SUPPORTED_VERSION} (this dispute-desk reads version {SUPPORTED_VERSION} of the format)")


# ---- settings ------------------------------------------------------------------------------


def _settings_section(node: Node, ctx: ParseContext, collected: Collected) -> None:
    if not ctx.mapping(node, optional=("default_language", "custom_fields")):
        return
    for key, value in node.items():
        if key in collected.settings:
            ctx.problems.append(node.key_problem(key, f'"{key}" is already set in another file'))
            continue
        if key == "default_language":
            language = ctx.choice(value, LANGUAGES)
            if language:
                collected.settings[key] = language
        elif key == "custom_fields":
            fields = _custom_fields(value, ctx)
            if fields is not None:
                collected.settings[key] = fields


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


def _settings(collected: Collected) -> Settings:
    return Settings(
        default_language=collected.settings.get("default_language", "en"),
        custom_fields=collected.settings.get("custom_fields", {}),
    )


# ---- named definitions ---------------------------------------------------------------------


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
        tz = _parsed(values["timezone"], calendars.parse_timezone, ctx)
        hours = _parsed(values["hours"], calendars.parse_hours, ctx, mapping=True)
        holiday_code = _parsed(values["holidays"], calendars.parse_holidays, ctx) if "holidays" in values else None
        if tz is None or hours is None or ("holidays" in values and holiday_code is None):
            continue
        try:
            calendar = calendars.Calendar(ident, tz, hours, holiday_code)
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
                compiled.render(context)
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
