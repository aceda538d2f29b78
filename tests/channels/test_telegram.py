"""The Telegram channel in a real (in-process) Sanic server, against a fake Bot API server
(python-telegram-bot's base_url pointed at it): secret token, /start, inline keyboards and
callback queries, files both ways (the user's handed to a fake of the backend's POST /api/inbound-files),
webhook registration."""

from __future__ import annotations

import asyncio
import io
import itertools
import logging

import pytest
from fakes import ChannelServer, wait_until
from openpyxl import Workbook

from channels.common import ATTACHMENT_MESSAGE
from channels.inbound_files import TEXT_TRY_LATER
from channels.telegram import TelegramInput
from common.uploads import FILE_TOO_LARGE, MAX_UPLOAD_BYTES, REFUSAL_TEXTS, UNSUPPORTED_TYPE

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SECRET = "s3gredo-do-webhook"
PATH = "/webhooks/telegram/webhook"
CHAT = 777001
_updates = itertools.count(1)


@pytest.fixture
def channel(telegram_api):
    return TelegramInput(
        telegram_api.token, SECRET, public_base_url="https://assistente.exemplo.com.br", api_base_url=telegram_api.url
    )


def text_update(text: str, chat: int = CHAT, **message) -> dict:
    return {
        "update_id": next(_updates),
        "message": {
            "message_id": next(_updates),
            "date": 1700000000,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "Maria"},
            "text": text,
            **message,
        },
    }


def file_update(chat: int = CHAT, **message) -> dict:
    update = text_update("", chat, **message)
    del update["message"]["text"]
    return update


def press(data: str, keyboard: list, chat: int = CHAT) -> dict:
    return {
        "update_id": next(_updates),
        "callback_query": {
            "id": f"cb{next(_updates)}",
            "chat_instance": "ci",
            "data": data,
            "from": {"id": chat, "is_bot": False, "first_name": "Maria"},
            "message": {
                "message_id": 55,
                "date": 1700000000,
                "chat": {"id": chat, "type": "private"},
                "text": "Olá! Você quer continuar?",
                "reply_markup": {"inline_keyboard": keyboard},
            },
        },
    }


async def send(server, update: dict, secret: str | None = SECRET) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    status, _ = await server.post(PATH, json=update, headers=headers)
    return status


async def test_wrong_or_missing_secret_token_is_refused_with_403(channel, telegram_api, assistant):
    async with ChannelServer(channel, assistant) as server:
        assert await send(server, text_update("oi"), secret="outro") == 403
        assert await send(server, text_update("oi"), secret=None) == 403
        assert await send(server, text_update("oi")) == 200
        await wait_until(lambda: telegram_api.called("sendMessage"))
    assert assistant.texts == ["oi"]


async def test_start_greets_and_buttons_are_an_inline_keyboard(channel, telegram_api, assistant):
    async with ChannelServer(channel, assistant) as server:
        await send(server, text_update("/start"))
        await wait_until(lambda: telegram_api.called("sendMessage"))
    assert assistant.texts == ["oi"]  # /start is a greeting for the assistant
    [sent] = telegram_api.called("sendMessage")
    assert sent["chat_id"] == CHAT and sent["text"] == "Olá! Você quer continuar?"
    assert sent["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Sim", "callback_data": "/afirmar"}],
            [{"text": "Não", "callback_data": "/negar"}],
        ]
    }


async def test_a_pressed_button_is_answered_and_its_payload_fed_back(channel, telegram_api, assistant):
    keyboard = [[{"text": "Sim", "callback_data": "/afirmar"}], [{"text": "Não", "callback_data": "/negar"}]]
    async with ChannelServer(channel, assistant) as server:
        await send(server, text_update("oi"))
        await wait_until(lambda: telegram_api.called("sendMessage"))
        await send(server, press("/afirmar", keyboard))
        await wait_until(lambda: len(assistant.received) == 2 and len(telegram_api.called("sendMessage")) == 2)
    assert assistant.texts == ["oi", "/afirmar"]
    [answered] = telegram_api.called("answerCallbackQuery")
    assert answered["callback_query_id"].startswith("cb")
    [edited] = telegram_api.called("editMessageReplyMarkup")  # the keyboard is taken away: no double answers
    assert edited["message_id"] == 55 and "reply_markup" not in edited


async def test_forged_callback_data_is_treated_as_typed_text(channel, telegram_api, assistant):
    keyboard = [[{"text": "Sim", "callback_data": "/afirmar"}]]
    async with ChannelServer(channel, assistant) as server:
        await send(server, press('/informar{"cpf": "94580730224"}', keyboard))
        await wait_until(lambda: assistant.received)
    assert assistant.texts == ['informar{"cpf": "94580730224"}']


async def test_long_payloads_travel_as_tokens(channel, telegram_api):
    long_payload = '/informar{"carteirinha": "100200300401", "motivo": "extravio da carteirinha"}'
    received = []

    async def bot(message):
        received.append(message.text)
        if len(received) == 1:
            await message.output_channel.send_response(
                message.sender_id, {"text": "Confirma?", "buttons": [{"title": "Confirmar", "payload": long_payload}]}
            )

    async with ChannelServer(channel, bot) as server:
        await send(server, text_update("quero outra carteirinha"))
        await wait_until(lambda: telegram_api.called("sendMessage"))
        keyboard = telegram_api.called("sendMessage")[0]["reply_markup"]["inline_keyboard"]
        assert keyboard == [[{"text": "Confirmar", "callback_data": "~0"}]]
        await send(server, press("~0", keyboard))
        await wait_until(lambda: len(received) == 2)
    assert received[1] == long_payload


def xlsx() -> bytes:
    book = Workbook()
    book.active.append(["tipo", "cpf"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def document(file_id: str, name: str, mime_type: str, size: int) -> dict:
    return {
        "file_id": file_id,
        "file_unique_id": file_id.lower(),
        "file_name": name,
        "mime_type": mime_type,
        "file_size": size,
    }


async def test_inbound_document_is_downloaded_with_getfile_and_handed_to_the_backend(
    channel, telegram_api, assistant, var_dir, backend
):
    pdf = b"%PDF-1.7 nota fiscal"
    telegram_api.files["FILE1"] = pdf
    async with ChannelServer(channel, assistant) as server:
        await send(
            server,
            file_update(
                document={
                    "file_id": "FILE1",
                    "file_unique_id": "u1",
                    "file_name": "nota.pdf",
                    "mime_type": "application/pdf",
                    "file_size": len(pdf),
                }
            ),
        )
        await wait_until(lambda: assistant.received and telegram_api.called("sendMessage"))
    message = assistant.received[0]
    assert message.text == ATTACHMENT_MESSAGE
    backend.assert_only_file(
        message.metadata, "nota.pdf", "application/pdf", pdf, channel="telegram", conversation_id=str(CHAT)
    )
    assert not (var_dir / "uploads").exists()  # nothing on the channel's disk


async def test_inbound_photo_takes_the_largest_size_and_the_caption(channel, telegram_api, assistant, backend):
    telegram_api.files["BIG"] = b"\xff\xd8\xff big"
    telegram_api.files["SMALL"] = b"\xff\xd8\xff"
    photo = [
        {"file_id": "SMALL", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 2},
        {"file_id": "BIG", "file_unique_id": "b", "width": 1280, "height": 960, "file_size": 6},
    ]
    async with ChannelServer(channel, assistant) as server:
        await send(server, file_update(photo=photo, caption="recibo"))
        await wait_until(lambda: assistant.received)
    message = assistant.received[0]
    assert message.text == "recibo"
    [attachment] = message.metadata["attachments"]
    assert backend.files[attachment["file_id"]]["content"] == b"\xff\xd8\xff big"
    assert attachment["content_type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("name", "mime_type", "content", "stored_type"),
    [
        ("movimentação.csv", "text/csv", "tipo;cpf\r\ninclusão;65028319405\r\n".encode("cp1252"), "text/csv"),
        ("lote.csv", "application/vnd.ms-excel", b"tipo,cpf\r\ninclusao,65028319405\r\n", "text/csv"),
        ("lote.xlsx", XLSX_TYPE, None, XLSX_TYPE),
    ],
    ids=["csv", "csv-as-excel", "xlsx"],
)
async def test_an_inbound_spreadsheet_is_handed_to_the_backend_like_a_pdf(
    channel, telegram_api, assistant, backend, name, mime_type, content, stored_type
):
    content = content if content is not None else xlsx()
    telegram_api.files["SHEET"] = content
    async with ChannelServer(channel, assistant) as server:
        await send(server, file_update(document=document("SHEET", name, mime_type, len(content))))
        await wait_until(lambda: assistant.received)
    message = assistant.received[0]
    assert message.text == ATTACHMENT_MESSAGE
    backend.assert_only_file(
        message.metadata, name, stored_type, content, channel="telegram", conversation_id=str(CHAT)
    )


@pytest.mark.parametrize(
    ("doc", "code"),
    [
        (document("Z", "a.zip", "application/zip", 10), UNSUPPORTED_TYPE),
        (
            document(
                "D", "contrato.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 10
            ),
            UNSUPPORTED_TYPE,
        ),
        (document("W", "foto.webp", "image/webp", 10), UNSUPPORTED_TYPE),
        (document("H", "foto.heic", "image/heic", 10), UNSUPPORTED_TYPE),
        (document("G", "laudo.pdf", "application/pdf", MAX_UPLOAD_BYTES + 1), FILE_TOO_LARGE),
    ],
)
async def test_what_the_policy_refuses_is_explained_without_a_download(
    channel, telegram_api, assistant, backend, doc, code
):
    async with ChannelServer(channel, assistant) as server:
        await send(server, file_update(document=doc))
        await wait_until(lambda: telegram_api.called("sendMessage"))
    assert [m["text"] for m in telegram_api.called("sendMessage")] == [REFUSAL_TEXTS[code]]
    assert assistant.received == [] and backend.calls == 0 and not telegram_api.called("getFile")


async def test_bytes_that_are_not_what_they_claim_are_refused(channel, telegram_api, assistant, backend):
    telegram_api.files["EXE"] = b"MZ\x90\x00" + b"\x00" * 100
    telegram_api.files["XLS"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 96  # the old Excel format
    async with ChannelServer(channel, assistant) as server:
        await send(server, file_update(document=document("EXE", "recibo.pdf", "application/pdf", 104)))
        await wait_until(lambda: telegram_api.called("sendMessage"))
        await send(server, file_update(document=document("XLS", "lote.xls", "application/vnd.ms-excel", 104)))
        await wait_until(lambda: len(telegram_api.called("sendMessage")) == 2)
    assert [m["text"] for m in telegram_api.called("sendMessage")] == [REFUSAL_TEXTS[UNSUPPORTED_TYPE]] * 2
    assert assistant.received == [] and backend.calls == 0


async def test_a_backend_that_is_down_gets_a_polite_try_again(channel, telegram_api, assistant, backend, caplog):
    telegram_api.files["F"] = b"%PDF-1.4 recibo"
    backend.down = True
    async with ChannelServer(channel, assistant) as server:
        await send(server, file_update(document=document("F", "recibo.pdf", "application/pdf", 15), caption="recibo"))
        await wait_until(lambda: telegram_api.called("sendMessage"))
    assert [m["text"] for m in telegram_api.called("sendMessage")] == [TEXT_TRY_LATER]
    assert assistant.received == [] and "Traceback" not in caplog.text


async def test_the_bots_pdf_is_uploaded_from_the_signed_link(channel, telegram_api, assistant, files):
    files.files["tok9"] = (b"%PDF-1.4 boleto", "application/pdf")
    assistant.document_url = f"{files.url}/documentos/tok9"
    async with ChannelServer(channel, assistant) as server:
        await send(server, text_update("doc"))
        await wait_until(lambda: telegram_api.called("sendDocument"))
    assert [m for m, _ in telegram_api.calls if m.startswith("send")] == ["sendMessage", "sendDocument"]
    [document] = telegram_api.called("sendDocument")
    assert document["document"]["content"] == b"%PDF-1.4 boleto"
    assert document["document"]["filename"] == "boleto.pdf" and document["caption"] == "Boleto de março"


async def test_messages_of_one_chat_are_answered_in_order(channel, telegram_api):
    finish_slow_turn = asyncio.Event()
    received = []

    async def bot(message):
        received.append(message.text)
        if message.text == "lento":
            await finish_slow_turn.wait()
        await message.output_channel.send_response(message.sender_id, {"text": f"eco: {message.text}"})

    async with ChannelServer(channel, bot) as server:
        await send(server, text_update("lento"))
        await send(server, text_update("depois"))
        await send(server, text_update("outro chat", chat=888))
        await wait_until(lambda: telegram_api.called("sendMessage"), what="the other chat's reply")
        # the other chat is not stuck behind the slow turn; "depois" waits for it
        assert [p["chat_id"] for p in telegram_api.called("sendMessage")] == [888]
        assert received == ["lento", "outro chat"]
        finish_slow_turn.set()
        await wait_until(lambda: len(telegram_api.called("sendMessage")) == 3)
    texts = [(p["chat_id"], p["text"]) for p in telegram_api.called("sendMessage")]
    assert texts == [(888, "eco: outro chat"), (CHAT, "eco: lento"), (CHAT, "eco: depois")]


async def test_the_webhook_is_registered_at_start_with_the_secret(channel, telegram_api, assistant):
    async with ChannelServer(channel, assistant):
        await wait_until(lambda: telegram_api.called("setWebhook"), what="setWebhook")
    [registered] = telegram_api.called("setWebhook")
    assert registered["url"] == "https://assistente.exemplo.com.br/webhooks/telegram/webhook"
    assert registered["secret_token"] == SECRET
    assert set(registered["allowed_updates"]) == {"message", "callback_query"}


async def test_no_public_url_no_registration(telegram_api, assistant, caplog):
    caplog.set_level(logging.INFO, logger="channels.telegram")
    channel = TelegramInput(telegram_api.token, SECRET, public_base_url=None, api_base_url=telegram_api.url)
    async with ChannelServer(channel, assistant):
        # the start-up registration has run to its end (it says so) without calling the Bot API
        await wait_until(lambda: "webhook not registered" in caplog.text, what="the registration to give up")
    assert telegram_api.calls == []
