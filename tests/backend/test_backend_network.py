"""GET /api/providers (rede credenciada, no identity): synonyms, cities, type, pages, nothing found."""

from pathlib import Path

import pytest
import yaml

from backend.network import catalog, distance_km, normalize_city, normalize_provider_type, normalize_specialty

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
    status, first = await _search(client, especialidade="médico do coração", cidade="aju")
    assert status == 200, first
    assert (first["specialty"], first["city"], first["state"]) == ("Cardiologia", "Aracaju", "SE")
    assert (first["total"], first["page"], first["pages"], first["has_more"]) == (7, 1, 2, True)
    assert len(first["results"]) == 5
    for provider in first["results"]:
        assert provider["specialty"] == "Cardiologia" and provider["address"].endswith("Aracaju - SE")
        assert provider["phone"].startswith("(79)")
        assert provider["map_url"].startswith("https://www.google.com/maps/search/?api=1&query=")
    assert "7 opções" in first["message"]

    status, second = await _search(client, especialidade="cardiologista", cidade="Aracaju", pagina="2")
    assert status == 200
    assert (second["page"], second["has_more"], len(second["results"])) == (2, False, 2)
    names = [p["name"] for p in first["results"] + second["results"]]
    assert len(set(names)) == 7 and "CardioSE Clínica do Coração" in names

    status, beyond = await _search(client, especialidade="cardiologista", cidade="Aracaju", pagina="3")
    assert status == 200 and beyond["results"] == [] and beyond["has_more"] is False
    assert "suggestions" not in beyond


async def test_type_filter(client):
    status, body = await _search(client, especialidade="cardio", cidade="Aracaju", tipo="consultorio")
    assert status == 200
    assert body["type"] == "consultório" and body["total"] == 2
    assert {p["type"] for p in body["results"]} == {"consultório"}


async def test_other_cities(client):
    for city, phone in (("sampa", "(11)"), ("rio", "(21)"), ("bsb", "(61)")):
        status, body = await _search(client, especialidade="cardiologia", cidade=city)
        assert status == 200 and body["total"] == 1
        assert body["results"][0]["phone"].startswith(phone)


async def test_nothing_in_the_city_suggests_nearest_city_and_related_specialties(client):
    status, body = await _search(client, especialidade="neurologista", cidade="Aracaju")
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
    status, body = await _search(client, especialidade="dentista", cidade="São Paulo")
    assert status == 200 and body["total"] == 0
    assert body["suggestions"]["nearest_city"]["city"] == "Rio de Janeiro"
    assert body["suggestions"]["related_specialties"] == []


async def test_city_without_network_suggests_nearest(client):
    status, body = await _search(client, especialidade="cardiologista", cidade="Salvador")
    assert status == 200 and body["total"] == 0 and body["city_known"] is True
    assert body["suggestions"]["nearest_city"]["city"] == "Aracaju"
    assert body["suggestions"]["nearest_city"]["total"] == 7


async def test_unknown_city_lists_where_the_specialty_is(client):
    status, body = await _search(client, especialidade="pediatra", cidade="Atlântida")
    assert status == 200 and body["total"] == 0 and body["city_known"] is False
    assert body["suggestions"]["nearest_city"] is None
    assert {c["city"] for c in body["suggestions"]["other_cities"]} == {
        "Aracaju",
        "Brasília",
        "Rio de Janeiro",
        "São Paulo",
    }


async def test_type_without_results_says_other_types_exist(client):
    status, body = await _search(client, especialidade="dentista", cidade="Aracaju", tipo="hospital")
    assert status == 200 and body["total"] == 0
    assert body["suggestions"]["other_types"] == 1
    assert "Sem filtrar o tipo" in body["message"]


async def test_unknown_specialty(client):
    status, body = await _search(client, especialidade="astrólogo", cidade="Aracaju")
    assert status == 422
    assert body["error"]["code"] == "unknown_specialty"
    assert "astrólogo" in body["error"]["message"] and "Cardiologia" in body["error"]["message"]
    assert "Pediatria" in body["error"]["known_specialties"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"especialidade": "cardiologia"}, "cidade"),
        ({"especialidade": "cardiologia", "cidade": "  "}, "cidade"),
        ({"cidade": "Aracaju"}, "especialidade"),
        ({"especialidade": "cardiologia", "cidade": "Aracaju", "tipo": "spa"}, "tipo"),
        ({"especialidade": "cardiologia", "cidade": "Aracaju", "pagina": "0"}, "pagina"),
        ({"especialidade": "cardiologia", "cidade": "Aracaju", "pagina": "dois"}, "pagina"),
    ],
)
async def test_bad_input(client, params, field):
    status, body = await _search(client, **params)
    assert status == 400
    assert body["error"]["code"] == "invalid_request" and list(body["error"]["fields"]) == [field]
    assert body["error"]["message"] == body["error"]["fields"][field]


async def test_missing_city_asks_for_it(client):
    status, body = await _search(client, especialidade="pediatra")
    assert status == 400 and body["error"]["message"] == "Em qual cidade você procura atendimento?"


async def test_specialties_and_cities_lists(client):
    response = await client.get("/api/providers/specialties")
    assert response.status == 200
    specialties = {s["name"]: s for s in (await response.json())["specialties"]}
    assert len(specialties) >= 10
    assert "médico do coração" in specialties["Cardiologia"]["synonyms"]
    assert specialties["Neurologia"]["cities"] == ["Brasília", "São Paulo"]

    response = await client.get("/api/providers/cities")
    assert response.status == 200
    body = await response.json()
    cities = {c["name"]: c for c in body["cities"]}
    assert set(cities) == {"Aracaju", "Brasília", "Rio de Janeiro", "São Paulo"}
    assert "sampa" in cities["São Paulo"]["aliases"] and cities["Aracaju"]["providers"] >= 20
    assert "Salvador" in body["known_cities"]
    assert body["provider_types"] == ["clínica", "hospital", "laboratório", "consultório"]
