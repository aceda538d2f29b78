"""The other movements one by one, after the company identity (docs/company_chat.md): change of a
beneficiary's data (who, which field, the new value), plan change (who, the new plan among the
contracted ones, the start), reactivation (who, the start) and transfer to another company of the group
(who, which company); each one confirmed, then made by the backend (POST /api/company/movements/changes,
/plan-changes, /reactivations, /transfers) → its protocol. The options (plans, the group's companies,
the start dates) are the backend's (GET /api/company/movements/options), kept in `empresa_opcoes` like
the inclusion's; a plan change or a reactivation starts on the next first of the month or, as the
portal's "retroativo", on one of the three retroactive dates, with the warning that a retroactive start
is charged (the transfer always on the next first). The rules (who may change plan, the reactivation
window, the destination's plans) are the backend's: its refusal is said as it comes and the flow ends
with the person's data forgotten."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.company_identity import CompanyFlowAction, CompanyIdentityValidation, company_caller, company_refusal
from bot.actions.company_movements import (
    DONE_TEXT,
    DONE_WARNING,
    NOT_DONE_TEXT,
    AskStart,
    _AskWithOptions,
    _chosen,
    _extract_option,
    _find_who,
    _kept_options,
    _option_button,
    _plan_options,
    _refuse_option,
    start_lines,
    validate_start,
)
from bot.actions.identity import extract_from_text, normalized
from bot.actions.repeated_question import ask
from bot.actions.verified import YES_NO, Outcome
from bot.backend import company_movements
from bot.backend.common import Refusal
from bot.backend.company_movements import MovementOptions, Option
from common.dates import parse_date_pt
from common.labels import date_text
from common.patterns import find_numeric_date
from common.pii import mask_cpf
from common.text import fold
from common.validators import InvalidValue, normalize_birth_date, normalize_card, normalize_cpf, normalize_full_name

# --- what the bot says ---------------------------------------------------------------------------
# the fields of a beneficiary the backend changes: code -> (button, the question, the question again)
DATA_FIELDS = {
    "name": ("Nome", "Qual é o nome completo certo?", "Escreva o nome completo, como está no documento, por exemplo: "),
    "mother_name": (
        "Nome da mãe",
        "Qual é o nome completo da mãe?",
        "Escreva o nome completo da mãe, como está no documento, por exemplo: ",
    ),
    "birth_date": (
        "Data de nascimento",
        "Qual é a data de nascimento certa? (dia/mês/ano)",
        "Escreva a data de nascimento como dia/mês/ano, por exemplo: ",
    ),
}
FIELD_EXAMPLES = {"name": "Renata Costa Lima", "mother_name": "Helena Costa Lima", "birth_date": "17/02/1990"}
FIELD_TEXT = "O que muda no cadastro?"
FIELD_AGAIN_TEXT = (
    "Toque no dado que está errado: o nome, o nome da mãe ou a data de nascimento. "
    "E-mail, telefone e endereço o próprio beneficiário muda pelo aplicativo."
)
FIELD_WORDS = (  # first match wins: "nome da mae" names the mother's name, not the name
    ("mother_name", ("mae", "genitora", "filiacao")),
    ("birth_date", ("nasc", "aniversario", "data", "idade")),
    ("name", ("nome",)),
)
NOT_A_FIELD_TEXT = (
    "Pelo chat eu altero o nome, o nome da mãe ou a data de nascimento. "
    "E-mail, telefone e endereço o próprio beneficiário muda pelo aplicativo. Escolha um destes: {options}."
)
CHANGE_CONFIRM_TEXT = "Confere a alteração?\n{summary}"
CHANGE_CONFIRM_AGAIN_TEXT = (
    "Está certa a alteração abaixo? Toque em Sim para eu fazer, ou em Não para desistir.\n{summary}"
)
PLAN_TEXT = "Para qual plano?"
PLAN_AGAIN_TEXT = "Toque no novo plano, ou escreva o nome dele, por exemplo: {example}."
PLAN_CONFIRM_TEXT = "Confere a troca de plano?\n{summary}"
PLAN_CONFIRM_AGAIN_TEXT = "Está certa a troca abaixo? Toque em Sim para eu fazer, ou em Não para desistir.\n{summary}"
PLAN_DEPENDENTS_NOTE = "Os dependentes acompanham o titular."
REACTIVATION_CONFIRM_TEXT = "Confere a reativação?\n{summary}"
REACTIVATION_CONFIRM_AGAIN_TEXT = (
    "Reativo o beneficiário abaixo? Toque em Sim para eu fazer, ou em Não para desistir.\n{summary}"
)
REACTIVATION_NOTE = "Volta no plano que tinha, se a empresa ainda o contrata."
TARGET_TEXT = "Para qual empresa do grupo?"
TARGET_AGAIN_TEXT = "Toque na empresa de destino, ou escreva o código dela, por exemplo: {example}."
NO_GROUP_TEXT = (
    "A {company} não tem outra empresa no mesmo grupo, então não há para onde transferir. "
    'Escreva "cancelar" para sair ou "atendente" para falar com uma pessoa.'
)
TRANSFER_CONFIRM_TEXT = "Confere a transferência?\n{summary}"
TRANSFER_CONFIRM_AGAIN_TEXT = (
    "Transfiro o beneficiário abaixo? Toque em Sim para eu fazer, ou em Não para desistir.\n{summary}"
)
TRANSFER_NOTE = "A família vai junto, com carteirinhas novas."
START_LINE = "A partir de: {start}"
START_LABEL = "A partir de"
WHO_ERROR_TEXT = (
    "Não reconheci esse número. Digite o CPF (11 números) ou a carteirinha (12 números) do beneficiário, "
    "por exemplo: 500100000101."
)


def _normalize_beneficiary(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 12:
        return normalize_card(digits)
    if len(digits) == 11:
        return normalize_cpf(digits)
    raise InvalidValue(WHO_ERROR_TEXT)


def _who_line(who: str) -> str:
    """The person moved, as the confirmation shows it: the card, or the CPF masked (never echoed whole)."""
    return f"Carteirinha: {who}" if len(who) == 12 else f"CPF: {mask_cpf(who)}"


def _start_line(options: MovementOptions) -> list[str]:
    return [START_LINE.format(start=options.next_start.label)] if options.next_start else []


def _done(done: Any) -> Outcome:
    if isinstance(done, Refusal):
        return company_refusal(done)
    return Outcome(
        DONE_TEXT.format(message=done.message) + (DONE_WARNING.format(warning=done.warning) if done.warning else "")
    )


class _WhoFirst(CompanyIdentityValidation):
    """A movement form whose first question after the identity is who (CPF or card): `who_slot`."""

    who_slot = ""

    async def _extract_who(self, tracker: Tracker) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != self.who_slot:
            return {}
        return extract_from_text(tracker, self.who_slot, _find_who)

    async def _validate_who(self, value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        return normalized(dispatcher, self.who_slot, value, _normalize_beneficiary)


# --- change of data ------------------------------------------------------------------------------


def _field_of(value: Any) -> str | None:
    if str(value) in DATA_FIELDS:  # a button's code
        return str(value)
    text = fold(str(value or ""))
    for code, words in FIELD_WORDS:
        if any(word in text for word in words):
            return code
    return None


def _change_value(field: str, value: str) -> str:
    if field == "birth_date":
        return normalize_birth_date(value).isoformat()
    return normalize_full_name(value, example=FIELD_EXAMPLES[field])


class ValidateEmpresaAlteracaoForm(_WhoFirst):
    who_slot = "empresa_alt_quem"

    def name(self) -> str:
        return "validate_empresa_alteracao_form"

    async def extract_empresa_alt_quem(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._extract_who(tracker)

    async def extract_empresa_alt_campo(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_option(tracker, "empresa_alt_campo")

    async def extract_empresa_alt_valor(self, dispatcher, tracker, domain) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "empresa_alt_valor":
            return {}
        date_finder = find_numeric_date if tracker.get_slot("empresa_alt_campo") == "birth_date" else None
        return extract_from_text(tracker, "empresa_alt_valor", date_finder)

    async def validate_empresa_alt_quem(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._validate_who(value, dispatcher)

    async def validate_empresa_alt_campo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        field = _field_of(value)
        if field is None:
            labels = ", ".join(label for label, _, _ in DATA_FIELDS.values())
            dispatcher.utter_message(text=NOT_A_FIELD_TEXT.format(options=labels))
            return {"empresa_alt_campo": None}
        return {"empresa_alt_campo": field}

    async def validate_empresa_alt_valor(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        field = tracker.get_slot("empresa_alt_campo") or "name"
        return normalized(dispatcher, "empresa_alt_valor", value, lambda text: _change_value(field, text))


class ActionAskEmpresaAltCampo(Action):
    def name(self) -> str:
        return "action_ask_empresa_alt_campo"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        buttons = [_option_button(Option(code, label)) for code, (label, _, _) in DATA_FIELDS.items()]
        ask(dispatcher, tracker, FIELD_TEXT, FIELD_AGAIN_TEXT, buttons)
        return []


class ActionAskEmpresaAltValor(Action):
    def name(self) -> str:
        return "action_ask_empresa_alt_valor"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        field = tracker.get_slot("empresa_alt_campo") or "name"
        _, question, again = DATA_FIELDS[field]
        ask(dispatcher, tracker, question, again + FIELD_EXAMPLES[field] + ".", [])
        return []


def _change_summary(tracker: Tracker) -> str:
    field = tracker.get_slot("empresa_alt_campo") or "name"
    value = str(tracker.get_slot("empresa_alt_valor") or "")
    if field == "birth_date":
        day = parse_date_pt(value)
        value = date_text(day) if day else value
    label = DATA_FIELDS[field][0]
    return "\n".join([_who_line(tracker.get_slot("empresa_alt_quem") or ""), f"{label} novo: {value}"])


class ActionAskEmpresaAltConfirmar(Action):
    def name(self) -> str:
        return "action_ask_empresa_alt_confirmar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        summary = _change_summary(tracker)
        ask(
            dispatcher,
            tracker,
            CHANGE_CONFIRM_TEXT.format(summary=summary),
            CHANGE_CONFIRM_AGAIN_TEXT.format(summary=summary),
            YES_NO,
        )
        return []


class ActionEmpresaAlterarBeneficiario(CompanyFlowAction):
    def name(self) -> str:
        return "action_empresa_alterar_beneficiario"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if not tracker.get_slot("empresa_alt_confirmar"):
            return Outcome(NOT_DONE_TEXT.format(what="alteração"))
        field = tracker.get_slot("empresa_alt_campo") or "name"
        fields = {"beneficiary": tracker.get_slot("empresa_alt_quem"), field: tracker.get_slot("empresa_alt_valor")}
        return _done(await company_movements.make_movement(company_caller(tracker), "changes", fields))


# --- plan change ---------------------------------------------------------------------------------


class ValidateEmpresaTrocaPlanoForm(_WhoFirst):
    who_slot = "empresa_tp_quem"

    def name(self) -> str:
        return "validate_empresa_troca_plano_form"

    async def extract_empresa_tp_quem(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._extract_who(tracker)

    async def extract_empresa_tp_plano(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_option(tracker, "empresa_tp_plano")

    async def validate_empresa_tp_quem(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._validate_who(value, dispatcher)

    async def validate_empresa_tp_plano(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        plans = _plan_options(_kept_options(tracker))
        chosen = _chosen(tracker, plans, value)
        return {"empresa_tp_plano": chosen.code} if chosen else _refuse_option(dispatcher, "empresa_tp_plano", plans)

    async def extract_empresa_tp_inicio(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_option(tracker, "empresa_tp_inicio")

    async def validate_empresa_tp_inicio(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return validate_start(dispatcher, tracker, "empresa_tp_inicio", value)


class ActionAskEmpresaTpPlano(_AskWithOptions):
    def name(self) -> str:
        return "action_ask_empresa_tp_plano"

    def ask(self, dispatcher, tracker, options) -> None:
        plans = _plan_options(options)
        example = plans[-1].label if plans else "Odonto Plus"
        ask(dispatcher, tracker, PLAN_TEXT, PLAN_AGAIN_TEXT.format(example=example), [_option_button(p) for p in plans])


class ActionAskEmpresaTpInicio(AskStart):
    def name(self) -> str:
        return "action_ask_empresa_tp_inicio"


class ActionAskEmpresaTpConfirmar(_AskWithOptions):
    def name(self) -> str:
        return "action_ask_empresa_tp_confirmar"

    def ask(self, dispatcher, tracker, options) -> None:
        lines = [
            _who_line(tracker.get_slot("empresa_tp_quem") or ""),
            f"Novo plano: {tracker.get_slot('empresa_tp_plano')}",
            *start_lines(options, tracker.get_slot("empresa_tp_inicio"), START_LABEL),
            PLAN_DEPENDENTS_NOTE,
        ]
        summary = "\n".join(lines)
        ask(
            dispatcher,
            tracker,
            PLAN_CONFIRM_TEXT.format(summary=summary),
            PLAN_CONFIRM_AGAIN_TEXT.format(summary=summary),
            YES_NO,
        )


class ActionEmpresaTrocarPlano(CompanyFlowAction):
    def name(self) -> str:
        return "action_empresa_trocar_plano"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if not tracker.get_slot("empresa_tp_confirmar"):
            return Outcome(NOT_DONE_TEXT.format(what="troca de plano"))
        fields = {
            "beneficiary": tracker.get_slot("empresa_tp_quem"),
            "plan": tracker.get_slot("empresa_tp_plano"),
            "start_date": tracker.get_slot("empresa_tp_inicio"),
        }
        return _done(await company_movements.make_movement(company_caller(tracker), "plan-changes", fields))


# --- reactivation --------------------------------------------------------------------------------


class ValidateEmpresaReativacaoForm(_WhoFirst):
    who_slot = "empresa_reat_quem"

    def name(self) -> str:
        return "validate_empresa_reativacao_form"

    async def extract_empresa_reat_quem(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._extract_who(tracker)

    async def validate_empresa_reat_quem(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._validate_who(value, dispatcher)

    async def extract_empresa_reat_inicio(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_option(tracker, "empresa_reat_inicio")

    async def validate_empresa_reat_inicio(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return validate_start(dispatcher, tracker, "empresa_reat_inicio", value)


class ActionAskEmpresaReatInicio(AskStart):
    def name(self) -> str:
        return "action_ask_empresa_reat_inicio"


class ActionAskEmpresaReatConfirmar(_AskWithOptions):
    def name(self) -> str:
        return "action_ask_empresa_reat_confirmar"

    def ask(self, dispatcher, tracker, options) -> None:
        lines = [
            _who_line(tracker.get_slot("empresa_reat_quem") or ""),
            *start_lines(options, tracker.get_slot("empresa_reat_inicio"), START_LABEL),
            REACTIVATION_NOTE,
        ]
        summary = "\n".join(lines)
        ask(
            dispatcher,
            tracker,
            REACTIVATION_CONFIRM_TEXT.format(summary=summary),
            REACTIVATION_CONFIRM_AGAIN_TEXT.format(summary=summary),
            YES_NO,
        )


class ActionEmpresaReativar(CompanyFlowAction):
    def name(self) -> str:
        return "action_empresa_reativar"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if not tracker.get_slot("empresa_reat_confirmar"):
            return Outcome(NOT_DONE_TEXT.format(what="reativação"))
        fields = {
            "beneficiary": tracker.get_slot("empresa_reat_quem"),
            "start_date": tracker.get_slot("empresa_reat_inicio"),
        }
        return _done(await company_movements.make_movement(company_caller(tracker), "reactivations", fields))


# --- transfer ------------------------------------------------------------------------------------


class ValidateEmpresaTransferenciaForm(_WhoFirst):
    who_slot = "empresa_transf_quem"

    def name(self) -> str:
        return "validate_empresa_transferencia_form"

    async def extract_empresa_transf_quem(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._extract_who(tracker)

    async def extract_empresa_transf_destino(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_option(tracker, "empresa_transf_destino")

    async def validate_empresa_transf_quem(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._validate_who(value, dispatcher)

    async def validate_empresa_transf_destino(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        companies = list(_kept_options(tracker).group_companies)
        chosen = _chosen(tracker, companies, value)
        if chosen is None:
            digits = "".join(ch for ch in str(value) if ch.isdigit())
            chosen = next((c for c in companies if digits and c.code == digits), None)
        if chosen:
            return {"empresa_transf_destino": chosen.code}
        return _refuse_option(dispatcher, "empresa_transf_destino", companies)


def _company_button(option: Option) -> dict[str, str]:
    return _option_button(Option(option.code, f"{option.label} ({option.code})"))


class ActionAskEmpresaTransfDestino(_AskWithOptions):
    def name(self) -> str:
        return "action_ask_empresa_transf_destino"

    def ask(self, dispatcher, tracker, options) -> None:
        companies = list(options.group_companies)
        if not companies:
            company = (tracker.get_slot("empresa_info") or {}).get("company_name") or "empresa"
            ask(dispatcher, tracker, NO_GROUP_TEXT.format(company=company), NO_GROUP_TEXT.format(company=company), [])
            return
        ask(
            dispatcher,
            tracker,
            TARGET_TEXT,
            TARGET_AGAIN_TEXT.format(example=companies[0].code),
            [_company_button(c) for c in companies],
        )


class ActionAskEmpresaTransfConfirmar(_AskWithOptions):
    def name(self) -> str:
        return "action_ask_empresa_transf_confirmar"

    def ask(self, dispatcher, tracker, options) -> None:
        code = tracker.get_slot("empresa_transf_destino")
        target = next((c.label for c in options.group_companies if c.code == code), "")
        lines = [
            _who_line(tracker.get_slot("empresa_transf_quem") or ""),
            f"Para: {target} ({code})" if target else f"Para a empresa {code}",
            *_start_line(options),
            TRANSFER_NOTE,
        ]
        summary = "\n".join(lines)
        ask(
            dispatcher,
            tracker,
            TRANSFER_CONFIRM_TEXT.format(summary=summary),
            TRANSFER_CONFIRM_AGAIN_TEXT.format(summary=summary),
            YES_NO,
        )


class ActionEmpresaTransferir(CompanyFlowAction):
    def name(self) -> str:
        return "action_empresa_transferir"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if not tracker.get_slot("empresa_transf_confirmar"):
            return Outcome(NOT_DONE_TEXT.format(what="transferência"))
        fields = {
            "beneficiary": tracker.get_slot("empresa_transf_quem"),
            "target_company": tracker.get_slot("empresa_transf_destino"),
        }
        return _done(await company_movements.make_movement(company_caller(tracker), "transfers", fields))
