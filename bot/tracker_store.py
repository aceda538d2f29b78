"""The conversation store: Rasa's SQL tracker store, with personal data masked at rest.

Configured in endpoints.yml by module path (scripts/stack.py, tracker_store_config()):

    tracker_store:
      type: bot.tracker_store.MaskingTrackerStore
      dialect: sqlite            # or postgresql, with url (host), port, db, username, password
      db: var/rasa_tracker.db
      live_minutes: 15           # optional: how long an idle conversation keeps its raw values
      live_size: 2000            # optional: how many conversations keep them at most (in memory)

The event broker (endpoints.yml `event_broker`, RabbitMQ) gets the masked events this store writes,
never raw ones (MaskedOnlyBroker).

What reaches the database (Rasa's `events` table). Every event is written through
common.pii.AtRestMasker: user texts and their parse data (text, entity values), bot texts and
their buttons, metadata, with CPFs, card numbers, e-mails, dates and phones replaced by their kind
("[cpf]", "[data]"...), the secret of one-time links removed, and the person names the
conversation knows (the mother's and the full name the user typed, the first name the backend
returned, the family member chosen) masked wherever they appear. A user message that answers a
name question (`requested_slot` is a name slot) is stored as "[nome]", one that answers the
one-time code question (a company user's e-mailed code, right or wrong) as "[código]". Slot values: the identity
slots (login, CPF, birth date, mother's name, names, e-mails) and the verified session
(`identidade_token`, `identidade_info`) are stored as None — the token is a bearer credential for
the live session only (the backend keeps just its hash and lets it expire after
VERIFIED_SESSION_MINUTES idle), so keeping it at rest would only add risk; any other slot whose
value holds personal data is stored as None too, never as a masked value (a masked value read back
would look filled and be sent to the backend).

What the dialogue needs stays in memory. The identity form collects card, CPF, birth date and
mother's name over several turns, so the unmasked events of each active conversation are kept in
this process (serialised, so no turn can change another's copy) for `live_minutes` after its last save
(default VERIFIED_SESSION_MINUTES, 15), at most `live_size` conversations (least recently saved
dropped first). `retrieve` answers from there when the entry is fresh and the database holds no
newer event of the conversation (a cheap max(id) query); otherwise the masked tracker is read from
the database. `retrieve_full_tracker` (HTTP API GET /conversations/<id>/tracker, `rasa export`)
always reads the database, so it shows the masked history.

What this costs:
- a restart (or a conversation idle for longer than `live_minutes`) in the middle of a form: the
  masked tracker loads with the identity slots empty and not verified, and the form asks again;
- memory: one serialised tracker per active conversation (tens of kB), bounded by `live_size`;
- with several Rasa instances the raw trackers must be shared: TRACKER_CACHE_URL keeps them in
  Redis, encrypted (bot/live_trackers.py); without it the cache is per process, and a conversation
  that moves to another instance is read masked and asks again (never a wrong answer: the max(id)
  check makes an instance drop its copy once another one wrote);
- the conversation id itself is stored as the channel gives it (on WhatsApp, the phone number).

Works with any lock store (Rasa serialises a conversation's turns with it before `retrieve` and
`save`). `rasa test` and `rasa shell` use it when given these endpoints; without them Rasa uses its
in-memory store, as before.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.live_trackers import live_store
from common.pii import AT_REST, AtRestMasker, surnames_after

logger = logging.getLogger(__name__)

# Slots never stored with a value: the identity data and the verified session.
LIVE_ONLY_SLOTS = frozenset(
    {
        "login",
        "cpf",
        "data_nascimento",
        "nome_mae",
        "nome_completo",
        "email_novo",
        "email_confirmacao",
        "identidade_token",
        "identidade_info",
        "carteirinha_membro_nome",
        "reembolso_membro_nome",
        "reembolso_prestador",
        "reembolso_doc_prestador",
        # the employer's side: the company user's verified session, the one-time code and the person moved
        "empresa_token",
        "empresa_info",
        "empresa_usuario",
        "empresa_codigo",
        "empresa_email",
        "empresa_inc_nome",
        "empresa_inc_cpf",
        "empresa_inc_nascimento",
        "empresa_inc_mae",
        "empresa_inc_titular_cpf",
        "empresa_exc_cpf",
    }
)
# Slots that hold a person's name (masked wherever the name appears in the conversation).
NAME_SLOTS = frozenset(
    {
        "nome_mae",
        "nome_completo",
        "carteirinha_membro_nome",
        "reembolso_membro_nome",
        "reembolso_prestador",
        "empresa_inc_nome",
        "empresa_inc_mae",
    }
)
# Questions answered with a typed name: the whole answer is stored as "[nome]".
NAME_QUESTIONS = frozenset({"nome_mae", "nome_completo", "reembolso_prestador", "empresa_inc_nome", "empresa_inc_mae"})
# Questions answered with a secret (the one-time code e-mailed to a company user): the whole answer is stored
# as "[código]", the right code and the wrong ones alike.
SECRET_QUESTIONS = frozenset({"empresa_codigo"})
CODE_AT_REST = "[código]"
# Event keys that name things (actions, intents, event types) or time them: never personal data.
_EVENT_KEEP = frozenset(
    {
        "event",
        "timestamp",
        "name",
        "policy",
        "confidence",
        "input_channel",
        "message_id",
        "date_time",
        "kill_on_user_msg",
        "hide_rule_turn",
        "use_text_for_featurization",
        "is_interrupted",
    }
)
_PARSE_DATA_KEEP = frozenset({"intent", "intent_ranking", "entity", "extractor", "role", "group", "processors"})
_RESETS_FORM = frozenset({"restart", "session_started", "reset_slots"})

DEFAULT_LIVE_SIZE = 2000


def _default_live_minutes() -> float:
    return float(os.environ.get("VERIFIED_SESSION_MINUTES") or 15)


class ConversationMasker:
    """Masks the events of one conversation for storage, knowing its names and typed values."""

    def __init__(self, events: list[Event]) -> None:
        names: set[str] = set()
        values: set[str] = set()
        for event in events:
            data_name = getattr(event, "key", None)
            if event.type_name != "slot" or data_name is None:
                continue
            value = event.value
            if data_name == "identidade_info" and isinstance(value, dict):
                if isinstance(value.get("first_name"), str):
                    names.add(value["first_name"])
            elif data_name in NAME_SLOTS and isinstance(value, str):
                names.add(value)
            elif data_name in LIVE_ONLY_SLOTS and isinstance(value, str):
                values.add(value)
        # the bot writes full names it got from the backend ("Maria Aparecida Santos", a dependent's
        # name in a button): the surnames after a known first name are names too
        names |= surnames_after(names, _bot_texts(events))
        self.masker = AtRestMasker(names, values)

    def event(self, data: dict[str, Any], requested_slot: str | None) -> dict[str, Any]:
        kind = data.get("event")
        if kind == "slot":
            return {**data, "value": self.slot(data.get("name"), data.get("value"))}
        masked = {}
        for key, value in data.items():
            if key in _EVENT_KEEP:
                masked[key] = value
            elif key == "parse_data":
                masked[key] = self.masker.value(value, _PARSE_DATA_KEEP)
            else:
                masked[key] = self.masker.value(value)
        typed = kind == "user" and (data.get("text") or "").strip() and not data["text"].startswith("/")
        if typed and (requested_slot in NAME_QUESTIONS or requested_slot in SECRET_QUESTIONS):
            whole = AT_REST["nome"] if requested_slot in NAME_QUESTIONS else CODE_AT_REST
            masked["text"] = whole
            if isinstance(masked.get("parse_data"), dict):
                masked["parse_data"] = {**masked["parse_data"], "text": whole, "entities": []}
        return masked

    def slot(self, name: str | None, value: Any) -> Any:
        """None for identity slots and for any value with personal data; the value otherwise."""
        if value is None or name in LIVE_ONLY_SLOTS:
            return None
        return value if self.masker.value(value) == value else None


def _bot_texts(events: list[Event]) -> Iterator[str]:
    for event in events:
        if event.type_name == "bot":
            yield getattr(event, "text", None) or ""
            for button in (getattr(event, "data", None) or {}).get("buttons") or []:
                if isinstance(button, dict) and isinstance(button.get("title"), str):
                    yield button["title"]


def masked_events(tracker: DialogueStateTracker, start: int) -> list[dict[str, Any]]:
    """The tracker's events from index `start` on, as the dicts to store (masked)."""
    events = list(tracker.events)
    masker = ConversationMasker(events)
    requested: str | None = None
    out = []
    for index, event in enumerate(events):
        if index >= start:
            out.append(masker.event(event.as_dict(), requested))
        if event.type_name == "slot" and getattr(event, "key", None) == REQUESTED_SLOT:
            requested = event.value
        elif event.type_name in _RESETS_FORM:
            requested = None
    return out


class MaskedOnlyBroker(EventBroker):
    """The event broker as this store hands it around: only save() publishes (publish_masked, the
    masked events it stored). Rasa wraps every tracker store in FailSafeTrackerStore, which, when
    save() fails, saves to an InMemoryTrackerStore given this store's broker, and that one would
    publish the raw events: here its publish() drops them, with a warning."""

    def __init__(self, inner: EventBroker) -> None:
        self.inner = inner

    @classmethod
    async def from_endpoint_config(cls, broker_config: Any, event_loop: Any = None) -> EventBroker | None:
        raise NotImplementedError("wraps a configured broker")

    def publish(self, event: dict[str, Any]) -> None:
        logger.warning("event not published: only masked, stored events go to the broker (%s)", event.get("event"))

    def publish_masked(self, event: dict[str, Any]) -> None:
        self.inner.publish(event)

    def is_ready(self) -> bool:
        return self.inner.is_ready()

    async def close(self) -> None:
        await self.inner.close()


class MaskingTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that stores masked events and keeps active conversations raw in memory."""

    def __init__(
        self, *args: Any, live_minutes: float | None = None, live_size: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        minutes = float(live_minutes) if live_minutes is not None else _default_live_minutes()
        self.live = live_store(minutes * 60, int(live_size or DEFAULT_LIVE_SIZE))
        broker: EventBroker | None = getattr(self, "event_broker", None)
        if broker is not None:
            self.event_broker = MaskedOnlyBroker(broker)

    def _last_event_id(self, session: Any, sender_id: str) -> int | None:
        return session.query(sa.func.max(self.SQLEvent.id)).filter(self.SQLEvent.sender_id == sender_id).scalar()

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stores the events not yet stored (counted as Rasa does), masked; keeps the raw tracker
        in memory once the database has them."""
        with self.session_scope() as session:
            stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
            new = masked_events(tracker, stored)
            for data in new:
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=data.get("event"),
                        timestamp=data.get("timestamp"),
                        intent_name=(data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY)
                        if isinstance(data.get("parse_data"), dict)
                        else None,
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.flush()
            last_event_id = self._last_event_id(session, tracker.sender_id)
            session.commit()
        if self.event_broker is not None:  # the broker gets what the database gets
            for data in new:
                self.event_broker.publish_masked({"sender_id": tracker.sender_id, **data})
        self.live.put(tracker.sender_id, json.dumps([event.as_dict() for event in tracker.events]), last_event_id)
        logger.debug("tracker stored (masked)", extra={"events": len(new)})

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The raw tracker of a live conversation, else the stored (masked) one. Both hold the same
        events (the latest session, chosen as SQLTrackerStore chooses it), so the count `save`
        relies on is right whichever was read."""
        live = self.live.get(sender_id)
        if live is not None:
            serialised, last_event_id = live
            with self.session_scope() as session:
                current = self._last_event_id(session, sender_id)
            if current == last_event_id:
                events = latest_session(json.loads(serialised))
                if events:
                    return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            self.live.drop(sender_id)  # another process wrote since: the database is the truth
        return await super().retrieve(sender_id)


def latest_session(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events SQLTrackerStore._event_query returns for the latest session: those timestamped at
    or after the last `session_started` (all of them when there is none)."""
    starts = [
        event["timestamp"]
        for event in events
        if event.get("event") == "session_started" and event.get("timestamp") is not None
    ]
    if not starts:
        return events
    session_start = max(starts)
    return [event for event in events if event.get("timestamp") is not None and event["timestamp"] >= session_start]
