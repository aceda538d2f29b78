"""cadastro (first access): identity (card, CPF or "não possuo CPF", birth date), the e-mail on
file confirmed or a new one typed twice, then an activation link valid 24 h by e-mail. The
password is chosen on the backend's page, never in the chat.

With an e-mail on file, the activation link only ever goes to it: a different address typed here
starts the change of the e-mail on file instead (backend.email_change: the new address confirms,
the current one is warned and may cancel, the change waits 72 h), and the user is told to ask for
the registration again once it is in."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.email_confirmation import EmailConfirmation
from bot.actions.identity import IdentityFormValidation, NewEmailValidation
from bot.actions.repeated_question import ask
from bot.actions.verified import SESSION_EXPIRED_TEXT, YES_NO, Outcome, VerifiedFlowAction, caller
from bot.backend import registration
from bot.backend.common import Refusal
from bot.backend.registration import Registration

# --- what the bot says (the backend words its refusals: already_registered, plan_cancelled, ...) --
CONFIRM_EMAIL_TEXT = (
    "Dados confirmados. No seu cadastro está o e-mail {email}. Posso enviar para ele o link de ativação?"
)
CONFIRM_EMAIL_AGAIN_TEXT = (
    "Só preciso saber se posso mandar o link de ativação para o e-mail do cadastro, {email}: toque em Sim "
    "ou em Não. Se quiser usar outro e-mail, pode escrever o endereço, por exemplo: nome@provedor.com.br."
)
TOO_MANY_TEXT = "Já enviei vários e-mails de ativação. Tente de novo mais tarde."  # without the backend's message
EMAIL_REFUSED_TEXT = 'Não consegui usar esse e-mail. Vamos recomeçar o cadastro? Escreva "quero me cadastrar".'
PASSWORD_RESET_BUTTON = {"title": "Esqueci minha senha", "payload": "/esqueci_senha"}
EMAIL_CHANGE_PENDING_TEXT = (
    "Por segurança, o link de ativação só pode ir para o e-mail do seu cadastro "
    "({current}). Para usar {email}, pedi a troca do e-mail do cadastro "
    "(protocolo {protocol}): enviei um link de confirmação para {email} e avisei o e-mail atual, "
    "que pode cancelar o pedido.\n"
    "Confirme pelo link (ele vale 24 horas). A troca vale a partir de {effective}; "
    "depois disso, peça o cadastro de novo e o link de ativação vai para o novo e-mail."
)
REPEATED_TEXT = (
    "Já enviei o link de ativação para {email} há poucos minutos (protocolo {protocol}). "
    "Ele vale 24 horas; se não encontrar o e-mail, olhe a caixa de spam."
)
SENT_TEXT = (
    "Pronto! Enviei um link de ativação para {email}. Protocolo: {protocol}.\n"
    "Abra o link em até 24 horas e crie sua senha na página que ele abrir (nunca aqui "
    "no chat). Depois é só entrar no aplicativo com a carteirinha, o CPF ou o e-mail."
)


class ValidateCadastroForm(EmailConfirmation, NewEmailValidation, IdentityFormValidation):
    login_kinds = ("card",)
    allows_no_cpf = True

    def name(self) -> str:
        return "validate_cadastro_form"

    def unconfirmed(self, email: str) -> dict[str, Any]:
        """The address to use, typed once more to confirm it; the backend sends the activation link
        to the address on file when it is the same, and starts the change of the e-mail otherwise."""
        return {"email_confirmado": False, "email_novo": email}

    def asks(self, slot: str, tracker: Tracker) -> bool:
        info = tracker.get_slot("identidade_info")
        if info is None:
            return True
        if info.get("has_account") or not info.get("plan_active"):
            return False  # nothing to register: the action says why
        if slot == "email_confirmado":
            return bool(info.get("email_masked"))
        return not info.get("email_masked") or tracker.get_slot("email_confirmado") is False


class ActionAskCadastroEmailConfirmado(Action):
    def name(self) -> str:
        return "action_ask_cadastro_form_email_confirmado"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        email = (tracker.get_slot("identidade_info") or {}).get("email_masked")
        ask(
            dispatcher,
            tracker,
            CONFIRM_EMAIL_TEXT.format(email=email),
            CONFIRM_EMAIL_AGAIN_TEXT.format(email=email),
            YES_NO,
        )
        return []


class ActionCadastro(VerifiedFlowAction):
    def name(self) -> str:
        return "action_cadastro"

    async def outcome(self, tracker: Tracker) -> Outcome:
        done = await registration.register(caller(tracker), tracker.get_slot("email_novo") or None)
        if not isinstance(done, Refusal):
            return Outcome(registration_text(done))
        if done.code == "rate_limited":
            return Outcome(done.message or TOO_MANY_TEXT, [HUMAN_BUTTON])
        if done.code == "already_registered":
            return Outcome(done.message, [PASSWORD_RESET_BUTTON])
        if done.code == "plan_cancelled":
            return Outcome(done.message, [HUMAN_BUTTON])
        if done.code in ("invalid_request", "email_in_use"):
            return Outcome(done.message or EMAIL_REFUSED_TEXT)
        return Outcome(SESSION_EXPIRED_TEXT, session_expired=True)


def registration_text(done: Registration) -> str:
    """What the user reads after POST /api/registrations answered 201 or 202."""
    if done.email_change_pending:
        return EMAIL_CHANGE_PENDING_TEXT.format(
            current=done.current_email_masked,
            email=done.email_masked,
            protocol=done.protocol,
            effective=done.effective_text,
        )
    return (REPEATED_TEXT if done.repeated else SENT_TEXT).format(email=done.email_masked, protocol=done.protocol)
