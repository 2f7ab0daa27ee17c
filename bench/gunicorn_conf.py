"""Gunicorn settings shared by both apps in bench/ack.py (served the same way).

post_worker_init writes one marker file per worker once its app is loaded, so the benchmark
starts only when every worker can accept connections: otherwise the first worker to finish
loading takes every keep-alive connection for the whole run.
"""

import os
from pathlib import Path


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    ready = os.environ.get("DD_BENCH_READY_DIR")
    if ready:
        Path(ready, f"worker-{os.getpid()}").write_text("ready\n")
