"""Worker threads that start once every platform has answered (see `connector`)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from adapters.base import Adapter
from integration.runtime import platforms
from integration.runtime.connections.connector import connect_all
from integration.runtime.services import Services


def start_when_connected(services: Services, adapters: Mapping[str, Adapter], count: int, stop: threading.Event, threads: list[threading.Thread]) -> None:
    """Connect every platform (however long an outage lasts), then start `count` worker
    threads and add them to `threads`. Until then stored events wait in the inbox."""
    if not connect_all(adapters, services.connections, stop):
        return
    for index in range(max(count, 1)):
        worker = platforms.make_worker(services, adapters)
        thread = threading.Thread(target=worker.run, args=(stop,), name=f"worker-{index}", daemon=True)
        thread.start()
        threads.append(thread)
