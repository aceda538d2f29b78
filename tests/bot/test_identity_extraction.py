"""What the identity form takes from a message the NLU did not fully tag."""

from rasa_sdk import Tracker

from bot.actions.conversation import consecutive_misses
from bot.actions.identity import extract_from_text
from bot.actions.password_reset import ValidateEsqueciSenhaForm
from bot.actions.registration import ValidateCadastroForm
from common.patterns import find_card, find_cpf, find_email, find_numeric_date

FINDERS = {
    "login": lambda text: find_email(text) or find_card(text),
    "cpf": find_cpf,
    "data_nascimento": find_numeric_date,
}


def extract_identity_value(t, slot):
    return extract_from_text(t, slot, FINDERS[slot])


def tracker(text, intent="informar", entities=(), requested=None, events=(), **slots):
    return Tracker(
        sender_id="t",
        slots={"requested_slot": requested, **slots},
        latest_message={"text": text, "intent": {"name": intent}, "entities": list(entities)},
        events=list(events),
        paused=False,
        followup_action=None,
        active_loop={"name": "esqueci_senha_form"},
        latest_action_name="action_listen",
    )


def test_fixed_form_values_are_found_anywhere_in_the_message():
    t = tracker("cartao 1002 0030 0401 cpf 945.807.302-24 nasci 12/03/1985", requested="login")
    assert extract_identity_value(t, "login") == {"login": "1002 0030 0401"}
    assert extract_identity_value(t, "cpf") == {"cpf": "945.807.302-24"}
    assert extract_identity_value(t, "data_nascimento") == {"data_nascimento": "12/03/1985"}


def test_what_nlu_already_tagged_is_left_to_the_slot_mapping():
    t = tracker("945.807.302-24", entities=[{"entity": "cpf", "value": "945.807.302-24"}], requested="cpf")
    assert extract_identity_value(t, "cpf") == {}


def test_malformed_answer_to_the_question_reaches_validation():
    # 9 digits: no pattern matches, but it is the answer to "qual o CPF?" -> validation explains
    assert extract_identity_value(tracker("945807302", requested="cpf"), "cpf") == {"cpf": "945807302"}
    assert extract_identity_value(tracker("12 de marco de 85", requested="data_nascimento"), "data_nascimento") == {
        "data_nascimento": "12 de marco de 85"
    }


def test_a_question_in_the_middle_of_the_form_is_not_taken_as_data():
    t = tracker("por que voce precisa do meu cpf?", intent="ajuda", requested="cpf")
    assert extract_identity_value(t, "cpf") == {}
    t = tracker("/falar_com_atendente", intent="falar_com_atendente", requested="cpf")
    assert extract_identity_value(t, "cpf") == {}


def test_fallback_ladder_counts_misses_in_a_row():
    def user(intent):
        return {"event": "user", "parse_data": {"intent": {"name": intent}}}

    assert consecutive_misses(tracker("x", events=[user("saudacao"), user("nlu_fallback")])) == 1
    assert consecutive_misses(tracker("x", events=[user("nlu_fallback"), {"event": "bot"}, user("nlu_fallback")])) == 2
    assert consecutive_misses(tracker("x", events=[user("nlu_fallback"), user("ajuda")])) == 0


def test_a_name_is_taken_only_as_the_answer_to_the_name_question():
    assert extract_from_text(tracker("Maria Aparecida Santos", requested="nome_completo"), "nome_completo", None) == {
        "nome_completo": "Maria Aparecida Santos"
    }
    assert (
        extract_from_text(
            tracker("quero falar com atendente", intent="falar_com_atendente", requested="nome_completo"),
            "nome_completo",
            None,
        )
        == {}
    )


async def test_a_verified_conversation_skips_the_identity_questions():
    form, slots = ValidateEsqueciSenhaForm(), ["login", "cpf", "data_nascimento", "email_confirmado"]
    fresh = tracker("oi")
    assert await form.required_slots(slots, None, fresh, {}) == ["login", "cpf", "data_nascimento"]
    verified = tracker(
        "oi",
        identidade_token="t",
        identidade_info={"email_masked": "m***@exemplo.com.br", "has_account": True, "plan_active": True},
    )
    assert await form.required_slots(slots, None, verified, {}) == ["email_confirmado"]
    no_email = tracker(
        "oi", identidade_token="t", identidade_info={"email_masked": None, "has_account": True, "plan_active": True}
    )
    assert await form.required_slots(slots, None, no_email, {}) == []  # the action explains
    locked = tracker("oi", identidade_bloqueio_min=30.0)
    assert await form.required_slots(slots, None, locked, {}) == []


async def test_registration_asks_a_new_email_only_when_needed():
    form = ValidateCadastroForm()
    slots = ["login", "cpf", "data_nascimento", "email_confirmado", "email_novo", "email_confirmacao"]
    info = {"email_masked": "j***@exemplo.com.br", "has_account": False, "plan_active": True}
    on_file = tracker("oi", identidade_token="t", identidade_info=info)
    assert await form.required_slots(slots, None, on_file, {}) == ["email_confirmado"]
    refused = tracker("oi", identidade_token="t", identidade_info=info, email_confirmado=False)
    assert await form.required_slots(slots, None, refused, {}) == [
        "email_confirmado",
        "email_novo",
        "email_confirmacao",
    ]
    none_on_file = tracker("oi", identidade_token="t", identidade_info={**info, "email_masked": None})
    assert await form.required_slots(slots, None, none_on_file, {}) == ["email_novo", "email_confirmacao"]
    registered = tracker("oi", identidade_token="t", identidade_info={**info, "has_account": True})
    assert await form.required_slots(slots, None, registered, {}) == []


def test_a_mistyped_card_tagged_as_an_email_is_read_from_the_text():
    tracker = Tracker(
        "u",
        {"requested_slot": "login"},
        {
            "text": "20030040050I",
            "intent": {"name": "informar"},
            "entities": [{"entity": "email", "value": "20030040050I"}],
        },
        [],
        False,
        None,
        {"name": "cadastro_form"},
        "action_listen",
    )
    assert extract_from_text(tracker, "login", None) == {"login": "20030040050I"}  # validation says what is wrong
