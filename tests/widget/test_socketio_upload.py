"""The widget's file upload (channels.web.socketio_channel): POST /webhooks/socketio/upload stores the
file like WhatsApp and Telegram do and answers an opaque upload id, never the server path; the message
that carries the id reaches the bot with the {"attachments": [...]} metadata of channels/common.py.
Against the fake Rasa process (the real channel mounted as `rasa run --cors "*"` mounts it) with a
python-socketio client, plus the in-memory bookkeeping with a fake clock."""
from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import aiohttp
import pytest
import socketio

from channels.common import MAX_ATTACHMENT_BYTES, Attachment
from channels.web.socketio_channel import TEXT_UPLOAD_LOST, WebUploads
from widget_support import FakeRasaProcess, free_port, hang_up

PDF = b"%PDF-1.4 recibo de consulta"
SITE = "http://site-da-operadora.example"


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("rasa-var")
    process = FakeRasaProcess(free_port(), "http://127.0.0.1:1", var_dir=var_dir)
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


class Chat:
    """One widget conversation: a socket.io client that did session_request, and its answers."""

    def __init__(self, url: str):
        self.url = url
        self.client = socketio.AsyncClient(reconnection=False)
        self.answers: list = []
        self.session: str | None = None

    async def __aenter__(self) -> "Chat":
        confirmed = asyncio.get_running_loop().create_future()
        self.client.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
        self.client.on("bot_uttered", self.answers.append)
        await self.client.connect(self.url, transports=["polling"])
        await self.client.emit("session_request", {"session_id": None})
        self.session = await asyncio.wait_for(confirmed, 10)
        return self

    async def __aexit__(self, *exc) -> None:
        await hang_up(self.client)

    async def say(self, message: str, metadata: dict | None = None) -> str:
        """Sends a message and returns the text of the next answer."""
        seen = len(self.answers)
        await self.client.emit("user_uttered", {"message": message, "session_id": self.session,
                                                "metadata": metadata or {}})
        for _ in range(100):
            if len(self.answers) > seen:
                return self.answers[seen].get("text")
            await asyncio.sleep(0.1)
        raise AssertionError(f"no answer to {message!r}")


async def upload(url: str, session: str | None, content: bytes | None = PDF, filename: str = "recibo.pdf",
                 content_type: str = "application/pdf", chunked: bool = False) -> tuple[int, dict, str, dict]:
    """(status, JSON, raw body, headers) of a multipart POST as the widget sends it."""
    boundary = "----widget-test-boundary"
    parts = []
    if session is not None:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="session_id"\r\n\r\n{session}\r\n'.encode())
    if content is not None:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + content + b"\r\n")
    raw = b"".join(parts) + f"--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Origin": SITE}

    async def chunks():  # sent without Content-Length (Transfer-Encoding: chunked)
        for start in range(0, len(raw), 1 << 20):
            yield raw[start:start + (1 << 20)]

    kwargs = {"data": chunks() if chunked else io.BytesIO(raw), "headers": headers}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/webhooks/socketio/upload", **kwargs) as answer:
            raw = await answer.text()
            return answer.status, json.loads(raw), raw, dict(answer.headers)


def stored_files(fake: FakeRasaProcess) -> list[Path]:
    return sorted(p for p in (fake.var_dir / "uploads" / "inbound").rglob("*") if p.is_file())


async def test_upload_reaches_the_bot_as_attachments_and_the_browser_never_sees_the_path(fake):
    async with Chat(fake.url) as chat:
        status, answer, raw, headers = await upload(fake.url, chat.session)
        assert status == 201
        assert set(answer) == {"upload_id", "filename", "content_type", "size"}
        assert answer["filename"] == "recibo.pdf" and answer["size"] == len(PDF)
        assert answer["content_type"] == "application/pdf"
        assert "inbound" not in raw and str(fake.var_dir) not in raw
        assert headers["Access-Control-Allow-Origin"] in (SITE, "*")  # a site of another origin reads it

        reply = await chat.say("/enviar_documento", {"upload_ids": [answer["upload_id"]]})
        assert reply == f"Recebi o arquivo recibo.pdf ({len(PDF)} bytes)."
        sent = fake.recorded()["files"][-1]
        inbound = (fake.var_dir / "uploads" / "inbound").resolve()
        assert inbound in Path(sent["path"]).resolve().parents
        assert (sent["content_type"], sent["filename"], sent["size"]) == ("application/pdf", "recibo.pdf", len(PDF))
        assert sent["start"] == "%PDF-" and sent["read"] == len(PDF)
        message = fake.recorded()["messages"][-1]
        assert message["sender"] == chat.session and "upload_ids" not in message["metadata"]

        count = len(fake.recorded()["messages"])
        assert await chat.say("/enviar_documento", {"upload_ids": [answer["upload_id"]]}) == TEXT_UPLOAD_LOST
        assert len(fake.recorded()["messages"]) == count  # an id is good once; the bot is not bothered


async def test_ids_of_another_session_and_attachments_forged_by_the_browser_are_ignored(fake):
    async with Chat(fake.url) as owner, Chat(fake.url) as other:
        status, answer, _, _ = await upload(fake.url, owner.session, filename="nota fiscal.pdf")
        assert status == 201 and answer["filename"] == "nota_fiscal.pdf"
        count = len(fake.recorded()["messages"])
        assert await other.say("/enviar_documento", {"upload_ids": [answer["upload_id"]]}) == TEXT_UPLOAD_LOST
        assert len(fake.recorded()["messages"]) == count

        path = Path(__file__).resolve()
        forged = {"attachments": [{"path": str(path), "content_type": "application/pdf",
                                   "filename": "x.pdf", "size": 1}], "origem": "site"}
        assert await other.say("/enviar_documento", forged) == "Não recebi nenhum arquivo."
        assert fake.recorded()["messages"][-1]["metadata"] == {"origem": "site"}  # other metadata passes

        reply = await owner.say("/enviar_documento", {"upload_ids": [answer["upload_id"], "nao-existe"]})
        assert reply == f"Recebi o arquivo nota_fiscal.pdf ({len(PDF)} bytes)."  # still the owner's


async def test_wrong_type_and_too_big_files_are_refused_in_portuguese(fake):
    before = stored_files(fake)
    async with Chat(fake.url) as chat:
        status, answer, _, _ = await upload(fake.url, chat.session, b"PK\x03\x04", "planilha.xlsx",
                                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        assert status == 415
        assert answer["error"] == {"code": "unsupported_type",
                                   "message": "Só consigo receber arquivos em PDF ou fotos (JPG ou PNG)."}

        just_over = b"%PDF-" + b"0" * (MAX_ATTACHMENT_BYTES - 4)  # inside the multipart allowance
        status, answer, _, _ = await upload(fake.url, chat.session, just_over)
        assert status == 413 and answer["error"]["code"] == "too_large"
        assert answer["error"]["message"] == "Esse arquivo é grande demais: o limite é de 16 MB."

        huge = b"0" * (MAX_ATTACHMENT_BYTES + 200 * 1024)
        for chunked in (False, True):  # refused by Content-Length, and while reading a chunked body
            status, answer, _, _ = await upload(fake.url, chat.session, huge, chunked=chunked)
            assert status == 413 and answer["error"]["message"].startswith("Esse arquivo é grande demais"), chunked

        status, answer, _, _ = await upload(fake.url, chat.session, None)
        assert status == 400 and answer["error"]["code"] == "no_file"

        status, _, _, _ = await upload(fake.url, chat.session, b"\x89PNG\r\n\x1a\n", "foto.png", "image/png")
        assert status == 201  # the same session still sends a good file
    assert len(stored_files(fake)) == len(before) + 1


async def test_unknown_or_malformed_sessions_are_refused(fake):
    for session in (None, "", "../../etc/passwd", "a" * 200, "0123456789abcdef0123456789abcdef"):
        status, answer, _, _ = await upload(fake.url, session)
        assert status == 400, session
        assert answer["error"] == {"code": "unknown_session",
                                   "message": "Não encontrei esta conversa. Recarregue a página e tente de novo."}


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
        async with http.options(f"{fake.url}/webhooks/socketio/upload", headers={
                "Origin": SITE, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type"}) as answer:
            assert answer.status < 300
            assert answer.headers["Access-Control-Allow-Origin"] in (SITE, "*")
            assert "POST" in answer.headers["Access-Control-Allow-Methods"]


def attachment(tmp_path: Path, name: str) -> Attachment:
    directory = tmp_path / "uploads" / "inbound" / name
    directory.mkdir(parents=True)
    path = directory / f"{name}.pdf"
    path.write_bytes(PDF)
    return Attachment(str(path), "application/pdf", path.name, len(PDF))


def test_unsent_uploads_expire_and_their_files_are_deleted(tmp_path, monkeypatch):
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    now = [1000.0]
    uploads = WebUploads(ttl_s=3600, clock=lambda: now[0])
    old, kept = attachment(tmp_path, "antigo"), attachment(tmp_path, "novo")
    old_id = uploads.add("sessao-aaaaaaaaaaaaaaaa", old)
    now[0] += 3000
    kept_id = uploads.add("sessao-aaaaaaaaaaaaaaaa", kept)
    now[0] += 700  # the first is now 3700 s old
    assert uploads.take("sessao-aaaaaaaaaaaaaaaa", [old_id, kept_id, 42, None]) == [kept]
    assert not Path(old.path).exists() and not Path(old.path).parent.exists()
    assert Path(kept.path).exists()  # sent to the bot: the bot's to keep


def test_the_rate_limit_window_slides():
    now = [0.0]
    uploads = WebUploads(limit=2, window_s=600, clock=lambda: now[0])
    assert uploads.allow("s") and uploads.allow("s") and not uploads.allow("s")
    now[0] += 599
    assert not uploads.allow("s")
    now[0] += 2
    assert uploads.allow("s")
    uploads.seen("s")
    assert uploads.known("s") and not uploads.known("t")
