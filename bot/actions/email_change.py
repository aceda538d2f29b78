"""alterar_email (AMS): identity plus full name, the new e-mail typed twice; the backend sends a
confirmation link to the new address and a notice to the old one. Nothing changes until the
link is opened."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from bot.actions.backend_client import backend
from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.identity import IdentityFormValidation, NewEmailValidation, extract_from_text
from bot.actions.verified import SESSION_EXPIRED_TEXT, Outcome, VerifiedFlowAction, request_context
from common.validators import InvalidValue, normalize_full_name

class ValidateAlterarEmailForm(NewEmailValidation, IdentityFormValidation):
    def name(self) -> str:
        return "validate_alterar_email_form"

    async def extract_nome_completo(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "nome_completo", None)

    async def validate_nome_completo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        try:
            return {"nome_completo": normalize_full_name(str(value))}
        except InvalidValue as exc:
            dispatcher.utter_message(text=str(exc))
            return {"nome_completo": None}


class ActionAlterarEmail(VerifiedFlowAction):
    def name(self) -> str:
        return "action_alterar_email"

    async def outcome(self, tracker: Tracker) -> Outcome:
        payload = {**request_context(tracker), "full_name": tracker.get_slot("nome_completo"),
                   "new_email": tracker.get_slot("email_novo")}
        response = await backend.post("/api/email-changes", payload)
        if response.ok:
            text = (
                f"Enviei um link de confirmação para {response.data['new_email_masked']}. "
                f"Protocolo: {response.data['protocol']}.\n"
                "O e-mail só muda depois que você abrir esse link (ele vale 24 horas). Também avisei "
                "o e-mail antigo sobre o pedido."
            )
            if tracker.get_slot("proximo_fluxo") == "alterar_email":
                text += " Depois de confirmar, peça \"esqueci minha senha\" de novo para receber a senha temporária."
            return Outcome(text)
        if response.error_code in ("identity_not_confirmed", "identity_locked"):
            return Outcome("O nome não confere com o nosso cadastro, então não posso trocar o e-mail. "
                           "Confira como o nome está na carteirinha e peça de novo, ou escreva \"atendente\".",
                           [HUMAN_BUTTON], session_expired=True)
        if response.error_code in ("invalid_request", "same_email", "email_in_use"):
            return Outcome(response.error.get("message") or "Não consegui usar esse e-mail. "
                           "Confira o endereço e peça a troca de novo.")
        return Outcome(SESSION_EXPIRED_TEXT, session_expired=True)
