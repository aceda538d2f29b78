"""Accredited network (rede credenciada), no identity needed:

GET /api/providers?especialidade=&cidade=&tipo=&pagina=1
GET /api/providers/specialties
GET /api/providers/cities
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from backend.api.context import SESSIONS
from backend.api.errors import ApiError
from backend.api.responses import json_response
from backend.network import (
    PAGE_SIZE,
    PROVIDER_TYPES,
    catalog,
    join_pt,
    network_cities,
    network_specialties,
    normalize_provider_type,
    nothing_found_message,
    options,
    search,
    suggestions,
)

routes = web.RouteTableDef()
MAX_QUERY_LENGTH = 120
MAX_PAGE = 1000
EXAMPLE_SPECIALTIES = ("Cardiologia", "Pediatria", "Dermatologia", "Odontologia", "Oftalmologia", "Ortopedia")


def _bad_request(fields: dict[str, str]) -> ApiError:
    message = (
        next(iter(fields.values())) if len(fields) == 1 else "Alguns dados não estão certos. Confira e envie de novo."
    )
    return ApiError(400, "invalid_request", message, fields=fields)


def _provider(provider) -> dict:
    return {
        "name": provider.name,
        "type": provider.type,
        "specialty": provider.specialty,
        "address": provider.address,
        "city": provider.city,
        "state": provider.state,
        "phone": provider.phone,
        "map_url": provider.map_url,
    }


@routes.get("/api/providers")
async def search_providers(request: web.Request) -> web.Response:
    """200 {specialty, city, state, type, results[5], total, page, pages, per_page, has_more, message}
    (+ suggestions when total is 0); 400 invalid_request (missing specialty or city, bad type or page);
    422 unknown_specialty."""
    query = request.query
    raw_specialty = query.get("especialidade", "").strip()
    raw_city = query.get("cidade", "").strip()
    raw_type = query.get("tipo", "").strip()
    raw_page = query.get("pagina", "").strip() or "1"
    errors: dict[str, str] = {}
    if not raw_specialty:
        errors["especialidade"] = "Qual especialidade você procura? Por exemplo: cardiologia, pediatra, dentista."
    elif len(raw_specialty) > MAX_QUERY_LENGTH:
        errors["especialidade"] = f"Use até {MAX_QUERY_LENGTH} caracteres para a especialidade."
    if not raw_city:
        errors["cidade"] = "Em qual cidade você procura atendimento?"
    elif len(raw_city) > MAX_QUERY_LENGTH:
        errors["cidade"] = f"Use até {MAX_QUERY_LENGTH} caracteres para a cidade."
    kind = None
    if raw_type:
        kind = normalize_provider_type(raw_type)
        if kind is None:
            errors["tipo"] = f"Tipo de atendimento desconhecido. Use um destes: {join_pt(list(PROVIDER_TYPES), 'ou')}."
    page = int(raw_page) if raw_page.isdigit() else 0
    if not 1 <= page <= MAX_PAGE:
        errors["pagina"] = "A página precisa ser um número a partir de 1."
    if errors:
        raise _bad_request(errors)

    known = catalog()
    specialty = known.specialty(raw_specialty)
    if specialty is None:
        raise ApiError(
            422,
            "unknown_specialty",
            f'Não encontrei a especialidade "{raw_specialty}" na rede. Tente, por exemplo: '
            f"{join_pt(list(EXAMPLE_SPECIALTIES), 'ou')}.",
            known_specialties=sorted(known.specialties),
        )
    city = known.city(raw_city)
    # A city missing from the coordinates table is searched as typed (it simply will not match).
    city_name = city.name if city else " ".join(raw_city.split()).title()

    async with request.app[SESSIONS]() as session:
        found = await search(session, specialty.name, city_name, kind, page)
        body: dict[str, Any] = {
            "specialty": specialty.name,
            "city": city_name,
            "state": city.state if city else None,
            "city_known": city is not None,
            "type": kind,
            "results": [_provider(provider) for provider in found.results],
            "total": found.total,
            "page": found.page,
            "pages": found.pages,
            "per_page": PAGE_SIZE,
            "has_more": found.has_more,
        }
        if found.total == 0:
            found_elsewhere = await suggestions(session, specialty, city_name, city, kind)
            body["suggestions"] = found_elsewhere
            body["message"] = nothing_found_message(specialty.name, city_name, kind, found_elsewhere)
        elif not found.results:
            body["message"] = f"Esses eram todos os resultados: {found.total} no total."
        else:
            first = (found.page - 1) * PAGE_SIZE + 1
            body["message"] = (
                f"Encontrei {options(found.total)} de {specialty.name} em {city_name}"
                f"{f' ({kind})' if kind else ''}. Mostrando {first} a {first + len(found.results) - 1}."
            )
    return json_response(body)


@routes.get("/api/providers/specialties")
async def list_specialties(request: web.Request) -> web.Response:
    """200 {specialties: [{name, synonyms, related, cities}]}: every specialty the search knows."""
    async with request.app[SESSIONS]() as session:
        where = await network_specialties(session)
    return json_response(
        {
            "specialties": [
                {
                    "name": s.name,
                    "synonyms": list(s.synonyms),
                    "related": list(s.related),
                    "cities": where.get(s.name, []),
                }
                for s in sorted(catalog().specialties.values(), key=lambda s: s.name)
            ]
        }
    )


@routes.get("/api/providers/cities")
async def list_cities(request: web.Request) -> web.Response:
    """200 {cities: [{name, state, aliases, providers}]} (cities with a network),
    known_cities: every city name the search recognises, provider_types."""
    known = catalog().cities
    async with request.app[SESSIONS]() as session:
        present = await network_cities(session)
    return json_response(
        {
            "cities": [
                {
                    "name": name,
                    "state": state,
                    "aliases": list(known[name].aliases) if name in known else [],
                    "providers": count,
                }
                for name, (state, count) in sorted(present.items())
            ],
            "known_cities": sorted(known),
            "provider_types": list(PROVIDER_TYPES),
        }
    )
