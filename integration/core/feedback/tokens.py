"""Signed feedback links: who is asked (platform, ticket, which resolution), in which
language, for which department, and until when.

Pure: time is an argument. The untimed `URLSafeSerializer` is used on purpose, with the
expiry inside the signed payload, because itsdangerous's timed serializer reads the
system clock itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

from integration.core.events import PLATFORMS
from integration.core.matching.language import LANGUAGES

SALT = "dispute-desk.feedback"  # keeps these signatures apart from anything else SECRET_KEY signs
VALID_FOR = timedelta(days=30)

# Short keys keep the link short in the customer's message.
_KEYS = {"p": str, "t": str, "r": str, "l": str, "exp": int}


class TokenRefused(Exception):
    """A feedback link that cannot be used; the message says why."""


class TokenForged(TokenRefused):
    """Not signed with our key, altered, or not a feedback token at all."""


class TokenExpired(TokenRefused):
    """Genuine, but past its expiry; `link` is still trustworthy (e.g. for its language)."""

    def __init__(self, message: str, link: FeedbackLink) -> None:
        super().__init__(message)
        self.link = link


@dataclass(frozen=True)
class FeedbackLink:
    platform: str
    ticket_id: str
    resolution: str  # which solve asked (the solving event's delivery id)
    language: str
    department: str | None
    expires_at: datetime
    reference: str = ""  # what the customer calls the ticket: its id, or a Jira issue key

    @property
    def ticket_key(self) -> str:
        return f"{self.platform}:{self.ticket_id}"


def issue(
    secret_key: str,
    platform: str,
    ticket_id: str,
    resolution: str,
    language: str,
    department: str | None,
    now: datetime,
    valid_for: timedelta = VALID_FOR,
    reference: str | None = None,
) -> str:
    """A token for PUBLIC_URL/feedback/<token>, valid from `now` for `valid_for`."""
    _require_aware(now)
    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)} (got {platform!r})")
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)} (got {language!r})")
    if valid_for <= timedelta(0):
        raise ValueError(f"valid_for must be positive (got {valid_for})")
    payload = {
        "p": platform,
        "t": str(ticket_id),
        "r": resolution,
        "l": language,
        "d": department,
        "exp": int((now + valid_for).timestamp()),
    }
    if reference and reference != str(ticket_id):
        payload["k"] = reference  # the ticket as the customer knows it (a Jira key: DD-7)
    return str(_serializer(secret_key).dumps(payload))


def read(secret_key: str, token: str, now: datetime) -> FeedbackLink:
    """The link a token stands for; raises TokenForged or TokenExpired."""
    _require_aware(now)
    try:
        payload = _serializer(secret_key).loads(token)
    except BadData:
        raise TokenForged("the feedback link's signature does not match") from None
    link = _link(payload)
    if now >= link.expires_at:
        raise TokenExpired(f"the feedback link expired at {link.expires_at.isoformat()}", link)
    return link


def url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/feedback/{token}"


_IN_URL = re.compile(r"(/feedback/)[A-Za-z0-9_.-]+")
REDACTED = "[token]"


def redact(text: str) -> str:
    """The text with the token of every feedback link replaced: a token answers for the
    ticket, so it lives only in the comment written to it, never in a log or an outcome."""
    return _IN_URL.sub(rf"\g<1>{REDACTED}", text)


def redacted(value: Any) -> Any:
    """`redact` through the strings of a JSON-like value (dicts, lists, tuples)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(item) for item in value]
    return value


def _serializer(secret_key: str) -> URLSafeSerializer:
    """SECRET_KEY may list keys, comma-separated, while rotating: the first signs, and links
    signed with any of them are still read (itsdangerous signs with the last of its list)."""
    keys = [key.strip() for key in secret_key.split(",") if key.strip()]
    if not keys:
        raise ValueError("a secret key is needed to sign or read feedback links (SECRET_KEY)")
    return URLSafeSerializer(list(reversed(keys)), salt=SALT)


def _link(payload: Any) -> FeedbackLink:
    """Signed but malformed (another version's format, or a leaked key): refused as forged."""
    if not isinstance(payload, dict) or any(not isinstance(payload.get(k), t) for k, t in _KEYS.items()):
        raise TokenForged("the feedback link is malformed")
    department, reference = payload.get("d"), payload.get("k")
    if payload["p"] not in PLATFORMS or payload["l"] not in LANGUAGES or not isinstance(department, str | None) or not isinstance(reference, str | None):
        raise TokenForged("the feedback link is malformed")
    return FeedbackLink(
        platform=payload["p"],
        ticket_id=payload["t"],
        resolution=payload["r"],
        language=payload["l"],
        department=department,
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        reference=reference or payload["t"],
    )


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise TypeError("now must be an aware datetime (UTC)")
