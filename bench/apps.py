"""WSGI apps for bench/ack.py, served by gunicorn exactly the same way.

    gunicorn -w 2 -k gthread --threads 4 -b 127.0.0.1:PORT 'bench.apps:dispute_desk_app()'
    gunicorn -w 2 -k gthread --threads 4 -b 127.0.0.1:PORT 'bench.apps:bare_app()'

`dispute_desk_app()` builds the real app with the real factory from these variables
(deliberately not Config.from_env(), so stray ZENDESK_* / JIRA_* variables in the shell
cannot change what is measured):

    DD_BENCH_DATABASE_URL    required, e.g. sqlite:////tmp/x/dd.sqlite3
    DD_BENCH_WEBHOOK_SECRET  required, the Zendesk signing secret
    DD_BENCH_RULES_PATH      default: <repo>/rules
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def dispute_desk_app():  # type: ignore[no-untyped-def]
    from integration import create_app
    from integration.config import Config

    config = Config(
        database_url=os.environ["DD_BENCH_DATABASE_URL"],
        rules_path=os.environ.get("DD_BENCH_RULES_PATH") or str(ROOT / "rules"),
        zendesk_webhook_secrets=(os.environ["DD_BENCH_WEBHOOK_SECRET"],),
    )
    return create_app(config)


def bare_app():  # type: ignore[no-untyped-def]
    """The floor: one POST endpoint that answers 202 with a small JSON body, nothing else."""
    from flask import Flask, jsonify

    app = Flask("bare")

    @app.post("/webhooks/zendesk")
    def receive():  # type: ignore[no-untyped-def]
        return jsonify(status="accepted"), 202

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        return jsonify(status="ok")

    return app
