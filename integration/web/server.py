"""The HTTP server `dispute-desk serve` runs the application on.

waitress, a production WSGI server: its I/O loop reads each request whole (headers and
body) before a thread sees it, so slow or stalled clients hold no thread, and connections
that stay silent are dropped. Werkzeug's development server started a thread per connection
and waited on it forever: a dozen slow clients took the webhooks down.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from waitress.server import create_server

THREADS = 8  # requests handled at once; waiting connections cost no thread
SILENT_SECONDS = 10  # a connection silent this long is closed (webhooks send at once)
CHECK_SECONDS = 2  # how often silent connections are looked for
CONNECTIONS = 200  # past this, new connections wait in the listen backlog


def make_server(app: Flask, host: str, port: int) -> Any:
    """A waitress server bound to host:port (0: any free port; see `effective_port`)."""
    limit = app.extensions["dispute_desk"].config.max_body_bytes
    return create_server(
        app,
        host=host,
        port=port,
        threads=THREADS,
        channel_timeout=SILENT_SECONDS,
        cleanup_interval=CHECK_SECONDS,
        connection_limit=CONNECTIONS,
        # A body a little over our limit still reaches the app for its JSON 413; one far
        # over it is refused by waitress before it is buffered.
        max_request_body_size=2 * limit,
        ident="dispute-desk",
    )
