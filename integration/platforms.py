"""Which adapter serves each platform in this process: the real one where credentials are
set, the dry run otherwise, so the service works before it is connected to anything."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from adapters import zendesk
from adapters.base import Adapter
from adapters.dryrun import DryRunAdapter
from integration.events import TicketEvent
from integration.services import Services
from integration.worker import Worker

log = logging.getLogger("dispute_desk.platforms")

SUPPORTED = ("zendesk",)

Normalizer = Callable[[Mapping[str, Any], Mapping[str, str]], TicketEvent]


def normalizer(platform: str) -> Normalizer:
    if platform == "zendesk":
        return zendesk.normalize
    raise ValueError(f"this version reads only Zendesk payloads (got a {platform} payload)")


def guess_platform(payload: Any) -> str:
    if isinstance(payload, dict) and ("webhookEvent" in payload or "issue" in payload):
        return "jira"
    return "zendesk"


def build_adapters(services: Services) -> dict[str, Adapter]:
    config = services.config
    adapters: dict[str, Adapter] = {}
    if config.zendesk_configured:
        from adapters.zendesk.writer import ZendeskAdapter, make_client

        client = make_client(config.zendesk_subdomain or "", config.zendesk_email, config.zendesk_api_token, config.zendesk_oauth_token)
        adapter = ZendeskAdapter(client, services.rules)
        for problem in adapter.start():
            log.error("routing problem: %s", problem)
        log.info("Zendesk connected", extra={"subdomain": config.zendesk_subdomain, "own_user_id": adapter.own_user_id})
        adapters["zendesk"] = adapter
    else:
        log.warning("no Zendesk credentials: dry run, plans are recorded on each event and written nowhere")
        adapters["zendesk"] = DryRunAdapter("zendesk", zendesk.normalize)
    return adapters


def make_worker(services: Services, adapters: Mapping[str, Adapter]) -> Worker:
    return Worker(services.inbox, adapters, services.rules)
