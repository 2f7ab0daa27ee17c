"""Connecting to the helpdesks in the background: a process starts (and takes webhooks)
during a Zendesk or Jira outage, and its workers start once every platform has answered."""

from integration.runtime.connections.connector import Connections, connect_all

__all__ = ["Connections", "connect_all"]
