"""Who is talking on the employer's side: a company user (HR) confirms the access with the user code
(RH500101), the company's CNPJ (check digits, the alphanumeric CNPJ too) and the 6-digit code the
backend e-mails to the address on file — never a password in the chat.

CompanyIdentityValidation is the reusable part (like identity.IdentityFormValidation for the
beneficiary): a form whose required slots start with COMPANY_IDENTITY_SLOTS subclasses it and gets the
extraction from free text, the validation in pt-BR, the code asked and checked by the backend, and a
verified company session: the token (`empresa_token`) and what the backend said (`empresa_info`: first
name, user code, admin or not, company, channel) stay in the conversation — never at rest
(bot/tracker_store.py) and never featurized — so the next company request skips the questions.

A company session never serves a beneficiary's request nor the other way round: they are different
slots, tokens and backend routes; a beneficiary request in a company-verified conversation asks the
beneficiary's identity as usual.

The company services (`company_service: true` in bot/catalogue.yml) are remembered in `empresa_servico`
by action_empresa_registrar, then empresa_identidade_form checks the access (or passes straight through)
and action_empresa_servico runs the handler registered with @company_service("<intent>")
(bot/actions/company_services.py).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.flow_reset import COMPANY_SESSION_SLOTS, end_flow_events
from bot.actions.identity import extract_from_text, normalized
from bot.actions.repeated_question import QuestionCount, next_requested_slot
from bot.actions.services import values_given
from bot.actions.verified import Outcome, input_channel
from bot.backend import company
from bot.backend.common import Refusal
from bot.backend.company import CompanyCaller, CompanyVerification
from common.company_documents import find_cnpj, find_user_code, normalize_cnpj, normalize_user_code

# --- what the bot says ---------------------------------------------------------------------------
CODE_SENT_TEXT = "{message}"
NEW_CODE_TEXT = "Pronto, pedi um código novo. {message}"
WRONG_CODE_LEFT_TEXT = " Você ainda tem {attempts} tentativa(s)."
CODE_SHAPE_TEXT = "O código tem 6 números. Confira o e-mail mais recente e digite só os números, por exemplo: 123456."
WELCOME_TEXT = "Acesso confirmado, {first_name}! Você está falando pela {company}."
LOCKED_HINT = ' Enquanto isso, se precisar, escreva "atendente".'
LOCKED_FALLBACK = "Por segurança, a confirmação por código ficou bloqueada por alguns minutos."
SESSION_EXPIRED_TEXT = (
    "A confirmação do acesso da empresa expirou (ela acaba depois de alguns minutos sem uso). "
    "É só repetir o pedido que eu confirmo de novo."
)
REFUSED_TEXT = "Não consegui fazer isso agora."
LOST_TEXT = "Desculpe, me perdi. Pode repetir o que a empresa precisa?"

COMPANY_IDENTITY_SLOTS = ("empresa_usuario", "empresa_cnpj", "empresa_codigo")
VALUE_ENTITIES = ("ano", "mes", "documento", "protocolo", "empresa_opcao")
NEW_CODE = "novo"
_CODE_RE = re.compile(r"(?<!\d)(\d{3})[\s.\-]?(\d{3})(?!\d)")
_NEW_CODE_RE = re.compile(
    r"\b(novo|nova|outro|outra|reenvi\w*|mand\w* de novo|nao (chegou|recebi|veio)|não (chegou|recebi|veio))\b",
    re.IGNORECASE,
)

Handler = Callable[[Tracker, dict[str, str]], Awaitable[Outcome]]
_HANDLERS: dict[str, Handler] = {}


def company_service(intent: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _HANDLERS[intent] = handler
        return handler

    return register


def company_caller(tracker: Tracker) -> CompanyCaller:
    return CompanyCaller(tracker.get_slot("empresa_token"), input_channel(tracker), tracker.sender_id)


def company_info(tracker: Tracker) -> dict[str, Any]:
    return tracker.get_slot("empresa_info") or {}


def company_verified(tracker: Tracker) -> bool:
    """The conversation holds a company verification made on this channel."""
    return tracker.get_slot("empresa_token") is not None and company_info(tracker).get("channel") == input_channel(
        tracker
    )


def company_session_expired_events() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in COMPANY_SESSION_SLOTS]


def company_refusal(refused: Refusal) -> Outcome:
    """The backend's own message; a human where there is nothing to correct here; the session
    forgotten when the backend no longer accepts it (401)."""
    if refused.status == 401:
        return Outcome(SESSION_EXPIRED_TEXT, events=company_session_expired_events())
    buttons = [HUMAN_BUTTON] if refused.status >= 409 or refused.status == 403 else []
    return Outcome(refused.message or REFUSED_TEXT, buttons)


def verification_info(verified: CompanyVerification, channel: str) -> dict[str, Any]:
    return {
        "first_name": verified.first_name,
        "user_code": verified.user_code,
        "is_admin": verified.is_admin,
        "company_code": verified.company_code,
        "company_name": verified.company_name,
        "cnpj": verified.cnpj,
        "channel": channel,
    }


def find_code(text: str) -> str | None:
    """'482913', '482 913' -> the 6 digits; 'novo codigo', 'nao chegou' -> NEW_CODE."""
    match = _CODE_RE.search(text or "")
    if match:
        return match.group(1) + match.group(2)
    return NEW_CODE if _NEW_CODE_RE.search(text or "") else None


def extract_when_asked(tracker: Tracker, slot: str, finder: Callable[[str], str | None]) -> dict[str, Any]:
    """A value whose form is too loose to be taken from any message (6 digits, a company code): only
    when the form asks for `slot`."""
    if tracker.get_slot("requested_slot") != slot:
        return {}
    return extract_from_text(tracker, slot, finder)


class CompanyIdentityValidation(FormValidationAction, ABC):
    """Base class of every form that starts with the company user's identity (abstract, so the action
    server registers only its concrete subclasses)."""

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>"""

    def asks(self, slot: str, tracker: Tracker) -> bool:
        """Whether a slot after the identity is asked in this conversation."""
        return True

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        """rasa_sdk's steps (extract, validate, next slot) with the backend's code sent and checked in
        between, and the count of a question asked again (repeated_question)."""
        count = QuestionCount.before(tracker, self.form_name())
        forgotten: list[dict[str, Any]] = []
        if tracker.get_slot("empresa_token") is not None and not company_verified(tracker):
            forgotten = company_session_expired_events()  # made through another channel: somebody else
            tracker.add_slots(forgotten)
        extracted = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extracted)
        events = await self.get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(events)
        checked = await self._code_events(dispatcher, tracker)
        tracker.add_slots(checked)
        events += checked
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        if next_slot:
            events.append(next_slot)
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        events += count.events(events, next_requested_slot(events, required, tracker))
        return forgotten + events

    async def required_slots(self, domain_slots, dispatcher, tracker: Tracker, domain) -> list[str]:
        if tracker.get_slot("empresa_bloqueio"):
            return []  # locked: the flow's action says so
        verified = company_verified(tracker)
        return [
            slot
            for slot in domain_slots
            if not (verified and slot in COMPANY_IDENTITY_SLOTS)
            and (slot in COMPANY_IDENTITY_SLOTS or self.asks(slot, tracker))
        ]

    # --- extraction ------------------------------------------------------------------------
    async def extract_empresa_usuario(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "empresa_usuario", find_user_code)

    async def extract_empresa_cnpj(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "empresa_cnpj", find_cnpj)

    async def extract_empresa_codigo(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "empresa_codigo":
            return {}
        found = find_code((tracker.latest_message or {}).get("text") or "")
        return {"empresa_codigo": found} if found else extract_when_asked(tracker, "empresa_codigo", find_code)

    # --- validation ------------------------------------------------------------------------
    async def validate_empresa_usuario(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_usuario", value, normalize_user_code)

    async def validate_empresa_cnpj(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_cnpj", value, normalize_cnpj)

    async def validate_empresa_codigo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if value == NEW_CODE:
            return {"empresa_codigo": None, "empresa_codigo_enviado": None}  # _code_events asks a new one
        digits = "".join(ch for ch in str(value) if ch.isdigit())
        if len(digits) != 6:
            dispatcher.utter_message(text=CODE_SHAPE_TEXT)
            return {"empresa_codigo": None}
        return {"empresa_codigo": digits}

    # --- the backend -----------------------------------------------------------------------
    async def _send_code(
        self, dispatcher, tracker: Tracker, user_code: str, cnpj: str, text: str
    ) -> list[dict[str, Any]]:
        sent = await company.request_code(company_caller(tracker), user_code, cnpj)
        if isinstance(sent, Refusal):
            if sent.status in (423, 429):
                return [SlotSet("empresa_bloqueio", (sent.message or LOCKED_FALLBACK) + LOCKED_HINT)]
            dispatcher.utter_message(text=sent.message or REFUSED_TEXT)
            return [SlotSet("empresa_usuario", None), SlotSet("empresa_cnpj", None)]
        dispatcher.utter_message(text=text.format(message=sent.message))
        return [SlotSet("empresa_codigo_enviado", True), SlotSet("empresa_codigo", None)]

    async def _code_events(self, dispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        """The code sent as soon as the user code and the CNPJ are valid; checked once typed."""
        user_code, cnpj = tracker.get_slot("empresa_usuario"), tracker.get_slot("empresa_cnpj")
        if company_verified(tracker) or tracker.get_slot("empresa_bloqueio") or not (user_code and cnpj):
            return []
        if not tracker.get_slot("empresa_codigo_enviado"):
            again = any(
                e.get("event") == "slot" and e.get("name") == "empresa_codigo_enviado" and e.get("value")
                for e in tracker.events
            )
            return await self._send_code(
                dispatcher, tracker, user_code, cnpj, NEW_CODE_TEXT if again else CODE_SENT_TEXT
            )
        code = tracker.get_slot("empresa_codigo")
        if not code:
            return []
        checked = await company.verify_code(company_caller(tracker), user_code, cnpj, code)
        if isinstance(checked, CompanyVerification):
            dispatcher.utter_message(
                text=WELCOME_TEXT.format(first_name=checked.first_name, company=checked.company_name)
            )
            return [
                SlotSet("empresa_token", checked.token),
                SlotSet("empresa_info", verification_info(checked, input_channel(tracker))),
                SlotSet("empresa_sessao", True),
                SlotSet("empresa_codigo", None),
            ]
        if checked.status == 410:  # expired: a new one at once
            dispatcher.utter_message(text=checked.message)
            return await self._send_code(dispatcher, tracker, user_code, cnpj, NEW_CODE_TEXT)
        if checked.status in (423, 429):
            return [
                SlotSet("empresa_bloqueio", (checked.message or LOCKED_FALLBACK) + LOCKED_HINT),
                SlotSet("empresa_codigo", None),
            ]
        attempts = checked.data.get("attempts_left")
        left = WRONG_CODE_LEFT_TEXT.format(attempts=attempts) if attempts is not None else ""
        dispatcher.utter_message(text=(checked.message or REFUSED_TEXT) + left)
        return [SlotSet("empresa_codigo", None)]


class ValidateEmpresaIdentidadeForm(CompanyIdentityValidation):
    def name(self) -> str:
        return "validate_empresa_identidade_form"


class ActionEmpresaRegistrar(Action):
    """Remembers the company service asked for and the values its buttons or text carry."""

    def name(self) -> str:
        return "action_empresa_registrar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        return [SlotSet("empresa_servico", {"intent": intent, "values": values_given(message, VALUE_ENTITIES)})]


class CompanyFlowAction(Action, ABC):
    """The final action of a flow that starts with the company identity: says the lock, or makes the
    flow's backend call (`outcome`), then ends the flow (the company session too when refused)."""

    @abstractmethod
    async def outcome(self, tracker: Tracker) -> Outcome:
        """Calls the backend for a verified, unlocked conversation."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        locked = tracker.get_slot("empresa_bloqueio")
        result = Outcome(locked, [HUMAN_BUTTON]) if locked else await self.outcome(tracker)
        dispatcher.utter_message(text=result.text, buttons=result.buttons)
        if result.document:
            dispatcher.utter_message(json_message={"type": "document", **result.document})
        return end_flow_events(tracker) + result.events


class ActionEmpresaServico(CompanyFlowAction):
    def name(self) -> str:
        return "action_empresa_servico"

    async def outcome(self, tracker: Tracker) -> Outcome:
        request = tracker.get_slot("empresa_servico") or {}
        handler = _HANDLERS.get(request.get("intent") or "")
        if handler is None or not company_verified(tracker):
            return Outcome(LOST_TEXT)
        return await handler(tracker, dict(request.get("values") or {}))
