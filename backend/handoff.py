"""Call-centre handoff (docs/handoff.md): tickets, the queue, agents online, claim, messages, close.

The delivery path between the console (this process) and the user's channel (the Rasa process) is
described in docs/handoff.md; the HTTP calls to Rasa are in backend.rasa_client.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import OPERATOR_TZ, utcnow
from backend.models import AgentState, HandoffMessage, HandoffTicket
from backend.operator_profile import OpeningHours, OperatorProfile
from backend.protocols import new_protocol, set_protocol_status
from backend.rasa_client import RasaClient, RasaUnavailable
from backend.rate_limits import HANDOFF_GLOBAL, HANDOFF_PER_CONVERSATION, DataKeys, RateLimited, hit_all, too_many
from backend.refusals import Refusals
from common.pii import mask_text

log = logging.getLogger(__name__)

OPEN, IN_PROGRESS, CLOSED = "open", "in_progress", "closed"
ACTIVE_STATUSES = (OPEN, IN_PROGRESS)
AGENT_ONLINE_WINDOW = timedelta(seconds=60)  # an agent whose console/API was used this recently is online
TRANSCRIPT_MAX_ITEMS = 50
TRANSCRIPT_TEXT_MAX = 2000
MESSAGE_MAX = 2000
PULL_INTERVAL_S = 1.5  # per ticket and process: how often the Rasa tracker is read at most
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


REFUSALS = Refusals(
    {
        "ticket_not_found": "Não encontrei esse atendimento.",
        "ticket_taken": "Outro atendente já assumiu esse atendimento.",
        "ticket_closed": "Esse atendimento já foi encerrado.",
        "rate_limited": "{limit} {try_again} Se precisar agora, ligue {central_24h} (24 horas).",
    }
)


def local_now() -> datetime:
    """The operator's local time (tests replace it to be in or out of the opening hours)."""
    return datetime.now(OPERATOR_TZ)


def within_hours(hours: OpeningHours, now: datetime) -> bool:
    if _WEEKDAYS[now.weekday()] not in hours.weekdays:
        return False
    return hours.opens <= f"{now:%H:%M}" < hours.closes


def clean_transcript(items: object) -> list[dict] | None:
    """The bot's recent transcript, PII masked, the last TRANSCRIPT_MAX_ITEMS kept; None if malformed."""
    if items is None:
        return []
    if not isinstance(items, list):
        return None
    cleaned = []
    for item in items:
        if (
            not isinstance(item, dict)
            or item.get("from") not in ("user", "bot")
            or not isinstance(item.get("text"), str)
        ):
            return None
        at = item.get("at")
        cleaned.append(
            {
                "from": item["from"],
                "text": mask_text(item["text"][:TRANSCRIPT_TEXT_MAX]),
                "at": at if isinstance(at, (str, int, float)) else None,
            }
        )
    return cleaned[-TRANSCRIPT_MAX_ITEMS:]


# --- queue -------------------------------------------------------------------------------------


async def active_ticket(session: AsyncSession, conversation_id: str) -> HandoffTicket | None:
    return (
        await session.execute(
            select(HandoffTicket).where(
                HandoffTicket.conversation_id == conversation_id, HandoffTicket.status.in_(ACTIVE_STATUSES)
            )
        )
    ).scalar_one_or_none()


async def queue_position(session: AsyncSession, ticket: HandoffTicket) -> int:
    """1-based place among the tickets still waiting (0 once an agent has it)."""
    if ticket.status != OPEN:
        return 0
    ahead = (
        await session.execute(
            select(func.count(HandoffTicket.id)).where(
                HandoffTicket.status == OPEN,
                or_(
                    HandoffTicket.created_at < ticket.created_at,
                    and_(HandoffTicket.created_at == ticket.created_at, HandoffTicket.id < ticket.id),
                ),
            )
        )
    ).scalar_one()
    return ahead + 1


async def agents_online(session: AsyncSession, now: datetime | None = None) -> int:
    since = (now or utcnow()) - AGENT_ONLINE_WINDOW
    return (
        await session.execute(select(func.count(AgentState.agent_id)).where(AgentState.last_seen_at >= since))
    ).scalar_one()


async def touch_agent(session: AsyncSession, agent_id: int) -> None:
    """Marks the agent online now (an upsert; commit is the caller's)."""
    now = utcnow()
    dialect = session.bind.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(AgentState).values(agent_id=agent_id, last_seen_at=now, failed_logins=0)
    await session.execute(statement.on_conflict_do_update(index_elements=["agent_id"], set_={"last_seen_at": now}))


async def set_agent_offline(session: AsyncSession, agent_id: int) -> None:
    await session.execute(update(AgentState).where(AgentState.agent_id == agent_id).values(last_seen_at=None))


@dataclass(frozen=True)
class Opened:
    ticket: HandoffTicket
    created: bool


async def open_ticket(
    session: AsyncSession,
    *,
    operator: OperatorProfile,
    conversation_id: str,
    channel: str,
    reason: str,
    beneficiary_id: int | None,
    transcript: list[dict],
    callback: bool,
) -> Opened:
    """A new ticket with its protocol, or the one this conversation already has waiting/in progress."""
    existing = await active_ticket(session, conversation_id)
    if existing is not None:
        return Opened(existing, False)
    protocol = await new_protocol(
        session,
        "handoff",
        ans_registration=operator.ans_registration,
        channel=channel,
        beneficiary_id=beneficiary_id,
        conversation_id=conversation_id,
        details={"reason": reason},
    )
    ticket = HandoffTicket(
        protocol_number=protocol.number,
        channel=channel,
        conversation_id=conversation_id,
        reason=reason,
        status=OPEN,
        beneficiary_id=beneficiary_id,
        transcript=transcript,
        callback=callback,
        created_at=utcnow(),
    )
    session.add(ticket)
    try:
        await session.commit()
    except IntegrityError:  # the same conversation asked twice at once: the other request won
        await session.rollback()
        existing = await active_ticket(session, conversation_id)
        if existing is None:
            raise
        return Opened(existing, False)
    log.info("handoff ticket opened", extra={"ticket_id": ticket.id, "channel": channel, "callback": callback})
    return Opened(ticket, True)


@dataclass(frozen=True)
class HandoffState:
    """A ticket as the assistant tells the user about it."""

    ticket: HandoffTicket
    created: bool
    position: int  # in the queue of waiting tickets (0 once an agent has it)
    online: bool  # an agent is online
    in_hours: bool  # the chat's opening hours

    @property
    def pause(self) -> bool:
        """Whether the bot pauses now: an agent has it, or will soon (open, in hours, agents online)."""
        status = self.ticket.status
        return status == IN_PROGRESS or (status == OPEN and self.in_hours and self.online)

    @property
    def callback(self) -> bool:
        """Waiting with nobody to take it now: the team calls back."""
        return self.ticket.status == OPEN and not (self.in_hours and self.online)


async def handoff_state(
    session: AsyncSession, ticket: HandoffTicket, operator: OperatorProfile, *, created: bool = False
) -> HandoffState:
    in_hours = within_hours(operator.opening_hours, local_now())
    online = await agents_online(session) > 0
    return HandoffState(ticket, created, await queue_position(session, ticket), online, in_hours)


async def request_handoff(
    session: AsyncSession,
    *,
    operator: OperatorProfile,
    keys: DataKeys,
    conversation_id: str,
    channel: str,
    reason: str,
    beneficiary_id: int | None,
    transcript: list[dict],
) -> HandoffState:
    """The assistant hands the conversation over: its waiting or in-progress ticket, or a new one
    (counted per conversation and for the whole queue: rate_limited with the phone)."""
    if await active_ticket(session, conversation_id) is None:  # asking again is free
        try:
            await hit_all(session, keys, [(HANDOFF_PER_CONVERSATION, (channel, conversation_id)), (HANDOFF_GLOBAL, ())])
        except RateLimited as exc:
            raise too_many(exc, REFUSALS) from None
    in_hours = within_hours(operator.opening_hours, local_now())
    online = await agents_online(session) > 0
    opened = await open_ticket(
        session,
        operator=operator,
        conversation_id=conversation_id,
        channel=channel,
        reason=reason,
        beneficiary_id=beneficiary_id,
        transcript=transcript,
        callback=not (in_hours and online),
    )
    return await handoff_state(session, opened.ticket, operator, created=opened.created)


def user_message(state: HandoffState, operator: OperatorProfile) -> str:
    """What the assistant tells the user (plain text, WhatsApp-friendly)."""
    ticket, position = state.ticket, state.position
    protocol = ticket.protocol_number
    phone = operator.phones["central_24h"]
    if ticket.status == CLOSED:
        return f"Seu atendimento com a nossa equipe (protocolo {protocol}) foi encerrado."
    if ticket.status == IN_PROGRESS:
        return (
            f"Seu atendimento (protocolo {protocol}) já está com um atendente. É só escrever por aqui que ele recebe."
        )
    if not state.in_hours:
        return (
            f"Anotei seu pedido de atendimento: protocolo {protocol}. Nossa equipe atende pelo chat "
            f"{operator.opening_hours.text} e vai retornar seu contato assim que o atendimento abrir. "
            f"Se for urgente, ligue {phone}, que funciona 24 horas."
        )
    if not state.online:
        return (
            f"Anotei seu pedido de atendimento: protocolo {protocol}. Neste momento não há atendente "
            f"disponível no chat; nossa equipe vai retornar seu contato. Se preferir, ligue {phone} (24 horas)."
        )
    ahead = position - 1
    queue = (
        "Você é o próximo da fila."
        if ahead == 0
        else (f"Você está na posição {position} da fila ({ahead} pessoa{'s' if ahead > 1 else ''} na sua frente).")
    )
    return (
        f"Certo, vou te passar para um atendente. Seu protocolo é {protocol}. {queue} "
        "Pode ir escrevendo o que precisa: o atendente vê esta conversa e responde por aqui."
    )


async def list_tickets(session: AsyncSession, status: str) -> list[HandoffTicket]:
    query = select(HandoffTicket)
    if status == "open":
        query = query.where(HandoffTicket.status.in_(ACTIVE_STATUSES)).order_by(
            HandoffTicket.created_at, HandoffTicket.id
        )
    elif status == "closed":
        query = query.where(HandoffTicket.status == CLOSED).order_by(HandoffTicket.closed_at.desc()).limit(50)
    else:  # waiting only
        query = query.where(HandoffTicket.status == OPEN).order_by(HandoffTicket.created_at, HandoffTicket.id)
    return list((await session.execute(query)).scalars().all())


async def get_ticket(session: AsyncSession, ticket_id: int) -> HandoffTicket:
    ticket = await session.get(HandoffTicket, ticket_id)
    if ticket is None:
        raise REFUSALS.refuse("ticket_not_found")
    return ticket


async def messages_of(session: AsyncSession, ticket_id: int) -> list[HandoffMessage]:
    return list(
        (
            await session.execute(
                select(HandoffMessage)
                .where(HandoffMessage.ticket_id == ticket_id)
                .order_by(HandoffMessage.created_at, HandoffMessage.id)
            )
        )
        .scalars()
        .all()
    )


# --- agent actions -----------------------------------------------------------------------------


async def claim(session: AsyncSession, rasa: RasaClient, ticket_id: int, agent_id: int) -> HandoffTicket:
    """The agent takes a waiting ticket (atomic: two agents cannot both get it). Claiming it again
    is harmless. The conversation is paused in Rasa (again: a call-back ticket was not paused)."""
    now = utcnow()
    result = await session.execute(
        update(HandoffTicket)
        .where(HandoffTicket.id == ticket_id, HandoffTicket.status == OPEN)
        .values(status=IN_PROGRESS, agent_id=agent_id, claimed_at=now)
    )
    await session.commit()
    ticket = await get_ticket(session, ticket_id)
    await session.refresh(ticket)
    if result.rowcount == 0:
        if ticket.status == CLOSED:
            raise REFUSALS.refuse("ticket_closed")
        if ticket.agent_id != agent_id:
            raise REFUSALS.refuse("ticket_taken")
        return ticket
    await set_protocol_status(session, ticket.protocol_number, IN_PROGRESS)
    session.add(HandoffMessage(ticket_id=ticket.id, sender="system", text="Atendimento assumido.", agent_id=agent_id))
    await session.commit()
    try:
        await rasa.pause(ticket.conversation_id)
    except RasaUnavailable:
        log.warning("could not pause the conversation on claim", extra={"ticket_id": ticket.id})
    log.info("handoff ticket claimed", extra={"ticket_id": ticket.id, "agent_id": agent_id})
    return ticket


async def _own_active(session: AsyncSession, rasa: RasaClient, ticket_id: int, agent_id: int) -> HandoffTicket:
    ticket = await get_ticket(session, ticket_id)
    if ticket.status == CLOSED:
        raise REFUSALS.refuse("ticket_closed")
    if ticket.status == OPEN:  # answering a waiting ticket takes it
        ticket = await claim(session, rasa, ticket_id, agent_id)
    if ticket.agent_id != agent_id:
        raise REFUSALS.refuse("ticket_taken")
    return ticket


async def send_agent_message(
    session: AsyncSession, rasa: RasaClient, ticket_id: int, agent_id: int, agent_name: str, text: str
) -> HandoffMessage:
    """Delivers the text to the user's channel through Rasa, then records it. Raises
    RasaUnavailable (recorded as not delivered) when Rasa does not take it."""
    ticket = await _own_active(session, rasa, ticket_id, agent_id)
    await session.commit()  # no database lock held while Rasa is called
    delivered = True
    try:
        await rasa.send_text(
            ticket.conversation_id,
            ticket.channel,
            text,
            metadata={"handoff": True, "agent": agent_name.split()[0], "protocol": ticket.protocol_number},
        )
    except RasaUnavailable:
        delivered = False
    message = HandoffMessage(
        ticket_id=ticket.id, sender="agent", text=text, agent_id=agent_id, delivered=delivered, created_at=utcnow()
    )
    session.add(message)
    await session.commit()
    if not delivered:
        raise RasaUnavailable("message not delivered")
    return message


def resume_text(protocol: str) -> str:
    return (
        f"Seu atendimento com a nossa equipe foi encerrado (protocolo {protocol}). "
        "Voltei a falar com você por aqui: posso ajudar em mais alguma coisa?"
    )


async def close(
    session: AsyncSession, rasa: RasaClient, ticket_id: int, agent_id: int, resolution: str
) -> HandoffTicket:
    """Gives the conversation back to the assistant in Rasa first (a Rasa failure leaves the ticket
    open, to try again), then closes the ticket with its resolution."""
    ticket = await _own_active(session, rasa, ticket_id, agent_id)
    await pull_user_messages(session, rasa, ticket, force=True)  # keep what the user wrote until now
    await session.commit()
    await rasa.resume(ticket.conversation_id, ticket.channel, resume_text(ticket.protocol_number))
    result = await session.execute(
        update(HandoffTicket)
        .where(HandoffTicket.id == ticket.id, HandoffTicket.status == IN_PROGRESS)
        .values(status=CLOSED, resolution=resolution, closed_at=utcnow())
    )
    if result.rowcount:
        await set_protocol_status(session, ticket.protocol_number, "completed")
        session.add(
            HandoffMessage(
                ticket_id=ticket.id, sender="system", text=f"Atendimento encerrado: {resolution}", agent_id=agent_id
            )
        )
    await session.commit()
    await session.refresh(ticket)
    log.info("handoff ticket closed", extra={"ticket_id": ticket.id, "agent_id": agent_id})
    return ticket


# --- the user's messages while paused ----------------------------------------------------------

_last_pull: dict[int, float] = {}


def user_messages_in(events: list[dict], since_epoch: float) -> list[tuple[str, str]]:
    """(external id, text) of what the user wrote after the conversation was paused for this ticket
    (the first `pause` at or after the ticket's creation: the bot's, or the claim's for a call-back
    ticket) and before it was resumed."""
    start = None
    for index, event in enumerate(events):
        if event.get("event") == "pause" and float(event.get("timestamp") or 0) >= since_epoch:
            start = index
            break
    if start is None:
        return []
    found = []
    for event in events[start + 1 :]:
        if event.get("event") == "resume":
            break
        if event.get("event") == "user" and (event.get("text") or "").strip():
            key = event.get("message_id") or f"{float(event.get('timestamp') or 0):.6f}"
            found.append((str(key)[:64], event["text"]))
    return found


async def pull_user_messages(
    session: AsyncSession, rasa: RasaClient, ticket: HandoffTicket, *, force: bool = False
) -> int:
    """Copies the user's new messages from the Rasa tracker into the ticket (PII masked). Returns
    how many were new. Throttled per ticket unless forced; Rasa being down is not an error here."""
    if ticket.status == CLOSED:
        return 0
    now = time.monotonic()
    if not force and now - _last_pull.get(ticket.id, 0.0) < PULL_INTERVAL_S:
        return 0
    _last_pull[ticket.id] = now
    await session.commit()  # no database lock held while Rasa is called
    try:
        events = await rasa.tracker_events(ticket.conversation_id)
    except RasaUnavailable:
        return 0
    # created_at is naive UTC (as every stored instant)
    since_epoch = (ticket.created_at - timedelta(seconds=5)).replace(tzinfo=timezone.utc).timestamp()
    found = user_messages_in(events, since_epoch)
    if not found:
        return 0
    known = set(
        (
            await session.execute(
                select(HandoffMessage.external_id).where(
                    HandoffMessage.ticket_id == ticket.id, HandoffMessage.external_id.is_not(None)
                )
            )
        )
        .scalars()
        .all()
    )
    added = 0
    for key, text in found:
        if key in known:
            continue
        session.add(
            HandoffMessage(
                ticket_id=ticket.id,
                sender="user",
                text=mask_text(text[:MESSAGE_MAX]),
                external_id=key,
                created_at=utcnow(),
            )
        )
        try:
            await session.commit()
            added += 1
        except IntegrityError:  # another process stored it first
            await session.rollback()
    return added
