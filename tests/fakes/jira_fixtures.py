"""pytest fixtures for the Jira fake; import them into a conftest or a test module.

    from tests.fakes.jira_fixtures import fake_jira, fake_jira_server, jira_client  # noqa: F401

Unlike zenpy, the ``jira`` client takes the server URL as given, so no environment tricks
are needed: ``make_jira_client(fake)`` builds the real ``jira.JIRA`` the way production
should (see its docstring), pointed at ``fake.url``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jira import JIRA

from tests.fakes.jira import FakeJira

JIRA_EMAIL = "bot@example.com"
JIRA_API_TOKEN = "test-api-token"  # Cloud: Basic email:API token
JIRA_PAT = "test-personal-access-token"  # Server/Data Center: Bearer personal access token
JIRA_TIMEOUT = 5.0


def jira_client_kwargs(fake: FakeJira) -> dict[str, Any]:
    """The ``JIRA(...)`` arguments production should use for this deployment.

    * Cloud: ``basic_auth=(email, API token)``, REST v3 (ADF bodies); Server/DC:
      ``token_auth=PAT``, REST v2 (wiki-markup strings) -- v3 does not exist there.
    * ``max_retries=0``: ResilientSession then never sleeps (its retry delay is twice the
      Retry-After, slept in the calling thread); a 429/503 raises ``JIRAError`` at once with
      the response (and its Retry-After) attached, so the inbox owns backoff.
    * ``timeout``: the library default is None (wait forever); a read timeout raises
      ``requests.exceptions.ReadTimeout`` and is never retried.
    * ``get_server_info=True``: one ``GET serverInfo`` at construction; without it a Cloud
      client believes it is Server (``deploymentType`` drives ``_is_cloud``).
    """
    kwargs: dict[str, Any] = {
        "server": fake.url,
        "options": {"rest_api_version": fake.default_api_version},
        "max_retries": 0,
        "timeout": JIRA_TIMEOUT,
        "get_server_info": True,
    }
    if fake.cloud:
        kwargs["basic_auth"] = (JIRA_EMAIL, JIRA_API_TOKEN)
    else:
        kwargs["token_auth"] = JIRA_PAT
    return kwargs


def make_jira_client(fake: FakeJira, **options: Any) -> JIRA:
    """The real ``jira.JIRA`` for ``fake``; keyword arguments override ``jira_client_kwargs``.

    An ``options`` dict is merged into the default one, so
    ``make_jira_client(fake, options={"rest_api_version": "2"})`` keeps everything else.
    """
    kwargs = jira_client_kwargs(fake)
    merged_options = {**kwargs["options"], **options.pop("options", {})}
    kwargs.update(options)
    kwargs["options"] = merged_options
    return JIRA(**kwargs)


@pytest.fixture
def fake_jira() -> Iterator[FakeJira]:
    """A started Jira Cloud fake (REST v2 and v3) accepting only ``JIRA_API_TOKEN``."""
    with FakeJira(deployment="cloud", token=JIRA_API_TOKEN) as fake:
        yield fake


@pytest.fixture
def fake_jira_server() -> Iterator[FakeJira]:
    """A started Jira Server/Data Center fake (REST v2) accepting only ``JIRA_PAT``."""
    with FakeJira(deployment="server", token=JIRA_PAT) as fake:
        yield fake


@pytest.fixture
def jira_client(fake_jira: FakeJira) -> Iterator[JIRA]:
    """The real jira client for ``fake_jira`` (Cloud, v3, no retries, 5 s timeout)."""
    client = make_jira_client(fake_jira)
    yield client
    client.close()


@pytest.fixture
def jira_server_client(fake_jira_server: FakeJira) -> Iterator[JIRA]:
    """The real jira client for ``fake_jira_server`` (Bearer PAT, v2)."""
    client = make_jira_client(fake_jira_server)
    yield client
    client.close()
