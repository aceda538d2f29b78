"""The assistant's fixed texts (domain.yml): short enough for a phone, varied where frequent."""

from pathlib import Path

import yaml

DOMAIN = yaml.safe_load((Path(__file__).parents[2] / "domain.yml").read_text(encoding="utf-8"))
RESPONSES = DOMAIN["responses"]
# About one phone screen on WhatsApp: 600 characters, 12 lines.
MAX_CHARS, MAX_LINES = 600, 12
FREQUENT = (
    "utter_saudacao",
    "utter_ajuda",
    "utter_despedida",
    "utter_agradecimento",
    "utter_pergunta_robo",
    "utter_fora_de_escopo",
    "utter_cancelado",
    "utter_ask_cpf",
    "utter_ask_data_nascimento",
    "utter_ask_identidade_form_login",
    "utter_ask_especialidade",
    "utter_ask_cidade",
)


def test_no_response_is_longer_than_a_phone_screen():
    too_long = [
        (name, len(v["text"]))
        for name, variations in RESPONSES.items()
        for v in variations
        if len(v.get("text", "")) > MAX_CHARS or v.get("text", "").count("\n") + 1 > MAX_LINES
    ]
    assert too_long == []


def test_frequent_responses_have_variations():
    assert [name for name in FREQUENT if len(RESPONSES[name]) < 2] == []


def test_no_html_in_texts_whatsapp_shows_it_raw():
    assert [
        name
        for name, variations in RESPONSES.items()
        for v in variations
        if "<" in v.get("text", "") and ">" in v.get("text", "")
    ] == []


def test_scope_reminder_offers_the_menu():
    assert all(v.get("buttons") for v in RESPONSES["utter_fora_de_escopo"])
