"""Which request a company conversation means: "fatura" alone is the company's invoices and "protocolo N da
empresa" the company's own protocol when the conversation has a company session
(bot/actions/company_routing.py), and switching requests in the
middle of the company identity keeps the user code and the CNPJ typed (never the one-time code)."""

from __future__ import annotations

import pytest
import yaml
from company_chat_support import CNPJ_DIGITS, FakeCompanyBackend, company_verified, install
from form_turns import form_turn
from rasa_sdk.executor import CollectingDispatcher
from tracker_support import conversation, slot_events

from bot.actions.company_identity import ValidateEmpresaIdentidadeForm
from bot.actions.company_movements import ValidateEmpresaInclusaoForm
from bot.actions.company_routing import (
    ActionFaturaQuem,
    ActionProtocoloQuem,
    company_invoice_intent,
    company_protocol_intent,
)
from bot.actions.conversation import ActionTrocarPedido


@pytest.fixture
def company_backend(monkeypatch, fake_backend) -> FakeCompanyBackend:
    return install(monkeypatch)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("fatura", "empresa_faturas"),
        ("faturas", "empresa_faturas"),
        ("2a via da fatura", "empresa_segunda_via_fatura"),
        ("segunda via da fatura", "empresa_segunda_via_fatura"),
        ("meu boleto", None),
        ("minha mensalidade", None),
    ],
)
def test_the_words_that_name_the_companys_invoice(text, intent):
    assert company_invoice_intent(text) == intent


async def test_fatura_alone_in_a_company_conversation_is_the_companys(domain):
    tracker = conversation(None, "2a via da fatura", intent="segunda_via_boleto", verified=False, **company_verified())
    events = await ActionFaturaQuem().run(CollectingDispatcher(), tracker, domain)
    listen, user = events
    assert listen["name"] == "action_listen"
    assert user["parse_data"]["intent"]["name"] == "empresa_segunda_via_fatura" and user["text"] == "2a via da fatura"


async def test_the_beneficiarys_own_bill_goes_on_as_the_plan_service(domain):
    tracker = conversation(None, "meu boleto", intent="segunda_via_boleto", verified=False, **company_verified())
    events = await ActionFaturaQuem().run(CollectingDispatcher(), tracker, domain)
    assert slot_events(events)["servico"] == {"intent": "segunda_via_boleto", "values": {}}
    assert events[-1] == {"event": "followup", "name": "identidade_form", "timestamp": None}


async def test_a_company_session_of_another_channel_is_not_a_company_conversation(domain):
    slots = company_verified()
    slots["empresa_info"]["channel"] = "whatsapp"
    tracker = conversation(None, "fatura", intent="mensalidades", verified=False, **slots)
    events = await ActionFaturaQuem().run(CollectingDispatcher(), tracker, domain)
    assert events[-1]["name"] == "identidade_form"


def test_the_rule_runs_only_in_a_company_conversation():
    with open("bot/data/rules_empresa.yml", encoding="utf-8") as file:
        rules = yaml.safe_load(file)["rules"]
    for action in ("action_fatura_quem", "action_protocolo_quem"):
        [rule] = [r for r in rules if {"action": action} in r["steps"]]
        assert rule["condition"] == [{"slot_was_set": [{"empresa_sessao": True}]}]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("acompanhar o protocolo 41901020261125000001 da empresa", "empresa_protocolos"),
        ("status do protocolo da movimentacao 41901020261125000001", "empresa_protocolos"),
        ("protocolo do RH 41901020261125000001?", "empresa_protocolos"),
        ("consultar protocolo 41901020261125000001", None),
        ("meu protocolo de reembolso", None),
    ],
)
def test_the_words_that_name_the_companys_protocol(text, intent):
    assert company_protocol_intent(text) == intent


async def test_a_protocol_of_the_company_in_a_company_conversation_is_the_companys_lookup(domain):
    text = "acompanhar o protocolo 41901020261125000001 da empresa"
    entities = [{"entity": "protocolo", "value": "41901020261125000001"}]
    tracker = conversation(
        None, text, intent="consultar_protocolo", entities=entities, verified=False, **company_verified()
    )
    listen, user = await ActionProtocoloQuem().run(CollectingDispatcher(), tracker, domain)
    assert listen["name"] == "action_listen"
    assert user["parse_data"]["intent"]["name"] == "empresa_protocolos"
    assert user["parse_data"]["entities"] == entities  # the number goes with it


async def test_any_other_protocol_lookup_goes_on_as_the_public_one(domain):
    plain = conversation(
        None, "consultar protocolo", intent="consultar_protocolo", verified=False, **company_verified()
    )
    assert await ActionProtocoloQuem().run(CollectingDispatcher(), plain, domain) == [
        {"event": "followup", "name": "protocolo_form", "timestamp": None}
    ]
    slots = company_verified()
    slots["empresa_info"]["channel"] = "whatsapp"  # a company session of another channel: not this one's
    other = conversation(None, "protocolo da empresa", intent="consultar_protocolo", verified=False, **slots)
    events = await ActionProtocoloQuem().run(CollectingDispatcher(), other, domain)
    assert events[-1]["name"] == "protocolo_form"


async def test_the_verification_marks_the_conversation_as_the_companys(domain, company_backend):
    tracker = conversation(
        "empresa_identidade_form",
        "482913",
        requested="empresa_codigo",
        verified=False,
        empresa_usuario="RH500101",
        empresa_cnpj=CNPJ_DIGITS,
        empresa_codigo_enviado=True,
    )
    turn = await form_turn(ValidateEmpresaIdentidadeForm(), domain, tracker)
    assert turn.slots["empresa_token"] and turn.slots["empresa_sessao"] is True


async def test_a_switch_in_the_middle_of_the_company_identity_keeps_what_was_typed(domain, company_backend):
    typed = {"empresa_usuario": "RH500101", "empresa_cnpj": CNPJ_DIGITS, "empresa_codigo_enviado": True}
    tracker = conversation(
        "empresa_identidade_form",
        "na verdade quero incluir um funcionario",
        intent="empresa_incluir_beneficiario",
        requested="empresa_codigo",
        verified=False,
        empresa_codigo="111111",
        empresa_servico={"intent": "empresa_faturas", "values": {}},
        **typed,
    )
    events = await ActionTrocarPedido().run(CollectingDispatcher(), tracker, domain)
    slots = {}
    for event in events:
        if event.get("event") == "slot":
            slots[event["name"]] = event["value"]
    assert {name: slots[name] for name in typed} == typed
    assert slots["empresa_codigo"] is None and slots["empresa_servico"] is None
    # the new form asks for the code already e-mailed: nothing typed again, no second code sent
    after = conversation(
        "empresa_inclusao_form",
        "na verdade quero incluir um funcionario",
        intent="empresa_incluir_beneficiario",
        verified=False,
        **typed,
    )
    turn = await form_turn(ValidateEmpresaInclusaoForm(), domain, after)
    assert turn.asked == "utter_ask_empresa_codigo"
    assert company_backend.asked("request_code") == []
