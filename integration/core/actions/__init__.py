"""Every action, registered in one place: importing this package fills `ACTIONS`."""

from integration.core.actions import checklist, deadlines, involve, messages, routing, ticket_fields  # noqa: F401
from integration.core.actions.base import ACTIONS, Action, register

__all__ = ["ACTIONS", "Action", "register"]
