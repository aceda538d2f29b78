"""The action server's entry point: rasa_sdk's Sanic app, with a shared secret on every call.

    python -m bot.action_server [--host H] [--port P] [--actions bot.actions]

Only the Rasa server may run actions: /webhook runs any action on any conversation with whatever
tracker the caller sends (slots included), and /actions lists them. Both, and any other route but
/health, require the secret ACTION_SERVER_TOKEN, sent by Rasa as `Authorization: Bearer <secret>`
(endpoints.yml: action_endpoint.headers, filled from Rasa's environment); a wrong or missing one
gets 401 JSON. The server refuses to start without the secret. It listens on 127.0.0.1 unless
--host or HOST says otherwise, and allows no cross-origin browser call (Rasa is its only client).

GET /health stays open and says whether the actions can work: 200 {"status": "ok"} when the backend
answers its /api/health within ~2 s, else 503 {"status": "degraded", "backend": "unavailable"}. The
backend's answer is kept ~2 s (bot.health_probe), so a storm of health checks does not reach it.
It replaces rasa_sdk's own /health, which answered "ok" as long as the process was up.

Everything else (action loading, the executor, plugins, SANIC_WORKERS) is rasa_sdk's own.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME, DEFAULT_SERVER_PORT
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.backend.client import DEFAULT_URL as DEFAULT_BACKEND_URL
from bot.health_probe import HealthProbe

TOKEN_ENV = "ACTION_SERVER_TOKEN"  # noqa: S105 (the variable's name, not a secret)
HEALTH_PATH = "/health"
OPEN_PATHS = {HEALTH_PATH}
BACKEND_HEALTH_PATH = "/api/health"

logger = logging.getLogger(__name__)


def token_matches(request: Request, token: str) -> bool:
    scheme, _, provided = (request.headers.get("Authorization") or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(provided.strip().encode(), token.encode())


def protect(app: Sanic, token: str) -> Sanic:
    """Every request but /health must carry the secret (/webhook/ is checked like /webhook)."""
    if not token:
        raise ValueError(f"{TOKEN_ENV} is empty")

    @app.middleware("request")
    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path.rstrip("/") in OPEN_PATHS or token_matches(request, token):
            return None
        return response.json(
            {"error": "unauthorized", "message": f"Authorization: Bearer <{TOKEN_ENV}> required"},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    return app


def with_health(app: Sanic, backend: HealthProbe) -> Sanic:
    """GET /health answers for the backend too (see the module's docstring). rasa_sdk registers its
    own /health; this request middleware answers first, so that handler never runs."""
    app.ctx.backend_probe = backend

    @app.middleware("request")
    async def health(request: Request) -> HTTPResponse | None:
        if request.path.rstrip("/") != HEALTH_PATH or request.method not in ("GET", "HEAD"):
            return None
        if await backend.ok():
            return response.json({"status": "ok"})
        return response.json({"status": "degraded", "backend": "unavailable"}, status=503)

    return app


def build_app(actions: str, token: str, backend_url: str | None = None) -> Sanic:
    """The action server: rasa_sdk's app with the shared secret on every route but /health, which
    also asks the backend (`backend_url`, default BACKEND_URL from the environment)."""
    app = create_app(actions, cors_origins=None)  # no CORS headers: browsers never call it

    @app.exception(Exception)
    async def action_failed(request: Request, exception: Exception) -> HTTPResponse:
        """rasa_sdk's own 500 answer echoes the request body, i.e. the conversation's tracker with
        its personal data, which Rasa may log: this one says only that the action failed (Rasa
        answers the user, bot/turn_recovery.py)."""
        logger.error("action failed: %s", type(exception).__name__, exc_info=exception)
        return response.json({"error": "action failed"}, status=500)

    base = (backend_url or os.environ.get("BACKEND_URL") or DEFAULT_BACKEND_URL).rstrip("/")
    return with_health(protect(app, token), HealthProbe(base + BACKEND_HEALTH_PATH))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.action_server", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=DEFAULT_SERVER_PORT)
    parser.add_argument("--actions", default="bot.actions")
    utils.add_logging_level_option_arguments(parser)
    utils.add_logging_file_arguments(parser)
    args = parser.parse_args(argv)

    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        print(  # noqa: T201 (logging is not configured yet)
            f"{TOKEN_ENV} is not set: the action server does not run without its shared secret "
            "(make run generates it under var/secrets/)",
            file=sys.stderr,
        )
        return 2

    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()

    app = build_app(args.actions, token)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    logger.info("action server listening on http://%s:%s (shared secret required)", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
