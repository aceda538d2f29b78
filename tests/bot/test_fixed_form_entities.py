"""The fixed-form entities are read by their form, the same way in the NLU pipeline and in the
actions: two numbers in one message, a protocol typed with spaces, a date written in words."""

from datetime import date

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.actions.services import values_in_text
from bot.fixed_form_extractor import FixedFormEntityExtractor
from common.patterns import find_protocol, fixed_form_spans


def spans(text):
    return [(name, text[start:end]) for name, start, end in fixed_form_spans(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("cartao 991594744947 cpf 75733778008", [("carteirinha", "991594744947"), ("cpf", "75733778008")]),
        (
            "meu cpf é 529.982.247-25 e nasci em 12 de março de 1985",
            [("cpf", "529.982.247-25"), ("data", "12 de março de 1985")],
        ),
        (
            "carteirinha 1002 0030 0403, email maria.silva@exemplo.com.br",
            [("carteirinha", "1002 0030 0403"), ("email", "maria.silva@exemplo.com.br")],
        ),
        ("protocolo 4190102026 1123 000012.", [("protocolo", "4190102026 1123 000012")]),
        ("consulta dia 8 de maio de 1977", [("data", "8 de maio de 1977")]),
        ("1º de janeiro de 1990 e 2 jul 1996", [("data", "1º de janeiro de 1990"), ("data", "2 jul 1996")]),
        ("nasci 05.10.82, paguei 10/02", [("data", "05.10.82"), ("data", "10/02")]),
        (
            "pedi semana passada, ou foi segunda-feira passada? IR do ano retrasado",
            [("data", "semana passada"), ("data", "segunda-feira passada"), ("data", "ano retrasado")],
        ),
    ],
)
def test_values_are_found_by_their_form(text, expected):
    assert spans(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "atendimento 24/7",
        "tenho 3 meses de plano",
        "dez reais",
        "20030040050I",  # a card typed with a letter
        "joao@exemplo.com.br",
        "o boleto de março de 2025",  # a month and a year are `mes` and `ano`, not a date
        "por hoje é só",
        "paguei ontem",  # "hoje"/"ontem" are left to the context (DIET)
    ],
)
def test_no_value_is_read_into_words_that_are_not_one(text):
    assert [n for n, _ in spans(text)] in ([], ["email"])


def test_digits_of_an_email_or_protocol_are_not_read_as_cpf_or_card():
    assert spans("joao52998224725@exemplo.com") == [("email", "joao52998224725@exemplo.com")]
    assert spans("41901020251111000036") == [("protocolo", "41901020251111000036")]
    assert find_protocol("é o 4190102026 1123 000012 ok") == "41901020261123000012"
    assert find_protocol("1234 5678 9012") is None


def parse(text, entities):
    message = Message(data={"text": text, "entities": entities})
    FixedFormEntityExtractor.create({}, None, None, None).process([message])
    return [(e["entity"], e["value"], e["extractor"]) for e in message.get("entities")]


def diet(entity, text, value):
    start = text.index(value)
    return {
        "entity": entity,
        "start": start,
        "end": start + len(value),
        "value": value,
        "extractor": "DIETClassifier",
        "confidence_entity": 0.9,
    }


def test_a_cpf_that_diet_tagged_as_a_card_is_read_as_a_cpf():
    text = "cartao 991594744947 cpf 75733778008"
    assert parse(text, [diet("carteirinha", text, "991594744947"), diet("carteirinha", text, "75733778008")]) == [
        ("carteirinha", "991594744947", "FixedFormEntityExtractor"),
        ("cpf", "75733778008", "FixedFormEntityExtractor"),
    ]


def test_open_ended_entities_stay_with_diet_unless_inside_a_value():
    text = "cardiologista em recife, nasci 12 de março de 1985"
    result = parse(
        text,
        [
            diet("especialidade", text, "cardiologista"),
            diet("cidade", text, "recife"),
            diet("ano", text, "1985"),
            diet("mes", text, "março"),
        ],
    )
    assert result == [
        ("especialidade", "cardiologista", "DIETClassifier"),
        ("cidade", "recife", "DIETClassifier"),
        ("data", "12 de março de 1985", "FixedFormEntityExtractor"),
    ]


def test_hoje_and_ontem_are_dates_only_where_diet_saw_one():
    text = "paguei ontem"
    assert parse(text, [diet("data", text, "ontem")]) == [("data", "ontem", "FixedFormEntityExtractor")]
    assert parse("a senha que uso hoje", []) == []
    text = "cpf 52998224725 nao e data"
    assert parse(text, [diet("data", text, "52998224725")]) == [("cpf", "52998224725", "FixedFormEntityExtractor")]


def test_a_relative_year_fills_the_statement_year():
    assert values_in_text("quero o IR do ano passado", today=date(2026, 11, 23)) == {"ano": "2025"}
    assert values_in_text("informe do ano retrasado", today=date(2026, 11, 23)) == {"ano": "2024"}
    assert values_in_text("informe de 2023 do ano passado", today=date(2026, 11, 23)) == {"ano": "2023"}
