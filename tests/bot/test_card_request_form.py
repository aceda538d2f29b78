"""The card-reissue form (segunda via da carteirinha) as the user meets it: whose card, the reason
from the CASSE list (and the police report only for a robbery with one), an optional note, the
summary before confirming and the request sent. Trackers built by hand, the backend's wrappers
faked (conftest.fake_backend)."""

from __future__ import annotations

import pytest
from tracker_support import JOAO, MARIA, PROTOCOL, conversation, slot_events, texts

from bot.actions.card_request import (
    NO_NOTE,
    ActionAskCarteirinhaConfirmar,
    ActionAskCarteirinhaMembro,
    ActionSolicitarCarteirinha,
    ValidateCarteirinhaForm,
)
from bot.actions.family import NOT_IN_FAMILY_TEXT
from bot.backend.card import CardRequestCreated, NewCardRequest
from bot.backend.common import Refusal

FORM = "carteirinha_form"
FOR_JOAO = {"carteirinha_membro": JOAO.card_number, "carteirinha_membro_nome": JOAO.name}


async def validate(dispatcher, domain, tracker) -> dict:
    return slot_events(await ValidateCarteirinhaForm().run(dispatcher, tracker, domain))


async def test_a_holder_with_dependents_is_asked_whose_card(dispatcher, domain, fake_backend):
    tracker = conversation(FORM, "perdi minha carteirinha", intent="solicitar_carteirinha")
    slots = await validate(dispatcher, domain, tracker)
    assert slots["requested_slot"] == "carteirinha_membro" and dispatcher.messages == []
    await ActionAskCarteirinhaMembro().run(dispatcher, conversation(FORM), domain)
    assert texts(dispatcher) == ["A segunda via é para quem?"]
    assert dispatcher.messages[0]["buttons"] == [
        {"title": "Maria", "payload": MARIA.card_number},
        {"title": "João", "payload": JOAO.card_number},
    ]


async def test_without_dependents_the_reason_is_asked_first(dispatcher, domain, fake_backend):
    tracker = conversation(FORM, "segunda via", intent="solicitar_carteirinha", dependents=0)
    assert (await validate(dispatcher, domain, tracker))["requested_slot"] == "carteirinha_motivo"


@pytest.mark.parametrize("answer", ["João", "joão pedro santos", JOAO.card_number, "1002 0030 0402"])
async def test_the_family_member_is_chosen_by_name_or_card(dispatcher, domain, fake_backend, answer):
    slots = await validate(dispatcher, domain, conversation(FORM, answer, requested="carteirinha_membro"))
    assert slots["carteirinha_membro"] == JOAO.card_number and slots["carteirinha_membro_nome"] == JOAO.name
    assert slots["requested_slot"] == "carteirinha_motivo" and dispatcher.messages == []


async def test_the_holder_is_chosen_with_eu(dispatcher, domain, fake_backend):
    slots = await validate(dispatcher, domain, conversation(FORM, "eu mesma", requested="carteirinha_membro"))
    assert slots["carteirinha_membro"] == MARIA.card_number


async def test_someone_outside_the_family_is_asked_again(dispatcher, domain, fake_backend):
    slots = await validate(dispatcher, domain, conversation(FORM, "Ricardo", requested="carteirinha_membro"))
    assert slots["carteirinha_membro"] is None and slots["requested_slot"] == "carteirinha_membro"
    assert texts(dispatcher) == [NOT_IN_FAMILY_TEXT]


async def test_a_lost_card_skips_the_police_report(dispatcher, domain, fake_backend):
    slots = await validate(dispatcher, domain, conversation(FORM, "perdi", requested="carteirinha_motivo", **FOR_JOAO))
    assert slots["carteirinha_motivo"] == "Extravio"
    assert slots["requested_slot"] == "carteirinha_obs"


async def test_a_robbery_asks_whether_there_is_a_police_report(dispatcher, domain, fake_backend):
    tracker = conversation(FORM, "roubaram minha carteira", requested="carteirinha_motivo", **FOR_JOAO)
    slots = await validate(dispatcher, domain, tracker)
    assert slots["carteirinha_motivo"] is None and slots["requested_slot"] == "carteirinha_motivo"
    assert texts(dispatcher) == ["Sinto muito pelo roubo. Você registrou boletim de ocorrência (B.O.)?"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["Roubo C/ B.O", "Roubo S/ B.O"]


async def test_a_robbery_with_a_report_asks_its_number(dispatcher, domain, fake_backend):
    tracker = conversation(FORM, "Roubo C/ B.O", requested="carteirinha_motivo", **FOR_JOAO)
    slots = await validate(dispatcher, domain, tracker)
    assert slots["carteirinha_motivo"] == "Roubo C/ B.O" and slots["requested_slot"] == "carteirinha_bo"


async def test_an_unknown_reason_lists_the_reasons(dispatcher, domain, fake_backend):
    tracker = conversation(FORM, "quero uma nova", requested="carteirinha_motivo", **FOR_JOAO)
    slots = await validate(dispatcher, domain, tracker)
    assert slots["carteirinha_motivo"] is None
    assert texts(dispatcher) == [
        "Não entendi o motivo. Escolha um destes: Danificação, Extravio, Renovação, Roubo C/ B.O, Roubo S/ B.O."
    ]


async def test_a_police_report_number_too_short_is_asked_again(dispatcher, domain, fake_backend):
    tracker = conversation(FORM, "12", requested="carteirinha_bo", carteirinha_motivo="Roubo C/ B.O", **FOR_JOAO)
    slots = await validate(dispatcher, domain, tracker)
    assert slots["carteirinha_bo"] is None and slots["requested_slot"] == "carteirinha_bo"
    assert texts(dispatcher) == ["Me mande o número do boletim de ocorrência, como está no documento."]


async def test_no_note_leads_to_the_summary(dispatcher, domain, fake_backend):
    tracker = conversation(
        FORM, "não", intent="negar", requested="carteirinha_obs", carteirinha_motivo="Extravio", **FOR_JOAO
    )
    slots = await validate(dispatcher, domain, tracker)
    assert slots["carteirinha_obs"] == NO_NOTE and slots["requested_slot"] == "carteirinha_confirmar"


async def test_a_note_too_long_is_refused(dispatcher, domain, fake_backend):
    tracker = conversation(FORM, "a" * 301, requested="carteirinha_obs", carteirinha_motivo="Extravio", **FOR_JOAO)
    slots = await validate(dispatcher, domain, tracker)
    assert slots["carteirinha_obs"] is None
    assert texts(dispatcher) == ["A observação ficou longa demais: use até 300 caracteres."]


async def test_the_summary_shows_the_report_and_leaves_out_an_empty_note(dispatcher, domain, fake_backend):
    tracker = conversation(
        FORM, carteirinha_motivo="Roubo C/ B.O", carteirinha_bo="2026/123456", carteirinha_obs=NO_NOTE, **FOR_JOAO
    )
    await ActionAskCarteirinhaConfirmar().run(dispatcher, tracker, domain)
    summary = (
        "Confere o pedido de segunda via?\n"
        "Carteirinha de: João Pedro Santos\n"
        "Motivo: Roubo C/ B.O\n"
        "Boletim de ocorrência: 2026/123456"
    )
    assert texts(dispatcher) == [summary]
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["Sim", "Não"]


async def test_the_confirmed_request_is_sent_and_its_protocol_shown(dispatcher, domain, fake_backend):
    fake_backend.card_request = CardRequestCreated(protocol=PROTOCOL, message="Pronto! Pedi uma nova carteirinha.")
    tracker = conversation(
        FORM,
        "sim",
        intent="afirmar",
        carteirinha_motivo="Roubo C/ B.O",
        carteirinha_bo="2026/123456",
        carteirinha_obs=NO_NOTE,
        carteirinha_confirmar=True,
        **FOR_JOAO,
    )
    events = await ActionSolicitarCarteirinha().run(dispatcher, tracker, domain)
    assert fake_backend.asked("request_card") == [
        NewCardRequest(reason="Roubo C/ B.O", beneficiary=JOAO.card_number, police_report="2026/123456", note=None)
    ]
    assert texts(dispatcher) == [f"Pronto! Pedi uma nova carteirinha.\nProtocolo: {PROTOCOL}."]
    assert slot_events(events)["carteirinha_motivo"] is None  # the flow's answers are forgotten


async def test_a_request_already_in_progress_shows_the_backends_message(dispatcher, domain, fake_backend):
    message = f"Já existe um pedido de carteirinha para João Pedro Santos em andamento: protocolo {PROTOCOL}."
    fake_backend.card_request = Refusal("already_requested", message, 409, {"protocol": PROTOCOL})
    tracker = conversation(
        FORM, "sim", intent="afirmar", carteirinha_motivo="Extravio", carteirinha_confirmar=True, **FOR_JOAO
    )
    await ActionSolicitarCarteirinha().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == [message]
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["Falar com atendente"]


async def test_an_expired_verification_asks_to_start_again(dispatcher, domain, fake_backend):
    fake_backend.card_request = Refusal("verification_invalid", "A confirmação dos seus dados expirou.", 401)
    tracker = conversation(
        FORM, "sim", intent="afirmar", carteirinha_motivo="Extravio", carteirinha_confirmar=True, **FOR_JOAO
    )
    events = await ActionSolicitarCarteirinha().run(dispatcher, tracker, domain)
    assert texts(dispatcher)[0].startswith("A confirmação dos seus dados expirou")
    slots = slot_events(events)
    assert slots["identidade_token"] is None and slots["identidade_info"] is None  # asked again next time


async def test_a_request_not_confirmed_is_not_sent(dispatcher, domain, fake_backend):
    tracker = conversation(
        FORM, "não", intent="negar", carteirinha_motivo="Extravio", carteirinha_confirmar=False, **FOR_JOAO
    )
    await ActionSolicitarCarteirinha().run(dispatcher, tracker, domain)
    assert fake_backend.asked("request_card") == []
    assert texts(dispatcher) == ["Tudo bem, não fiz o pedido. Se quiser recomeçar, é só pedir a segunda via de novo."]
