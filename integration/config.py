"""Configuration from the environment (12-factor); nothing here is ever logged whole."""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

UNSIGNED_SETTING = "DEV_ALLOW_UNSIGNED_WEBHOOKS"


class ConfigError(Exception):
    """The service cannot start as configured; the message says what to set."""


def _secrets(value: str | None) -> tuple[str, ...]:
    """Comma-separated, so a secret can be rotated: the old and new both verify for a while."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@dataclass(frozen=True)
class Config:
    database_url: str = "sqlite:///var/dispute-desk.sqlite3"
    rules_path: str = "rules"
    zendesk_subdomain: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: str | None = field(default=None, repr=False)
    zendesk_oauth_token: str | None = field(default=None, repr=False)
    zendesk_webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    jira_url: str | None = None
    jira_email: str | None = None
    jira_api_token: str | None = field(default=None, repr=False)
    jira_pat: str | None = field(default=None, repr=False)
    jira_webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    public_url: str = "http://127.0.0.1:8000"
    public_url_given: bool = True  # False when the environment left PUBLIC_URL to its default
    secret_key: str | None = field(default=None, repr=False)
    metrics_token: str | None = field(default=None, repr=False)  # /metrics asks for it when set
    clock_tick: float = 15.0
    lease_seconds: float = 120.0  # how long a worker may hold an event before others take it
    api_timeout: float = 20.0  # seconds per request to Zendesk or Jira
    plan_seconds: float = 30.0  # planning one event for longer dead-letters it
    max_body_bytes: int = 1024 * 1024
    signature_tolerance_seconds: int = 300
    # Jira signs no timestamp header: its body's `timestamp` (when the event happened) must be
    # this recent, which outlasts Jira's retries and bounds how long a signed body is replayable.
    jira_max_age_seconds: int = 24 * 3600
    # Development only: a platform with no webhook secret accepts unsigned webhooks sent from
    # this machine (loopback). Without it such a platform's endpoint refuses every request.
    allow_unsigned_webhooks: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        get = lambda name: env.get(name) or None
        return cls(
            database_url=get("DATABASE_URL") or cls.database_url,
            rules_path=get("RULES_PATH") or cls.rules_path,
            zendesk_subdomain=get("ZENDESK_SUBDOMAIN"),
            zendesk_email=get("ZENDESK_EMAIL"),
            zendesk_api_token=get("ZENDESK_API_TOKEN"),
            zendesk_oauth_token=get("ZENDESK_OAUTH_TOKEN"),
            zendesk_webhook_secrets=_secrets(get("ZENDESK_WEBHOOK_SECRET")),
            jira_url=get("JIRA_URL"),
            jira_email=get("JIRA_EMAIL"),
            jira_api_token=get("JIRA_API_TOKEN"),
            jira_pat=get("JIRA_PAT"),
            jira_webhook_secrets=_secrets(get("JIRA_WEBHOOK_SECRET")),
            public_url=(get("PUBLIC_URL") or cls.public_url).rstrip("/"),
            public_url_given=bool(get("PUBLIC_URL")),
            secret_key=get("SECRET_KEY"),
            metrics_token=get("METRICS_TOKEN"),
            clock_tick=_number(get("CLOCK_TICK"), cls.clock_tick, "CLOCK_TICK"),
            lease_seconds=_number(get("WORKER_LEASE_SECONDS"), cls.lease_seconds, "WORKER_LEASE_SECONDS"),
            api_timeout=_number(get("API_TIMEOUT_SECONDS"), cls.api_timeout, "API_TIMEOUT_SECONDS"),
            plan_seconds=_number(get("PLAN_DEADLINE_SECONDS"), cls.plan_seconds, "PLAN_DEADLINE_SECONDS"),
            allow_unsigned_webhooks=(get(UNSIGNED_SETTING) or "").strip().lower() in ("1", "true", "yes"),
        )

    def _check_jira(self) -> None:
        problem = _jira_problem(self)
        if problem:
            raise ConfigError(problem)

    @property
    def zendesk_configured(self) -> bool:
        return bool(self.zendesk_subdomain and (self.zendesk_api_token or self.zendesk_oauth_token))

    @property
    def jira_configured(self) -> bool:
        return bool(self.jira_url and ((self.jira_email and self.jira_api_token) or self.jira_pat))

    def check(self) -> None:
        """Refuse configurations that would run unsafely, saying what to set."""
        if self.zendesk_configured and not self.zendesk_webhook_secrets:
            raise ConfigError(
                "ZENDESK_WEBHOOK_SECRET is not set, but Zendesk credentials are: unsigned webhooks could "
                "write to your tickets. Copy the signing secret from Admin Center > Apps and integrations > "
                "Webhooks > (your webhook) > Signing secret into ZENDESK_WEBHOOK_SECRET."
            )
        if self.zendesk_subdomain and not self.zendesk_configured:
            raise ConfigError("ZENDESK_SUBDOMAIN is set without ZENDESK_API_TOKEN (with ZENDESK_EMAIL) or ZENDESK_OAUTH_TOKEN.")
        if (self.zendesk_api_token or self.zendesk_oauth_token or self.zendesk_email) and not self.zendesk_subdomain:
            raise ConfigError("Zendesk credentials are set without ZENDESK_SUBDOMAIN (yourcompany for yourcompany.zendesk.com).")
        self._check_jira()
        if self.zendesk_api_token and not self.zendesk_email:
            raise ConfigError("ZENDESK_API_TOKEN needs ZENDESK_EMAIL (the agent the token belongs to).")
        if (self.zendesk_configured or self.jira_configured) and self.secret_key and not self.public_url_given:
            raise ConfigError(
                "PUBLIC_URL is not set, but Zendesk or Jira credentials and SECRET_KEY are: feedback links would point at "
                f"{self.public_url}. Set PUBLIC_URL to the https:// address customers reach this service at."
            )
        if (self.zendesk_configured or self.jira_configured) and not _safe_public_url(self.public_url):
            raise ConfigError(
                f"PUBLIC_URL must be an https:// address when Zendesk or Jira credentials are set (got {self.public_url}): "
                "feedback links carry the token that answers for a customer, and plain http shows it to anyone on the way."
            )


def _safe_public_url(url: str) -> bool:
    """https, or plain http to this machine only (a trial, the tests): no link leaves it."""
    parsed = urlsplit(url)
    return parsed.scheme == "https" or (parsed.scheme == "http" and parsed.hostname in ("127.0.0.1", "localhost", "::1"))


def _number(value: str | None, default: float, name: str) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds (got {value!r})") from None
    if not math.isfinite(number) or number <= 0:
        raise ConfigError(f"{name} must be a positive number of seconds (got {value!r})")
    return number


def _jira_problem(config: Config) -> str | None:
    if config.jira_pat and (config.jira_email or config.jira_api_token):
        return "set either JIRA_EMAIL + JIRA_API_TOKEN (Jira Cloud) or JIRA_PAT (Data Center), not both."
    if (config.jira_email or config.jira_api_token or config.jira_pat) and not config.jira_url:
        return "Jira credentials are set without JIRA_URL (https://yourcompany.atlassian.net)."
    if bool(config.jira_email) != bool(config.jira_api_token) and not config.jira_pat:
        return "JIRA_EMAIL and JIRA_API_TOKEN go together (the API token belongs to that account)."
    if config.jira_configured and not config.jira_webhook_secrets:
        return (
            "JIRA_WEBHOOK_SECRET is not set, but Jira credentials are: unsigned webhooks could write to your "
            "issues. Set a secret on the webhook (Jira settings > System > WebHooks) and the same value here."
        )
    return None


def unsigned_for_local_dry_run(environ: MutableMapping[str, str], host: str) -> bool:
    """`serve` with nothing connected, listening on this machine only, takes unsigned webhooks
    from this machine, so the embedded default works out of the box. Sets the development
    setting in `environ` (the process's own) unless it is set already; True if it did."""
    config = Config.from_env(environ)
    connected = config.zendesk_configured or config.jira_configured or config.zendesk_webhook_secrets or config.jira_webhook_secrets
    if connected or not is_loopback(host) or UNSIGNED_SETTING in environ:
        return False
    environ[UNSIGNED_SETTING] = "1"
    return True


def is_loopback(host: str | None) -> bool:
    try:
        return host == "localhost" or (host is not None and ipaddress.ip_address(host).is_loopback)
    except ValueError:
        return False
