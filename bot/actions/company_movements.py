"""Movements one by one, after the company identity: inclusion of a beneficiary (name, CPF, birth
date, mother's name, plan, holder or dependent — kinship and the holder's CPF —, start date with the
warning that a retroactive start is charged, confirmation → protocol and card number) and exclusion
(who, reason, date, confirmation → protocol). The options (plans, start dates, reasons) are the
backend's (GET /api/company/movements/options), fetched by the first question that shows them and kept
in `empresa_opcoes` for the turn that reads the answer. The rules (ages, dates, plans) are the
backend's too: a refusal says its own reason and the flow ends with the person's data forgotten."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.company_identity import (
    CompanyFlowAction,
    CompanyIdentityValidation,
    company_caller,
    company_refusal,
)
from bot.actions.identity import extract_from_text, normalized
from bot.actions.repeated_question import ask
from bot.actions.verified import YES_NO, Outcome
from bot.backend import company_movements
from bot.backend.common import Refusal
from bot.backend.company_movements import MovementOptions, Option
from common.clock import local_today
from common.dates import parse_date_pt
from common.labels import date_text
from common.patterns import find_card, find_cpf, find_numeric_date
from common.pii import mask_cpf
from common.text import fold
from common.validators import (
    InvalidValue,
    normalize_birth_date,
    normalize_card,
    normalize_cpf,
    normalize_full_name,
)

# --- what the bot says ---------------------------------------------------------------------------
PLAN_TEXT = "Em qual plano?"
PLAN_AGAIN_TEXT = "Toque no plano em que a pessoa vai entrar, ou escreva o nome dele, por exemplo: {example}."
BOND_TEXT = "Ele entra como titular (o funcionário) ou como dependente de um titular?"
BOND_AGAIN_TEXT = (
    "Toque em Titular se a pessoa é o funcionário, ou em Dependente se é cônjuge ou filho(a) de um funcionário."
)
BONDS = [("holder", "Titular"), ("dependent", "Dependente")]
KINSHIP_TEXT = "Qual é o parentesco com o titular?"
KINSHIP_AGAIN_TEXT = "Toque no parentesco da pessoa com o titular, por exemplo: Cônjuge."
START_TEXT = "A partir de quando? O normal é o primeiro dia do próximo mês.\n{warning}"
START_AGAIN_TEXT = "Toque na data de início. {warning}"
CONFIRM_TEXT = "Confere a inclusão?\n{summary}"
CONFIRM_AGAIN_TEXT = (
    "Está tudo certo na inclusão abaixo? Toque em Sim para eu fazer, ou em Não para desistir. "
    'Para mudar algo, escreva "cancelar" e comece de novo.\n{summary}'
)
SUMMARY_LINES = [
    ("Nome", "empresa_inc_nome"),
    ("CPF", "empresa_inc_cpf"),
    ("Nascimento", "empresa_inc_nascimento"),
    ("Mãe", "empresa_inc_mae"),
    ("Plano", "empresa_inc_plano"),
]
RETROACTIVE_NOTE = " (retroativa: cobrada nas faturas)"
NO_CPF = "-"
NO_CPF_WORDS = ("nao tem", "não tem", "sem cpf", "nao possui", "não possui")
NOT_DONE_TEXT = "Tudo bem, não fiz a {what}. Se quiser recomeçar, é só pedir de novo."
DONE_TEXT = "{message}"
DONE_WARNING = "\n{warning}"
UNKNOWN_OPTION_TEXT = "Não achei essa opção. Escolha uma destas: {options}."
WHO_TEXT_ERROR = "Digite o CPF (11 números) ou a carteirinha (12 números) de quem sai do plano."
REASON_TEXT = "Qual é o motivo da exclusão?"
REASON_AGAIN_TEXT = "Toque no motivo da saída, por exemplo: {example}."
EXC_CONFIRM_TEXT = "Confere a exclusão?\n{summary}"
EXC_CONFIRM_AGAIN_TEXT = (
    "Está tudo certo na exclusão abaixo? Toque em Sim para eu fazer, ou em Não para desistir.\n{summary}"
)
DATE_ERROR_TEXT = 'Não entendi a data. Escreva como dia/mês/ano, por exemplo: {example}, ou "hoje".'
OPTIONS_FAILED_TEXT = "Não consegui buscar as opções agora."


def _option_button(option: Option) -> dict[str, str]:
    return {"title": option.label, "payload": f'/informar{{"empresa_opcao": "{option.code}"}}'}


def _chosen(tracker: Tracker, options: list[Option], value: Any) -> Option | None:
    """The option the answer names: a button's code, or the label (or code) typed, accents aside."""
    wanted = fold(str(value or "")).strip()
    for option in options:
        if wanted in (fold(option.code), fold(option.label)):
            return option
    matches = [o for o in options if wanted and (wanted in fold(o.label) or fold(o.label) in wanted)]
    return matches[0] if len(matches) == 1 else None


def _option_entity(tracker: Tracker) -> str | None:
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "empresa_opcao":
            return str(entity.get("value"))
    return None


def _extract_option(tracker: Tracker, slot: str) -> dict[str, Any]:
    if tracker.get_slot("requested_slot") != slot:
        return {}
    found = _option_entity(tracker)
    if found:
        return {slot: found}
    return extract_from_text(tracker, slot, None)


async def _options(tracker: Tracker) -> tuple[MovementOptions | None, list[dict[str, Any]]]:
    """The options kept by the form, or fetched now (with the event that keeps them)."""
    kept = tracker.get_slot("empresa_opcoes")
    if kept:
        return MovementOptions.from_kept(kept), []
    found = await company_movements.movement_options(company_caller(tracker))
    if isinstance(found, Refusal):
        return None, []
    return found, [SlotSet("empresa_opcoes", found.json())]


def _kept_options(tracker: Tracker) -> MovementOptions:
    return MovementOptions.from_kept(tracker.get_slot("empresa_opcoes") or {})


def _refuse_option(dispatcher: CollectingDispatcher, slot: str, options: list[Option]) -> dict[str, Any]:
    dispatcher.utter_message(text=UNKNOWN_OPTION_TEXT.format(options=", ".join(o.label for o in options)))
    return {slot: None}


def _plan_options(options: MovementOptions) -> list[Option]:
    return [Option(name, name) for name in options.plans]


def _dependent_kinships(options: MovementOptions) -> list[Option]:
    return [k for k in options.kinships if k.code != "holder"]


# --- inclusion ---------------------------------------------------------------------------------


# --- the start date (inclusion, plan change, reactivation: the portal's "retroativo") -----------


def validate_start(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, value: Any) -> dict[str, Any]:
    """A start the backend allows: a button, or one of those dates typed (01/11/2026, "1/11")."""
    starts = list(_kept_options(tracker).start_dates)
    chosen = _chosen(tracker, starts, value)
    if chosen is None:
        typed = parse_date_pt(str(value))
        chosen = next((o for o in starts if typed and o.code == typed.isoformat()), None)
    return {slot: chosen.code} if chosen else _refuse_option(dispatcher, slot, starts)


def ask_start(dispatcher: CollectingDispatcher, tracker: Tracker, options: MovementOptions) -> None:
    """The starts as buttons: the next first of the month first, then the retroactive ones, newest first,
    with the warning that a retroactive start is charged."""
    starts = sorted(options.start_dates, key=lambda o: (o.retroactive, [-int(p) for p in o.code.split("-")]))
    warning = options.retroactive_warning
    ask(
        dispatcher,
        tracker,
        START_TEXT.format(warning=warning),
        START_AGAIN_TEXT.format(warning=warning),
        [_option_button(o) for o in starts],
    )


def start_lines(options: MovementOptions, code: str | None, label: str) -> list[str]:
    """The chosen start as the confirmation shows it, "(retroativa: cobrada nas faturas)" when it is."""
    start = next((o for o in options.start_dates if o.code == code), None)
    if start is None:
        return []
    return [f"{label}: {start.label.replace(' (retroativa)', '')}" + (RETROACTIVE_NOTE if start.retroactive else "")]


class ValidateEmpresaInclusaoForm(CompanyIdentityValidation):
    def name(self) -> str:
        return "validate_empresa_inclusao_form"

    def asks(self, slot: str, tracker: Tracker) -> bool:
        if slot in ("empresa_inc_parentesco", "empresa_inc_titular_cpf"):
            return tracker.get_slot("empresa_inc_vinculo") == "dependent"
        return True

    async def extract_empresa_inc_nome(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return (
            extract_from_text(tracker, "empresa_inc_nome", None)
            if tracker.get_slot("requested_slot") == "empresa_inc_nome"
            else {}
        )

    async def extract_empresa_inc_cpf(self, dispatcher, tracker, domain) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "empresa_inc_cpf":
            return {}
        text = fold((tracker.latest_message or {}).get("text") or "")
        if any(fold(word) in text for word in NO_CPF_WORDS):
            return {"empresa_inc_cpf": NO_CPF}
        return extract_from_text(tracker, "empresa_inc_cpf", find_cpf)

    async def extract_empresa_inc_nascimento(self, dispatcher, tracker, domain) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "empresa_inc_nascimento":
            return {}
        return extract_from_text(tracker, "empresa_inc_nascimento", find_numeric_date)

    async def extract_empresa_inc_mae(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return (
            extract_from_text(tracker, "empresa_inc_mae", None)
            if tracker.get_slot("requested_slot") == "empresa_inc_mae"
            else {}
        )

    async def extract_empresa_inc_plano(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_option(tracker, "empresa_inc_plano")

    async def extract_empresa_inc_vinculo(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_option(tracker, "empresa_inc_vinculo")

    async def extract_empresa_inc_parentesco(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_option(tracker, "empresa_inc_parentesco")

    async def extract_empresa_inc_titular_cpf(self, dispatcher, tracker, domain) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "empresa_inc_titular_cpf":
            return {}
        return extract_from_text(tracker, "empresa_inc_titular_cpf", find_cpf)

    async def extract_empresa_inc_inicio(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_option(tracker, "empresa_inc_inicio")

    async def validate_empresa_inc_nome(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(
            dispatcher, "empresa_inc_nome", value, lambda t: normalize_full_name(t, example="Bruno Almeida Souza")
        )

    async def validate_empresa_inc_cpf(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if value == NO_CPF:
            return {"empresa_inc_cpf": NO_CPF}
        return normalized(dispatcher, "empresa_inc_cpf", value, normalize_cpf)

    async def validate_empresa_inc_nascimento(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_inc_nascimento", value, lambda t: normalize_birth_date(t).isoformat())

    async def validate_empresa_inc_mae(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_inc_mae", value, normalize_full_name)

    async def validate_empresa_inc_plano(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        plans = _plan_options(_kept_options(tracker))
        chosen = _chosen(tracker, plans, value)
        return {"empresa_inc_plano": chosen.code} if chosen else _refuse_option(dispatcher, "empresa_inc_plano", plans)

    async def validate_empresa_inc_vinculo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        bonds = [Option(code, label) for code, label in BONDS]
        text = fold(str(value))
        if any(word in text for word in ("titular", "funcionario", "colaborador", "empregado")):
            return {"empresa_inc_vinculo": "holder"}
        if any(word in text for word in ("dependente", "filh", "conjuge", "esposa", "marido")):
            return {"empresa_inc_vinculo": "dependent"}
        chosen = _chosen(tracker, bonds, value)
        return (
            {"empresa_inc_vinculo": chosen.code} if chosen else _refuse_option(dispatcher, "empresa_inc_vinculo", bonds)
        )

    async def validate_empresa_inc_parentesco(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        kinships = _dependent_kinships(_kept_options(tracker))
        text = fold(str(value))
        words = {
            "spouse": ("conjuge", "esposa", "esposo", "marido", "mulher", "companheir"),
            "son": ("filho", "enteado"),
            "daughter": ("filha", "enteada"),
        }
        for code, options in words.items():
            if any(word in text for word in options) and any(k.code == code for k in kinships):
                return {"empresa_inc_parentesco": code}
        chosen = _chosen(tracker, kinships, value)
        return (
            {"empresa_inc_parentesco": chosen.code}
            if chosen
            else _refuse_option(dispatcher, "empresa_inc_parentesco", kinships)
        )

    async def validate_empresa_inc_titular_cpf(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_inc_titular_cpf", value, normalize_cpf)

    async def validate_empresa_inc_inicio(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return validate_start(dispatcher, tracker, "empresa_inc_inicio", value)


class _AskWithOptions(Action, ABC):
    """A question whose buttons are the backend's options (fetched once, kept in empresa_opcoes)."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        options, events = await _options(tracker)
        if options is None:
            dispatcher.utter_message(text=OPTIONS_FAILED_TEXT)
            return events
        self.ask(dispatcher, tracker, options)
        return events

    @abstractmethod
    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, options: MovementOptions) -> None:
        """Asks the question with the options' buttons."""


class ActionAskEmpresaIncPlano(_AskWithOptions):
    def name(self) -> str:
        return "action_ask_empresa_inc_plano"

    def ask(self, dispatcher, tracker, options) -> None:
        plans = _plan_options(options)
        example = plans[0].label if plans else "Odonto Essencial"
        ask(dispatcher, tracker, PLAN_TEXT, PLAN_AGAIN_TEXT.format(example=example), [_option_button(p) for p in plans])


class ActionAskEmpresaIncVinculo(Action):
    def name(self) -> str:
        return "action_ask_empresa_inc_vinculo"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        buttons = [_option_button(Option(code, label)) for code, label in BONDS]
        ask(dispatcher, tracker, BOND_TEXT, BOND_AGAIN_TEXT, buttons)
        return []


class ActionAskEmpresaIncParentesco(_AskWithOptions):
    def name(self) -> str:
        return "action_ask_empresa_inc_parentesco"

    def ask(self, dispatcher, tracker, options) -> None:
        buttons = [_option_button(k) for k in _dependent_kinships(options)]
        ask(dispatcher, tracker, KINSHIP_TEXT, KINSHIP_AGAIN_TEXT, buttons)


class AskStart(_AskWithOptions, ABC):
    """The start question of a movement (inclusion, plan change, reactivation): `ask_start`. Abstract
    (each subclass names its slot's action), so that the action server does not register it."""

    @abstractmethod
    def name(self) -> str: ...

    def ask(self, dispatcher, tracker, options) -> None:
        ask_start(dispatcher, tracker, options)


class ActionAskEmpresaIncInicio(AskStart):
    def name(self) -> str:
        return "action_ask_empresa_inc_inicio"


def _inclusion_summary(tracker: Tracker) -> str:
    options = _kept_options(tracker)
    lines = []
    for label, slot in SUMMARY_LINES:
        value = tracker.get_slot(slot)
        if slot == "empresa_inc_nascimento" and value:
            value = date_text(parse_date_pt(value) or local_today())
        if slot == "empresa_inc_cpf":
            value = "não tem" if value == NO_CPF else mask_cpf(value or "")  # never echoed whole
        lines.append(f"{label}: {value}")
    if tracker.get_slot("empresa_inc_vinculo") == "dependent":
        kinship = next((k.label for k in options.kinships if k.code == tracker.get_slot("empresa_inc_parentesco")), "")
        lines.append(
            f"Dependente ({kinship}) do titular de CPF {mask_cpf(tracker.get_slot('empresa_inc_titular_cpf') or '')}"
        )
    else:
        lines.append("Titular")
    lines += start_lines(options, tracker.get_slot("empresa_inc_inicio"), "Início")
    return "\n".join(lines)


class ActionAskEmpresaIncConfirmar(Action):
    def name(self) -> str:
        return "action_ask_empresa_inc_confirmar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        summary = _inclusion_summary(tracker)
        ask(
            dispatcher,
            tracker,
            CONFIRM_TEXT.format(summary=summary),
            CONFIRM_AGAIN_TEXT.format(summary=summary),
            YES_NO,
        )
        return []


class ActionEmpresaIncluir(CompanyFlowAction):
    def name(self) -> str:
        return "action_empresa_incluir"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if not tracker.get_slot("empresa_inc_confirmar"):
            return Outcome(NOT_DONE_TEXT.format(what="inclusão"))
        dependent = tracker.get_slot("empresa_inc_vinculo") == "dependent"
        cpf = tracker.get_slot("empresa_inc_cpf")
        fields = {
            "name": tracker.get_slot("empresa_inc_nome"),
            "birth_date": tracker.get_slot("empresa_inc_nascimento"),
            "mother_name": tracker.get_slot("empresa_inc_mae"),
            "plan": tracker.get_slot("empresa_inc_plano"),
            "kinship": tracker.get_slot("empresa_inc_parentesco") if dependent else "holder",
            "start_date": tracker.get_slot("empresa_inc_inicio"),
            **({"cpf": cpf} if cpf and cpf != NO_CPF else {}),
            **({"holder": tracker.get_slot("empresa_inc_titular_cpf")} if dependent else {}),
        }
        done = await company_movements.make_movement(company_caller(tracker), "inclusions", fields)
        if isinstance(done, Refusal):
            return company_refusal(done)
        return Outcome(
            DONE_TEXT.format(message=done.message) + (DONE_WARNING.format(warning=done.warning) if done.warning else "")
        )


# --- exclusion ---------------------------------------------------------------------------------


def _find_who(text: str) -> str | None:
    return find_card(text) or find_cpf(text)


def _normalize_who(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 12:
        return normalize_card(digits)
    if len(digits) == 11:
        return normalize_cpf(digits)
    raise InvalidValue(WHO_TEXT_ERROR)


def _exclusion_date(value: str) -> str:
    text = fold(value)
    today = local_today()
    if "hoje" in text:
        return today.isoformat()
    parsed = parse_date_pt(value, today=today)
    if parsed is None:
        raise InvalidValue(DATE_ERROR_TEXT.format(example=date_text(today)))
    return parsed.isoformat()


class ValidateEmpresaExclusaoForm(CompanyIdentityValidation):
    def name(self) -> str:
        return "validate_empresa_exclusao_form"

    async def extract_empresa_exc_cpf(self, dispatcher, tracker, domain) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "empresa_exc_cpf":
            return {}
        return extract_from_text(tracker, "empresa_exc_cpf", _find_who)

    async def extract_empresa_exc_motivo(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_option(tracker, "empresa_exc_motivo")

    async def extract_empresa_exc_data(self, dispatcher, tracker, domain) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "empresa_exc_data":
            return {}
        return extract_from_text(tracker, "empresa_exc_data", None)

    async def validate_empresa_exc_cpf(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_exc_cpf", value, _normalize_who)

    async def validate_empresa_exc_motivo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        reasons = list(_kept_options(tracker).exclusion_reasons)
        text = fold(str(value))
        if any(word in text for word in ("demiss", "deslig", "rescis")):
            value = "dismissal"
        chosen = _chosen(tracker, reasons, value)
        return (
            {"empresa_exc_motivo": chosen.code} if chosen else _refuse_option(dispatcher, "empresa_exc_motivo", reasons)
        )

    async def validate_empresa_exc_data(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "empresa_exc_data", value, _exclusion_date)


class ActionAskEmpresaExcMotivo(_AskWithOptions):
    def name(self) -> str:
        return "action_ask_empresa_exc_motivo"

    def ask(self, dispatcher, tracker, options) -> None:
        reasons = list(options.exclusion_reasons)
        example = reasons[0].label if reasons else "desligamento"
        ask(
            dispatcher,
            tracker,
            REASON_TEXT,
            REASON_AGAIN_TEXT.format(example=example),
            [_option_button(r) for r in reasons],
        )


def _exclusion_summary(tracker: Tracker) -> str:
    reasons = _kept_options(tracker).exclusion_reasons
    reason = next((r.label for r in reasons if r.code == tracker.get_slot("empresa_exc_motivo")), "")
    day = parse_date_pt(tracker.get_slot("empresa_exc_data") or "")
    who = tracker.get_slot("empresa_exc_cpf") or ""
    shown = f"Carteirinha: {who}" if len(who) == 12 else f"CPF: {mask_cpf(who)}"
    return f"{shown}\nMotivo: {reason}\nData de saída: {date_text(day) if day else ''}"


class ActionAskEmpresaExcConfirmar(Action):
    def name(self) -> str:
        return "action_ask_empresa_exc_confirmar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        summary = _exclusion_summary(tracker)
        ask(
            dispatcher,
            tracker,
            EXC_CONFIRM_TEXT.format(summary=summary),
            EXC_CONFIRM_AGAIN_TEXT.format(summary=summary),
            YES_NO,
        )
        return []


class ActionEmpresaExcluir(CompanyFlowAction):
    def name(self) -> str:
        return "action_empresa_excluir"

    async def outcome(self, tracker: Tracker) -> Outcome:
        if not tracker.get_slot("empresa_exc_confirmar"):
            return Outcome(NOT_DONE_TEXT.format(what="exclusão"))
        fields = {
            "beneficiary": tracker.get_slot("empresa_exc_cpf"),
            "reason": tracker.get_slot("empresa_exc_motivo"),
            "date": tracker.get_slot("empresa_exc_data"),
        }
        done = await company_movements.make_movement(company_caller(tracker), "exclusions", fields)
        if isinstance(done, Refusal):
            return company_refusal(done)
        return Outcome(
            DONE_TEXT.format(message=done.message) + (DONE_WARNING.format(warning=done.warning) if done.warning else "")
        )


# --- the movements' file -----------------------------------------------------------------------

MAX_LINE_ERRORS = 10
BATCH_TEXT = "{message}"  # the backend's: what was applied, the protocol, what to do with the refused lines
BATCH_ERRORS_TEXT = "\n\nLinhas recusadas:\n{lines}"
BATCH_ERROR_LINE = "• linha {line}{column}: {message}"
BATCH_MORE_ERRORS = "\n…e mais {count} linha(s) com erro: veja todas no protocolo, pelo portal."
BATCH_AGAIN_TEXT = ' Corrija e mande de novo: escreva "enviar planilha".'
NOT_A_FILE_TEXT = "Não consegui ler esse anexo. Mande a planilha (CSV ou XLSX) de novo."
_FILE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _sent_file_id(tracker: Tracker) -> str | None:
    """The backend's id of the file the channel received with the latest message (metadata is user
    input: the backend also refuses an id of another conversation)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    for item in metadata.get("attachments") or []:
        file_id = item.get("file_id") if isinstance(item, dict) else None
        if isinstance(file_id, str) and _FILE_ID_RE.match(file_id):
            return file_id
    return None


class ValidateEmpresaLoteForm(CompanyIdentityValidation):
    def name(self) -> str:
        return "validate_empresa_lote_form"

    async def extract_empresa_lote_arquivo(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "empresa_lote_arquivo":
            return {}
        file_id = _sent_file_id(tracker)
        if file_id is None and (tracker.latest_message or {}).get("metadata", {}).get("attachments"):
            dispatcher.utter_message(text=NOT_A_FILE_TEXT)
        return {"empresa_lote_arquivo": file_id} if file_id else {}


class ActionEmpresaEnviarPlanilha(CompanyFlowAction):
    def name(self) -> str:
        return "action_empresa_enviar_planilha"

    async def outcome(self, tracker: Tracker) -> Outcome:
        done = await company_movements.send_batch(
            company_caller(tracker), str(tracker.get_slot("empresa_lote_arquivo"))
        )
        if isinstance(done, Refusal):
            refused = company_refusal(done)
            if done.status in (400, 404, 413, 415, 422):
                refused.text += BATCH_AGAIN_TEXT
            return refused
        text = BATCH_TEXT.format(message=done.message)
        if done.errors:
            lines = [
                BATCH_ERROR_LINE.format(line=e.line, column=f" ({e.column})" if e.column else "", message=e.message)
                for e in done.errors[:MAX_LINE_ERRORS]
            ]
            text += BATCH_ERRORS_TEXT.format(lines="\n".join(lines))
            if len(done.errors) > MAX_LINE_ERRORS:
                text += BATCH_MORE_ERRORS.format(count=len(done.errors) - MAX_LINE_ERRORS)
        return Outcome(text)
