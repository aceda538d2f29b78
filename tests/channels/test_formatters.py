"""The per-channel formatters and the option matching (pure functions)."""

from __future__ import annotations

import re

from channels.common import mask_address, user_text
from channels.formatters import telegram as tg
from channels.formatters import whatsapp as wa
from channels.formatters.text import match_option, split_text

YES_NO = [{"title": "Sim", "payload": "/afirmar"}, {"title": "Não", "payload": "/negar"}]


def test_whatsapp_buttons_become_a_numbered_list_after_the_text():
    out = wa.format_message({"text": "O e-mail m***@exemplo.com.br ainda é seu?", "buttons": YES_NO})
    assert [m.body for m in out.messages] == ["O e-mail m***@exemplo.com.br ainda é seu?\n\n1. Sim\n2. Não"]
    assert out.options == YES_NO


def test_whatsapp_long_text_is_split_under_1600_at_sentence_ends():
    sentence = "Esta é uma frase de exemplo que termina com ponto final. "
    text = sentence * 80  # ~4.600 characters, one paragraph
    out = wa.format_message({"text": text})
    bodies = [m.body for m in out.messages]
    assert len(bodies) == 3
    assert all(len(b) <= 1600 for b in bodies)
    assert all(b.endswith("ponto final.") for b in bodies)  # never cut mid-sentence
    assert " ".join(bodies) == text.strip()


def test_split_prefers_paragraphs_and_packs_small_ones():
    paragraphs = ["A" * 700, "B" * 700, "C" * 700]
    parts = split_text("\n\n".join(paragraphs), 1600)
    assert parts == ["A" * 700 + "\n\n" + "B" * 700, "C" * 700]
    # a single word longer than the limit is still cut, nothing is lost
    assert "".join(split_text("x" * 3500, 1600)) == "x" * 3500


def test_whatsapp_list_stays_whole_when_the_text_is_split():
    options = [{"title": f"Opção número {i}", "payload": f"/p{i}"} for i in range(1, 6)]
    out = wa.format_message({"text": "Frase longa. " * 130, "buttons": options})
    bodies = [m.body for m in out.messages]
    assert len(bodies) >= 2 and all(len(b) <= 1600 for b in bodies)
    assert bodies[-1].endswith(
        "1. Opção número 1\n2. Opção número 2\n3. Opção número 3\n4. Opção número 4\n5. Opção número 5"
    )


def test_whatsapp_images_and_documents_are_media_messages():
    out = wa.format_message({"image": "https://backend/documentos/tok1"})
    assert out.messages == [wa.WhatsAppMessage(body="", media_url="https://backend/documentos/tok1")]
    out = wa.format_message(
        {
            "custom": {
                "type": "document",
                "url": "https://backend/documentos/tok2",
                "filename": "boleto.pdf",
                "caption": "Seu boleto",
            }
        }
    )
    assert out.messages == [wa.WhatsAppMessage(body="Seu boleto", media_url="https://backend/documentos/tok2")]
    assert wa.format_message({"custom": {"type": "carousel", "items": []}}).messages == []
    assert wa.format_message({"text": "**Atenção**: prazo"}).messages[0].body == "*Atenção*: prazo"


def test_options_are_picked_by_number_or_words_ignoring_accents_and_case():
    assert match_option("1", YES_NO) == "/afirmar"
    assert match_option(" 2. ", YES_NO) == "/negar"
    assert match_option("2️⃣", YES_NO) == "/negar"
    assert match_option("opção 2", YES_NO) == "/negar"
    assert match_option("a primeira", YES_NO) == "/afirmar"
    assert match_option("nao", YES_NO) == "/negar"
    assert match_option("NÃO!", YES_NO) == "/negar"
    assert match_option("sim", YES_NO) == "/afirmar"
    # anything else is left to the assistant's understanding
    assert match_option("3", YES_NO) is None
    assert match_option("100200300401", YES_NO) is None
    assert match_option("sim, mas mudei de e-mail", YES_NO) is None
    assert match_option("1", []) is None
    options = [{"title": "Esqueci minha senha", "payload": ""}]
    assert match_option("Esqueci minha senha", options) == "Esqueci minha senha"


def test_telegram_buttons_are_an_inline_keyboard_under_the_last_part():
    out = tg.format_message({"text": "x. " * 2000, "buttons": YES_NO})
    assert all(len(m.text) <= tg.TEXT_LIMIT for m in out.messages) and len(out.messages) == 2
    assert out.messages[0].buttons == ()
    assert out.messages[-1].buttons == (tg.TelegramButton("Sim", "/afirmar"), tg.TelegramButton("Não", "/negar"))


def test_telegram_payloads_over_64_bytes_become_tokens():
    long_payload = '/informar{"carteirinha": "100200300401", "cpf": "94580730224", "x": "yyyyyyyy"}'
    out = tg.format_message({"text": "Confirma?", "buttons": [{"title": "Confirmar", "payload": long_payload}]})
    assert out.messages[0].buttons[0].callback_data == "~0"
    assert out.options[0]["payload"] == long_payload


def test_telegram_documents_and_photos():
    out = tg.format_message({"custom": {"type": "document", "url": "u", "filename": "ir.pdf", "caption": "IR 2024"}})
    assert out.messages == [tg.TelegramMessage("document", "IR 2024", url="u", filename="ir.pdf")]
    assert tg.format_message({"image": "https://x/card.png"}).messages == [
        tg.TelegramMessage("photo", url="https://x/card.png")
    ]
    assert tg.format_message({"custom": {"type": "nope"}}).messages == []


def test_typed_slash_commands_do_not_reach_the_bot_as_intents():
    assert user_text("/start") == "oi"
    assert user_text("/start@assistente_bot") == "oi"
    assert user_text('/afirmar{"cpf": "1"}') == 'afirmar{"cpf": "1"}'
    assert user_text("  esqueci minha senha ") == "esqueci minha senha"


def test_addresses_are_masked_for_logs():
    assert mask_address("whatsapp:+5579998110001") == "whatsapp:+*********0001"
    assert not re.search(r"\d{5}", mask_address("whatsapp:+14155238886"))
