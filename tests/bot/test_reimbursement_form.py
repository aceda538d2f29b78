"""The reimbursement form as the user meets it, one message at a time: which question comes next,
what is kept, what the bot says about a bad answer, the summary before confirming and the request
sent. Trackers built by hand, the backend's wrappers faked (conftest.fake_backend)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tracker_support import JOAO, MARIA, PROTOCOL, conversation, slot_events, texts

from bot.actions.family import NOT_IN_FAMILY_TEXT
from bot.actions.reimbursement import (
    NO_FILE_YET_TEXT,
    ActionAskReembolsoConfirmar,
    ActionAskReembolsoMembro,
    ActionSolicitarReembolso,
    ValidateReembolsoForm,
)
from bot.backend.common import Refusal
from bot.backend.reimbursements import ReimbursementClaim
from common.clock import local_today

FORM = "reembolso_form"
PROVIDER_CPF = "52998224725"
SERVED = local_today() - timedelta(days=9)  # a recent consultation, whatever day the tests run
ANSWERED = {  # every answer up to the amount paid, as the form keeps them
    "reembolso_membro": JOAO.card_number,
    "reembolso_membro_nome": JOAO.name,
    "reembolso_prestador": "Clínica Dermacare",
    "reembolso_doc_prestador": PROVIDER_CPF,
    "reembolso_data": SERVED.isoformat(),
    "reembolso_data_texto": f"{SERVED:%d/%m/%Y}",
    "reembolso_descricao": "consulta com dermatologista",
    "reembolso_valor": "1250.00",
}
RECEIPT_SENT = [{"id": 7, "kind": "receipt", "filename": "recibo.pdf"}]


def attachment(file_id: str) -> dict:
    return {"attachments": [{"file_id": file_id, "content_type": "application/pdf", "filename": f"{file_id}.pdf"}]}


async def validate(dispatcher, domain, tracker) -> dict:
    return slot_events(await ValidateReembolsoForm().run(dispatcher, tracker, domain))


# --- whose care ------------------------------------------------------------------------------------


async def test_a_holder_with_dependents_is_asked_whose_care_it_was(dispatcher, domain, fake_backend):
    slots = await validate(dispatcher, domain, conversation(FORM, "quero reembolso", intent="solicitar_reembolso"))
    assert slots["requested_slot"] == "reembolso_membro"
    assert dispatcher.messages == []  # the identity is not asked again: the conversation is verified
    await ActionAskReembolsoMembro().run(dispatcher, conversation(FORM), domain)
    assert texts(dispatcher) == ["O atendimento foi de quem?"]
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["Maria", "João"]


async def test_without_dependents_the_provider_is_asked_first(dispatcher, domain, fake_backend):
    tracker = conversation(FORM, "quero reembolso", intent="solicitar_reembolso", dependents=0)
    assert (await validate(dispatcher, domain, tracker))["requested_slot"] == "reembolso_prestador"
    assert fake_backend.asked("family") == []


@pytest.mark.parametrize(
    "answer, person", [("João", JOAO), ("joao pedro santos", JOAO), (JOAO.card_number, JOAO), ("para mim", MARIA)]
)
async def test_the_family_member_is_chosen_by_name_card_or_for_me(dispatcher, domain, fake_backend, answer, person):
    slots = await validate(dispatcher, domain, conversation(FORM, answer, requested="reembolso_membro"))
    assert slots["reembolso_membro"] == person.card_number
    assert slots["reembolso_membro_nome"] == person.name
    assert slots["requested_slot"] == "reembolso_prestador"
    assert dispatcher.messages == []


async def test_someone_outside_the_family_is_asked_again(dispatcher, domain, fake_backend):
    slots = await validate(dispatcher, domain, conversation(FORM, "Pedro", requested="reembolso_membro"))
    assert slots["reembolso_membro"] is None and slots["requested_slot"] == "reembolso_membro"
    assert texts(dispatcher) == [NOT_IN_FAMILY_TEXT]


# --- the provider, date, description and amount -------------------------------------------------


async def test_the_provider_name_is_kept_tidy_and_its_document_asked_next(dispatcher, domain, fake_backend):
    tracker = conversation(
        FORM, "  Clínica   Dermacare ", requested="reembolso_prestador", reembolso_membro=JOAO.card_number
    )
    slots = await validate(dispatcher, domain, tracker)
    assert slots["reembolso_prestador"] == "Clínica Dermacare"
    assert slots["requested_slot"] == "reembolso_doc_prestador"


@pytest.mark.parametrize(
    "typed, says",
    [
        ("111.111.111-12", "Esse CPF não é válido: os dígitos verificadores não batem."),
        ("12.345.678/0001-00", "Esse CNPJ não é válido: os dígitos verificadores não batem."),
        ("123", "Você digitou 3 caracteres."),
    ],
)
async def test_an_invalid_cpf_or_cnpj_is_explained_and_asked_again(dispatcher, domain, fake_backend, typed, says):
    tracker = conversation(
        FORM, typed, requested="reembolso_doc_prestador", **ANSWERED | {"reembolso_doc_prestador": None}
    )
    slots = await validate(dispatcher, domain, tracker)
    assert slots["reembolso_doc_prestador"] is None and slots["requested_slot"] == "reembolso_doc_prestador"
    assert len(texts(dispatcher)) == 1 and texts(dispatcher)[0].startswith(says)


async def test_a_masked_cnpj_is_kept_bare_and_the_date_asked_next(dispatcher, domain, fake_backend):
    answered = {k: v for k, v in ANSWERED.items() if k in ("reembolso_membro", "reembolso_prestador")}
    tracker = conversation(FORM, "11.222.333/0001-81", requested="reembolso_doc_prestador", **answered)
    slots = await validate(dispatcher, domain, tracker)
    assert slots["reembolso_doc_prestador"] == "11222333000181"
    assert slots["requested_slot"] == "reembolso_data" and dispatcher.messages == []


async def test_a_date_in_the_future_is_refused(dispatcher, domain, fake_backend):
    tomorrow = local_today() + timedelta(days=1)
    tracker = conversation(
        FORM, f"{tomorrow:%d/%m/%Y}", requested="reembolso_data", **ANSWERED | {"reembolso_data": None}
    )
    slots = await validate(dispatcher, domain, tracker)
    assert slots["reembolso_data"] is None and slots["requested_slot"] == "reembolso_data"
    assert texts(dispatcher) == ["A data do atendimento não pode ser no futuro. Confira e digite de novo."]


async def test_a_past_date_is_kept_with_how_it_reads(dispatcher, domain, fake_backend):
    day = local_today() - timedelta(days=3)
    answered = {k: ANSWERED[k] for k in ("reembolso_membro", "reembolso_prestador", "reembolso_doc_prestador")}
    slots = await validate(
        dispatcher, domain, conversation(FORM, f"{day:%d/%m/%Y}", requested="reembolso_data", **answered)
    )
    assert slots["reembolso_data"] == day.isoformat() and slots["reembolso_data_texto"] == f"{day:%d/%m/%Y}"
    assert slots["requested_slot"] == "reembolso_descricao"


async def test_a_description_too_short_gets_an_example(dispatcher, domain, fake_backend):
    tracker = conversation(FORM, "ok", requested="reembolso_descricao", **ANSWERED | {"reembolso_descricao": None})
    slots = await validate(dispatcher, domain, tracker)
    assert slots["reembolso_descricao"] is None
    assert "por exemplo: consulta com dermatologista" in texts(dispatcher)[0]


@pytest.mark.parametrize("typed", ["0", "R$ 0,00"])
async def test_an_amount_of_zero_is_refused(dispatcher, domain, fake_backend, typed):
    tracker = conversation(FORM, typed, requested="reembolso_valor", **ANSWERED | {"reembolso_valor": None})
    slots = await validate(dispatcher, domain, tracker)
    assert slots["reembolso_valor"] is None and slots["requested_slot"] == "reembolso_valor"
    assert texts(dispatcher) == [
        "O valor precisa ser maior que zero. Digite só o valor, por exemplo: 150,00 ou R$ 1.250,00."
    ]


async def test_an_amount_as_people_type_it_is_kept_and_the_files_asked(dispatcher, domain, fake_backend):
    tracker = conversation(FORM, "R$ 1.250,00", requested="reembolso_valor", **ANSWERED | {"reembolso_valor": None})
    slots = await validate(dispatcher, domain, tracker)
    assert slots["reembolso_valor"] == "1250.00" and slots["requested_slot"] == "reembolso_anexos_ok"


# --- the files -----------------------------------------------------------------------------------


async def test_the_first_file_is_the_receipt_and_the_next_ones_other_documents(dispatcher, domain, fake_backend):
    first = conversation(FORM, "", metadata=attachment("recibo"), requested="reembolso_anexos_ok", **ANSWERED)
    slots = await validate(dispatcher, domain, first)
    assert slots["reembolso_anexos"] == [{"id": 101, "kind": "receipt", "filename": "recibo.pdf"}]
    assert slots["requested_slot"] == "reembolso_anexos_ok"  # more files, or "pronto"
    second = conversation(
        FORM,
        "",
        metadata=attachment("pedido"),
        requested="reembolso_anexos_ok",
        reembolso_anexos=slots["reembolso_anexos"],
        **ANSWERED,
    )
    slots = await validate(dispatcher, domain, second)
    assert [d["kind"] for d in slots["reembolso_anexos"]] == ["receipt", "other"]
    assert [call["kind"] for call in fake_backend.asked("attach_document")] == ["receipt", "other"]
    assert dispatcher.messages == []


async def test_a_file_the_backend_refuses_is_explained_and_the_others_kept(dispatcher, domain, fake_backend):
    refusal = Refusal("unsupported_type", "Esse tipo de arquivo não é aceito. Envie uma foto (JPG ou PNG) ou PDF.", 415)
    fake_backend.refused_files["planilha"] = refusal
    tracker = conversation(
        FORM,
        "",
        metadata=attachment("planilha"),
        requested="reembolso_anexos_ok",
        reembolso_anexos=RECEIPT_SENT,
        **ANSWERED,
    )
    slots = await validate(dispatcher, domain, tracker)
    assert texts(dispatcher) == [refusal.message]  # the backend's words
    assert slots["reembolso_anexos"] == RECEIPT_SENT  # still in the events: the form answers
    assert slots["requested_slot"] == "reembolso_anexos_ok"


async def test_done_without_any_file_asks_for_the_receipt(dispatcher, domain, fake_backend):
    tracker = conversation(FORM, "pronto", intent="afirmar", requested="reembolso_anexos_ok", **ANSWERED)
    slots = await validate(dispatcher, domain, tracker)
    assert texts(dispatcher) == [NO_FILE_YET_TEXT]
    assert "reembolso_anexos_ok" not in slots and slots["requested_slot"] == "reembolso_anexos_ok"


async def test_done_with_the_receipt_leads_to_the_summary(dispatcher, domain, fake_backend):
    tracker = conversation(
        FORM, "pronto", intent="afirmar", requested="reembolso_anexos_ok", reembolso_anexos=RECEIPT_SENT, **ANSWERED
    )
    slots = await validate(dispatcher, domain, tracker)
    assert slots["reembolso_anexos_ok"] is True and slots["requested_slot"] == "reembolso_confirmar"
    await ActionAskReembolsoConfirmar().run(
        dispatcher, conversation(FORM, reembolso_anexos=RECEIPT_SENT, reembolso_anexos_ok=True, **ANSWERED), domain
    )
    summary = (
        "Confere o pedido de reembolso?\n"
        "Atendimento de: João Pedro Santos\n"
        "Prestador: Clínica Dermacare (***.982.247-**)\n"  # the provider's CPF, masked
        f"Data: {SERVED:%d/%m/%Y}\n"
        "O que foi feito: consulta com dermatologista\n"
        "Valor pago: R$ 1.250,00\n"
        "Arquivos: recibo.pdf"
    )
    assert texts(dispatcher) == [summary]
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["Sim", "Não"]


# --- the identity, when the conversation is not verified yet --------------------------------------


async def test_the_identity_is_checked_as_soon_as_it_is_complete(dispatcher, domain, fake_backend):
    tracker = conversation(
        FORM,
        "12/03/1985",
        entities=[{"entity": "data", "value": "12/03/1985"}],
        requested="data_nascimento",
        candidates={"data_nascimento": "12/03/1985"},  # Rasa's from_entity mapping took it
        verified=False,
        login="100200300401",
        cpf="94580730224",
    )
    slots = await validate(dispatcher, domain, tracker)
    (claim,) = fake_backend.asked("verify_identity")
    assert (claim.login, claim.cpf, claim.birth_date, claim.channel) == (
        "100200300401",
        "94580730224",
        "1985-03-12",
        "socketio",
    )
    assert slots["identidade_token"] == "tok-123" and slots["identidade_info"]["channel"] == "socketio"
    assert slots["requested_slot"] == "reembolso_membro"  # a holder with a dependent


async def test_an_identity_that_does_not_match_asks_the_cpf_again(dispatcher, domain, fake_backend):
    fake_backend.verification = Refusal(
        "identity_not_confirmed", "Não consegui confirmar seus dados.", 401, {"attempts_left": 2}
    )
    tracker = conversation(
        FORM,
        "12/03/1985",
        entities=[{"entity": "data", "value": "12/03/1985"}],
        requested="data_nascimento",
        candidates={"data_nascimento": "12/03/1985"},
        verified=False,
        login="100200300401",
        cpf="94580730224",
    )
    slots = await validate(dispatcher, domain, tracker)
    assert slots["cpf"] is None and slots["data_nascimento"] is None and slots["requested_slot"] == "cpf"
    (said,) = texts(dispatcher)
    assert said.startswith("Esses dados não conferem com o nosso cadastro.")
    assert "depois de mais 2 tentativa(s) erradas" in said


# --- the request ---------------------------------------------------------------------------------


async def test_the_confirmed_request_is_sent_with_every_answer(dispatcher, domain, fake_backend):
    tracker = conversation(
        FORM, "sim", intent="afirmar", reembolso_anexos=RECEIPT_SENT, reembolso_confirmar=True, **ANSWERED
    )
    events = await ActionSolicitarReembolso().run(dispatcher, tracker, domain)
    assert fake_backend.asked("request_reimbursement") == [
        ReimbursementClaim(
            provider_name="Clínica Dermacare",
            provider_document=PROVIDER_CPF,
            service_date=SERVED.isoformat(),
            description="consulta com dermatologista",
            amount="1250.00",
            document_ids=(7,),
            beneficiary=JOAO.card_number,
        )
    ]
    received = (
        f"Pedido de reembolso recebido!\nProtocolo {PROTOCOL}. Resposta em até 30 dias.\n"
        'Para acompanhar, é só escrever "como está meu reembolso".'
    )
    assert texts(dispatcher) == [received]
    assert slot_events(events)["reembolso_valor"] is None  # the flow's answers are forgotten


async def test_a_request_the_backend_refuses_shows_its_message_and_a_person(dispatcher, domain, fake_backend):
    fake_backend.reimbursement = Refusal("plan_cancelled", "O plano está cancelado, então não é possível...", 409)
    tracker = conversation(
        FORM, "sim", intent="afirmar", reembolso_anexos=RECEIPT_SENT, reembolso_confirmar=True, **ANSWERED
    )
    await ActionSolicitarReembolso().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["O plano está cancelado, então não é possível..."]
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["Falar com atendente"]


async def test_a_request_not_confirmed_is_not_sent(dispatcher, domain, fake_backend):
    tracker = conversation(
        FORM, "não", intent="negar", reembolso_anexos=RECEIPT_SENT, reembolso_confirmar=False, **ANSWERED
    )
    await ActionSolicitarReembolso().run(dispatcher, tracker, domain)
    assert fake_backend.asked("request_reimbursement") == []
    assert texts(dispatcher) == ["Tudo bem, não enviei o pedido. Se quiser recomeçar, é só pedir reembolso de novo."]
