"""The identity check through the REST channel where it differs by operator or persona: the
mother's full name asked when the operator's profile requires it (CASSE), and "não possuo CPF"
for an adult registered without a CPF."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from rest_chat import LINK_RE, PROTOCOL_RE, Chat, mails_to
from stack_support import assert_protocol, backend_db

pytestmark = pytest.mark.integration

MARIA = ("100200300401", "945.807.302-24", "12/03/1985")
# An adult holder without a CPF on file: not a contract persona, added to this module's database.
SEM_CPF = {
    "card": "500600700801",
    "name": "Rita de Cássia Menezes",
    "birth": date(1948, 5, 20),
    "email": "rita.menezes@exemplo.com.br",
}


def identify(c: Chat, card: str, cpf: str, birth: str) -> str:
    c.say(card)
    c.say(cpf)
    return c.say(birth)


def test_casse_asks_the_mothers_name_before_checking(casse_stack):
    c = Chat(casse_stack, "casse")
    c.say("quero trocar minha senha")
    assert "nome completo da sua mãe" in identify(c, *MARIA)
    assert "nome completo" in c.say("Josefa")  # one word is not a full name; nothing is lost
    answer = c.say("Josefa Aparecida Santos")
    assert LINK_RE.search(answer) and "15 minutos" in answer, answer


def test_casse_wrong_mothers_name_is_refused_like_any_other_field(casse_stack):
    c = Chat(casse_stack, "casse-errado")
    c.say("quero trocar minha senha")
    identify(c, *MARIA)
    answer = c.say("Maria das Dores Santos")
    assert "não conferem" in answer and "nome da sua mãe" in answer
    assert not LINK_RE.search(answer)
    # CPF, birth date and the mother's name are asked again; the card is kept.
    c.say("945.807.302-24")
    assert "nome completo da sua mãe" in c.say("12/03/1985")
    assert LINK_RE.search(c.say("josefa aparecida santos"))


@pytest.fixture(scope="module")
def adult_without_cpf(stack):
    """SEM_CPF, added to the module's database (SQLite or PostgreSQL) on José's plan."""
    with backend_db(stack) as db:
        plan_id = db.execute(
            sa.text("SELECT plan_id FROM beneficiaries WHERE card_number = :card"), {"card": "200300400501"}
        ).scalar_one()
        db.execute(
            sa.text(
                "INSERT INTO beneficiaries (name, card_number, cpf, birth_date, mother_name, email, "
                "relationship, plan_id, status) VALUES (:name, :card, NULL, :birth, 'Ana Menezes', :email, "
                "'holder', :plan_id, 'active')"
            ),
            {**SEM_CPF, "plan_id": plan_id},
        )
    return SEM_CPF


def test_registration_without_cpf_uses_card_and_birth_date(stack, adult_without_cpf):
    c = Chat(stack, "sem-cpf")
    c.say("quero me cadastrar no aplicativo")
    c.say(adult_without_cpf["card"])
    assert "data de nascimento" in c.say("não tenho cpf").lower()
    question = c.say("20/05/1948")
    assert "r***@exemplo.com.br" in question, question
    answer = c.say("sim")
    assert "link de ativação" in answer and PROTOCOL_RE.search(answer), answer
    assert_protocol(stack, PROTOCOL_RE.search(answer).group(0), "registration", adult_without_cpf["card"], c.sender)
    assert mails_to(stack, adult_without_cpf["email"])


def test_no_cpf_with_a_persona_who_has_one_is_not_confirmed(stack):
    c = Chat(stack, "tem-cpf")
    c.say("quero me cadastrar no aplicativo")
    c.say("200300400501")  # José has a CPF on file
    c.say("não possuo cpf")
    answer = c.say("14/08/1960")
    assert "não conferem" in answer and not PROTOCOL_RE.search(answer)
