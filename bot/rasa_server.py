"""The Rasa server's entry point: Rasa's own CLI, with the action-response check compiled once.

Rasa 3.6 validates every response of the action server with `jsonschema.validate()`, which
re-checks the schema and builds a new validator on each call. py-spy on `rasa run` under load
showed it as the largest single cost of a form turn (~13 ms CPU per custom-action call, 14 % of
the server's time; see docs/benchmarks.md). Here the validator is built once; the response is
validated exactly as before and an invalid one raises the same ValidationError.

    python -m bot.rasa_server run --enable-api ...   (same arguments as `rasa`)
"""
from __future__ import annotations

import functools
from typing import Any

from jsonschema import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.lru_cache(maxsize=1)
def _action_response_validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    try:
        _action_response_validator().validate(result)
        return True
    except ValidationError as e:  # same message as Rasa's own implementation
        e.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise e


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
