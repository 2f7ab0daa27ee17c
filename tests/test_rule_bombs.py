"""Rule files cannot exhaust the loader: aliases, size, nesting and template rendering are
bounded, each excess is a located problem, and the hot-reload watcher survives anything."""

from __future__ import annotations

import os
import shutil
import textwrap
import threading
import time
from pathlib import Path

import pytest

from integration.cli import _watch_rules
from integration.core.rules.loader import load_sources
from integration.core.syntax.nodes import MAX_DEPTH, MAX_FILE_CHARACTERS, MAX_VALUES
from integration.runtime.services import RulesHolder
from tests.conftest import RULES
from tests.time_limit import run_within

# "Billion laughs": nine aliases of nine, 10^9 values from a few hundred bytes.
ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]\n" for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            ALIAS_BOMB,
            f"r.yaml:1:14: f[0][3][3][7][2][1]: must hold at most {MAX_VALUES} values, counting each alias (*name) as the values it repeats (an alias bomb?)",
            id="alias-bomb",
        ),
        pytest.param(
            "settings: &loop\n  nested: *loop\n",
            "r.yaml:1:11: settings.nested: an alias (*name) is used inside the value its anchor (&name) names, so it never ends",
            id="recursive-anchor",
        ),
        pytest.param(
            "rules: &x [*x]\n",
            "r.yaml:1:8: rules[0]: an alias (*name) is used inside the value its anchor (&name) names, so it never ends",
            id="recursive-anchor-in-a-list",
        ),
        pytest.param(
            "a:\n" + "".join(f"{'  ' * (level + 1)}k:\n" for level in range(MAX_DEPTH + 1)),
            f"r.yaml:{MAX_DEPTH + 2}:{2 * MAX_DEPTH + 3}: a{'.k' * (MAX_DEPTH)}: must nest values at most {MAX_DEPTH} deep",
            id="too-deep",
        ),
    ],
)
def test_files_that_would_exhaust_the_loader_are_located_problems(text: str, expected: str) -> None:
    # In a fresh interpreter limited to 1 GB and a minute: the bomb needed more than 3 GB, the
    # recursive anchor raised RecursionError.
    code = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from integration.core.rules.loader import load_sources
        ruleset, problems = load_sources({{"r.yaml": {text!r}}})
        assert ruleset is None
        print("\\n".join(str(p) for p in problems))
        """
    )
    assert run_within(60, code) == expected


def test_a_file_too_large_is_a_problem_before_it_is_parsed() -> None:
    ruleset, problems = load_sources({"r.yaml": "# " + "x" * MAX_FILE_CHARACTERS + "\n"})
    assert ruleset is None
    assert [str(p) for p in problems] == [
        f"r.yaml:1:1: must be at most {MAX_FILE_CHARACTERS} characters (got {MAX_FILE_CHARACTERS + 3}); split it into several files"
    ]


def test_the_default_pack_is_far_inside_the_bounds(tmp_path: Path) -> None:
    sources = {str(path): path.read_text(encoding="utf-8") for path in RULES.glob("*.yaml")}
    assert all(len(text) < MAX_FILE_CHARACTERS // 10 for text in sources.values())
    ruleset, problems = load_sources(sources)
    assert problems == [] and ruleset is not None


def template_rules(source: str) -> str:
    return f"version: 1\ntemplates:\n  slow:\n    en: {source!r}\nrules:\n  - {{id: r, on: [created], then: {{note: slow}}}}\n"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "must render in at most 10000 loop rounds and range() values"),
        ("{% for i in range(99) %}{% for j in range(99) %}{% for k in range(99) %}{% endfor %}{% endfor %}{% endfor %}", "must render in at most 10000 loop rounds and range() values"),
        ("{% for c in ticket.description * 500 %}{% endfor %}", "must render in at most 10000 loop rounds and range() values"),
        ("{{ 'x' * 10 ** 9 }}", "must not make values that large (`*` on str and int)"),
        ("{{ 2 ** 100000000 }}", "must not make values that large (`**` on int and int)"),
        ("{{ ticket.subject|center(100000) }}", "must render at most 65536 characters"),
    ],
)
def test_templates_that_would_hang_the_load_are_located_problems(source: str, reason: str) -> None:
    code = f"from integration.core.rules.loader import load_sources\nprint(load_sources({{'r.yaml': {template_rules(source)!r}}})[1])"
    printed = run_within(60, code)
    assert f"line=4, column=9, path='templates.slow.en', message='must render against a sample event (got TemplateTooCostly: {reason})'" in printed


@pytest.mark.parametrize(
    ("source", "rendered"),
    [
        ("{% for tag in ticket.tags %}#{{ tag }} {% endfor %}", "#dispute"),
        ("{% for i in range(3) %}{{ loop.index }}{% else %}none{% endfor %}", "123"),
        ("{{ '-' * 20 }} {{ rating * 2 }}", "-------------------- 4"),
    ],
)
def test_ordinary_templates_render_as_before(source: str, rendered: str) -> None:
    ruleset, problems = load_sources({"r.yaml": template_rules(source)})
    assert problems == [] and ruleset is not None
    from integration.core.templates import SAMPLE_CONTEXT

    assert ruleset.templates["slow"].render("en", "en", SAMPLE_CONTEXT) == rendered


# ---- the hot-reload watcher -------------------------------------------------------------------


def wait_for(condition, seconds: float = 20.0) -> bool:
    limit = time.monotonic() + seconds
    while time.monotonic() < limit:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def touch_later(path: Path, text: str, step: list[int]) -> None:
    """Write, with a modification time that differs from the last write's."""
    path.write_text(text, encoding="utf-8")
    step[0] += 10
    os.utime(path, (time.time() + step[0], time.time() + step[0]))


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("rules: &x {nested: *x}\n", id="recursive-anchor"),
        pytest.param(ALIAS_BOMB, id="alias-bomb"),
        pytest.param(template_rules("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"), id="nested-range"),
    ],
)
def test_the_watcher_survives_a_bad_edit_and_loads_the_next_good_one(tmp_path: Path, bad: str) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    holder = RulesHolder.load(str(folder))
    first = holder.current
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_rules, args=(holder, stop, 0.05), daemon=True)
    watcher.start()
    step = [0]
    try:
        extra = folder / "90-extra.yaml"
        touch_later(extra, bad, step)
        assert wait_for(lambda: holder._stamp == holder._files_stamp())  # the bad edit was read...
        assert holder.current is first  # ...and the rules in force were kept
        touch_later(extra, "rules:\n  - {id: added-later, on: [created], then: {add_tags: [later]}}\n", step)
        assert wait_for(lambda: any(rule.id == "added-later" for rule in holder.current.rules)), "the good edit was never loaded"
        assert watcher.is_alive()
    finally:
        stop.set()
        watcher.join(timeout=10)
