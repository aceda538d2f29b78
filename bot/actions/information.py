"""Answers that need no identity: the operator's contacts, and the programmes and rules the
manuals describe (telemedicine, home care, vaccination, reimbursement documents, ombudsman).
The texts are the domain's responses; the operator's phones come from its profile."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.operator_profile import call_centre_line, operator_profile

# --- what the bot says (the programmes' texts are the domain's responses) ----------------------
_PHONE_LABELS = {"central_24h": "Central 24h", "cadastro": "Cadastro", "ouvidoria": "Ouvidoria"}
PHONE_LINE = "{label}: {number}"
PHONES_TEXT = "Telefones do plano:\n{lines}"
TALK_TO_TEXT = "Você pode falar com {line}."
HOURS_TEXT = "\nAtendimento com pessoas: {hours}. A central 24h atende todos os dias."
ANY_TIME_TEXT = "\nPor aqui eu atendo a qualquer hora."
QUESTIONS_TEXT = "Dúvidas? Fale com {line}."

# intent -> response; the intents whose answer ends by offering a person
INFORMATION = {
    "telemedicina": "utter_telemedicina",
    "atencao_domiciliar": "utter_atencao_domiciliar",
    "vacinacao": "utter_vacinacao",
    "documentos_reembolso": "utter_documentos_reembolso",
    "ouvidoria_reclamacao": "utter_ouvidoria",
}
_OFFERS_HUMAN = {"ouvidoria_reclamacao", "atencao_domiciliar"}


class ActionContatoCentral(Action):
    def name(self) -> str:
        return "action_contato_central"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        profile = await operator_profile()
        phones = profile.phones if profile else {}
        lines = [
            PHONE_LINE.format(label=_PHONE_LABELS.get(key, key.replace("_", " ").capitalize()), number=number)
            for key, number in phones.items()
        ]
        if not lines:
            text = TALK_TO_TEXT.format(line=await call_centre_line())
        else:
            text = PHONES_TEXT.format(lines="\n".join(lines))
        hours = profile.opening_hours if profile else None
        if hours:
            text += HOURS_TEXT.format(hours=hours)
        text += ANY_TIME_TEXT
        dispatcher.utter_message(text=text, buttons=[HUMAN_BUTTON])
        return []


class ActionInformacao(Action):
    def name(self) -> str:
        return "action_informacao"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
        response = INFORMATION.get(intent)
        if response is None:
            dispatcher.utter_message(response="utter_ajuda")
            return []
        dispatcher.utter_message(response=response)
        closing = QUESTIONS_TEXT.format(line=await call_centre_line())
        dispatcher.utter_message(text=closing, buttons=[HUMAN_BUTTON] if intent in _OFFERS_HUMAN else [])
        return []
