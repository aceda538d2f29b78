"""A part that hangs or stops in the middle of a conversation, through the REST channel: the user gets
a polite answer within the deadline (never silence), and what the user already said is kept, so
"tenta de novo" or the same answer again finishes the request without retyping anything else
(bot/turn_recovery.py). Loopback only; every wait is bounded."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from fault_support import frozen
from rest_chat import PROTOCOL_RE, Chat
from stack_support import assert_protocol, backend_db
from test_servicos import LINHA_DIGITAVEL_RE, MARIA, _inbound_pdf, identify

pytestmark = pytest.mark.integration

POLITE = "tive um problema para consultar isso agora"
TWILIO_PATIENCE_S = 15  # what the slowest channel waits for a webhook answer


def timed_say(c: Chat, text: str) -> tuple[str, float]:
    started = time.monotonic()
    answer = c.say(text)
    return answer, time.monotonic() - started


def test_frozen_action_server_answers_in_time_and_the_request_goes_on(stack, chat):
    c = chat("congelado")
    assert "carteirinha" in c.say("quero a segunda via do boleto").lower()
    with frozen(stack, "actions"):
        answer, elapsed = timed_say(c, MARIA[0])
        assert POLITE in answer and "0800 888 9504" in answer, answer
        assert c.buttons == ["Tentar de novo", "Falar com atendente"]
        assert elapsed < TWILIO_PATIENCE_S, elapsed
    # after the resume, "tenta de novo" replays the card number: the identity check goes on
    assert "cpf" in c.say("tenta de novo").lower()
    c.say(MARIA[1])
    answer = c.say(MARIA[2])
    assert "De qual mensalidade" in answer, answer
    overdue = next(b["payload"] for m in c.last for b in m.get("buttons", []) if "vencida" in b["title"])
    with frozen(stack, "actions"):
        assert POLITE in c.say(overdue)
    # the same answer again, instead of the button: the copy, without asking anything again
    answer = c.say(overdue)
    assert LINHA_DIGITAVEL_RE.search(answer), answer
    assert_protocol(stack, PROTOCOL_RE.search(answer).group(0), "bank_slip_copy", MARIA[0], c.sender)


def test_while_the_action_server_is_frozen_help_and_emergencies_still_answer(stack, chat):
    c = chat("congelado-ajuda")
    with frozen(stack, "actions"):
        answer, elapsed = timed_say(c, "quero falar com um atendente")
        assert "0800 888 9504" in answer and "atendente" in answer, answer
        assert elapsed < TWILIO_PATIENCE_S, elapsed
        answer = c.say("meu pai esta com dor forte no peito e sem ar")
        assert "192" in answer and "pronto-socorro" in answer, answer
    # nothing is stuck once the server is back: the request for a human opens a ticket
    answer = c.say("quero falar com um atendente")
    protocol = PROTOCOL_RE.search(answer)
    assert protocol, answer
    assert_protocol(stack, protocol.group(0), "handoff", None, c.sender)


def test_a_third_failure_in_a_row_says_it_differently(stack, chat):
    c = chat("congelado-tres")
    with frozen(stack, "actions"):
        answers = [c.say("quero ver minha carteirinha"), c.say("tenta de novo"), c.say("tenta de novo")]
    assert POLITE in answers[0]
    assert len(set(answers)) == 3, answers  # never the same text three times
    assert "carteirinha" in c.say("tenta de novo").lower()  # the request itself was kept


def test_backend_frozen_at_the_reimbursement_creates_it_once(stack, chat):
    """The backend hangs when the user confirms: the request reaches it, its answer never reaches the
    bot. After the resume, "tenta de novo" shows the one request that exists, with its protocol;
    nothing was created twice and no protocol exists without its request."""
    c = chat("reembolso-falha")
    c.say("quero pedir reembolso de uma consulta")
    identify(c, *MARIA)
    c.say("eu")
    c.say("Clínica Bem Estar")
    c.say("11.222.333/0001-81")
    c.say("ontem")
    c.say("consulta com clínico geral")
    c.say("R$ 180,00")
    c.say("/enviar_documento", {"attachments": [_inbound_pdf(stack, c.sender, "recibo.pdf")]})
    answer = c.say("pronto")
    assert "R$ 180,00" in answer and c.buttons == ["Sim", "Não"], answer
    with frozen(stack, "backend"):
        answer, elapsed = timed_say(c, "sim")
        assert POLITE in answer, answer
        assert elapsed < TWILIO_PATIENCE_S, elapsed
    answer = c.say("tenta de novo")
    protocol = PROTOCOL_RE.search(answer)
    assert protocol, answer
    assert_protocol(stack, protocol.group(0), "reimbursement", MARIA[0], c.sender)
    with backend_db(stack) as db:
        protocols = (
            db.execute(
                sa.text("SELECT number FROM protocols WHERE kind = 'reimbursement' AND conversation_id = :c"),
                {"c": c.sender},
            )
            .scalars()
            .all()
        )
        requests = (
            db.execute(sa.text("SELECT protocol_number FROM reimbursements WHERE provider_name = 'Clínica Bem Estar'"))
            .scalars()
            .all()
        )
    assert protocols == [protocol.group(0)] and requests == [protocol.group(0)], (protocols, requests)
