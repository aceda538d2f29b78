"""JSON errors with stable codes: {"error": {"code": "...", "message": "<pt-BR>", ...}}."""

from __future__ import annotations

import asyncio
import logging
import re
import time

from aiohttp import web

from backend.api.context import OPERATOR
from backend.api.responses import json_response
from common.pii import SECRET_PLACEHOLDER, mask_secret_paths

log = logging.getLogger("backend.http")
_ROUTE_VARIABLE_RE = re.compile(r"\{(\w+)(?::[^}]*)?\}")

_HTTP_ERRORS = {
    400: ("invalid_request", "Não entendi o pedido. Confira os dados enviados."),
    401: ("unauthorized", "É preciso entrar com usuário e senha."),
    404: ("not_found", "Não encontrei esse endereço."),
    405: ("method_not_allowed", "Esse endereço não aceita esse tipo de pedido."),
    413: ("request_too_large", "O pedido é grande demais."),
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None, **extra) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.headers, self.extra = status, code, message, headers, extra

    def response(self) -> web.Response:
        body = {"error": {"code": self.code, "message": self.message, **self.extra}}
        return json_response(body, status=self.status, headers=self.headers)


def invalid_request(fields: dict[str, str]) -> ApiError:
    return ApiError(400, "invalid_request", "Alguns dados não estão certos. Confira e envie de novo.", fields=fields)


def retry_after(status: int, code: str, message: str, minutes: int) -> ApiError:
    return ApiError(status, code, message, headers={"Retry-After": str(minutes * 60)}, retry_after_minutes=minutes)


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code, message = _HTTP_ERRORS.get(exc.status, ("http_error", "Não foi possível atender o pedido."))
        headers = {key: value for key, value in exc.headers.items() if key == "Allow"}
        return ApiError(exc.status, code, message, headers=headers).response()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error", extra={"method": request.method, "path": loggable_path(request)})
        phone = request.app[OPERATOR].phones["central_24h"]
        return ApiError(
            500, "internal_error", f"Tivemos um problema aqui. Tente de novo em alguns minutos ou ligue {phone}."
        ).response()


def _is_secret(variable: str) -> bool:
    """Route variables that carry a secret: the single-use and signed links' `{token}`."""
    return "token" in variable.lower()


def loggable_path(request: web.Request) -> str:
    """The request's path as a log may show it: a route's secret variable ({token} of /conta/…/ and
    /documentos/) replaced by "[token]"; a path that matched no route still loses what looks like
    a link's secret (common.pii.mask_secret_paths)."""
    path = request.path
    info = request.match_info
    try:
        resource = info.route.resource
    except AttributeError:  # no route matched (404/405)
        resource = None
    if resource is not None and any(_is_secret(name) for name in info):
        path = _ROUTE_VARIABLE_RE.sub(
            lambda m: SECRET_PLACEHOLDER if _is_secret(m.group(1)) else str(info.get(m.group(1), m.group(0))),
            resource.canonical,
        )
    return mask_secret_paths(path)


@web.middleware
async def access_log_middleware(request: web.Request, handler) -> web.StreamResponse:
    """One JSON line per request; only the path (never the query string) without the secret of a
    link (loggable_path), masked by common.logs."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        path = loggable_path(request)
        log.info(
            "%s %s %s",
            request.method,
            path,
            status,
            extra={
                "method": request.method,
                "path": path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
