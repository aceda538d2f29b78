"""NLU component: the fixed-form entities (cpf, carteirinha, email, protocolo, data) are read
with the patterns in common.patterns instead of being guessed by DIET.

A CPF, a 12-digit card or a 20-digit protocol is recognised by its form alone; a statistical
tagger confuses them when two numbers share a message ("cartao 991594744947 cpf 75733778008").
This component runs after DIETClassifier: it drops DIET's tags of those entities and any DIET
tag overlapping one of the values it found (the "1985" of a date read as `ano`), then adds what
the patterns find. DIET still tags the open-ended entities (especialidade, cidade, mes, ano,
valor) and keeps its judgement on "hoje" and "ontem", which are a date only in some sentences
("paguei ontem", not "a senha que uso hoje"). Nothing is trained, so changing the patterns
needs no retraining.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlu_component import UntrainedComponent
from common.patterns import DAY_WORD_RE, FIXED_FORM_ENTITIES, fixed_form_spans, overlaps


def _overlaps(entity: dict[str, Any], spans: list[tuple[str, int, int]]) -> bool:
    start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
    return start is not None and end is not None and overlaps(start, end, spans)


def _is_day_word_date(entity: dict[str, Any]) -> bool:
    return (
        entity.get(ENTITY_ATTRIBUTE_TYPE) == "data"
        and DAY_WORD_RE.fullmatch(str(entity.get(ENTITY_ATTRIBUTE_VALUE) or "").strip()) is not None
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class FixedFormEntityExtractor(UntrainedComponent, EntityExtractorMixin):
    """Extracts cpf, carteirinha, email, protocolo and data by their written form."""

    def process(self, messages: list[Message]) -> list[Message]:
        """Every fixed-form entity in the output is this component's: the ones found by form
        and DIET's "hoje"/"ontem" dates, which it confirms (so one extractor owns each entity)."""
        for message in messages:
            text = message.get(TEXT) or ""
            spans = fixed_form_spans(text)
            entities = message.get(ENTITIES, [])
            kept = [
                e
                for e in entities
                if e.get(ENTITY_ATTRIBUTE_TYPE) not in FIXED_FORM_ENTITIES and not _overlaps(e, spans)
            ]
            found = list(spans)
            found += [
                ("data", e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_END])
                for e in entities
                if _is_day_word_date(e) and not _overlaps(e, spans)
            ]
            found = self.add_extractor_name(
                [
                    {
                        ENTITY_ATTRIBUTE_TYPE: name,
                        ENTITY_ATTRIBUTE_START: start,
                        ENTITY_ATTRIBUTE_END: end,
                        ENTITY_ATTRIBUTE_VALUE: text[start:end],
                    }
                    for name, start, end in found
                ]
            )
            message.set(
                ENTITIES, sorted(kept + found, key=lambda e: e.get(ENTITY_ATTRIBUTE_START) or 0), add_to_output=True
            )
        return messages
