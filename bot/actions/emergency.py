"""A medical emergency, in any state of the conversation: call for help first, then go on.

The intent `emergencia` comes from the lexicon (bot/emergency_classifier.py, common/emergency.py)
as well as from DIET. The answer never waits on the backend for its essentials: SAMU and the
nearest pronto-socorro come first; the operator's 24 h line and the network's emergency services in
the user's city are added when the backend answers quickly.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.operator_profile import operator_profile
from bot.backend import network
from bot.backend.network import Provider, ProviderPage
from common.emergency import POISONING, SUICIDE, detect

EMERGENCY_SPECIALTY = "Pronto-Socorro"
LOOKUP_SECONDS = 2.0
MAX_PROVIDERS = 3

# --- what the bot says ---------------------------------------------------------------------------
TEXTS = {
    "call": (
        "🚨 Isso pode ser uma emergência. Ligue agora para o SAMU: 192 (ou Bombeiros: 193) "
        "e vá ao pronto-socorro mais próximo. Não espere resposta por aqui."
    ),
    "suicide": (
        "Sinto muito que você esteja passando por isso. Você não está sozinho(a): ligue 188, o CVV "
        "atende 24 horas, de graça, ou converse em cvv.org.br. Se houver risco agora, ligue 192 (SAMU)."
    ),
    "poisoning": "Se foi intoxicação ou envenenamento, o Disque-Intoxicação atende 24 horas: 0800 722 6001.",
    "central": "Central 24 horas do plano: {phone}.",
    "providers": "Pronto-socorro da rede em {city}:",
    "after": "Quando estiver em segurança, posso continuar ajudando por aqui.",
}


def emergency_text(category: str | None, phone: str | None, city: str | None, providers: list[Provider]) -> str:
    """The whole answer, most urgent first."""
    parts = [TEXTS["suicide"] if category == SUICIDE else TEXTS["call"]]
    if category == POISONING:
        parts.append(TEXTS["poisoning"])
    if phone:
        parts.append(TEXTS["central"].format(phone=phone))
    if city and providers:
        lines = [TEXTS["providers"].format(city=city)]
        lines += [f"• {p.name}: {p.address}, tel. {p.phone}" for p in providers[:MAX_PROVIDERS]]
        parts.append("\n".join(lines))
    parts.append(TEXTS["after"])
    return "\n\n".join(parts)


def _city(tracker: Tracker) -> str | None:
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "cidade" and entity.get("value"):
            return str(entity["value"])
    return tracker.get_slot("cidade")


async def _providers(city: str | None) -> tuple[str | None, list[Provider]]:
    """The network's emergency services in the city (the backend's spelling of it), or none."""
    if not city:
        return None, []
    try:
        found = await asyncio.wait_for(network.search_providers(EMERGENCY_SPECIALTY, city), LOOKUP_SECONDS)
    except Exception:  # noqa: BLE001 - the call for help never depends on the lookup
        return None, []
    if not isinstance(found, ProviderPage):
        return None, []
    return found.city, list(found.results)


async def _phone() -> str | None:
    try:
        profile = await asyncio.wait_for(operator_profile(), LOOKUP_SECONDS)
    except Exception:  # noqa: BLE001 - the call for help never depends on the lookup
        return None
    return profile.phones.get("central_24h") if profile else None


class ActionEmergencia(Action):
    def name(self) -> str:
        return "action_emergencia"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        found = detect((tracker.latest_message or {}).get("text"))
        (city, providers), phone = await asyncio.gather(_providers(_city(tracker)), _phone())
        dispatcher.utter_message(text=emergency_text(found.category if found else None, phone, city, providers))
        return []
