"""JSON errors with stable codes: {"error": {"code": "...", "message": "<pt-BR>", ...}}.

A use case that says no raises backend.refusals.Refused; its wording is the table of the module
that raised it, its HTTP status is STATUS_BY_CODE below, and error_middleware answers it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping

from aiohttp import web

from backend.api.context import OPERATOR
from backend.api.responses import json_response
from backend.refusals import COMMON, Refusals, Refused
from common.pii import SECRET_PLACEHOLDER, mask_secret_paths

log = logging.getLogger("backend.http")
_ROUTE_VARIABLE_RE = re.compile(r"\{(\w+)(?::[^}]*)?\}")

# What the HTTP layer itself answers (a request it cannot read, a route that does not exist…).
REFUSALS = Refusals(
    {
        "invalid_request": COMMON["invalid_request"],
        "unauthorized": "É preciso entrar com usuário e senha.",
        "not_found": "Não encontrei esse endereço.",
        "method_not_allowed": "Esse endereço não aceita esse tipo de pedido.",
        "request_too_large": "O pedido é grande demais.",
        "http_error": "Não foi possível atender o pedido.",
        "internal_error": "Tivemos um problema aqui. Tente de novo em alguns minutos ou ligue {central_24h}.",
    }
)
_CODE_BY_HTTP_STATUS = {
    400: "invalid_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
}

# The HTTP status of every refusal code, whichever module words it.
STATUS_BY_CODE: dict[str, int] = {
    # 400: the request itself is wrong
    "invalid_request": 400,
    "reason_ambiguous": 400,
    "empty_file": 400,
    "unreadable_file": 400,
    "batch_columns_missing": 400,
    # 401: who is asking is not known
    "unauthorized": 401,
    "service_unauthorized": 401,
    "invalid_credentials": 401,
    "verification_invalid": 401,
    "identity_not_confirmed": 401,
    "company_unauthorized": 401,
    "company_code_invalid": 401,
    # 403: known, but not theirs to see or ask
    "not_in_family": 403,
    "not_holder": 403,
    "holder_only": 403,
    "company_admin_only": 403,
    # 404
    "not_found": 404,
    "fee_not_found": 404,
    "invoice_not_found": 404,
    "protocol_not_found": 404,
    "beneficiary_not_found": 404,
    "company_user_not_found": 404,
    "ticket_not_found": 404,
    "document_not_found": 404,
    "inbound_file_not_found": 404,
    "link_invalid": 404,
    # 405, 410, 413, 415
    "method_not_allowed": 405,
    "link_expired": 410,
    "company_code_expired": 410,
    "request_too_large": 413,
    "file_too_large": 413,
    "too_many_lines": 413,
    "unsupported_type": 415,
    "old_excel_format": 415,
    "not_a_document": 415,
    "not_a_spreadsheet": 415,
    # 409: the state of things does not allow it
    "plan_cancelled": 409,
    "already_paid": 409,
    "invoice_already_paid": 409,
    "already_requested": 409,
    "already_registered": 409,
    "email_in_use": 409,
    "same_email": 409,
    "nothing_to_change": 409,
    "no_account": 409,
    "no_email_on_file": 409,
    "open_fees": 409,
    "ticket_taken": 409,
    "ticket_closed": 409,
    "cpf_already_active": 409,
    "cpf_inactive_here": 409,
    "cpf_in_use": 409,
    "dependent_already_included": 409,
    "beneficiary_inactive": 409,
    "beneficiary_active": 409,
    "holder_inactive": 409,
    "same_plan": 409,
    "movement_conflict": 409,
    "too_many_documents": 409,
    "company_user_self": 409,
    "company_last_admin": 409,
    "company_user_already_inactive": 409,
    "company_user_already_active": 409,
    # 422: understood, but there is nothing to give
    "documents_required": 422,
    "documents_invalid": 422,
    "unknown_specialty": 422,
    "year_in_future": 422,
    "year_not_closed": 422,
    "before_plan_start": 422,
    "no_fees": 422,
    "no_fees_in_year": 422,
    "no_invoices_in_year": 422,
    "no_payments": 422,
    "month_in_future": 422,
    "holder_not_found": 422,
    "plan_not_contracted": 422,
    "dependent_plan_differs": 422,
    "start_date_not_allowed": 422,
    "age_below_minimum": 422,
    "age_above_maximum": 422,
    "exclusion_date_not_allowed": 422,
    "reason_not_for_holder": 422,
    "reactivation_period_over": 422,
    "reactivation_before_exit": 422,
    "dependent_follows_holder": 422,
    "transfer_outside_group": 422,
    "plan_not_contracted_by_target": 422,
    "no_movement_lines": 422,
    "unknown_movement_type": 422,
    "duplicate_line": 422,
    "no_active_beneficiaries": 422,
    "no_inactive_beneficiaries": 422,
    "no_usage_in_month": 422,
    # 423, 429: wait
    "identity_locked": 423,
    "account_locked": 423,
    "company_code_locked": 423,
    "rate_limited": 429,
    "too_many_files": 429,
    "too_many_attempts": 429,
    # 5xx: something we depend on failed
    "http_error": 500,
    "internal_error": 500,
    "message_not_delivered": 502,
    "rasa_unavailable": 502,
    "billing_unavailable": 503,
    "email_not_sent": 503,
}
HEADERS_BY_CODE: dict[str, dict[str, str]] = {
    "unauthorized": {"WWW-Authenticate": "Bearer"},
    "service_unauthorized": {"WWW-Authenticate": 'Bearer realm="servico"'},
}


def refusal_response(
    refused: Refused, phones: Mapping[str, str], *, status: int | None = None, headers: dict | None = None
) -> web.Response:
    """The JSON answer to a refusal: its status (STATUS_BY_CODE), its message worded with the
    operator's phones, its data; Retry-After when it says when to try again."""
    if status is None:
        status = STATUS_BY_CODE.get(refused.code)
        if status is None:
            log.error("a refusal code without an HTTP status", extra={"code": refused.code})
            status = 422
    headers = {**HEADERS_BY_CODE.get(refused.code, {}), **(headers or {})}
    if refused.retry_after_seconds is not None:
        headers["Retry-After"] = str(refused.retry_after_seconds)
    body = {"error": {"code": refused.code, "message": refused.message(phones), **refused.data}}
    return json_response(body, status=status, headers=headers or None)


def invalid_request(fields: dict[str, str]) -> Refused:
    """400 with the pt-BR problem of each field."""
    return REFUSALS.refuse("invalid_request", fields=fields)


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Refused as exc:
        return refusal_response(exc, request.app[OPERATOR].phones)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _CODE_BY_HTTP_STATUS.get(exc.status, "http_error")
        allow = {key: value for key, value in exc.headers.items() if key == "Allow"}
        return refusal_response(REFUSALS.refuse(code), {}, status=exc.status, headers=allow)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error", extra={"method": request.method, "path": loggable_path(request)})
        return refusal_response(REFUSALS.refuse("internal_error"), request.app[OPERATOR].phones)


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
