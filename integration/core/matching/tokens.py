"""Customer text as a list of words, for the operators that compare words rather than run a
regex (`stems`, `fuzzy`, `negated`).

What is not prose is left out, so it can never be a cue: links ("https://x.com/refund-policy",
"www.x.com", "x.com/refund"), e-mail addresses and @handles ("@fraudwatch"), and ids (words with
an underscore, or with a digit and more than 3 characters: order numbers, hex strings, UUIDs).
Hyphens, slashes and apostrophes join nothing: "Reclame-Aqui" is the words "reclame" and "aqui",
"won't" stays one word. Other punctuation (. , ; : ! ? and the like) and line breaks end a
clause: a phrase, or a negation and the word it negates, never reach across one.
Pure: standard library only, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from integration.core.matching.text import TEXT_LIMIT, fold_word

__all__ = ["Token", "tokenize"]


@dataclass(frozen=True, slots=True)
class Token:
    written: str  # as the customer wrote it
    folded: str  # case- and accent-folded, apostrophes as "'"
    start: int  # where it is in the text (for explanations)
    end: int
    clause: int  # tokens of one clause share this number


# A chunk is what lies between whitespace; links, addresses and handles are whole chunks.
_CHUNK = re.compile(r"\S+")
_LINK = re.compile(r"://|^[(\[<\"']*www\.|^[(\[<\"']*[\w-]+(?:\.[\w-]+)+/", re.IGNORECASE)
# Words: letters and digits, with apostrophes inside ("won't", "d'água"); underscores are
# kept in the run so that "ticket_id_42" is seen, and left out, as one id.
_WORD = re.compile(r"\w+(?:['’]\w+)*")
_CLAUSE_END = re.compile(r"[.,;:!?¡¿…()\[\]{}\"“”«»|•–—]")
_DIGIT = re.compile(r"\d")
_ID_MIN_LENGTH = 4  # "2x", "24h", "4g" are words; "7e2e", "2294a6e9ece2", "123456" are ids


def _is_id(word: str) -> bool:
    return "_" in word or (len(word) >= _ID_MIN_LENGTH and _DIGIT.search(word) is not None)


def _not_prose(chunk: str) -> bool:
    return "@" in chunk or _LINK.search(chunk) is not None


def tokenize(text: str) -> list[Token]:
    """The words of `text` (its first TEXT_LIMIT characters) in order, each with its clause."""
    tokens: list[Token] = []
    clause = 0
    text = text[:TEXT_LIMIT]
    previous_end = 0
    for chunk in _CHUNK.finditer(text):
        if "\n" in text[previous_end : chunk.start()]:
            clause += 1  # a line break ends a clause, as a full stop does
        previous_end = chunk.end()
        if _not_prose(chunk.group()):
            continue
        clause = _chunk_tokens(chunk.group(), chunk.start(), clause, tokens)
    return tokens


def _chunk_tokens(chunk: str, offset: int, clause: int, tokens: list[Token]) -> int:
    """Append the chunk's words; the clause number after it."""
    position = 0
    for word in _WORD.finditer(chunk):
        if _CLAUSE_END.search(chunk, position, word.start()):
            clause += 1
        position = word.end()
        written = word.group()
        if not _is_id(written):
            folded = fold_word(written.replace("’", "'"))
            tokens.append(Token(written, folded, offset + word.start(), offset + word.end(), clause))
    if _CLAUSE_END.search(chunk, position):
        clause += 1
    return clause
