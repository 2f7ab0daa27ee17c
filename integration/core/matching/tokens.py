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
from typing import NamedTuple

from integration.core.matching.text import TEXT_LIMIT, fold_word

__all__ = ["Token", "tokenize"]


class Token(NamedTuple):
    written: str  # as the customer wrote it
    folded: str  # case- and accent-folded, apostrophes as "'"
    start: int  # where it is in the text (for explanations)
    end: int
    clause: int  # tokens of one clause share this number


# One pass over the text, each match one of: a whole chunk (between whitespace) that is a link,
# an address or a handle; a word, with apostrophes inside ("won't", "d'água"; underscores are
# kept in the run so that "ticket_id_42" is seen, and left out, as one id); a mark that ends a
# clause (a line break is one). Every part is linear: no start but a chunk's can begin a link.
_WORD = r"""|(?P<word>\w+(?:['’]\w+)*)|(?P<end>[.,;:!?¡¿…()\[\]{}"“”«»|•–—\n])"""
_SCAN = re.compile(r"""(?P<skip>(?<!\S)(?:\S*(?:://|@)|[(\[<"']*(?:www\.|[\w-]+(?:\.[\w-]+)+/))\S*)""" + _WORD, re.IGNORECASE)
_SCAN_PROSE = re.compile(_WORD[1:])  # for the many texts with no "@", "/" or "www." in them
_DIGIT = re.compile(r"\d")
_ID_MIN_LENGTH = 4  # "2x", "24h", "4g" are words; "7e2e", "2294a6e9ece2", "123456" are ids


def _is_id(word: str) -> bool:
    if word.isalpha():
        return False
    return "_" in word or (len(word) >= _ID_MIN_LENGTH and _DIGIT.search(word) is not None)


def tokenize(text: str) -> list[Token]:
    """The words of `text` (its first TEXT_LIMIT characters) in order, each with its clause."""
    text = text[:TEXT_LIMIT]
    scan = _SCAN if "@" in text or "/" in text or "www." in text.lower() else _SCAN_PROSE
    tokens: list[Token] = []
    clause = 0
    for match in scan.finditer(text):
        kind = match.lastgroup
        if kind == "word":
            written = match.group()
            if not _is_id(written):
                folded = fold_word(written.replace("’", "'") if "’" in written else written)
                tokens.append(Token(written, folded, *match.span(), clause))
        elif kind == "end" and tokens and tokens[-1].clause == clause:
            clause += 1
    return tokens
