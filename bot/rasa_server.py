"""The Rasa server's entry point: Rasa's own CLI, with the action-response check compiled once.

Rasa 3.6 validates every response of the action server with `jsonschema.validate()`, which
re-checks the schema and builds a new validator on each call. py-spy on `rasa run` under load
showed it as the largest single cost of a form turn (~13 ms CPU per custom-action call, 14 % of
the server's time; see docs/benchmarks.md). Here the validator is built once; the response is
validated exactly as before and an invalid one raises the same ValidationError.

    python -m bot.rasa_server run --enable-api ...   (same arguments as `rasa`)

The HTTP API never runs open: for `run --enable-api` the credentials come from the environment,
RASA_TOKEN as `--auth-token` (callers pass `?token=`, as Rasa's `requires_auth` reads it) and
RASA_JWT_SECRET as `--jwt-secret` when set (`Authorization: Bearer <JWT>`). They are added to the
arguments inside this process, so they never show in the process list; without either the server
refuses to start. An explicit `--auth-token` / `--jwt-secret` on the command line still wins.
Sanic's access log, when a log level enables it, gets `token=` values masked.

Rasa's structured log (structlog) writes what the user typed in some events, at ERROR for a REST
turn cut by the channel's timeout (`rest.message.received.timeout`, `text=`). What a user types may
hold health data and names no pattern can mask, so every field Rasa itself marks as personal
(`log_utils._anonymizer`'s keys: text, slot values, parse data, events...) is replaced by its length.

A paused conversation (a human agent has it, docs/handoff.md) still gets the bot's answer to a
medical emergency: Rasa's processor handles a message in a paused conversation only for
`/restart`; here also for the intent `emergencia` (bot/emergency_classifier.py).

A turn the action server cannot finish in time gets a polite answer and loses nothing the user
said (bot/turn_recovery.py).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
from typing import Any

import rasa.utils.log_utils
from jsonschema import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.constants import USER_INTENT_RESTART
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot import rasa_health, turn_recovery
from common.emergency import EMERGENCY_INTENT


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


def _should_handle_message(tracker: DialogueStateTracker) -> bool:
    """Rasa's rule (not paused, or /restart), plus an emergency while a human agent has the
    conversation: the bot answers it, and the conversation stays with the agent."""
    if not tracker.is_paused():
        return True
    intent = tracker.latest_message.intent.get(INTENT_NAME_KEY) if tracker.latest_message else None
    return intent in (USER_INTENT_RESTART, EMERGENCY_INTENT)


# The fields Rasa's own anonymizer treats as personal (rasa/utils/log_utils.py, 3.6.21).
PERSONAL_LOG_FIELDS = frozenset(
    "text response_text user_text slot_values parse_data_text parse_data_entities prediction_events "
    "tracker_latest_message prefilled_slots message response slot_candidates rasa_event rasa_events "
    "tracker_states current_states old_states successes current_entity next_entity states entity "
    "token_text user_message json_message".split()
)


def _omit_personal_fields(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: a personal field keeps only its size ("<omitido: 23 caracteres>")."""
    for key in PERSONAL_LOG_FIELDS.intersection(event_dict):
        value = event_dict[key]
        size = len(value) if isinstance(value, (str, list, dict, tuple)) else None
        event_dict[key] = "<omitido>" if size is None else f"<omitido: {size}>"
    return event_dict


def install() -> None:
    # configure_structlog() reads the module's `_anonymizer` when Rasa's CLI starts: replaced first
    rasa.utils.log_utils._anonymizer = _omit_personal_fields
    RemoteAction._validate_action_result = _validate_action_result
    MessageProcessor._should_handle_message = staticmethod(_should_handle_message)
    turn_recovery.install()


def with_api_credentials(argv: list[str], env: dict[str, str]) -> list[str]:
    """`argv` (without the program name) with the HTTP API's credentials from `env` added to a
    `run --enable-api`; raises SystemExit when there are none."""
    if not argv or argv[0] != "run" or "--enable-api" not in argv:
        return argv
    argv = list(argv)

    def given(option: str) -> bool:
        return any(arg == option or arg.startswith(option + "=") for arg in argv)

    # `--option=value`: a generated token may start with "-", which argparse would take for an option
    if not given("--auth-token") and env.get("RASA_TOKEN"):
        argv.append(f"--auth-token={env['RASA_TOKEN']}")
    if not given("--jwt-secret") and env.get("RASA_JWT_SECRET"):
        argv.append(f"--jwt-secret={env['RASA_JWT_SECRET']}")
    if not (given("--auth-token") or given("--jwt-secret")):
        raise SystemExit(
            "the Rasa HTTP API (--enable-api) needs credentials: set RASA_TOKEN "
            "(and/or RASA_JWT_SECRET); make run generates RASA_TOKEN under var/secrets/"
        )
    return argv


_TOKEN_IN_URL = re.compile(r"([?&]token=)[^&\s]*")


class MaskTokenFilter(logging.Filter):
    """Masks `?token=...` in Sanic's access log lines (the request line is in `record.request`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if isinstance(request, str):
            record.request = _TOKEN_IN_URL.sub(r"\1***", request)
        if isinstance(record.msg, str):
            record.msg = _TOKEN_IN_URL.sub(r"\1***", record.msg)
        return True


def main() -> None:
    install()
    rasa_health.install()  # GET /health: model loaded, action server healthy (not in install(): tests call it)
    logging.getLogger("sanic.access").addFilter(MaskTokenFilter())
    sys.argv[1:] = with_api_credentials(sys.argv[1:], dict(os.environ))
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
