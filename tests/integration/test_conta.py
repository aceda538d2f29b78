"""Account flows end to end through the REST channel: cadastro, alterar_senha, alterar_email,
duvida_login, and the verified session shared by them. No password is ever typed in the chat."""

from __future__ import annotations

import pytest
from rest_chat import LINK_RE, PROTOCOL_RE, mails_to, post_json, submit_page_form
from stack_support import assert_protocol

pytestmark = pytest.mark.integration

JOSE = ("200300400501", "036.426.212-52", "14/08/1960")
MARIA = ("100200300401", "945.807.302-24", "12/03/1985")


def identify(c, card, cpf, birth) -> str:
    c.say(card)
    c.say(cpf)
    return c.say(birth)


def test_jose_registers_with_a_typed_email_then_with_the_one_on_file_and_activates(stack, chat):
    """José has no account yet. First he types a new address (twice): with an address on file, the typed
    one gets a confirmation link and never the activation link (backend.registration), and the address
    on file is warned and may cancel; José's account is still to be made (the pending one is kept).
    Then he registers with the address on file, gets the activation link there and activates."""
    c = chat("jose-novo-email")
    c.say("primeiro acesso no app")
    identify(c, *JOSE)
    assert "e-mail" in c.say("não").lower()
    answer = c.say("jose.carlos@exemplo.com.br")
    assert "e-mail" in answer and ("mais uma vez" in answer or "de novo" in answer), answer  # typed twice
    answer = c.say("jose.carlo@exemplo.com.br")  # typo: the two do not match
    assert "diferentes" in answer
    c.say("jose.carlos@exemplo.com.br")
    answer = c.say("jose.carlos@exemplo.com.br")
    assert "j***@exemplo.com.br" in answer and "link de ativação" in answer
    to_new = mails_to(stack, "jose.carlos@exemplo.com.br")
    assert to_new and not any("/conta/ativar/" in body for body in to_new)
    assert "aviso" in answer or "avisei" in answer

    c = chat("jose-cadastro")
    assert "carteirinha" in c.say("quero me cadastrar no aplicativo").lower()
    question = identify(c, *JOSE)
    assert "j***@exemplo.com.br" in question and c.buttons == ["Sim", "Não"]
    answer = c.say("sim")
    assert "link de ativação" in answer and "j***@exemplo.com.br" in answer and PROTOCOL_RE.search(answer)
    assert "24 horas" in answer
    assert_protocol(stack, PROTOCOL_RE.search(answer).group(0), "registration", JOSE[0], c.sender)

    [link] = [
        url
        for body in mails_to(stack, "jose.oliveira@exemplo.com.br")
        for url in LINK_RE.findall(body)
        if "/conta/ativar/" in url
    ]  # (the address on file also got the notice above)
    status, page = submit_page_form(link, {"nova_senha": "Oliveira#2025", "confirmacao": "Oliveira#2025"})
    assert status == 200 and "Cadastro ativado" in page
    status, body = post_json(f"{stack.backend_url}/api/auth/login", {"login": JOSE[0], "password": "Oliveira#2025"})
    assert status == 200 and body["must_change_password"] is False


def test_maria_is_already_registered(stack, chat):
    c = chat("maria-cadastro")
    c.say("quero fazer meu cadastro")
    answer = identify(c, *MARIA)
    assert "já tem cadastro" in answer and c.buttons == ["Esqueci minha senha"]


def test_card_with_letters_in_registration(stack, chat):
    c = chat("cadastro-typo")
    c.say("quero me cadastrar")
    assert "sem letras" in c.say("20030040050I")


def test_change_password_sends_a_link_and_reuses_the_verified_session(stack, chat):
    c = chat("maria-senha")
    c.say("quero trocar minha senha")
    answer = identify(c, *MARIA)
    assert "página protegida" in answer and LINK_RE.search(answer) and "15 minutos" in answer
    # the same conversation is verified: the next request skips the identity questions
    answer = c.say("quero trocar minha senha de novo")
    assert LINK_RE.search(answer), answer
    # goodbye ends the verified session
    c.say("tchau")
    assert "carteirinha" in c.say("quero alterar minha senha").lower()


def test_change_email_with_full_name_and_confirmation_link(stack, chat):
    c = chat("maria-email")
    c.say("preciso mudar meu e-mail cadastrado")
    assert "nome completo" in identify(c, *MARIA)
    assert "novo e-mail" in c.say("Maria Aparecida Santos")
    c.say("maria.nova@exemplo.com.br")
    answer = c.say("maria.nova@exemplo.com.br")
    assert "m***@exemplo.com.br" in answer and "só muda depois" in answer and PROTOCOL_RE.search(answer)
    assert_protocol(stack, PROTOCOL_RE.search(answer).group(0), "email_change", MARIA[0], c.sender)
    assert mails_to(stack, "maria.nova@exemplo.com.br")  # confirmation link to the new address
    assert any("troca" in body.lower() for body in mails_to(stack, "maria.santos@exemplo.com.br"))  # notice


def test_email_out_of_date_during_reset_goes_to_email_change(stack, chat):
    c = chat("maria-reset-email")
    c.say("esqueci minha senha")
    assert "ainda é seu" in identify(c, *MARIA)
    answer = c.say("não")
    assert "atualizar o seu e-mail" in answer and "nome completo" in answer  # no identity asked again


def test_login_question(stack, chat):
    c = chat("login")
    answer = c.say("posso entrar no aplicativo com o cpf?")
    assert "Esqueci minha senha" in answer and "carteirinha" in answer
    assert c.buttons == ["Fazer cadastro", "Esqueci minha senha", "Trocar minha senha"]
