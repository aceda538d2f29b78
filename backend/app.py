"""aiohttp application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from backend.api import (
    agent,
    auth,
    billing,
    card,
    card_requests,
    company,
    company_admin,
    company_auth,
    company_movements,
    company_pages,
    company_reports,
    downloads,
    email_change,
    handoff,
    health,
    identity,
    inbound_files,
    network,
    operator,
    password_change,
    password_reset,
    plan,
    protocols,
    registration,
    reimbursement_documents,
    reimbursements,
    statements,
)
from backend.api.context import MAILER, OPERATOR, SESSIONS, SETTINGS
from backend.api.errors import access_log_middleware, error_middleware
from backend.api.service_auth import service_auth_middleware
from backend.db import create_engine, session_factory
from backend.mail import Mailer
from backend.operator_profile import load_profile
from backend.settings import Settings
from backend.web import account, chat, console, privacy
from backend.web.pages import STATIC_DIR

MAX_BODY_BYTES = 64 * 1024
log = logging.getLogger("backend")


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings.from_env()
    # service_auth_middleware: who may call what (the list of public routes is in its module)
    app = web.Application(
        middlewares=[access_log_middleware, error_middleware, service_auth_middleware], client_max_size=MAX_BODY_BYTES
    )
    if not settings.backend_service_token:
        log.warning("BACKEND_SERVICE_TOKEN is not set: the plan-system API refuses every call")
    app[SETTINGS] = settings
    app[OPERATOR] = load_profile(settings.operator_profile)
    app[MAILER] = Mailer(settings, sender_name=app[OPERATOR].short_name)
    app.cleanup_ctx.append(_database)
    for module in (
        health,
        operator,
        auth,
        identity,
        password_reset,
        protocols,
        registration,
        password_change,
        email_change,
        account,
        downloads,
        billing,
        card,
        card_requests,
        network,
        plan,
        inbound_files,
        reimbursement_documents,
        reimbursements,
        statements,
        chat,
        privacy,
        handoff,
        agent,
        console,
        company_auth,
        company,
        company_pages,
        company_movements,
        company_admin,
        company_reports,
    ):
        app.add_routes(module.routes)
    app.router.add_static("/static/", STATIC_DIR)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    engine = create_engine(app[SETTINGS])
    app[SESSIONS] = session_factory(engine)
    yield
    await engine.dispose()
