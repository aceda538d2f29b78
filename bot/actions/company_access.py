"""The access flows of the company portal, without the company identity (the person cannot enter):
first access (user code or company code + CNPJ + e-mail: a link to create the password), forgotten
password (user code + CNPJ: a link to a new one) and forgotten user code (company code + CNPJ + e-mail:
the code by e-mail). The backend answers the same whether or not the data matched; the bot says just
that answer, so nothing tells whether a company, a user or an e-mail exists."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.company_identity import REFUSED_TEXT, company_caller, extract_when_asked
from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.flow_reset import end_flow_events
from bot.actions.identity import extract_from_text, normalized
from bot.actions.repeated_question import CountsRepeatedQuestions
from bot.backend import company
from bot.backend.common import Refusal
from bot.backend.company import Sent
from common.company_documents import (
    find_cnpj,
    find_company_code,
    find_user_code,
    normalize_cnpj,
    normalize_company_code,
    normalize_user_code,
)
from common.patterns import find_email
from common.validators import InvalidValue, normalize_email

# --- what the bot says ---------------------------------------------------------------------------
FIRST_ACCESS_DONE = "{message} Depois de criar a senha, entre no portal sempre com o código de usuário."
RESET_LINK_DONE = "{message}"
USER_CODE_DONE = "{message}"


def _user_or_company_code(value: str) -> str:
    """The first access takes the user code (RH500102) or the company code (500100)."""
    compact = "".join(str(value).split())
    if compact.isdigit():
        return normalize_company_code(compact)
    return normalize_user_code(compact)


class CompanyAccessValidation(CountsRepeatedQuestions, ABC):
    """Extraction and validation of the access flows' answers (abstract)."""

    async def extract_empresa_usuario(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "empresa_usuario", find_user_code)

    async def extract_empresa_cnpj(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "empresa_cnpj", find_cnpj)

    async def extract_empresa_email(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "empresa_email", find_email)

    async def extract_empresa_cod_empresa(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_when_asked(tracker, "empresa_cod_empresa", find_company_code)

    async def validate_empresa_usuario(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_usuario", value, normalize_user_code)

    async def validate_empresa_cnpj(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_cnpj", value, normalize_cnpj)

    async def validate_empresa_email(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_email", value, normalize_email)

    async def validate_empresa_cod_empresa(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_cod_empresa", value, normalize_company_code)


class ValidateEmpresaPrimeiroAcessoForm(CompanyAccessValidation):
    def name(self) -> str:
        return "validate_empresa_primeiro_acesso_form"

    async def extract_empresa_usuario(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        found = extract_from_text(tracker, "empresa_usuario", find_user_code)
        return found or extract_when_asked(tracker, "empresa_usuario", find_company_code)

    async def validate_empresa_usuario(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        try:
            return {"empresa_usuario": _user_or_company_code(value)}
        except InvalidValue:
            dispatcher.utter_message(
                text="Digite o código de usuário (por exemplo: RH500102) ou o código da empresa "
                "(só números, por exemplo: 500100)."
            )
            return {"empresa_usuario": None}


class ValidateEmpresaSenhaForm(CompanyAccessValidation):
    def name(self) -> str:
        return "validate_empresa_senha_form"


class ValidateEmpresaUsuarioForm(CompanyAccessValidation):
    def name(self) -> str:
        return "validate_empresa_usuario_form"


class CompanyAccessAction(Action, ABC):
    """Sends the request, says the backend's answer and ends the flow."""

    done_text = "{message}"

    @abstractmethod
    async def request(self, tracker: Tracker) -> Sent | Refusal:
        """The backend call."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        sent = await self.request(tracker)
        if isinstance(sent, Refusal):
            buttons = [HUMAN_BUTTON] if sent.status >= 409 else []
            dispatcher.utter_message(text=sent.message or REFUSED_TEXT, buttons=buttons)
        else:
            dispatcher.utter_message(text=self.done_text.format(message=sent.message))
        return end_flow_events(tracker)


class ActionEmpresaPrimeiroAcesso(CompanyAccessAction):
    done_text = FIRST_ACCESS_DONE

    def name(self) -> str:
        return "action_empresa_primeiro_acesso"

    async def request(self, tracker: Tracker) -> Sent | Refusal:
        code = str(tracker.get_slot("empresa_usuario"))
        user_code, company_code = (None, code) if code.isdigit() else (code, None)
        return await company.first_access(
            company_caller(tracker),
            str(tracker.get_slot("empresa_cnpj")),
            str(tracker.get_slot("empresa_email")),
            user_code=user_code,
            company_code=company_code,
        )


class ActionEmpresaEsqueciSenha(CompanyAccessAction):
    done_text = RESET_LINK_DONE

    def name(self) -> str:
        return "action_empresa_esqueci_senha"

    async def request(self, tracker: Tracker) -> Sent | Refusal:
        return await company.password_reset(
            company_caller(tracker), str(tracker.get_slot("empresa_usuario")), str(tracker.get_slot("empresa_cnpj"))
        )


class ActionEmpresaEsqueciUsuario(CompanyAccessAction):
    done_text = USER_CODE_DONE

    def name(self) -> str:
        return "action_empresa_esqueci_usuario"

    async def request(self, tracker: Tracker) -> Sent | Refusal:
        return await company.user_code_reminder(
            company_caller(tracker),
            str(tracker.get_slot("empresa_cod_empresa")),
            str(tracker.get_slot("empresa_cnpj")),
            str(tracker.get_slot("empresa_email")),
        )
