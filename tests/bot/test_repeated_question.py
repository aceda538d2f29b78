"""No question of any form is asked a third time unchanged: the validation of every
form counts how many times in a row it asks the same question (`pergunta_vezes`), and the third ask
is rephrased, with an example of what to type, buttons ("Falar com atendente", "Cancelar", and the
valid options where there are) — from the domain's conditional variations or the custom ask actions.
A message the form cannot use is still left to the dialogue rules (the form is rejected), and the
count starts again with another question and is forgotten when the flow ends."""

from __future__ import annotations

from typing import Any

import pytest
from form_turns import ASK_ACTIONS, ask, ask_name, form_turn
from tracker_support import JOAO, MARIA, conversation

from bot.actions.card_request import ValidateCarteirinhaForm
from bot.actions.flow_reset import FLOW_SLOTS, end_flow_events
from bot.actions.network import ValidateRedeForm
from bot.actions.password_reset import ValidateEsqueciSenhaForm
from bot.actions.protocol_lookup import ValidateProtocoloForm
from bot.actions.registration import ValidateCadastroForm
from bot.actions.reimbursement import ValidateReembolsoForm
from bot.actions.repeated_question import ASKED_SLOT, REPHRASE_AT

ESCAPE = ["Falar com atendente", "Cancelar"]
OR_HUMAN = ' Se preferir, toque em "Falar com atendente".'
CPF_AGAIN = (
    "Vamos de novo: o CPF tem 11 números. Pode escrever com ou sem pontos, por exemplo: 123.456.789-09 ou "
    "12345678909." + OR_HUMAN
)
CITY_AGAIN = "Vamos de novo: escreva só o nome da cidade onde você quer ser atendido, por exemplo: Aracaju." + OR_HUMAN
WHOSE_CARD_AGAIN = (
    "Me diga de quem é a carteirinha que precisa de segunda via: toque no nome da pessoa ou escreva o "
    "primeiro nome dela, por exemplo: João."
)
EMAIL_AGAIN = (
    "Só preciso saber se o e-mail do cadastro, m***@exemplo.com.br, ainda é seu: toque em Sim ou em Não. "
    "Se o seu e-mail agora é outro, pode escrever o novo, por exemplo: nome@provedor.com.br."
)
MARIA_CARD = MARIA.card_number


def again(times: float | None = None, **slots: Any) -> dict[str, Any]:
    return {ASKED_SLOT: times, **slots}


# --- a question answered wrong, again and again ----------------------------------------------------


async def test_the_cpf_refused_twice_is_asked_the_third_time_in_other_words_with_a_human(domain, fake_backend):
    form = ValidateEsqueciSenhaForm()
    start = await form_turn(form, domain, conversation("esqueci_senha_form", "esqueci minha senha", verified=False))
    assert start.slots[ASKED_SLOT] == 1 and start.asked == "utter_ask_login"
    card = await form_turn(
        form,
        domain,
        conversation("esqueci_senha_form", MARIA_CARD, requested="login", verified=False, **again(1)),
    )
    assert card.slots["requested_slot"] == "cpf" and card.slots[ASKED_SLOT] == 1  # another question: counted anew
    assert all(buttons == [] for buttons in card.question_buttons)

    first = await form_turn(
        form,
        domain,
        conversation("esqueci_senha_form", "123", requested="cpf", verified=False, login=MARIA_CARD, **again(1)),
    )
    assert first.slots[ASKED_SLOT] == 2 and first.asked == "utter_ask_cpf"
    assert "CPF" in first.texts[0]  # why it was refused
    assert all(buttons == [] for buttons in first.question_buttons)  # the second time: the usual question
    assert all(not text.startswith("Vamos de novo") for text in first.question_texts)

    second = await form_turn(
        form,
        domain,
        conversation("esqueci_senha_form", "4567", requested="cpf", verified=False, login=MARIA_CARD, **again(2)),
    )
    assert second.slots[ASKED_SLOT] == REPHRASE_AT
    assert "CPF" in second.texts[0]
    assert second.question_texts == [CPF_AGAIN]
    assert second.question_buttons == [ESCAPE]
    assert second.question[0]["buttons"][0]["payload"] == "/falar_com_atendente"
    assert second.question[0]["buttons"][1]["payload"] == "/cancelar"

    third = await form_turn(
        form,
        domain,
        conversation("esqueci_senha_form", "89", requested="cpf", verified=False, login=MARIA_CARD, **again(3)),
    )
    assert third.slots[ASKED_SLOT] == REPHRASE_AT and third.question_buttons == [ESCAPE]  # never back to the plain one


async def test_registration_rephrases_the_cpf_with_the_no_cpf_option(domain, fake_backend):
    tracker = conversation("cadastro_form", "12", requested="cpf", verified=False, login=MARIA_CARD, **again(2))
    turn = await form_turn(ValidateCadastroForm(), domain, tracker)
    assert turn.asked == "utter_ask_cadastro_form_cpf"
    assert turn.question_buttons == [["Não possuo CPF", *ESCAPE]]
    assert 'toque em "Não possuo CPF"' in turn.question_texts[0]


async def test_the_network_search_counts_too_and_offers_specialties(domain):
    form = ValidateRedeForm()
    start = await form_turn(form, domain, conversation("rede_form", "quero um médico", intent="rede_credenciada"))
    assert start.slots[ASKED_SLOT] == 1 and start.asked == "utter_ask_especialidade"
    turn = await form_turn(form, domain, conversation("rede_form", "x", requested="especialidade", **again(1)))
    assert turn.slots[ASKED_SLOT] == 2
    assert turn.texts == [
        "Me diga a especialidade em poucas palavras, por exemplo: cardiologista, pediatra ou dentista."
    ]
    turn = await form_turn(form, domain, conversation("rede_form", "y", requested="especialidade", **again(2)))
    assert turn.slots[ASKED_SLOT] == REPHRASE_AT
    assert turn.question_buttons == [["Cardiologia", "Pediatria", "Dermatologia", *ESCAPE]]
    assert turn.question_texts[0].startswith("Vamos de novo: escreva só a especialidade")
    # the answer then moves on, and the city is a new question
    turn = await form_turn(form, domain, conversation("rede_form", "pediatra", requested="especialidade", **again(3)))
    assert (
        turn.slots["especialidade"] == "pediatra" and turn.slots[ASKED_SLOT] == 1 and turn.asked == "utter_ask_cidade"
    )


async def test_a_protocol_of_the_wrong_length_three_times(domain):
    form = ValidateProtocoloForm()
    turn = await form_turn(form, domain, conversation("protocolo_form", "12345", requested="protocolo", **again(2)))
    assert turn.texts == ["O protocolo tem 20 números e você mandou 5. Confira e mande de novo."]
    assert turn.slots[ASKED_SLOT] == REPHRASE_AT and turn.question_buttons == [ESCAPE]
    assert "por exemplo: 20260305123456789012" in turn.question_texts[0]


async def test_the_card_reason_rephrased_keeps_the_reasons_as_buttons(domain, fake_backend):
    tracker = conversation(
        "carteirinha_form",
        "sei lá",
        requested="carteirinha_motivo",
        carteirinha_membro=JOAO.card_number,
        carteirinha_membro_nome=JOAO.name,
        **again(2),
    )
    turn = await form_turn(ValidateCarteirinhaForm(), domain, tracker)
    assert turn.texts[0].startswith("Não entendi o motivo.")
    assert turn.question_buttons == [
        ["Danificação", "Extravio (perdi)", "Renovação", "Roubo com B.O.", "Roubo sem B.O.", *ESCAPE]
    ]


# --- the custom questions ------------------------------------------------------------------------


async def test_whose_card_asked_the_third_time(domain, fake_backend):
    tracker = conversation("carteirinha_form", "Ricardo", requested="carteirinha_membro", **again(2))
    turn = await form_turn(ValidateCarteirinhaForm(), domain, tracker)
    assert turn.texts == [
        "Não encontrei essa pessoa no seu plano. Toque em um dos nomes ou mande o número da carteirinha dela."
    ]
    assert turn.question_texts == [WHOSE_CARD_AGAIN]
    assert turn.question_buttons == [["Maria", "João", *ESCAPE]]


async def test_whose_care_asked_the_third_time(domain, fake_backend):
    tracker = conversation("reembolso_form", "Ricardo", requested="reembolso_membro", **again(2))
    turn = await form_turn(ValidateReembolsoForm(), domain, tracker)
    assert turn.question_texts[0].startswith("Me diga quem foi atendido")
    assert turn.question_buttons == [["Maria", "João", *ESCAPE]]


async def test_the_email_question_asked_the_third_time(domain, fake_backend):
    tracker = conversation(
        "esqueci_senha_form", "hein?", intent="nlu_fallback", requested="email_confirmado", **again(2)
    )
    # a message the form cannot use goes to the dialogue rules ("não entendi"); the form asks again after it
    turn = await form_turn(ValidateEsqueciSenhaForm(), domain, tracker)
    assert turn.rejected and ASKED_SLOT not in turn.slots
    tracker = conversation(
        "esqueci_senha_form", "hein?", intent="nlu_fallback", requested="email_confirmado", **again(2)
    )
    tracker.events += [{"event": "action", "name": "action_fallback"}, {"event": "bot", "text": "Desculpe..."}]
    tracker.events += [{"event": "action", "name": "esqueci_senha_form"}]
    turn = await form_turn(ValidateEsqueciSenhaForm(), domain, tracker)
    assert turn.slots[ASKED_SLOT] == REPHRASE_AT
    assert turn.question_texts == [EMAIL_AGAIN]
    assert turn.question_buttons == [["Sim", "Não", *ESCAPE]]


async def test_the_registration_email_question_asked_the_third_time(domain, fake_backend):
    tracker = conversation("cadastro_form", requested="email_confirmado", **again(3))
    tracker.slots["identidade_info"] = {**tracker.slots["identidade_info"], "has_account": False}
    name, question = await ask(domain, "cadastro_form", "email_confirmado", tracker)
    assert name == "action_ask_cadastro_form_email_confirmado"
    assert question[0]["text"].startswith("Só preciso saber se posso mandar o link de ativação")
    assert [b["title"] for b in question[0]["buttons"]] == ["Sim", "Não", *ESCAPE]


@pytest.mark.parametrize(
    ("form", "slot", "starts"),
    [
        ("carteirinha_form", "carteirinha_confirmar", "Está tudo certo no pedido abaixo?"),
        ("reembolso_form", "reembolso_confirmar", "Está tudo certo no pedido abaixo?"),
        ("reembolso_form", "reembolso_anexos_ok", "Para seguir, preciso do recibo ou da nota fiscal"),
    ],
)
async def test_the_summaries_and_the_files_asked_the_third_time(domain, fake_backend, form, slot, starts):
    answered = {
        "carteirinha_motivo": "Extravio",
        "reembolso_prestador": "Clínica Vida",
        "reembolso_doc_prestador": "11222333000181",
        "reembolso_data_texto": "05/03/2026",
        "reembolso_descricao": "consulta",
        "reembolso_valor": "250.00",
        "reembolso_anexos": []
        if slot == "reembolso_anexos_ok"
        else [{"id": 1, "kind": "receipt", "filename": "r.pdf"}],
    }
    name, question = await ask(domain, form, slot, conversation(form, requested=slot, **answered, **again(3)))
    assert name in ASK_ACTIONS
    assert question[0]["text"].startswith(starts)
    assert [b["title"] for b in question[0]["buttons"]][-2:] == ESCAPE
    # the first and second time, the usual question, without the human and cancel buttons
    _, plain = await ask(domain, form, slot, conversation(form, requested=slot, **answered, **again(2)))
    assert (
        not plain[0]["text"].startswith(starts) and [b["title"] for b in plain[0].get("buttons") or []][-2:] != ESCAPE
    )


def test_every_question_of_every_form_has_its_rephrased_third_ask(domain):
    """The utter_ask_* responses: a variation for `pergunta_vezes` 3 with the human and cancel buttons,
    unlike the others; the custom ask actions are tested above."""
    missing = []
    for form, definition in domain["forms"].items():
        for slot in definition["required_slots"]:
            name = ask_name(domain, form, slot)
            if name.startswith("action_"):
                assert name in ASK_ACTIONS, name
                continue
            variations = domain["responses"][name]
            third = [v for v in variations if v.get("condition")]
            plain = [v for v in variations if not v.get("condition")]
            ok = (
                len(third) == 1
                and third[0]["condition"] == [{"type": "slot", "name": ASKED_SLOT, "value": REPHRASE_AT}]
                and [b["title"] for b in third[0]["buttons"]][-2:] == ESCAPE
                and third[0]["text"] not in [v["text"] for v in plain]
                and all(ESCAPE[0] not in [b["title"] for b in v.get("buttons") or []] for v in plain)
            )
            if not ok:
                missing.append(name)
    assert missing == []


# --- what is counted -----------------------------------------------------------------------------


async def test_a_message_that_fills_nothing_is_left_to_the_rules(domain, fake_backend):
    """ "cancelar", "é um robô?": the form must be rejected so that the rule answers; no count is set."""
    tracker = conversation(
        "rede_form", "cancelar", intent="cancelar", requested="cidade", especialidade="pediatra", **again(1)
    )
    turn = await form_turn(ValidateRedeForm(), domain, tracker)
    assert turn.rejected and turn.slots == {}


async def test_the_question_asked_again_after_a_digression_counts(domain, fake_backend):
    tracker = conversation(
        "rede_form", "você é um robô?", intent="pergunta_robo", requested="cidade", especialidade="pediatra", **again(2)
    )
    tracker.events += [
        {"event": "action", "name": "utter_pergunta_robo"},
        {"event": "bot", "text": "Sim, sou um assistente virtual."},
        {"event": "slot", "name": "requested_slot", "value": "cidade"},
        {"event": "action", "name": "rede_form"},
    ]
    turn = await form_turn(ValidateRedeForm(), domain, tracker)
    assert turn.slots[ASKED_SLOT] == REPHRASE_AT and turn.asked == "utter_ask_cidade"
    assert turn.question_texts == [CITY_AGAIN]


async def test_the_count_ends_with_the_form(domain, fake_backend):
    tracker = conversation("protocolo_form", "20260305123456789012", requested="protocolo", **again(2))
    turn = await form_turn(ValidateProtocoloForm(), domain, tracker)
    assert turn.slots["protocolo"] == "20260305123456789012" and turn.slots[ASKED_SLOT] is None
    assert ASKED_SLOT in FLOW_SLOTS  # and every flow's end forgets it, whatever ended it
    ended = {
        e["name"]: e["value"]
        for e in end_flow_events(conversation("rede_form", **again(3)))
        if e.get("event") == "slot"
    }
    assert ended[ASKED_SLOT] is None
