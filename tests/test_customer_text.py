"""Customer text is quoted, not rendered (issue 11, item 16): what a customer wrote (a
feedback comment, a subject, a name) is escaped by each platform's own rules where our notes
carry it, and the feedback comment is a block labelled as written by the customer, in the
ticket's language.

Rules checked: Jira's wiki renderer (Data Center, REST v2) lets a backslash escape
`- # * _ + ? ^ ~ | % { } [ ] ( ) ! @` (its BackslashEscapeRendererComponent); `[text|url]` is a
link, `!url!` an image, `[~name]` a mention, `\\` a line break. Zendesk renders Markdown in a
comment's `body` (CommonMark backslash escapes) and expands `{{placeholders}}` and Liquid
tags. Jira Cloud's ADF text nodes are literal.

Pure: the engine plans from the default rule pack, and the adapters' own body builders
render the plan, as they do before each write.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.jira.comments import comment_body
from adapters.zendesk.bodies import update_bodies
from integration.core import engine
from integration.core.events import EventKind, Requester, TicketEvent
from integration.runtime.rulefiles import load_ruleset
from tests.conftest import RULES

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
RULESET = load_ruleset(RULES)
LOCALES = {"en": "en-US", "pt": "pt-BR", "es": "es-ES"}
LABELS = {"en": "Comment written by the customer:", "pt": "Comentário escrito pelo cliente:", "es": "Comentario escrito por el cliente:"}


def answer(comment: str, language: str = "en", rating: int = 1, subject: str = "Charged twice") -> TicketEvent:
    return TicketEvent(
        platform="zendesk",
        ticket_id="35436",
        kinds=frozenset({EventKind.FEEDBACK_RECEIVED}),
        delivery_id="feedback:7",
        source_type="dispute-desk:feedback_received",
        status="solved",
        subject=subject,
        tags=("dispute",),
        requester=Requester(id="1", name="Ana", locale=LOCALES[language]),
        rating=rating,
        feedback_comment=comment,
    )


def answer_note(event: TicketEvent) -> Any:
    plan = engine.plan(event, RULESET, NOW)
    [note] = [n for n in plan.effects.notes if n.key.startswith("feedback-answer:")]
    return note


def zendesk_body(event: TicketEvent) -> str:
    [body] = update_bodies(engine.plan(event, RULESET, NOW), lambda department: 1)
    return str(body["comment"]["body"])


ATTACKS = [
    ("a wiki link", "see [here|https://evil.example/login]", r"see \[here\|https://evil.example/login\]"),
    ("an external image", "!https://evil.example/pixel.png!", r"\!https://evil.example/pixel.png\!"),
    ("a mention", "ping [~admin] now", r"ping \[\~admin\] now"),
    ("a macro", "{color:red}urgent{color}", r"\{color:red\}urgent\{color\}"),
    ("a backslash before markup", r"a\[~admin]", r"a&#92;\[\~admin\]"),
]


@pytest.mark.parametrize("comment, expected", [case[1:] for case in ATTACKS], ids=[case[0] for case in ATTACKS])
def test_on_jira_data_center_the_comment_is_escaped_wiki_markup_in_a_labelled_quote(comment, expected):
    body = comment_body(answer_note(answer(comment)), cloud=False)

    assert body.splitlines() == ["Customer feedback: ★☆☆☆☆ 1/5.", LABELS["en"], "{quote}", expected, "{quote}"]


def test_on_jira_cloud_the_comment_is_literal_text_in_adf():
    doc = comment_body(answer_note(answer("see [here|https://evil.example] and [click](https://evil.example)")), cloud=True)

    texts = [node["text"] for paragraph in doc["content"] for node in paragraph["content"] if node["type"] == "text"]
    assert texts == ["Customer feedback: ★☆☆☆☆ 1/5.", LABELS["en"], "see [here|https://evil.example] and [click](https://evil.example)"]


MARKDOWN = [
    ("a link", "[click here](https://evil.example)", r"> \[click here\](https://evil.example)"),
    ("an image", "![x](https://evil.example/pixel.png)", r"> \!\[x\](https://evil.example/pixel.png)"),
    ("an autolink and html", "<https://evil.example> <img src=x>", r"> \<https://evil.example\> \<img src=x\>"),
    ("a placeholder", "{{ticket.requester.email}}", "> {\u200b{ticket.requester.email}}"),
    ("a liquid tag", "{% for c in ticket.comments %}x{% endfor %}", "> {\u200b% for c in ticket.comments %}x{\u200b% endfor %}"),
    ("a heading and emphasis", "# Refund *now*", r"> \# Refund \*now\*"),
]


@pytest.mark.parametrize("comment, expected", [case[1:] for case in MARKDOWN], ids=[case[0] for case in MARKDOWN])
def test_on_zendesk_the_comment_is_escaped_markdown_in_a_labelled_quote(comment, expected):
    body = zendesk_body(answer(comment, rating=4))  # a good rating: only the built-in note

    assert body.splitlines()[:3] == ["Customer feedback: ★★★★☆ 4/5.", LABELS["en"], expected]


@pytest.mark.parametrize("language", ["en", "pt", "es"])
def test_the_label_is_in_the_tickets_language_and_every_line_is_quoted(language):
    body = zendesk_body(answer("First line.\n\nSecond [line](x).", language, rating=5))

    assert body.splitlines()[1:5] == [LABELS[language], "> First line.", ">", r"> Second \[line\](x)."]


@pytest.mark.parametrize(
    "cloud, expected",
    [
        (False, r'Their comment: "\[\~admin\] \!https://evil.example/p.png\!"'),
        (True, 'Their comment: "[~admin] !https://evil.example/p.png!"'),
    ],
    ids=["data center", "cloud"],
)
def test_a_rule_template_quoting_the_comment_escapes_it_too(cloud, expected):
    """The default pack's low-rating note prints `{{ feedback_comment }}` inside a sentence."""
    plan = engine.plan(answer("[~admin] !https://evil.example/p.png!", rating=1), RULESET, NOW)
    [low] = [n for n in plan.effects.notes if n.key.endswith("low-rating-note")]
    body = comment_body(low, cloud=cloud)
    text = body if isinstance(body, str) else " ".join(node.get("text", "") for p in body["content"] for node in p["content"])
    assert expected in text


@pytest.mark.parametrize(
    "cloud, platform_body",
    [(False, r'sobre "\[Refund\|https://evil.example\] \{\{x\}\}"'), (True, 'sobre "[Refund|https://evil.example] {{x}}"')],
    ids=["data center", "cloud"],
)
def test_a_subject_in_a_public_reply_is_escaped_on_jira(cloud, platform_body):
    subject = "[Refund|https://evil.example] {{x}}"
    event = TicketEvent(
        platform="jira", ticket_id="10010", kinds=frozenset({EventKind.CREATED}), delivery_id="d-1", source_type="jira:issue_created",
        status="new", channel="chat", subject=subject, description="Fui cobrado duas vezes, quero o reembolso.", requester=Requester(id="a", name="Ana", locale="pt-BR"),
    )
    plan = engine.plan(event, RULESET, NOW)
    [reply] = [n for n in plan.effects.notes if n.public]
    body = comment_body(reply, cloud=cloud)
    text = body if isinstance(body, str) else " ".join(node.get("text", "") for p in body["content"] for node in p["content"])
    assert platform_body in text


def test_a_subject_in_a_zendesk_public_reply_is_escaped_markdown():
    event = TicketEvent(
        platform="zendesk", ticket_id="35436", kinds=frozenset({EventKind.CREATED}), delivery_id="d-1", source_type="zen:event-type:ticket.created",
        status="new", channel="chat", subject="![x](https://evil.example/p.png) {{ticket.requester.email}}", description="Fui cobrado duas vezes, quero o reembolso.",
        requester=Requester(id="1", name="[Ana](https://evil.example)", locale="pt-BR"),
    )
    bodies = update_bodies(engine.plan(event, RULESET, NOW), lambda department: 1)
    [public] = [body["comment"]["body"] for body in bodies if body.get("comment", {}).get("public")]
    assert public.startswith(r"Olá, \[Ana\](https://evil.example),")
    assert '"\\!\\[x\\](https://evil.example/p.png) {\u200b{ticket.requester.email}}"' in public
