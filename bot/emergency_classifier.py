"""NLU component: a medical emergency is recognised by the lexicon of common/emergency.py, whatever
the classifier thought.

It runs last in the pipeline (after FallbackClassifier), so neither a confident DIET guess ("dor no
peito" read as a network search) nor a low-confidence fallback hides an emergency. When the lexicon
finds one, the message's intent becomes `emergencia` with confidence 1.0 and the classifier's
ranking follows it; the rules answer `emergencia` in every state of the conversation. Button
payloads ("/intent") are left alone. Nothing is trained: changing the lexicon needs no retraining.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu_component import UntrainedComponent
from common.emergency import EMERGENCY_INTENT, detect


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyClassifier(UntrainedComponent):
    """Sets the intent `emergencia` when the lexicon recognises an emergency."""

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or detect(text) is None:
                continue
            intent = {INTENT_NAME_KEY: EMERGENCY_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
            ranking = [
                item for item in message.get(INTENT_RANKING_KEY) or [] if item.get(INTENT_NAME_KEY) != EMERGENCY_INTENT
            ]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
        return messages
