"""pytest fixtures for the Zendesk fake; import them into a conftest or a test module.

    from tests.fakes.fixtures import fake_zendesk, zenpy_client  # noqa: F401

``zenpy_client`` is the real zenpy client with its traffic redirected by the
``ZENPY_FORCE_SCHEME``/``ZENPY_FORCE_NETLOC`` variables. zenpy reads them on every
request, so they are set with ``monkeypatch`` for the whole test (not just while the
client is built) and are restored afterwards. Use ``make_zenpy_client`` when a test
needs other zenpy arguments (``ratelimit_budget``, ``timeout``, ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from requests.adapters import HTTPAdapter
from zenpy import Zenpy

from tests.fakes.zendesk import FakeZendesk

ZENPY_EMAIL = "bot@example.com"
ZENPY_TOKEN = "test-api-token"


def point_zenpy_at(fake: FakeZendesk, monkeypatch: pytest.MonkeyPatch) -> None:
    """Redirect every zenpy client in this process to ``fake`` for the rest of the test."""
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", fake.netloc)


def make_zenpy_client(*, mirror_https_retries: bool = True, **kwargs: Any) -> Zenpy:
    """A zenpy client as production builds it (call ``point_zenpy_at`` first).

    ``mirror_https_retries`` mounts zenpy's own urllib3 retry adapter on http:// too:
    zenpy mounts it for https:// only, so without this a test against the http fake
    would not see the retries production does on 503 and on read timeouts.
    """
    options: dict[str, Any] = {
        "subdomain": "example",
        "email": ZENPY_EMAIL,
        "token": ZENPY_TOKEN,
        "disable_cache": True,
        **kwargs,
    }
    client = Zenpy(**options)
    if mirror_https_retries:
        client.users.session.mount("http://", HTTPAdapter(**Zenpy.http_adapter_kwargs()))
    return client


@pytest.fixture
def fake_zendesk() -> Iterator[FakeZendesk]:
    """A started FakeZendesk, stopped (threads joined) after the test."""
    with FakeZendesk() as fake:
        yield fake


@pytest.fixture
def zenpy_client(fake_zendesk: FakeZendesk, monkeypatch: pytest.MonkeyPatch) -> Zenpy:
    """The real zenpy client talking to ``fake_zendesk``; object cache disabled."""
    point_zenpy_at(fake_zendesk, monkeypatch)
    return make_zenpy_client()
