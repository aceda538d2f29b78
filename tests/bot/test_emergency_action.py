"""action_emergencia: SAMU and the pronto-socorro first, whatever the backend does; CVV for suicidal
thoughts; the operator's 24 h line and the network's emergency services in the city when known."""

from __future__ import annotations

import asyncio

import pytest
from tracker_support import PHONE, conversation

from bot.actions import emergency
from bot.actions.emergency import ActionEmergencia
from bot.backend import network
from bot.backend.client import BackendUnavailable
from bot.backend.network import Provider, ProviderPage

HOSPITAL = Provider(
    name="Hospital Vida Sergipe",
    type="hospital",
    address="Av. Gonçalo Prado Rollemberg, 1200 - São José",
    phone="(79) 3214-1000",
    map_url="https://maps.example/1",
)


def _page(city: str) -> ProviderPage:
    return ProviderPage(specialty="Pronto-Socorro", city=city, page=1, has_more=False, message="", results=(HOSPITAL,))


async def _answer(dispatcher, domain, tracker) -> str:
    events = await ActionEmergencia().run(dispatcher, tracker, domain)
    assert events == []  # the conversation (and a form, if any) goes on as it was
    (message,) = dispatcher.messages
    return message["text"]


async def test_chest_pain_gets_samu_the_24h_line_and_the_network_in_the_city(
    fake_backend, dispatcher, domain, monkeypatch
) -> None:
    asked = []

    async def search(specialty, city, page=1, provider_type=None):
        asked.append((specialty, city))
        return _page("Aracaju")

    monkeypatch.setattr(network, "search_providers", search)
    tracker = conversation(
        None,
        "dor forte no peito aqui em aracaju",
        intent="emergencia",
        entities=[{"entity": "cidade", "value": "aracaju"}],
    )
    text = await _answer(dispatcher, domain, tracker)
    assert text.index("192") < text.index(PHONE)  # the call for help comes first
    assert "pronto-socorro mais próximo" in text
    assert PHONE in text
    assert "Pronto-socorro da rede em Aracaju" in text and "Hospital Vida Sergipe" in text
    assert asked == [("Pronto-Socorro", "aracaju")]
    assert "CVV" not in text


async def test_suicidal_thoughts_get_the_cvv(fake_backend, dispatcher, domain) -> None:
    text = await _answer(dispatcher, domain, conversation(None, "nao quero mais viver", intent="emergencia"))
    assert "188" in text and "CVV" in text
    assert "192" in text


async def test_poisoning_gets_the_poison_line(fake_backend, dispatcher, domain) -> None:
    text = await _answer(dispatcher, domain, conversation(None, "meu filho bebeu agua sanitaria", intent="emergencia"))
    assert "0800 722 6001" in text and "192" in text


async def test_inside_a_form_the_city_typed_in_the_form_is_used(fake_backend, dispatcher, domain, monkeypatch) -> None:
    monkeypatch.setattr(network, "search_providers", lambda *args, **kwargs: asyncio.sleep(0, _page("Brasília")))
    tracker = conversation(
        "rede_form", "to com falta de ar", intent="emergencia", requested="especialidade", cidade="brasilia"
    )
    text = await _answer(dispatcher, domain, tracker)
    assert "Pronto-socorro da rede em Brasília" in text


@pytest.mark.parametrize("failure", [BackendUnavailable("down"), asyncio.TimeoutError()])
async def test_a_backend_down_never_holds_the_call_for_help(
    fake_backend, dispatcher, domain, monkeypatch, failure
) -> None:
    async def broken(*args, **kwargs):
        raise failure

    monkeypatch.setattr(network, "search_providers", broken)
    monkeypatch.setattr(emergency, "operator_profile", broken)
    tracker = conversation(None, "meu pai desmaiou em aracaju", intent="emergencia", cidade="aracaju")
    text = await _answer(dispatcher, domain, tracker)
    assert "192" in text and "pronto-socorro" in text
    assert "Central 24 horas" not in text


async def test_a_slow_backend_is_not_waited_for(fake_backend, dispatcher, domain, monkeypatch) -> None:
    never = asyncio.Event()

    async def hanging(*args, **kwargs):
        await never.wait()

    monkeypatch.setattr(network, "search_providers", hanging)
    monkeypatch.setattr(emergency, "LOOKUP_SECONDS", 0.05)
    tracker = conversation(None, "sangrando muito", intent="emergencia", cidade="aracaju")
    text = await _answer(dispatcher, domain, tracker)
    assert "192" in text and PHONE in text
