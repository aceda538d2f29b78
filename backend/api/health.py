import logging

from aiohttp import web
from sqlalchemy import text

from backend.api.context import SESSIONS
from backend.api.responses import json_response

routes = web.RouteTableDef()
log = logging.getLogger(__name__)


@routes.get("/api/health")
async def health(request: web.Request) -> web.Response:
    try:
        async with request.app[SESSIONS]() as session:
            await session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy"
        log.warning("health check: database unavailable", exc_info=True)
        return json_response(
            {
                "status": "unavailable",
                "error": {"code": "database_unavailable", "message": "O sistema está indisponível no momento."},
            },
            status=503,
        )
    return json_response({"status": "ok"})
