"""The widget's file upload (channels.web.socketio_channel): POST /webhooks/socketio/upload checks the
file against the upload policy (common/uploads.py), hands it to the backend like WhatsApp and Telegram
do and answers an opaque upload id, never the backend's; the message that carries the id reaches the bot
with the {"attachments": [{"file_id", ...}]} metadata of channels/common.py. Only a valid signed
session id uploads; the files waiting are capped per session and in total (count and bytes), refused
politely beyond that, and forgotten when they expire. Against the fake Rasa process (the real channel
mounted as `rasa run --cors "*"` mounts it, with the backend's inbound-file route played by the same
process) with a python-socketio client. The registry itself (expiry, the rate window, the caps), in memory
and in Redis, with a fake clock: tests/channels/test_shared_state.py."""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import io
import json
from pathlib import Path

import aiohttp
import pytest
from openpyxl import Workbook
from widget_support import Chat, FakeRasaProcess

from channels.inbound_files import TEXT_TRY_LATER
from channels.web.socketio_channel import TEXT_BUSY, TEXT_UPLOAD_LOST, SessionSigner
from common.uploads import EMPTY_FILE, FILE_TOO_LARGE, MAX_UPLOAD_BYTES, REFUSAL_TEXTS, UNSUPPORTED_TYPE
from scripts.stack import free_port

PDF = b"%PDF-1.4 recibo de consulta"
CSV = "tipo;cpf;nome\r\ninclusao;650.283.194-05;João da Conceição\r\n".encode("cp1252")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SITE = "http://site-da-operadora.example"
BOUNDARY = "----widget-test-boundary"


def xlsx() -> bytes:
    book = Workbook()
    book.active.append(["tipo", "cpf"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def start_fake(var_dir: Path, **env: str):
    process = FakeRasaProcess(free_port(), "http://127.0.0.1:1", var_dir=var_dir, env=env)
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    yield from start_fake(tmp_path_factory.mktemp("rasa-var"))


@pytest.fixture(scope="module")
def small_fake(tmp_path_factory):
    """A channel that keeps at most 3 files (or 1 MB) waiting and receives one upload at a time."""
    yield from start_fake(
        tmp_path_factory.mktemp("rasa-var-small"),
        WIDGET_UPLOADS_MAX_FILES="3",
        WIDGET_UPLOADS_MAX_MB="1",
        WIDGET_UPLOADS_IN_FLIGHT="1",
    )


async def upload(
    url: str,
    session: str | None,
    content: bytes | None = PDF,
    filename: str = "recibo.pdf",
    content_type: str = "application/pdf",
    chunked: bool = False,
) -> tuple[int, dict, str, dict]:
    """(status, JSON, raw body, headers) of a multipart POST as the widget sends it."""
    boundary = BOUNDARY
    parts = []
    if session is not None:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="session_id"\r\n\r\n{session}\r\n'.encode())
    if content is not None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    raw = b"".join(parts) + f"--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Origin": SITE}

    async def chunks():  # sent without Content-Length (Transfer-Encoding: chunked)
        for start in range(0, len(raw), 1 << 20):
            yield raw[start : start + (1 << 20)]

    kwargs = {"data": chunks() if chunked else io.BytesIO(raw), "headers": headers}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/webhooks/socketio/upload", **kwargs) as answer:
            raw = await answer.text()
            return answer.status, json.loads(raw), raw, dict(answer.headers)


def backend_files(fake: FakeRasaProcess) -> int:
    """How many files the channel handed to the (fake) backend."""
    return fake.recorded()["backend_files"]


async def set_backend(fake: FakeRasaProcess, **state) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.url}/_backend", json=state) as answer:
            assert answer.status == 200


async def test_upload_reaches_the_bot_as_the_backends_file_id_and_nothing_is_kept_here(fake):
    async with Chat(fake.url) as chat:
        status, answer, raw, headers = await upload(fake.url, chat.session)
        assert status == 201
        assert set(answer) == {"upload_id", "filename", "content_type", "size"}
        assert answer["filename"] == "recibo.pdf" and answer["size"] == len(PDF)
        assert answer["content_type"] == "application/pdf"
        assert "arquivo-do-backend" not in raw  # the backend's id stays on the server
        assert headers["Access-Control-Allow-Origin"] == SITE  # a site of another origin reads it

        reply = await chat.say("/enviar_documento", {"upload_ids": [answer["upload_id"]]})
        assert reply == f"Recebi o arquivo recibo.pdf ({len(PDF)} bytes)."
        sent = fake.recorded()["files"][-1]
        message = fake.recorded()["messages"][-1]
        assert sent["file_id"].startswith("arquivo-do-backend") and sent["file_id"] != answer["upload_id"]
        assert (sent["content_type"], sent["filename"], sent["size"]) == ("application/pdf", "recibo.pdf", len(PDF))
        # the backend holds the bytes, for this very conversation (channel + sender id)
        assert (sent["channel"], sent["conversation_id"]) == ("socketio", message["sender"])
        assert sent["start"] == "%PDF-" and sent["read"] == len(PDF)
        assert "upload_ids" not in message["metadata"]
        assert not (fake.var_dir / "uploads").exists()  # nothing on the channel's disk

        count = len(fake.recorded()["messages"])
        assert await chat.say("/enviar_documento", {"upload_ids": [answer["upload_id"]]}) == TEXT_UPLOAD_LOST
        assert len(fake.recorded()["messages"]) == count  # an id is good once; the bot is not bothered


async def test_ids_of_another_session_and_attachments_forged_by_the_browser_are_ignored(fake):
    async with Chat(fake.url) as owner, Chat(fake.url) as other:
        status, answer, _, _ = await upload(fake.url, owner.session, filename="nota fiscal.pdf")
        assert status == 201 and answer["filename"] == "nota fiscal.pdf"
        count = len(fake.recorded()["messages"])
        assert await other.say("/enviar_documento", {"upload_ids": [answer["upload_id"]]}) == TEXT_UPLOAD_LOST
        assert len(fake.recorded()["messages"]) == count

        someone_elses = {"file_id": "arquivo-do-backend-000001", "content_type": "application/pdf"}
        forged = {"attachments": [{**someone_elses, "filename": "x.pdf", "size": 1}], "origem": "site"}
        assert await other.say("/enviar_documento", forged) == "Não recebi nenhum arquivo."
        assert fake.recorded()["messages"][-1]["metadata"] == {"origem": "site"}  # other metadata passes

        reply = await owner.say("/enviar_documento", {"upload_ids": [answer["upload_id"], "nao-existe"]})
        assert reply == f"Recebi o arquivo nota fiscal.pdf ({len(PDF)} bytes)."  # still the owner's


@pytest.mark.parametrize(
    ("filename", "declared", "content", "stored_type"),
    [
        ("movimentação.csv", "text/csv", CSV, "text/csv"),
        ("lote.csv", "application/vnd.ms-excel", CSV, "text/csv"),  # how Windows names a CSV
        ("lote.xlsx", XLSX_TYPE, None, XLSX_TYPE),
    ],
    ids=["csv", "csv-as-excel", "xlsx"],
)
async def test_a_spreadsheet_reaches_the_bot_like_a_pdf(fake, filename, declared, content, stored_type):
    content = content if content is not None else xlsx()
    async with Chat(fake.url) as chat:
        status, answer, _, _ = await upload(fake.url, chat.session, content, filename, declared)
        assert status == 201, answer
        assert (answer["filename"], answer["content_type"], answer["size"]) == (filename, stored_type, len(content))
        reply = await chat.say("/enviar_documento", {"upload_ids": [answer["upload_id"]]})
        assert reply == f"Recebi o arquivo {filename} ({len(content)} bytes)."
        sent = fake.recorded()["files"][-1]
        assert (sent["content_type"], sent["read"]) == (stored_type, len(content))


def policy_error(code: str) -> dict:
    return {"code": code, "message": REFUSAL_TEXTS[code]}


async def test_what_the_policy_refuses_gets_its_text_and_never_reaches_the_backend(fake):
    before = backend_files(fake)
    async with Chat(fake.url) as chat:
        status, answer, _, _ = await upload(
            fake.url,
            chat.session,
            b"PK\x03\x04",  # a zip's first bytes, no workbook
            "planilha.xlsx",
            XLSX_TYPE,
        )
        assert (status, answer["error"]) == (415, policy_error(UNSUPPORTED_TYPE))
        xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64  # the old Excel format
        status, answer, _, _ = await upload(fake.url, chat.session, xls, "planilha.xls", "application/vnd.ms-excel")
        assert (status, answer["error"]) == (415, policy_error(UNSUPPORTED_TYPE))
        webp = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
        status, answer, _, _ = await upload(fake.url, chat.session, webp, "foto.webp", "image/webp")
        assert (status, answer["error"]) == (415, policy_error(UNSUPPORTED_TYPE))
        exe = b"MZ\x90\x00" + b"\x00" * 64  # an executable called a PDF
        status, answer, _, _ = await upload(fake.url, chat.session, exe, "recibo.pdf")
        assert (status, answer["error"]) == (415, policy_error(UNSUPPORTED_TYPE))

        just_over = b"%PDF-" + b"0" * (MAX_UPLOAD_BYTES - 4)  # inside the multipart allowance
        status, answer, _, _ = await upload(fake.url, chat.session, just_over)
        assert (status, answer["error"]) == (413, policy_error(FILE_TOO_LARGE))

        huge = b"0" * (MAX_UPLOAD_BYTES + 200 * 1024)
        for chunked in (False, True):  # refused by Content-Length, and while reading a chunked body
            status, answer, _, _ = await upload(fake.url, chat.session, huge, chunked=chunked)
            assert (status, answer["error"]) == (413, policy_error(FILE_TOO_LARGE)), chunked

        status, answer, _, _ = await upload(fake.url, chat.session, None)
        assert status == 400 and answer["error"]["code"] == "no_file"
        status, answer, _, _ = await upload(fake.url, chat.session, b"")
        assert (status, answer["error"]) == (400, policy_error(EMPTY_FILE))

        status, _, _, _ = await upload(fake.url, chat.session, b"\x89PNG\r\n\x1a\n", "foto.png", "image/png")
        assert status == 201  # the same session still sends a good file
    assert backend_files(fake) == before + 1


async def test_a_backend_that_refuses_or_is_down_is_told_politely(fake):
    waiting = fake.recorded()["uploads"]["pending_files"]
    async with Chat(fake.url) as chat:
        too_many = "Você enviou muitos arquivos nesta conversa."
        await set_backend(fake, refuse=[429, {"error": {"code": "too_many_files", "message": too_many}}])
        try:
            status, answer, _, _ = await upload(fake.url, chat.session)
            assert (status, answer["error"]) == (429, {"code": "too_many_files", "message": too_many})
            await set_backend(fake, refuse=None, down=True)
            status, answer, _, _ = await upload(fake.url, chat.session)
            assert (status, answer["error"]) == (503, {"code": "backend_unavailable", "message": TEXT_TRY_LATER})
        finally:
            await set_backend(fake, refuse=None, down=False)
        assert fake.recorded()["uploads"]["pending_files"] == waiting  # nothing half-registered
        status, _, _, _ = await upload(fake.url, chat.session)
        assert status == 201


async def test_unknown_forged_or_expired_sessions_are_refused(fake):
    async with Chat(fake.url) as chat:
        random = chat.session.split(".")[0]  # the id without its signature
        forged = [
            random,
            None,
            "",
            "../../etc/passwd",
            "a" * 200,
            "0123456789abcdef0123456789abcdef",
            SessionSigner("outro-segredo-de-outra-instalacao").issue().token,
            SessionSigner("outro-segredo-de-outra-instalacao", ttl_s=-60).issue().token,
        ]
        if chat.session.count(".") == 2:
            _, expires, signature = chat.session.split(".")
            forged += [
                f"{random}.{expires}",
                f"{random}.{expires}.{signature[::-1]}",
                f"{random}.{int(expires) + 60}.{signature}",
            ]
        for session in forged:
            status, answer, _, _ = await upload(fake.url, session)
            assert status == 400, session
            assert answer["error"] == {
                "code": "unknown_session",
                "message": "Não encontrei esta conversa. Recarregue a página e tente de novo.",
            }
        status, _, _, _ = await upload(fake.url, chat.session)
        assert status == 201  # the id the server issued


async def test_ten_files_per_session_in_ten_minutes(fake):
    async with Chat(fake.url) as busy, Chat(fake.url) as calm:
        for _ in range(10):
            status, _, _, _ = await upload(fake.url, busy.session)
            assert status == 201
        status, answer, _, _ = await upload(fake.url, busy.session)
        assert status == 429 and answer["error"]["code"] == "too_many_uploads"
        assert "Espere alguns minutos" in answer["error"]["message"]
        status, _, _, _ = await upload(fake.url, calm.session)
        assert status == 201


async def test_a_site_of_another_origin_gets_the_preflight_answered(fake):
    async with aiohttp.ClientSession() as http:
        async with http.options(
            f"{fake.url}/webhooks/socketio/upload",
            headers={
                "Origin": SITE,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        ) as answer:
            assert answer.status < 300
            assert answer.headers["Access-Control-Allow-Origin"] == SITE
            assert "POST" in answer.headers["Access-Control-Allow-Methods"]


def test_the_fake_configures_cors_as_rasa_does():
    """fake_rasa.py copies rasa.server.configure_cors instead of importing it (that loads TensorFlow)."""

    def statements(source: str) -> list[str]:
        [function] = [
            node
            for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef) and node.name == "configure_cors"
        ]
        return [
            ast.dump(node)
            for node in function.body  # the docstring aside
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        ]

    rasa_server = Path(importlib.util.find_spec("rasa").origin).with_name("server.py").read_text(encoding="utf-8")
    fake = Path(__file__).with_name("fake_rasa.py").read_text(encoding="utf-8")
    assert statements(fake) == statements(rasa_server) and len(statements(fake)) == 4


async def test_the_global_cap_refuses_politely(small_fake):
    fake = small_fake
    assert fake.recorded()["uploads"]["pending_files"] == 0  # the other test of this channel leaves none
    async with Chat(fake.url) as first, Chat(fake.url) as second, Chat(fake.url) as third, Chat(fake.url) as late:
        big = b"%PDF-" + b"0" * (700 * 1024)
        status, sent, _, _ = await upload(fake.url, first.session, big)
        assert status == 201
        status, answer, _, _ = await upload(fake.url, second.session, big)  # 1.4 MB waiting > 1 MB
        assert status == 503 and answer["error"] == {"code": "busy", "message": TEXT_BUSY}
        waiting = {}
        for chat in (second, third):
            status, answer, _, _ = await upload(fake.url, chat.session)
            assert status == 201
            waiting[chat] = answer["upload_id"]
        status, answer, _, _ = await upload(fake.url, late.session)  # a 4th file waiting > 3
        assert status == 503 and answer["error"]["message"] == TEXT_BUSY
        assert fake.recorded()["uploads"]["pending_files"] == 3

        assert (await first.say("/enviar_documento", {"upload_ids": [sent["upload_id"]]})).startswith("Recebi")
        status, answer, _, _ = await upload(fake.url, late.session)  # sent to the assistant: room again
        assert status == 201
        waiting[late] = answer["upload_id"]
        for chat, upload_id in waiting.items():
            assert (await chat.say("/enviar_documento", {"upload_ids": [upload_id]})).startswith("Recebi")
        assert fake.recorded()["uploads"]["pending_files"] == 0


async def test_one_upload_at_a_time_when_so_configured(small_fake):
    fake = small_fake
    release = asyncio.Event()
    async with Chat(fake.url) as slow, Chat(fake.url) as other:

        async def held_body():
            yield (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="session_id"\r\n\r\n{slow.session}\r\n'
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
                "Content-Type: application/pdf\r\n\r\n%PDF-"
            ).encode()
            await release.wait()
            yield f"\r\n--{BOUNDARY}--\r\n".encode()

        async def held_upload() -> tuple[int, str]:
            async with aiohttp.ClientSession() as http:
                async with http.post(
                    f"{fake.url}/webhooks/socketio/upload",
                    data=held_body(),
                    headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                ) as answer:
                    return answer.status, await answer.text()

        held = asyncio.create_task(held_upload())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while (await loop.run_in_executor(None, fake.recorded))["uploads"]["in_flight"] == 0:
            # the server's own count is the signal that the first upload is being received
            assert loop.time() < deadline, "the held upload never started"
        status, answer, _, _ = await upload(fake.url, other.session)
        assert status == 503 and answer["error"]["code"] == "busy"
        release.set()
        status, text = await held
        assert status == 201, text
        status, answer, _, _ = await upload(fake.url, other.session)
        assert status == 201
        # both files sent to the assistant: this module's channel is left with nothing waiting
        for chat, upload_id in ((slow, json.loads(text)["upload_id"]), (other, answer["upload_id"])):
            assert (await chat.say("/enviar_documento", {"upload_ids": [upload_id]})).startswith("Recebi")
    assert fake.recorded()["uploads"]["pending_files"] == 0
