"""alterar_senha: identity, then a single-use link (15 min) to the backend's change-password
page — current password and the new one are typed there, never in the chat."""

from __future__ import annotations

from rasa_sdk import Tracker

from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.identity import IdentityFormValidation
from bot.actions.verified import REGISTRATION_BUTTON, SESSION_EXPIRED_TEXT, Outcome, VerifiedFlowAction, caller
from bot.backend import password_change
from bot.backend.common import Refusal

# --- what the bot says (the backend words its refusals: plan_cancelled, no_account) ---------------
NO_ACCOUNT_YET_TEXT = (  # known from the identity check, before asking the backend for a link
    "Você ainda não tem cadastro no aplicativo, então ainda não há senha para trocar. Posso fazer o seu cadastro agora."
)
LINK_TEXT = (
    "Por segurança, a senha é trocada numa página protegida, não aqui no chat. "
    "Abra este link (vale {minutes} minutos e só funciona uma vez): {url}\nProtocolo: {protocol}."
)


class ValidateAlterarSenhaForm(IdentityFormValidation):
    def name(self) -> str:
        return "validate_alterar_senha_form"


class ActionAlterarSenha(VerifiedFlowAction):
    def name(self) -> str:
        return "action_alterar_senha"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if (tracker.get_slot("identidade_info") or {}).get("has_account") is False:
            return Outcome(NO_ACCOUNT_YET_TEXT, [REGISTRATION_BUTTON])
        link = await password_change.request_password_change_link(caller(tracker))
        if not isinstance(link, Refusal):
            return Outcome(LINK_TEXT.format(minutes=link.expires_in_minutes, url=link.url, protocol=link.protocol))
        if link.code in ("plan_cancelled", "no_account"):
            return Outcome(link.message, [HUMAN_BUTTON])
        return Outcome(SESSION_EXPIRED_TEXT, session_expired=True)
