"""Talking to the running assistant the way a REST-channel user does, and reading its mail."""
from __future__ import annotations

import itertools
import json
import mailbox
import re
import urllib.error
import urllib.request
from pathlib import Path

from scripts.stack import Stack


def post_json(url: str, payload: dict) -> tuple[int, dict | list]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


_senders = itertools.count()


class Chat:
    """One user talking to the assistant through Rasa's REST channel."""

    def __init__(self, stack: Stack, name: str):
        self.stack = stack
        self.sender = f"{name}-{next(_senders)}"
        self.last: list[dict] = []

    def say(self, text: str, metadata: dict | None = None) -> str:
        body = {"sender": self.sender, "message": text, **({"metadata": metadata} if metadata else {})}
        status, messages = post_json(f"{self.stack.rasa_url}/webhooks/rest/webhook", body)
        assert status == 200, messages
        self.last = messages
        return "\n".join(m.get("text", "") for m in messages)

    @property
    def buttons(self) -> list[str]:
        return [b["title"] for m in self.last for b in m.get("buttons", [])]


def mails_to(stack: Stack, address: str) -> list[str]:
    """Plain-text bodies of the messages the backend wrote to the Maildir for `address`."""
    box = mailbox.Maildir(Path(stack.var_dir) / "mail", create=False)
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
