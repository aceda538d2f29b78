"""alterar_email (AMS): identity plus full name, the new e-mail typed twice; the backend sends a
confirmation link to the new address and, when there is an address on file, a notice with a
cancel link to it. Nothing changes until the link is opened, and with an address on file not
before the wait the backend says (backend.email_change)."""

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
        payload = {
            **request_context(tracker),
            "full_name": tracker.get_slot("nome_completo"),
            "new_email": tracker.get_slot("email_novo"),
        }
        response = await backend.post("/api/email-changes", payload)
        if response.ok:
            return Outcome(change_text(response.data, then_reset=tracker.get_slot("proximo_fluxo") == "alterar_email"))
        if response.error_code in ("rate_limited", "too_many_attempts"):
            return Outcome(
                response.error.get("message") or "Foram muitos pedidos. Tente de novo mais tarde.", [HUMAN_BUTTON]
            )
        if response.error_code in ("identity_not_confirmed", "identity_locked"):
            return Outcome(
                "O nome não confere com o nosso cadastro, então não posso trocar o e-mail. "
                'Confira como o nome está na carteirinha e peça de novo, ou escreva "atendente".',
                [HUMAN_BUTTON],
                session_expired=True,
            )
        if response.error_code in ("invalid_request", "same_email", "email_in_use"):
            return Outcome(
                response.error.get("message")
                or "Não consegui usar esse e-mail. Confira o endereço e peça a troca de novo."
            )
        return Outcome(SESSION_EXPIRED_TEXT, session_expired=True)


def change_text(data: dict[str, Any], *, then_reset: bool) -> str:
    """What the user reads after POST /api/email-changes answered 201."""
    email, protocol, when = data["new_email_masked"], data["protocol"], data.get("effective_text")
    if data.get("repeated"):
        text = (
            f"Já enviei o link de confirmação para {email} há poucos minutos (protocolo {protocol}). "
            "Ele vale 24 horas; se não encontrar o e-mail, olhe a caixa de spam."
        )
    elif when:
        text = (
            f"Enviei um link de confirmação para {email}. Protocolo: {protocol}.\n"
            "O e-mail só muda depois que você abrir esse link (ele vale 24 horas) e, por segurança, só a "
            f"partir de {when}: avisei o e-mail atual do cadastro, que pode cancelar o pedido até lá."
        )
    else:
        text = (
            f"Enviei um link de confirmação para {email}. Protocolo: {protocol}.\n"
            "O e-mail só muda depois que você abrir esse link (ele vale 24 horas)."
        )
    if then_reset:
        text += ' Quando o novo e-mail valer, peça "esqueci minha senha" de novo para receber a senha temporária nele.'
    return text
