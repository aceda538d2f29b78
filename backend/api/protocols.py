"""GET /api/protocols/{number}: a protocol's kind and status, in pt-BR too."""

from aiohttp import web

from backend.api.context import SESSIONS
from backend.api.responses import json_response
from backend.clock import iso_utc, local_date
from backend.protocols import kind_label, protocol_of, status_label
from common.labels import date_text

routes = web.RouteTableDef()


@routes.get("/api/protocols/{number}")
async def get_protocol(request: web.Request) -> web.Response:
    """200 {protocol, kind, kind_label, status, status_label, created_at, created_on_text};
    404 protocol_not_found."""
    async with request.app[SESSIONS]() as session:
        protocol = await protocol_of(session, request.match_info["number"])
    return json_response(
        {
            "protocol": protocol.number,
            "kind": protocol.kind,
            "kind_label": kind_label(protocol.kind),
            "status": protocol.status,
            "status_label": status_label(protocol.status),
            "created_at": iso_utc(protocol.created_at),
            "created_on_text": date_text(local_date(protocol.created_at)),
        }
    )
