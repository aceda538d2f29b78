from aiohttp import web

from backend.api.context import OPERATOR
from backend.api.responses import json_response

routes = web.RouteTableDef()


@routes.get("/api/operator")
async def operator_profile(request: web.Request) -> web.Response:
    return json_response(request.app[OPERATOR].public())
