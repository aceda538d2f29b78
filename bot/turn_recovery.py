"""A turn the action server could not finish: the user hears so at once, and nothing said is lost.

Rasa 3.6 waits up to five minutes for the action server and, when a call fails, logs it and goes on
without the action's events: the user gets silence (WhatsApp, Telegram) or a REST call hanging past
the channel's patience, and the pending request is gone (a form that never started, a value typed
for nothing). Here, inside the Rasa server (installed by bot.rasa_server):

- **Deadline.** Every call to the action server gets at most ACTION_TIMEOUT_S seconds (default 8)
  and all of a turn's calls together at most TURN_BUDGET_S (default 12), well under Twilio's 15 s.
  Actions give up on the backend sooner (BACKEND_TIMEOUT_S, bot/backend/client.py) and let the
  failure reach here, so one answer covers both.
- **A polite answer.** When a call fails (no answer in time, connection refused, a 5xx, an invalid
  answer), the turn stops and the user gets "tive um problema para consultar isso agora; tente de
  novo em instantes" with a "Tentar de novo" button, the human option and the call-centre phone,
  on every channel (it is an ordinary bot message). A third failure in a row says it differently.
- **Nothing said is lost.** What the failed turn changed is put back (its slots and active form, as
  they were before the message; the message itself stays in the history): the form still asks its
  question, the identity is still verified. So repeating the last answer simply continues; "tenta
  de novo" (or the button) replays the message that failed, as if the user had typed it again.
  (Rasa's `UserUtteranceReverted` cannot do this: inside a form it also drops the turns the form
  collapses, back to before the form started.) The backend refuses to create a
  request twice (reimbursements, card requests and tickets look for the same one first), so a
  replay after a call that did reach the backend answers with the first protocol.

An ActionExecutionRejection (a form rejecting its own execution, HTTP 400) is Rasa's normal flow
and is left alone.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from rasa.core.actions.action import Action, ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

from common.emergency import EMERGENCY_INTENT, detect
from common.text import fold

logger = logging.getLogger(__name__)

ACTION_TIMEOUT_ENV, DEFAULT_ACTION_TIMEOUT_S = "ACTION_TIMEOUT_S", 8.0
TURN_BUDGET_ENV, DEFAULT_TURN_BUDGET_S = "TURN_BUDGET_S", 12.0
CALL_CENTRE_WAIT_S = 2.0  # the phone for the apology: the cached profile, else at most this long

# the marker on the apology: the message before it is the one "tenta de novo" replays
TURN_FAILED = "turn_failed"
HANDOFF_ACTION = "action_contato_atendente"
EMERGENCY_ACTION = "action_emergencia"

# --- what the bot says ---------------------------------------------------------------------------
RETRY_PAYLOAD = "tentar de novo"
RETRY_BUTTON = {"title": "Tentar de novo", "payload": RETRY_PAYLOAD}
HUMAN_BUTTON = {"title": "Falar com atendente", "payload": "/falar_com_atendente"}
FAILED_TEXTS = (
    (
        "Desculpe, tive um problema para consultar isso agora. Tente de novo em instantes: toque em "
        '"Tentar de novo" ou repita sua última mensagem, o que você já me disse está guardado. '
        "Se preferir, fale com um atendente ou ligue para {line}."
    ),
    (
        "Ainda não consegui consultar, o sistema está instável. Posso tentar de novo daqui a pouco, "
        "ou você fala com um atendente agora. Pelo telefone: {line}."
    ),
    (
        "O sistema continua fora do ar neste momento. Para não te deixar esperando, o melhor caminho "
        'agora é a nossa central: {line}. Quando quiser, é só tocar em "Tentar de novo".'
    ),
)
EMERGENCY_LINE_TEXT = "Você também pode ligar para {line}."
HANDOFF_FAILED_TEXT = (
    "Não consegui chamar um atendente pelo chat agora. Ligue para {line}, que atendem você por lá, "
    'ou toque em "Tentar de novo" em instantes.'
)

_RETRY = re.compile(
    r"(pode |por favor |pfv |pf )?"
    r"(tent(a|e|ar|o)( ai| la)?( (de novo|d novo|denovo|novamente|outra vez|mais uma vez))?"
    r"|de novo|denovo|novamente|outra vez|mais uma vez)"
    r"( (por favor|pfv|pf|ai|agora))?"
)


def is_retry(text: str | None) -> bool:
    """ "tenta de novo", "tentar novamente", "de novo", the button's payload..."""
    return bool(text) and _RETRY.fullmatch(fold(text)) is not None


def _seconds(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass
class _Turn:
    """What one user message's handling knows about its action-server calls."""

    deadline: float  # time.monotonic() by which every call must be over
    message_id: str | None = None  # the UserUttered this turn logged
    slots_before: dict[str, Any] = field(default_factory=dict)  # as they were before that message
    loop_before: str | None = None
    failed_action: str | None = None
    recovered: bool = False
    errors: list[str] = field(default_factory=list)


_turn: ContextVar[_Turn | None] = ContextVar("turn_recovery_turn", default=None)


class ActionServerFailed(RasaException):
    """The action server did not give a usable answer in time."""


def _failed_message(tracker: DialogueStateTracker) -> UserUttered | None:
    """The user message whose turn failed last, when nothing has been said since."""
    marked = False
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            return None
        if isinstance(event, BotUttered) and (event.metadata or {}).get(TURN_FAILED):
            marked = True
        elif isinstance(event, UserUttered):
            return event if marked else None
    return None


def _failures_in_a_row(tracker: DialogueStateTracker) -> int:
    """How many apologies the bot said since it last said anything else."""
    count = 0
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            break
        if isinstance(event, BotUttered):
            if not (event.metadata or {}).get(TURN_FAILED):
                break
            count += 1
    return count


async def _call_centre_line() -> str:
    from bot.actions.operator_profile import CALL_CENTRE_UNKNOWN_TEXT, call_centre_line

    try:
        return await asyncio.wait_for(call_centre_line(), CALL_CENTRE_WAIT_S)
    except Exception:  # the apology must go out whatever else is down
        logger.warning("turn recovery: no call-centre phone for the apology", exc_info=True)
        return CALL_CENTRE_UNKNOWN_TEXT


async def apology(tracker: DialogueStateTracker, failed_action: str) -> BotUttered:
    """What the user reads instead of silence; an emergency gets its call for help all the same."""
    from bot.actions.emergency import emergency_text

    line = await _call_centre_line()
    latest = tracker.latest_message
    emergency = detect(latest.text) if latest is not None else None
    said_emergency = latest is not None and latest.intent.get("name") == EMERGENCY_INTENT
    if emergency is not None or said_emergency or failed_action == EMERGENCY_ACTION:
        text = emergency_text(emergency.category if emergency else None, None, None, [])
        text += "\n\n" + EMERGENCY_LINE_TEXT.format(line=line)
        buttons = [HUMAN_BUTTON]
    elif failed_action == HANDOFF_ACTION:
        text, buttons = HANDOFF_FAILED_TEXT.format(line=line), [RETRY_BUTTON]
    else:
        text = FAILED_TEXTS[min(_failures_in_a_row(tracker), len(FAILED_TEXTS) - 1)].format(line=line)
        buttons = [RETRY_BUTTON, HUMAN_BUTTON]
    return BotUttered(text, {"buttons": buttons}, metadata={TURN_FAILED: failed_action})


# --- the hooks in Rasa ---------------------------------------------------------------------------
_remote_run = RemoteAction.run
_handle_message = MessageProcessor.handle_message
_handle_message_with_tracker = MessageProcessor._handle_message_with_tracker
_run_action = MessageProcessor._run_action


async def _bounded_remote_run(
    self: RemoteAction,
    output_channel: OutputChannel,
    nlg: NaturalLanguageGenerator,
    tracker: DialogueStateTracker,
    domain: Domain,
) -> list[Event]:
    turn = _turn.get()
    if turn is not None and turn.failed_action:
        raise ActionServerFailed(f"{self.name()}: not called, {turn.failed_action} already failed in this turn")
    timeout = _seconds(ACTION_TIMEOUT_ENV, DEFAULT_ACTION_TIMEOUT_S)
    if turn is not None:
        timeout = max(0.5, min(timeout, turn.deadline - time.monotonic()))
    try:
        return await asyncio.wait_for(_remote_run(self, output_channel, nlg, tracker, domain), timeout)
    except ActionExecutionRejection:
        raise
    except asyncio.TimeoutError:
        error = f"{self.name()}: no answer from the action server in {timeout:.1f} s"
    except Exception as exc:  # noqa: BLE001 - refused, 5xx, an invalid answer: the same for the user
        error = f"{self.name()}: {_what_failed(exc)}"
    logger.error("action server call failed: %s", error)
    if turn is not None:
        turn.failed_action = turn.failed_action or self.name()
        turn.errors.append(error)
    # `from None`: the cause's text holds the action server's answer, which may echo the tracker
    # (personal data) and would reach the log with the traceback Rasa writes
    raise ActionServerFailed(error) from None


def _what_failed(exc: BaseException) -> str:
    """The failure in words safe for a log: its kind and HTTP status, never a body."""
    for error in (exc, exc.__cause__):
        status = getattr(error, "status", None)
        if isinstance(status, int):
            return f"{type(exc).__name__} (HTTP {status})"
    return type(exc).__name__


async def _handle_message_recovering(self: MessageProcessor, message: UserMessage) -> Any:
    budget = _seconds(TURN_BUDGET_ENV, DEFAULT_TURN_BUDGET_S)
    token = _turn.set(_Turn(deadline=time.monotonic() + budget))
    try:
        return await _handle_message(self, message)
    finally:
        _turn.reset(token)


async def _log_message_replaying(self: MessageProcessor, message: UserMessage, tracker: DialogueStateTracker) -> None:
    """A retry right after a failed turn logs the failed message again instead of "tenta de novo"."""
    failed = _failed_message(tracker) if is_retry(message.text) else None
    if failed is not None and failed.text:
        logger.info("turn recovery: replaying the message of the failed turn in %s", message.sender_id)
        message = UserMessage(
            failed.text,
            message.output_channel,
            message.sender_id,
            input_channel=message.input_channel,
            message_id=message.message_id,
            metadata=failed.metadata or message.metadata,  # e.g. the files the failed message carried
        )
    turn = _turn.get()
    if turn is not None:
        turn.message_id = message.message_id
        turn.slots_before = {name: copy.deepcopy(slot.value) for name, slot in tracker.slots.items()}
        turn.loop_before = tracker.active_loop_name
    await _handle_message_with_tracker(self, message, tracker)


async def _run_action_recovering(
    self: MessageProcessor,
    action: Action,
    tracker: DialogueStateTracker,
    output_channel: OutputChannel,
    nlg: NaturalLanguageGenerator,
    prediction: PolicyPrediction,
) -> bool:
    go_on = await _run_action(self, action, tracker, output_channel, nlg, prediction)
    turn = _turn.get()
    if turn is None or not turn.failed_action or turn.recovered:
        return go_on
    latest = tracker.latest_message
    if turn.message_id is None or latest is None or latest.message_id != turn.message_id:
        return go_on  # failed before this turn's message was logged (session start): Rasa's own way
    turn.recovered = True
    events: list[Event] = [
        SlotSet(name, value) for name, value in turn.slots_before.items() if tracker.get_slot(name) != value
    ]
    if tracker.active_loop_name != turn.loop_before:
        events.append(ActiveLoop(turn.loop_before))
    events += [await apology(tracker, turn.failed_action), ActionExecuted(ACTION_LISTEN_NAME)]
    tracker.update_with_events(events, self.domain)
    await self.execute_side_effects(events, tracker, output_channel)
    return False  # the turn ends here, listening, in the state the message found


def install() -> None:
    RemoteAction.run = _bounded_remote_run
    MessageProcessor.handle_message = _handle_message_recovering
    MessageProcessor._handle_message_with_tracker = _log_message_replaying
    MessageProcessor._run_action = _run_action_recovering
