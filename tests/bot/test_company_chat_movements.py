"""Inclusion and exclusion of a beneficiary by the company (bot/actions/company_movements.py): every
question, the backend's options as buttons, the retroactive warning, the confirmation and the protocol."""

from __future__ import annotations

import pytest
from company_chat_support import OPTIONS, FakeCompanyBackend, company_verified, install, refusal
from form_turns import form_turn
from rasa_sdk.executor import CollectingDispatcher
from tracker_support import button_titles, conversation, slot_events, texts

from bot.actions.company_movements import (
    ActionAskEmpresaIncInicio,
    ActionAskEmpresaIncPlano,
    ActionEmpresaEnviarPlanilha,
    ActionEmpresaExcluir,
    ActionEmpresaIncluir,
    ValidateEmpresaExclusaoForm,
    ValidateEmpresaInclusaoForm,
    ValidateEmpresaLoteForm,
)


@pytest.fixture
def company_backend(monkeypatch, fake_backend) -> FakeCompanyBackend:
    return install(monkeypatch)


INC = "empresa_inclusao_form"
EXC = "empresa_exclusao_form"
KEPT = OPTIONS.json()


def inclusion(text: str, requested: str | None, intent: str = "informar", entities=None, **slots):
    return conversation(
        INC, text, intent=intent, entities=entities, requested=requested, verified=False, **company_verified(**slots)
    )


async def test_inclusion_of_bruno_question_by_question(domain, company_backend):
    form = ValidateEmpresaInclusaoForm()
    turn = await form_turn(form, domain, inclusion("incluir funcionario", None, intent="empresa_incluir_beneficiario"))
    assert turn.asked == "utter_ask_empresa_inc_nome"
    answers = {}
    for requested, text, value, next_ask in (
        ("empresa_inc_nome", "Bruno Almeida", "Bruno Almeida", "utter_ask_empresa_inc_cpf"),
        ("empresa_inc_cpf", "650.283.194-05", "65028319405", "utter_ask_empresa_inc_nascimento"),
        ("empresa_inc_nascimento", "09/09/1995", "1995-09-09", "utter_ask_empresa_inc_mae"),
        ("empresa_inc_mae", "Sandra Almeida", "Sandra Almeida", "action_ask_empresa_inc_plano"),
    ):
        turn = await form_turn(form, domain, inclusion(text, requested, **answers))
        assert turn.slots[requested] == value, requested
        assert turn.asked == next_ask
        answers[requested] = value
    # the plan's buttons are the backend's options
    dispatcher = CollectingDispatcher()
    events = await ActionAskEmpresaIncPlano().run(dispatcher, inclusion("", "empresa_inc_plano", **answers), domain)
    assert button_titles(dispatcher) == ["Odonto Essencial", "Odonto Plus"]
    assert slot_events(events)["empresa_opcoes"] == KEPT
    answers["empresa_opcoes"] = KEPT
    plan = [{"entity": "empresa_opcao", "value": "Odonto Essencial"}]
    turn = await form_turn(form, domain, inclusion("/informar", "empresa_inc_plano", entities=plan, **answers))
    assert turn.slots["empresa_inc_plano"] == "Odonto Essencial" and turn.asked == "action_ask_empresa_inc_vinculo"
    answers["empresa_inc_plano"] = "Odonto Essencial"
    turn = await form_turn(form, domain, inclusion("titular", "empresa_inc_vinculo", **answers))
    assert turn.slots["empresa_inc_vinculo"] == "holder"
    assert turn.asked == "action_ask_empresa_inc_inicio"  # a holder: no kinship, no holder's CPF
    answers["empresa_inc_vinculo"] = "holder"
    # the start: the next first of the month first, and the warning that a retroactive one is charged
    dispatcher = CollectingDispatcher()
    await ActionAskEmpresaIncInicio().run(dispatcher, inclusion("", "empresa_inc_inicio", **answers), domain)
    assert button_titles(dispatcher)[0] == "01/12/2026"
    assert "(retroativa)" in button_titles(dispatcher)[1]
    assert "cobrança retroativa" in texts(dispatcher)[0]
    start = [{"entity": "empresa_opcao", "value": "2026-12-01"}]
    turn = await form_turn(form, domain, inclusion("/informar", "empresa_inc_inicio", entities=start, **answers))
    assert turn.slots["empresa_inc_inicio"] == "2026-12-01"
    assert turn.asked == "action_ask_empresa_inc_confirmar"
    assert "Nome: Bruno Almeida" in turn.question_texts[0] and "Início: 01/12/2026" in turn.question_texts[0]
    answers["empresa_inc_inicio"] = "2026-12-01"
    dispatcher = CollectingDispatcher()
    events = await ActionEmpresaIncluir().run(
        dispatcher,
        conversation(
            None, "sim", intent="afirmar", verified=False, **company_verified(empresa_inc_confirmar=True, **answers)
        ),
        domain,
    )
    [(kind, fields)] = company_backend.asked("make_movement")
    assert kind == "inclusions"
    assert fields == {
        "name": "Bruno Almeida",
        "cpf": "65028319405",
        "birth_date": "1995-09-09",
        "mother_name": "Sandra Almeida",
        "plan": "Odonto Essencial",
        "kinship": "holder",
        "start_date": "2026-12-01",
    }
    assert "Carteirinha 5001 0000 0301" in texts(dispatcher)[0]
    assert slot_events(events)["empresa_inc_cpf"] is None  # the person's data is forgotten


async def test_a_dependent_is_asked_the_kinship_and_the_holder(domain, company_backend):
    form = ValidateEmpresaInclusaoForm()
    answers = dict(
        empresa_inc_nome="Lara Dias",
        empresa_inc_cpf="-",
        empresa_inc_nascimento="2020-01-01",
        empresa_inc_mae="Ana Dias",
        empresa_inc_plano="Odonto Essencial",
        empresa_opcoes=KEPT,
    )
    turn = await form_turn(
        form, domain, inclusion("Dependente", "empresa_inc_vinculo", intent="meus_dependentes", **answers)
    )
    assert turn.slots["empresa_inc_vinculo"] == "dependent" and turn.asked == "action_ask_empresa_inc_parentesco"
    assert turn.question_buttons[0] == ["cônjuge", "filho", "filha"]
    answers["empresa_inc_vinculo"] = "dependent"
    turn = await form_turn(form, domain, inclusion("filha", "empresa_inc_parentesco", **answers))
    assert turn.slots["empresa_inc_parentesco"] == "daughter" and turn.asked == "utter_ask_empresa_inc_titular_cpf"


async def test_not_confirmed_nothing_is_done(domain, company_backend):
    dispatcher = CollectingDispatcher()
    await ActionEmpresaIncluir().run(
        dispatcher,
        conversation(None, "nao", intent="negar", verified=False, **company_verified(empresa_inc_confirmar=False)),
        domain,
    )
    assert company_backend.asked("make_movement") == []
    assert texts(dispatcher)[0].startswith("Tudo bem, não fiz a inclusão")


async def test_exclusion_who_reason_date_confirmation(domain, company_backend):
    form = ValidateEmpresaExclusaoForm()

    def exclusion(text, requested, intent="informar", entities=None, **slots):
        return conversation(
            EXC,
            text,
            intent=intent,
            entities=entities,
            requested=requested,
            verified=False,
            **company_verified(**slots),
        )

    turn = await form_turn(form, domain, exclusion("desligamento", None, intent="empresa_excluir_beneficiario"))
    assert turn.asked == "utter_ask_empresa_exc_cpf"
    turn = await form_turn(form, domain, exclusion("318.640.275-17", "empresa_exc_cpf"))
    assert turn.slots["empresa_exc_cpf"] == "31864027517" and turn.asked == "action_ask_empresa_exc_motivo"
    answers = {"empresa_exc_cpf": "31864027517", "empresa_opcoes": KEPT}
    turn = await form_turn(
        form, domain, exclusion("demissao", "empresa_exc_motivo", intent="empresa_excluir_beneficiario", **answers)
    )
    assert turn.slots["empresa_exc_motivo"] == "dismissal" and turn.asked == "utter_ask_empresa_exc_data"
    answers["empresa_exc_motivo"] = "dismissal"
    turn = await form_turn(form, domain, exclusion("30/12/2026", "empresa_exc_data", **answers))
    assert turn.slots["empresa_exc_data"] == "2026-12-30" and turn.asked == "action_ask_empresa_exc_confirmar"
    assert "Motivo: desligamento ou demissão" in turn.question_texts[0]
    answers["empresa_exc_data"] = "2026-12-30"
    company_backend.movement = type(company_backend.movement)(protocol="2026" + "6" * 16, message="Exclusão feita.")
    dispatcher = CollectingDispatcher()
    await ActionEmpresaExcluir().run(
        dispatcher,
        conversation(
            None, "sim", intent="afirmar", verified=False, **company_verified(empresa_exc_confirmar=True, **answers)
        ),
        domain,
    )
    assert company_backend.asked("make_movement") == [
        ("exclusions", {"beneficiary": "31864027517", "reason": "dismissal", "date": "2026-12-30"})
    ]
    assert texts(dispatcher) == ["Exclusão feita."]


async def test_the_filled_file_sent_through_the_chat_gets_line_errors_and_a_protocol(domain, company_backend):
    attachment = {"attachments": [{"file_id": "f-123", "filename": "mov.csv"}]}
    tracker = conversation(
        "empresa_lote_form",
        "/enviar_documento",
        intent="enviar_documento",
        metadata=attachment,
        requested="empresa_lote_arquivo",
        verified=False,
        **company_verified(),
    )
    turn = await form_turn(ValidateEmpresaLoteForm(), domain, tracker)
    assert turn.slots["empresa_lote_arquivo"] == "f-123" and turn.asked is None
    dispatcher = CollectingDispatcher()
    done = conversation(None, "", verified=False, **company_verified(empresa_lote_arquivo="f-123"))
    await ActionEmpresaEnviarPlanilha().run(dispatcher, done, domain)
    assert company_backend.asked("send_batch") == ["f-123"]
    text = texts(dispatcher)[0]
    assert text.startswith("Arquivo processado") and "• linha 3 (cpf): CPF inválido." in text


async def test_a_file_the_backend_cannot_read_is_asked_again(domain, company_backend):
    company_backend.batch = refusal(415, "not_a_spreadsheet", "Esse arquivo não é uma planilha CSV ou XLSX.")
    dispatcher = CollectingDispatcher()
    done = conversation(None, "", verified=False, **company_verified(empresa_lote_arquivo="f-9"))
    await ActionEmpresaEnviarPlanilha().run(dispatcher, done, domain)
    assert (
        texts(dispatcher)[0]
        == 'Esse arquivo não é uma planilha CSV ou XLSX. Corrija e mande de novo: escreva "enviar planilha".'
    )
