"""The feedback page: GET|POST /feedback/<token>, server-rendered, working without JavaScript.

The signed token is the only credential: it names the ticket and the resolution, so the
form needs no session, no cookie and therefore no CSRF token. A forged page cannot post
an answer for a ticket without knowing that ticket's token, and a known token already
allows answering. Because the token is in the URL, pages are never cached and never sent
as a referrer.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from integration.core.feedback import tokens
from integration.core.feedback.messages import long_date, messages
from integration.core.feedback.tokens import FeedbackLink, TokenExpired, TokenForged
from integration.core.matching.language import LANGUAGES
from integration.runtime.feedback.answers import (
    COMMENT_LIMIT,
    TooManyAnswers,
    clean_comment,
    submit,
)
from integration.runtime.feedback.store import latest_answer
from integration.web.errors import ApiError
from integration.web.webhooks import read_body

log = logging.getLogger("dispute_desk.feedback")

blueprint = Blueprint("feedback", __name__, template_folder="templates")

MAX_BODY_BYTES = 64 * 1024  # the form's largest honest body (2000 characters, percent-encoded) fits
RATINGS = {str(value): value for value in range(1, 6)}
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    if not app.extensions["dispute_desk"].config.secret_key:
        log.warning("SECRET_KEY is not set: feedback links cannot be signed, and the feedback page answers 503")


@blueprint.after_request
def secure(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response


@blueprint.route("/feedback/<token>", methods=["GET", "POST"])
def page(token: str) -> ResponseReturnValue:
    services = current_app.extensions["dispute_desk"]
    secret = services.config.secret_key
    if not secret:
        return _message("unavailable", _browser_language(), 503)
    try:
        link = tokens.read(secret, token, datetime.now(UTC))  # a request handler is an edge: it may read the clock
    except TokenExpired as refused:
        return _message("expired", refused.link.language, 410)  # genuine: its language can be trusted
    except TokenForged:
        return _message("invalid", _browser_language(), 404)
    try:
        return _answer(services, link, token) if request.method == "POST" else _form(services, link)
    except SQLAlchemyError:
        log.exception("feedback page: database unavailable", extra={"ticket": link.ticket_key})
        return _message("unavailable", link.language, 503, {"Retry-After": "30"})


def _form(services: Any, link: FeedbackLink) -> ResponseReturnValue:
    """The form, prefilled with the latest answer so that it can be changed."""
    with services.engine.connect() as connection:
        previous = latest_answer(connection, link)
    rating, comment = previous if previous else (None, None)
    until = long_date(link.expires_at, link.language) if previous else None
    return _render_form(link, rating, comment, {}, until, 200)


def _answer(services: Any, link: FeedbackLink, token: str) -> ResponseReturnValue:
    form = _posted_form()
    if form is None:
        return _message("toolarge", link.language, 413)
    m = messages(link.language)
    rating = RATINGS.get(form.get("rating", "").strip())
    comment = clean_comment(form.get("comment"))
    errors = {}
    if rating is None:
        errors["rating"] = m["error.rating"]
    if comment and len(comment) > COMMENT_LIMIT:
        errors["comment"] = m["error.comment"].format(limit=COMMENT_LIMIT, length=len(comment))
    if rating is None or errors:
        return _render_form(link, rating, comment, errors, None, 400)
    try:
        answer_id = submit(services.engine, services.inbox, link, rating, comment, datetime.now(UTC))
    except TooManyAnswers as refused:
        return _message("toomany", link.language, 429, {"Retry-After": str(refused.retry_after)})
    log.info("feedback received", extra={"ticket": link.ticket_key, "rating": rating, "answer_id": answer_id})
    return _render(
        "feedback/thanks.html", link.language, messages(link.language)["thanks.title"], 200,
        until=long_date(link.expires_at, link.language), again=url_for("feedback.page", token=token),
    )


def _posted_form() -> dict[str, str] | None:
    """The form's fields, read from at most MAX_BODY_BYTES + 1 bytes whatever the encoding
    (Werkzeug's own form parsing reads a chunked body to its end); None when over the limit.
    Only the urlencoded form the page sends is understood; anything else has no fields."""
    try:
        body = read_body(request, MAX_BODY_BYTES)
    except ApiError:
        return None
    if request.mimetype != "application/x-www-form-urlencoded":
        return {}
    try:
        pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=20)
    except ValueError:  # more fields than any honest form has
        return {}
    return {name: value for name, value in reversed(pairs)}  # the first of a repeated field counts


def _render_form(link: FeedbackLink, rating: int | None, comment: str | None, errors: dict[str, str], until: str | None, status: int) -> ResponseReturnValue:
    # A refused comment is shown again to be shortened, but never more of it than the limit.
    return _render(
        "feedback/form.html", link.language, messages(link.language)["title"], status,
        rating=rating, comment=comment[:COMMENT_LIMIT] if comment else comment, errors=errors, until=until, ticket=link.reference or link.ticket_id, limit=COMMENT_LIMIT,
    )


def _message(kind: str, language: str, status: int, headers: dict[str, str] | None = None) -> ResponseReturnValue:
    m = messages(language)
    body = render_template("feedback/message.html", language=language, title=m[f"{kind}.title"], body=m[f"{kind}.body"])
    return body, status, headers or {}


def _render(template: str, language: str, title: str, status: int, **context: Any) -> ResponseReturnValue:
    return render_template(template, language=language, title=title, m=messages(language), **context), status


def _browser_language() -> str:
    """For pages without a trustworthy link: the browser's preferred language we speak."""
    return request.accept_languages.best_match(LANGUAGES) or "en"
