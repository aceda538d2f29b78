"""esqueci_senha: identity check, confirmation of the e-mail on file (AMS), then a temporary
password sent by e-mail — never shown in the chat."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.backend_client import backend
from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.identity import IdentityFormValidation
from bot.actions.operator_profile import call_centre_line
from bot.actions.verified import SESSION_EXPIRED_TEXT, YES_NO, Outcome, VerifiedFlowAction, request_context


class ValidateEsqueciSenhaForm(IdentityFormValidation):
    def name(self) -> str:
        return "validate_esqueci_senha_form"

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
        dispatcher.utter_message(
            text=f"Dados confirmados. Vou enviar a senha temporária para o e-mail {email}. Esse e-mail ainda é seu?",
            buttons=YES_NO,
        )
        return []


class ActionEsqueciSenha(VerifiedFlowAction):
    def name(self) -> str:
        return "action_esqueci_senha"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if tracker.get_slot("email_confirmado") is False:
            return Outcome(
                "Sem problema: vamos atualizar o seu e-mail primeiro. "
                "A senha temporária só pode ir para um e-mail seu.",
                events=[SlotSet("proximo_fluxo", "alterar_email")],
            )
        response = await backend.post("/api/password-resets", request_context(tracker))
        if response.ok and response.data.get("repeated"):
            return Outcome(
                f"Já enviei uma senha temporária para o seu e-mail {response.data['email_masked']} há poucos "
                f"minutos (protocolo {response.data['protocol']}), e ela continua valendo: use a desse e-mail. "
                "Se não encontrar, olhe a caixa de spam."
            )
        if response.ok:
            return Outcome(
                f"Pronto! Enviei uma senha temporária para o seu e-mail {response.data['email_masked']}. "
                f"Protocolo: {response.data['protocol']}.\n"
                "Ela serve só para o primeiro acesso: ao entrar, o aplicativo vai pedir que você "
                "crie uma senha nova. Se não encontrar o e-mail, olhe a caixa de spam."
            )
        code = response.error_code
        line = await call_centre_line()
        if code == "rate_limited":
            return Outcome(
                response.error.get("message") or "Você já pediu várias senhas temporárias. Tente de novo mais tarde.",
                [HUMAN_BUTTON],
            )
        if code == "no_email_on_file":
            return Outcome(
                "Confirmei seus dados, mas não há e-mail cadastrado no plano, e a senha temporária "
                f"só pode ser enviada por e-mail. Para cadastrar um e-mail, fale com {line} "
                'ou escreva "atendente".',
                [HUMAN_BUTTON],
            )
        if code == "plan_cancelled":
            return Outcome(
                "Confirmei seus dados, mas esse plano está cancelado, por isso não é possível "
                "redefinir a senha de acesso: o aplicativo e o portal são só para planos ativos. "
                f"Se acha que é um engano, fale com {line}.",
                [HUMAN_BUTTON],
            )
        if code == "no_account":
            return Outcome(
                "Confirmei seus dados, mas você ainda não tem cadastro no aplicativo, então não há "
                "senha para recuperar. Posso fazer o seu cadastro agora.",
                [{"title": "Fazer cadastro", "payload": "/cadastro"}],
            )
        return Outcome(SESSION_EXPIRED_TEXT, session_expired=True)
