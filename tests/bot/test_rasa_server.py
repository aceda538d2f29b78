"""The Rasa entry point keeps validating action-server responses, with a validator built once, and
answers an emergency in a conversation paused for a human agent."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import ConversationPaused, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

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


def _paused_tracker(intent: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker("paused", slots=[])
    tracker.update(ConversationPaused())
    tracker.update(UserUttered("texto", intent={"name": intent, "confidence": 1.0}))
    return tracker


def test_a_paused_conversation_still_gets_the_emergency_answer(monkeypatch) -> None:
    monkeypatch.setattr(MessageProcessor, "_should_handle_message", MessageProcessor.__dict__["_should_handle_message"])
    rasa_server.install()
    assert MessageProcessor._should_handle_message(_paused_tracker("emergencia"))
    assert MessageProcessor._should_handle_message(_paused_tracker("restart"))
    # anything else waits for the human agent, as in Rasa
    assert not MessageProcessor._should_handle_message(_paused_tracker("segunda_via_boleto"))
    running = DialogueStateTracker("running", slots=[])
    running.update(UserUttered("oi", intent={"name": "saudacao", "confidence": 1.0}))
    assert MessageProcessor._should_handle_message(running)


def test_rasas_structured_log_never_carries_what_the_user_typed(monkeypatch, caplog) -> None:
    """A REST turn cut by the channel's timeout makes Rasa log `text=<the message>` at ERROR
    (rasa/core/channels/rest.py): with the server's install() the log line keeps only its size."""
    import logging

    import rasa.utils.log_utils
    import structlog

    monkeypatch.setattr(rasa.utils.log_utils, "_anonymizer", rasa.utils.log_utils._anonymizer)
    rasa_server.install()
    typed = "sou Paulo Henrique, cpf 318.640.275-17, estou com dor no peito"
    try:
        rasa.utils.log_utils.configure_structlog(logging.INFO)
        with caplog.at_level(logging.INFO):
            structlog.get_logger("rasa.core.channels.rest").error("rest.message.received.timeout", text=typed)
    finally:
        structlog.reset_defaults()
    logged = " ".join(str(record.msg) for record in caplog.records)
    assert "rest.message.received.timeout" in logged  # the event is still there, for the operator
    assert "Paulo" not in logged and "318.640" not in logged and "peito" not in logged
    assert f"<omitido: {len(typed)}>" in logged
