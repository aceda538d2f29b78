"""solicitar_carteirinha (CASSE): identity, whose card (the holder picks among the family), the
reason from the CASSE list, the police report number only for "Roubo C/ B.O", an optional
note, a summary to confirm — then the backend opens the request and gives the protocol."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.family import (
    NOT_IN_FAMILY_TEXT,
    family_members,
    member_buttons,
    member_in_summary_answer,
    member_named_at_start,
    pick_member,
)
from bot.actions.identity import IdentityFormValidation, extract_from_text
from bot.actions.repeated_question import asked_again, with_escape
from bot.actions.services import refusal
from bot.actions.verified import YES_NO, Outcome, VerifiedFlowAction, caller
from bot.backend import card
from bot.backend.card import NewCardRequest
from bot.backend.common import Refusal
from common.card_reasons import CARD_REISSUE_REASONS, ROBBERY, ROBBERY_WITH_REPORT, normalize_reason

# --- what the bot says ---------------------------------------------------------------------------
ROBBERY_TEXT = "Sinto muito pelo roubo. Você registrou boletim de ocorrência (B.O.)?"
_ROBBERY_BUTTONS = [
    {"title": "Sim, tenho o B.O.", "payload": "Roubo C/ B.O"},
    {"title": "Não tenho B.O.", "payload": "Roubo S/ B.O"},
]
UNKNOWN_REASON_TEXT = "Não entendi o motivo. Escolha um destes: {reasons}."
POLICE_REPORT_TEXT = "Me mande o número do boletim de ocorrência, como está no documento."
NOTE_TOO_LONG_TEXT = "A observação ficou longa demais: use até 300 caracteres."
WHOSE_CARD_TEXT = "A segunda via é para quem?"
WHOSE_CARD_AGAIN_TEXT = (
    "Me diga de quem é a carteirinha que precisa de segunda via: toque no nome da pessoa ou escreva o "
    "primeiro nome dela, por exemplo: {example}."
)
CONFIRM_TEXT = "Confere o pedido de segunda via?\n{summary}"
CONFIRM_AGAIN_TEXT = (
    "Está tudo certo no pedido abaixo? Toque em Sim para eu fazer o pedido, ou em Não para desistir. "
    'Para mudar algo, escreva o que está errado, por exemplo: "errei o motivo".\n{summary}'
)
SUMMARY_MEMBER = "Carteirinha de: {name}"
SUMMARY_YOU = "você"
SUMMARY_REASON = "Motivo: {reason}"
SUMMARY_POLICE_REPORT = "Boletim de ocorrência: {number}"
SUMMARY_NOTE = "Observação: {note}"
NOT_REQUESTED_TEXT = "Tudo bem, não fiz o pedido. Se quiser recomeçar, é só pedir a segunda via de novo."
REQUESTED_TEXT = "{message}\nProtocolo: {protocol}."

NO_NOTE = "-"


def _summary(tracker: Tracker) -> str:
    lines = [
        SUMMARY_MEMBER.format(name=tracker.get_slot("carteirinha_membro_nome") or SUMMARY_YOU),
        SUMMARY_REASON.format(reason=tracker.get_slot("carteirinha_motivo")),
    ]
    if tracker.get_slot("carteirinha_bo"):
        lines.append(SUMMARY_POLICE_REPORT.format(number=tracker.get_slot("carteirinha_bo")))
    if tracker.get_slot("carteirinha_obs") not in (None, NO_NOTE):
        lines.append(SUMMARY_NOTE.format(note=tracker.get_slot("carteirinha_obs")))
    return "\n".join(lines)


class ValidateCarteirinhaForm(IdentityFormValidation):
    def name(self) -> str:
        return "validate_carteirinha_form"

    def asks(self, slot: str, tracker: Tracker) -> bool:
        if slot == "carteirinha_membro":
            return bool((tracker.get_slot("identidade_info") or {}).get("dependents"))
        if slot == "carteirinha_bo":
            return tracker.get_slot("carteirinha_motivo") == ROBBERY_WITH_REPORT
        return True

    async def known_from_start(self, tracker: Tracker) -> list[dict[str, Any]]:
        """ "minha filha perdeu a carteirinha": the daughter's card, when the holder has one daughter."""
        if not (self.verified(tracker) and self.asks("carteirinha_membro", tracker)):
            return []
        return await member_named_at_start(tracker, "solicitar_carteirinha", "carteirinha_membro")

    async def extract_carteirinha_membro(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "carteirinha_membro", None)

    async def extract_carteirinha_confirmar(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        """Another member of the family named in answer to the summary ("é para a Ana"): the summary
        is shown again for that person."""
        return await member_in_summary_answer(tracker, "carteirinha_confirmar", "carteirinha_membro")

    async def extract_carteirinha_motivo(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "carteirinha_motivo", None)

    async def extract_carteirinha_bo(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "carteirinha_bo", None)

    async def extract_carteirinha_obs(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if tracker.get_slot("requested_slot") == "carteirinha_obs" and intent == "negar":
            return {"carteirinha_obs": NO_NOTE}
        return extract_from_text(tracker, "carteirinha_obs", None)

    async def validate_carteirinha_membro(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        person = pick_member(await family_members(tracker), str(value))
        if person is None:
            dispatcher.utter_message(text=NOT_IN_FAMILY_TEXT)
            return {"carteirinha_membro": None}
        return {"carteirinha_membro": person.card_number, "carteirinha_membro_nome": person.name}

    async def validate_carteirinha_motivo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        reason = normalize_reason(str(value))
        if reason == ROBBERY:
            dispatcher.utter_message(text=ROBBERY_TEXT, buttons=_ROBBERY_BUTTONS)
            return {"carteirinha_motivo": None}
        if reason is None:
            dispatcher.utter_message(text=UNKNOWN_REASON_TEXT.format(reasons=", ".join(CARD_REISSUE_REASONS)))
        return {"carteirinha_motivo": reason}

    async def validate_carteirinha_bo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        number = " ".join(str(value).split())
        if not 3 <= len(number) <= 40:
            dispatcher.utter_message(text=POLICE_REPORT_TEXT)
            return {"carteirinha_bo": None}
        return {"carteirinha_bo": number}

    async def validate_carteirinha_obs(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        note = " ".join(str(value).split())
        if len(note) > 300:
            dispatcher.utter_message(text=NOTE_TOO_LONG_TEXT)
            return {"carteirinha_obs": None}
        return {"carteirinha_obs": note or NO_NOTE}

    async def validate_carteirinha_confirmar(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return {"carteirinha_confirmar": None if value is None else bool(value)}


class ActionAskCarteirinhaMembro(Action):
    def name(self) -> str:
        return "action_ask_carteirinha_form_carteirinha_membro"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        members = await family_members(tracker)
        if asked_again(tracker):
            text = WHOSE_CARD_AGAIN_TEXT.format(example=members[-1].first_name if members else "Maria")
            dispatcher.utter_message(text=text, buttons=with_escape(member_buttons(members)))
        else:
            dispatcher.utter_message(text=WHOSE_CARD_TEXT, buttons=member_buttons(members))
        return []


class ActionAskCarteirinhaConfirmar(Action):
    def name(self) -> str:
        return "action_ask_carteirinha_form_carteirinha_confirmar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        if asked_again(tracker):
            text, buttons = CONFIRM_AGAIN_TEXT.format(summary=_summary(tracker)), with_escape(YES_NO)
        else:
            text, buttons = CONFIRM_TEXT.format(summary=_summary(tracker)), YES_NO
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


def _given(tracker: Tracker, slot: str) -> str | None:
    value = tracker.get_slot(slot)
    return None if value in (None, NO_NOTE) else value


class ActionSolicitarCarteirinha(VerifiedFlowAction):
    def name(self) -> str:
        return "action_solicitar_carteirinha"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if tracker.get_slot("carteirinha_confirmar") is False:
            return Outcome(NOT_REQUESTED_TEXT)
        request = NewCardRequest(
            reason=tracker.get_slot("carteirinha_motivo"),
            beneficiary=_given(tracker, "carteirinha_membro"),
            police_report=_given(tracker, "carteirinha_bo"),
            note=_given(tracker, "carteirinha_obs"),
        )
        created = await card.request_card(caller(tracker), request)
        if isinstance(created, Refusal):
            return refusal(created)
        return Outcome(REQUESTED_TEXT.format(message=created.message, protocol=created.protocol))
