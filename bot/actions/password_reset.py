"""esqueci_senha: identity check, then a temporary password sent by e-mail (never in the chat)."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.backend_client import BackendUnavailable, backend
from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.flow_reset import end_flow_events
from bot.actions.identity import IdentityFormValidation
from bot.actions.operator_profile import backend_down_text, call_centre_line


class ValidateEsqueciSenhaForm(IdentityFormValidation):
    def name(self) -> str:
        return "validate_esqueci_senha_form"


class ActionEsqueciSenha(Action):
    def name(self) -> str:
        return "action_esqueci_senha"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        text, buttons = await self._outcome(tracker)
        dispatcher.utter_message(text=text, buttons=buttons)
        return end_flow_events(tracker)

    async def _outcome(self, tracker: Tracker) -> tuple[str, list[dict[str, str]]]:
        """The message for the user, and the buttons that go with it."""
        locked_minutes = tracker.get_slot("identidade_bloqueio_min")
        if locked_minutes:
            return (
                "Por segurança, bloqueei novas tentativas de recuperar a senha por "
                f"{int(locked_minutes)} minutos, depois de várias tentativas com dados que não "
                f"conferem. Se precisar agora, fale com {await call_centre_line()} "
                "ou escreva \"atendente\"."
            ), [HUMAN_BUTTON]
        payload = {
            "verification": tracker.get_slot("identidade_token"),
            "channel": tracker.get_latest_input_channel() or "desconhecido",
            "conversation_id": tracker.sender_id,
        }
        try:
            response = await backend.post("/api/password-resets", payload)
        except BackendUnavailable:
            return await backend_down_text(), [HUMAN_BUTTON]
        if response.ok:
            return (
                f"Pronto! Enviei uma senha temporária para o seu e-mail {response.data['email_masked']}. "
                f"Protocolo: {response.data['protocol']}.\n"
                "Ela serve só para o primeiro acesso: ao entrar, o aplicativo vai pedir que você "
                "crie uma senha nova. Se não encontrar o e-mail, olhe a caixa de spam."
            ), []
        code = response.error_code
        line = await call_centre_line()
        if code == "no_email_on_file":
            return (
                "Confirmei seus dados, mas não há e-mail cadastrado no plano, e a senha temporária "
                f"só pode ser enviada por e-mail. Para cadastrar um e-mail, fale com {line} "
                "ou escreva \"atendente\"."
            ), [HUMAN_BUTTON]
        if code == "plan_cancelled":
            return (
                "Confirmei seus dados, mas esse plano está cancelado, por isso não é possível "
                "redefinir a senha de acesso: o aplicativo e o portal são só para planos ativos. "
                f"Se acha que é um engano, fale com {line}."
            ), [HUMAN_BUTTON]
        if code == "no_account":
            return (
                "Confirmei seus dados, mas você ainda não tem cadastro no aplicativo, então não há "
                "senha para recuperar. Faça o primeiro acesso pela opção \"Cadastro\" do aplicativo, "
                "com a carteirinha, o CPF e a data de nascimento."
            ), []
        return (
            "A confirmação dos seus dados expirou antes de eu terminar. Vamos de novo? "
            "Escreva \"esqueci minha senha\"."
        ), []
