"""The company user's identity in the chat (bot/actions/company_identity.py): user code, CNPJ, the one-time
code e-mailed by the backend; wrong, expired and locked codes; a verified company session skips the
questions and never serves a beneficiary's request."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from company_chat_support import (
    CNPJ,
    CNPJ_DIGITS,
    COMPANY_TOKEN,
    SENT_MESSAGE,
    FakeCompanyBackend,
    company_verified,
    install,
    refusal,
)
from form_turns import form_turn
from rasa_sdk.executor import CollectingDispatcher
from tracker_support import button_titles, conversation, slot_events, texts

from bot.actions.company_identity import (
    ActionEmpresaRegistrar,
    ActionEmpresaServico,
    ValidateEmpresaIdentidadeForm,
    find_code,
)
from bot.actions.company_movements import ValidateEmpresaInclusaoForm
from bot.actions.services import ValidateIdentidadeForm
from bot.backend.common import Refusal
from common.company_documents import find_cnpj, normalize_cnpj


@pytest.fixture
def company_backend(monkeypatch, fake_backend) -> FakeCompanyBackend:
    return install(monkeypatch)


FORM = "empresa_identidade_form"
DATA = Path(__file__).resolve().parents[2] / "bot" / "data"


def _rules(name: str) -> list[dict]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["rules"]


async def test_sou_do_rh_asks_the_user_code(domain, company_backend):
    tracker = conversation(FORM, "sou do rh", intent="empresa_identificacao", verified=False)
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, tracker)
    assert turn.asked == "utter_ask_empresa_usuario"
    assert "código de usuário" in turn.question_texts[0] and "senha" not in turn.question_texts[0].lower()
    assert company_backend.calls == []


async def test_user_code_and_cnpj_in_one_message_send_the_code(domain, company_backend):
    tracker = conversation(FORM, f"usuario rh500101 cnpj {CNPJ}", requested="empresa_usuario", verified=False)
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, tracker)
    assert company_backend.asked("request_code") == [("RH500101", CNPJ_DIGITS)]
    assert turn.slots["empresa_codigo_enviado"] is True
    assert SENT_MESSAGE in turn.texts
    assert turn.asked == "utter_ask_empresa_codigo"


async def test_a_cnpj_with_wrong_check_digits_is_refused_at_once(domain, company_backend):
    tracker = conversation(
        FORM, "33.445.566/0001-87", requested="empresa_cnpj", verified=False, empresa_usuario="RH500101"
    )
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, tracker)
    assert turn.slots["empresa_cnpj"] is None
    assert "dígitos verificadores" in turn.texts[0]
    assert company_backend.asked("request_code") == []


def test_the_alphanumeric_cnpj_is_accepted():
    assert find_cnpj("cnpj 12.abc.345/01de-35 da filial") == "12.abc.345/01de-35"
    assert normalize_cnpj("12.abc.345/01de-35") == "12ABC34501DE35"


async def test_a_wrong_code_says_how_many_tries_are_left(domain, company_backend):
    company_backend.verification = refusal(
        401, "company_code_invalid", "O código não confere. Confira o e-mail mais recente.", attempts_left=3
    )
    tracker = conversation(
        FORM,
        "111 111",
        requested="empresa_codigo",
        verified=False,
        empresa_usuario="RH500101",
        empresa_cnpj=CNPJ_DIGITS,
        empresa_codigo_enviado=True,
    )
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, tracker)
    assert company_backend.asked("verify_code") == [("RH500101", CNPJ_DIGITS, "111111")]
    assert turn.texts == ["O código não confere. Confira o e-mail mais recente. Você ainda tem 3 tentativa(s)."]
    assert turn.slots["empresa_codigo"] is None and "empresa_token" not in turn.slots
    assert turn.asked == "utter_ask_empresa_codigo"


async def test_the_right_code_verifies_the_company_session(domain, company_backend):
    tracker = conversation(
        FORM,
        "482913",
        requested="empresa_codigo",
        verified=False,
        empresa_usuario="RH500101",
        empresa_cnpj=CNPJ_DIGITS,
        empresa_codigo_enviado=True,
    )
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, tracker)
    assert turn.slots["empresa_token"] == COMPANY_TOKEN
    assert turn.slots["empresa_info"]["company_name"] == "Construtora Horizonte Ltda"
    assert turn.slots["empresa_codigo"] is None  # the code never stays
    assert turn.texts == ["Acesso confirmado, Fernanda! Você está falando pela Construtora Horizonte Ltda."]
    assert turn.asked is None  # the form completes: the service is answered


async def test_an_expired_code_sends_a_new_one(domain, company_backend):
    company_backend.verification = refusal(410, "company_code_expired", "Esse código venceu: ele vale por 10 minutos.")
    tracker = conversation(
        FORM,
        "482913",
        requested="empresa_codigo",
        verified=False,
        empresa_usuario="RH500101",
        empresa_cnpj=CNPJ_DIGITS,
        empresa_codigo_enviado=True,
    )
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, tracker)
    assert len(company_backend.asked("request_code")) == 1
    assert turn.texts[0].startswith("Esse código venceu")
    assert turn.texts[1].startswith("Pronto, pedi um código novo.")
    assert turn.asked == "utter_ask_empresa_codigo"


async def test_asking_for_a_new_code(domain, company_backend):
    tracker = conversation(
        FORM,
        "nao chegou, manda outro codigo",
        requested="empresa_codigo",
        verified=False,
        empresa_usuario="RH500101",
        empresa_cnpj=CNPJ_DIGITS,
        empresa_codigo_enviado=True,
    )
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, tracker)
    assert len(company_backend.asked("request_code")) == 1
    assert company_backend.asked("verify_code") == []
    assert turn.asked == "utter_ask_empresa_codigo"


async def test_a_locked_check_is_explained_by_the_flow_action(domain, company_backend):
    company_backend.verification = refusal(
        423, "company_code_locked", "Por segurança, a confirmação por código ficou bloqueada. Tente em 30 minutos."
    )
    tracker = conversation(
        FORM,
        "999999",
        requested="empresa_codigo",
        verified=False,
        empresa_usuario="RH500101",
        empresa_cnpj=CNPJ_DIGITS,
        empresa_codigo_enviado=True,
        empresa_servico={"intent": "empresa_faturas", "values": {}},
    )
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, tracker)
    locked = turn.slots["empresa_bloqueio"]
    assert locked.startswith("Por segurança") and "atendente" in locked
    assert turn.asked is None
    dispatcher = CollectingDispatcher()
    done = conversation(None, "999999", verified=False, empresa_bloqueio=locked)
    events = await ActionEmpresaServico().run(dispatcher, done, domain)
    assert texts(dispatcher) == [locked] and "Falar com atendente" in button_titles(dispatcher)
    assert company_backend.asked("invoices") == []
    assert slot_events(events).get("empresa_bloqueio", "kept") is None


def test_a_code_is_six_digits_or_a_request_for_another():
    assert find_code("o codigo é 482 913") == "482913"
    assert find_code("manda outro") == "novo"
    assert find_code("ok") is None


async def test_a_verified_company_skips_its_questions_but_not_the_beneficiary_ones(domain, company_backend):
    slots = domain["forms"]["empresa_inclusao_form"]["required_slots"]
    verified = conversation("empresa_inclusao_form", "oi", verified=False, **company_verified())
    required = await ValidateEmpresaInclusaoForm().required_slots(slots, None, verified, domain)
    assert required[0] == "empresa_inc_nome" and "empresa_codigo" not in required
    # the company session does not verify the beneficiary: the plan services still ask the card
    beneficiary = ["login", "cpf", "data_nascimento"]
    asked = await ValidateIdentidadeForm().required_slots(beneficiary, None, verified, domain)
    assert asked[:3] == beneficiary


async def test_a_beneficiary_session_does_not_verify_the_company(domain, company_backend):
    tracker = conversation(FORM, "sou do rh", intent="empresa_identificacao", verified=True)  # Maria verified
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, tracker)
    assert turn.asked == "utter_ask_empresa_usuario"


async def test_a_company_session_of_another_channel_is_forgotten(domain, company_backend):
    other = company_verified()
    other["empresa_info"]["channel"] = "whatsapp"
    tracker = conversation(FORM, "faturas", intent="empresa_faturas", verified=False, **other)
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, tracker)
    assert turn.slots["empresa_token"] is None and turn.asked == "utter_ask_empresa_usuario"


async def test_the_request_is_remembered_with_its_values(domain):
    dispatcher = CollectingDispatcher()
    tracker = conversation(None, "faturas da empresa de 2025", intent="empresa_faturas", verified=False)
    events = await ActionEmpresaRegistrar().run(dispatcher, tracker, domain)
    assert slot_events(events)["empresa_servico"] == {"intent": "empresa_faturas", "values": {"ano": "2025"}}


async def test_the_third_ask_of_the_cnpj_is_rephrased_with_a_way_out(domain, company_backend):
    tracker = conversation(
        FORM, "123", requested="empresa_cnpj", verified=False, empresa_usuario="RH500101", pergunta_vezes=2.0
    )
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, tracker)
    assert turn.slots["pergunta_vezes"] == 3.0
    assert turn.question_texts[0].startswith("Vamos de novo")
    assert turn.question_buttons[0][-2:] == ["Falar com atendente", "Cancelar"]


def test_every_company_form_answers_an_emergency_and_a_human_and_cancel():
    generated = _rules("rules_digressoes.yml")
    written = _rules("rules_empresa.yml")
    for form in (
        FORM,
        "empresa_primeiro_acesso_form",
        "empresa_senha_form",
        "empresa_usuario_form",
        "empresa_contato_form",
        "empresa_inclusao_form",
        "empresa_exclusao_form",
    ):
        in_form = [r for r in generated if r.get("condition") == [{"active_loop": form}]]
        assert any(
            {"action": "action_emergencia"} in r["steps"] and {"intent": "emergencia"} in r["steps"] for r in in_form
        ), form
        mine = [r for r in written if r.get("condition") == [{"active_loop": form}]]
        for intent, action in (("falar_com_atendente", "action_contato_atendente"), ("cancelar", "action_cancelar")):
            assert any(r["steps"][:2] == [{"intent": intent}, {"action": action}] for r in mine), (form, intent)


async def test_a_refused_code_request_keeps_nothing(domain, company_backend):
    company_backend.codes.append(Refusal("rate_limited", "Já enviamos vários códigos. Tente em 1 hora.", 429, {}))
    tracker = conversation(FORM, CNPJ, requested="empresa_cnpj", verified=False, empresa_usuario="RH500101")
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, tracker)
    assert turn.slots["empresa_bloqueio"].startswith("Já enviamos vários códigos")


async def test_a_year_in_the_request_is_not_a_user_code(domain, company_backend):
    tracker = conversation(FORM, "faturas de 2025", intent="empresa_faturas", verified=False)
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, tracker)
    assert "empresa_usuario" not in turn.slots and turn.asked == "utter_ask_empresa_usuario"
    spaced = conversation(FORM, "rh 500101", requested="empresa_usuario", verified=False)
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, spaced)
    assert turn.slots["empresa_usuario"] == "RH500101"
