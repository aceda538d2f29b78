"""alterar_email (AMS): identity plus full name, the new e-mail typed twice; the backend sends a
confirmation link to the new address and, when there is an address on file, a notice with a
cancel link to it. Nothing changes until the link is opened, and with an address on file not
before the wait the backend says (backend.email_change)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.identity import IdentityFormValidation, NewEmailValidation, extract_from_text, normalized
from bot.actions.verified import SESSION_EXPIRED_TEXT, Outcome, VerifiedFlowAction, caller
from bot.backend import email_change
from bot.backend.common import Refusal
from bot.backend.email_change import EmailChange
from common.validators import normalize_full_name

# --- what the bot says (the backend words its refusals: the name not confirmed, same e-mail, ...) --
TOO_MANY_TEXT = "Foram muitos pedidos. Tente de novo mais tarde."  # without the backend's message
EMAIL_REFUSED_TEXT = "Não consegui usar esse e-mail. Confira o endereço e peça a troca de novo."
REPEATED_TEXT = (
    "Já enviei o link de confirmação para {email} há poucos minutos (protocolo {protocol}). "
    "Ele vale 24 horas; se não encontrar o e-mail, olhe a caixa de spam."
)
SENT_WITH_WAIT_TEXT = (
    "Enviei um link de confirmação para {email}. Protocolo: {protocol}.\n"
    "O e-mail só muda depois que você abrir esse link (ele vale 24 horas) e, por segurança, só a "
    "partir de {when}: avisei o e-mail atual do cadastro, que pode cancelar o pedido até lá."
)
SENT_TEXT = (
    "Enviei um link de confirmação para {email}. Protocolo: {protocol}.\n"
    "O e-mail só muda depois que você abrir esse link (ele vale 24 horas)."
)
THEN_RESET_TEXT = (
    ' Quando o novo e-mail valer, peça "esqueci minha senha" de novo para receber a senha temporária nele.'
)


class ValidateAlterarEmailForm(NewEmailValidation, IdentityFormValidation):
    def name(self) -> str:
        return "validate_alterar_email_form"

    async def extract_nome_completo(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "nome_completo", None)

    async def validate_nome_completo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "nome_completo", value, normalize_full_name)


class ActionAlterarEmail(VerifiedFlowAction):
    def name(self) -> str:
        return "action_alterar_email"

    async def outcome(self, tracker: Tracker) -> Outcome:
        done = await email_change.request_email_change(
            caller(tracker), tracker.get_slot("nome_completo"), tracker.get_slot("email_novo")
        )
        if not isinstance(done, Refusal):
            return Outcome(change_text(done, then_reset=tracker.get_slot("proximo_fluxo") == "alterar_email"))
        if done.code in ("rate_limited", "too_many_attempts"):
            return Outcome(done.message or TOO_MANY_TEXT, [HUMAN_BUTTON])
        if done.code in ("identity_not_confirmed", "identity_locked"):  # the full name did not match
            return Outcome(done.message, [HUMAN_BUTTON], session_expired=True)
        if done.code in ("invalid_request", "same_email", "email_in_use"):
            return Outcome(done.message or EMAIL_REFUSED_TEXT)
        return Outcome(SESSION_EXPIRED_TEXT, session_expired=True)


def change_text(done: EmailChange, *, then_reset: bool) -> str:
    """What the user reads after POST /api/email-changes answered 201."""
    if done.repeated:
        template = REPEATED_TEXT
    elif done.effective_text:
        template = SENT_WITH_WAIT_TEXT
    else:
        template = SENT_TEXT
    text = template.format(email=done.new_email_masked, protocol=done.protocol, when=done.effective_text)
    return text + THEN_RESET_TEXT if then_reset else text
