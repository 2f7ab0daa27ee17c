"""The architecture as a contract: import-linter's contracts in pyproject.toml (web → runtime →
adapters → core, a core without I/O and without a circle) hold for the code as it is, and a
wrong-way import, added to a scratch copy of the tree, breaks the build with a message that
names the import.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("integration", "adapters")
MAX_MODULE_LINES = 400
MAX_MODULES_PER_PACKAGE = 12


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` run in `tree`, which comes first on the path (as the console script does)."""
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    return subprocess.run([sys.executable, "-c", code], check=False, cwd=tree, capture_output=True, text=True, timeout=120)


def scratch_copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


WRONG_WAY = [
    # (module that gains the import, the import, the contract it breaks, the message's line)
    ("integration/core/engine.py", "from integration.runtime import store", "cli → web → runtime → adapters → core",
     "integration.core.engine -> integration.runtime.store"),
    ("adapters/zendesk/normalize.py", "from integration.web import ops", "cli → web → runtime → adapters → core",
     "adapters.zendesk.normalize -> integration.web.ops"),
    ("integration/runtime/worker.py", "from integration.web import errors", "cli → web → runtime → adapters → core",
     "integration.runtime.worker -> integration.web.errors"),
    ("integration/core/ruleset.py", "from integration.core.conditions import Group", "Inside the core",
     "integration.core.ruleset -> integration.core.conditions"),
    ("integration/core/plan.py", "import sqlalchemy", "The core does no I/O", "integration.core.plan -> sqlalchemy"),
    ("adapters/jira/values.py", "import flask", "Adapters translate", "adapters.jira.values -> flask"),
]


@pytest.mark.parametrize("module, line, contract, named", WRONG_WAY, ids=[row[0] for row in WRONG_WAY])
def test_a_wrong_way_import_breaks_the_build_and_is_named(tmp_path: Path, module: str, line: str, contract: str, named: str) -> None:
    tree = scratch_copy(tmp_path)
    target = tree / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # scratch: the wrong way\n", encoding="utf-8")
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken
    assert named in broken


def python_modules(package: Path) -> list[Path]:
    return [path for path in package.glob("*.py") if path.name != "__init__.py"]


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_package_holds_more_than_12_modules_at_one_level() -> None:
    crowded = {
        str(folder.relative_to(ROOT)): count
        for package in PACKAGES
        for folder in [ROOT / package, *(ROOT / package).rglob("*/")]
        if folder.is_dir() and (count := len(python_modules(folder))) > MAX_MODULES_PER_PACKAGE
    }
    assert crowded == {}
