from aiohttp import web

from backend.api.context import OPERATOR, SETTINGS
from backend.api.responses import json_response
from backend.web.privacy import PATH as PRIVACY_PATH

routes = web.RouteTableDef()


@routes.get("/api/operator")
async def operator_profile(request: web.Request) -> web.Response:
    public_url = request.app[SETTINGS].public_backend_url.rstrip("/")
    return json_response({**request.app[OPERATOR].public(), "privacy_url": public_url + PRIVACY_PATH})
