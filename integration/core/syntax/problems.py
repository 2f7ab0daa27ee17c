"""A problem in a rule file: a small sortable value that says where and what.

Printed as `FILE:LINE:COLUMN: PATH: what was expected (got what)`, like a compiler.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class RuleSetError(Exception):
    """Raised when a rule set has problems; a bad rule set is never loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__(self.report())

    def report(self) -> str:
        count = len(self.problems)
        lines = [str(problem) for problem in self.problems]
        lines.append(f"{count} problem{'s' if count != 1 else ''} found; the rule set was not loaded.")
        return "\n".join(lines)
