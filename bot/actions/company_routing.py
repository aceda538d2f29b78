"""Whose invoice: "fatura" alone ("faturas", "2a via da fatura") reads as the beneficiary's request
(segunda_via_boleto, mensalidades), but in a conversation with a company session it is the HR user
asking for the company's invoices. The rule "fatura numa conversa da empresa" (bot/data/rules_empresa.yml,
condition: empresa_sessao) runs action_fatura_quem, which hands the message back to the dialogue as the
company's request (empresa_faturas, or empresa_segunda_via_fatura for a copy), as action_trocar_pedido
does; a message that names the beneficiary's own bill ("meu boleto", "minha mensalidade") or a
conversation whose company session is gone goes on as the plan service, exactly as without the rule
(action_registrar_servico, then identidade_form). Without a company session the rule never runs.

Whose protocol: "protocolo N da empresa" reads as consultar_protocolo, the lookup anyone may make by
number (kind, status and date, never whose). In a company session, a message that names the company
("empresa", "rh", "movimentacao") is the company's lookup (empresa_protocolos: only the company's own
protocols, "Não encontrei" for anyone else's); the rule "protocolo numa conversa da empresa" runs
action_protocolo_quem. Any other wording goes on as the public lookup (protocolo_form)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.company_identity import company_verified
from bot.actions.conversation import handed_back_as
from bot.actions.services import ActionRegistrarServico
from common.text import fold

COMPANY_WORDS = ("fatura",)  # the company's bill; the beneficiary's is a "boleto" or a "mensalidade"
BENEFICIARY_WORDS = ("boleto", "mensalidade", "meu plano", "carteirinha")
COPY_WORDS = ("2a", "2 via", "2ª", "segunda", "via", "pagar", "linha digitavel", "pix", "codigo de barras")


def company_invoice_intent(text: str) -> str | None:
    """The company's request the words ask for, or None when they name the beneficiary's own bill."""
    folded = fold(text)
    if not any(word in folded for word in COMPANY_WORDS) or any(word in folded for word in BENEFICIARY_WORDS):
        return None
    return "empresa_segunda_via_fatura" if any(word in folded for word in COPY_WORDS) else "empresa_faturas"


class ActionFaturaQuem(Action):
    def name(self) -> str:
        return "action_fatura_quem"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        intent = company_invoice_intent(message.get("text") or "") if company_verified(tracker) else None
        if intent is None:  # the beneficiary's request, as the plan services' rule serves it
            events = await ActionRegistrarServico().run(dispatcher, tracker, domain)
            return [*events, FollowupAction("identidade_form")]
        return handed_back_as(tracker, intent)


PROTOCOL_COMPANY_WORDS = ("empresa", "rh", "movimentacao", "movimentacoes", "fatura")


def company_protocol_intent(text: str) -> str | None:
    """empresa_protocolos when the words name the company's protocols; None otherwise."""
    words = set(fold(text).replace("?", " ").replace(",", " ").replace(".", " ").split())
    return "empresa_protocolos" if words & set(PROTOCOL_COMPANY_WORDS) else None


class ActionProtocoloQuem(Action):
    def name(self) -> str:
        return "action_protocolo_quem"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        intent = company_protocol_intent(message.get("text") or "") if company_verified(tracker) else None
        if intent is None:  # the public lookup by number, as its own rule serves it
            return [FollowupAction("protocolo_form")]
        return handed_back_as(tracker, intent)
