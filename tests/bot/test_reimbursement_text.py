"""How a reimbursement request reads in the chat: each status says what the user needs to know."""

from bot.actions.plan_services import reimbursement_line

BASE = {
    "procedure": "Consulta com dermatologista",
    "provider_name": "Dermacare Aracaju",
    "service_date_text": "01/09/2026",
    "amount_requested_text": "R$ 300,00",
    "protocol": "4" * 20,
    "amount_paid_text": None,
    "paid_on": None,
    "status_note": None,
}


def test_paid_request_shows_amount_date_and_history():
    line = reimbursement_line(
        {
            **BASE,
            "status": "paid",
            "status_label": "pago",
            "amount_paid_text": "R$ 240,00",
            "paid_on": "2026-10-13",
            "history": [{"label": "recebido", "date_text": "05/09/2026"}, {"label": "pago", "date_text": "13/10/2026"}],
        }
    )
    assert "pago (R$ 240,00 em 13/10/2026)" in line and "Histórico: recebido 05/09, pago 13/10." in line


def test_pending_and_denied_requests_say_why():
    pending = reimbursement_line(
        {
            **BASE,
            "status": "pending",
            "status_label": "pendente de documentação",
            "status_note": "falta o relatório médico",
            "history": [],
        }
    )
    assert "pendente de documentação: falta o relatório médico" in pending
    denied = reimbursement_line(
        {
            **BASE,
            "status": "denied",
            "status_label": "negado",
            "status_note": "procedimento sem cobertura",
            "history": [],
        }
    )
    assert "negado: procedimento sem cobertura" in denied
