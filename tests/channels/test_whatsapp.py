"""The WhatsApp channel in a real (in-process) Sanic server, against a fake Twilio REST API:
signature check, quick answer + ordered asynchronous replies, numbered options, media (the user's
files handed to a fake of the backend's POST /api/inbound-files, the bot getting their ids)."""

from __future__ import annotations

import asyncio
import io
import logging

import pytest
from fakes import ChannelServer, wait_until
from openpyxl import Workbook
from twilio.request_validator import RequestValidator

from channels.common import ATTACHMENT_MESSAGE
from channels.inbound_files import TEXT_TRY_LATER
from channels.whatsapp import WhatsAppInput
from common.uploads import FILE_TOO_LARGE, MAX_UPLOAD_BYTES, REFUSAL_TEXTS, UNSUPPORTED_TYPE
from scripts.stack import free_port

PUBLIC = "https://assistente.exemplo.com.br"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PATH = "/webhooks/whatsapp/webhook"
MARIA = "whatsapp:+5579998110001"
JOSE = "whatsapp:+5579998110002"
_sids = iter(range(1, 10**6))


@pytest.fixture
def channel(twilio):
    ch = WhatsAppInput(twilio.account_sid, twilio.auth_token, "whatsapp:+14155238886", PUBLIC, api_base_url=twilio.url)
    ch.sender.retry_delays = (0.05, 0.05, 0.05)
    return ch


def form(sender: str, body: str = "", **extra) -> dict:
    return {
        "SmsMessageSid": "x",
        "NumMedia": "0",
        "ProfileName": "Maria",
        "MessageSid": f"SM{next(_sids):032d}",
        "AccountSid": "AC" + "1" * 32,
        "From": sender,
        "To": "whatsapp:+14155238886",
        "Body": body,
        **extra,
    }


def signed(params: dict, token: str = "twilio-auth-token") -> dict:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(PUBLIC + PATH, params)}


async def say(server: ChannelServer, params: dict, token: str = "twilio-auth-token") -> tuple[int, str]:
    return await server.post(PATH, data=params, headers=signed(params, token))


async def test_wrong_or_missing_signature_is_refused_with_403(channel, twilio, assistant):
    async with ChannelServer(channel, assistant) as server:
        params = form(MARIA, "oi")
        assert (await say(server, params, token="outro-token"))[0] == 403
        assert (await server.post(PATH, data=params))[0] == 403
        tampered = signed(params)
        assert (await server.post(PATH, data={**params, "Body": "cancelar"}, headers=tampered))[0] == 403
        status, body = await say(server, params)
        assert status == 200 and "<Response>" in body
        await wait_until(lambda: twilio.sent, what="the reply")
    assert assistant.texts == ["oi"]  # only the signed, untampered request got through


async def test_webhook_answers_at_once_and_replies_arrive_in_order(channel, twilio):
    finish_slow_turn = asyncio.Event()
    received = []

    async def bot(message):
        received.append(message.text)
        if message.text.startswith("lento"):
            await finish_slow_turn.wait()
        await message.output_channel.send_response(message.sender_id, {"text": f"eco: {message.text}"})

    async with ChannelServer(channel, bot) as server:
        # the assistant's first turn is held until the end: every webhook still answers
        assert (await say(server, form(MARIA, "lento 1")))[0] == 200
        assert (await say(server, form(MARIA, "segunda")))[0] == 200
        assert (await say(server, form(JOSE, "outra pessoa")))[0] == 200
        await wait_until(lambda: twilio.sent, what="José's reply")
        # José was not stuck behind Maria's slow turn; Maria's second message waits for her first
        assert [m["To"] for m in twilio.sent] == [JOSE] and received == ["lento 1", "outra pessoa"]
        finish_slow_turn.set()
        await wait_until(lambda: len(twilio.sent) == 3, what="three replies")
    bodies = [m["Body"] for m in twilio.to(MARIA)]
    assert bodies == ["eco: lento 1", "eco: segunda"]
    assert all(m["From"] == "whatsapp:+14155238886" for m in twilio.sent)


async def test_buttons_are_numbered_and_a_number_or_the_words_pick_the_option(channel, twilio, assistant):
    async with ChannelServer(channel, assistant) as server:
        await say(server, form(MARIA, "oi"))
        await wait_until(lambda: len(twilio.sent) == 1)
        assert twilio.sent[0]["Body"] == "Olá! Você quer continuar?\n\n1. Sim\n2. Não"
        await say(server, form(MARIA, "2"))
        await wait_until(lambda: len(twilio.sent) == 2)
        await say(server, form(MARIA, "2"))  # no options shown any more: plain text again
        await wait_until(lambda: len(twilio.sent) == 3)
        await say(server, form(MARIA, "oi"))
        await say(server, form(MARIA, "nao"))
        await wait_until(lambda: len(twilio.sent) == 5)
        await say(server, form(JOSE, "1"))  # options are per conversation
        await wait_until(lambda: len(twilio.sent) == 6)
    assert assistant.texts == ["oi", "/negar", "2", "oi", "/negar", "1"]


async def test_a_document_goes_as_media_with_its_caption(channel, twilio, assistant):
    assistant.document_url = "https://backend.exemplo.com.br/documentos/tok123"
    async with ChannelServer(channel, assistant) as server:
        await say(server, form(MARIA, "doc"))
        await wait_until(lambda: len(twilio.sent) == 2)
    assert twilio.sent[0]["Body"] == "Aqui está o seu boleto." and twilio.sent[0]["MediaUrl"] == []
    assert twilio.sent[1]["MediaUrl"] == ["https://backend.exemplo.com.br/documentos/tok123"]
    assert twilio.sent[1]["Body"] == "Boleto de março"


def xlsx() -> bytes:
    book = Workbook()
    book.active.append(["tipo", "cpf"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def media(twilio, name: str, content_type: str, body: str = "", count: int = 1) -> dict:
    extra = {"NumMedia": str(count), "MediaUrl0": f"{twilio.url}/media/{name}", "MediaContentType0": content_type}
    return form(MARIA, body, **extra)


async def test_inbound_pdf_is_fetched_with_the_account_credentials_and_handed_to_the_backend(
    channel, twilio, assistant, var_dir, backend
):
    pdf = b"%PDF-1.4 recibo da consulta"
    twilio.media["ME1"] = (pdf, "application/pdf")
    async with ChannelServer(channel, assistant) as server:
        await say(server, media(twilio, "ME1", "application/pdf"))
        await wait_until(lambda: assistant.received and twilio.sent, what="the bot to get the file")
    message = assistant.received[0]
    assert message.text == ATTACHMENT_MESSAGE
    # the backend got the bytes, for this conversation; the channel kept nothing on its disk
    backend.assert_only_file(
        message.metadata, "ME1.pdf", "application/pdf", pdf, channel="whatsapp", conversation_id=MARIA
    )
    assert not (var_dir / "uploads").exists()
    assert twilio.unauthorized == 0


@pytest.mark.parametrize(
    ("content_type", "content", "stored_type"),
    [
        ("text/csv", "tipo;cpf\r\ninclusão;65028319405\r\n".encode("cp1252"), "text/csv"),
        ("application/vnd.ms-excel", b"tipo;cpf\r\ninclusao;65028319405\r\n", "text/csv"),  # Windows' name
        (XLSX_TYPE, None, XLSX_TYPE),
    ],
    ids=["csv", "csv-as-excel", "xlsx"],
)
async def test_an_inbound_spreadsheet_reaches_the_backend_as_an_inbound_file(
    channel, twilio, assistant, backend, content_type, content, stored_type
):
    content = content if content is not None else xlsx()
    twilio.media["ME9"] = (content, content_type)
    async with ChannelServer(channel, assistant) as server:
        await say(server, media(twilio, "ME9", content_type))
        await wait_until(lambda: assistant.received, what="the bot to get the spreadsheet")
    message = assistant.received[0]
    assert message.text == ATTACHMENT_MESSAGE
    extension = "xlsx" if stored_type == XLSX_TYPE else "csv"
    backend.assert_only_file(
        message.metadata, f"ME9.{extension}", stored_type, content, channel="whatsapp", conversation_id=MARIA
    )
    [stored] = backend.files.values()
    assert stored["declared_type"] == content_type


async def test_inbound_photo_with_a_caption_keeps_the_caption_as_text(channel, twilio, assistant, backend):
    twilio.media["ME2"] = (b"\xff\xd8\xff fake jpeg", "image/jpeg")
    async with ChannelServer(channel, assistant) as server:
        await say(
            server,
            form(
                MARIA,
                "recibo do reembolso",
                NumMedia="1",
                MediaUrl0=f"{twilio.url}/media/ME2",
                MediaContentType0="image/jpeg",
            ),
        )
        await wait_until(lambda: assistant.received)
    assert assistant.received[0].text == "recibo do reembolso"
    assert assistant.received[0].metadata["attachments"][0]["content_type"] == "image/jpeg"


@pytest.mark.parametrize("content_type", ["audio/ogg", "image/webp", "image/heic", "application/zip"])
async def test_what_the_policy_refuses_is_explained_before_any_download(
    channel, twilio, assistant, backend, content_type
):
    async with ChannelServer(channel, assistant) as server:
        await say(server, media(twilio, "NOT-THERE", content_type))
        await wait_until(lambda: twilio.sent)
    assert [m["Body"] for m in twilio.sent] == [REFUSAL_TEXTS[UNSUPPORTED_TYPE]]
    assert assistant.received == [] and backend.calls == 0


async def test_a_file_over_the_limit_or_not_what_it_claims_is_refused_with_the_policys_text(
    channel, twilio, assistant, backend
):
    twilio.media["BIG"] = (b"%PDF-" + b"0" * MAX_UPLOAD_BYTES, "application/pdf")
    twilio.media["EXE"] = (b"MZ\x90\x00" + b"\x00" * 100, "application/pdf")  # an executable called a PDF
    twilio.media["JUNK"] = (b"\x7fELF\x02\x01\x01" + bytes(range(256)), "text/csv")  # binary called a CSV
    async with ChannelServer(channel, assistant) as server:
        await say(server, media(twilio, "BIG", "application/pdf"))
        await wait_until(lambda: len(twilio.sent) == 1)
        await say(server, media(twilio, "EXE", "application/pdf"))
        await wait_until(lambda: len(twilio.sent) == 2)
        await say(server, media(twilio, "JUNK", "text/csv"))
        await wait_until(lambda: len(twilio.sent) == 3)
    assert [m["Body"] for m in twilio.sent] == [
        REFUSAL_TEXTS[FILE_TOO_LARGE],
        REFUSAL_TEXTS[UNSUPPORTED_TYPE],
        REFUSAL_TEXTS[UNSUPPORTED_TYPE],
    ]
    assert assistant.received == [] and backend.calls == 0


async def test_a_refusal_of_the_backend_is_told_with_its_message(channel, twilio, assistant, backend):
    twilio.media["ME3"] = (b"%PDF-1.4 mais um", "application/pdf")
    too_many = "Você enviou muitos arquivos nesta conversa."
    backend.refuse_with = (429, {"error": {"code": "too_many_files", "message": too_many}})
    async with ChannelServer(channel, assistant) as server:
        await say(server, media(twilio, "ME3", "application/pdf"))
        await wait_until(lambda: twilio.sent)
    assert [m["Body"] for m in twilio.sent] == [too_many] and assistant.received == []


async def test_a_backend_that_is_down_or_unreachable_gets_a_polite_try_again(
    channel, twilio, assistant, backend, monkeypatch, caplog
):
    twilio.media["ME4"] = (b"%PDF-1.4 recibo", "application/pdf")
    backend.down = True
    async with ChannelServer(channel, assistant) as server:
        await say(server, media(twilio, "ME4", "application/pdf"))
        await wait_until(lambda: len(twilio.sent) == 1)
        monkeypatch.setenv("BACKEND_URL", f"http://127.0.0.1:{free_port()}")  # nobody listens there
        channel.files.retry_delays = (0.01,)
        await say(server, media(twilio, "ME4", "application/pdf", body="segue o recibo"))
        await wait_until(lambda: len(twilio.sent) == 2)
    assert [m["Body"] for m in twilio.sent] == [TEXT_TRY_LATER, TEXT_TRY_LATER]
    assert assistant.received == []
    assert "Traceback" not in caplog.text


async def test_one_refused_file_of_several_is_explained_and_the_others_go_through(channel, twilio, assistant, backend):
    twilio.media["OK"] = (b"%PDF-1.4 recibo", "application/pdf")
    params = media(twilio, "OK", "application/pdf", count=2)
    params.update(MediaUrl1=f"{twilio.url}/media/AUDIO", MediaContentType1="audio/ogg")
    async with ChannelServer(channel, assistant) as server:
        await say(server, params)
        await wait_until(lambda: assistant.received and len(twilio.sent) == 2)
    assert twilio.sent[0]["Body"] == REFUSAL_TEXTS[UNSUPPORTED_TYPE]
    [attachment] = assistant.received[0].metadata["attachments"]
    assert attachment["file_id"] in backend.files


async def test_twilio_errors_are_retried(channel, twilio, assistant):
    twilio.failures_to_inject = 2
    async with ChannelServer(channel, assistant) as server:
        await say(server, form(MARIA, "olá"))
        await wait_until(lambda: twilio.sent, what="the reply after the retries")
    assert [m["Body"] for m in twilio.sent] == ["eco: olá"]


async def test_a_redelivered_message_is_processed_once(channel, twilio, assistant):
    async with ChannelServer(channel, assistant) as server:
        params = form(MARIA, "oi de novo")
        await say(server, params)
        await say(server, params)  # Twilio retrying the same MessageSid
        await channel.lanes.drain()  # whatever the two deliveries started has finished
    assert assistant.texts == ["oi de novo"] and [m["Body"] for m in twilio.sent] == ["eco: oi de novo"]


async def test_a_failing_turn_gets_an_apology_and_the_next_message_still_works(channel, twilio):
    calls = []

    async def flaky(message):
        calls.append(message.text)
        if len(calls) == 1:
            raise RuntimeError("boom")
        await message.output_channel.send_response(message.sender_id, {"text": "ok"})

    async with ChannelServer(channel, flaky) as server:
        await say(server, form(MARIA, "primeira"))
        await say(server, form(MARIA, "segunda"))
        await wait_until(lambda: len(twilio.sent) == 2)
    assert "Desculpe" in twilio.sent[0]["Body"] and twilio.sent[1]["Body"] == "ok"


async def test_pushed_messages_wait_for_the_turn_in_progress(channel, twilio, monkeypatch):
    """A message Rasa pushes outside a user turn (e.g. an agent's text) goes after the replies
    of the turn being processed, not in the middle of them."""
    turn_started, finish_turn, push_queued = asyncio.Event(), asyncio.Event(), asyncio.Event()
    lanes_submit = channel.lanes.submit

    def submit(key, job):
        future = lanes_submit(key, job)
        if turn_started.is_set():
            push_queued.set()  # the push went into a lane, it was not sent right away
        return future

    monkeypatch.setattr(channel.lanes, "submit", submit)

    async def slow_turn(message):
        turn_started.set()
        await finish_turn.wait()
        await message.output_channel.send_response(message.sender_id, {"text": f"eco: {message.text}"})

    async with ChannelServer(channel, slow_turn) as server:
        await say(server, form(MARIA, "lento"))
        await asyncio.wait_for(turn_started.wait(), 5)
        push = asyncio.ensure_future(channel.get_output_channel().send_text_message(MARIA, "mensagem do atendente"))
        await asyncio.wait_for(push_queued.wait(), 5)
        assert twilio.sent == [] and not push.done()  # it waits for the turn in progress
        finish_turn.set()
        await asyncio.wait_for(push, 5)
    assert [m["Body"] for m in twilio.sent] == ["eco: lento", "mensagem do atendente"]


async def test_the_phone_number_is_masked_in_logs(channel, twilio, assistant, caplog):
    caplog.set_level(logging.DEBUG)
    async with ChannelServer(channel, assistant) as server:
        await say(server, form("whatsapp:+14155550123", "oi"))
        await wait_until(lambda: twilio.sent)
    assert "whatsapp:" in caplog.text  # the channel did log the message
    assert "4155550123" not in caplog.text and "0123" in caplog.text


async def test_delivery_status_callbacks_are_not_taken_as_messages(channel, twilio, assistant):
    async with ChannelServer(channel, assistant) as server:
        callback = {
            "MessageSid": "SM9",
            "MessageStatus": "delivered",
            "SmsStatus": "delivered",
            "From": "whatsapp:+14155238886",
            "To": MARIA,
            "AccountSid": "AC" + "1" * 32,
        }
        assert (await say(server, callback))[0] == 204
        assert channel.lanes.busy() == 0  # the webhook queued nothing for the assistant
    assert assistant.received == [] and twilio.sent == []
