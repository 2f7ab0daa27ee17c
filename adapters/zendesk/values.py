"""Single values from Zendesk payloads -> the values a `TicketEvent` holds: pure, no I/O.

Webhook bodies and API reads spell the same thing many ways: ids as strings or numbers (`"0"`
for none), placeholders a trigger left unrendered, `{{ticket.tags}}` space-separated, `OPEN`,
`open` or `Open`, `Web Form` for `web_form`, a language's display name for its code. This
module is where those spellings are known, so `normalize` and `refresh` only say which field
goes where.

The `normalize_*` functions and `language_code` map Zendesk's vocabulary onto RULES.md's
(statuses, priorities, channels, languages); the underscore readers (`_text`, `_id`, ...)
read one raw field tolerantly and are shared only within `adapters.zendesk`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from integration.core.events import LANGUAGES, PRIORITIES, STATUSES

# Zendesk via channels (API names, and the `{{ticket.via}}` display names once slugged).
# Decisions: a social network's own DMs count as `social`; messaging apps and SMS as `chat`;
# `any_channel` (Channel framework integrations, anything from reviews to forums) as `other`.
_CHANNEL_GROUPS: dict[str, tuple[str, ...]] = {
    "email": ("email", "mail", "connect_mail"),
    "web": ("web", "web_form", "web_widget", "help_center", "helpcenter"),
    "chat": (
        "chat", "chat_transcript", "chat_offline_message", "native_messaging", "messaging",
        "sunshine_conversations_api", "whatsapp", "line", "wechat", "viber", "telegram",
        "kakaotalk", "apple_business_chat", "google_business_messages", "google_rcs",
        "sms", "text_message", "twilio_sms", "messagebird_sms", "connect_sms",
    ),
    "phone": (
        "voice", "phone", "phone_call", "phone_call_inbound", "phone_call_outbound",
        "api_phone_call_inbound", "api_phone_call_outbound", "voicemail", "api_voicemail",
    ),
    "api": ("api", "web_service"),
    "social": (
        "twitter", "twitter_dm", "twitter_favorite", "facebook", "facebook_post",
        "facebook_message", "facebook_messenger", "instagram", "instagram_dm",
        "instagram_direct", "sunshine_conversations_facebook_messenger",
        "sunshine_conversations_twitter_dm",
    ),
}
_CHANNELS = {name: group for group, names in _CHANNEL_GROUPS.items() for name in names}

# `{{ticket.requester.language}}` renders the language's display name, not its code.
_LANGUAGE_NAMES = {
    "english": "en", "ingles": "en",
    "portugues": "pt", "portuguese": "pt",
    "espanol": "es", "spanish": "es", "castellano": "es",
}
_LOCALE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$")
# A placeholder a trigger left unrendered is the whole value: `{{ticket.via}}`. Braces inside
# a customer's text are the customer's text (else adding `{{` would blank a field).
_PLACEHOLDER = re.compile(r"\{\{\s*[\w.]+\s*\}\}")


# --- Zendesk's vocabulary -> RULES.md's ---------------------------------------------------


def normalize_status(value: Any) -> str | None:
    """`OPEN`, `open`, `Open`, `HOLD`, `On-hold`, ... -> RULES.md statuses; others -> None."""
    slug = _slug(value)
    if slug == "hold":
        return "on_hold"
    return slug if slug in STATUSES else None


def normalize_priority(value: Any) -> str | None:
    """`URGENT`, `urgent`, `Urgent` -> `urgent`; `-`, empty and unknown -> None."""
    slug = _slug(value)
    return slug if slug in PRIORITIES else None


def normalize_channel(value: Any) -> str | None:
    """A via channel (`native_messaging`, or `Web Form` as `{{ticket.via}}` shows it)."""
    slug = _slug(value)
    if not slug:
        return None
    return _CHANNELS.get(slug, "other")


def language_code(value: Any) -> str | None:
    """`pt-BR`, `Português (Brasil)`, `Spanish` -> `pt`/`es`/`en`; anything else -> None."""
    text = _text(value)
    if text is None:
        return None
    folded = _fold(text)
    locale = _LOCALE.match(folded)
    if locale:
        return locale.group(1) if locale.group(1) in LANGUAGES else None
    return _LANGUAGE_NAMES.get(folded.split("(")[0].strip())


# --- field readers ------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A present value as text; None for null, empty, or a placeholder left unrendered."""
    if value is None or isinstance(value, (Mapping, list)):
        return None
    text = str(value).strip()
    return None if not text or is_placeholder(text) else text


def is_placeholder(text: str) -> bool:
    return _PLACEHOLDER.fullmatch(text.strip()) is not None


def _id(value: Any) -> str | None:
    # Zendesk sends "0" for "none" in some event payloads (e.g. default_group_id).
    text = _text(value)
    return None if text in (None, "0") else text


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """Trigger body keys, spelling-insensitive: ticket_id, ticketId and ticketID are one."""
    return {_key(str(name)): value for name, value in body.items()}


def ambiguous_keys(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """Two keys of a body that `_fields` reads as one field (`ticket_id` and `ticketID`):
    which one counts would be a guess, so the body is refused."""
    seen: dict[str, str] = {}
    for name in map(str, body):
        first = seen.setdefault(_key(name), name)
        if first != name:
            return first, name
    return None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().strip()


def _slug(value: Any) -> str:
    text = _text(value)
    if text is None:
        return ""
    words = re.sub(r"\(.*?\)", " ", _fold(text))
    return re.sub(r"[^a-z0-9]+", "_", words).strip("_")


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(tag) for tag in value if str(tag).strip())
    return tuple((_text(value) or "").split())  # {{ticket.tags}} is space-separated


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return (_text(value) or "").lower() in ("true", "yes", "1")


def _time(value: Any) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _url(value: Any) -> str | None:
    text = _text(value)
    if text is None or "://" in text:
        return text
    return f"https://{text}"  # {{ticket.url}} renders without the scheme
