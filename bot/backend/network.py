"""GET /api/providers: the accredited network (rede credenciada), no identity needed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.backend.client import backend
from bot.backend.common import Refusal


@dataclass(frozen=True)
class Provider:
    name: str
    type: str
    address: str
    phone: str
    map_url: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Provider:
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            address=str(data["address"]),
            phone=str(data["phone"]),
            map_url=str(data["map_url"]),
        )


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
    response = await backend.get("/api/providers", params=params)
    if not response.ok:
        return Refusal.of(response)
    data = response.data
    suggestions = data.get("suggestions") or {}
    nearest = suggestions.get("nearest_city") or {}
    related = tuple(
        str(item["specialty"] if isinstance(item, dict) else item)
        for item in suggestions.get("related_specialties") or []
    )
    return ProviderPage(
        specialty=str(data["specialty"]),
        city=str(data["city"]),
        page=int(data["page"]),
        has_more=bool(data.get("has_more")),
        message=str(data["message"]),
        results=tuple(Provider.from_api(item) for item in data.get("results") or []),
        nearest_city=str(nearest["city"]) if nearest.get("city") else None,
        related_specialties=related,
    )
