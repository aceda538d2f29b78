"""Talking to the running assistant the way a REST-channel user does, and reading its mail."""

from __future__ import annotations

import itertools
import mailbox
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from stack_support import http_json

from scripts.stack import Stack


def post_json(url: str, payload: dict, headers: dict | None = None) -> tuple[int, dict | list]:
    return call_json("POST", url, payload, headers)


def call_json(method: str, url: str, payload=None, headers: dict | None = None) -> tuple[int, dict | list | str | None]:
    """One HTTP call; (status, the JSON body, or the text when it is not JSON)."""
    return http_json(method, url, payload, headers)


def rest_headers(stack: Stack) -> dict[str, str]:
    """What a REST-channel client sends: the bearer token when the stack's Rasa requires one
    (REST_CHANNEL_TOKEN), nothing otherwise (local use, as in the README)."""
    token = stack.environment().get("REST_CHANNEL_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


def rasa_api(stack: Stack, method: str, path: str, payload=None, *, token: str | None = "stack"):
    """Rasa's HTTP API; token="stack" sends the stack's RASA_TOKEN (`?token=`, as Rasa reads it),
    None sends no credentials, anything else is sent as is."""
    if token == "stack":
        token = stack.environment()["RASA_TOKEN"]
    url = f"{stack.rasa_url}{path}"
    if token is not None:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"token": token})
    return call_json(method, url, payload)


_senders = itertools.count()


class Chat:
    """One user talking to the assistant through Rasa's REST channel."""

    def __init__(self, stack: Stack, name: str):
        self.stack = stack
        self.sender = f"{name}-{next(_senders)}"
        self.last: list[dict] = []
        self.headers = rest_headers(stack)

    def say(self, text: str, metadata: dict | None = None) -> str:
        body = {"sender": self.sender, "message": text, **({"metadata": metadata} if metadata else {})}
        status, messages = post_json(f"{self.stack.rasa_url}/webhooks/rest/webhook", body, self.headers)
        assert status == 200, messages
        self.last = messages
        return "\n".join(m.get("text", "") for m in messages)

    @property
    def buttons(self) -> list[str]:
        return [b["title"] for m in self.last for b in m.get("buttons", [])]


def mails_to(stack: Stack, address: str) -> list[str]:
    """Plain-text bodies of the messages the backend wrote to the Maildir for `address` (since the
    module started: stack_support.SharedStack.fresh empties it)."""
    folder = Path(stack.var_dir) / "mail"
    if not folder.exists():
        return []
    box = mailbox.Maildir(folder, create=False)
    bodies = []
    for message in box:
        if address not in message["To"]:
            continue
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                bodies.append(part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8"))
    return bodies


PROTOCOL_RE = re.compile(r"\b\d{20}\b")


LINK_RE = re.compile(r"https?://\S+/conta/[a-z-]+/[A-Za-z0-9_-]+")
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def submit_page_form(url: str, fields: dict) -> tuple[int, str]:
    """Opens a backend page like a browser (keeping its CSRF cookie) and submits its form."""
    import http.cookiejar
    import urllib.parse

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(url, timeout=30) as resp:
        token = _CSRF_RE.search(resp.read().decode())
    assert token, f"no form at {url}"
    data = urllib.parse.urlencode({"csrf_token": token.group(1), **fields}).encode()
    try:
        with opener.open(url, data=data, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
