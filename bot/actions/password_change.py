"""alterar_senha: identity, then a single-use link (15 min) to the backend's change-password
page — current password and the new one are typed there, never in the chat."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.backend_client import BackendUnavailable, backend
from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.flow_reset import end_flow_events, session_expired_events
from bot.actions.identity import IdentityFormValidation
from bot.actions.operator_profile import backend_down_text
from bot.actions.verified import SESSION_EXPIRED_TEXT, locked_text, request_context


class ValidateAlterarSenhaForm(IdentityFormValidation):
    def name(self) -> str:
        return "validate_alterar_senha_form"


class ActionAlterarSenha(Action):
    def name(self) -> str:
        return "action_alterar_senha"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        text, buttons, expired = await self._outcome(tracker)
        dispatcher.utter_message(text=text, buttons=buttons)
        return end_flow_events(tracker) + (session_expired_events() if expired else [])

    async def _outcome(self, tracker: Tracker) -> tuple[str, list[dict[str, str]], bool]:
        locked_minutes = tracker.get_slot("identidade_bloqueio_min")
        if locked_minutes:
            return await locked_text(locked_minutes), [HUMAN_BUTTON], False
        info = tracker.get_slot("identidade_info") or {}
        if info.get("has_account") is False:
            return ("Você ainda não tem cadastro no aplicativo, então ainda não há senha para trocar. "
                    "Posso fazer o seu cadastro agora."), [{"title": "Fazer cadastro", "payload": "/cadastro"}], False
        try:
            response = await backend.post("/api/password-change-links", request_context(tracker))
        except BackendUnavailable:
            return await backend_down_text(), [HUMAN_BUTTON], False
        if response.ok:
            return (
                "Por segurança, a senha é trocada numa página protegida, não aqui no chat. "
                f"Abra este link (vale {response.data['expires_in_minutes']} minutos e só funciona uma vez): "
                f"{response.data['url']}\nProtocolo: {response.data['protocol']}."
            ), [], False
        if response.error_code in ("plan_cancelled", "no_account"):
            return ("Não há acesso ativo ao aplicativo para esses dados, então não há senha para trocar."
                    ), [HUMAN_BUTTON], False
        return SESSION_EXPIRED_TEXT, [], True
