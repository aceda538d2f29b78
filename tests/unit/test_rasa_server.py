"""The Rasa entry point keeps validating action-server responses, with a validator built once."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import rasa_server


@pytest.fixture
def action(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    rasa_server.install()
    return RemoteAction("validate_esqueci_senha_form", None)


def test_valid_response_passes(action):
    response = {
        "events": [{"event": "slot", "name": "cpf", "value": "94580730224"}],
        "responses": [{"text": "Agora me diga o seu CPF."}],
    }
    assert action._validate_action_result(response) is True


@pytest.mark.parametrize(
    "bad",
    [
        {"events": [{"event": "no_such_event"}]},
        {"events": "not a list"},
        {"responses": [1, 2]},
    ],
)
def test_invalid_response_is_still_rejected_with_rasas_message(action, bad):
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(bad)
