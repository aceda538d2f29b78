"""The emergency component overrides whatever the classifier decided, and only for an emergency."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.emergency_classifier import EmergencyClassifier


def _classified(text: str, intent: str, confidence: float) -> Message:
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": confidence})
    message.set(
        INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}, {"name": "saudacao", "confidence": 0.01}]
    )
    return message


def _run(message: Message) -> Message:
    component = EmergencyClassifier.create({}, None, None, None)  # type: ignore[arg-type]
    return component.process([message])[0]


def test_a_confident_wrong_guess_becomes_an_emergency() -> None:
    message = _run(_classified("estou com dor forte no peito e sem ar", "rede_credenciada", 0.97))
    assert message.get(INTENT) == {"name": "emergencia", "confidence": 1.0}
    ranking = [item["name"] for item in message.get(INTENT_RANKING_KEY)]
    assert ranking == ["emergencia", "rede_credenciada", "saudacao"]


def test_a_fallback_becomes_an_emergency() -> None:
    message = _run(_classified("meu pai desmaiou", "nlu_fallback", 0.55))
    assert message.get(INTENT)["name"] == "emergencia"


def test_an_ordinary_request_keeps_its_intent() -> None:
    message = _run(_classified("quero pedir reembolso de uma consulta de cardiologia", "solicitar_reembolso", 0.93))
    assert message.get(INTENT) == {"name": "solicitar_reembolso", "confidence": 0.93}


def test_a_button_payload_is_left_alone() -> None:
    message = _run(_classified('/rede_credenciada{"especialidade": "Pronto-Socorro"}', "rede_credenciada", 1.0))
    assert message.get(INTENT)["name"] == "rede_credenciada"
