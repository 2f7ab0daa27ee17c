"""The feedback page's wording in English, Portuguese and Spanish (the languages of the
rule pack), and dates written as each language writes them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from integration.core.matching.language import LANGUAGES

Messages = Mapping[str, str]

MESSAGES: Mapping[str, Messages] = {
    "en": {
        "title": "How did we do?",
        "intro": "Your request has been resolved. How satisfied are you with the way we handled it?",
        "reference": "Reference: {ticket}",
        "legend": "Your rating",
        "rating.1": "1 – Very dissatisfied",
        "rating.2": "2 – Dissatisfied",
        "rating.3": "3 – Neither satisfied nor dissatisfied",
        "rating.4": "4 – Satisfied",
        "rating.5": "5 – Very satisfied",
        "comment": "Anything you would like to tell us? (optional)",
        "comment.hint": "Up to {limit} characters.",
        "submit": "Send my answer",
        "answered": "You have already answered. You can change your answer until {date}.",
        "error.rating": "Please choose a rating from 1 to 5.",
        "error.comment": "Please shorten your comment to {limit} characters (it has {length}).",
        "thanks.title": "Thank you!",
        "thanks.body": "Your answer has been recorded. You can change it through the same link until {date}.",
        "thanks.change": "Change my answer",
        "invalid.title": "This feedback link is not valid",
        "invalid.body": "Please check that you opened the whole link from our message. If it still does not work, reply to our message about your request.",
        "expired.title": "This feedback link has expired",
        "expired.body": "Feedback links can be used for a limited time. If you still want to tell us something, reply to our message about your request.",
        "unavailable.title": "Feedback cannot be received right now",
        "unavailable.body": "Please try again later.",
        "toolarge.title": "Your answer is too long",
        "toolarge.body": "Please go back and shorten your comment.",
        "toomany.title": "Too many answers in a short time",
        "toomany.body": "Your answers have been received. Please wait a while before changing your answer again.",
    },
    "pt": {
        "title": "Como foi o nosso atendimento?",
        "intro": "A sua solicitação foi resolvida. Qual é a sua satisfação com a forma como cuidamos dela?",
        "reference": "Referência: {ticket}",
        "legend": "Sua avaliação",
        "rating.1": "1 – Muito insatisfeito",
        "rating.2": "2 – Insatisfeito",
        "rating.3": "3 – Nem satisfeito nem insatisfeito",
        "rating.4": "4 – Satisfeito",
        "rating.5": "5 – Muito satisfeito",
        "comment": "Quer nos contar mais alguma coisa? (opcional)",
        "comment.hint": "Até {limit} caracteres.",
        "submit": "Enviar minha resposta",
        "answered": "Você já respondeu. Pode alterar a sua resposta até {date}.",
        "error.rating": "Escolha uma nota de 1 a 5.",
        "error.comment": "Encurte o seu comentário para {limit} caracteres (ele tem {length}).",
        "thanks.title": "Obrigado!",
        "thanks.body": "Sua resposta foi registrada. Você pode alterá-la pelo mesmo link até {date}.",
        "thanks.change": "Alterar minha resposta",
        "invalid.title": "Este link de avaliação não é válido",
        "invalid.body": "Verifique se você abriu o link completo da nossa mensagem. Se ainda não funcionar, responda à nossa mensagem sobre a sua solicitação.",
        "expired.title": "Este link de avaliação expirou",
        "expired.body": "Os links de avaliação podem ser usados por tempo limitado. Se ainda quiser nos dizer algo, responda à nossa mensagem sobre a sua solicitação.",
        "unavailable.title": "Não é possível receber avaliações agora",
        "unavailable.body": "Tente novamente mais tarde.",
        "toolarge.title": "Sua resposta é longa demais",
        "toolarge.body": "Volte e encurte o seu comentário.",
        "toomany.title": "Muitas respostas em pouco tempo",
        "toomany.body": "Suas respostas foram recebidas. Aguarde um pouco antes de alterar a sua resposta novamente.",
    },
    "es": {
        "title": "¿Cómo lo hicimos?",
        "intro": "Tu solicitud ha sido resuelta. ¿Qué tan satisfecho estás con la forma en que la atendimos?",
        "reference": "Referencia: {ticket}",
        "legend": "Tu valoración",
        "rating.1": "1 – Muy insatisfecho",
        "rating.2": "2 – Insatisfecho",
        "rating.3": "3 – Ni satisfecho ni insatisfecho",
        "rating.4": "4 – Satisfecho",
        "rating.5": "5 – Muy satisfecho",
        "comment": "¿Quieres contarnos algo más? (opcional)",
        "comment.hint": "Hasta {limit} caracteres.",
        "submit": "Enviar mi respuesta",
        "answered": "Ya respondiste. Puedes cambiar tu respuesta hasta el {date}.",
        "error.rating": "Elige una valoración del 1 al 5.",
        "error.comment": "Acorta tu comentario a {limit} caracteres (tiene {length}).",
        "thanks.title": "¡Gracias!",
        "thanks.body": "Tu respuesta ha quedado registrada. Puedes cambiarla con el mismo enlace hasta el {date}.",
        "thanks.change": "Cambiar mi respuesta",
        "invalid.title": "Este enlace de valoración no es válido",
        "invalid.body": "Comprueba que abriste el enlace completo de nuestro mensaje. Si sigue sin funcionar, responde a nuestro mensaje sobre tu solicitud.",
        "expired.title": "Este enlace de valoración ha caducado",
        "expired.body": "Los enlaces de valoración se pueden usar durante un tiempo limitado. Si aún quieres decirnos algo, responde a nuestro mensaje sobre tu solicitud.",
        "unavailable.title": "No podemos recibir valoraciones en este momento",
        "unavailable.body": "Inténtalo de nuevo más tarde.",
        "toolarge.title": "Tu respuesta es demasiado larga",
        "toolarge.body": "Vuelve atrás y acorta tu comentario.",
        "toomany.title": "Demasiadas respuestas en poco tiempo",
        "toomany.body": "Hemos recibido tus respuestas. Espera un rato antes de volver a cambiar tu respuesta.",
    },
}

_MONTHS: Mapping[str, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"),
    "pt": ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"),
}


def messages(language: str) -> Messages:
    return MESSAGES[language if language in LANGUAGES else "en"]


def long_date(moment: datetime, language: str) -> str:
    """"2 March 2026", "2 de março de 2026", "2 de marzo de 2026" (the date in UTC)."""
    month = _MONTHS[language if language in LANGUAGES else "en"][moment.month - 1]
    if language in ("pt", "es"):
        return f"{moment.day} de {month} de {moment.year}"
    return f"{moment.day} {month} {moment.year}"
