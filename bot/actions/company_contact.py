"""The company's contact data (e-mail, phone, address) changed through a protocol, after the company
identity: which one (buttons), the new value, then the backend registers the request (admins only:
the backend says so to a plain user) and answers with the protocol."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.company_identity import CompanyFlowAction, CompanyIdentityValidation, company_caller, company_refusal
from bot.actions.identity import extract_from_text, normalized, text_within
from bot.actions.repeated_question import ask
from bot.actions.verified import Outcome
from bot.backend import company
from bot.backend.common import Refusal
from common.patterns import find_email
from common.text import fold
from common.validators import InvalidValue, normalize_email

# --- what the bot says ---------------------------------------------------------------------------
WHICH_TEXT = "Qual contato da empresa você quer alterar?"
WHICH_AGAIN_TEXT = "Toque no contato que vai mudar: e-mail, telefone ou endereço."
FIELDS = {"email": "E-mail", "phone": "Telefone", "address": "Endereço"}
FIELD_WORDS = {
    "email": ("mail",),
    "phone": ("telefone", "fone", "celular", "whats"),
    "address": ("endereco", "rua", "sede"),
}
VALUE_TEXT = {
    "email": "Qual é o novo e-mail da empresa?",
    "phone": "Qual é o novo telefone da empresa, com DDD?",
    "address": "Qual é o novo endereço completo da empresa (rua, número, bairro, cidade, UF e CEP)?",
}
VALUE_AGAIN_TEXT = {
    "email": "Vamos de novo: escreva o novo e-mail da empresa, por exemplo: rh@empresa.com.br.",
    "phone": "Vamos de novo: escreva o telefone com DDD, por exemplo: (11) 3456-7890.",
    "address": "Vamos de novo: escreva o endereço completo, por exemplo: "
    "Rua das Flores, 100, Centro, São Paulo - SP, 01000-000.",
}
PHONE_HINT = "O telefone precisa do DDD: 10 ou 11 números, por exemplo: (11) 3456-7890."
ADDRESS_HINT = "Escreva o endereço completo (entre 10 e 200 caracteres), com rua, número, cidade e CEP."
UNKNOWN_FIELD_TEXT = "Escolha e-mail, telefone ou endereço."
_PHONE_RE = re.compile(r"\D")


def _phone(value: str) -> str:
    digits = _PHONE_RE.sub("", value)
    if len(digits) not in (10, 11):
        raise InvalidValue(PHONE_HINT)
    return f"({digits[:2]}) {digits[2:-4]}-{digits[-4:]}"


class ValidateEmpresaContatoForm(CompanyIdentityValidation):
    def name(self) -> str:
        return "validate_empresa_contato_form"

    async def extract_empresa_contato_tipo(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        message = tracker.latest_message or {}
        if tracker.get_slot("requested_slot") == "empresa_contato_tipo":
            for entity in message.get("entities") or []:
                if entity.get("entity") == "empresa_opcao":
                    return {"empresa_contato_tipo": entity.get("value")}
            return extract_from_text(tracker, "empresa_contato_tipo", None)
        if tracker.get_slot("empresa_contato_tipo") is None and tracker.get_slot("requested_slot") is None:
            text = fold(message.get("text") or "")  # "alterar o email da empresa": which one, from the start
            found = [field for field, words in FIELD_WORDS.items() if any(w in text for w in words)]
            if len(found) == 1:
                return {"empresa_contato_tipo": found[0]}
        return {}

    async def extract_empresa_contato_valor(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "empresa_contato_valor":
            return {}
        finder = find_email if tracker.get_slot("empresa_contato_tipo") == "email" else None
        return extract_from_text(tracker, "empresa_contato_valor", finder)

    async def validate_empresa_contato_tipo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        text = fold(str(value))
        if text in FIELDS:
            return {"empresa_contato_tipo": text}
        found = [field for field, words in FIELD_WORDS.items() if any(w in text for w in words)]
        if len(found) == 1:
            return {"empresa_contato_tipo": found[0]}
        dispatcher.utter_message(text=UNKNOWN_FIELD_TEXT)
        return {"empresa_contato_tipo": None}

    async def validate_empresa_contato_valor(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        kind = tracker.get_slot("empresa_contato_tipo")
        if kind == "email":
            return normalized(dispatcher, "empresa_contato_valor", value, normalize_email)
        if kind == "phone":
            return normalized(dispatcher, "empresa_contato_valor", value, _phone)
        return text_within(dispatcher, "empresa_contato_valor", value, (10, 200), ADDRESS_HINT)


class ActionAskEmpresaContatoTipo(Action):
    def name(self) -> str:
        return "action_ask_empresa_contato_tipo"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        buttons = [
            {"title": label, "payload": f'/informar{{"empresa_opcao": "{code}"}}'} for code, label in FIELDS.items()
        ]
        ask(dispatcher, tracker, WHICH_TEXT, WHICH_AGAIN_TEXT, buttons)
        return []


class ActionAskEmpresaContatoValor(Action):
    def name(self) -> str:
        return "action_ask_empresa_contato_valor"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        kind = tracker.get_slot("empresa_contato_tipo") or "address"
        ask(dispatcher, tracker, VALUE_TEXT[kind], VALUE_AGAIN_TEXT[kind], [])
        return []


class ActionEmpresaAlterarContato(CompanyFlowAction):
    def name(self) -> str:
        return "action_empresa_alterar_contato"

    async def outcome(self, tracker: Tracker) -> Outcome:
        change = {str(tracker.get_slot("empresa_contato_tipo")): str(tracker.get_slot("empresa_contato_valor"))}
        done = await company.change_contact(company_caller(tracker), change)
        if isinstance(done, Refusal):
            return company_refusal(done)
        return Outcome(done.message)
