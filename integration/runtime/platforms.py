"""Which adapter serves each platform in this process: the real one where credentials are
set, the dry run otherwise, so the service works before it is connected to anything."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from adapters import jira, zendesk
from adapters.base import Adapter
from adapters.dryrun import DryRunAdapter
from integration.core.events import TicketEvent
from integration.core.feedback.links import FeedbackLinks
from integration.runtime.services import Services
from integration.runtime.worker import Worker

log = logging.getLogger("dispute_desk.platforms")

SUPPORTED = ("zendesk", "jira")

Normalizer = Callable[[Mapping[str, Any], Mapping[str, str]], TicketEvent]


def normalizer(platform: str) -> Normalizer:
    return {"zendesk": zendesk.normalize, "jira": jira.normalize}[platform]


def guess_platform(payload: Any) -> str:
    if isinstance(payload, dict) and ("webhookEvent" in payload or "issue" in payload):
        return "jira"
    return "zendesk"


def build_adapters(services: Services) -> dict[str, Adapter]:
    """The adapters, connected at once (users/me, /myself): a failure raises. Processes
    connect in the background instead (`connections.connect_all`), outages and all."""
    adapters = make_adapters(services)
    for adapter in adapters.values():
        start = getattr(adapter, "start", None)
        for problem in start() if callable(start) else ():
            log.error("routing problem: %s", problem)
    return adapters


def make_adapters(services: Services) -> dict[str, Adapter]:
    """One adapter per platform: the real one where credentials are set (not connected yet:
    building one makes no request), the dry run otherwise."""
    return {"zendesk": _zendesk_adapter(services), "jira": _jira_adapter(services)}


def _zendesk_adapter(services: Services) -> Adapter:
    config = services.config
    if not config.zendesk_configured:
        log.warning("no Zendesk credentials: dry run, plans are recorded on each event and written nowhere")
        return DryRunAdapter("zendesk", zendesk.normalize)
    from adapters.zendesk.writer import ZendeskAdapter, make_client

    client = make_client(config.zendesk_subdomain or "", config.zendesk_email, config.zendesk_api_token, config.zendesk_oauth_token, config.api_timeout)
    return ZendeskAdapter(client, services.rules)


def _jira_adapter(services: Services) -> Adapter:
    config = services.config
    if not config.jira_configured:
        log.warning("no Jira credentials: dry run for Jira webhooks")
        return DryRunAdapter("jira", jira.normalize)
    from adapters.jira.writer import JiraAdapter, make_client

    client = make_client(config.jira_url or "", config.jira_email, config.jira_api_token, config.jira_pat, config.api_timeout)
    return JiraAdapter(client, services.rules, cloud=not config.jira_pat)


def make_worker(services: Services, adapters: Mapping[str, Adapter]) -> Worker:
    config = services.config
    return Worker(
        services.inbox, adapters, services.rules, feedback=FeedbackLinks(config.secret_key, config.public_url), plan_seconds=config.plan_seconds
    )
