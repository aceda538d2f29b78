"""alterar_senha: identity, then a single-use link (15 min) to the backend's change-password
page — current password and the new one are typed there, never in the chat."""

from __future__ import annotations

from rasa_sdk import Tracker

from bot.actions.backend_client import backend
from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.identity import IdentityFormValidation
from bot.actions.verified import SESSION_EXPIRED_TEXT, Outcome, VerifiedFlowAction, request_context


class ValidateAlterarSenhaForm(IdentityFormValidation):
    def name(self) -> str:
        return "validate_alterar_senha_form"


class ActionAlterarSenha(VerifiedFlowAction):
    def name(self) -> str:
        return "action_alterar_senha"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if (tracker.get_slot("identidade_info") or {}).get("has_account") is False:
            return Outcome(
                "Você ainda não tem cadastro no aplicativo, então ainda não há senha para trocar. "
                "Posso fazer o seu cadastro agora.",
                [{"title": "Fazer cadastro", "payload": "/cadastro"}],
            )
        response = await backend.post("/api/password-change-links", request_context(tracker))
        if response.ok:
            return Outcome(
                "Por segurança, a senha é trocada numa página protegida, não aqui no chat. "
                f"Abra este link (vale {response.data['expires_in_minutes']} minutos e só funciona uma vez): "
                f"{response.data['url']}\nProtocolo: {response.data['protocol']}."
            )
        if response.error_code in ("plan_cancelled", "no_account"):
            return Outcome(
                "Não há acesso ativo ao aplicativo para esses dados, então não há senha para trocar.", [HUMAN_BUTTON]
            )
        return Outcome(SESSION_EXPIRED_TEXT, session_expired=True)
