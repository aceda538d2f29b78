"""solicitar_reembolso: identity, whose care (the holder may ask for a dependent), the
provider's name and CPF or CNPJ, the date of service, what was done, the amount paid, then the
receipt (and any medical request or report) as photos or PDFs sent through the channel, a summary
to confirm — and the protocol with the deadline for the answer.

Files arrive as message metadata from the channels (channels/common.py):
{"attachments": [{"file_id", "content_type", "filename", "size"}]}: the channel already handed the
bytes to the backend (POST /api/inbound-files, upload policy of common/uploads.py); the action only
attaches them by id, and the backend accepts an id of this very conversation only.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.family import AskFamilyMember, AskToConfirm, FamilyRequestForm
from bot.actions.identity import extract_from_text, normalized, text_within
from bot.actions.repeated_question import ask
from bot.actions.services import refusal
from bot.actions.verified import Outcome, VerifiedFlowAction, caller
from bot.backend import reimbursements
from bot.backend.client import BackendUnavailable
from bot.backend.common import Refusal
from bot.backend.reimbursements import OTHER, RECEIPT, DocumentKind, ReimbursementClaim
from common.money import format_brl
from common.pii import mask_cpf
from common.validators import InvalidValue, normalize_amount, normalize_cpf_or_cnpj, normalize_service_date

# --- what the bot says (the backend words its refusals of a file or of the request) --------------
WHOSE_CARE_TEXT = "O atendimento foi de quem?"
WHOSE_CARE_AGAIN_TEXT = (
    "Me diga quem foi atendido (a consulta, o exame ou a terapia): toque no nome da pessoa ou escreva o "
    "primeiro nome dela, por exemplo: {example}."
)
PROVIDER_HINT_TEXT = "Me diga o nome do médico, da clínica ou do laboratório, como está no recibo."
DESCRIPTION_HINT_TEXT = (
    "Descreva o atendimento em poucas palavras (até 300 caracteres), por exemplo: consulta com dermatologista."
)
SEND_FILES_TEXT = (
    "Agora mande a foto ou o PDF do recibo ou da nota fiscal (e, se tiver, "
    "do pedido ou relatório médico). Pode mandar um arquivo por vez."
)
NO_FILE_YET_TEXT = "Ainda não recebi nenhum arquivo. Mande a foto ou o PDF do recibo ou da nota fiscal por aqui."
SEND_FILES_AGAIN_TEXT = (
    "Para seguir, preciso do recibo ou da nota fiscal: mande aqui na conversa uma foto legível ou o PDF "
    "(pelo clipe ou pela câmera do aplicativo de mensagens), um arquivo por vez."
)
RECEIVED_FILES_TEXT = 'Recebi: {names}. Mande mais algum arquivo ou toque em "Pronto".'
DONE_BUTTON = {"title": "Pronto, já enviei", "payload": "/afirmar"}
CONFIRM_TEXT = "Confere o pedido de reembolso?\n{summary}"
CONFIRM_AGAIN_TEXT = (
    "Está tudo certo no pedido abaixo? Toque em Sim para eu enviar, ou em Não para desistir. "
    'Para mudar algo, escreva o que está errado, por exemplo: "errei o valor".\n{summary}'
)
SUMMARY_TEXT = (
    "Atendimento de: {member}\nPrestador: {provider} ({document})\nData: {day}\n"
    "O que foi feito: {description}\nValor pago: {amount}\nArquivos: {files}"
)
SUMMARY_YOU = "você"
NOT_SENT_TEXT = "Tudo bem, não enviei o pedido. Se quiser recomeçar, é só pedir reembolso de novo."
DUPLICATE_TEXT = "Esse reembolso já tinha sido pedido: protocolo {protocol}. Não abri outro pedido."
UNREADABLE_FILE_TEXT = "Não consegui ler esse arquivo. Tente enviar de novo."
FILE_NOT_KEPT_TEXT = "Não consegui guardar esse arquivo agora. Tente enviar de novo daqui a alguns minutos."
FILE_REFUSED_TEXT = "Não consegui guardar esse arquivo."
RECEIVED_TEXT = 'Pedido de reembolso recebido!\n{summary}\nPara acompanhar, é só escrever "como está meu reembolso".'

_DONE_WORDS = {"pronto", "pronta", "terminei", "so isso", "só isso", "acabei", "ja enviei", "já enviei", "é isso"}


def _attachments(tracker: Tracker) -> list[dict[str, Any]]:
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    items = metadata.get("attachments") or []
    return [item for item in items if isinstance(item, dict) and item.get("file_id")]


_FILE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _inbound_file(attachment: dict[str, Any]) -> str | None:
    """The backend's id of the file the channel received, if it looks like one (metadata is user
    input: the backend also refuses an id of another conversation)."""
    file_id = attachment.get("file_id")
    return file_id if isinstance(file_id, str) and _FILE_ID_RE.match(file_id) else None


async def _upload(tracker: Tracker, attachment: dict[str, Any], kind: DocumentKind) -> tuple[dict | None, str | None]:
    """Attaches one file the channel handed to the backend to the reimbursement being made: (the
    document as the slot keeps it, None) or (None, the pt-BR reason it was refused)."""
    file_id = _inbound_file(attachment)
    if file_id is None:
        return None, UNREADABLE_FILE_TEXT
    try:
        document = await reimbursements.attach_document(caller(tracker), file_id, kind)
    except BackendUnavailable:
        return None, FILE_NOT_KEPT_TEXT
    if isinstance(document, Refusal):
        return None, document.message or FILE_REFUSED_TEXT
    return {"id": document.id, "kind": document.kind, "filename": document.filename}, None


def _summary(tracker: Tracker) -> str:
    documents = tracker.get_slot("reembolso_anexos") or []
    document = tracker.get_slot("reembolso_doc_prestador") or ""
    shown = mask_cpf(document) if len(document) == 11 else document
    return SUMMARY_TEXT.format(
        member=tracker.get_slot("reembolso_membro_nome") or SUMMARY_YOU,
        provider=tracker.get_slot("reembolso_prestador"),
        document=shown,
        day=tracker.get_slot("reembolso_data_texto"),
        description=tracker.get_slot("reembolso_descricao"),
        amount=format_brl(tracker.get_slot("reembolso_valor")),
        files=", ".join(d["filename"] for d in documents),
    )


class ValidateReembolsoForm(FamilyRequestForm):
    """Whose care ("reembolso da consulta do meu filho": the son's) and the summary to confirm:
    FamilyRequestForm."""

    intent, member_slot, confirm_slot = "solicitar_reembolso", "reembolso_membro", "reembolso_confirmar"

    def name(self) -> str:
        return "validate_reembolso_form"

    # --- extraction: free text for the slot being asked ------------------------------------
    async def extract_reembolso_prestador(self, dispatcher, tracker, domain):
        return extract_from_text(tracker, "reembolso_prestador", None)

    async def extract_reembolso_doc_prestador(self, dispatcher, tracker, domain):
        return extract_from_text(tracker, "reembolso_doc_prestador", None)

    async def extract_reembolso_data(self, dispatcher, tracker, domain):
        return extract_from_text(tracker, "reembolso_data", None)

    async def extract_reembolso_descricao(self, dispatcher, tracker, domain):
        return extract_from_text(tracker, "reembolso_descricao", None)

    async def extract_reembolso_valor(self, dispatcher, tracker, domain):
        return extract_from_text(tracker, "reembolso_valor", None)

    async def extract_reembolso_anexos_ok(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "reembolso_anexos_ok":
            return {}
        documents = list(tracker.get_slot("reembolso_anexos") or [])
        attachments = _attachments(tracker)
        if attachments:
            for attachment in attachments:
                has_receipt = any(d["kind"] == RECEIPT for d in documents)
                document, problem = await _upload(tracker, attachment, OTHER if has_receipt else RECEIPT)
                if document is None:
                    dispatcher.utter_message(text=problem)
                    continue
                documents.append({"id": document["id"], "kind": document["kind"], "filename": document["filename"]})
            return {"reembolso_anexos": documents}
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        text = (message.get("text") or "").strip().lower()
        if intent == "afirmar" or text in _DONE_WORDS:
            if documents:
                return {"reembolso_anexos_ok": True}
            dispatcher.utter_message(text=NO_FILE_YET_TEXT)
        return {}

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        """The files sent are kept in `reembolso_anexos` (extract_reembolso_anexos_ok), which is not a
        question of the form, so rasa_sdk's validation leaves it out of the events: it is added back
        (also when every file was refused, so that the form answers instead of being rejected)."""
        events = await super().run(dispatcher, tracker, domain)
        if tracker.get_slot("requested_slot") == "reembolso_anexos_ok" and _attachments(tracker):
            events.insert(0, SlotSet("reembolso_anexos", tracker.get_slot("reembolso_anexos") or []))
        return events

    # --- validation ------------------------------------------------------------------------
    async def validate_reembolso_prestador(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return text_within(dispatcher, "reembolso_prestador", value, (2, 160), PROVIDER_HINT_TEXT)

    async def validate_reembolso_doc_prestador(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "reembolso_doc_prestador", value, normalize_cpf_or_cnpj)

    async def validate_reembolso_data(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        try:
            day = normalize_service_date(str(value))
        except InvalidValue as exc:
            dispatcher.utter_message(text=str(exc))
            return {"reembolso_data": None}
        return {"reembolso_data": day.isoformat(), "reembolso_data_texto": f"{day:%d/%m/%Y}"}

    async def validate_reembolso_descricao(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return text_within(dispatcher, "reembolso_descricao", value, (3, 300), DESCRIPTION_HINT_TEXT)

    async def validate_reembolso_valor(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "reembolso_valor", value, lambda text: str(normalize_amount(text)))


class ActionAskReembolsoMembro(AskFamilyMember):
    question, question_again = WHOSE_CARE_TEXT, WHOSE_CARE_AGAIN_TEXT

    def name(self) -> str:
        return "action_ask_reembolso_form_reembolso_membro"


class ActionAskReembolsoAnexos(Action):
    def name(self) -> str:
        return "action_ask_reembolso_form_reembolso_anexos_ok"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        documents = tracker.get_slot("reembolso_anexos") or []
        if not documents:
            ask(dispatcher, tracker, SEND_FILES_TEXT, SEND_FILES_AGAIN_TEXT, [])
        else:
            received = RECEIVED_FILES_TEXT.format(names=", ".join(d["filename"] for d in documents))
            ask(dispatcher, tracker, received, received, [DONE_BUTTON])
        return []


class ActionAskReembolsoConfirmar(AskToConfirm):
    question, question_again = CONFIRM_TEXT, CONFIRM_AGAIN_TEXT

    def name(self) -> str:
        return "action_ask_reembolso_form_reembolso_confirmar"

    def summary(self, tracker: Tracker) -> str:
        return _summary(tracker)


class ActionSolicitarReembolso(VerifiedFlowAction):
    def name(self) -> str:
        return "action_solicitar_reembolso"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if tracker.get_slot("reembolso_confirmar") is False:
            return Outcome(NOT_SENT_TEXT)
        claim = ReimbursementClaim(
            provider_name=tracker.get_slot("reembolso_prestador"),
            provider_document=tracker.get_slot("reembolso_doc_prestador"),
            service_date=tracker.get_slot("reembolso_data"),
            description=tracker.get_slot("reembolso_descricao"),
            amount=tracker.get_slot("reembolso_valor"),
            document_ids=tuple(d["id"] for d in tracker.get_slot("reembolso_anexos") or []),
            beneficiary=tracker.get_slot("reembolso_membro") or None,
        )
        created = await reimbursements.request_reimbursement(caller(tracker), claim)
        if isinstance(created, Refusal):
            return refusal(created)
        if created.duplicate:
            return Outcome(DUPLICATE_TEXT.format(protocol=created.protocol))
        return Outcome(RECEIVED_TEXT.format(summary=created.summary))
