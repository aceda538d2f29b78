"""Text as people type it on a phone: accents, case and punctuation that must not matter."""

from __future__ import annotations

import re
import unicodedata


def without_accents(text: str | None) -> str:
    """'Médico do Coração' -> 'Medico do Coracao' (case, spacing and punctuation kept)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold(text: str | None) -> str:
    """Lowercase, no accents, anything but letters and digits as single spaces:
    'Médico do Coração!' -> 'medico do coracao'."""
    return " ".join(re.findall(r"[a-z0-9]+", without_accents(text).lower()))
