"""Conversation analytics: the events Rasa publishes to RabbitMQ (docs/deploy.md, "Analytics"),
stored once each, and the turns made of them — the base of the operator dashboard.

Rasa's pika event broker publishes every event the tracker store saves (bot.tracker_store:
MaskingTrackerStore publishes the masked dicts it stores, each with the conversation's
`sender_id`). backend.analytics_consumer reads them from the queue and calls `store_events`:

- `analytics_events`: one row per event, whatever the redeliveries. The key is the SHA-256 of the
  event as published (keys sorted), so a message delivered again (a consumer that died before its
  ack, a publisher that retried, `rasa export` of the same stored events) inserts nothing:
  INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike. What is kept is what the
  numbers need and nothing personal: the type, the name (action, slot, form; a user message's
  intent), the input channel, Rasa's timestamp, and in `data` the confidences and the names (not
  the values) of the entities. No text, no slot value: the masked conversation itself stays in the
  tracker store, where retention deletes it.
- `analytics_turns`: one row per user message (a message handed back by action_trocar_pedido is
  the same turn, not a new one): channel, intent, confidence, and two flags computed from the
  events between this message and the next — `fallback` (intent nlu_fallback, or a fallback
  action ran) and `handoff` (action_contato_atendente ran). The flags are recomputed from the
  stored events whenever a turn or a flagging action arrives, so the order in which events are
  delivered does not matter. On PostgreSQL a transaction takes an advisory lock per conversation,
  so consumers running side by side never compute a turn from half of its events.

`summary(session, since)` gives the dashboard's counts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import case, distinct, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import AnalyticsEvent, AnalyticsTurn

FALLBACK_INTENT = "nlu_fallback"
# action_fallback is ours (RulePolicy's core fallback too, config.yml); the others are Rasa's defaults
FALLBACK_ACTIONS = frozenset({"action_fallback", "action_default_fallback", "action_two_stage_fallback"})
HANDOFF_ACTIONS = frozenset({"action_contato_atendente"})
SESSION_STARTED = "session_started"
REINJECTED = "reinjected"  # bot.actions.conversation.REINJECTED: a message handed back, not a new turn
RANKING_KEPT = 3
UNKNOWN_CHANNEL = "unknown"
_ADVISORY_NAMESPACE = 0x616E  # pg_advisory_xact_lock(namespace, hashtext(sender_id))

_MAX = {"sender_id": 255, "type": 32, "name": 255, "channel": 64, "entity": 64}


class InvalidEvent(ValueError):
    """A message that is not a Rasa event with a conversation, a type and a timestamp."""


@dataclass(frozen=True)
class EventRecord:
    """What is stored of one published event."""

    key: str
    sender_id: str
    type: str
    name: str | None
    channel: str | None
    timestamp: float
    at: datetime
    data: dict[str, Any]
    intent: str | None = None
    confidence: float | None = None
    reinjected: bool = False

    @property
    def is_turn(self) -> bool:
        return self.type == "user" and not self.reinjected

    def event_row(self) -> dict[str, Any]:
        return {
            "event_key": self.key,
            "sender_id": self.sender_id,
            "type": self.type,
            "name": self.name,
            "channel": self.channel,
            "timestamp": self.timestamp,
            "at": self.at,
            "data": self.data,
        }

    def turn_row(self) -> dict[str, Any]:
        return {
            "event_key": self.key,
            "sender_id": self.sender_id,
            "channel": self.channel,
            "intent": self.intent,
            "confidence": self.confidence,
            "fallback": self.intent == FALLBACK_INTENT,
            "handoff": False,
            "timestamp": self.timestamp,
            "at": self.at,
        }


def event_key(event: Mapping[str, Any]) -> str:
    """SHA-256 of the event as published, keys sorted: the same event always has the same key."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _short(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _intent(value: Any) -> tuple[str | None, float | None]:
    if not isinstance(value, Mapping):
        return None, None
    return _short(value.get("name"), _MAX["name"]), _number(value.get("confidence"))


def _user_data(event: Mapping[str, Any]) -> tuple[dict[str, Any], str | None, float | None, bool]:
    parse_data = event.get("parse_data")
    parse_data = parse_data if isinstance(parse_data, Mapping) else {}
    intent, confidence = _intent(parse_data.get("intent"))
    ranking = parse_data.get("intent_ranking")
    ranked = [_intent(item) for item in (ranking if isinstance(ranking, list) else [])[:RANKING_KEPT]]
    entities = parse_data.get("entities")
    entity_names = {
        name
        for item in (entities if isinstance(entities, list) else [])
        if isinstance(item, Mapping) and (name := _short(item.get("entity"), _MAX["entity"]))
    }
    metadata = event.get("metadata")
    reinjected = isinstance(metadata, Mapping) and metadata.get(REINJECTED) is True
    data: dict[str, Any] = {
        "confidence": confidence,
        "intent_ranking": [{"name": name, "confidence": value} for name, value in ranked if name],
        "entities": sorted(entity_names),
    }
    if reinjected:
        data[REINJECTED] = True
    return data, intent, confidence, reinjected


def pseudonym(sender_id: str, key: bytes) -> str:
    """How a conversation is named in the analytics tables: an HMAC of its id (on WhatsApp the id is
    the user's phone number), stable for counting conversations, useless to find the person."""
    return "c:" + hmac.new(key, sender_id.encode(), hashlib.sha256).hexdigest()[:32]


def parse_event(body: bytes | str | Mapping[str, Any], pseudonym_key: bytes | None = None) -> EventRecord:
    """The record of one published event (a message body from the queue, or its dict)."""
    if isinstance(body, Mapping):
        event: Any = body
    else:
        try:
            event = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidEvent(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(event, Mapping):
        raise InvalidEvent("not a JSON object")
    sender_id, kind = event.get("sender_id"), event.get("event")
    if not isinstance(sender_id, str) or not sender_id or len(sender_id) > _MAX["sender_id"]:
        raise InvalidEvent("no sender_id")
    if not isinstance(kind, str) or not kind or len(kind) > _MAX["type"]:
        raise InvalidEvent("no event type")
    timestamp = _number(event.get("timestamp"))
    try:
        at = datetime.fromtimestamp(timestamp, timezone.utc).replace(tzinfo=None) if timestamp is not None else None
    except (OverflowError, OSError, ValueError):
        at = None
    if timestamp is None or at is None:
        raise InvalidEvent("no usable timestamp")

    name = _short(event.get("name"), _MAX["name"])
    data: dict[str, Any] = {}
    intent = confidence = None
    reinjected = False
    if kind == "user":
        data, intent, confidence, reinjected = _user_data(event)
        name = intent
    elif kind == "action":
        data = {"policy": _short(event.get("policy"), _MAX["name"]), "confidence": _number(event.get("confidence"))}
    elif kind == "slot" and name == "requested_slot":  # which question a form asked: a name, never a value
        data = {"value": _short(event.get("value"), _MAX["name"])}
    return EventRecord(
        key=event_key(event),
        sender_id=pseudonym(sender_id, pseudonym_key) if pseudonym_key else sender_id,
        type=kind,
        name=name,
        channel=_short(event.get("input_channel"), _MAX["channel"]) if kind == "user" else None,
        timestamp=timestamp,
        at=at,
        data=data,
        intent=intent,
        confidence=confidence,
        reinjected=reinjected,
    )


@dataclass
class Stored:
    """What one `store_events` call added."""

    events: int = 0
    turns: int = 0
    duplicates: int = 0


async def _dialect(session: AsyncSession) -> str:
    return (await session.connection()).dialect.name


def _insert(dialect: str, table: Any) -> Any:
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def _insert_once(session: AsyncSession, dialect: str, table: Any, row: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT (event_key) DO NOTHING; True when the row is new."""
    statement = _insert(dialect, table).values(**row).on_conflict_do_nothing(index_elements=["event_key"])
    return (await session.execute(statement)).rowcount == 1


async def _turn_id(session: AsyncSession, record: EventRecord, *, inclusive: bool) -> int | None:
    """The turn an event belongs to (the conversation's last one at or before it), or the one
    before (`inclusive=False`)."""
    moment = record.timestamp
    condition = AnalyticsTurn.timestamp <= moment if inclusive else AnalyticsTurn.timestamp < moment
    return (
        await session.execute(
            select(AnalyticsTurn.id)
            .where(AnalyticsTurn.sender_id == record.sender_id, condition)
            .order_by(AnalyticsTurn.timestamp.desc(), AnalyticsTurn.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def _refresh_turn(session: AsyncSession, turn_id: int | None) -> None:
    """Sets a turn's flags from the stored events between it and the next turn."""
    if turn_id is None:
        return
    turn = (
        await session.execute(
            select(AnalyticsTurn.sender_id, AnalyticsTurn.timestamp, AnalyticsTurn.intent).where(
                AnalyticsTurn.id == turn_id
            )
        )
    ).one()
    next_turn = (
        await session.execute(
            select(func.min(AnalyticsTurn.timestamp)).where(
                AnalyticsTurn.sender_id == turn.sender_id, AnalyticsTurn.timestamp > turn.timestamp
            )
        )
    ).scalar_one()
    actions = select(distinct(AnalyticsEvent.name)).where(
        AnalyticsEvent.sender_id == turn.sender_id,
        AnalyticsEvent.type == "action",
        AnalyticsEvent.name.in_(sorted(FALLBACK_ACTIONS | HANDOFF_ACTIONS)),
        AnalyticsEvent.timestamp >= turn.timestamp,
    )
    if next_turn is not None:
        actions = actions.where(AnalyticsEvent.timestamp < next_turn)
    ran = set((await session.execute(actions)).scalars())
    await session.execute(
        update(AnalyticsTurn)
        .where(AnalyticsTurn.id == turn_id)
        .values(
            fallback=turn.intent == FALLBACK_INTENT or bool(ran & FALLBACK_ACTIONS),
            handoff=bool(ran & HANDOFF_ACTIONS),
        )
    )


async def store_events(session: AsyncSession, records: Sequence[EventRecord]) -> Stored:
    """Stores the events not stored yet and updates the turns they belong to. Does not commit:
    the caller commits, then acknowledges the messages."""
    dialect = await _dialect(session)
    if dialect == "postgresql":  # one transaction at a time per conversation; in a fixed order (no deadlock)
        for sender_id in sorted({record.sender_id for record in records}):
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:sender_id))"),
                {"namespace": _ADVISORY_NAMESPACE, "sender_id": sender_id},
            )
    stored = Stored()
    for record in sorted(records, key=lambda r: (r.sender_id, r.timestamp)):
        if not await _insert_once(session, dialect, AnalyticsEvent.__table__, record.event_row()):
            stored.duplicates += 1
            continue
        stored.events += 1
        if record.is_turn:
            if await _insert_once(session, dialect, AnalyticsTurn.__table__, record.turn_row()):
                stored.turns += 1
                # the previous turn may have been credited with this turn's actions (delivered first)
                for inclusive in (False, True):
                    await _refresh_turn(session, await _turn_id(session, record, inclusive=inclusive))
        elif record.type == "action" and record.name in FALLBACK_ACTIONS | HANDOFF_ACTIONS:
            await _refresh_turn(session, await _turn_id(session, record, inclusive=True))
    return stored


@dataclass(frozen=True)
class Summary:
    """The dashboard's counts for the turns since `since` (naive UTC):

    conversations: conversations with at least one user message; sessions: sessions started
    (`session_started`, one per conversation and `session_expiration_time`, also when nobody
    writes); turns: user messages; fallbacks / fallback_rate: turns the assistant did not
    understand (share of the turns, 0.0 without turns); handoffs: turns that handed the
    conversation to a person; top_intents: the most frequent intents, most frequent first;
    channels: turns per input channel."""

    since: datetime
    conversations: int
    sessions: int
    turns: int
    fallbacks: int
    fallback_rate: float
    handoffs: int
    top_intents: list[tuple[str, int]] = field(default_factory=list)
    channels: dict[str, int] = field(default_factory=dict)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


async def summary(session: AsyncSession, since: datetime, *, until: datetime | None = None, top: int = 5) -> Summary:
    """Counts for the turns (and sessions) from `since` (inclusive) to `until` (exclusive, default now)."""
    since = _naive_utc(since)

    def window(column: Any) -> list[Any]:
        return [column >= since] + ([column < _naive_utc(until)] if until is not None else [])

    turns, conversations, fallbacks, handoffs = (
        await session.execute(
            select(
                func.count(AnalyticsTurn.id),
                func.count(distinct(AnalyticsTurn.sender_id)),
                func.coalesce(func.sum(case((AnalyticsTurn.fallback, 1), else_=0)), 0),
                func.coalesce(func.sum(case((AnalyticsTurn.handoff, 1), else_=0)), 0),
            ).where(*window(AnalyticsTurn.at))
        )
    ).one()
    sessions = (
        await session.execute(
            select(func.count(AnalyticsEvent.id)).where(
                AnalyticsEvent.type == SESSION_STARTED, *window(AnalyticsEvent.at)
            )
        )
    ).scalar_one()
    count = func.count(AnalyticsTurn.id).label("count")
    intents = (
        await session.execute(
            select(AnalyticsTurn.intent, count)
            .where(AnalyticsTurn.intent.is_not(None), *window(AnalyticsTurn.at))
            .group_by(AnalyticsTurn.intent)
            .order_by(count.desc(), AnalyticsTurn.intent)
            .limit(top)
        )
    ).all()
    channels = (
        await session.execute(
            select(AnalyticsTurn.channel, count).where(*window(AnalyticsTurn.at)).group_by(AnalyticsTurn.channel)
        )
    ).all()
    return Summary(
        since=since,
        conversations=int(conversations),
        sessions=int(sessions),
        turns=int(turns),
        fallbacks=int(fallbacks),
        fallback_rate=int(fallbacks) / int(turns) if turns else 0.0,
        handoffs=int(handoffs),
        top_intents=[(str(intent), int(n)) for intent, n in intents],
        channels=_merged((channel or UNKNOWN_CHANNEL, int(n)) for channel, n in channels),
    )


def _merged(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for key, value in pairs:
        merged[key] = merged.get(key, 0) + value
    return dict(sorted(merged.items(), key=lambda item: (-item[1], item[0])))
