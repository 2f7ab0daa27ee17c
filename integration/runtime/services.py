"""The long-lived parts of a process, built once from the configuration."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from integration.config import Config, ConfigError
from integration.core.ruleset import RuleSet
from integration.core.syntax.problems import RuleSetError
from integration.runtime.connections import Connections
from integration.runtime.inbox import Inbox
from integration.runtime.metrics import Metrics
from integration.runtime.rulefiles import load_ruleset, rule_files
from integration.runtime.store import connect, create_schema, is_postgres, one_migration_at_a_time

log = logging.getLogger("dispute_desk.rules")


@dataclass
class RulesHolder:
    """The rule set in force. A reload with any problem keeps the good rule set running."""

    path: str
    current: RuleSet
    _stamp: tuple[tuple[str, float], ...] = ()
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, path: str) -> RulesHolder:
        holder = cls(path, load_ruleset(path))  # raises RuleSetError: refuse to start
        holder._stamp = holder._files_stamp()
        return holder

    def __call__(self) -> RuleSet:
        return self.current

    def reload_if_changed(self) -> bool:
        stamp = self._files_stamp()
        if stamp == self._stamp:
            return False
        with self._lock:
            self._stamp = stamp
            try:
                self.current = load_ruleset(self.path)
            except RuleSetError as error:
                log.error("rule files changed but have problems; keeping the rules in force", extra={"problems": [str(p) for p in error.problems]})
                return False
            except Exception:  # a loader bug must not stop later good edits from loading
                log.exception("rule files changed but could not be loaded; keeping the rules in force")
                return False
        log.info("rules reloaded", extra={"rules": len(self.current.rules)})
        return True

    def _files_stamp(self) -> tuple[tuple[str, float], ...]:
        try:
            return tuple((str(p), p.stat().st_mtime) for p in rule_files(Path(self.path)))
        except OSError:
            return ()


@dataclass
class Services:
    config: Config
    engine: Engine
    inbox: Inbox
    rules: RulesHolder
    metrics: Metrics = field(default_factory=Metrics)
    connections: Connections = field(default_factory=Connections)  # platforms this process writes to

    @classmethod
    def build(cls, config: Config) -> Services:
        config.check()
        rules = RulesHolder.load(config.rules_path)
        engine = connect(config.database_url)
        prepare_schema(engine)
        return cls(config, engine, Inbox(engine, lease_seconds=config.lease_seconds), rules)


def prepare_schema(engine: Engine) -> None:
    """SQLite (one machine) migrates itself at start. On PostgreSQL, shared by many
    processes, migrating is a deliberate step: refuse to run against an old schema."""
    if not is_postgres(engine):
        with one_migration_at_a_time(engine):
            create_schema(engine)
        return
    from integration.runtime.migrations import current, head

    found, wanted = current(engine), head()
    if found != wanted:
        raise ConfigError(
            f"the database schema is at {found or 'nothing'} and this version needs {wanted}: "
            "run `dispute-desk db upgrade` (with the same DATABASE_URL) once, then start again."
        )
