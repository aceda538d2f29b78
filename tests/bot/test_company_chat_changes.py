"""Change of data, plan change, reactivation and transfer of a beneficiary by the company
(bot/actions/company_changes.py): every question, the backend's options as buttons, a wrong answer said
and asked again (rephrased the third time), the confirmation, the protocol and the backend's refusals."""

from __future__ import annotations

import pytest
import yaml
from company_chat_support import OPTIONS, FakeCompanyBackend, company_verified, install, refusal, register_asks
from form_turns import form_turn
from rasa_sdk.executor import CollectingDispatcher
from tracker_support import button_titles, conversation, slot_events, texts

from bot.actions.company_changes import (
    WHO_ERROR_TEXT,
    ActionAskEmpresaAltCampo,
    ActionAskEmpresaAltConfirmar,
    ActionAskEmpresaAltValor,
    ActionAskEmpresaReatConfirmar,
    ActionAskEmpresaReatInicio,
    ActionAskEmpresaTpConfirmar,
    ActionAskEmpresaTpInicio,
    ActionAskEmpresaTpPlano,
    ActionAskEmpresaTransfConfirmar,
    ActionAskEmpresaTransfDestino,
    ActionEmpresaAlterarBeneficiario,
    ActionEmpresaReativar,
    ActionEmpresaTransferir,
    ActionEmpresaTrocarPlano,
    ValidateEmpresaAlteracaoForm,
    ValidateEmpresaReativacaoForm,
    ValidateEmpresaTransferenciaForm,
    ValidateEmpresaTrocaPlanoForm,
)
from bot.actions.conversation import ActionCancelar
from bot.backend.company_movements import MovementDone
from bot.catalogue import CATALOGUE

register_asks(
    ActionAskEmpresaAltCampo(),
    ActionAskEmpresaAltValor(),
    ActionAskEmpresaAltConfirmar(),
    ActionAskEmpresaTpPlano(),
    ActionAskEmpresaTpInicio(),
    ActionAskEmpresaTpConfirmar(),
    ActionAskEmpresaReatInicio(),
    ActionAskEmpresaReatConfirmar(),
    ActionAskEmpresaTransfDestino(),
    ActionAskEmpresaTransfConfirmar(),
)
KEPT = OPTIONS.json()
RENATA_CARD = "500100000201"
PAULO_CPF = "31864027517"
FORMS = (
    "empresa_alteracao_form",
    "empresa_troca_plano_form",
    "empresa_reativacao_form",
    "empresa_transferencia_form",
)


@pytest.fixture
def company_backend(monkeypatch, fake_backend) -> FakeCompanyBackend:
    return install(monkeypatch)


def in_form(form: str, text: str, requested: str | None, intent: str = "informar", entities=None, **slots):
    return conversation(
        form, text, intent=intent, entities=entities, requested=requested, verified=False, **company_verified(**slots)
    )


def option(value: str) -> list[dict]:
    return [{"entity": "empresa_opcao", "value": value}]


async def finish(action, domain, **slots) -> tuple[CollectingDispatcher, list[dict]]:
    dispatcher = CollectingDispatcher()
    tracker = conversation(None, "sim", intent="afirmar", verified=False, **company_verified(**slots))
    events = await action.run(dispatcher, tracker, domain)
    return dispatcher, events


# --- change of data ------------------------------------------------------------------------------

ALT = "empresa_alteracao_form"


async def test_change_of_the_mothers_name_question_by_question(domain, company_backend):
    form = ValidateEmpresaAlteracaoForm()
    turn = await form_turn(form, domain, in_form(ALT, "alterar dados", None, intent="empresa_alterar_beneficiario"))
    assert turn.asked == "utter_ask_empresa_alt_quem"
    assert "CPF ou o número da carteirinha" in turn.question_texts[0]
    turn = await form_turn(form, domain, in_form(ALT, "5001 0000 0102", "empresa_alt_quem"))
    assert turn.slots["empresa_alt_quem"] == "500100000102" and turn.asked == "action_ask_empresa_alt_campo"
    assert turn.question_buttons[0] == ["Nome", "Nome da mãe", "Data de nascimento"]
    answers = {"empresa_alt_quem": "500100000102"}
    turn = await form_turn(
        form, domain, in_form(ALT, "/informar", "empresa_alt_campo", entities=option("mother_name"), **answers)
    )
    assert turn.slots["empresa_alt_campo"] == "mother_name" and turn.asked == "action_ask_empresa_alt_valor"
    assert turn.question_texts[0] == "Qual é o nome completo da mãe?"
    answers["empresa_alt_campo"] = "mother_name"
    turn = await form_turn(form, domain, in_form(ALT, "Carla Souza Dias", "empresa_alt_valor", **answers))
    assert turn.slots["empresa_alt_valor"] == "Carla Souza Dias" and turn.asked == "action_ask_empresa_alt_confirmar"
    assert "Carteirinha: 500100000102\nNome da mãe novo: Carla Souza Dias" in turn.question_texts[0]
    assert turn.question_buttons[0] == ["Sim", "Não"]
    answers["empresa_alt_valor"] = "Carla Souza Dias"
    company_backend.movement = MovementDone("2026" + "4" * 16, "Dados de Lívia Dias alterados: nome da mãe.")
    dispatcher, events = await finish(ActionEmpresaAlterarBeneficiario(), domain, empresa_alt_confirmar=True, **answers)
    assert company_backend.asked("make_movement") == [
        ("changes", {"beneficiary": "500100000102", "mother_name": "Carla Souza Dias"})
    ]
    assert texts(dispatcher) == ["Dados de Lívia Dias alterados: nome da mãe."]
    assert slot_events(events)["empresa_alt_valor"] is None  # the person's data is forgotten


async def test_a_birth_date_is_read_and_shown_as_a_date(domain, company_backend):
    form = ValidateEmpresaAlteracaoForm()
    answers = {"empresa_alt_quem": RENATA_CARD}
    turn = await form_turn(form, domain, in_form(ALT, "a data de nascimento", "empresa_alt_campo", **answers))
    assert turn.slots["empresa_alt_campo"] == "birth_date"
    answers["empresa_alt_campo"] = "birth_date"
    turn = await form_turn(form, domain, in_form(ALT, "nasceu em 17/03/1990", "empresa_alt_valor", **answers))
    assert turn.slots["empresa_alt_valor"] == "1990-03-17"
    assert "Data de nascimento novo: 17/03/1990" in turn.question_texts[0]


async def test_a_field_the_chat_does_not_change_is_explained_and_rephrased_the_third_time(domain, company_backend):
    form = ValidateEmpresaAlteracaoForm()
    answers = {"empresa_alt_quem": RENATA_CARD}
    turn = await form_turn(form, domain, in_form(ALT, "telefone", "empresa_alt_campo", pergunta_vezes=1.0, **answers))
    assert turn.slots["empresa_alt_campo"] is None
    assert "Pelo chat eu altero o nome, o nome da mãe ou a data de nascimento" in turn.texts[0]
    assert "pelo aplicativo" in turn.texts[0]
    assert turn.asked == "action_ask_empresa_alt_campo" and turn.question_texts[0] == "O que muda no cadastro?"
    turn = await form_turn(form, domain, in_form(ALT, "endereco", "empresa_alt_campo", pergunta_vezes=2.0, **answers))
    assert turn.slots["pergunta_vezes"] == 3.0
    assert turn.question_texts[0].startswith("Toque no dado que está errado")
    assert turn.question_buttons[0][-2:] == ["Falar com atendente", "Cancelar"]


async def test_a_wrong_number_is_said_and_the_third_ask_is_rephrased(domain, company_backend):
    form = ValidateEmpresaAlteracaoForm()
    turn = await form_turn(form, domain, in_form(ALT, "12345", "empresa_alt_quem", pergunta_vezes=2.0))
    assert turn.slots["empresa_alt_quem"] is None
    assert turn.texts == [WHO_ERROR_TEXT]
    assert WHO_ERROR_TEXT.startswith("Não reconheci esse número. Digite o CPF (11 números) ou a carteirinha")
    assert turn.slots["pergunta_vezes"] == 3.0 and turn.question_texts[0].startswith("Vamos de novo")
    assert turn.question_buttons[0] == ["Falar com atendente", "Cancelar"]


async def test_a_bad_new_name_is_refused_with_an_example(domain, company_backend):
    form = ValidateEmpresaAlteracaoForm()
    answers = {"empresa_alt_quem": RENATA_CARD, "empresa_alt_campo": "name"}
    turn = await form_turn(form, domain, in_form(ALT, "Renata", "empresa_alt_valor", **answers))
    assert turn.slots["empresa_alt_valor"] is None and turn.texts
    assert turn.asked == "action_ask_empresa_alt_valor"


async def test_nothing_to_change_is_the_backends_refusal(domain, company_backend):
    company_backend.movement = refusal(
        409, "nothing_to_change", "Esses já são os dados do beneficiário, então não há o que alterar."
    )
    dispatcher, _ = await finish(
        ActionEmpresaAlterarBeneficiario(),
        domain,
        empresa_alt_confirmar=True,
        empresa_alt_quem=RENATA_CARD,
        empresa_alt_campo="name",
        empresa_alt_valor="Renata Costa",
    )
    assert texts(dispatcher) == ["Esses já são os dados do beneficiário, então não há o que alterar."]
    assert button_titles(dispatcher) == ["Falar com atendente"]


# --- plan change ---------------------------------------------------------------------------------

TP = "empresa_troca_plano_form"


async def test_plan_change_of_paulo_to_a_contracted_plan(domain, company_backend):
    form = ValidateEmpresaTrocaPlanoForm()
    turn = await form_turn(form, domain, in_form(TP, "trocar plano", None, intent="empresa_trocar_plano"))
    assert turn.asked == "utter_ask_empresa_tp_quem"
    turn = await form_turn(form, domain, in_form(TP, "318.640.275-17", "empresa_tp_quem"))
    assert turn.slots["empresa_tp_quem"] == PAULO_CPF and turn.asked == "action_ask_empresa_tp_plano"
    assert turn.question_buttons[0] == ["Odonto Essencial", "Odonto Plus"]  # the backend's contracted plans
    answers = {"empresa_tp_quem": PAULO_CPF, "empresa_opcoes": KEPT}
    # a plan's name typed reads as "meu plano": still the answer here
    turn = await form_turn(form, domain, in_form(TP, "odonto plus", "empresa_tp_plano", intent="meu_plano", **answers))
    assert turn.slots["empresa_tp_plano"] == "Odonto Plus" and turn.asked == "action_ask_empresa_tp_inicio"
    # the next first of the month first, then the portal's three retroactive dates, with the warning
    assert turn.question_buttons[0] == [
        "01/12/2026",
        "01/11/2026 (retroativa)",
        "01/10/2026 (retroativa)",
        "01/09/2026 (retroativa)",
    ]
    assert "cobrança retroativa" in turn.question_texts[0]
    answers["empresa_tp_plano"] = "Odonto Plus"
    turn = await form_turn(form, domain, in_form(TP, "01/12/2026", "empresa_tp_inicio", **answers))
    assert turn.slots["empresa_tp_inicio"] == "2026-12-01" and turn.asked == "action_ask_empresa_tp_confirmar"
    assert "Novo plano: Odonto Plus\nA partir de: 01/12/2026\n" in turn.question_texts[0]
    answers["empresa_tp_inicio"] = "2026-12-01"
    company_backend.movement = MovementDone("2026" + "1" * 16, "Plano de Paulo alterado para Odonto Plus.")
    dispatcher, _ = await finish(ActionEmpresaTrocarPlano(), domain, empresa_tp_confirmar=True, **answers)
    assert company_backend.asked("make_movement") == [
        ("plan-changes", {"beneficiary": PAULO_CPF, "plan": "Odonto Plus", "start_date": "2026-12-01"})
    ]
    assert texts(dispatcher) == ["Plano de Paulo alterado para Odonto Plus."]


async def test_a_retroactive_plan_change_is_shown_as_charged_and_a_date_not_offered_is_refused(domain, company_backend):
    form = ValidateEmpresaTrocaPlanoForm()
    answers = {"empresa_tp_quem": PAULO_CPF, "empresa_tp_plano": "Odonto Plus", "empresa_opcoes": KEPT}
    turn = await form_turn(form, domain, in_form(TP, "15/10/2026", "empresa_tp_inicio", **answers))
    assert turn.slots["empresa_tp_inicio"] is None
    assert turn.texts == [
        (
            "Não achei essa opção. Escolha uma destas: 01/09/2026 (retroativa), 01/10/2026 (retroativa), "
            "01/11/2026 (retroativa), 01/12/2026."
        )
    ]
    turn = await form_turn(
        form, domain, in_form(TP, "2026-10-01", "empresa_tp_inicio", entities=option("2026-10-01"), **answers)
    )
    assert turn.slots["empresa_tp_inicio"] == "2026-10-01" and turn.asked == "action_ask_empresa_tp_confirmar"
    assert "A partir de: 01/10/2026 (retroativa: cobrada nas faturas)" in turn.question_texts[0]


async def test_a_plan_not_offered_is_refused_with_the_options(domain, company_backend):
    form = ValidateEmpresaTrocaPlanoForm()
    answers = {"empresa_tp_quem": PAULO_CPF, "empresa_opcoes": KEPT}
    turn = await form_turn(form, domain, in_form(TP, "plano ouro", "empresa_tp_plano", **answers))
    assert turn.slots["empresa_tp_plano"] is None
    assert turn.texts == ["Não achei essa opção. Escolha uma destas: Odonto Essencial, Odonto Plus."]


async def test_a_dependent_alone_does_not_change_plan(domain, company_backend):
    company_backend.movement = refusal(
        422, "dependent_follows_holder", "O dependente segue o plano e a empresa do titular."
    )
    dispatcher, _ = await finish(
        ActionEmpresaTrocarPlano(),
        domain,
        empresa_tp_confirmar=True,
        empresa_tp_quem="500100000102",
        empresa_tp_plano="Odonto Plus",
    )
    assert texts(dispatcher) == ["O dependente segue o plano e a empresa do titular."]


async def test_plan_change_not_confirmed_is_not_made(domain, company_backend):
    dispatcher, _ = await finish(ActionEmpresaTrocarPlano(), domain, empresa_tp_confirmar=False)
    assert company_backend.asked("make_movement") == []
    assert texts(dispatcher)[0].startswith("Tudo bem, não fiz a troca de plano")


# --- reactivation --------------------------------------------------------------------------------

REAT = "empresa_reativacao_form"


async def test_reactivation_of_renata(domain, company_backend):
    form = ValidateEmpresaReativacaoForm()
    turn = await form_turn(form, domain, in_form(REAT, "reativar", None, intent="empresa_reativar_beneficiario"))
    assert turn.asked == "utter_ask_empresa_reat_quem"
    turn = await form_turn(form, domain, in_form(REAT, "a carteirinha é 500100000201", "empresa_reat_quem"))
    assert turn.slots["empresa_reat_quem"] == RENATA_CARD and turn.asked == "action_ask_empresa_reat_inicio"
    assert turn.question_buttons[0][0] == "01/12/2026" and len(turn.question_buttons[0]) == 4
    answers = {"empresa_reat_quem": RENATA_CARD, "empresa_opcoes": KEPT}
    turn = await form_turn(form, domain, in_form(REAT, "1/11/2026", "empresa_reat_inicio", **answers))
    assert turn.slots["empresa_reat_inicio"] == "2026-11-01" and turn.asked == "action_ask_empresa_reat_confirmar"
    assert (
        "Confere a reativação?\nCarteirinha: 500100000201\nA partir de: 01/11/2026 (retroativa: cobrada nas faturas)"
        in turn.question_texts[0]
    )
    company_backend.movement = MovementDone("2026" + "2" * 16, "Reativação feita: Renata Costa.")
    dispatcher, events = await finish(
        ActionEmpresaReativar(),
        domain,
        empresa_reat_confirmar=True,
        empresa_reat_quem=RENATA_CARD,
        empresa_reat_inicio="2026-11-01",
    )
    assert company_backend.asked("make_movement") == [
        ("reactivations", {"beneficiary": RENATA_CARD, "start_date": "2026-11-01"})
    ]
    assert texts(dispatcher) == ["Reativação feita: Renata Costa."]
    assert slot_events(events)["empresa_reat_quem"] is None


async def test_reactivation_refused_by_the_backend_is_said_as_it_comes(domain, company_backend):
    message = "A reativação só é possível até 6 meses depois da exclusão, e esse prazo já passou."
    company_backend.movement = refusal(422, "reactivation_period_over", message)
    dispatcher, _ = await finish(
        ActionEmpresaReativar(), domain, empresa_reat_confirmar=True, empresa_reat_quem=RENATA_CARD
    )
    assert texts(dispatcher) == [message] and button_titles(dispatcher) == ["Falar com atendente"]


# --- transfer ------------------------------------------------------------------------------------

TRANSF = "empresa_transferencia_form"


async def test_transfer_of_paulo_to_the_groups_other_company(domain, company_backend):
    form = ValidateEmpresaTransferenciaForm()
    turn = await form_turn(form, domain, in_form(TRANSF, "transferir", None, intent="empresa_transferir_beneficiario"))
    assert turn.asked == "utter_ask_empresa_transf_quem"
    turn = await form_turn(form, domain, in_form(TRANSF, "31864027517", "empresa_transf_quem"))
    assert turn.asked == "action_ask_empresa_transf_destino"
    assert turn.question_buttons[0] == ["Horizonte Incorporações Ltda (500200)"]
    answers = {"empresa_transf_quem": PAULO_CPF, "empresa_opcoes": KEPT}
    # the destination's name typed reads as the company's data: still the answer here
    turn = await form_turn(
        form,
        domain,
        in_form(TRANSF, "horizonte incorporacoes", "empresa_transf_destino", intent="empresa_dados", **answers),
    )
    assert turn.slots["empresa_transf_destino"] == "500200" and turn.asked == "action_ask_empresa_transf_confirmar"
    assert "Para: Horizonte Incorporações Ltda (500200)" in turn.question_texts[0]
    answers["empresa_transf_destino"] = "500200"
    company_backend.movement = MovementDone("2026" + "3" * 16, "Transferência feita: Paulo Henrique Dias.")
    dispatcher, _ = await finish(ActionEmpresaTransferir(), domain, empresa_transf_confirmar=True, **answers)
    assert company_backend.asked("make_movement") == [
        ("transfers", {"beneficiary": PAULO_CPF, "target_company": "500200"})
    ]
    assert texts(dispatcher) == ["Transferência feita: Paulo Henrique Dias."]


async def test_a_company_outside_the_group_is_refused_and_asked_again(domain, company_backend):
    form = ValidateEmpresaTransferenciaForm()
    answers = {"empresa_transf_quem": PAULO_CPF, "empresa_opcoes": KEPT}
    turn = await form_turn(form, domain, in_form(TRANSF, "999999", "empresa_transf_destino", **answers))
    assert turn.slots["empresa_transf_destino"] is None
    assert turn.texts == ["Não achei essa opção. Escolha uma destas: Horizonte Incorporações Ltda."]
    assert turn.asked == "action_ask_empresa_transf_destino"


async def test_transfer_refused_when_the_destination_lacks_the_plan(domain, company_backend):
    message = "A empresa de destino não contratou o plano atual. Informe um destes planos: Odonto Essencial."
    company_backend.movement = refusal(422, "plan_not_contracted_by_target", message)
    dispatcher, _ = await finish(
        ActionEmpresaTransferir(),
        domain,
        empresa_transf_confirmar=True,
        empresa_transf_quem=PAULO_CPF,
        empresa_transf_destino="500200",
    )
    assert texts(dispatcher) == [message]


# --- every form ----------------------------------------------------------------------------------


async def test_cancel_forgets_what_the_form_collected(domain, company_backend):
    dispatcher = CollectingDispatcher()
    tracker = in_form(
        TP,
        "cancelar",
        "empresa_tp_plano",
        intent="cancelar",
        empresa_tp_quem=PAULO_CPF,
        empresa_opcoes=KEPT,
        empresa_usuario="RH500101",
    )
    events = await ActionCancelar().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    assert slots["empresa_tp_quem"] is None and slots["empresa_opcoes"] is None
    assert "empresa_token" not in slots  # the company session is kept for the next request


def _rules(name: str) -> list[dict]:
    with open(f"bot/data/{name}", encoding="utf-8") as file:
        return yaml.safe_load(file)["rules"]


def test_every_new_form_answers_an_emergency_a_human_and_cancel_and_stops_for_another_request():
    generated = _rules("rules_digressoes.yml")
    written = _rules("rules_empresa.yml")
    for form in (*FORMS, "empresa_novo_usuario_form", "empresa_editar_usuario_form"):
        in_it = [r for r in generated if r.get("condition") == [{"active_loop": form}]]
        assert any({"action": "action_emergencia"} in r["steps"] for r in in_it), form
        assert any({"action": "action_trocar_pedido"} in r["steps"] for r in in_it), form
        mine = [r for r in written if r.get("condition") == [{"active_loop": form}]]
        for intent, action in (("falar_com_atendente", "action_contato_atendente"), ("cancelar", "action_cancelar")):
            assert any(r["steps"][:2] == [{"intent": intent}, {"action": action}] for r in mine), (form, intent)
        then = CATALOGUE.forms[form].then
        assert any({"action": then} in r["steps"] for r in mine), form
