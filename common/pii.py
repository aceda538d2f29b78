"""Masking of personal data (LGPD) for logs, for any text echoed back to a user, and for what is
kept at rest.

Logs and echoes (`mask_text`) keep a hint of the value, for support:
CPF  -> ***.807.302-**        e-mail -> m***@exemplo.com.br
birth date -> **/**/1985      phone  -> +55 79 *****-0001

At rest (`mask_at_rest`: the conversation store, bot.tracker_store) nothing of the value stays,
only its kind: "[cpf]", "[carteirinha]", "[e-mail]", "[data]", "[telefone]", "[nome]"; protocol
numbers stay (they are how a request is followed). Log lines also lose the secret of the one-time
links (`mask_secret_paths`: /conta/ativar/[token], /documentos/[token]).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from common.patterns import CARD_RE as _CARD_RE
from common.patterns import CPF_RE as _CPF_RE
from common.patterns import EMAIL_RE as _EMAIL_RE
from common.patterns import ISO_DATE_RE as _ISO_DATE_RE
from common.patterns import NUMERIC_DATE_RE as _DATE_RE
from common.patterns import fixed_form_spans
from common.text import without_accents

_PHONE_RE = re.compile(r"(?<!\d)(\+?55\s?)?\(?(\d{2})\)?[\s-]?9?\d{4}-(\d{4})(?!\d)")
_E164_BR_RE = re.compile(r"\+55(\d{2})\d{4,5}(\d{4})(?!\d)")


def only_digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def mask_cpf(cpf: str) -> str:
    """'945.807.302-24' or '94580730224' -> '***.807.302-**'."""
    digits = only_digits(cpf)
    if len(digits) != 11:
        return "***"
    return f"***.{digits[3:6]}.{digits[6:9]}-**"


def mask_email(email: str) -> str:
    """'maria.santos@exemplo.com.br' -> 'm***@exemplo.com.br'."""
    if not email or "@" not in email:
        return "***"
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_birth_date(value: str) -> str:
    """Keeps only the year: '12/03/1985' or '1985-03-12' -> '**/**/1985'."""
    m = _ISO_DATE_RE.search(value or "")
    if m:
        return f"**/**/{m.group(1)}"
    m = _DATE_RE.search(value or "")
    if m:
        return f"**/**/{m.group(4)}"
    return "**/**/****"


def mask_phone(value: str) -> str:
    digits = only_digits(value)
    if len(digits) < 8:
        return "***"
    return f"*****-{digits[-4:]}"


def mask_text(text: str) -> str:
    """Masks every CPF, e-mail, date and phone found in free text (used on log lines)."""
    if not text:
        return text
    text = _EMAIL_RE.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _CPF_RE.sub(lambda m: f"***.{m.group(2)}.{m.group(3)}-**", text)
    text = _ISO_DATE_RE.sub(lambda m: f"{m.group(1)}-**-**", text)
    text = _DATE_RE.sub(lambda m: f"**{m.group(2)}**{m.group(2)}{m.group(4)}", text)
    text = _PHONE_RE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)} *****-{m.group(3)}", text)
    text = _E164_BR_RE.sub(lambda m: f"+55{m.group(1)}*****{m.group(2)}", text)
    return text


class PiiMaskingFilter(logging.Filter):
    """Rewrites every log record so no CPF, e-mail, date, phone or link secret reaches a log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not kill logging (nor be logged)
            message = str(record.msg)
        record.msg = mask_log_text(message)
        record.args = None
        if record.exc_text:
            record.exc_text = mask_log_text(record.exc_text)
        return True


# --- secrets in paths -----------------------------------------------------------------------------
# The backend's pages whose last segment is a secret: every single-use account link
# (/conta/<page>/<token>: backend.links.PATHS and the e-mail change's cancel link) and the signed
# document links (/documentos/<token>: backend.signed_links.PATH_PREFIX).
# tests/backend/test_backend_access_log.py checks these against the backend's routes.
SECRET_PLACEHOLDER = "[token]"  # noqa: S105 (what replaces a secret, not one)
_SECRET_PATH_RE = re.compile(r"(/conta/[a-z][a-z-]*/|/documentos/)[^/?#\s\"'<>]+")


def mask_secret_paths(text: str) -> str:
    """'/conta/ativar/Xy9…' (alone or inside a URL or a log line) -> '/conta/ativar/[token]'."""
    if not text:
        return text
    return _SECRET_PATH_RE.sub(lambda m: m.group(1) + SECRET_PLACEHOLDER, text)


def mask_log_text(text: str) -> str:
    """What a log line may carry: `mask_text` plus no link secret."""
    return mask_secret_paths(mask_text(text))


# --- at rest --------------------------------------------------------------------------------------
AT_REST = {
    "cpf": "[cpf]",
    "carteirinha": "[carteirinha]",
    "email": "[e-mail]",
    "data": "[data]",
    "telefone": "[telefone]",
    "nome": "[nome]",
    "dado": "[dado]",
}
_KEPT_AT_REST = {"protocolo"}
_NAME_CONNECTORS = {"da", "de", "do", "das", "dos", "e", "di", "du", "van", "von"}
_ACCENTS = {"a": "aáàâãä", "e": "eéèêë", "i": "iíìîï", "o": "oóòôõö", "u": "uúùûü", "c": "cç", "n": "nñ"}
_SEPARATORS = r"[\s./\-]*"
_CAPITALIZED = r"[A-ZÀ-Ý][a-zà-ÿ]+"
_CONNECTOR = r"(?:(?:d[aeo]s?|e)[ \t]+)?"
# a run of capitalized words around a masked name, on one line ("João Pedro [nome]" -> "[nome]")
_NAME_RUN_RE = re.compile(
    rf"(?:{_CAPITALIZED}[ \t]+{_CONNECTOR})*\[nome\](?:[ \t]+{_CONNECTOR}(?:{_CAPITALIZED}|\[nome\]))*"
)


def _fold(text: str) -> str:
    return without_accents(text).casefold()


def _letters_pattern(word: str) -> str:
    """A word matched in any case and with or without accents."""
    return "".join(f"[{_ACCENTS[c]}]" if c in _ACCENTS else re.escape(c) for c in _fold(word))


def _name_patterns(names: Iterable[str]) -> list[re.Pattern]:
    """The whole names first, then each word that is a name on its own (3+ letters, no 'da'/'dos')."""
    wholes: set[str] = set()
    words: set[str] = set()
    for name in names:
        parts = [part for part in re.split(r"\s+", str(name or "").strip()) if part]
        if not parts:
            continue
        wholes.add(r"\s+".join(_letters_pattern(part) for part in parts))
        words.update(
            _letters_pattern(part)
            for part in parts
            if len(part) >= 3 and _fold(part) not in _NAME_CONNECTORS and part.isalpha()
        )
    ordered = sorted(wholes, key=len, reverse=True) + sorted(words - wholes, key=len, reverse=True)
    return [re.compile(rf"(?<!\w){pattern}(?!\w)", re.IGNORECASE) for pattern in ordered]


def surnames_after(names: Iterable[str], texts: Iterable[str]) -> set[str]:
    """The capitalized words that follow a known name on the same line of `texts`: with the first
    name "Maria" known, "Maria Aparecida Santos" in a text teaches "Aparecida" and "Santos", which
    then also mask "João Pedro Santos"."""
    words = {
        _letters_pattern(word)
        for name in names
        for word in re.split(r"\s+", str(name or "").strip())
        if len(word) >= 3 and word.isalpha() and _fold(word) not in _NAME_CONNECTORS
    }
    if not words:
        return set()
    run = re.compile(
        rf"(?<!\w)(?i:{'|'.join(sorted(words, key=len, reverse=True))})(?!\w)"
        rf"((?:[ \t]+{_CONNECTOR}{_CAPITALIZED}(?!\w))+)"
    )
    found: set[str] = set()
    for text in texts:
        for match in run.finditer(text or ""):
            found.update(
                word
                for word in re.findall(_CAPITALIZED, match.group(1))
                if _fold(word) not in _NAME_CONNECTORS and len(word) >= 3
            )
    return found


def _digit_patterns(values: Iterable[str]) -> list[re.Pattern]:
    """Known numbers (a CPF, a card) however they were typed ('945 807 302 24'); known ISO dates
    also as day month year ('12 03 1985', '12031985', '12.3.85')."""
    patterns = []
    for raw in values:
        value = str(raw or "")
        iso = _ISO_DATE_RE.fullmatch(value.strip())
        if iso:
            year, month, day = iso.groups()
            patterns.append(rf"(?<!\d)0?{int(day)}{_SEPARATORS}0?{int(month)}{_SEPARATORS}(?:{year}|{year[2:]})(?!\d)")
            continue
        digits = only_digits(value)
        if len(digits) >= 8:
            patterns.append(r"(?<!\d)" + _SEPARATORS.join(digits) + r"(?!\d)")
    return [re.compile(pattern) for pattern in patterns]


class AtRestMasker:
    """Masks text for storage. `names`: person names known to be in the conversation (masked in
    any case, with or without accents, whole or word by word); `values`: other known values (a CPF
    or a card typed in an unusual way, a birth date, a token) masked wherever they appear."""

    def __init__(self, names: Iterable[str] = (), values: Iterable[str] = ()) -> None:
        values = [str(v) for v in values if isinstance(v, str) and v.strip()]
        self._names = _name_patterns(n for n in names if isinstance(n, str))
        self._digits = _digit_patterns(values)
        self._literals = sorted({v for v in values if len(v) >= 6}, key=len, reverse=True)

    def text(self, text: str) -> str:
        if not text:
            return text
        text = mask_secret_paths(text)
        for kind, start, end in reversed(fixed_form_spans(text)):
            if kind not in _KEPT_AT_REST:
                text = text[:start] + AT_REST[kind] + text[end:]
        # the wider patterns of the logs catch what the finders leave (a CPF running into a letter)
        text = _EMAIL_RE.sub(AT_REST["email"], text)
        text = _CPF_RE.sub(AT_REST["cpf"], text)
        text = _CARD_RE.sub(AT_REST["carteirinha"], text)
        text = _ISO_DATE_RE.sub(AT_REST["data"], text)
        text = _DATE_RE.sub(AT_REST["data"], text)
        text = _PHONE_RE.sub(AT_REST["telefone"], text)
        text = _E164_BR_RE.sub(AT_REST["telefone"], text)
        # the conversation's own values, typed in a way no pattern knows ("945 807 302 24")
        for literal in self._literals:
            text = text.replace(literal, AT_REST["dado"])
        for pattern in self._digits:
            text = pattern.sub(AT_REST["dado"], text)
        if self._names:
            for pattern in self._names:
                text = pattern.sub(AT_REST["nome"], text)
            text = _NAME_RUN_RE.sub(AT_REST["nome"], text)
        return text

    def value(self, value: Any, keep_keys: frozenset[str] = frozenset()) -> Any:
        """`value` with every string inside masked (dicts and lists walked); the strings under a
        key of `keep_keys` (names of actions, intents, event types) are kept as they are."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: item if key in keep_keys else self.value(item, keep_keys) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(item, keep_keys) for item in value]
        return value


def mask_at_rest(text: str, names: Iterable[str] = (), values: Iterable[str] = ()) -> str:
    """Text as it may be stored: 'meu cpf é 945.807.302-24, nasci em 12/03/1985' ->
    'meu cpf é [cpf], nasci em [data]' (see AtRestMasker for `names` and `values`)."""
    return AtRestMasker(names, values).text(text)
