"""Rate limits kept in the database, so every backend process shares them (SQLite and PostgreSQL).

A rule allows `limit` requests per `window` for one subject (a CPF, a conversation, a client
address…). Each (rule, subject) has one row in `rate_limits`: the hits of a window that begins
with the first request counted in it. `count()` adds the request and reads the new total in one
statement (INSERT … ON CONFLICT DO UPDATE … RETURNING), so a request is counted *before* it is
checked: N concurrent requests get the totals 1..N and exactly `limit` of them pass. The row stays
locked until the caller's transaction ends (PostgreSQL row lock; SQLite takes its write lock at
BEGIN, see backend.db), which also makes the counter a per-subject mutex when the caller keeps the
transaction open while it checks something else (backend.identity does).

Subjects never reach the database as they are: a row's `bucket` is an HMAC-SHA256, under
DATA_HMAC_SECRET, of the rule's name and the subject (DataKeys). A bare SHA-256 of a 12-digit card
or an 11-digit CPF can be inverted by trying them all; the HMAC cannot without the key.

The limits of the product are the Rule constants below (docs/security.md lists them).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from aiohttp import web
from sqlalchemy import DateTime, Integer, String, bindparam, delete, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import OPERATOR_TZ, utcnow
from backend.models import RateLimit
from backend.refusals import Refusals, Refused

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    window: timedelta
    # pt-BR, first sentence of the 429 answer; "Tente de novo …" follows (try_again_text)
    message: str


_MIN, _HOUR, _DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

# Identity check (POST /api/identity/verifications). The per-login lockout (5 failures in 15 min
# -> 30 min) stays in backend.identity; these rules bound what it cannot see.
IDENTITY_PER_CLIENT = Rule(
    "identity.client", 10, 15 * _MIN, "Foram muitas tentativas de confirmar os dados nesta conversa."
)
IDENTITY_PER_LOGIN = Rule(
    "identity.login",
    20,
    15 * _MIN,
    "Foram muitas tentativas de confirmar os dados com essa carteirinha ou esse e-mail.",
)
# Failures only: counted before the check, given back when the data matched. With one CPF and
# birth date, trying card after card (each one a new login, each with its own lockout) stops here.
IDENTITY_FAILURES_PER_PERSON = Rule(
    "identity.person", 10, _HOUR, "Por segurança, pausei as tentativas de confirmar esses dados."
)
IDENTITY_GLOBAL = Rule("identity.global", 300, _MIN, "Estamos recebendo pedidos demais de confirmação de dados agora.")
# The app's login (POST /api/auth/login); the account lockout is backend.auth's.
LOGIN_PER_ADDRESS = Rule("login.address", 50, 15 * _MIN, "Foram muitas tentativas de entrar a partir da sua rede.")
LOGIN_PER_LOGIN = Rule("login.login", 10, 15 * _MIN, "Foram muitas tentativas de entrar com esse login.")
# New handoff tickets (a conversation asking again gets its open ticket back, uncounted).
HANDOFF_PER_CONVERSATION = Rule(
    "handoff.conversation", 3, _HOUR, "Esta conversa já abriu vários pedidos de atendimento na última hora."
)
HANDOFF_GLOBAL = Rule("handoff.global", 60, 10 * _MIN, "A fila de atendimento recebeu pedidos demais agora.")
# E-mails that a verified conversation makes the backend send (a repeat within REPEAT_WINDOW
# sends nothing and is not counted): temporary passwords…
RESET_PER_BENEFICIARY = Rule("reset.beneficiary", 3, _HOUR, "Você já pediu senhas temporárias várias vezes.")
RESET_PER_BENEFICIARY_DAY = Rule(
    "reset.beneficiary.day", 5, _DAY, "Você já pediu senhas temporárias várias vezes hoje."
)
RESET_PER_CONVERSATION = Rule("reset.conversation", 3, _HOUR, "Esta conversa já pediu senhas temporárias várias vezes.")
# … and activation / e-mail confirmation links (with the notice to the address on file).
ACCOUNT_MAIL_PER_BENEFICIARY = Rule(
    "account_mail.beneficiary", 3, _HOUR, "Já enviamos vários e-mails de ativação ou confirmação para você."
)
ACCOUNT_MAIL_PER_BENEFICIARY_DAY = Rule(
    "account_mail.beneficiary.day", 6, _DAY, "Já enviamos vários e-mails de ativação ou confirmação para você hoje."
)
ACCOUNT_MAIL_PER_CONVERSATION = Rule(
    "account_mail.conversation", 3, _HOUR, "Esta conversa já pediu vários e-mails de ativação ou confirmação."
)
# (per conversation, per beneficiary, per beneficiary and day): the rules of count_mail
RESET_MAIL = (RESET_PER_CONVERSATION, RESET_PER_BENEFICIARY, RESET_PER_BENEFICIARY_DAY)
ACCOUNT_MAIL = (ACCOUNT_MAIL_PER_CONVERSATION, ACCOUNT_MAIL_PER_BENEFICIARY, ACCOUNT_MAIL_PER_BENEFICIARY_DAY)

# A repeated request (double submit, "não recebi") within this window gets the same protocol and
# no new e-mail (claim_once).
REPEAT_WINDOW = timedelta(minutes=5)

CLEANUP_EVERY = 500  # hits per process between two deletions of expired rows


class RateLimited(Exception):
    def __init__(self, rule: Rule, retry_after: timedelta) -> None:
        super().__init__(f"rate limit {rule.name}")
        self.rule = rule
        self.retry_after_seconds = max(1, math.ceil(retry_after.total_seconds()))

    @property
    def retry_after_minutes(self) -> int:
        return max(1, math.ceil(self.retry_after_seconds / 60))


class DataKeys:
    """HMAC-SHA256 keys of personal data (rate-limit buckets, identity attempt keys)."""

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("DATA_HMAC_SECRET is empty")
        self._secret = secret

    def key(self, scope: str, *parts: object) -> str:
        message = "\x1f".join([scope, *(str(part) for part in parts)]).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Count:
    bucket: str
    hits: int
    window_start: datetime


# One statement on both databases (SQLite >= 3.35 has RETURNING; SQLAlchemy 1.4 only compiles it
# for PostgreSQL, hence the text). In DO UPDATE, `rate_limits.x` is the stored row and
# `excluded.x` the row that was to be inserted.
_COUNT = (
    text(
        "INSERT INTO rate_limits (bucket, hits, window_start, expires_at) VALUES (:bucket, 1, :now, :expires) "
        "ON CONFLICT (bucket) DO UPDATE SET "
        "hits = CASE WHEN rate_limits.window_start > :cutoff THEN rate_limits.hits + 1 ELSE 1 END, "
        "window_start = CASE WHEN rate_limits.window_start > :cutoff THEN rate_limits.window_start "
        "ELSE excluded.window_start END, "
        "expires_at = CASE WHEN rate_limits.window_start > :cutoff THEN rate_limits.expires_at "
        "ELSE excluded.expires_at END "
        "RETURNING hits, window_start"
    )
    .bindparams(
        bindparam("bucket", type_=String),
        bindparam("now", type_=DateTime),
        bindparam("expires", type_=DateTime),
        bindparam("cutoff", type_=DateTime),
    )
    .columns(hits=Integer, window_start=DateTime)
)

_hits_since_cleanup = 0


async def count(session: AsyncSession, bucket: str, window: timedelta, now: datetime | None = None) -> Count:
    """Adds one hit to `bucket` and returns the window's total, this hit included. The row stays
    locked until the caller commits or rolls back."""
    global _hits_since_cleanup
    now = now or utcnow()
    row = (
        await session.execute(_COUNT, {"bucket": bucket, "now": now, "expires": now + window, "cutoff": now - window})
    ).one()
    _hits_since_cleanup += 1
    if _hits_since_cleanup >= CLEANUP_EVERY:
        _hits_since_cleanup = 0
        await session.execute(delete(RateLimit).where(RateLimit.expires_at < now))
    return Count(bucket, row.hits, row.window_start)


async def hit(
    session: AsyncSession, keys: DataKeys, rule: Rule, *subject: object, now: datetime | None = None
) -> Count:
    """Counts one request of `subject` under `rule`; raises RateLimited when it is over the limit
    (it still counts). The caller commits (the count survives a refusal only if committed)."""
    now = now or utcnow()
    counted = await count(session, keys.key(f"rate:{rule.name}", *subject), rule.window, now)
    if counted.hits > rule.limit:
        log.info("rate limit reached", extra={"rule": rule.name, "hits": counted.hits})
        raise RateLimited(rule, counted.window_start + rule.window - now)
    return counted


async def hit_all(
    session: AsyncSession, keys: DataKeys, checks: list[tuple[Rule, tuple]], now: datetime | None = None
) -> list[Count]:
    """hit() for each (rule, subject) in order, in its own transaction, committed even when a
    rule refuses (the refused request counts; the rules after it are not counted)."""
    counted = []
    try:
        for rule, subject in checks:
            counted.append(await hit(session, keys, rule, *subject, now=now))
    finally:
        await session.commit()
    return counted


async def count_mail(
    session: AsyncSession,
    keys: DataKeys,
    rules: tuple[Rule, Rule, Rule],
    beneficiary_id: int,
    channel: str,
    conversation_id: str | None,
    *,
    refusals: Refusals,
    now: datetime,
) -> None:
    """An e-mail a beneficiary has the backend send through a conversation, counted by `rules`
    (RESET_MAIL, ACCOUNT_MAIL: per conversation, when there is one, per beneficiary, per beneficiary
    and day) in the caller's transaction. Over a limit the transaction is rolled back and the
    refusal rate_limited raised, in the words of `refusals` (too_many)."""
    per_conversation, per_beneficiary, per_day = rules
    try:
        if conversation_id:
            await hit(session, keys, per_conversation, channel, conversation_id, now=now)
        await hit(session, keys, per_beneficiary, beneficiary_id, now=now)
        await hit(session, keys, per_day, beneficiary_id, now=now)
    except RateLimited as exc:
        await session.rollback()
        raise too_many(exc, refusals) from None


async def give_back(session: AsyncSession, counted: Count) -> None:
    """Takes back a hit (a failure-only rule whose request succeeded); the caller commits."""
    await session.execute(
        update(RateLimit)
        .where(RateLimit.bucket == counted.bucket, RateLimit.window_start == counted.window_start, RateLimit.hits > 0)
        .values(hits=RateLimit.hits - 1)
    )


async def claim_once(
    session: AsyncSession,
    keys: DataKeys,
    scope: str,
    *subject: object,
    window: timedelta = REPEAT_WINDOW,
    now: datetime | None = None,
) -> tuple[bool, str]:
    """(first, bucket): whether this is the first request of `subject` within `window`. The row
    stays locked until the caller's transaction ends, so a concurrent repeat waits for the first
    request to commit what it did and then sees it. release() makes the next request a first."""
    bucket = keys.key(f"once:{scope}", *subject)
    counted = await count(session, bucket, window, now)
    return counted.hits == 1, bucket


async def release(session: AsyncSession, bucket: str) -> None:
    """Forgets a claim_once (what the first request did failed); the caller commits."""
    await session.execute(delete(RateLimit).where(RateLimit.bucket == bucket))


# --- what the user reads ------------------------------------------------------------------------


def try_again_text(retry_after_seconds: int, now: datetime | None = None) -> str:
    """'Tente de novo daqui a 12 minutos (a partir das 14h35).' in the operator's time zone."""
    now = now or utcnow()
    at = (now + timedelta(seconds=retry_after_seconds)).replace(tzinfo=timezone.utc).astimezone(OPERATOR_TZ)
    minutes = max(1, math.ceil(retry_after_seconds / 60))
    if minutes < 60:
        span = f"{minutes} minuto{'s' if minutes > 1 else ''}"
    else:
        hours = round(minutes / 60)
        span = f"cerca de {hours} hora{'s' if hours > 1 else ''}"
    local_now = now.replace(tzinfo=timezone.utc).astimezone(OPERATOR_TZ)
    clock = f"{at:%H}h{at:%M}"
    when = f"a partir das {clock}" if at.date() == local_now.date() else f"a partir de {at:%d/%m} às {clock}"
    return f"Tente de novo daqui a {span} ({when})."


REFUSALS = Refusals(
    {
        "rate_limited": "{limit} {try_again}",
        "too_many_attempts": "{limit} {try_again}",
    }
)


def too_many(limited: RateLimited, refusals: Refusals = REFUSALS, code: str = "rate_limited") -> Refused:
    """The refusal of a rate limit (429): the rule's sentence (`{limit}`) and when to try again
    (`{try_again}`), in the wording of `refusals` (a flow may add what to do meanwhile)."""
    return refusals.refuse(
        code,
        words={"limit": limited.rule.message, "try_again": try_again_text(limited.retry_after_seconds)},
        retry_after_seconds=limited.retry_after_seconds,
        retry_after_minutes=limited.retry_after_minutes,
    )


# --- who is asking ------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _address(value: str):
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def _is_trusted(address, networks: tuple) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(request: web.Request, trusted_proxies: tuple[str, ...]) -> str:
    """The address the request came from: `request.remote`, unless that is one of
    `trusted_proxies` — then the X-Forwarded-For hop nearest to us that is not a trusted proxy
    (hops further left were written by the client and prove nothing)."""
    remote = request.remote or ""
    networks = _networks(tuple(trusted_proxies))
    if not _is_trusted(_address(remote), networks):
        return remote
    hops = [
        hop.strip()
        for header in request.headers.getall("X-Forwarded-For", [])
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return remote  # a trusted proxy never writes this: do not believe the header
        if not _is_trusted(address, networks):
            return str(address)
    return str(_address(hops[0])) if hops else remote
