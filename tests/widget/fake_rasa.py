"""A stand-in for the Rasa server, run as its own process: the same Sanic server and the same socket.io
channel (channels.web.socketio_channel, with session_persistence), but a scripted bot instead of a
trained model. Mounted as Rasa mounts it (`rasa run --cors "*"`: Sanic-CORS on the app, the channel's
blueprint under /webhooks/socketio, so the widget's upload route is /webhooks/socketio/upload). It also
plays an operator's site on another origin (GET /site, pasting the widget's one <script> tag) and
answers GET /_recorded (what the bot received, how many messages it has finished answering, files sent to
it read back from the backend by their id, and the size of the channel's socket.io rooms and upload
registry). It also plays the backend's POST /api/inbound-files, where the channel hands the files
(BACKEND_URL points at this process; the upload policy checked as the backend does); POST /_backend
{"down": bool, "refuse": [status, body] | null} makes that route fail. FAKE_RASA_BACKEND_URL hands the
channel's files to another fake instead (several instances, one backend). POST /_push {"recipient",
"text"} sends a text through the channel's output channel, as Rasa's HTTP API does for an agent's reply.

    python tests/widget/fake_rasa.py PORT BACKEND_URL [rasa]   (rasa: Rasa's own SocketIOInput instead)
"""

from __future__ import annotations

import itertools
import os
import sys
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from rasa.core.channels.socketio import SocketIOInput
from sanic import Sanic, response
from sanic_cors import CORS

from channels.web.socketio_channel import WebSocketIOInput
from common.uploads import UploadRefused, check_content, safe_filename

SERVICE_TOKEN = "token-de-servico-do-fake"

INJECTION = '<img src=x onerror="window.hacked=1">'
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2b4"
    "28ef0000000049454e44ae426082"
)


def configure_cors(app: Sanic, cors_origins=""):
    """rasa.server.configure_cors of Rasa 3.6, statement for statement (test_socketio_upload checks it):
    importing rasa.server loads TensorFlow, five seconds more at every start of this process."""
    app.config.CORS_AUTOMATIC_OPTIONS = True
    app.config.CORS_SUPPORTS_CREDENTIALS = True
    app.config.CORS_EXPOSE_HEADERS = "filename"

    CORS(app, resources={r"/*": {"origins": cors_origins or ""}}, automatic_options=True)


def build(port: int, backend_url: str, channel_class=WebSocketIOInput) -> Sanic:
    base = f"http://127.0.0.1:{port}"
    recorded = {"messages": [], "files": [], "answered": 0}
    inbound: dict[str, dict] = {}  # what the channel handed to the "backend", by id
    backend_state: dict = {"down": False, "refuse": None}
    ids = itertools.count(1)
    os.environ["BACKEND_URL"] = os.environ.get("FAKE_RASA_BACKEND_URL") or base  # by default, this process
    os.environ["BACKEND_SERVICE_TOKEN"] = SERVICE_TOKEN
    app = Sanic("fake_rasa")
    configure_cors(app, "*")

    @app.post("/api/inbound-files")
    async def inbound_file(request):
        """The backend's route as the channel uses it (service token, conversation headers, policy)."""
        if backend_state["down"]:
            return response.json({"error": {"code": "internal_error", "message": "falhou"}}, status=503)
        if request.headers.get("authorization") != f"Bearer {SERVICE_TOKEN}":
            return response.json({"error": {"code": "service_unauthorized", "message": "x"}}, status=401)
        if backend_state["refuse"]:
            status, body = backend_state["refuse"]
            return response.json(body, status=status)
        content = request.body or b""
        try:
            kind = check_content(content)
        except UploadRefused as exc:
            return response.json({"error": {"code": exc.code, "message": exc.message}}, status=exc.status)
        file_id = f"arquivo-do-backend-{next(ids):06d}"
        inbound[file_id] = {
            "channel": request.headers.get("x-channel"),
            "conversation_id": request.headers.get("x-conversation-id"),
            "content": content,
        }
        name = safe_filename(request.args.get("filename"), kind.extension)
        return response.json(
            {"id": file_id, "filename": name, "content_type": kind.content_type, "size": len(content)}, status=201
        )

    @app.post("/_backend")
    async def backend_control(request):
        backend_state.update(request.json or {})
        return response.json(backend_state)

    async def bot(message) -> None:
        """Answers the way Rasa's SocketIOOutput would for these responses."""
        recorded["messages"].append({"text": message.text, "sender": message.sender_id, "metadata": message.metadata})
        out, session, text = message.output_channel, message.sender_id, message.text
        if text == "/saudacao":
            await out.send_text_with_buttons(
                session,
                "Olá! Sou o assistente virtual. O que você precisa?",
                [
                    {"title": "Esqueci minha senha", "payload": "/esqueci_senha"},
                    {"title": "Falar com atendente", "payload": "/falar_com_atendente"},
                ],
            )
        elif text == "/esqueci_senha":
            await out.send_text_message(session, "Vamos lá. Qual é o número da sua carteirinha?")
        elif text == "mostre tudo":
            await out.send_text_message(
                session, f"Linha um\nLinha dois com https://exemplo.com.br/ajuda?x=1. e {INJECTION}"
            )
            await out.send_image_url(session, f"{base}/img/cartao.png")
            # what bot/actions/verified.py sends: a bare json_message, not wrapped in "data"
            await out.send_custom_json(
                session,
                {
                    "type": "document",
                    "url": f"{base}/boleto.pdf",
                    "filename": "boleto-2025-05.pdf",
                    "caption": "Aqui está a segunda via.",
                },
            )
        elif text == "/enviar_documento":
            attachments = (message.metadata or {}).get("attachments") or []
            for item in attachments:
                stored = inbound[item["file_id"]]  # what the action's backend call would find
                content = stored["content"]
                recorded["files"].append(
                    {
                        **item,
                        "channel": stored["channel"],
                        "conversation_id": stored["conversation_id"],
                        "start": content[:5].decode("latin-1"),
                        "read": len(content),
                    }
                )
                await out.send_text_message(session, f"Recebi o arquivo {item['filename']} ({item['size']} bytes).")
            if not attachments:
                await out.send_text_message(session, "Não recebi nenhum arquivo.")
        else:
            await out.send_text_message(session, f"Você disse: {text}")
        recorded["answered"] += 1  # every answer to this message has been handed to the channel

    channel = channel_class.from_credentials(
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
    )
    app.blueprint(channel.blueprint(bot), url_prefix=f"/webhooks/{channel.url_prefix()}")  # as rasa run does

    @app.get("/site", error_format="text")
    async def site(request):
        html = f"""<!doctype html><html lang="pt-BR"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Site da operadora</title>
<style>button {{ width: 100%; background: red; }} * {{ font-family: serif; }}</style></head>
<body><h1>Site da operadora</h1><p><a href="#inicio">Início</a></p>
<script src="{escape(backend_url)}/widget/widget.js" data-rasa-url="{base}" data-title="Ajuda Vida"
        data-primary-color="#ffd54f" data-init-payload="/saudacao"
        defer></script>
</body></html>"""
        return response.html(html)

    @app.get("/img/cartao.png", error_format="text")
    async def image(request):
        return response.raw(PNG_1X1, content_type="image/png")

    @app.listener("after_server_start")
    async def announce_ready(*_):
        """Tells widget_support.FakeRasaProcess that it serves (the fd it passed in FAKE_RASA_READY_FD)."""
        if os.environ.get("FAKE_RASA_READY_FD"):
            ready = int(os.environ["FAKE_RASA_READY_FD"])
            os.write(ready, b"ready\n")
            os.close(ready)

    @app.post("/_push")
    async def push(request):
        """What Rasa's HTTP API does with an agent's reply: the channel's output channel, to a recipient."""
        await channel.get_output_channel().send_text_message(request.json["recipient"], request.json["text"])
        return response.json({"pushed": True})

    @app.get("/_recorded", error_format="text")
    async def recorded_view(request):
        rooms = channel.sio.manager.rooms.get("/", {})
        uploads = getattr(channel, "uploads", None)
        sizes = await uploads.sizes() if hasattr(uploads, "sizes") else None
        return response.json(
            {
                **recorded,
                "rooms": len(rooms),
                "members": {str(room): len(sids) for room, sids in rooms.items()},
                "uploads": sizes,
                "backend_files": len(inbound),
            }
        )

    return app


if __name__ == "__main__":
    port, backend = int(sys.argv[1]), sys.argv[2]
    channel_class = SocketIOInput if sys.argv[3:] == ["rasa"] else WebSocketIOInput
    build(port, backend, channel_class).run(host="127.0.0.1", port=port, access_log=False, workers=1)
