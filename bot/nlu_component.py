"""What the bot's own NLU components (bot.fixed_form_extractor, bot.emergency_classifier) share:
nothing to configure, train or store, so Rasa creates each with no arguments."""

from __future__ import annotations

from typing import Any, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

Component = TypeVar("Component", bound="UntrainedComponent")


class UntrainedComponent(GraphComponent):
    """A graph component without configuration or trained state (register it with
    `is_trainable=False`)."""

    @classmethod
    def create(
        cls: type[Component],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Component:
        return cls()
