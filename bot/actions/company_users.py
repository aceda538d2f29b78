"""The portal's users from the chat, for the company's admins (docs/company_reports_users.md): add a
user (name, e-mail, profile, confirmation → the backend's message: it e-mails the first-access link) and
edit one (which user — buttons from the list —, what changes, the new value, confirmation). A plain user
is asked nothing after the identity: the backend's own refusal (403 company_admin_only) is said, politely,
with a human. The list and the deactivation stay in bot/actions/company_services.py."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.company_identity import (
    CompanyFlowAction,
    CompanyIdentityValidation,
    company_caller,
    company_info,
    company_refusal,
    company_verified,
)
from bot.actions.company_movements import NOT_DONE_TEXT, _extract_option, _option_button, _option_entity
from bot.actions.identity import extract_from_text, normalized
from bot.actions.repeated_question import ask
from bot.actions.verified import YES_NO, Outcome
from bot.backend import company_reports
from bot.backend.common import Refusal
from bot.backend.company_movements import Option
from common.company_documents import find_user_code, normalize_user_code
from common.patterns import find_email
from common.text import fold
from common.validators import InvalidValue, normalize_email, normalize_full_name

# --- what the bot says ---------------------------------------------------------------------------
ROLES = {"admin": "Administrador", "user": "Usuário comum"}
ROLE_WORDS = (("admin", ("admin", "gestor", "master", "total")), ("user", ("usuario", "comum", "normal", "user")))
ROLE_TEXT = "Qual vai ser o perfil? O administrador também cuida dos usuários do portal."
ROLE_AGAIN_TEXT = (
    "Toque em Administrador se a pessoa vai cuidar dos usuários do portal, ou em Usuário comum para o resto."
)
ROLE_ERROR_TEXT = "Não entendi o perfil. Toque em Administrador ou em Usuário comum."
NEW_CONFIRM_TEXT = "Confere o novo usuário do portal?\n{summary}\nO link para criar a senha vai para esse e-mail."
NEW_CONFIRM_AGAIN_TEXT = "Cadastro o usuário abaixo? Toque em Sim para eu fazer, ou em Não para desistir.\n{summary}"
NAME_EXAMPLE = "Carla Mendes Souza"
WHO_TEXT = "Qual usuário você quer alterar?"
WHO_AGAIN_TEXT = "Toque no usuário, ou escreva o código dele, por exemplo: {example}."
WHO_LIST_FAILED = "Qual é o código do usuário que você quer alterar? Por exemplo: RH500102."
USER_BUTTON = "{code} — {name}"
EDIT_FIELDS = {"name": "Nome", "email": "E-mail", "role": "Perfil"}
EDIT_FIELD_WORDS = (("email", ("mail",)), ("role", ("perfil", "admin", "acesso", "permiss")), ("name", ("nome",)))
EDIT_FIELD_TEXT = "O que muda no usuário {code}?"
EDIT_FIELD_AGAIN_TEXT = "Toque no que muda: o nome, o e-mail ou o perfil (administrador ou usuário comum)."
EDIT_FIELD_ERROR_TEXT = "Pelo chat eu mudo o nome, o e-mail ou o perfil do usuário. Escolha um destes: {options}."
EDIT_VALUE = {
    "name": ("Qual é o nome completo certo?", f"Escreva o nome completo da pessoa, por exemplo: {NAME_EXAMPLE}."),
    "email": ("Qual é o novo e-mail?", "Escreva o novo e-mail da pessoa, por exemplo: carla@empresa.com.br."),
}
EDIT_CONFIRM_TEXT = "Confere a alteração do usuário {code}?\n{summary}"
EDIT_CONFIRM_AGAIN_TEXT = (
    "Faço a alteração abaixo no usuário {code}? Toque em Sim para eu fazer, ou em Não para desistir.\n{summary}"
)
PROMOTED_TEXT = 'Seu perfil de administrador foi confirmado agora. Peça de novo: "{request}".'


def _admin_or_unknown(tracker: Tracker) -> bool:
    """Ask the questions unless the verified session says a plain user (the backend decides in the end)."""
    return not company_verified(tracker) or bool(company_info(tracker).get("is_admin"))


def _role_of(value: Any) -> str | None:
    if str(value) in ROLES:  # a button's code
        return str(value)
    text = fold(str(value or ""))
    for code, words in ROLE_WORDS:
        if any(word in text for word in words):
            return code
    return None


def _normalize_role(value: str) -> str:
    role = _role_of(value)
    if role is None:
        raise InvalidValue(ROLE_ERROR_TEXT)
    return role


def _role_buttons() -> list[dict[str, str]]:
    return [_option_button(Option(code, label)) for code, label in ROLES.items()]


async def _plain_user_refused(tracker: Tracker, request: str) -> Outcome:
    """What a plain user gets: the backend's own refusal (asked with a read of the list, which changes
    nothing); if the backend now takes the user as an admin, the session learns it."""
    found = await company_reports.portal_users(company_caller(tracker))
    if isinstance(found, Refusal):
        return company_refusal(found)
    info = {**company_info(tracker), "is_admin": True}
    return Outcome(PROMOTED_TEXT.format(request=request), events=[SlotSet("empresa_info", info)])


# --- a new user ----------------------------------------------------------------------------------


class ValidateEmpresaNovoUsuarioForm(CompanyIdentityValidation):
    def name(self) -> str:
        return "validate_empresa_novo_usuario_form"

    def asks(self, slot: str, tracker: Tracker) -> bool:
        return _admin_or_unknown(tracker)

    async def extract_empresa_usr_nome(self, dispatcher, tracker, domain) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "empresa_usr_nome":
            return {}
        return extract_from_text(tracker, "empresa_usr_nome", None)

    async def extract_empresa_usr_email(self, dispatcher, tracker, domain) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "empresa_usr_email":
            return {}
        return extract_from_text(tracker, "empresa_usr_email", find_email)

    async def extract_empresa_usr_perfil(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_option(tracker, "empresa_usr_perfil")

    async def validate_empresa_usr_nome(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_usr_nome", value, lambda t: normalize_full_name(t, example=NAME_EXAMPLE))

    async def validate_empresa_usr_email(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_usr_email", value, normalize_email)

    async def validate_empresa_usr_perfil(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_usr_perfil", value, _normalize_role)


class ActionAskEmpresaUsrPerfil(Action):
    def name(self) -> str:
        return "action_ask_empresa_usr_perfil"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        ask(dispatcher, tracker, ROLE_TEXT, ROLE_AGAIN_TEXT, _role_buttons())
        return []


class ActionAskEmpresaUsrConfirmar(Action):
    def name(self) -> str:
        return "action_ask_empresa_usr_confirmar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        summary = "\n".join(
            [
                f"Nome: {tracker.get_slot('empresa_usr_nome')}",
                f"E-mail: {tracker.get_slot('empresa_usr_email')}",
                f"Perfil: {ROLES.get(tracker.get_slot('empresa_usr_perfil') or '', '')}",
            ]
        )
        ask(
            dispatcher,
            tracker,
            NEW_CONFIRM_TEXT.format(summary=summary),
            NEW_CONFIRM_AGAIN_TEXT.format(summary=summary),
            YES_NO,
        )
        return []


class ActionEmpresaCadastrarUsuario(CompanyFlowAction):
    def name(self) -> str:
        return "action_empresa_cadastrar_usuario"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if not company_info(tracker).get("is_admin"):
            return await _plain_user_refused(tracker, "cadastrar usuario do portal")
        if not tracker.get_slot("empresa_usr_confirmar"):
            return Outcome(NOT_DONE_TEXT.format(what="inclusão do usuário"))
        done = await company_reports.add_user(
            company_caller(tracker),
            str(tracker.get_slot("empresa_usr_nome")),
            str(tracker.get_slot("empresa_usr_email")),
            str(tracker.get_slot("empresa_usr_perfil")),
        )
        return company_refusal(done) if isinstance(done, Refusal) else Outcome(done.message)


# --- editing a user ------------------------------------------------------------------------------


def _edit_field_of(value: Any) -> str | None:
    if str(value) in EDIT_FIELDS:  # a button's code
        return str(value)
    text = fold(str(value or ""))
    for code, words in EDIT_FIELD_WORDS:
        if any(word in text for word in words):
            return code
    return None


def _edit_value(field: str, value: str) -> str:
    if field == "email":
        return normalize_email(value)
    if field == "role":
        return _normalize_role(value)
    return normalize_full_name(value, example=NAME_EXAMPLE)


class ValidateEmpresaEditarUsuarioForm(CompanyIdentityValidation):
    def name(self) -> str:
        return "validate_empresa_editar_usuario_form"

    def asks(self, slot: str, tracker: Tracker) -> bool:
        return _admin_or_unknown(tracker)

    async def extract_empresa_ed_codigo(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        message = tracker.latest_message or {}
        asked = tracker.get_slot("requested_slot") == "empresa_ed_codigo"
        # the list's "Editar" button carries the user in the request itself
        carried = (message.get("intent") or {}).get("name") == "empresa_editar_usuario"
        if not (asked or carried) or tracker.get_slot("empresa_ed_codigo"):
            return {}
        found = _option_entity(tracker)
        if found and find_user_code(found):
            return {"empresa_ed_codigo": found}
        return extract_from_text(tracker, "empresa_ed_codigo", find_user_code) if asked else {}

    async def extract_empresa_ed_campo(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_option(tracker, "empresa_ed_campo")

    async def extract_empresa_ed_valor(self, dispatcher, tracker, domain) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "empresa_ed_valor":
            return {}
        if tracker.get_slot("empresa_ed_campo") == "role":
            return _extract_option(tracker, "empresa_ed_valor")
        finder = find_email if tracker.get_slot("empresa_ed_campo") == "email" else None
        return extract_from_text(tracker, "empresa_ed_valor", finder)

    async def validate_empresa_ed_codigo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_ed_codigo", value, normalize_user_code)

    async def validate_empresa_ed_campo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        field = _edit_field_of(value)
        if field is None:
            dispatcher.utter_message(text=EDIT_FIELD_ERROR_TEXT.format(options=", ".join(EDIT_FIELDS.values())))
            return {"empresa_ed_campo": None}
        return {"empresa_ed_campo": field}

    async def validate_empresa_ed_valor(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        field = tracker.get_slot("empresa_ed_campo") or "name"
        return normalized(dispatcher, "empresa_ed_valor", value, lambda text: _edit_value(field, text))


class ActionAskEmpresaEdCodigo(Action):
    def name(self) -> str:
        return "action_ask_empresa_ed_codigo"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        found = await company_reports.portal_users(company_caller(tracker))
        if isinstance(found, Refusal) or not found:
            ask(dispatcher, tracker, WHO_LIST_FAILED, WHO_LIST_FAILED, [])
            return []
        buttons = [
            _option_button(Option(u.user_code, USER_BUTTON.format(code=u.user_code, name=u.name))) for u in found
        ][:8]
        others = [u.user_code for u in found if u.user_code != company_info(tracker).get("user_code")]
        example = others[0] if others else found[0].user_code
        ask(dispatcher, tracker, WHO_TEXT, WHO_AGAIN_TEXT.format(example=example), buttons)
        return []


class ActionAskEmpresaEdCampo(Action):
    def name(self) -> str:
        return "action_ask_empresa_ed_campo"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        buttons = [_option_button(Option(code, label)) for code, label in EDIT_FIELDS.items()]
        question = EDIT_FIELD_TEXT.format(code=tracker.get_slot("empresa_ed_codigo"))
        ask(dispatcher, tracker, question, EDIT_FIELD_AGAIN_TEXT, buttons)
        return []


class ActionAskEmpresaEdValor(Action):
    def name(self) -> str:
        return "action_ask_empresa_ed_valor"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        field = tracker.get_slot("empresa_ed_campo") or "name"
        if field == "role":
            ask(dispatcher, tracker, ROLE_TEXT, ROLE_AGAIN_TEXT, _role_buttons())
        else:
            question, again = EDIT_VALUE[field]
            ask(dispatcher, tracker, question, again, [])
        return []


class ActionAskEmpresaEdConfirmar(Action):
    def name(self) -> str:
        return "action_ask_empresa_ed_confirmar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        field = tracker.get_slot("empresa_ed_campo") or "name"
        value = tracker.get_slot("empresa_ed_valor") or ""
        summary = f"{EDIT_FIELDS[field]} novo: {ROLES.get(value, value) if field == 'role' else value}"
        code = tracker.get_slot("empresa_ed_codigo")
        ask(
            dispatcher,
            tracker,
            EDIT_CONFIRM_TEXT.format(code=code, summary=summary),
            EDIT_CONFIRM_AGAIN_TEXT.format(code=code, summary=summary),
            YES_NO,
        )
        return []


class ActionEmpresaEditarUsuario(CompanyFlowAction):
    def name(self) -> str:
        return "action_empresa_editar_usuario"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if not company_info(tracker).get("is_admin"):
            return await _plain_user_refused(tracker, "alterar usuario do portal")
        if not tracker.get_slot("empresa_ed_confirmar"):
            return Outcome(NOT_DONE_TEXT.format(what="alteração do usuário"))
        field = tracker.get_slot("empresa_ed_campo") or "name"
        done = await company_reports.edit_user(
            company_caller(tracker),
            str(tracker.get_slot("empresa_ed_codigo")),
            {field: str(tracker.get_slot("empresa_ed_valor"))},
        )
        return company_refusal(done) if isinstance(done, Refusal) else Outcome(done.message)
