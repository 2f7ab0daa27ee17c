"""Rule files read from disk: a directory of *.yaml files (loaded in name order) or one file,
handed to the core's loader as text."""

from __future__ import annotations

from pathlib import Path

from integration.core.rules.loader import load_sources
from integration.core.ruleset import RuleSet
from integration.core.syntax.problems import Problem, RuleSetError


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
