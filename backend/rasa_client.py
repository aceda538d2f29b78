"""The backend's one HTTP client to the Rasa server's HTTP API (`rasa run --enable-api`).

Used by the call-centre handoff (docs/handoff.md). Every call goes to whichever Rasa worker the
load balancer picks: Rasa takes the conversation's lock (lock store: Redis with several workers) and
reads/writes the shared tracker store, and that worker's input channels send the message (WhatsApp
and Telegram through their provider's API, the web widget through socket.io).

- `send_text`: POST /conversations/{id}/tracker/events?output_channel=<channel>&execute_side_effects=true
  with one `bot` event. Appending events ignores ConversationPaused (only the prediction loop checks
  it), so the agent's text reaches the user while the bot is paused, and it is kept in the tracker.
- `resume`: POST .../tracker/events {"event": "resume"}, then POST .../trigger_intent
  {"name": RESUME_INTENT}: the bot predicts its next action (the lead's rule runs
  RESUME_ACTION, which tells the user and asks whether there is anything else).
- `tracker_events`: GET /conversations/{id}/tracker -> the events, to read what the user wrote
  while paused.

Every one of these routes is behind Rasa's `requires_auth` (rasa/server.py): the stack always runs
Rasa with `--auth-token` (RASA_TOKEN), which Rasa reads only from the `token` query parameter, so
each call carries `?token=<RASA_TOKEN>`. The token is never logged here (only the base URL is).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import aiohttp

log = logging.getLogger(__name__)

RESUME_INTENT = "atendimento_encerrado"  # the bot's rule: this intent -> RESUME_ACTION
RESUME_ACTION = "action_retomar_atendimento"
TIMEOUT = aiohttp.ClientTimeout(total=10)
PATH_SEGMENT_SAFE = ":@!$&'()*+,;="  # RFC 3986 pchar besides unreserved


class RasaUnavailable(Exception):
    """Rasa did not answer, or answered with an error."""


class RasaClient:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    def _url(self, conversation_id: str, tail: str) -> str:
        # Rasa's router (Sanic 21) does not unquote path parameters: characters legal in a path
        # segment (':' and '+' of "whatsapp:+55...") must go as they are, or the id would not match.
        return f"{self.base_url}/conversations/{quote(conversation_id, safe=PATH_SEGMENT_SAFE)}/{tail}"

    def _params(self, **params: str) -> dict[str, str]:
        if self.token:
            params["token"] = self.token
        return params

    async def _call(self, method: str, url: str, *, params: dict, body: Any = None) -> tuple[int, Any]:
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
                async with http.request(method, url, params=params, json=body) as response:
                    try:
                        data = await response.json(content_type=None)
                    except ValueError:
                        data = None
                    return response.status, data
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("rasa unreachable", extra={"error": type(exc).__name__})
            raise RasaUnavailable(str(exc)) from exc

    async def _expect_ok(self, method: str, url: str, *, params: dict, body: Any = None) -> Any:
        status, data = await self._call(method, url, params=params, body=body)
        if status >= 400:
            log.warning(
                "rasa refused a call",
                extra={
                    "status": status,
                    "path": url.split("/conversations/")[0],
                    **({"hint": "RASA_TOKEN missing or not the one Rasa runs with"} if status in (401, 403) else {}),
                },
            )
            raise RasaUnavailable(f"HTTP {status}")
        return data

    async def send_text(self, conversation_id: str, channel: str, text: str, *, metadata: dict | None = None) -> None:
        """The text reaches the user on `channel` (the Rasa input channel's name)."""
        event = {"event": "bot", "text": text, "metadata": metadata or {}}
        await self._expect_ok(
            "POST",
            self._url(conversation_id, "tracker/events"),
            params=self._params(output_channel=channel, execute_side_effects="true"),
            body=[event],
        )

    async def pause(self, conversation_id: str) -> None:
        """The bot stops answering this conversation (the user's messages are only logged)."""
        await self._expect_ok(
            "POST", self._url(conversation_id, "tracker/events"), params=self._params(), body=[{"event": "pause"}]
        )

    async def resume(self, conversation_id: str, channel: str, fallback_text: str) -> None:
        """Ends the pause and lets the bot speak; if the bot has no RESUME_INTENT yet (404), the
        fallback text is sent as a plain bot message."""
        # The user's messages while paused were logged without the bot's turns; an action_listen is
        # added with the resume so that the bot's rule for RESUME_INTENT matches a fresh turn.
        await self._expect_ok(
            "POST",
            self._url(conversation_id, "tracker/events"),
            params=self._params(),
            body=[{"event": "resume"}, {"event": "action", "name": "action_listen"}],
        )
        status, _ = await self._call(
            "POST",
            self._url(conversation_id, "trigger_intent"),
            params=self._params(output_channel=channel),
            body={"name": RESUME_INTENT, "entities": []},
        )
        if status == 404:
            log.warning("the bot has no resume intent; sending the fallback text", extra={"intent": RESUME_INTENT})
            await self.send_text(conversation_id, channel, fallback_text)
        elif status >= 400:
            raise RasaUnavailable(f"HTTP {status}")

    async def tracker_events(self, conversation_id: str) -> list[dict]:
        data = await self._expect_ok("GET", self._url(conversation_id, "tracker"), params=self._params())
        return list((data or {}).get("events") or [])
