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

from bot.actions.backend_client import backend
from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.identity import IdentityFormValidation, NewEmailValidation
from bot.actions.operator_profile import call_centre_line
from bot.actions.verified import SESSION_EXPIRED_TEXT, YES_NO, Outcome, VerifiedFlowAction, request_context


class ValidateCadastroForm(NewEmailValidation, IdentityFormValidation):
    login_kinds = ("card",)
    allows_no_cpf = True

    def name(self) -> str:
        return "validate_cadastro_form"

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
        dispatcher.utter_message(
            text=f"Dados confirmados. No seu cadastro está o e-mail {email}. Posso enviar para ele o link de ativação?",
            buttons=YES_NO,
        )
        return []


class ActionCadastro(VerifiedFlowAction):
    def name(self) -> str:
        return "action_cadastro"

    async def outcome(self, tracker: Tracker) -> Outcome:
        payload = request_context(tracker)
        if tracker.get_slot("email_novo"):
            payload["email"] = tracker.get_slot("email_novo")
        response = await backend.post("/api/registrations", payload)
        if response.ok:
            return Outcome(registration_text(response.data))
        code = response.error_code
        if code == "rate_limited":
            return Outcome(
                response.error.get("message") or "Já enviei vários e-mails de ativação. Tente de novo mais tarde.",
                [HUMAN_BUTTON],
            )
        if code == "already_registered":
            return Outcome(
                "Você já tem cadastro no aplicativo. Se não lembra a senha, posso enviar uma "
                "senha temporária para o seu e-mail.",
                [{"title": "Esqueci minha senha", "payload": "/esqueci_senha"}],
            )
        if code == "plan_cancelled":
            return Outcome(
                "Confirmei seus dados, mas esse plano está cancelado, e o aplicativo é só para "
                f"planos ativos. Se acha que é um engano, fale com {await call_centre_line()}.",
                [HUMAN_BUTTON],
            )
        if code in ("invalid_request", "email_in_use"):
            return Outcome(
                response.error.get("message")
                or 'Não consegui usar esse e-mail. Vamos recomeçar o cadastro? Escreva "quero me cadastrar".'
            )
        return Outcome(SESSION_EXPIRED_TEXT, session_expired=True)


def registration_text(data: dict[str, Any]) -> str:
    """What the user reads after POST /api/registrations answered 201 or 202."""
    email, protocol = data["email_masked"], data["protocol"]
    if data.get("email_change_pending"):
        return (
            f"Por segurança, o link de ativação só pode ir para o e-mail do seu cadastro "
            f"({data.get('current_email_masked')}). Para usar {email}, pedi a troca do e-mail do cadastro "
            f"(protocolo {protocol}): enviei um link de confirmação para {email} e avisei o e-mail atual, "
            "que pode cancelar o pedido.\n"
            f"Confirme pelo link (ele vale 24 horas). A troca vale a partir de {data.get('effective_text')}; "
            "depois disso, peça o cadastro de novo e o link de ativação vai para o novo e-mail."
        )
    if data.get("repeated"):
        return (
            f"Já enviei o link de ativação para {email} há poucos minutos (protocolo {protocol}). "
            "Ele vale 24 horas; se não encontrar o e-mail, olhe a caixa de spam."
        )
    return (
        f"Pronto! Enviei um link de ativação para {email}. Protocolo: {protocol}.\n"
        "Abra o link em até 24 horas e crie sua senha na página que ele abrir (nunca aqui "
        "no chat). Depois é só entrar no aplicativo com a carteirinha, o CPF ou o e-mail."
    )
