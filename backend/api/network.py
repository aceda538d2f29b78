"""Accredited network (rede credenciada), no identity needed; the search is backend.network's.

GET /api/providers?specialty=&city=&type=&page=1  200 {specialty, city, state, city_known, type,
    results[5], total, page, pages, per_page, has_more, message} (+ suggestions when total is 0);
    400 invalid_request (missing specialty or city, bad type or page: `fields` by parameter);
    422 unknown_specialty (with known_specialties).
"""

from __future__ import annotations

from aiohttp import web

from backend.api.context import SESSIONS
from backend.api.responses import json_response
from backend.network import PROVIDER_TYPES, find_providers, join_pt, normalize_provider_type
from backend.refusals import COMMON, invalid_field

routes = web.RouteTableDef()
MAX_QUERY_LENGTH = 120
MAX_PAGE = 1000


def _search_query(query) -> tuple[str, str, str | None, int]:
    """(specialty, city, type, page) of the query string; 400 with what is wrong with each."""
    specialty, city = query.get("specialty", "").strip(), query.get("city", "").strip()
    raw_type, raw_page = query.get("type", "").strip(), query.get("page", "").strip() or "1"
    errors: dict[str, str] = {}
    if not specialty:
        errors["specialty"] = "Qual especialidade você procura? Por exemplo: cardiologia, pediatra, dentista."
    elif len(specialty) > MAX_QUERY_LENGTH:
        errors["specialty"] = f"Use até {MAX_QUERY_LENGTH} caracteres para a especialidade."
    if not city:
        errors["city"] = "Em qual cidade você procura atendimento?"
    elif len(city) > MAX_QUERY_LENGTH:
        errors["city"] = f"Use até {MAX_QUERY_LENGTH} caracteres para a cidade."
    kind = normalize_provider_type(raw_type) if raw_type else None
    if raw_type and kind is None:
        errors["type"] = f"Tipo de atendimento desconhecido. Use um destes: {join_pt(list(PROVIDER_TYPES), 'ou')}."
    page = int(raw_page) if raw_page.isdigit() else 0
    if not 1 <= page <= MAX_PAGE:
        errors["page"] = "A página precisa ser um número a partir de 1."
    if len(errors) == 1:
        [(field, problem)] = errors.items()
        raise invalid_field(field, problem)
    if errors:
        raise COMMON.refuse("invalid_request", fields=errors)
    return specialty, city, kind, page


@routes.get("/api/providers")
async def search_providers(request: web.Request) -> web.Response:
    """See the module's docstring."""
    specialty, city, kind, page = _search_query(request.query)
    async with request.app[SESSIONS]() as session:
        body = await find_providers(session, specialty, city, kind, page)
    return json_response(body)
