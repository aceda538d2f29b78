"""A value typed in answer to a yes/no about that value counts.

"Esse e-mail ainda é seu? m***@exemplo.com.br": typing the e-mail itself no longer repeats the
question. The bot only has the masked address, and never shows more:
- the address the identity was verified with (an e-mail login, matched by the backend) is a yes;
- one that does not fit the mask is a no plus the new e-mail (`email_novo`): the password reset
  goes on to the e-mail change, which asks only the name and the confirmation of that address;
  the registration asks only the confirmation;
- one that fits the mask cannot be told from the one on file by the bot: the registration sends it
  to the backend (the activation link goes to the address on file when it is the same); the password
  reset asks once, in other words, whether the address on file is still theirs.
"isso não é meu e-mail" / "não é mais esse" is a no, whatever NLU made of it. And in answer to a
summary (card request, reimbursement), another member of the family named changes the summary."""

from __future__ import annotations

import pytest
from form_turns import form_turn
from tracker_support import JOAO, MARIA, TOKEN, conversation, slot_events, texts

from bot.actions.card_request import ValidateCarteirinhaForm
from bot.actions.email_change import ValidateAlterarEmailForm
from bot.actions.email_confirmation import fits_mask
from bot.actions.password_reset import (
    CANNOT_COMPARE_TEXT,
    UPDATE_EMAIL_FIRST_TEXT,
    ActionEsqueciSenha,
    ValidateEsqueciSenhaForm,
)
from bot.actions.registration import ActionCadastro, ValidateCadastroForm
from bot.actions.reimbursement import ValidateReembolsoForm
from bot.backend import password_reset, registration
from bot.backend.password_reset import PasswordReset
from bot.backend.registration import Registration

RESET = "esqueci_senha_form"
REGISTRATION = "cadastro_form"
MASKED = "m***@exemplo.com.br"
ON_FILE = "maria.santos@exemplo.com.br"  # what the backend has; the bot only ever sees MASKED
NOT_REGISTERED = {"has_account": False}
PROTOCOL = "2026" + "2" * 16


def verified_with(tracker, login: str):
    """The conversation's verification was made in this flow with `login` (as the form keeps it)."""
    tracker.events[:0] = [
        {"event": "slot", "name": "login", "value": login},
        {"event": "slot", "name": "identidade_token", "value": TOKEN},
    ]
    tracker.slots["login"] = login
    return tracker


def asking_the_email(form: str, text: str, *, intent: str = "informar", **slots):
    tracker = conversation(form, text, intent=intent, requested="email_confirmado", **slots)
    if form == REGISTRATION:
        tracker.slots["identidade_info"] = {**tracker.slots["identidade_info"], **NOT_REGISTERED}
    return tracker


@pytest.fixture
def resets(monkeypatch):
    asked = []

    async def request_password_reset(caller):
        asked.append(caller)
        return PasswordReset(protocol=PROTOCOL, email_masked=MASKED, repeated=False)

    monkeypatch.setattr(password_reset, "request_password_reset", request_password_reset)
    return asked


@pytest.fixture
def registrations(monkeypatch):
    asked = []

    async def register(caller, email=None):
        asked.append(email)
        return Registration(protocol=PROTOCOL, email_masked=MASKED, repeated=False)

    monkeypatch.setattr(registration, "register", register)
    return asked


# --- the password reset ----------------------------------------------------------------------------


async def test_the_email_the_identity_was_checked_with_is_a_yes(domain, fake_backend, dispatcher, resets):
    # Rasa's mapping also puts the address in `login` (esqueci_senha_form takes an e-mail login at any time)
    tracker = asking_the_email(
        RESET, ON_FILE, entities=[{"entity": "email", "value": ON_FILE}], candidates={"login": ON_FILE}
    )
    tracker = verified_with(tracker, ON_FILE)
    turn = await form_turn(ValidateEsqueciSenhaForm(), domain, tracker)
    assert turn.slots["email_confirmado"] is True and turn.slots["requested_slot"] is None  # no question again
    assert turn.said == [] and turn.question == []
    done = conversation(RESET, ON_FILE, email_confirmado=True)
    await ActionEsqueciSenha().run(dispatcher, done, domain)
    assert len(resets) == 1 and texts(dispatcher)[0].startswith(
        f"Pronto! Enviei uma senha temporária para o seu e-mail {MASKED}."
    )


async def test_an_email_typed_later_is_not_taken_for_the_one_the_identity_was_checked_with(domain, fake_backend):
    """The `login` slot now holds what was typed (Rasa's mapping): only its value at the check counts."""
    card = verified_with(
        asking_the_email(RESET, "mateus@exemplo.com.br", candidates={"login": "mateus@exemplo.com.br"}),
        MARIA.card_number,
    )
    turn = await form_turn(ValidateEsqueciSenhaForm(), domain, card)
    assert turn.slots["email_confirmado"] is None and turn.question_texts == [CANNOT_COMPARE_TEXT.format(email=MASKED)]


@pytest.mark.parametrize("typed", ["Maria.Santos@Exemplo.com.br", f"é esse: {ON_FILE}"])
async def test_the_same_email_typed_differently_is_a_yes(domain, fake_backend, typed):
    tracker = verified_with(asking_the_email(RESET, typed), ON_FILE)
    turn = await form_turn(ValidateEsqueciSenhaForm(), domain, tracker)
    assert turn.slots["email_confirmado"] is True and turn.question == []


async def test_another_email_is_a_no_and_goes_on_to_the_email_change(domain, fake_backend, dispatcher, resets):
    new = "maria.nova@gmail.com"
    tracker = asking_the_email(RESET, new, entities=[{"entity": "email", "value": new}], candidates={"login": new})
    turn = await form_turn(ValidateEsqueciSenhaForm(), domain, tracker)
    assert turn.slots["email_confirmado"] is False and turn.slots["email_novo"] == new
    assert turn.slots["requested_slot"] is None and turn.question == []  # the reset ends here

    events = await ActionEsqueciSenha().run(
        dispatcher, conversation(RESET, new, email_confirmado=False, email_novo=new), domain
    )
    assert resets == [] and texts(dispatcher) == [UPDATE_EMAIL_FIRST_TEXT]
    carried = slot_events(events)
    assert carried["proximo_fluxo"] == "alterar_email" and carried["email_novo"] == new  # set after the flow's end

    # the e-mail change (rule "e-mail desatualizado leva à troca de e-mail") asks the name, then only the confirmation
    change = ValidateAlterarEmailForm()
    start = conversation("alterar_email_form", new, proximo_fluxo="alterar_email", email_novo=new)
    turn = await form_turn(change, domain, start)
    assert turn.slots["requested_slot"] == "nome_completo" and turn.asked == "utter_ask_nome_completo"
    named = conversation("alterar_email_form", "Maria Aparecida Santos", requested="nome_completo", email_novo=new)
    turn = await form_turn(change, domain, named)
    assert turn.slots["requested_slot"] == "email_confirmacao" and turn.asked == "utter_ask_email_confirmacao"
    confirmed = conversation(
        "alterar_email_form", new, requested="email_confirmacao", nome_completo="Maria Aparecida Santos", email_novo=new
    )
    turn = await form_turn(change, domain, confirmed)
    assert turn.slots["email_confirmacao"] == new and turn.slots["requested_slot"] is None


async def test_an_email_that_fits_the_mask_is_asked_about_once_in_other_words(domain, fake_backend, dispatcher, resets):
    """The bot cannot tell mateus@exemplo.com.br from the address on file: it asks, without showing more."""
    typed = "mateus@exemplo.com.br"
    turn = await form_turn(ValidateEsqueciSenhaForm(), domain, asking_the_email(RESET, typed, pergunta_vezes=1))
    assert turn.slots["email_confirmado"] is None and turn.slots["email_novo"] == typed
    assert turn.question_texts == [CANNOT_COMPARE_TEXT.format(email=MASKED)]
    assert turn.question_buttons == [["Sim", "Não"]]
    assert typed not in turn.question_texts[0] and ON_FILE not in turn.question_texts[0]

    # still not answered (a third time): the same words, with the human and cancel buttons
    unsure = asking_the_email(RESET, "hein", intent="nlu_fallback", email_novo=typed, pergunta_vezes=2)
    unsure.events += [{"event": "action", "name": "action_fallback"}, {"event": "action", "name": RESET}]
    turn = await form_turn(ValidateEsqueciSenhaForm(), domain, unsure)
    assert turn.question_texts == [CANNOT_COMPARE_TEXT.format(email=MASKED)]
    assert turn.question_buttons == [["Sim", "Não", "Falar com atendente", "Cancelar"]]

    yes = asking_the_email(RESET, "sim", intent="afirmar", email_novo=typed, candidates={"email_confirmado": True})
    turn = await form_turn(ValidateEsqueciSenhaForm(), domain, yes)
    assert turn.slots["email_confirmado"] is True and turn.slots["email_novo"] is None  # sent to the one on file

    no = asking_the_email(RESET, "não", intent="negar", email_novo=typed, candidates={"email_confirmado": False})
    turn = await form_turn(ValidateEsqueciSenhaForm(), domain, no)
    assert turn.slots["email_confirmado"] is False and turn.slots.get("email_novo", typed) == typed
    events = await ActionEsqueciSenha().run(
        dispatcher, conversation(RESET, "não", email_confirmado=False, email_novo=typed), domain
    )
    assert slot_events(events)["email_novo"] == typed and resets == []


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("isso não é meu e-mail", "informar"),
        ("não é mais esse", "nlu_fallback"),
        ("esse email não é meu", "alterar_email"),
        ("não uso mais esse e-mail", "informar"),
        ("Não tenho mais acesso a esse email", "nlu_fallback"),
        ("mudei de email", "alterar_email"),
        ("é outro", "informar"),
    ],
)
async def test_not_my_email_any_more_is_a_no(domain, fake_backend, text, intent):
    turn = await form_turn(ValidateEsqueciSenhaForm(), domain, asking_the_email(RESET, text, intent=intent))
    assert turn.slots["email_confirmado"] is False and turn.slots["requested_slot"] is None


async def test_an_unsure_answer_is_left_to_the_dialogue_rules(domain, fake_backend):
    tracker = asking_the_email(RESET, "não tenho certeza", intent="nlu_fallback")
    turn = await form_turn(ValidateEsqueciSenhaForm(), domain, tracker)
    assert turn.rejected  # "não entendi" (rules), then the question again — counted (test_repeated_question)


async def test_it_is_mine_in_words_nlu_missed_is_a_yes(domain, fake_backend):
    turn = await form_turn(
        ValidateEsqueciSenhaForm(), domain, asking_the_email(RESET, "é meu sim", intent="nlu_fallback")
    )
    assert turn.slots["email_confirmado"] is True


# --- the registration ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["jose.novo@gmail.com", "mateus@exemplo.com.br"])
async def test_registration_takes_a_typed_email_and_asks_only_its_confirmation(
    domain, fake_backend, dispatcher, registrations, typed
):
    form = ValidateCadastroForm()
    turn = await form_turn(form, domain, asking_the_email(REGISTRATION, typed))
    assert turn.slots["email_confirmado"] is False and turn.slots["email_novo"] == typed
    assert turn.slots["requested_slot"] == "email_confirmacao" and turn.asked == "utter_ask_email_confirmacao"

    again = conversation(REGISTRATION, typed, requested="email_confirmacao", email_confirmado=False, email_novo=typed)
    again.slots["identidade_info"] = {**again.slots["identidade_info"], **NOT_REGISTERED}
    turn = await form_turn(form, domain, again)
    assert turn.slots["email_confirmacao"] == typed and turn.slots["requested_slot"] is None

    # the backend decides: the activation link to the address on file when it is the same one
    done = conversation(REGISTRATION, typed, email_confirmado=False, email_novo=typed, email_confirmacao=typed)
    await ActionCadastro().run(dispatcher, done, domain)
    assert registrations == [typed]
    assert texts(dispatcher)[0].startswith(f"Pronto! Enviei um link de ativação para {MASKED}.")


async def test_registration_not_mine_asks_the_new_email(domain, fake_backend):
    turn = await form_turn(ValidateCadastroForm(), domain, asking_the_email(REGISTRATION, "não é mais esse"))
    assert turn.slots["email_confirmado"] is False and turn.slots["requested_slot"] == "email_novo"
    assert turn.asked == "utter_ask_cadastro_form_email_novo"


# --- the mask --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "fits"),
    [
        (ON_FILE, True),
        ("MARIA@EXEMPLO.COM.BR", True),
        ("joao@exemplo.com.br", False),
        ("maria.santos@exemplo.com", False),
        ("m@exemplo.com.br", False),  # '***' hides at least one character
    ],
)
def test_what_fits_the_mask(email, fits):
    assert fits_mask(email, MASKED) is fits
    assert fits_mask(email, None) is False


# --- summaries: another member of the family named -------------------------------------------------


async def test_another_member_named_in_answer_to_the_card_summary(domain, fake_backend):
    tracker = conversation(
        "carteirinha_form",
        "não, é para a Maria",
        intent="negar",
        requested="carteirinha_confirmar",
        candidates={"carteirinha_confirmar": False},
        carteirinha_membro=JOAO.card_number,
        carteirinha_membro_nome=JOAO.name,
        carteirinha_motivo="Extravio",
        carteirinha_obs="-",
    )
    turn = await form_turn(ValidateCarteirinhaForm(), domain, tracker)
    assert turn.slots["carteirinha_membro"] == MARIA.card_number and turn.slots["carteirinha_membro_nome"] == MARIA.name
    assert turn.slots["carteirinha_confirmar"] is None  # not cancelled: the summary is shown again
    assert turn.question_texts == [
        "Confere o pedido de segunda via?\nCarteirinha de: Maria Aparecida Santos\nMotivo: Extravio"
    ]


async def test_a_yes_to_the_summary_is_still_a_yes(domain, fake_backend):
    tracker = conversation(
        "reembolso_form",
        "sim, do João",
        intent="afirmar",
        requested="reembolso_confirmar",
        candidates={"reembolso_confirmar": True},
        reembolso_membro=JOAO.card_number,
        reembolso_membro_nome=JOAO.name,
    )
    turn = await form_turn(ValidateReembolsoForm(), domain, tracker)
    assert turn.slots["reembolso_confirmar"] is True and "reembolso_membro" not in turn.slots
