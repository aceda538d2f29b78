"""esqueci_senha: identity check, confirmation of the e-mail on file (AMS), then a temporary
password sent by e-mail — never shown in the chat."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.email_confirmation import EmailConfirmation
from bot.actions.identity import IdentityFormValidation
from bot.actions.repeated_question import ask
from bot.actions.verified import REGISTRATION_BUTTON, SESSION_EXPIRED_TEXT, YES_NO, Outcome, VerifiedFlowAction, caller
from bot.backend import password_reset
from bot.backend.common import Refusal

# --- what the bot says (the backend words its refusals: plan_cancelled, no_account, ...) -----------
CONFIRM_EMAIL_TEXT = "Dados confirmados. Vou enviar a senha temporária para o e-mail {email}. Esse e-mail ainda é seu?"
# an address typed that fits the mask: the bot cannot tell it from the one on file (email_confirmation)
CANNOT_COMPARE_TEXT = (
    "Por segurança, eu só vejo o e-mail do cadastro assim: {email}. Não consigo conferir se é o mesmo que "
    "você escreveu. Você ainda usa o e-mail do cadastro? Se sim, toque em Sim e envio a senha temporária "
    "para ele. Se o seu e-mail agora é outro, toque em Não e vamos atualizar o cadastro."
)
CONFIRM_EMAIL_AGAIN_TEXT = (
    "Só preciso saber se o e-mail do cadastro, {email}, ainda é seu: toque em Sim ou em Não. "
    "Se o seu e-mail agora é outro, pode escrever o novo, por exemplo: nome@provedor.com.br."
)
UPDATE_EMAIL_FIRST_TEXT = (
    "Sem problema: vamos atualizar o seu e-mail primeiro. A senha temporária só pode ir para um e-mail seu."
)
REPEATED_TEXT = (
    "Já enviei uma senha temporária para o seu e-mail {email} há poucos minutos (protocolo {protocol}), "
    "e ela continua valendo: use a desse e-mail. Se não encontrar, olhe a caixa de spam."
)
SENT_TEXT = (
    "Pronto! Enviei uma senha temporária para o seu e-mail {email}. Protocolo: {protocol}.\n"
    "Ela serve só para o primeiro acesso: ao entrar, o aplicativo vai pedir que você "
    "crie uma senha nova. Se não encontrar o e-mail, olhe a caixa de spam."
)
TOO_MANY_TEXT = "Você já pediu várias senhas temporárias. Tente de novo mais tarde."  # without the backend's message
OFFER_REGISTRATION_TEXT = "Posso fazer o seu cadastro agora."


class ValidateEsqueciSenhaForm(EmailConfirmation, IdentityFormValidation):
    def name(self) -> str:
        return "validate_esqueci_senha_form"

    def unconfirmed(self, email: str) -> dict[str, Any]:
        """Asked once more, in other words (ActionAskEsqueciSenhaEmailConfirmado); the address is
        kept for the e-mail change that follows a "não"."""
        return {"email_confirmado": None, "email_novo": email}

    def asks(self, slot: str, tracker: Tracker) -> bool:
        if slot != "email_confirmado":
            return True
        info = tracker.get_slot("identidade_info") or {}
        return bool(info.get("email_masked") and info.get("has_account") and info.get("plan_active"))


class ActionAskEsqueciSenhaEmailConfirmado(Action):
    def name(self) -> str:
        return "action_ask_esqueci_senha_form_email_confirmado"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        email = (tracker.get_slot("identidade_info") or {}).get("email_masked")
        if tracker.get_slot("email_novo"):  # an address typed that may be the one on file
            question = again = CANNOT_COMPARE_TEXT
        else:
            question, again = CONFIRM_EMAIL_TEXT, CONFIRM_EMAIL_AGAIN_TEXT
        ask(dispatcher, tracker, question.format(email=email), again.format(email=email), YES_NO)
        return []


class ActionEsqueciSenha(VerifiedFlowAction):
    def name(self) -> str:
        return "action_esqueci_senha"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if tracker.get_slot("email_confirmado") is False:
            # the new address, if the user typed it, goes on to the e-mail change: asked only to confirm
            typed = tracker.get_slot("email_novo")
            carried = [SlotSet("email_novo", typed)] if typed else []
            return Outcome(UPDATE_EMAIL_FIRST_TEXT, events=[SlotSet("proximo_fluxo", "alterar_email"), *carried])
        reset = await password_reset.request_password_reset(caller(tracker))
        if isinstance(reset, Refusal):
            return refused(reset)
        text = REPEATED_TEXT if reset.repeated else SENT_TEXT
        return Outcome(text.format(email=reset.email_masked, protocol=reset.protocol))


def refused(refusal: Refusal) -> Outcome:
    """The backend's message, with what the bot offers next."""
    if refusal.code == "rate_limited":
        return Outcome(refusal.message or TOO_MANY_TEXT, [HUMAN_BUTTON])
    if refusal.code in ("no_email_on_file", "plan_cancelled"):
        return Outcome(refusal.message, [HUMAN_BUTTON])
    if refusal.code == "no_account":
        return Outcome(f"{refusal.message} {OFFER_REGISTRATION_TEXT}", [REGISTRATION_BUTTON])
    return Outcome(SESSION_EXPIRED_TEXT, session_expired=True)
