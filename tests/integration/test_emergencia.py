"""A medical emergency through the REST channel, in every state: at the start, inside a form (which
then asks its question again), after a fallback, and while a human agent has the conversation."""

from __future__ import annotations

import pytest
from rest_chat import PROTOCOL_RE, Chat
from stack_support import agent_call, agent_token, rasa_tracker, wait_for

pytestmark = pytest.mark.integration

CENTRAL_24H = "0800 888 9504"  # the demo operator's 24 h line


def assert_emergency_answer(answer: str) -> None:
    assert "192" in answer and "pronto-socorro" in answer, answer
    assert CENTRAL_24H in answer, answer
    assert "não entendi" not in answer.lower(), answer


def test_chest_pain_at_the_start_gets_samu_first(stack):
    answer = Chat(stack, "peito").say("estou com dor forte no peito e sem ar")
    assert_emergency_answer(answer)
    assert answer.index("192") < answer.index(CENTRAL_24H)


def test_typos_and_no_accents(stack):
    assert_emergency_answer(Chat(stack, "typo").say("meu pai desmailou e nao acorda"))


def test_suicidal_thoughts_get_the_cvv(stack):
    answer = Chat(stack, "cvv").say("nao quero mais viver")
    assert "188" in answer and "CVV" in answer, answer


def test_inside_a_form_the_form_asks_again_and_goes_on(stack):
    c = Chat(stack, "form")
    assert "carteirinha (12 dígitos)" in c.say("esqueci minha senha")
    answer = c.say("minha filha esta com falta de ar")
    assert_emergency_answer(answer)
    # then the form asks its question again (in one of its wordings)
    assert "carteirinha (12 dígitos)" in answer.strip().splitlines()[-1], answer
    # the flow goes on where it was: the card number is taken as the answer
    after = c.say("100200300401")
    assert "cpf" in after.lower(), after


def test_after_a_fallback(stack):
    c = Chat(stack, "fallback")
    assert "não entendi" in c.say("xpto blablabla qwerty").lower()
    assert_emergency_answer(c.say("meu filho engasgou e esta ficando roxo"))


def test_an_ordinary_request_is_not_an_emergency(stack):
    answer = Chat(stack, "rede").say("tem cardiologista credenciado em aracaju?")
    assert "192" not in answer and "SAMU" not in answer, answer


def test_while_an_agent_has_the_conversation_the_bot_still_answers_an_emergency(stack):
    token = agent_token(stack)  # an agent online: the ticket opens paused (or is paused when claimed)
    c = Chat(stack, "handoff")
    protocol = PROTOCOL_RE.search(c.say("quero falar com um atendente")).group(0)
    _, listing = agent_call(stack, "GET", "/api/agent/tickets?status=open", token)
    ticket = next(t for t in listing["tickets"] if t["protocol"] == protocol)
    status, _ = agent_call(stack, "POST", f"/api/agent/tickets/{ticket['id']}/claim", token)
    assert status == 200
    wait_for(lambda: rasa_tracker(stack, c.sender)["paused"], "the conversation paused")

    assert c.say("meu boleto veio errado") == ""  # the agent answers this one, not the bot
    assert_emergency_answer(c.say("socorro estou com dor no peito muito forte"))
    assert rasa_tracker(stack, c.sender)["paused"]  # and the conversation stays with the agent
