"""Jira adapter: webhook payloads -> `TicketEvent`s (`identify`, `normalize`, `refresh`)."""

from adapters.jira.normalize import (
    PART_HEADER,
    PARTS,
    WEBHOOK_ID_HEADER,
    Envelope,
    NotActedOn,
    NotATicketEvent,
    identify,
    normalize,
    refresh,
)
from adapters.jira.values import (
    DEFAULT_PRIORITIES,
    DEFAULT_STATUS_CATEGORIES,
    DEFAULT_STATUS_NAMES,
    adf_to_text,
    jira_priority_name,
    normalize_priority,
    normalize_status,
    normalize_transition_target,
)

__all__ = [
    "DEFAULT_PRIORITIES",
    "DEFAULT_STATUS_CATEGORIES",
    "DEFAULT_STATUS_NAMES",
    "PARTS",
    "PART_HEADER",
    "WEBHOOK_ID_HEADER",
    "Envelope",
    "NotATicketEvent",
    "NotActedOn",
    "adf_to_text",
    "identify",
    "jira_priority_name",
    "normalize",
    "normalize_priority",
    "normalize_status",
    "normalize_transition_target",
    "refresh",
]
