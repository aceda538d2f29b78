"""GET /api/providers: the accredited network (rede credenciada), no identity needed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.backend.client import backend
from bot.backend.common import Refusal, answer, from_json


@dataclass(frozen=True)
class Provider:
    name: str
    type: str
    address: str
    phone: str
    map_url: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Provider:
        return from_json(cls, data)


@dataclass(frozen=True)
class ProviderPage:
    """One page of results; `specialty` and `city` as the backend understood them (synonyms and
    typos normalised); with no result at all, where else to look (`nearest_city`, `related_specialties`)."""

    specialty: str
    city: str
    page: int
    has_more: bool
    message: str  # the backend's pt-BR heading (or "nothing found, try ...")
    results: tuple[Provider, ...]
    nearest_city: str | None = None
    related_specialties: tuple[str, ...] = ()


async def search_providers(
    specialty: str, city: str, page: int = 1, provider_type: str | None = None
) -> ProviderPage | Refusal:
    """Refusals: 400 invalid_request (no specialty or city, bad type or page), 422 unknown_specialty."""
    params = {"specialty": specialty, "city": city, "page": str(page)}
    if provider_type:
        params["type"] = provider_type
    return await answer(backend.get("/api/providers", params=params), _page)


def _page(data: Mapping[str, Any]) -> ProviderPage:
    suggestions = data.get("suggestions") or {}
    nearest = suggestions.get("nearest_city") or {}
    related = tuple(
        str(item["specialty"] if isinstance(item, dict) else item)
        for item in suggestions.get("related_specialties") or []
    )
    return from_json(
        ProviderPage,
        data,
        results=tuple(Provider.from_api(item) for item in data.get("results") or []),
        nearest_city=str(nearest["city"]) if nearest.get("city") else None,
        related_specialties=related,
    )
