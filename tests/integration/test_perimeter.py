"""Safe on a public network, the perimeter: what answers without credentials and what does not.

The session's real stack (backend, action server, Rasa, as `make run` starts them), which runs with
REST_CHANNEL_TOKEN set (tests/stack_support.py):
- Rasa's HTTP API refuses every call without RASA_TOKEN (reading a tracker, writing bot messages to
  a user's channel, swapping or unloading the model...), while health, the channels' webhooks and
  socket.io answer; with the token the API works;
- the action server refuses calls without ACTION_SERVER_TOKEN (and Rasa, which has it, still runs
  actions in a conversation);
- the REST channel wants `Authorization: Bearer <REST_CHANNEL_TOKEN>` and cannot be told it is
  another channel;
- only allowed origins get CORS answers from Rasa;
- nothing listens on a non-loopback address, and no secret is in the files under var/ or in the
  processes' command lines.
"""

from __future__ import annotations

import socket
import stat
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from rest_chat import call_json, rasa_api
from stack_support import REST_CHANNEL_TOKEN as REST_TOKEN

from bot.rasa_server import with_api_credentials
from common.local_secrets import SECRETS

pytestmark = pytest.mark.integration
# the refused calls, each of which would do harm if it went through
API_CALLS = [
    ("GET", "/conversations/{c}/tracker", None),
    (
        "POST",
        "/conversations/{c}/tracker/events?output_channel=rest&execute_side_effects=true",
        [{"event": "bot", "text": "mensagem forjada pela API"}],
    ),
    ("POST", "/conversations/{c}/trigger_intent", {"name": "esqueci_senha", "entities": []}),
    ("POST", "/conversations/{c}/messages", {"text": "oi", "sender": "user"}),
    ("GET", "/status", None),
    ("GET", "/domain", None),
    ("POST", "/model/parse", {"text": "esqueci minha senha"}),
    ("PUT", "/model", {"model_file": "/tmp/nao-existe.tar.gz"}),
    ("DELETE", "/model", None),
]


def rest(stack, body: dict, headers: dict | None = None):
    return call_json("POST", f"{stack.rasa_url}/webhooks/rest/webhook", body, headers)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def get(url: str, headers: dict | None = None) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode(errors="replace")


# --- no stack needed -------------------------------------------------------------------------


def test_rasa_api_never_starts_open():
    run = ["run", "--enable-api", "--port", "5005"]
    with pytest.raises(SystemExit, match="RASA_TOKEN"):
        with_api_credentials(run, {})
    assert with_api_credentials(run, {"RASA_TOKEN": "t"}) == [*run, "--auth-token=t"]
    assert with_api_credentials(run, {"RASA_TOKEN": "t", "RASA_JWT_SECRET": "j"})[-2:] == [
        "--auth-token=t",
        "--jwt-secret=j",
    ]
    assert with_api_credentials([*run, "--auth-token", "explicit"], {"RASA_TOKEN": "t"}).count("--auth-token") == 1
    assert with_api_credentials(["run", "--port", "5005"], {}) == ["run", "--port", "5005"]  # no API, no token


def test_a_generated_token_that_starts_with_a_dash_reaches_rasa_intact():
    """token_urlsafe() starts with '-' once in 64 draws; Rasa's own parser must read it as the value."""
    from rasa.__main__ import create_argument_parser

    argv = with_api_credentials(["run", "--enable-api"], {"RASA_TOKEN": "-Xy_12", "RASA_JWT_SECRET": "--j"})
    args = create_argument_parser().parse_args(argv)
    assert (args.auth_token, args.jwt_secret) == ("-Xy_12", "--j")


# --- the running stack -----------------------------------------------------------------------


def test_rest_channel_requires_its_bearer_token(stack):
    body = {"sender": "perimetro-rest", "message": "esqueci minha senha"}
    for headers in (
        {},
        bearer("errado"),
        bearer(REST_TOKEN + "x"),
        {"Authorization": REST_TOKEN},
        {"Authorization": f"Basic {REST_TOKEN}"},
    ):
        status, answer = rest(stack, body, headers)
        assert status == 401, (headers, status, answer)
    # with the bearer and no Rasa API token: the channel answers, and Rasa ran the form's custom
    # actions (so Rasa reaches the action server with its secret)
    status, messages = rest(stack, body, bearer(REST_TOKEN))
    assert status == 200 and "carteirinha" in " ".join(m.get("text", "") for m in messages).lower(), messages
    # the tracker holds only the authorised message
    status, tracker = rasa_api(stack, "GET", "/conversations/perimetro-rest/tracker")
    assert status == 200
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == ["esqueci minha senha"]


def test_rest_client_cannot_claim_another_channel(stack):
    status, _ = rest(
        stack, {"sender": "perimetro-canal", "message": "oi", "input_channel": "whatsapp"}, bearer(REST_TOKEN)
    )
    assert status == 200
    status, tracker = rasa_api(stack, "GET", "/conversations/perimetro-canal/tracker")
    assert status == 200
    assert {e["input_channel"] for e in tracker["events"] if e["event"] == "user"} == {"rest"}


def test_health_and_socketio_answer_without_credentials(stack):
    status, _, text = get(f"{stack.rasa_url}/")
    assert status == 200 and "Rasa" in text
    status, _, text = get(f"{stack.rasa_url}/socket.io/?EIO=4&transport=polling")
    assert status == 200 and '"sid"' in text  # engine.io handshake


def test_cors_only_for_the_widget_origins(stack):
    url = f"{stack.rasa_url}/socket.io/?EIO=4&transport=polling"
    widget_page = stack.environment()["PUBLIC_BACKEND_URL"].rstrip("/")
    _, headers, _ = get(url, {"Origin": widget_page})
    assert headers.get("Access-Control-Allow-Origin") == widget_page
    _, headers, _ = get(url, {"Origin": "https://site-malicioso.example"})
    assert "Access-Control-Allow-Origin" not in headers


def test_rasa_api_works_with_the_token(stack):
    status, _ = rest(stack, {"sender": "perimetro-leitura", "message": "oi"}, bearer(REST_TOKEN))
    assert status == 200
    status, tracker = rasa_api(stack, "GET", "/conversations/perimetro-leitura/tracker")
    assert status == 200 and tracker["sender_id"] == "perimetro-leitura"
    assert any(e["event"] == "user" and e["text"] == "oi" for e in tracker["events"])


def test_action_server_requires_the_shared_secret(stack):
    secret = stack.environment()["ACTION_SERVER_TOKEN"]
    call = {
        "next_action": "action_cancelar",
        "sender_id": "perimetro-acao",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "perimetro-acao",
            "slots": {},
            "latest_message": {},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        },
    }
    for headers in ({}, bearer("errado"), {"Authorization": secret}, bearer(secret[:-1])):
        for method, path, body in (("POST", "/webhook", call), ("POST", "/webhook/", call), ("GET", "/actions", None)):
            status, answer = call_json(method, f"{stack.actions_url}{path}", body, headers)
            assert status == 401, (path, headers, status, answer)
    assert get(f"{stack.actions_url}/health")[0] == 200
    status, answer = call_json("POST", f"{stack.actions_url}/webhook", call, bearer(secret))
    assert status == 200 and "events" in answer, answer
    status, actions = call_json("GET", f"{stack.actions_url}/actions", None, bearer(secret))
    assert status == 200 and {"name": "action_cancelar"} in actions


def _non_loopback_addresses() -> list[str]:
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    return [a for a in out.split() if not a.startswith("127.") and a != "::1" and not a.startswith("fe80")]


def _connects(address: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(3)
        try:
            s.connect((address, port))
            return True
        except OSError:
            return False


def test_processes_listen_on_loopback_only(stack):
    addresses = _non_loopback_addresses()
    if not addresses:
        pytest.skip("this machine has no non-loopback address")
    ports = {"backend": stack.backend_port, "actions": stack.actions_port, "rasa": stack.rasa_port}
    for name, port in ports.items():
        assert _connects("127.0.0.1", port), name
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as control:  # the address is reachable at all
            control.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
            control.listen()
            assert _connects(address, control.getsockname()[1]), address
        for name, port in ports.items():
            assert not _connects(address, port), f"{name} answers on {address}:{port}"


def test_no_secret_in_var_files_or_command_lines(stack):
    env = stack.environment()
    secrets = [env[name] for name in SECRETS]
    secrets.append(REST_TOKEN)
    for name in ("endpoints.yml", "credentials.yml"):
        path = Path(stack.var_dir) / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
        text = path.read_text()
        assert not [s for s in secrets if s in text], name
    for process in stack.processes:
        cmdline = Path(f"/proc/{process.popen.pid}/cmdline").read_bytes().decode(errors="replace")
        assert not [s for s in secrets if s in cmdline], process.name


def test_rasa_api_refuses_calls_without_credentials(stack):
    """On a Rasa without the token check, DELETE /model would unload the model: it is loaded again
    afterwards, so that the tests after this one (in any order) still have an assistant."""
    conversation = "perimetro-api"
    status, _ = rest(stack, {"sender": conversation, "message": "oi"}, bearer(REST_TOKEN))
    assert status == 200
    try:
        for token in (None, "errado", ""):
            for method, path, body in API_CALLS:
                status, answer = rasa_api(stack, method, path.format(c=conversation), body, token=token)
                assert status in (401, 403), (method, path, token, status, answer)
    finally:
        _, loaded = rasa_api(stack, "GET", "/status")
        if not (isinstance(loaded, dict) and loaded.get("model_file")):
            rasa_api(stack, "PUT", "/model", {"model_file": str(stack.model)})
    # nothing of it happened: no forged bot message, the model still answers
    status, tracker = rasa_api(stack, "GET", f"/conversations/{conversation}/tracker")
    assert status == 200
    assert not [e for e in tracker["events"] if e["event"] == "bot" and e.get("text") == "mensagem forjada pela API"]
    status, messages = rest(stack, {"sender": conversation, "message": "esqueci minha senha"}, bearer(REST_TOKEN))
    assert status == 200 and messages, messages
