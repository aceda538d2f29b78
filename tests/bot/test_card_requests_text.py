"""How the card requests read in the chat: who, status and dates; a new request while someone can ask."""

from __future__ import annotations

from bot.actions.plan_services import NEW_CARD_REQUEST, card_requests_outcome

MARIA = {"name": "Maria Aparecida Santos", "card_number": "100200300401", "role": "holder"}
JOAO = {"name": "João Pedro Santos", "card_number": "100200300402", "role": "dependent"}


def request(person: dict, status: str, label: str, in_progress: bool) -> dict:
    return {
        "protocol": "4" * 20,
        "beneficiary": person,
        "reason": "Extravio",
        "status": status,
        "status_label": label,
        "in_progress": in_progress,
        "requested_at": "2026-11-25T13:00:00Z",
        "requested_on": "2026-11-25",
        "expected_by": "2026-12-16",
        "note": None,
    }


def test_a_request_in_production_says_who_status_dates_and_protocol():
    outcome = card_requests_outcome([request(JOAO, "in_production", "em produção", True)], [MARIA, JOAO])
    assert outcome.text == (
        "Seus pedidos de carteirinha:\n• João Pedro Santos: em produção (motivo Extravio, pedido em 25/11/2026, "
        f"protocolo {'4' * 20}); previsão de entrega até 16/12/2026"
    )
    assert outcome.buttons == [NEW_CARD_REQUEST]  # Maria has none in progress: she may still ask


def test_no_new_request_is_offered_while_everyone_has_one_in_progress():
    outcome = card_requests_outcome([request(JOAO, "shipped", "enviada", True)], [JOAO])
    assert outcome.buttons == []


def test_a_delivered_card_has_no_forecast_and_a_new_request_is_offered():
    outcome = card_requests_outcome([request(JOAO, "delivered", "entregue", False)], [JOAO])
    assert "entregue" in outcome.text and "previsão" not in outcome.text
    assert outcome.buttons == [NEW_CARD_REQUEST]


def test_no_requests_offers_one():
    outcome = card_requests_outcome([], [MARIA])
    assert outcome.text == "Não encontrei pedidos de segunda via de carteirinha."
    assert outcome.buttons == [NEW_CARD_REQUEST]
