"""esqueci_senha end to end: Rasa REST channel -> action server -> backend -> Maildir -> login."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from rest_chat import PROTOCOL_RE, mails_to, post_json
from stack_support import agent_call, agent_token, assert_protocol, tracker_events

from backend.clock import local_today

pytestmark = pytest.mark.integration

MARIA = {"card": "100200300401", "cpf": "945.807.302-24", "birth": "12/03/1985", "email": "maria.santos@exemplo.com.br"}
TEMP_PASSWORD_RE = re.compile(r"Sua senha temporária é: (\S+)")


def login(stack, login_value, password):
    return post_json(f"{stack.backend_url}/api/auth/login", {"login": login_value, "password": password})


def test_maria_recovers_her_password_step_by_step(pristine_stack, chat):
    """The module's first reset of Maria (a repeat within 5 minutes sends no new password): from a
    database as seeded."""
    stack = pristine_stack
    c = chat("maria")
    c.say("oi")
    assert "Esqueci minha senha" in c.buttons
    assert "carteirinha" in c.say("esqueci minha senha").lower()
    assert "cpf" in c.say(MARIA["card"]).lower()
    assert "nascimento" in c.say(MARIA["cpf"]).lower()
    question = c.say(MARIA["birth"])
    assert "m***@exemplo.com.br" in question and "ainda é seu" in question  # AMS: confirm first
    assert c.buttons == ["Sim", "Não"]
    answer = c.say("sim")
    assert "Enviei uma senha temporária" in answer and "m***@exemplo.com.br" in answer
    protocol = PROTOCOL_RE.search(answer)
    assert protocol, answer
    assert protocol.group(0).startswith(_operator_ans(stack) + _today())
    assert_protocol(stack, protocol.group(0), "password_reset", MARIA["card"], c.sender)

    [body] = mails_to(stack, MARIA["email"])  # one e-mail, with the password
    password = TEMP_PASSWORD_RE.search(body).group(1)
    status, body = login(stack, MARIA["card"], password)
    assert status == 200 and body["must_change_password"] is True
    # the temporary password never reaches the chat, the tracker store or any log
    assert password not in answer
    assert not [data for _, data in tracker_events(stack) if password in data]
    for log in Path(stack.var_dir, "log").glob("*.log"):
        text = log.read_text(errors="replace")
        assert password not in text, log.name
        assert "945.807.302-24" not in text and "94580730224" not in text, log.name
        assert "maria.santos@" not in text, log.name


def test_everything_in_one_message_by_email(stack, chat):
    c = chat("maria-email")
    assert "ainda é seu" in c.say(f"esqueci minha senha. email {MARIA['email']} cpf 94580730224 nasci em 12/03/1985")
    answer = c.say("sim, é meu")
    assert "m***@exemplo.com.br" in answer and PROTOCOL_RE.search(answer), answer
    # a new reset, or the one of moments ago (another test's), told again: Maria's either way
    assert_protocol(stack, PROTOCOL_RE.search(answer).group(0), "password_reset", MARIA["card"])


def test_two_values_in_one_message_fill_both(stack, chat):
    c = chat("maria-two")
    c.say("esqueci a senha")
    answer = c.say(f"{MARIA['card']} {MARIA['cpf']}")
    assert "nascimento" in answer.lower() and "cpf" not in answer.lower()
    assert "ainda é seu" in c.say("12 de março de 1985")
    protocol = PROTOCOL_RE.search(c.say("sim"))
    assert protocol
    assert_protocol(stack, protocol.group(0), "password_reset", MARIA["card"])


def test_bad_inputs_get_clear_messages_and_keep_what_was_given(stack, chat):
    c = chat("typos")
    c.say("esqueci minha senha")
    answer = c.say("10020030040A")
    assert "sem letras" in answer and "carteirinha" in answer.lower()
    assert "cpf" in c.say(MARIA["card"]).lower()
    answer = c.say("945.807.302-25")
    assert "dígitos verificadores" in answer and "cpf" in answer.lower()
    assert "nascimento" in c.say(MARIA["cpf"]).lower()  # the card was kept: not asked again
    answer = c.say(f"{local_today() + timedelta(days=400):%d/%m/%Y}")  # a birth date in the future
    assert "anterior a hoje" in answer
    answer = c.say("31/02/1985")
    assert "não existe" in answer
    assert "ainda é seu" in c.say(MARIA["birth"])


def test_data_that_does_not_match_is_refused_the_same_way_and_locks_after_five(stack, chat):
    c = chat("joao-lock")  # João, Maria's son: a real card, so the right data can be tried after
    c.say("esqueci minha senha")
    c.say("100200300402")
    answers = []
    for day in range(1, 6):
        answers.append(c.say(f"157.368.193-84 {day:02d}/01/2013"))
    assert all("não conferem" in a for a in answers[:4]), answers
    assert "bloqueei" in answers[4] and "30 minutos" in answers[4]
    assert "Falar com atendente" in c.buttons
    # even the right data is refused while locked
    c2 = chat("joao-after-lock")
    c2.say("esqueci minha senha")
    assert "bloqueei" in c2.say("100200300402 157.368.193-84 30/07/2012")


def test_unknown_card_gets_the_same_answer_as_a_wrong_birth_date(stack, chat):
    wrong_birth, unknown_card = chat("a"), chat("b")
    wrong_birth.say("esqueci minha senha")
    unknown_card.say("esqueci minha senha")
    wrong_birth.say("100200300401 945.807.302-24 13/03/1985")
    unknown_card.say("999988887777 945.807.302-24 12/03/1985")
    # the same refusal; then the CPF is asked again, in one of the domain's wordings (picked at random)
    a, b = ([m.get("text") for m in c.last] for c in (wrong_birth, unknown_card))
    assert a[:-1] == b[:-1] and "não conferem" in a[0], (a, b)
    assert "CPF" in a[-1] and "CPF" in b[-1], (a, b)


def test_ana_beatriz_has_no_email_on_file(stack, chat):
    c = chat("ana")
    answer = c.say("esqueci minha senha 300400500601 997.220.033-72 02/02/1992")
    assert "não há e-mail no seu cadastro" in answer and "(79) 3218-4331" in answer  # the demo's cadastro line
    assert "Falar com atendente" in c.buttons


def test_carlos_plan_cancelled(stack, chat):
    answer = chat("carlos").say("esqueci minha senha 400500600701 224.538.323-01 19/09/1978")
    assert "cancelado" in answer and "não é possível" in answer


def test_jose_has_no_account_yet(stack, chat):
    c = chat("jose")
    answer = c.say("esqueci minha senha 200300400501 036.426.212-52 14/08/1960")
    assert "ainda não tem cadastro" in answer and c.buttons == ["Fazer cadastro"]


def test_cancel_in_the_middle_forgets_the_data(stack, chat):
    c = chat("cancel")
    c.say("esqueci minha senha")
    c.say(MARIA["card"])
    assert "cancelei" in c.say("cancelar").lower()
    # the form is gone: a lone date is no longer taken as part of a password reset
    assert "me diga o que você precisa" in c.say(MARIA["birth"]).lower()


def test_a_human_is_reachable_without_personal_data(stack, chat):
    """A ticket in the agents' queue for this conversation, with no identity asked (no agent is online
    in this module: the ticket waits for a call back and the answer gives the phone)."""
    c = chat("human")
    answer = c.say("quero falar com um atendente")
    assert "0800" in answer
    protocol = PROTOCOL_RE.search(answer).group(0)
    assert_protocol(stack, protocol, "handoff", None, c.sender)
    c.say("esqueci minha senha")
    again = c.say("atendente por favor")  # also from inside the form: the same ticket
    assert "0800" in again and protocol in again, again

    _, listing = agent_call(stack, "GET", "/api/agent/tickets?status=open", agent_token(stack))
    [ticket] = [t for t in listing["tickets"] if t["protocol"] == protocol]
    assert ticket["channel"] == "rest" and ticket["callback"] and ticket["beneficiary_name"] is None


def test_backend_down_gets_a_clear_message_and_keeps_the_data(stack, chat):
    backend = next(p for p in stack.processes if p.name == "backend")
    c = chat("down")
    c.say("esqueci minha senha")
    c.say(MARIA["card"])
    c.say(MARIA["cpf"])
    backend.stop()
    try:
        answer = c.say(MARIA["birth"])
        assert "tive um problema para consultar isso agora" in answer and "Tentar de novo" in c.buttons, answer
    finally:
        backend.start()
        backend.wait_ready(60)
    assert "ainda é seu" in c.say("tenta de novo")  # card, CPF and the birth date were kept


def _today() -> str:
    """The operator's date (protocols are numbered by the day in Brazil, not the machine's UTC day)."""
    from backend.clock import local_today

    return local_today().strftime("%Y%m%d")


def _operator_ans(stack) -> str:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{stack.backend_url}/api/operator") as resp:
        return json.loads(resp.read())["ans_registration"]
