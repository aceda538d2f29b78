"""solicitar_carteirinha (CASSE): identity, whose card (the holder picks among the family), the
reason from the CASSE list, the police report number only for "Roubo C/ B.O", an optional
note, a summary to confirm — then the backend opens the request and gives the protocol."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from bot.actions.family import AskFamilyMember, AskToConfirm, FamilyRequestForm
from bot.actions.identity import extract_from_text, text_within
from bot.actions.services import refusal
from bot.actions.verified import Outcome, VerifiedFlowAction, caller
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


class ValidateCarteirinhaForm(FamilyRequestForm):
    """Whose card ("minha filha perdeu a carteirinha": the daughter's) and the summary to confirm:
    FamilyRequestForm."""

    intent, member_slot, confirm_slot = "solicitar_carteirinha", "carteirinha_membro", "carteirinha_confirmar"

    def name(self) -> str:
        return "validate_carteirinha_form"

    def asks(self, slot: str, tracker: Tracker) -> bool:
        if slot == "carteirinha_bo":
            return tracker.get_slot("carteirinha_motivo") == ROBBERY_WITH_REPORT
        return super().asks(slot, tracker)

    async def extract_carteirinha_motivo(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "carteirinha_motivo", None)

    async def extract_carteirinha_bo(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "carteirinha_bo", None)

    async def extract_carteirinha_obs(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if tracker.get_slot("requested_slot") == "carteirinha_obs" and intent == "negar":
            return {"carteirinha_obs": NO_NOTE}
        return extract_from_text(tracker, "carteirinha_obs", None)

    async def validate_carteirinha_motivo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        reason = normalize_reason(str(value))
        if reason == ROBBERY:
            dispatcher.utter_message(text=ROBBERY_TEXT, buttons=_ROBBERY_BUTTONS)
            return {"carteirinha_motivo": None}
        if reason is None:
            dispatcher.utter_message(text=UNKNOWN_REASON_TEXT.format(reasons=", ".join(CARD_REISSUE_REASONS)))
        return {"carteirinha_motivo": reason}

    async def validate_carteirinha_bo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return text_within(dispatcher, "carteirinha_bo", value, (3, 40), POLICE_REPORT_TEXT)

    async def validate_carteirinha_obs(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        note = " ".join(str(value).split())
        if len(note) > 300:
            dispatcher.utter_message(text=NOTE_TOO_LONG_TEXT)
            return {"carteirinha_obs": None}
        return {"carteirinha_obs": note or NO_NOTE}


class ActionAskCarteirinhaMembro(AskFamilyMember):
    question, question_again = WHOSE_CARD_TEXT, WHOSE_CARD_AGAIN_TEXT

    def name(self) -> str:
        return "action_ask_carteirinha_form_carteirinha_membro"


class ActionAskCarteirinhaConfirmar(AskToConfirm):
    question, question_again = CONFIRM_TEXT, CONFIRM_AGAIN_TEXT

    def name(self) -> str:
        return "action_ask_carteirinha_form_carteirinha_confirmar"

    def summary(self, tracker: Tracker) -> str:
        return _summary(tracker)


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
