"""Text for fpdf2's core fonts (Helvetica: Latin-1, enough for Portuguese), shared by the PDFs the
backend writes (statements, company reports)."""

from __future__ import annotations

from fpdf import FPDF

_REPLACEMENTS = str.maketrans({"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "..."})


def latin1(text: str) -> str:
    """`text` as a core font can draw it: typographic dashes and quotes made plain, anything else
    outside Latin-1 as '?'."""
    return text.translate(_REPLACEMENTS).encode("latin-1", "replace").decode("latin-1")


def fit(pdf: FPDF, text: str, width: float) -> str:
    """`text` cut (with '...') to a column `width` wide in the document's current font."""
    if pdf.get_string_width(latin1(text)) <= width - 2:
        return text
    while len(text) > 1 and pdf.get_string_width(latin1(text + "...")) > width - 2:
        text = text[:-1]
    return text.rstrip() + "..."
