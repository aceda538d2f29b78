"""rede_credenciada: specialty and city (no identity needed), then 5 providers per page with
"Ver mais"; the backend normalises synonyms and typos and suggests where to look when nothing
is found."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.flow_reset import end_flow_events
from bot.actions.identity import extract_from_text
from bot.actions.repeated_question import CountsRepeatedQuestions
from bot.actions.services import payload
from bot.backend import network
from bot.backend.common import Refusal
from bot.backend.network import Provider

# --- what the bot says (the backend words the results, "nothing found" and its refusals) ---------
SPECIALTY_HINT_TEXT = "Me diga a especialidade em poucas palavras, por exemplo: cardiologista, pediatra ou dentista."
CITY_HINT_TEXT = "Me diga o nome da cidade, por exemplo: Aracaju."
SEARCH_FAILED_TEXT = "Não consegui fazer a busca agora."  # a refusal without the backend's message
MORE_TITLE = "Ver mais"
ELSEWHERE_TITLE = "Ver em {city}"
PROVIDER_TEXT = "{name} ({type})\n{address}\nTel.: {phone}\nMapa: {map_url}"
RESULTS_TEXT = "{message}\n\n{providers}"
EXAMPLE_SPECIALTIES = ("Cardiologia", "Pediatria", "Dermatologia")

MAX_TERM_LENGTH = 60


def _term(value: Any) -> str | None:
    text = " ".join(str(value or "").split()).strip(" .?!")
    return text if 2 <= len(text) <= MAX_TERM_LENGTH else None


class ValidateRedeForm(CountsRepeatedQuestions):
    def name(self) -> str:
        return "validate_rede_form"

    async def extract_especialidade(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "especialidade", None)

    async def extract_cidade(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "cidade", None)

    async def validate_especialidade(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        term = _term(value)
        if term is None:
            dispatcher.utter_message(text=SPECIALTY_HINT_TEXT)
        return {"especialidade": term}

    async def validate_cidade(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        term = _term(value)
        if term is None:
            dispatcher.utter_message(text=CITY_HINT_TEXT)
        return {"cidade": term}


def _provider_lines(results: tuple[Provider, ...]) -> str:
    return "\n\n".join(
        PROVIDER_TEXT.format(name=p.name, type=p.type, address=p.address, phone=p.phone, map_url=p.map_url)
        for p in results
    )


def _search(specialty: str, city: str, page: str | None = None) -> str:
    """A button payload that searches again."""
    values = {"especialidade": specialty, "cidade": city}
    if page is not None:
        values["pagina"] = page
    return payload("rede_credenciada", **values)


class ActionRedeCredenciada(Action):
    def name(self) -> str:
        return "action_rede_credenciada"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        specialty, city = tracker.get_slot("especialidade") or "", tracker.get_slot("cidade") or ""
        page = str(tracker.get_slot("rede_pagina") or "1")
        # BackendUnavailable goes up: bot/turn_recovery.py answers and keeps the search for a retry
        found = await network.search_providers(specialty, city, int(page) if page.isdigit() else 1)
        buttons: list[dict[str, str]] = []
        if isinstance(found, Refusal):
            if found.status == 422:  # unknown specialty: the message names some, the buttons too
                buttons = [{"title": name, "payload": _search(name, city)} for name in EXAMPLE_SPECIALTIES]
                dispatcher.utter_message(text=found.message, buttons=buttons)
            else:
                dispatcher.utter_message(text=found.message or SEARCH_FAILED_TEXT)
        elif found.results:
            if found.has_more:
                buttons.append(
                    {"title": MORE_TITLE, "payload": _search(found.specialty, found.city, str(found.page + 1))}
                )
            text = RESULTS_TEXT.format(message=found.message, providers=_provider_lines(found.results))
            dispatcher.utter_message(text=text, buttons=buttons)
        else:
            if found.nearest_city:
                buttons.append(
                    {
                        "title": ELSEWHERE_TITLE.format(city=found.nearest_city),
                        "payload": _search(found.specialty, found.nearest_city),
                    }
                )
            for name in found.related_specialties[:2]:
                buttons.append({"title": name, "payload": _search(name, found.city)})
            dispatcher.utter_message(text=found.message, buttons=buttons)
        return end_flow_events(tracker) + [SlotSet("rede_pagina", None)]
