"""solicitar_reembolso: identity, whose care (the holder may ask for a dependent), the
provider's name and CPF or CNPJ, the date of service, what was done, the amount paid, then the
receipt (and any medical request or report) as photos or PDFs sent through the channel, a summary
to confirm — and the protocol with the deadline for the answer.

Files arrive as message metadata from the channels (channels/common.py):
{"attachments": [{"path", "content_type", "filename", "size"}]}; the action reads them only from
the channels' inbound directory and posts them to the backend, which checks type and size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.backend_client import backend
from bot.actions.family import NOT_IN_FAMILY_TEXT, family_members, member_buttons, pick_member
from bot.actions.identity import IdentityFormValidation, extract_from_text
from bot.actions.services import refusal
from bot.actions.verified import YES_NO, Outcome, VerifiedFlowAction, request_context, verified_headers
from channels.common import inbound_dir
from common.money import format_brl
from common.pii import mask_cpf
from common.validators import InvalidValue, normalize_amount, normalize_cpf_or_cnpj, normalize_service_date

DONE_BUTTON = {"title": "Pronto, já enviei", "payload": "/afirmar"}
_DONE_WORDS = {"pronto", "pronta", "terminei", "so isso", "só isso", "acabei", "ja enviei", "já enviei", "é isso"}


def _attachments(tracker: Tracker) -> list[dict[str, Any]]:
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    items = metadata.get("attachments") or []
    return [item for item in items if isinstance(item, dict) and item.get("path")]


def _inbound_file(path: str) -> Path | None:
    """The file, only if it lies inside the channels' inbound directory (metadata is user input)."""
    root = inbound_dir().resolve()
    candidate = Path(path).resolve()
    return candidate if candidate.is_file() and root in candidate.parents else None


async def _upload(tracker: Tracker, attachment: dict[str, Any], kind: str) -> tuple[dict | None, str | None]:
    """Posts one file to the backend: (document, None) or (None, the pt-BR reason it was refused)."""
    path = _inbound_file(str(attachment["path"]))
    if path is None:
        return None, "Não consegui ler esse arquivo. Tente enviar de novo."
    form = aiohttp.FormData()
    form.add_field("kind", kind)
    form.add_field(
        "file",
        path.read_bytes(),
        filename=attachment.get("filename") or path.name,
        content_type=attachment.get("content_type") or "application/octet-stream",
    )
    response = await backend.post_form("/api/reimbursement-documents", form, headers=verified_headers(tracker))
    if response.ok:
        return response.data, None
    return None, response.error.get("message") or "Não consegui guardar esse arquivo."


def _summary(tracker: Tracker) -> str:
    documents = tracker.get_slot("reembolso_anexos") or []
    document = tracker.get_slot("reembolso_doc_prestador") or ""
    shown = mask_cpf(document) if len(document) == 11 else document
    return "\n".join(
        [
            f"Atendimento de: {tracker.get_slot('reembolso_membro_nome') or 'você'}",
            f"Prestador: {tracker.get_slot('reembolso_prestador')} ({shown})",
            f"Data: {tracker.get_slot('reembolso_data_texto')}",
            f"O que foi feito: {tracker.get_slot('reembolso_descricao')}",
            f"Valor pago: {format_brl(tracker.get_slot('reembolso_valor'))}",
            f"Arquivos: {', '.join(d['filename'] for d in documents)}",
        ]
    )


class ValidateReembolsoForm(IdentityFormValidation):
    def name(self) -> str:
        return "validate_reembolso_form"

    def asks(self, slot: str, tracker: Tracker) -> bool:
        if slot == "reembolso_membro":
            return bool((tracker.get_slot("identidade_info") or {}).get("dependents"))
        return True

    # --- extraction: free text for the slot being asked ------------------------------------
    async def extract_reembolso_membro(self, dispatcher, tracker, domain):
        return extract_from_text(tracker, "reembolso_membro", None)

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
                has_receipt = any(d["kind"] == "recibo" for d in documents)
                document, problem = await _upload(tracker, attachment, "outro" if has_receipt else "recibo")
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
            dispatcher.utter_message(
                text="Ainda não recebi nenhum arquivo. Mande a foto ou o PDF do recibo ou da nota fiscal por aqui."
            )
        return {}

    async def _extract_validation_events(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        """The uploaded files are kept in `reembolso_anexos`, which is not a question of the form, so
        rasa_sdk would drop it: it is added back (also when every file was refused, so that the form
        answers instead of being rejected)."""
        events = await super()._extract_validation_events(dispatcher, tracker, domain)
        if tracker.get_slot("requested_slot") == "reembolso_anexos_ok" and _attachments(tracker):
            events.insert(0, SlotSet("reembolso_anexos", tracker.get_slot("reembolso_anexos") or []))
        return events

    # --- validation ------------------------------------------------------------------------
    async def validate_reembolso_membro(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        person = pick_member(await family_members(tracker), str(value))
        if person is None:
            dispatcher.utter_message(text=NOT_IN_FAMILY_TEXT)
            return {"reembolso_membro": None}
        return {"reembolso_membro": person["card_number"], "reembolso_membro_nome": person["name"]}

    async def validate_reembolso_prestador(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        name = " ".join(str(value).split())
        if not 2 <= len(name) <= 160:
            dispatcher.utter_message(
                text="Me diga o nome do médico, da clínica ou do laboratório, como está no recibo."
            )
            return {"reembolso_prestador": None}
        return {"reembolso_prestador": name}

    async def validate_reembolso_doc_prestador(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        try:
            return {"reembolso_doc_prestador": normalize_cpf_or_cnpj(str(value))}
        except InvalidValue as exc:
            dispatcher.utter_message(text=str(exc))
            return {"reembolso_doc_prestador": None}

    async def validate_reembolso_data(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        try:
            day = normalize_service_date(str(value))
        except InvalidValue as exc:
            dispatcher.utter_message(text=str(exc))
            return {"reembolso_data": None}
        return {"reembolso_data": day.isoformat(), "reembolso_data_texto": f"{day:%d/%m/%Y}"}

    async def validate_reembolso_descricao(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        text = " ".join(str(value).split())
        if not 3 <= len(text) <= 300:
            dispatcher.utter_message(
                text="Descreva o atendimento em poucas palavras (até 300 caracteres), "
                "por exemplo: consulta com dermatologista."
            )
            return {"reembolso_descricao": None}
        return {"reembolso_descricao": text}

    async def validate_reembolso_valor(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        try:
            return {"reembolso_valor": str(normalize_amount(str(value)))}
        except InvalidValue as exc:
            dispatcher.utter_message(text=str(exc))
            return {"reembolso_valor": None}

    async def validate_reembolso_confirmar(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return {"reembolso_confirmar": bool(value)}


class ActionAskReembolsoMembro(Action):
    def name(self) -> str:
        return "action_ask_reembolso_form_reembolso_membro"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text="O atendimento foi de quem?", buttons=member_buttons(await family_members(tracker))
        )
        return []


class ActionAskReembolsoAnexos(Action):
    def name(self) -> str:
        return "action_ask_reembolso_form_reembolso_anexos_ok"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        documents = tracker.get_slot("reembolso_anexos") or []
        if not documents:
            dispatcher.utter_message(
                text="Agora mande a foto ou o PDF do recibo ou da nota fiscal (e, se tiver, "
                "do pedido ou relatório médico). Pode mandar um arquivo por vez."
            )
        else:
            names = ", ".join(d["filename"] for d in documents)
            dispatcher.utter_message(
                text=f'Recebi: {names}. Mande mais algum arquivo ou toque em "Pronto".', buttons=[DONE_BUTTON]
            )
        return []


class ActionAskReembolsoConfirmar(Action):
    def name(self) -> str:
        return "action_ask_reembolso_form_reembolso_confirmar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=f"Confere o pedido de reembolso?\n{_summary(tracker)}", buttons=YES_NO)
        return []


class ActionSolicitarReembolso(VerifiedFlowAction):
    def name(self) -> str:
        return "action_solicitar_reembolso"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if tracker.get_slot("reembolso_confirmar") is False:
            return Outcome("Tudo bem, não enviei o pedido. Se quiser recomeçar, é só pedir reembolso de novo.")
        body = {
            **request_context(tracker),
            "provider_name": tracker.get_slot("reembolso_prestador"),
            "provider_document": tracker.get_slot("reembolso_doc_prestador"),
            "service_date": tracker.get_slot("reembolso_data"),
            "description": tracker.get_slot("reembolso_descricao"),
            "amount": tracker.get_slot("reembolso_valor"),
            "document_ids": [d["id"] for d in tracker.get_slot("reembolso_anexos") or []],
        }
        if tracker.get_slot("reembolso_membro"):
            body["beneficiary"] = tracker.get_slot("reembolso_membro")
        response = await backend.post("/api/reimbursements", body)
        if not response.ok:
            return refusal(response)
        data = response.data
        if data.get("duplicate"):
            return Outcome(f"Esse reembolso já tinha sido pedido: protocolo {data['protocol']}. Não abri outro pedido.")
        return Outcome(
            f"Pedido de reembolso recebido!\n{data['summary']}\n"
            'Para acompanhar, é só escrever "como está meu reembolso".'
        )
