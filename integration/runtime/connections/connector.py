"""Connect each platform adapter (learn who we are: `users/me`, `/myself`) until it has
answered, backing off between attempts; an outage or a refused token is waited out and
reported (logs, /readyz), never a reason to exit. Only configuration errors stop a process,
and those are found before anything starts (`Config.check`).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

from adapters.base import Adapter, AdapterFailure, PermanentFailure, TemporaryFailure
from integration.runtime.inbox import RetryPolicy

log = logging.getLogger("dispute_desk.connections")

# From one second up to a minute between attempts; a Retry-After (429, 503) is honoured.
BACKOFF = RetryPolicy(base_seconds=1.0, cap_seconds=60.0)

DRY_RUN = "dry run (no credentials)"
CONNECTED = "connected"


class Connections:
    """What this process knows of each platform, for /readyz: connected, dry run, or not
    connected yet and why (the failure's kind, never the server's words or our address)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, str] = {}

    def set(self, platform: str, state: str) -> None:
        with self._lock:
            self._states[platform] = state

    def report(self) -> dict[str, str]:
        with self._lock:
            return dict(self._states)

    def waiting(self) -> list[str]:
        return [platform for platform, state in self.report().items() if state not in (CONNECTED, DRY_RUN)]


def connect_all(
    adapters: Mapping[str, Adapter],
    connections: Connections,
    stop: threading.Event,
    policy: RetryPolicy = BACKOFF,
    rng: random.Random | None = None,
) -> bool:
    """Connect every adapter that needs it, each retried until it answers; True once all
    have, False if `stop` was set first. Waits with `stop.wait`, so a stop ends it at once."""
    rng = rng or random.Random()
    for platform, adapter in adapters.items():
        start = getattr(adapter, "start", None)
        connections.set(platform, "not connected yet" if callable(start) else DRY_RUN)
    for platform, adapter in adapters.items():
        start = getattr(adapter, "start", None)
        if callable(start) and not _connect(platform, start, connections, stop, policy, rng):
            return False
    return True


def _connect(platform: str, start: Callable[[], Any], connections: Connections, stop: threading.Event, policy: RetryPolicy, rng: random.Random) -> bool:
    attempts = 0
    while not stop.is_set():
        attempts += 1
        try:
            problems = start()
        except Exception as error:  # noqa: BLE001 - whatever the platform did, we try again later
            failure = error if isinstance(error, AdapterFailure) else TemporaryFailure(f"unexpected {type(error).__name__}: {error}")
            delay = policy.delay(attempts, failure.retry_after, rng)
            _report_failure(platform, failure, attempts, delay, connections)
            if stop.wait(delay):
                return False
            continue
        for problem in problems or ():
            log.warning("%s: %s", platform, problem, extra={"platform": platform})
        connections.set(platform, CONNECTED)
        log.info("%s connected", platform, extra={"platform": platform, "attempts": attempts})
        return True
    return False


def _report_failure(platform: str, failure: AdapterFailure, attempts: int, delay: float, connections: Connections) -> None:
    kind = str(failure).split(":", 1)[0]  # "Zendesk answered 503", "Jira unreachable"
    connections.set(platform, f"not connected yet: {kind} (attempt {attempts})")
    extra = {"platform": platform, "attempt": attempts, "retry_in_seconds": round(delay, 1), "error": str(failure)}
    if isinstance(failure, PermanentFailure):  # 401, 403: the credentials, most likely
        log.error("%s refused the connection; check its credentials. Trying again in %.0f s", platform, delay, extra=extra)
    else:
        log.warning("%s unreachable; trying again in %.0f s", platform, delay, extra=extra)
