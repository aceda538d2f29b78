"""What the identity form takes from a message the NLU did not fully tag."""
from rasa_sdk import Tracker

from bot.actions.conversation import consecutive_misses
from bot.actions.identity import extract_identity_value


def tracker(text, intent="informar", entities=(), requested=None, events=()):
    return Tracker(
        sender_id="t",
        slots={"requested_slot": requested},
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
    assert extract_identity_value(tracker("12 de marco de 85", requested="data_nascimento"),
                                  "data_nascimento") == {"data_nascimento": "12 de marco de 85"}


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
