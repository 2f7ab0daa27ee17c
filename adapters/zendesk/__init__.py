"""Zendesk adapter: webhook payloads -> `TicketEvent` (`normalize`); the writer comes later."""

from adapters.zendesk.normalize import (
    TRIGGER_BODY_TEMPLATE,
    Envelope,
    NotActedOn,
    NotATicketEvent,
    identify,
    normalize,
    refresh,
    trigger_body_template,
)

__all__ = [
    "TRIGGER_BODY_TEMPLATE",
    "Envelope",
    "NotATicketEvent",
    "NotActedOn",
    "identify",
    "normalize",
    "refresh",
    "trigger_body_template",
]
