"""The answer to "Esse e-mail ainda é seu? m***@exemplo.com.br" (`email_confirmado`, esqueci_senha
and cadastro): what the user types counts, not only the Sim/Não buttons.

- "sim" / "não" (NLU's afirmar / negar, the slot mappings of domain.yml), and also a bare "isso não
  é meu e-mail", "não é mais esse", "não uso mais esse e-mail": a no, whatever NLU made of it.
- An e-mail typed instead: the bot only has the masked address (`identidade_info.email_masked`),
  and never shows or keeps more. So:
  - the very address the identity was verified with in this conversation (an e-mail login: the
    backend matched it with the one on file) is a yes;
  - an address that does not fit the mask (another first letter, another domain) cannot be the
    one on file: a no, and the typed address is the new e-mail (`email_novo`);
  - an address that fits the mask may or may not be the one on file, and only the backend can
    tell (the bot has no way to ask it without acting): each flow says what it does
    (`EmailConfirmation.unconfirmed`): registration takes it as the address to use, typed once
    more, and the backend sends the activation link to the address on file when it is the same;
    the password reset asks once, in other words, whether the address on file is still theirs.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker

from common.patterns import find_email
from common.text import fold
from common.validators import InvalidValue, normalize_email

SLOT = "email_confirmado"

# what people write for "that is not my e-mail (any more)", accents and case folded (common.text.fold)
_NOT_MINE_RE = re.compile(
    r"\bnao (e|eh|sou|uso|utilizo|acesso|reconheco|conheco|existe)\b"
    r"|\bnao tenho (mais|acesso)\b"
    r"|\b(mudei|troquei|alterei) (de |o |meu )?(e ?mail|email|endereco)\b"
    r"|\b(e|eh) (um )?outro\b"
    r"|\b(perdi|sem) (o )?acesso\b"
    r"|^n(ao)?$"
)
# a "yes" NLU may miss ("é meu sim", "continua", "esse mesmo")
_STILL_MINE_RE = re.compile(
    r"^(sim|s|ss|isso|isso mesmo|correto|certo|confirmo|exato)$"
    r"|\b(e|eh) (o )?meu\b|\bcontinua\b|\bainda (e|eh|uso)\b|\b(esse|este|e esse|e este) mesmo\b"
)


def _said(tracker: Tracker) -> tuple[str, str]:
    message = tracker.latest_message or {}
    return (message.get("text") or "").strip(), ((message.get("intent") or {}).get("name") or "")


def typed_email(tracker: Tracker) -> str | None:
    """An e-mail in the latest message (tagged by NLU or not)."""
    message = tracker.latest_message or {}
    for entity in message.get("entities") or []:
        if entity.get("entity") == "email" and find_email(str(entity.get("value") or "")):
            return find_email(str(entity["value"]))
    return find_email(message.get("text") or "")


def fits_mask(email: str, masked: str | None) -> bool:
    """Whether `email` may be the address shown as `masked` ('m***@exemplo.com.br'): the visible
    characters in place, each run of '*' standing for one or more hidden ones."""
    if not masked or "*" not in masked:
        return False
    pattern = ".+".join(re.escape(part) for part in re.split(r"\*+", masked))
    return re.fullmatch(pattern, email, re.IGNORECASE) is not None


def verified_login_email(tracker: Tracker) -> str | None:
    """The e-mail the conversation's current verification was made with, when its login was an
    e-mail: the value of `login` when the backend's token was set (the backend found the
    beneficiary by that address, so it is the one on file)."""
    token = tracker.get_slot("identidade_token")
    if not token:
        return None
    login: Any = None
    found: str | None = None
    for event in tracker.events:
        if event.get("event") != "slot":
            continue
        if event.get("name") == "login":
            login = event.get("value")
        elif event.get("name") == "identidade_token" and event.get("value") == token:
            found = str(login) if login and "@" in str(login) else None
    return found


class EmailConfirmation:
    """Mixin of the form validations that ask `email_confirmado`."""

    def unconfirmed(self, email: str) -> dict[str, Any]:
        """An address that fits the mask, which the bot cannot tell from the one on file."""
        raise NotImplementedError

    async def extract_email_confirmado(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != SLOT:
            return {}
        text, intent = _said(tracker)
        if not text or text.startswith("/"):
            return {}  # a button: the slot mappings take it
        email = typed_email(tracker)
        if email:
            return {SLOT: email}
        folded = fold(text)
        if _NOT_MINE_RE.search(folded):
            return {SLOT: False}
        if intent not in ("afirmar", "negar") and _STILL_MINE_RE.search(folded):
            return {SLOT: True}
        return {}

    async def validate_email_confirmado(self, value, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if isinstance(value, bool):
            # a "sim" forgets an address typed before it (the password reset's second question)
            return {SLOT: value} if value is False else {SLOT: True, "email_novo": None}
        try:
            email = normalize_email(str(value))
        except InvalidValue:
            return {SLOT: None}
        if email == verified_login_email(tracker):
            return {SLOT: True, "email_novo": None}
        if not fits_mask(email, (tracker.get_slot("identidade_info") or {}).get("email_masked")):
            return {SLOT: False, "email_novo": email}
        return self.unconfirmed(email)
