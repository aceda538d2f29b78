"""rede_credenciada: specialty and city (no identity needed), then 5 providers per page with
"Ver mais"; the backend normalises synonyms and typos and suggests where to look when nothing
is found."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from bot.actions.backend_client import BackendUnavailable, backend
from bot.actions.flow_reset import end_flow_events
from bot.actions.identity import extract_from_text
from bot.actions.operator_profile import backend_down_text
from bot.actions.services import payload

MAX_TERM_LENGTH = 60
EXAMPLE_SPECIALTIES = ("Cardiologia", "Pediatria", "Dermatologia")


def _term(value: Any) -> str | None:
    text = " ".join(str(value or "").split()).strip(" .?!")
    return text if 2 <= len(text) <= MAX_TERM_LENGTH else None


class ValidateRedeForm(FormValidationAction):
    def name(self) -> str:
        return "validate_rede_form"

    async def extract_especialidade(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "especialidade", None)

    async def extract_cidade(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "cidade", None)

    async def validate_especialidade(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        term = _term(value)
        if term is None:
            dispatcher.utter_message(
                text="Me diga a especialidade em poucas palavras, por exemplo: cardiologista, pediatra ou dentista."
            )
        return {"especialidade": term}

    async def validate_cidade(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        term = _term(value)
        if term is None:
            dispatcher.utter_message(text="Me diga o nome da cidade, por exemplo: Aracaju.")
        return {"cidade": term}


def _provider_lines(results: list[dict]) -> str:
    return "\n\n".join(
        f"{p['name']} ({p['type']})\n{p['address']}\nTel.: {p['phone']}\nMapa: {p['map_url']}" for p in results
    )


class ActionRedeCredenciada(Action):
    def name(self) -> str:
        return "action_rede_credenciada"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        specialty, city = tracker.get_slot("especialidade"), tracker.get_slot("cidade")
        page = str(tracker.get_slot("rede_pagina") or "1")
        params = {"especialidade": specialty or "", "cidade": city or "", "pagina": page if page.isdigit() else "1"}
        try:
            response = await backend.get("/api/providers", params=params)
        except BackendUnavailable:
            dispatcher.utter_message(text=await backend_down_text())
            return end_flow_events(tracker)
        data, buttons = response.data, []
        if response.status == 422:
            buttons = [
                {"title": name, "payload": payload("rede_credenciada", especialidade=name, cidade=city)}
                for name in EXAMPLE_SPECIALTIES
            ]
            dispatcher.utter_message(text=response.error.get("message"), buttons=buttons)
        elif not response.ok:
            dispatcher.utter_message(text=response.error.get("message") or "Não consegui fazer a busca agora.")
        elif data["results"]:
            if data["has_more"]:
                buttons.append(
                    {
                        "title": "Ver mais",
                        "payload": payload(
                            "rede_credenciada",
                            especialidade=data["specialty"],
                            cidade=data["city"],
                            pagina=str(data["page"] + 1),
                        ),
                    }
                )
            dispatcher.utter_message(text=f"{data['message']}\n\n{_provider_lines(data['results'])}", buttons=buttons)
        else:
            suggestions = data.get("suggestions") or {}
            nearest = suggestions.get("nearest_city") or {}
            if nearest.get("city"):
                buttons.append(
                    {
                        "title": f"Ver em {nearest['city']}",
                        "payload": payload("rede_credenciada", especialidade=data["specialty"], cidade=nearest["city"]),
                    }
                )
            for related in (suggestions.get("related_specialties") or [])[:2]:
                name = related["specialty"] if isinstance(related, dict) else related
                buttons.append(
                    {"title": name, "payload": payload("rede_credenciada", especialidade=name, cidade=data["city"])}
                )
            dispatcher.utter_message(text=data["message"], buttons=buttons)
        return end_flow_events(tracker) + [SlotSet("rede_pagina", None)]
