"""Rasa's REST channel behind an optional bearer token (credentials.yml: `channels.rest.RestInput`).

Same name ("rest"), same path (POST /webhooks/rest/webhook) and same body as Rasa's own channel.
The REST channel trusts the body's `sender`: whoever can reach it can talk as any conversation.
So it is meant for trusted integrations only, and:

- with REST_CHANNEL_TOKEN set, every route of the channel requires `Authorization: Bearer <token>`
  (401 JSON otherwise; constant-time comparison);
- unset, the channel is open, for local use (`make run` and the README's curl examples);
- the message's input channel is always "rest": a client cannot claim to be another channel
  (Rasa's own channel takes `input_channel` from the body), since the actions and the handoff
  decide things by the channel a message came from.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

TOKEN_ENV = "REST_CHANNEL_TOKEN"  # noqa: S105 (the variable's name, not a secret)


def bearer_matches(request: Request, token: str) -> bool:
    scheme, _, provided = (request.headers.get("Authorization") or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(provided.strip().encode(), token.encode())


class RestInput(RasaRestInput):
    def __init__(self, token: str | None = None) -> None:
        self.token = token or None

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RestInput:
        return cls(token=os.environ.get(TOKEN_ENV))

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        token = self.token
        if token:

            @blueprint.middleware("request")  # Sanic runs a blueprint's middleware on its routes only
            async def require_bearer(request: Request) -> HTTPResponse | None:
                if bearer_matches(request, token):
                    return None
                return response.json(
                    {"error": "unauthorized", "message": "Authorization: Bearer <REST_CHANNEL_TOKEN> required"},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )

        return blueprint
