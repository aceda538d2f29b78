from __future__ import annotations

import json
from functools import partial

from aiohttp import web

_dumps = partial(json.dumps, ensure_ascii=False)


def json_response(data: dict, status: int = 200, headers: dict | None = None) -> web.Response:
    """JSON with accents kept as they are (pt-BR messages stay readable)."""
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)
