"""No loops, end to end through the REST channel: a value typed in answer to a
yes/no about that value counts (the e-mail on file), a question asked twice is asked the third time
in other words with buttons and a human, and "minha filha" / "meu filho" choose the member of the
family — in the answer to "para quem?" and already in the message that asks for the request.

Needs a model trained with the domain of this change (pergunta_vezes and the rephrased variations),
and GET /api/family giving each member's `relationship` (the family tests)."""

from __future__ import annotations

import pytest
from rest_chat import PROTOCOL_RE, Chat, mails_to
from stack_support import assert_protocol

pytestmark = pytest.mark.integration

MARIA = {
    "card": "100200300401",
    "cpf": "945.807.302-24",
    "birth": "12/03/1985",
    "email": "maria.santos@exemplo.com.br",
    "masked": "m***@exemplo.com.br",
    "name": "Maria Aparecida Santos",
}
JOSE = {
    "card": "200300400501",
    "cpf": "036.426.212-52",
    "birth": "14/08/1960",
    "email": "jose.oliveira@exemplo.com.br",
    "masked": "j***@exemplo.com.br",
}
ESCAPE = ["Falar com atendente", "Cancelar"]


def identify(c: Chat, login: str, cpf: str, birth: str) -> str:
    c.say(login)
    c.say(cpf)
    return c.say(birth)


# --- the e-mail on file: typed instead of "sim" / "não" ------------------------------------------


def test_the_email_she_logged_in_with_typed_again_is_a_yes(stack, chat):
    c = chat("maria-email-login")
    c.say("esqueci minha senha")
    question = identify(c, MARIA["email"], MARIA["cpf"], MARIA["birth"])
    assert MARIA["masked"] in question and "ainda é seu" in question
    answer = c.say(MARIA["email"])
    assert "senha temporária" in answer and MARIA["masked"] in answer, answer  # sent (or just sent): no question again
    assert "ainda é seu" not in answer
    protocol = PROTOCOL_RE.search(answer)
    assert protocol, answer
    assert_protocol(stack, protocol.group(0), "password_reset", MARIA["card"])


def test_an_email_that_may_be_the_one_on_file_is_asked_about_once_in_other_words(stack, chat):
    """Logged in with the card: the bot only has m***@exemplo.com.br and cannot tell; it never shows more."""
    c = chat("maria-email-card")
    c.say("esqueci minha senha")
    assert "ainda é seu" in identify(c, MARIA["card"], MARIA["cpf"], MARIA["birth"])
    answer = c.say(MARIA["email"])
    assert "Não consigo conferir" in answer and MARIA["masked"] in answer, answer
    assert "maria.santos" not in answer and c.buttons == ["Sim", "Não"]
    answer = c.say("sim")
    assert "senha temporária" in answer and MARIA["masked"] in answer and PROTOCOL_RE.search(answer), answer


def test_another_email_typed_goes_to_the_email_change_asking_only_its_confirmation(stack, chat):
    new = "maria.nova@gmail.com"
    c = chat("maria-email-nova")
    c.say("esqueci minha senha")
    assert "ainda é seu" in identify(c, MARIA["card"], MARIA["cpf"], MARIA["birth"])
    answer = c.say(new)
    assert "atualizar o seu e-mail" in answer and "nome completo" in answer, answer  # no identity asked again
    answer = c.say(MARIA["name"])
    assert "mais uma vez" in answer or "de novo" in answer, answer  # the new address is only confirmed
    assert "Qual é o novo e-mail" not in answer
    answer = c.say(new)
    assert "link de confirmação" in answer and "m***@gmail.com" in answer and PROTOCOL_RE.search(answer), answer
    assert "esqueci minha senha" in answer  # then ask for the password again
    assert_protocol(stack, PROTOCOL_RE.search(answer).group(0), "email_change", MARIA["card"], c.sender)
    assert mails_to(stack, new)  # the confirmation link went to the new address


@pytest.mark.parametrize("words", ["isso não é meu e-mail", "não é mais esse"])
def test_not_my_email_is_a_no(stack, chat, words):
    c = chat("maria-nao-e-meu")
    c.say("esqueci minha senha")
    assert "ainda é seu" in identify(c, MARIA["card"], MARIA["cpf"], MARIA["birth"])
    answer = c.say(words)
    assert "atualizar o seu e-mail" in answer and "nome completo" in answer, answer
    assert "cancelei" in c.say("cancelar").lower()


def test_registration_with_the_address_on_file_typed_goes_to_it(stack, chat):
    """José has no account: typing his own address (twice, as any address to use) sends the activation
    link to the address on file — the backend tells it is the same."""
    c = chat("jose-cadastro-email")
    c.say("quero me cadastrar no aplicativo")
    question = identify(c, JOSE["card"], JOSE["cpf"], JOSE["birth"])
    assert JOSE["masked"] in question and c.buttons == ["Sim", "Não"]
    answer = c.say(JOSE["email"])
    assert "mais uma vez" in answer or "de novo" in answer, answer
    answer = c.say(JOSE["email"])
    assert "link de ativação" in answer and JOSE["masked"] in answer and PROTOCOL_RE.search(answer), answer
    assert "troca" not in answer  # not an e-mail change: it is the address on file
    assert_protocol(stack, PROTOCOL_RE.search(answer).group(0), "registration", JOSE["card"], c.sender)
    assert any("/conta/ativar/" in body for body in mails_to(stack, JOSE["email"]))


def test_registration_not_that_email_any_more_asks_the_new_one(stack, chat):
    c = chat("jose-cadastro-outro")
    c.say("quero me cadastrar no aplicativo")
    assert JOSE["masked"] in identify(c, JOSE["card"], JOSE["cpf"], JOSE["birth"])
    answer = c.say("não uso mais esse e-mail")
    assert "Qual e-mail você quer usar" in answer, answer
    assert "cancelei" in c.say("cancelar").lower()


# --- a question asked twice ----------------------------------------------------------------------


def test_the_cpf_refused_twice_is_asked_the_third_time_with_buttons_and_a_human(stack, chat):
    c = chat("cpf-tres-vezes")
    c.say("esqueci minha senha")
    assert "cpf" in c.say(MARIA["card"]).lower()
    answer = c.say("945.807.302-25")
    assert "dígitos verificadores" in answer and "Vamos de novo" not in answer and c.buttons == [], answer
    answer = c.say("945.807.302-26")
    assert "dígitos verificadores" in answer, answer
    assert "Vamos de novo: o CPF tem 11 números" in answer and "123.456.789-09" in answer, answer
    assert c.buttons == ESCAPE
    answer = c.say("945.807.302-27")  # and so on: never the plain question again
    assert "Vamos de novo" in answer and c.buttons == ESCAPE
    assert "cancelei" in c.say("/cancelar").lower()


def test_the_protocol_asked_the_third_time(stack, chat):
    c = chat("protocolo-tres-vezes")
    assert "20 números" in c.say("quero consultar um protocolo")
    answer = c.say("12345")
    assert "você mandou 5" in answer and c.buttons == [], answer
    answer = c.say("123456")
    assert "você mandou 6" in answer and "Vamos de novo" in answer and "20260305123456789012" in answer, answer
    assert c.buttons == ESCAPE
    answer = c.say("/falar_com_atendente")  # the button: a person, without any data asked
    assert "0800" in answer and PROTOCOL_RE.search(answer), answer


def test_a_question_is_counted_again_after_a_digression(stack, chat):
    c = chat("rede-digressao")
    assert "especialidade" in c.say("quero procurar um médico da rede").lower()
    answer = c.say("você é um robô?")
    assert "robô" in answer and "especialidade" in answer.lower() and c.buttons == [], answer  # the 2nd time
    answer = c.say("x")
    assert "Vamos de novo: escreva só a especialidade" in answer, answer
    assert c.buttons == ["Cardiologia", "Pediatria", "Dermatologia", *ESCAPE]
    answer = c.say("Pediatria")
    assert "cidade" in answer.lower() and "Vamos de novo" not in answer and c.buttons == []  # a new question


# --- "minha filha", "meu filho" --------------------------------------------------------------------


def test_my_daughter_lost_her_card_asks_no_for_whom(stack, chat):
    c = chat("maria-filha")
    assert "carteirinha" in c.say("minha filha perdeu a carteirinha").lower()  # the identity first
    answer = identify(c, MARIA["card"], MARIA["cpf"], MARIA["birth"])
    assert "motivo" in answer.lower() and "para quem" not in answer.lower(), answer
    assert "observação" in c.say("Extravio").lower()
    answer = c.say("não")
    assert "Carteirinha de: Ana Clara Santos" in answer and "Extravio" in answer and c.buttons == ["Sim", "Não"]
    # another member named in answer to the summary changes it, even after a "não"
    answer = c.say("não, é para o João")
    assert "Carteirinha de: João Pedro Santos" in answer and c.buttons == ["Sim", "Não"], answer
    answer = c.say("não, é da minha filha")
    assert "Carteirinha de: Ana Clara Santos" in answer, answer
    answer = c.say("sim")
    protocol = PROTOCOL_RE.search(answer)
    assert protocol and "Ana Clara Santos" in answer, answer
    assert_protocol(stack, protocol.group(0), "card_reissue", MARIA["card"], c.sender)


def test_the_answer_my_son_to_whose_care(stack, chat):
    c = chat("maria-filho")
    c.say("quero pedir reembolso de uma consulta")
    answer = identify(c, MARIA["card"], MARIA["cpf"], MARIA["birth"])
    assert "de quem" in answer.lower() and "João" in c.buttons, answer
    assert "nome do médico" in c.say("meu filho")
    assert "cancelei" in c.say("cancelar").lower()


def test_reimbursement_for_my_son_in_the_first_message(stack, chat):
    c = chat("maria-reembolso-filho")
    c.say("quero pedir reembolso da consulta do meu filho")
    answer = identify(c, MARIA["card"], MARIA["cpf"], MARIA["birth"])
    assert "nome do médico" in answer and "de quem" not in answer.lower(), answer
    assert "cancelei" in c.say("cancelar").lower()
