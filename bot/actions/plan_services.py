"""Handlers of the plan services that are one backend call after the identity check: virtual
card, plan, waiting periods, card-reissue follow-up, fees and bank-slip copy, statements,
reimbursement follow-up. The backend's answers carry pt-BR texts; these handlers choose what
to show, add the buttons and ask for the one missing value (year, month, which fee, whose card).
"""

from __future__ import annotations

from datetime import date

from rasa_sdk import Tracker

from bot.actions.backend_client import backend
from bot.actions.services import ask_for, month_number, payload, refusal, service
from bot.actions.verified import Outcome, request_context, verified_headers
from common.clock import local_today

MAX_LISTED = 6


@service("cartao_virtual")
async def virtual_card(tracker: Tracker, values: dict[str, str]) -> Outcome:
    params = {"beneficiary": values["carteirinha"]} if values.get("carteirinha") else None
    response = await backend.get("/api/card", params=params, headers=verified_headers(tracker))
    if not response.ok:
        return refusal(response)
    others = [m for m in response.data.get("members", []) if not m.get("selected")]
    buttons = [
        {
            "title": f"Carteirinha de {m['first_name']}",
            "payload": payload("cartao_virtual", carteirinha=m["card_number"]),
        }
        for m in others[:3]
    ]
    text = f"{response.data['text']}\n\nA imagem da carteirinha vale por {response.data['expires_in_minutes']} minutos."
    return Outcome(text, buttons, image=response.data["image_url"])


@service("meu_plano")
async def my_plan(tracker: Tracker, values: dict[str, str]) -> Outcome:
    response = await backend.get("/api/plan", headers=verified_headers(tracker))
    return Outcome(response.data["message"]) if response.ok else refusal(response)


@service("carencias")
async def waiting_periods(tracker: Tracker, values: dict[str, str]) -> Outcome:
    response = await backend.get("/api/waiting-periods", headers=verified_headers(tracker))
    return Outcome(response.data["message"]) if response.ok else refusal(response)


@service("status_carteirinha")
async def card_requests(tracker: Tracker, values: dict[str, str]) -> Outcome:
    response = await backend.get("/api/card-requests", headers=verified_headers(tracker))
    if not response.ok:
        return refusal(response)
    return card_requests_outcome(response.data["requests"], response.data["members"])


NEW_CARD_REQUEST = {"title": "Pedir segunda via", "payload": "/solicitar_carteirinha"}


def card_requests_outcome(requests: list[dict], members: list[dict]) -> Outcome:
    """Who, status and dates of each card request (newest first); a new request is offered while
    someone of the family has none in progress."""
    in_progress = {r["beneficiary"]["card_number"] for r in requests if r["in_progress"]}
    buttons = [NEW_CARD_REQUEST] if {m["card_number"] for m in members} - in_progress else []
    if not requests:
        return Outcome("Não encontrei pedidos de segunda via de carteirinha.", buttons)
    lines = []
    for r in requests[:MAX_LISTED]:
        line = (
            f"• {r['beneficiary']['name']}: {r['status_label']} (motivo {r['reason']}, pedido em "
            f"{date.fromisoformat(r['requested_on']):%d/%m/%Y}, protocolo {r['protocol']})"
        )
        if r["in_progress"] and r.get("expected_by"):
            line += f"; previsão de entrega até {date.fromisoformat(r['expected_by']):%d/%m/%Y}"
        lines.append(line)
    return Outcome("Seus pedidos de carteirinha:\n" + "\n".join(lines), buttons)


@service("mensalidades")
async def fees(tracker: Tracker, values: dict[str, str]) -> Outcome:
    response = await backend.get("/api/fees", headers=verified_headers(tracker))
    if not response.ok:
        return refusal(response)
    fees = response.data["fees"]
    lines = [
        f"• {f['reference_month_text']}: {f['amount_text']} — {f['status_text']}"
        + (
            f" em {f['paid_at_text']}"
            if f.get("paid_at_text") and f["status"] == "paid"
            else f", vence em {f['due_date_text']}"
            if f["status"] == "open"
            else ""
        )
        for f in fees[:MAX_LISTED]
    ]
    unpaid = [f for f in fees if f["status"] in ("open", "overdue")]
    buttons = [
        {
            "title": f"2ª via {f['reference_month_text']}",
            "payload": payload("segunda_via_boleto", documento=f["document_number"]),
        }
        for f in unpaid[:3]
    ]
    text = response.data["summary"]
    if lines:
        text += "\n\nÚltimas mensalidades:\n" + "\n".join(lines)
    return Outcome(text, buttons)


@service("segunda_via_boleto")
async def bank_slip(tracker: Tracker, values: dict[str, str]) -> Outcome:
    document = values.get("documento")
    if not document:
        response = await backend.get("/api/fees", headers=verified_headers(tracker))
        if not response.ok:
            return refusal(response)
        unpaid = [f for f in response.data["fees"] if f["status"] in ("open", "overdue")]
        if not unpaid:
            return Outcome("Você não tem mensalidade em aberto: está tudo pago. 🙂")
        if len(unpaid) > 1:
            buttons = [
                {
                    "title": f"{f['reference_month_text']} ({'vencida' if f['status'] == 'overdue' else 'a vencer'})",
                    "payload": payload("segunda_via_boleto", documento=f["document_number"]),
                }
                for f in unpaid[:3]
            ]
            return Outcome("De qual mensalidade você quer a segunda via?", buttons)
        document = unpaid[0]["document_number"]
    response = await backend.post(f"/api/fees/{document}/slips", request_context(tracker))
    if not response.ok:
        return refusal(response)
    data = response.data
    text = (
        f"{data['message']}\n\nLinha digitável:\n{data['linha_digitavel']}\n\n"
        f"PIX copia e cola:\n{data['pix_copia_e_cola']}\n\n"
        f"Boleto em PDF (link válido por {data['expires_in_minutes']} minutos): {data['pdf_url']}\n"
        f"Protocolo: {data['protocol']}."
    )
    return Outcome(
        text,
        document={
            "url": data["pdf_url"],
            "filename": f"boleto-{data['document_number']}.pdf",
            "caption": "Boleto (segunda via)",
        },
    )


_STATEMENT_NAMES = {
    "demonstrativo_ir": "o demonstrativo para o Imposto de Renda",
    "quitacao_debitos": "a declaração de quitação de débitos",
    "extrato_atendimentos": "o extrato de atendimentos",
}


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


async def _statement(tracker: Tracker, intent: str, values: dict[str, str]) -> Outcome:
    today = local_today()
    year = values.get("ano")
    month = month_number(values.get("mes"))
    if intent == "extrato_atendimentos":
        if month is None:
            return ask_for(
                intent,
                values,
                "mes",
                f"De qual mês você quer o extrato? Por exemplo: março de {today.year} ou 03/{today.year}.",
            )
        year = year or str(today.year if month <= today.month else today.year - 1)
    elif not year:
        buttons = _year_buttons(intent, [today.year - 1, today.year - 2])
        if intent == "demonstrativo_ir":  # the current year as a partial statement (payments so far)
            buttons.append({"title": f"{today.year} (parcial)", "payload": payload(intent, ano=str(today.year))})
        else:
            buttons += _year_buttons(intent, [today.year - 3])
        return ask_for(intent, values, "ano", f"De qual ano você quer {_STATEMENT_NAMES[intent]}?", buttons)
    body = {**request_context(tracker), "kind": intent, "year": int(year)}
    if month is not None:
        body["month"] = month
    response = await backend.post("/api/statements", body)
    if response.status == 422 and response.error_code in _ASK_AGAIN:  # keep the request, ask another year/month
        waiting = "mes" if response.error_code == "month_in_future" else "ano"
        kept = {key: value for key, value in values.items() if key not in ("ano", "mes")}
        return ask_for(intent, kept, waiting, response.error["message"])
    if response.status == 409 and response.error_code == "open_fees":  # the message lists them
        return Outcome(
            response.error["message"], [{"title": "Segunda via do boleto", "payload": "/segunda_via_boleto"}]
        )
    if not response.ok:
        return refusal(response)
    data = response.data
    if data.get("empty"):
        return Outcome(f"{data['message']} Protocolo: {data['protocol']}.")
    text = (
        f"Pronto! {data['summary']}\nDocumento em PDF (link válido por {data['expires_in_minutes']} minutos): "
        f"{data['url']}\nProtocolo: {data['protocol']}."
    )
    return Outcome(
        text,
        document={
            "url": data["url"],
            "filename": data["filename"],
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


def reimbursement_line(item: dict) -> str:
    """One request: what, current status with its detail (what is missing, amount, reason), history."""
    status = item["status_label"]
    if item["status"] in ("approved", "paid") and item.get("amount_paid_text"):
        status += f" ({item['amount_paid_text']}"
        status += f" em {date.fromisoformat(item['paid_on']):%d/%m/%Y})" if item.get("paid_on") else ")"
    if item.get("status_note"):
        status += f": {item['status_note']}"
    history = ", ".join(f"{step['label']} {step['date_text'][:5]}" for step in item.get("history", []))
    return (
        f"• {item['procedure']} com {item['provider_name']} em {item['service_date_text']} "
        f"({item['amount_requested_text']}) — {status}.\n  Protocolo {item['protocol']}"
        + (f". Histórico: {history}." if history else ".")
    )


@service("status_reembolso")
async def reimbursements(tracker: Tracker, values: dict[str, str]) -> Outcome:
    response = await backend.get("/api/reimbursements", headers=verified_headers(tracker))
    if not response.ok:
        return refusal(response)
    items = response.data.get("reimbursements", [])
    if not items:
        return Outcome(
            "Não encontrei pedidos de reembolso.", [{"title": "Pedir reembolso", "payload": "/solicitar_reembolso"}]
        )
    return Outcome("Seus pedidos de reembolso:\n" + "\n".join(reimbursement_line(r) for r in items[:MAX_LISTED]))
