"""Accredited network search (rede credenciada): what users type for a specialty, a city and a
provider type is normalised through seed_data/specialties.yaml and seed_data/cities.yaml; results
come 5 per page; nothing found -> the nearest city with that specialty and related specialties in the
asked city.

The normalisers are pure functions of the text (no I/O besides reading the two YAML files once), so
the bot can reuse them or the same YAML files.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import Provider
from backend.refusals import Refusals
from common.text import fold

SEED_DATA = Path(__file__).resolve().parent / "seed_data"
SPECIALTIES_FILE = SEED_DATA / "specialties.yaml"
CITIES_FILE = SEED_DATA / "cities.yaml"
PAGE_SIZE = 5
EXAMPLE_SPECIALTIES = ("Cardiologia", "Pediatria", "Dermatologia", "Odontologia", "Oftalmologia", "Ortopedia")
TYPO_CUTOFF = 0.85  # difflib ratio for a typo to still count ("cardiologsta", "pediatera")
MIN_TYPO_LENGTH = 5  # shorter words are matched exactly only ("ps", "orto", "rio")
MIN_CONTAINED_LENGTH = 4  # shorter synonyms do not match inside a longer sentence

# Provider types as stored, and how users say them.
PROVIDER_TYPES = {
    "clínica": ("clinica", "clinicas", "clinic"),
    "hospital": ("hospital", "hospitais", "hosp"),
    "laboratório": ("laboratorio", "laboratorios", "lab", "labs"),
    "consultório": ("consultorio", "consultorios", "consultorio medico", "consultorio particular"),
}

_FILLER = re.compile(
    r"^(?:(?:quero|queria|preciso(?: de)?|procuro|busco|tem|t[eê]m|algum|alguma|um|uma|de|do|da|dos|das|"
    r"em|no|na|nos|nas|para|pra|o|a|os|as|credenciad[oa]s?|especialista(?: em)?|medic[oa]s?|consulta(?: com)?)\s+)+"
)


@dataclass(frozen=True)
class Specialty:
    name: str
    synonyms: tuple[str, ...]
    related: tuple[str, ...]


@dataclass(frozen=True)
class City:
    name: str
    state: str
    latitude: float
    longitude: float
    aliases: tuple[str, ...] = field(default=())


def distance_km(a: City, b: City) -> float:
    """Great-circle (haversine) distance on a 6371 km sphere."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


class _Lookup:
    """Folded phrase -> canonical value: exact, then a known phrase inside the text (longest first),
    then a typo-tolerant match of the whole text or of one of its words."""

    def __init__(self, phrases: dict[str, str]) -> None:
        self.phrases = phrases
        self.by_length = sorted(phrases, key=len, reverse=True)
        self.long_phrases = [phrase for phrase in phrases if len(phrase) >= MIN_TYPO_LENGTH]

    def find(self, text: str | None) -> str | None:
        folded = fold(text)
        if not folded:
            return None
        candidates = [folded, _FILLER.sub("", folded)]
        for candidate in candidates:
            if candidate in self.phrases:
                return self.phrases[candidate]
        padded = f" {folded} "
        for phrase in self.by_length:
            if len(phrase) >= MIN_CONTAINED_LENGTH and f" {phrase} " in padded:
                return self.phrases[phrase]
        for candidate in dict.fromkeys([candidates[1], *candidates[1].split()]):
            if len(candidate) < MIN_TYPO_LENGTH:
                continue
            # Same first letter: typos rarely hit it, and "urologista" must not become "neurologista".
            same_start = [phrase for phrase in self.long_phrases if phrase[0] == candidate[0]]
            close = difflib.get_close_matches(candidate, same_start, n=1, cutoff=TYPO_CUTOFF)
            if close:
                return self.phrases[close[0]]
        return None


def _phrases(entries: dict[str, tuple[str, ...]]) -> dict[str, str]:
    phrases: dict[str, str] = {}
    for name, said in entries.items():
        for phrase in (name, *said):
            phrases.setdefault(fold(phrase), name)
    return phrases


class Catalog:
    """The specialties and cities the search understands, with their lookups built once."""

    def __init__(self, specialties: dict[str, Specialty], cities: dict[str, City]) -> None:
        self.specialties = specialties
        self.cities = cities
        self._specialties = _Lookup(_phrases({s.name: s.synonyms for s in specialties.values()}))
        self._cities = _Lookup(_phrases({c.name: c.aliases for c in cities.values()}))

    def specialty(self, text: str | None) -> Specialty | None:
        name = self._specialties.find(text)
        return self.specialties[name] if name else None

    def city(self, text: str | None) -> City | None:
        # "Aracaju/SE", "Aracaju - SE", "aracaju, se": the state after the name is dropped.
        cleaned = re.sub(r"\s*[-/,(]\s*[A-Za-z]{2}\)?\s*$", "", (text or "").strip())
        name = self._cities.find(cleaned) or self._cities.find(text)
        return self.cities[name] if name else None


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    specialties_data = yaml.safe_load(SPECIALTIES_FILE.read_text(encoding="utf-8"))
    cities_data = yaml.safe_load(CITIES_FILE.read_text(encoding="utf-8"))
    specialties = {
        name: Specialty(
            name=name,
            synonyms=tuple(str(s) for s in data.get("synonyms") or ()),
            related=tuple(data.get("related") or ()),
        )
        for name, data in specialties_data.items()
    }
    cities = {
        name: City(name=name, state=state, latitude=float(lat), longitude=float(lon), aliases=tuple(aliases))
        for name, (state, lat, lon, aliases) in cities_data.items()
    }
    return Catalog(specialties=specialties, cities=cities)


def normalize_specialty(text: str | None) -> str | None:
    """'médico do coração' -> 'Cardiologia'; None when nothing matches."""
    found = catalog().specialty(text)
    return found.name if found else None


def normalize_city(text: str | None) -> str | None:
    """'sampa' -> 'São Paulo'; None when the city is not in cities.yaml."""
    found = catalog().city(text)
    return found.name if found else None


def normalize_provider_type(text: str | None) -> str | None:
    """'laboratorios' -> 'laboratório'; None when it is none of PROVIDER_TYPES."""
    folded = fold(text)
    for stored, said in PROVIDER_TYPES.items():
        if folded == fold(stored) or folded in said:
            return stored
    return None


# --- search ------------------------------------------------------------------------------------


@dataclass
class Page:
    results: list[Provider]
    total: int
    page: int
    pages: int

    @property
    def has_more(self) -> bool:
        return self.page < self.pages


def _filters(specialty: str, city: str | None, kind: str | None) -> list:
    conditions = [Provider.specialty == specialty]
    if city is not None:
        conditions.append(Provider.city == city)
    if kind is not None:
        conditions.append(Provider.type == kind)
    return conditions


async def search(session: AsyncSession, specialty: str, city: str, kind: str | None, page: int) -> Page:
    conditions = _filters(specialty, city, kind)
    total = (await session.execute(select(func.count()).select_from(Provider).where(*conditions))).scalar_one()
    rows = (
        (
            await session.execute(
                select(Provider)
                .where(*conditions)
                .order_by(Provider.name, Provider.id)
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE)
            )
        )
        .scalars()
        .all()
    )
    return Page(results=list(rows), total=total, page=page, pages=max(1, math.ceil(total / PAGE_SIZE)))


async def _counts_by_city(session: AsyncSession, specialty: str, kind: str | None) -> dict[str, int]:
    rows = await session.execute(
        select(Provider.city, func.count()).where(*_filters(specialty, None, kind)).group_by(Provider.city)
    )
    return dict(rows.all())


async def suggestions(
    session: AsyncSession, specialty: Specialty, city_name: str, city: City | None, kind: str | None
) -> dict:
    """What to offer when the search found nothing:

    - ``nearest_city``: the closest city (great circle) that has the specialty (of the asked type, or
      of any type when no city has that type); None when no city has it at all;
    - ``other_cities``: every city with the specialty when the asked city is not in the coordinates
      table (so no distance can be computed);
    - ``related_specialties``: related specialties (specialties.yaml) with providers in the asked city;
    - ``other_types``: how many providers of the specialty the city has of other types (type filter).
    """
    table = catalog().cities
    result: dict = {"nearest_city": None, "other_cities": [], "related_specialties": [], "other_types": 0}
    counts = await _counts_by_city(session, specialty.name, kind)
    if not counts and kind is not None:
        counts = await _counts_by_city(session, specialty.name, None)
    counts.pop(city_name, None)
    if kind is not None:
        result["other_types"] = (await search(session, specialty.name, city_name, None, 1)).total
    if city is not None:
        ranked = sorted((distance_km(city, table[name]), name) for name in counts if name in table)
        if ranked:
            distance, name = ranked[0]
            result["nearest_city"] = {
                "city": name,
                "state": table[name].state,
                "distance_km": round(distance),
                "total": counts[name],
            }
    else:
        result["other_cities"] = [{"city": name, "total": counts[name]} for name in sorted(counts)]
    for related in specialty.related:
        total = (await search(session, related, city_name, None, 1)).total
        if total:
            result["related_specialties"].append({"specialty": related, "total": total})
    return result


def options(count: int) -> str:
    return f"{count} opção" if count == 1 else f"{count} opções"


def format_km(distance: int) -> str:
    return f"{distance:,}".replace(",", ".")


def join_pt(items: list[str], conjunction: str = "e") -> str:
    """'a', 'a e b', 'a, b e c' (or 'ou')."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def nothing_found_message(specialty: str, city: str, kind: str | None, suggestion: dict) -> str:
    what = f"{specialty} ({kind})" if kind else specialty
    parts = [f"Não encontrei {what} na rede credenciada em {city}."]
    if suggestion["other_types"]:
        parts.append(f"Sem filtrar o tipo, há {options(suggestion['other_types'])} de {specialty} em {city}.")
    nearest = suggestion["nearest_city"]
    if nearest:
        parts.append(
            f"A cidade mais próxima com {specialty} é {nearest['city']} ({nearest['state']}), "
            f"a cerca de {format_km(nearest['distance_km'])} km."
        )
    elif suggestion["other_cities"]:
        parts.append(f"Há {specialty} em {join_pt([item['city'] for item in suggestion['other_cities']])}.")
    related = [item["specialty"] for item in suggestion["related_specialties"]]
    if related:
        parts.append(f"Em {city} há {join_pt(related)}, que {'pode' if len(related) == 1 else 'podem'} ajudar.")
    return " ".join(parts)


REFUSALS = Refusals(
    {
        "unknown_specialty": 'Não encontrei a especialidade "{asked}" na rede. Tente, por exemplo: {examples}.',
    }
)


def _provider_json(provider: Provider) -> dict:
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


async def find_providers(
    session: AsyncSession, asked_specialty: str, asked_city: str, kind: str | None, page: int
) -> dict:
    """GET /api/providers's body: a page of the specialty's providers in the city (of the type),
    with a pt-BR message and, when nothing is found, suggestions; refuses unknown_specialty (with
    the known ones). A city missing from the coordinates table is searched as typed (it simply will
    not match)."""
    known = catalog()
    specialty = known.specialty(asked_specialty)
    if specialty is None:
        raise REFUSALS.refuse(
            "unknown_specialty",
            words={"asked": asked_specialty, "examples": join_pt(list(EXAMPLE_SPECIALTIES), "ou")},
            known_specialties=sorted(known.specialties),
        )
    city = known.city(asked_city)
    city_name = city.name if city else " ".join(asked_city.split()).title()
    found = await search(session, specialty.name, city_name, kind, page)
    body: dict = {
        "specialty": specialty.name,
        "city": city_name,
        "state": city.state if city else None,
        "city_known": city is not None,
        "type": kind,
        "results": [_provider_json(provider) for provider in found.results],
        "total": found.total,
        "page": found.page,
        "pages": found.pages,
        "per_page": PAGE_SIZE,
        "has_more": found.has_more,
    }
    if found.total == 0:
        body["suggestions"] = await suggestions(session, specialty, city_name, city, kind)
        body["message"] = nothing_found_message(specialty.name, city_name, kind, body["suggestions"])
    elif not found.results:
        body["message"] = f"Esses eram todos os resultados: {found.total} no total."
    else:
        first = (found.page - 1) * PAGE_SIZE + 1
        body["message"] = (
            f"Encontrei {options(found.total)} de {specialty.name} em {city_name}"
            f"{f' ({kind})' if kind else ''}. Mostrando {first} a {first + len(found.results) - 1}."
        )
    return body
