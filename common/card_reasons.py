"""The reasons for a card reissue (CASSE list) as people type them: 'perdi' -> Extravio,
'quebrou' -> Danificação, 'roubaram, tenho B.O.' -> Roubo C/ B.O. Pure functions shared by the
backend (which decides) and the bot (which asks "com ou sem B.O.?" before submitting)."""

from __future__ import annotations

import re

from common.text import fold

CARD_REISSUE_REASONS = ("Danificação", "Extravio", "Renovação", "Roubo C/ B.O", "Roubo S/ B.O")
DAMAGE, LOSS, RENEWAL, ROBBERY_WITH_REPORT, ROBBERY_WITHOUT_REPORT = CARD_REISSUE_REASONS
ROBBERY = "Roubo"  # robbery or theft, police report not said: ask before requesting

# Folded words/phrases (lowercase, no accents, punctuation as spaces) -> reason.
REASON_SYNONYMS: dict[str, tuple[str, ...]] = {
    DAMAGE: (
        "danificacao",
        "danificada",
        "danificado",
        "danificou",
        "danificar",
        "dano",
        "danos",
        "quebrou",
        "quebrada",
        "quebrado",
        "quebrei",
        "estragou",
        "estragada",
        "estragado",
        "rasgou",
        "rasgada",
        "rasgado",
        "molhou",
        "molhada",
        "desgastada",
        "gasta",
        "apagada",
        "apagou",
        "ilegivel",
        "trincou",
        "trincada",
        "dobrou",
        "chip",
        "tarja",
        "nao passa",
        "nao le",
    ),
    LOSS: (
        "extravio",
        "extraviada",
        "extraviado",
        "extraviou",
        "extraviei",
        "perdi",
        "perdeu",
        "perda",
        "perdida",
        "perdido",
        "sumiu",
        "sumida",
        "nao acho",
        "nao encontro",
        "esqueci onde",
    ),
    RENEWAL: (
        "renovacao",
        "renovar",
        "renova",
        "venceu",
        "vencida",
        "vencido",
        "vencimento",
        "validade",
        "expirou",
        "expirada",
        "expirado",
        "fora da validade",
    ),
}
_ROBBERY_WORDS = (
    "roubo",
    "roubada",
    "roubado",
    "roubaram",
    "roubou",
    "furto",
    "furtada",
    "furtado",
    "furtaram",
    "furtou",
    "assalto",
    "assaltado",
    "assaltada",
    "assaltaram",
)
_WITHOUT_REPORT = (
    "s bo",
    "sem bo",
    "nao fiz bo",
    "nao tenho bo",
    "nao registrei",
    "nao fiz o bo",
    "sem registro",
    "nao tem bo",
)
_WITH_REPORT = (
    "c bo",
    "com bo",
    "fiz bo",
    "fiz o bo",
    "tenho bo",
    "tenho o bo",
    "registrei",
    "registrado",
    "com registro",
)


def _has(padded: str, phrases) -> bool:
    return any(f" {phrase} " in padded for phrase in phrases)


def normalize_reason(text: str | None, *, police_report: str | None = None) -> str | None:
    """'roubo com bo' -> 'Roubo C/ B.O'; 'perdi' -> 'Extravio'; 'quebrou' -> 'Danificação';
    'venceu' -> 'Renovação'; 'roubaram' -> ROBBERY (or 'Roubo C/ B.O' when a police report number
    is given); None when unknown."""
    folded = fold(text)
    if not folded:
        return None
    # "b.o." -> "b o" -> "bo"; "boletim (de ocorrência)" -> "bo"
    folded = re.sub(r"\bb o\b", "bo", folded)
    folded = re.sub(r"\bboletim( de ocorrencia)?\b", "bo", folded)
    folded = re.sub(r"\bocorrencia\b", "bo", folded)
    padded = f" {folded} "
    for reason in CARD_REISSUE_REASONS:
        if folded == fold(reason).replace(" b o", " bo"):
            return reason
    robbery = _has(padded, _ROBBERY_WORDS)
    if not robbery:
        for reason, phrases in REASON_SYNONYMS.items():
            if _has(padded, phrases):
                return reason
    if robbery or _has(padded, ("bo",)):  # a police report alone means a robbery or theft
        if _has(padded, _WITHOUT_REPORT):
            return ROBBERY_WITHOUT_REPORT
        if _has(padded, _WITH_REPORT) or (police_report or "").strip():
            return ROBBERY_WITH_REPORT
        if robbery:
            return ROBBERY
    return None
