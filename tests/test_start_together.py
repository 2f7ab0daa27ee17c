"""Processes that start together on one fresh SQLite file (the Procfile's gunicorn boots two
workers at once) migrate it one after another. Two migrating at once made one fail with
"database is locked", and gunicorn then stops every worker: the web went away under load."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

ROUNDS, PROCESSES = 8, 3


def prepare(url: str, answers: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from integration.runtime.services import prepare_schema
    from integration.runtime.store import connect

    try:
        prepare_schema(connect(url))
        answers.put("ok")
    except Exception as error:  # noqa: BLE001 - the answer is the evidence: any failure, named
        answers.put(f"{type(error).__name__}: {error}".splitlines()[0])


def test_processes_starting_together_migrate_one_fresh_sqlite_file_one_at_a_time(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    failures = []
    for round_ in range(ROUNDS):
        url = f"sqlite:///{tmp_path / f'round-{round_}.sqlite3'}"
        answers = context.Queue()
        starting = [context.Process(target=prepare, args=(url, answers)) for _ in range(PROCESSES)]
        for process in starting:
            process.start()
        for process in starting:
            process.join(timeout=60)
        failures += [answer for answer in (answers.get(timeout=10) for _ in starting) if answer != "ok"]
    assert failures == []
