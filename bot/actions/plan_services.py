"""Handlers of the plan services that are one backend call after the identity check: virtual
card, plan, waiting periods, card-reissue follow-up, fees and bank-slip copy, statements,
reimbursement follow-up. The backend's answers carry pt-BR texts; these handlers choose what
to show, add the buttons and ask for the one missing value (year, month, which fee, whose card).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from rasa_sdk import Tracker

from bot.actions.services import ask_for, month_number, payload, refusal, service
from bot.actions.verified import Outcome, caller
from bot.backend import billing, card, identity, plan, statements
from bot.backend import reimbursements as reimbursement_api
from bot.backend.card import CardRequest, Member
from bot.backend.common import Refusal
from bot.backend.reimbursements import Reimbursement
from bot.backend.statements import EmptyStatement, StatementKind
from common.clock import local_today
from common.labels import card_number_text, relationship_label

# --- what the bot says ---------------------------------------------------------------------------
CARD_BUTTON_TITLE = "Carteirinha de {first_name}"
CARD_TEXT = "{text}\n\nA imagem da carteirinha vale por {minutes} minutos."
NO_CARD_REQUESTS_TEXT = "Não encontrei pedidos de segunda via de carteirinha."
CARD_REQUESTS_TEXT = "Seus pedidos de carteirinha:\n{lines}"
CARD_REQUEST_LINE = "• {name}: {status} (motivo {reason}, pedido em {requested_on}, protocolo {protocol})"
CARD_REQUEST_FORECAST = "; previsão de entrega até {expected_by}"
NEW_CARD_REQUEST = {"title": "Pedir segunda via", "payload": "/solicitar_carteirinha"}
FEE_LINE = "• {month}: {amount} — {status}"
FEE_PAID_ON = " em {paid_at}"
FEE_DUE_ON = ", vence em {due_date}"
FEES_LIST_TEXT = "\n\nÚltimas mensalidades:\n{lines}"
SLIP_BUTTON_TITLE = "2ª via {month}"
SLIP_CHOICE_TITLE = "{month} ({state})"
OVERDUE_WORD, DUE_WORD = "vencida", "a vencer"
ALL_PAID_TEXT = "Você não tem mensalidade em aberto: está tudo pago. 🙂"
WHICH_FEE_TEXT = "De qual mensalidade você quer a segunda via?"
SLIP_TEXT = (
    "{message}\n\nLinha digitável:\n{linha_digitavel}\n\nPIX copia e cola:\n{pix}\n\n"
    "Boleto em PDF (link válido por {minutes} minutos): {url}\nProtocolo: {protocol}."
)
SLIP_FILENAME = "boleto-{document_number}.pdf"
SLIP_CAPTION = "Boleto (segunda via)"
_STATEMENT_NAMES = {
    "demonstrativo_ir": "o demonstrativo para o Imposto de Renda",
    "quitacao_debitos": "a declaração de quitação de débitos",
    "extrato_atendimentos": "o extrato de atendimentos",
}
WHICH_MONTH_TEXT = "De qual mês você quer o extrato? Por exemplo: março de {year} ou 03/{year}."
WHICH_YEAR_TEXT = "De qual ano você quer {name}?"
PARTIAL_YEAR_TITLE = "{year} (parcial)"
SLIP_OFFER = {"title": "Segunda via do boleto", "payload": "/segunda_via_boleto"}
EMPTY_STATEMENT_TEXT = "{message} Protocolo: {protocol}."
STATEMENT_TEXT = (
    "Pronto! {summary}\nDocumento em PDF (link válido por {minutes} minutos): {url}\nProtocolo: {protocol}."
)
REIMBURSEMENT_PAID = " ({amount}"
REIMBURSEMENT_PAID_ON = " em {paid_on})"
REIMBURSEMENT_LINE = "• {procedure} com {provider} em {service_date} ({amount}) — {status}.\n  Protocolo {protocol}"
REIMBURSEMENT_HISTORY = ". Histórico: {history}."
NO_REIMBURSEMENTS_TEXT = "Não encontrei pedidos de reembolso."
NEW_REIMBURSEMENT = {"title": "Pedir reembolso", "payload": "/solicitar_reembolso"}
REIMBURSEMENTS_TEXT = "Seus pedidos de reembolso:\n{lines}"
FAMILY_TEXT = "Estão no seu plano:\n{lines}"
FAMILY_LINE = "• {name} ({relationship}), carteirinha {card}"
NO_DEPENDENTS_TEXT = (
    "Você é o único beneficiário do seu plano: não há dependentes. "
    "Para incluir alguém, fale com a central de atendimento."
)
DEPENDENT_ONLY_TEXT = (
    "Você está no plano como dependente, carteirinha {card}. A lista da família e a inclusão de "
    "dependentes ficam com o titular do plano."
)
FAMILY_CARD_BUTTON = "Carteirinha de {first_name}"

MAX_LISTED = 6


def _br(day: str) -> str:
    return f"{date.fromisoformat(day):%d/%m/%Y}"


@service("cartao_virtual")
async def virtual_card(tracker: Tracker, values: dict[str, str]) -> Outcome:
    shown = await card.virtual_card(caller(tracker), values.get("carteirinha") or None)
    if isinstance(shown, Refusal):
        return refusal(shown)
    others = [m for m in shown.members if not m.selected]
    buttons = [
        {
            "title": CARD_BUTTON_TITLE.format(first_name=m.first_name),
            "payload": payload("cartao_virtual", carteirinha=m.card_number),
        }
        for m in others[:3]
    ]
    text = CARD_TEXT.format(text=shown.text, minutes=shown.expires_in_minutes)
    return Outcome(text, buttons, image=shown.image_url)


@service("meus_dependentes")
async def dependents(tracker: Tracker, values: dict[str, str]) -> Outcome:
    members = await identity.family(caller(tracker))
    if isinstance(members, Refusal):
        return refusal(members)
    me, others = members[0], members[1:]
    if not me.holder:
        return Outcome(DEPENDENT_ONLY_TEXT.format(card=card_number_text(me.card_number)))
    if not others:
        return Outcome(NO_DEPENDENTS_TEXT)
    lines = [
        FAMILY_LINE.format(
            name=m.name,
            relationship=relationship_label(m.relationship or "", m.holder),
            card=card_number_text(m.card_number),
        )
        for m in members
    ]
    buttons = [
        {
            "title": FAMILY_CARD_BUTTON.format(first_name=m.first_name),
            "payload": payload("cartao_virtual", carteirinha=m.card_number),
        }
        for m in others[:3]
    ]
    return Outcome(FAMILY_TEXT.format(lines="\n".join(lines)), buttons)


@service("meu_plano")
async def my_plan(tracker: Tracker, values: dict[str, str]) -> Outcome:
    found = await plan.plan(caller(tracker))
    return refusal(found) if isinstance(found, Refusal) else Outcome(found.message)


@service("carencias")
async def waiting_periods(tracker: Tracker, values: dict[str, str]) -> Outcome:
    found = await plan.waiting_periods(caller(tracker))
    return refusal(found) if isinstance(found, Refusal) else Outcome(found.message)


@service("status_carteirinha")
async def card_requests(tracker: Tracker, values: dict[str, str]) -> Outcome:
    found = await card.card_requests(caller(tracker))
    if isinstance(found, Refusal):
        return refusal(found)
    return card_requests_outcome(found.requests, found.members)


def card_requests_outcome(
    requests: Iterable[CardRequest | Mapping[str, Any]], members: Iterable[Member | Mapping[str, Any]]
) -> Outcome:
    """Who, status and dates of each card request (newest first); a new request is offered while
    someone of the family has none in progress. (Also takes the API's dicts.)"""
    listed = [r if isinstance(r, CardRequest) else CardRequest.from_api(r) for r in requests]
    family = [m if isinstance(m, Member) else Member.from_api(m) for m in members]
    in_progress = {r.beneficiary.card_number for r in listed if r.in_progress}
    buttons = [NEW_CARD_REQUEST] if {m.card_number for m in family} - in_progress else []
    if not listed:
        return Outcome(NO_CARD_REQUESTS_TEXT, buttons)
    lines = []
    for r in listed[:MAX_LISTED]:
        line = CARD_REQUEST_LINE.format(
            name=r.beneficiary.name,
            status=r.status_label,
            reason=r.reason,
            requested_on=_br(r.requested_on),
            protocol=r.protocol,
        )
        if r.in_progress and r.expected_by:
            line += CARD_REQUEST_FORECAST.format(expected_by=_br(r.expected_by))
        lines.append(line)
    return Outcome(CARD_REQUESTS_TEXT.format(lines="\n".join(lines)), buttons)


def _fee_line(fee: billing.Fee) -> str:
    line = FEE_LINE.format(month=fee.reference_month_text, amount=fee.amount_text, status=fee.status_text)
    if fee.paid_at_text and fee.status == billing.PAID:
        return line + FEE_PAID_ON.format(paid_at=fee.paid_at_text)
    if fee.status == billing.OPEN:
        return line + FEE_DUE_ON.format(due_date=fee.due_date_text)
    return line


@service("mensalidades")
async def fees(tracker: Tracker, values: dict[str, str]) -> Outcome:
    found = await billing.fees(caller(tracker))
    if isinstance(found, Refusal):
        return refusal(found)
    lines = [_fee_line(fee) for fee in found.fees[:MAX_LISTED]]
    buttons = [
        {
            "title": SLIP_BUTTON_TITLE.format(month=fee.reference_month_text),
            "payload": payload("segunda_via_boleto", documento=fee.document_number),
        }
        for fee in found.unpaid[:3]
    ]
    text = found.summary
    if lines:
        text += FEES_LIST_TEXT.format(lines="\n".join(lines))
    return Outcome(text, buttons)


@service("segunda_via_boleto")
async def bank_slip(tracker: Tracker, values: dict[str, str]) -> Outcome:
    document = values.get("documento")
    if not document:
        found = await billing.fees(caller(tracker))
        if isinstance(found, Refusal):
            return refusal(found)
        unpaid = found.unpaid
        if not unpaid:
            return Outcome(ALL_PAID_TEXT)
        if len(unpaid) > 1:
            buttons = [
                {
                    "title": SLIP_CHOICE_TITLE.format(
                        month=fee.reference_month_text,
                        state=OVERDUE_WORD if fee.status == billing.OVERDUE else DUE_WORD,
                    ),
                    "payload": payload("segunda_via_boleto", documento=fee.document_number),
                }
                for fee in unpaid[:3]
            ]
            return Outcome(WHICH_FEE_TEXT, buttons)
        document = unpaid[0].document_number
    slip = await billing.issue_slip(caller(tracker), document)
    if isinstance(slip, Refusal):
        return refusal(slip)
    text = SLIP_TEXT.format(
        message=slip.message,
        linha_digitavel=slip.linha_digitavel,
        pix=slip.pix_copia_e_cola,
        minutes=slip.expires_in_minutes,
        url=slip.pdf_url,
        protocol=slip.protocol,
    )
    return Outcome(
        text,
        document={
            "url": slip.pdf_url,
            "filename": SLIP_FILENAME.format(document_number=slip.document_number),
            "caption": SLIP_CAPTION,
        },
    )


_ASK_AGAIN = {
    "year_in_future",
    "year_not_closed",
    "before_plan_start",
    "no_fees_in_year",
    "no_payments",
    "month_in_future",
}


def _year_buttons(intent: str, years: list[int], **extra: str) -> list[dict[str, str]]:
    return [{"title": str(year), "payload": payload(intent, ano=str(year), **extra)} for year in years]


async def _statement(tracker: Tracker, intent: StatementKind, values: dict[str, str]) -> Outcome:
    today = local_today()
    year = values.get("ano")
    month = month_number(values.get("mes"))
    if intent == "extrato_atendimentos":
        if month is None:
            return ask_for(intent, values, "mes", WHICH_MONTH_TEXT.format(year=today.year))
        year = year or str(today.year if month <= today.month else today.year - 1)
    elif not year:
        buttons = _year_buttons(intent, [today.year - 1, today.year - 2])
        if intent == "demonstrativo_ir":  # the current year as a partial statement (payments so far)
            buttons.append(
                {"title": PARTIAL_YEAR_TITLE.format(year=today.year), "payload": payload(intent, ano=str(today.year))}
            )
        else:
            buttons += _year_buttons(intent, [today.year - 3])
        return ask_for(intent, values, "ano", WHICH_YEAR_TEXT.format(name=_STATEMENT_NAMES[intent]), buttons)
    found = await statements.request_statement(caller(tracker), intent, int(year), month)
    if isinstance(found, Refusal):
        if found.status == 422 and found.code in _ASK_AGAIN:  # keep the request, ask another year/month
            waiting = "mes" if found.code == "month_in_future" else "ano"
            kept = {key: value for key, value in values.items() if key not in ("ano", "mes")}
            return ask_for(intent, kept, waiting, found.message)
        if found.status == 409 and found.code == "open_fees":  # the message lists them
            return Outcome(found.message, [SLIP_OFFER])
        return refusal(found)
    if isinstance(found, EmptyStatement):
        return Outcome(EMPTY_STATEMENT_TEXT.format(message=found.message, protocol=found.protocol))
    text = STATEMENT_TEXT.format(
        summary=found.summary, minutes=found.expires_in_minutes, url=found.url, protocol=found.protocol
    )
    return Outcome(
        text,
        document={
            "url": found.url,
            "filename": found.filename,
            "caption": _STATEMENT_NAMES[intent].split(" ", 1)[1].capitalize(),
        },
    )


@service("demonstrativo_ir")
async def income_tax(tracker: Tracker, values: dict[str, str]) -> Outcome:
    return await _statement(tracker, "demonstrativo_ir", values)


@service("quitacao_debitos")
async def debt_discharge(tracker: Tracker, values: dict[str, str]) -> Outcome:
    return await _statement(tracker, "quitacao_debitos", values)


@service("extrato_atendimentos")
async def services_used(tracker: Tracker, values: dict[str, str]) -> Outcome:
    return await _statement(tracker, "extrato_atendimentos", values)


def reimbursement_line(item: Reimbursement | Mapping[str, Any]) -> str:
    """One request: what, current status with its detail (what is missing, amount, reason), history.
    (Also takes the API's dict.)"""
    if not isinstance(item, Reimbursement):
        item = Reimbursement.from_api(item)
    status = item.status_label
    if item.status in ("approved", "paid") and item.amount_paid_text:
        status += REIMBURSEMENT_PAID.format(amount=item.amount_paid_text)
        status += REIMBURSEMENT_PAID_ON.format(paid_on=_br(item.paid_on)) if item.paid_on else ")"
    if item.status_note:
        status += f": {item.status_note}"
    history = ", ".join(f"{step.label} {step.date_text[:5]}" for step in item.history)
    return REIMBURSEMENT_LINE.format(
        procedure=item.procedure,
        provider=item.provider_name,
        service_date=item.service_date_text,
        amount=item.amount_requested_text,
        status=status,
        protocol=item.protocol,
    ) + (REIMBURSEMENT_HISTORY.format(history=history) if history else ".")


@service("status_reembolso")
async def reimbursements(tracker: Tracker, values: dict[str, str]) -> Outcome:
    items = await reimbursement_api.reimbursements(caller(tracker))
    if isinstance(items, Refusal):
        return refusal(items)
    if not items:
        return Outcome(NO_REIMBURSEMENTS_TEXT, [NEW_REIMBURSEMENT])
    return Outcome(REIMBURSEMENTS_TEXT.format(lines="\n".join(reimbursement_line(r) for r in items[:MAX_LISTED])))
