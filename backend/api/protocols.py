from aiohttp import web

from backend.api.context import SESSIONS
from backend.api.errors import ApiError
from backend.api.responses import json_response
from backend.clock import iso_utc
from backend.protocols import PROTOCOL_DIGITS, find_protocol

routes = web.RouteTableDef()


@routes.get("/api/protocols/{number}")
async def get_protocol(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    protocol = None
    if number.isdigit() and len(number) == PROTOCOL_DIGITS:
        async with request.app[SESSIONS]() as session:
            protocol = await find_protocol(session, number)
    if protocol is None:
        raise ApiError(404, "protocol_not_found",
                       "Não encontrei esse protocolo. Confira os 20 números e tente de novo.")
    return json_response({
        "protocol": protocol.number,
        "kind": protocol.kind,
        "status": protocol.status,
        "created_at": iso_utc(protocol.created_at),
    })
