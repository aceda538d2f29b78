"""An open GET /health on the Rasa server that says whether it can hold a conversation.

    200 {"status": "ok"}
        the model is loaded (app.ctx.agent is ready) and the action server's /health answered 200
        within ~2 s (which means the backend answers too: bot/action_server.py);
    503 {"status": "degraded", "model": "loaded" | "not_loaded", "action_server": "ok" | "unavailable"}
        otherwise.

Nothing secret in it, no credential needed (docs/security.md lists it among the open routes). The
action server's answer is kept ~2 s (bot.health_probe), so a storm of health checks costs the action
server at most one request every 2 s. Its URL is the action endpoint's (endpoints.yml
`action_endpoint.url`, …/webhook) with the path /health; without an action endpoint there are no
custom actions to run, and the server counts as degraded (this assistant needs them).

`install()` wraps rasa.core.run.configure_app, the one function that builds the Sanic app of
`rasa run`, with or without --enable-api (rasa.server.create_app builds only the API one); it is
idempotent. bot/rasa_server.py calls it before handing over to Rasa's CLI. Rasa's own `/` (which
answers as soon as the server listens, with the model loaded or not) stays as it was.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import rasa.core.run
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.health_probe import HealthProbe

HEALTH_PATH = "/health"
ACTION_HEALTH_PATH = "/health"


def action_server_health_url(action_url: str | None) -> str | None:
    """The action server's /health, from the action endpoint's URL (http://host:5055/webhook)."""
    if not action_url:
        return None
    parts = urlsplit(action_url)
    return urlunsplit((parts.scheme, parts.netloc, ACTION_HEALTH_PATH, "", ""))


def add_health_route(app: Sanic, action_url: str | None) -> Sanic:
    """GET /health on `app` (see the module's docstring); the agent is read at each request
    (app.ctx.agent: loaded after the app is built, and replaced when a new model is loaded)."""
    health_url = action_server_health_url(action_url)
    probe = HealthProbe(health_url) if health_url else None
    app.ctx.action_server_probe = probe

    @app.get(HEALTH_PATH, name="assistente_health")
    async def health(request: Request) -> HTTPResponse:
        agent = getattr(app.ctx, "agent", None)
        model_loaded = bool(agent is not None and agent.is_ready())
        actions_ok = probe is not None and await probe.ok()
        if model_loaded and actions_ok:
            return response.json({"status": "ok"})
        return response.json(
            {
                "status": "degraded",
                "model": "loaded" if model_loaded else "not_loaded",
                "action_server": "ok" if actions_ok else "unavailable",
            },
            status=503,
        )

    return app


def _action_url(endpoints: Any) -> str | None:
    """The action endpoint's URL from configure_app's `endpoints` (rasa.core.utils.AvailableEndpoints)."""
    action = getattr(endpoints, "action", None)
    return getattr(action, "url", None)


def install() -> None:
    """Every Rasa app built from now on (rasa.core.run.configure_app) gets GET /health."""
    original = rasa.core.run.configure_app
    if getattr(original, "_with_health", False):
        return

    signature = inspect.signature(original)

    @functools.wraps(original)
    def configure_app(*args: Any, **kwargs: Any) -> Sanic:
        app = original(*args, **kwargs)
        endpoints = signature.bind_partial(*args, **kwargs).arguments.get("endpoints")
        return add_health_route(app, _action_url(endpoints))

    configure_app._with_health = True  # type: ignore[attr-defined]
    rasa.core.run.configure_app = configure_app
