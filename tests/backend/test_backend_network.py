"""GET /api/providers (rede credenciada, no identity): synonyms, cities, type, pages, nothing found."""

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from backend.models import Provider
from backend.network import (
    PROVIDER_TYPES,
    catalog,
    distance_km,
    normalize_city,
    normalize_provider_type,
    normalize_specialty,
)

PROVIDERS = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "backend/seed_data/providers.yaml").read_text(encoding="utf-8")
)


async def _search(client, **params) -> tuple[int, dict]:
    response = await client.get("/api/providers", params=params)
    return response.status, await response.json()


@pytest.mark.parametrize(
    "said, expected",
    [
        ("cardiologista", "Cardiologia"),
        ("médico do coração", "Cardiologia"),
        ("cardio", "Cardiologia"),
        ("coracao", "Cardiologia"),
        ("CARDIOLOGIA", "Cardiologia"),
        ("cardiologsta", "Cardiologia"),
        ("quero um cardiologista", "Cardiologia"),
        ("pediatra", "Pediatria"),
        ("médico de criança", "Pediatria"),
        ("pediatera", "Pediatria"),
        ("dentista", "Odontologia"),
        ("ginecologista", "Ginecologia e Obstetrícia"),
        ("obstetra", "Ginecologia e Obstetrícia"),
        ("exame de sangue", "Análises Clínicas"),
        ("raio-x", "Diagnóstico por Imagem"),
        ("otorrino", "Otorrinolaringologia"),
        ("clínico geral", "Clínica Médica"),
        ("pronto socorro", "Pronto-Socorro"),
        ("oculista", "Oftalmologia"),
        ("ortopedista", "Ortopedia e Traumatologia"),
        ("dermatologita", "Dermatologia"),
        ("psiquiatra", "Psiquiatria"),
        ("endócrino", "Endocrinologia"),
        ("neurologista", "Neurologia"),
        ("urologista", None),
        ("psicólogo", None),
        ("carro", None),
        ("", None),
    ],
)
def test_specialty_synonyms_accents_and_typos(said, expected):
    assert normalize_specialty(said) == expected


@pytest.mark.parametrize(
    "said, expected",
    [
        ("sp", "São Paulo"),
        ("sao paulo", "São Paulo"),
        ("Sampa", "São Paulo"),
        ("SÃO PAULO/SP", "São Paulo"),
        ("rio", "Rio de Janeiro"),
        ("Rio de Janeiro, RJ", "Rio de Janeiro"),
        ("rio branco", "Rio Branco"),
        ("bsb", "Brasília"),
        ("brasilia", "Brasília"),
        ("aju", "Aracaju"),
        ("Arcaju", "Aracaju"),
        ("em aracaju", "Aracaju"),
        ("Atlântida", None),
    ],
)
def test_city_aliases_accents_and_typos(said, expected):
    assert normalize_city(said) == expected


def test_types():
    assert [normalize_provider_type(t) for t in ("Clínica", "hospitais", "lab", "consultorio", "spa")] == [
        "clínica",
        "hospital",
        "laboratório",
        "consultório",
        None,
    ]


def test_every_specialty_and_city_of_the_network_is_known():
    known = catalog()
    for city, data in PROVIDERS.items():
        assert city in known.cities and known.cities[city].state == data["state"]
        for _, kind, specialty, _, _ in data["providers"]:
            assert specialty in known.specialties and normalize_provider_type(kind) == kind
    for specialty in known.specialties.values():
        assert len(specialty.synonyms) >= 3
        assert set(specialty.related) <= set(known.specialties)


def test_distances_are_great_circle():
    cities = catalog().cities
    assert 1250 < distance_km(cities["Aracaju"], cities["Brasília"]) < 1330
    assert 340 < distance_km(cities["São Paulo"], cities["Rio de Janeiro"]) < 380


async def test_search_by_synonym_pages_through_all_results(client):
    status, first = await _search(client, specialty="médico do coração", city="aju")
    assert status == 200, first
    assert (first["specialty"], first["city"], first["state"]) == ("Cardiologia", "Aracaju", "SE")
    assert (first["total"], first["page"], first["pages"], first["has_more"]) == (7, 1, 2, True)
    assert len(first["results"]) == 5
    for provider in first["results"]:
        assert provider["specialty"] == "Cardiologia" and provider["address"].endswith("Aracaju - SE")
        assert provider["phone"].startswith("(79)")
        assert provider["map_url"].startswith("https://www.google.com/maps/search/?api=1&query=")
    assert "7 opções" in first["message"]

    status, second = await _search(client, specialty="cardiologista", city="Aracaju", page="2")
    assert status == 200
    assert (second["page"], second["has_more"], len(second["results"])) == (2, False, 2)
    names = [p["name"] for p in first["results"] + second["results"]]
    assert len(set(names)) == 7 and "CardioSE Clínica do Coração" in names

    status, beyond = await _search(client, specialty="cardiologista", city="Aracaju", page="3")
    assert status == 200 and beyond["results"] == [] and beyond["has_more"] is False
    assert "suggestions" not in beyond


async def test_type_filter(client):
    status, body = await _search(client, specialty="cardio", city="Aracaju", type="consultorio")
    assert status == 200
    assert body["type"] == "consultório" and body["total"] == 2
    assert {p["type"] for p in body["results"]} == {"consultório"}


async def test_other_cities(client):
    for city, phone in (("sampa", "(11)"), ("rio", "(21)"), ("bsb", "(61)")):
        status, body = await _search(client, specialty="cardiologia", city=city)
        assert status == 200 and body["total"] == 1
        assert body["results"][0]["phone"].startswith(phone)


async def test_nothing_in_the_city_suggests_nearest_city_and_related_specialties(client):
    status, body = await _search(client, specialty="neurologista", city="Aracaju")
    assert status == 200
    assert body["results"] == [] and body["total"] == 0 and body["has_more"] is False
    nearest = body["suggestions"]["nearest_city"]
    assert (nearest["city"], nearest["state"]) == ("Brasília", "DF")  # ~1290 km; São Paulo is ~1730 km
    assert 1250 < nearest["distance_km"] < 1330
    related = {item["specialty"] for item in body["suggestions"]["related_specialties"]}
    assert related == {"Clínica Médica", "Psiquiatria"}
    assert "Não encontrei Neurologia" in body["message"] and "Brasília" in body["message"]
    assert "Clínica Médica" in body["message"]


async def test_dentist_in_sao_paulo_points_to_rio(client):
    status, body = await _search(client, specialty="dentista", city="São Paulo")
    assert status == 200 and body["total"] == 0
    assert body["suggestions"]["nearest_city"]["city"] == "Rio de Janeiro"
    assert body["suggestions"]["related_specialties"] == []


async def test_city_without_network_suggests_nearest(client):
    status, body = await _search(client, specialty="cardiologista", city="Salvador")
    assert status == 200 and body["total"] == 0 and body["city_known"] is True
    assert body["suggestions"]["nearest_city"]["city"] == "Aracaju"
    assert body["suggestions"]["nearest_city"]["total"] == 7


async def test_unknown_city_lists_where_the_specialty_is(client):
    status, body = await _search(client, specialty="pediatra", city="Atlântida")
    assert status == 200 and body["total"] == 0 and body["city_known"] is False
    assert body["suggestions"]["nearest_city"] is None
    assert {c["city"] for c in body["suggestions"]["other_cities"]} == {
        "Aracaju",
        "Brasília",
        "Rio de Janeiro",
        "São Paulo",
    }


async def test_type_without_results_says_other_types_exist(client):
    status, body = await _search(client, specialty="dentista", city="Aracaju", type="hospital")
    assert status == 200 and body["total"] == 0
    assert body["suggestions"]["other_types"] == 1
    assert "Sem filtrar o tipo" in body["message"]


async def test_unknown_specialty(client):
    status, body = await _search(client, specialty="astrólogo", city="Aracaju")
    assert status == 422
    assert body["error"]["code"] == "unknown_specialty"
    assert "astrólogo" in body["error"]["message"] and "Cardiologia" in body["error"]["message"]
    assert "Pediatria" in body["error"]["known_specialties"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"specialty": "cardiologia"}, "city"),
        ({"specialty": "cardiologia", "city": "  "}, "city"),
        ({"city": "Aracaju"}, "specialty"),
        ({"specialty": "cardiologia", "city": "Aracaju", "type": "spa"}, "type"),
        ({"specialty": "cardiologia", "city": "Aracaju", "page": "0"}, "page"),
        ({"specialty": "cardiologia", "city": "Aracaju", "page": "dois"}, "page"),
    ],
)
async def test_bad_input(client, params, field):
    status, body = await _search(client, **params)
    assert status == 400
    assert body["error"]["code"] == "invalid_request" and list(body["error"]["fields"]) == [field]
    assert body["error"]["message"] == body["error"]["fields"][field]


async def test_missing_city_asks_for_it(client):
    status, body = await _search(client, specialty="pediatra")
    assert status == 400 and body["error"]["message"] == "Em qual cidade você procura atendimento?"


async def test_the_network_the_search_knows(session):
    """What the search recognises (the catalogue of backend.network, which the bot may reuse) and
    where the seeded network is (the database)."""
    known = catalog()
    assert len(known.specialties) >= 10
    assert known.specialty("médico do coração").name == "Cardiologia"
    assert known.city("sampa").name == "São Paulo" and known.city("Salvador") is not None
    assert list(PROVIDER_TYPES) == ["clínica", "hospital", "laboratório", "consultório"]
    by_city = dict((await session.execute(select(Provider.city, func.count()).group_by(Provider.city))).all())
    assert set(by_city) == {"Aracaju", "Brasília", "Rio de Janeiro", "São Paulo"} and by_city["Aracaju"] >= 20
    neurology = (
        (await session.execute(select(Provider.city).where(Provider.specialty == "Neurologia").distinct()))
        .scalars()
        .all()
    )
    assert sorted(neurology) == ["Brasília", "São Paulo"]
