"""Text helpers shared by the channel formatters: splitting under a size limit, option matching."""

from __future__ import annotations

import re

from common.text import fold

_PARAGRAPH_RE = re.compile(r"\n\s*\n")
# a sentence ends at . ! ? … (optionally followed by closing quotes/brackets) and then a space
_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])[\"')\]]*\s+")
_BOLD_RE = re.compile(r"\*\*(.+?)\*\*", re.S)


def split_text(text: str, limit: int) -> list[str]:
    """Splits `text` into parts of at most `limit` characters, cutting at paragraph breaks
    first, then at sentence ends, then at line breaks / spaces, and only as a last resort
    inside a word. Small paragraphs are packed together; no part is empty."""
    text = (text or "").strip()
    if not text:
        return []
    if len(text) <= limit:
        return [text]
    pieces: list[tuple[str, str]] = []  # (piece, separator that preceded it)
    for i, paragraph in enumerate(p.strip() for p in _PARAGRAPH_RE.split(text)):
        if not paragraph:
            continue
        sep = "\n\n" if i else ""
        if len(paragraph) <= limit:
            pieces.append((paragraph, sep))
            continue
        for j, sentence in enumerate(_split_long(paragraph, limit)):
            pieces.append((sentence, sep if j == 0 else " "))
    parts: list[str] = []
    current = ""
    for piece, sep in pieces:
        if not current:
            current = piece
        elif len(current) + len(sep) + len(piece) <= limit:
            current += sep + piece
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return parts


def _split_long(paragraph: str, limit: int) -> list[str]:
    """One paragraph longer than `limit`: sentences, then lines/words, then hard cuts."""
    out: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE_END_RE.split(paragraph)):
        if not sentence:
            continue
        rest = sentence
        while len(rest) > limit:
            cut = max(rest.rfind("\n", 0, limit + 1), rest.rfind(" ", 0, limit + 1))
            if cut <= 0:
                cut = limit
            out.append(rest[:cut].strip())
            rest = rest[cut:].strip()
        if rest:
            out.append(rest)
    return out


def markdown_bold_to_whatsapp(text: str) -> str:
    """'**Atenção**' (web markdown) -> '*Atenção*' (WhatsApp)."""
    return _BOLD_RE.sub(r"*\1*", text or "")


def strip_markdown_bold(text: str) -> str:
    return _BOLD_RE.sub(r"\1", text or "")


_NUMBER_WORDS = {
    "um": 1,
    "uma": 1,
    "primeira": 1,
    "primeiro": 1,
    "dois": 2,
    "duas": 2,
    "segunda": 2,
    "segundo": 2,
    "tres": 3,
    "terceira": 3,
    "terceiro": 3,
    "quatro": 4,
    "quarta": 4,
    "quarto": 4,
    "cinco": 5,
    "quinta": 5,
    "quinto": 5,
    "seis": 6,
    "sexta": 6,
    "sexto": 6,
}
_OPTION_PREFIXES = ("opcao", "numero", "n", "a", "o")  # normalized: "opção 2", "nº 2", "a primeira"


def match_option(text: str, options: list[dict]) -> str | None:
    """The payload of the option the user picked, or None.

    `options` are the buttons last shown ({"title", "payload"}). Accepted: the option's number
    ("1", "1.", "1️⃣", "opção 1", "a primeira", "dois") or its title, ignoring case, accents
    and punctuation ("nao" picks "Não")."""
    if not options:
        return None
    said = fold(text)
    if not said:
        return None
    for prefix in _OPTION_PREFIXES:
        rest = said[len(prefix) + 1 :] if said.startswith(prefix + " ") else ""
        if rest.isdigit() or rest in _NUMBER_WORDS:
            said = rest
            break
    number = int(said) if said.isdigit() and len(said) <= 2 else _NUMBER_WORDS.get(said)
    if number is not None:
        if 1 <= number <= len(options):
            return _payload(options[number - 1])
        return None
    for option in options:
        if said == fold(option.get("title", "")):
            return _payload(option)
    return None


def _payload(option: dict) -> str:
    return option.get("payload") or option.get("title", "")
