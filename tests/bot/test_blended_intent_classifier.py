"""The blended intent classifier: trained, stored and loaded through Rasa's model storage, it
turns DIET's ranking into the average of DIET's and the linear model's probabilities."""

from __future__ import annotations

from pathlib import Path

import pytest
import skops.io as sio
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.blended_intent_classifier import MODEL_FILE, BlendedIntentClassifier, UntrustedModelFile, blend

EXAMPLES = {
    "segunda_via_boleto": [
        "segunda via do boleto",
        "quero o boleto",
        "boleto atrasado",
        "2 via boleto",
        "pix do boleto",
    ],
    "esqueci_senha": [
        "esqueci minha senha",
        "perdi a senha",
        "nao lembro a senha",
        "recuperar senha",
        "senha bloqueada",
    ],
    "saudacao": ["oi", "ola", "bom dia", "boa tarde", "e ai"],
}


def _training_data() -> TrainingData:
    return TrainingData(
        training_examples=[
            Message(data={TEXT: text, INTENT: intent}) for intent, texts in EXAMPLES.items() for text in texts
        ]
    )


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def _trained(tmp_path: Path) -> tuple[LocalModelStorage, Resource]:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("blended")
    config = BlendedIntentClassifier.get_default_config()
    BlendedIntentClassifier.create(config, storage, resource, _context()).train(_training_data())
    return storage, resource


def _loaded(storage: LocalModelStorage, resource: Resource) -> BlendedIntentClassifier:
    config = BlendedIntentClassifier.get_default_config()
    return BlendedIntentClassifier.load(config, storage, resource, _context())


def _diet(text: str, ranking: list[tuple[str, float]]) -> Message:
    message = Message(data={TEXT: text})
    items = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    message.set(INTENT, items[0])
    message.set(INTENT_RANKING_KEY, items)
    return message


def test_the_average_of_both_decides(tmp_path: Path) -> None:
    """DIET hesitates towards the wrong intent; the linear model, sure of the spelling, wins."""
    classifier = _loaded(*_trained(tmp_path))
    message = _diet("esqueci a senha", [("segunda_via_boleto", 0.55), ("esqueci_senha", 0.45)])
    result = classifier.process([message])[0]
    assert result.get(INTENT)["name"] == "esqueci_senha"
    ranking = result.get(INTENT_RANKING_KEY)
    assert [item["name"] for item in ranking][:2] == ["esqueci_senha", "segunda_via_boleto"]
    assert sum(item["confidence"] for item in ranking) == pytest.approx(1.0)
    linear = classifier.linear_probabilities("esqueci a senha")
    assert result.get(INTENT)["confidence"] == pytest.approx(0.5 * 0.45 + 0.5 * linear["esqueci_senha"])


def test_agreement_keeps_a_confident_answer(tmp_path: Path) -> None:
    classifier = _loaded(*_trained(tmp_path))
    message = _diet("bom dia", [("saudacao", 0.98), ("esqueci_senha", 0.01), ("segunda_via_boleto", 0.01)])
    result = classifier.process([message])[0]
    assert result.get(INTENT)["name"] == "saudacao"
    assert result.get(INTENT)["confidence"] > 0.8


def test_a_button_payload_is_left_alone(tmp_path: Path) -> None:
    classifier = _loaded(*_trained(tmp_path))
    message = _diet("/segunda_via_boleto", [("segunda_via_boleto", 1.0)])
    assert classifier.process([message])[0].get(INTENT) == {"name": "segunda_via_boleto", "confidence": 1.0}


def test_untrained_it_keeps_diets_ranking(tmp_path: Path) -> None:
    classifier = _loaded(LocalModelStorage(tmp_path), Resource("never_trained"))
    message = _diet("esqueci a senha", [("segunda_via_boleto", 0.55), ("esqueci_senha", 0.45)])
    assert classifier.process([message])[0].get(INTENT)["name"] == "segunda_via_boleto"


def test_a_stored_model_with_unexpected_types_is_refused(tmp_path: Path) -> None:
    storage, resource = _trained(tmp_path)
    with storage.write_to(resource) as directory:
        sio.dump({"payload": Path("/etc/passwd")}, directory / MODEL_FILE)
    with pytest.raises(UntrustedModelFile):
        _loaded(storage, resource)


def test_an_intent_missing_from_diets_ranking_counts_as_zero() -> None:
    ranking = blend([{"name": "a", "confidence": 0.9}], {"a": 0.2, "b": 0.8}, 0.5)
    assert ranking == [("a", pytest.approx(0.55)), ("b", pytest.approx(0.4))]


def test_two_intents_are_enough(tmp_path: Path) -> None:
    storage, resource = LocalModelStorage(tmp_path), Resource("two")
    config = BlendedIntentClassifier.get_default_config()
    data = TrainingData(
        training_examples=[
            Message(data={TEXT: text, INTENT: intent})
            for intent in ("saudacao", "esqueci_senha")
            for text in EXAMPLES[intent]
        ]
    )
    BlendedIntentClassifier.create(config, storage, resource, _context()).train(data)
    probabilities = _loaded(storage, resource).linear_probabilities("esqueci a senha")
    assert set(probabilities) == {"saudacao", "esqueci_senha"}
    assert probabilities["esqueci_senha"] > probabilities["saudacao"]
