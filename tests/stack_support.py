"""The real assistant in the tests: backend, action server and Rasa (scripts.stack) on free ports.

One stack per test session, shared by tests/integration, tests/channels/test_channels_e2e.py and
tests/widget/test_widget_stack.py (the session-scoped fixture `session_stack` of tests/conftest.py
calls `shared_stack`, which starts it once and keeps it in the session's stash); the CASSE profile gets a
stack of its own (`start_stack`). Each module that uses it starts from the database as seeded
(`SharedStack.fresh`: only the backend restarts, in a second or two; Rasa keeps running).

The session stack carries every setting its users need: REST_CHANNEL_TOKEN (the perimeter test; every
REST client sends it), the demo data, WhatsApp and Telegram pointed at fakes on loopback, and the
widget's Rasa address. With TEST_DATABASE_URL (and TEST_REDIS_URL), as in CI, the backend and Rasa's
tracker store run on throw-away PostgreSQL databases and the lock store, the raw trackers and the
channels' state on Redis (as several instances need them); otherwise SQLite and process memory.

Also here: what the tests read from the running stack (the backend's database, Rasa's events table and
trackers, protocols, the agent API) and waiting for a turn of a conversation to end.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from postgres_support import fresh_database

from backend.rasa_client import PATH_SEGMENT_SAFE
from scripts.stack import Stack, free_port, latest_model, tracker_store_config

TESTS = Path(__file__).resolve().parent
PG_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")
AMQP_URL = os.environ.get("TEST_AMQP_URL")
START_TIMEOUT_S = 600  # loading the model takes minutes on a busy machine (2 shared cores)

REST_CHANNEL_TOKEN = "token-do-canal-rest-de-teste"
PUBLIC_BASE_URL = "https://assistente.exemplo.com.br"
TWILIO_SID, TWILIO_AUTH, TWILIO_NUMBER = "AC" + "3" * 32, "twilio-auth-e2e", "whatsapp:+14155238886"
TELEGRAM_TOKEN, TELEGRAM_SECRET = "999:E2E-TOKEN", "segredo-e2e"
AGENT = {"username": "atendente", "password": "Atende@2024"}  # the demo agent (backend.seed)


def _fakes():
    """tests/channels/fakes.py, as the module `fakes` its own tests import."""
    path = TESTS / "channels" / "fakes.py"
    module = sys.modules.get("fakes")
    if module is not None and Path(getattr(module, "__file__", "")).resolve() == path:
        return module
    spec = importlib.util.spec_from_file_location("fakes", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fakes"] = module
    spec.loader.exec_module(module)
    return module


def _delete_inbound_queues(prefix: str) -> None:
    """The stack's inbound queues (quorum queues are durable and never expire)."""
    import asyncio

    import aio_pika

    from channels.inbound_queue import DEFAULT_SHARDS

    async def delete() -> None:
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            for name in (f"{prefix}.{kind}.{n}" for kind in ("whatsapp", "telegram") for n in range(DEFAULT_SHARDS)):
                await channel.queue_delete(name)

    asyncio.run(delete())


def start_stack(tmp_path_factory, cleanup: contextlib.ExitStack, name: str, **env: str) -> Stack:
    """A migrated, seeded, snapshotted (Stack.restore_database) and started stack; `cleanup` stops it
    and drops what it created. `env` adds settings (e.g. OPERATOR_PROFILE=casse). PostgreSQL and Redis
    when TEST_DATABASE_URL / TEST_REDIS_URL are set, SQLite otherwise."""
    try:
        model = latest_model()
    except FileNotFoundError as exc:
        pytest.skip(f"{exc} (make test trains it first)")
    var_dir = tmp_path_factory.mktemp(name)
    settings = {
        "VAR_DIR": str(var_dir),
        "MAIL_BACKEND": "maildir",
        "DATABASE_URL": f"sqlite:///{var_dir / 'backend.db'}",
        # never the machine's own stores: Rasa's tracker follows DATABASE_URL, no lock store
        "RASA_TRACKER_URL": "",
        "LOCK_STORE_URL": "",
        "TRACKER_CACHE_URL": "",
        "CHANNEL_REDIS_URL": "",
        "EVENT_BROKER_URL": "",
        "INBOUND_AMQP_URL": "",
    }
    if PG_URL:
        settings["DATABASE_URL"] = cleanup.enter_context(fresh_database(PG_URL, f"{name}_backend"))
        # a database of its own: restoring the backend's must not touch Rasa's conversations
        settings["RASA_TRACKER_URL"] = cleanup.enter_context(fresh_database(PG_URL, f"{name}_tracker"))
    if REDIS_URL:
        # the shared state of several Rasa instances, in Redis as in a cluster, under prefixes of this
        # stack's own (test sessions share the machine's Redis); its keys expire by themselves
        prefix = f"test{secrets.token_hex(6)}"
        settings.update(
            LOCK_STORE_URL=REDIS_URL,
            LOCK_STORE_KEY_PREFIX=prefix,
            TRACKER_CACHE_URL=REDIS_URL,
            TRACKER_CACHE_PREFIX=f"{prefix}:",
            CHANNEL_REDIS_URL=REDIS_URL,
            CHANNEL_STATE_PREFIX=f"{prefix}:",
        )
        if AMQP_URL:  # WhatsApp and Telegram through the durable inbound queue, as a cluster runs them
            settings.update(INBOUND_AMQP_URL=AMQP_URL, INBOUND_QUEUE_PREFIX=f"{prefix}.inbound")
            cleanup.callback(_delete_inbound_queues, f"{prefix}.inbound")
    stack = Stack(
        var_dir=var_dir,
        backend_port=free_port(),
        actions_port=free_port(),
        rasa_port=free_port(),
        model=model,
        extra_env={**settings, **env},
        supervise=True,  # as make run: a process that dies is restarted (tests/integration/test_supervision.py)
    )
    stack.extra_env.setdefault("PUBLIC_RASA_URL", stack.rasa_url)  # where the demo page's widget connects
    stack.prepare_database()
    stack.snapshot_database()
    cleanup.callback(stack.discard_database_snapshot)
    cleanup.callback(stack.stop)
    stack.start(timeout_s=START_TIMEOUT_S)
    return stack


@dataclass
class SharedStack:
    """The session's stack and the fake providers its WhatsApp and Telegram channels talk to."""

    stack: Stack
    twilio: Any  # fakes.FakeTwilio
    telegram: Any  # fakes.FakeTelegram
    used: bool = False

    def fresh(self) -> Stack:
        """The stack with the backend database as seeded and an empty Maildir: what a module starts
        from. Conversations live on in Rasa: use a new sender id."""
        if self.used:
            self.stack.restore_database()
        self.used = True
        clear_mail(self.stack)
        return self.stack


_SHARED = pytest.StashKey[Any]()


def shared_stack(config: pytest.Config, tmp_path_factory) -> SharedStack:
    """The session's stack, started on the first call (later calls get the same one, or the same
    skip or error); stopped when the session ends."""
    cached = config.stash.get(_SHARED, None)
    if isinstance(cached, BaseException):
        raise cached
    if cached is not None:
        return cached
    cleanup = contextlib.ExitStack()
    config.add_cleanup(cleanup.close)
    try:
        fakes = _fakes()
        twilio = fakes.FakeTwilio(TWILIO_SID, TWILIO_AUTH).start_in_thread()
        cleanup.callback(twilio.stop_thread)
        telegram = fakes.FakeTelegram(TELEGRAM_TOKEN).start_in_thread()
        cleanup.callback(telegram.stop_thread)
        stack = start_stack(
            tmp_path_factory,
            cleanup,
            "stack",
            DEMO_DATA="1",
            REST_CHANNEL_TOKEN=REST_CHANNEL_TOKEN,
            PUBLIC_BASE_URL=PUBLIC_BASE_URL,
            TWILIO_ACCOUNT_SID=TWILIO_SID,
            TWILIO_AUTH_TOKEN=TWILIO_AUTH,
            TWILIO_WHATSAPP_NUMBER=TWILIO_NUMBER,
            TWILIO_API_BASE_URL=twilio.url,
            TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
            TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
            TELEGRAM_API_BASE_URL=telegram.url,
        )
    except BaseException as exc:
        config.stash[_SHARED] = exc
        raise
    shared = config.stash[_SHARED] = SharedStack(stack, twilio, telegram)
    return shared


def clear_mail(stack: Stack) -> None:
    """Empties the stack's Maildir (the backend creates it again on the next message)."""
    shutil.rmtree(Path(stack.var_dir) / "mail", ignore_errors=True)


# --- reading the running stack ---------------------------------------------------------------


@contextlib.contextmanager
def backend_db(stack: Stack) -> Iterator[Any]:
    """A SQLAlchemy connection to the backend's database (SQLite or PostgreSQL, as the stack runs),
    in a transaction committed at the end. Write portable SQL with named parameters (`:name`)."""
    import sqlalchemy as sa

    from backend.settings import Settings

    engine = sa.create_engine(Settings(database_url=stack.database_url, var_dir=stack.var_dir).sync_database_url)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def tracker_events(stack: Stack, sender: str | None = None) -> list[tuple[str, str]]:
    """The (sender_id, data) rows of Rasa's `events` table, wherever the stack keeps it, in order."""
    import sqlalchemy as sa

    config = tracker_store_config(Path(stack.var_dir), stack.environment())
    if config["dialect"] == "sqlite":
        url = sa.engine.URL.create("sqlite", database=config["db"])
    else:
        url = sa.engine.URL.create(
            "postgresql+psycopg2",
            username=config.get("username"),
            password=config.get("password"),
            host=config["url"],
            port=config["port"],
            database=config["db"],
        )
    engine = sa.create_engine(url)
    query = (
        "SELECT sender_id, data FROM events WHERE sender_id = :sender ORDER BY id"
        if sender
        else "SELECT sender_id, data FROM events ORDER BY id"
    )
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query), {"sender": sender})]
    finally:
        engine.dispose()


def http_json(method: str, url: str, payload: Any = None, headers: dict | None = None) -> tuple[int, Any]:
    """One HTTP call; (status, the JSON body, or the text when it is not JSON)."""
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


def service_headers(stack: Stack) -> dict[str, str]:
    """What the action server sends to the backend's service API."""
    return {"Authorization": f"Bearer {stack.environment()['BACKEND_SERVICE_TOKEN']}"}


def protocol_owner(stack: Stack, number: str) -> dict:
    """A protocol as the backend's service API shows it (GET /api/protocols/{number}: kind, status...)
    plus whose it is, from the database (the API does not say): `card` (the beneficiary's card
    number, None when it has none) and `conversation_id`."""
    status, body = http_json("GET", f"{stack.backend_url}/api/protocols/{number}", headers=service_headers(stack))
    assert status == 200, (number, status, body)
    import sqlalchemy as sa

    with backend_db(stack) as db:
        card, conversation = db.execute(
            sa.text(
                "SELECT b.card_number, p.conversation_id FROM protocols p "
                "LEFT JOIN beneficiaries b ON b.id = p.beneficiary_id WHERE p.number = :number"
            ),
            {"number": number},
        ).one()
    return {**body, "card": card, "conversation_id": conversation}


def assert_protocol(stack: Stack, number: str, kind: str, card: str | None, conversation: str | None = None) -> dict:
    """Checks that protocol `number` exists, is of `kind` and belongs to the beneficiary with `card`
    (and to `conversation`, when given); returns what protocol_owner() read."""
    found = protocol_owner(stack, number)
    assert (found["kind"], found["card"]) == (kind, card), found
    if conversation is not None:
        assert found["conversation_id"] == conversation, found
    return found


def agent_token(stack: Stack) -> str:
    """A bearer token of the demo agent (POST /api/agent/login); logging in puts the agent online."""
    status, body = http_json("POST", f"{stack.backend_url}/api/agent/login", AGENT)
    assert status == 200, body
    return body["token"]


def agent_call(stack: Stack, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, Any]:
    """The agent API (backend/api/agent.py) with the agent's bearer token."""
    return http_json(method, f"{stack.backend_url}{path}", body, {"Authorization": f"Bearer {token}"})


def rasa_tracker(stack: Stack, sender: str) -> dict:
    """The conversation's tracker through Rasa's HTTP API (with the stack's RASA_TOKEN). Ask only for
    conversations that exist: for an unknown one, Rasa creates it."""
    token = urllib.parse.urlencode({"token": stack.environment()["RASA_TOKEN"]})
    # Rasa's router does not unquote path parameters: what is legal in a path segment goes as it is
    # (the ':' and '+' of "whatsapp:+55..."), as backend.rasa_client sends it
    path = urllib.parse.quote(sender, safe=PATH_SEGMENT_SAFE)
    status, tracker = http_json("GET", f"{stack.rasa_url}/conversations/{path}/tracker?{token}")
    assert status == 200, tracker
    return tracker


def turn_is_over(tracker: dict, message_id: str | None = None, users_before: int | None = None) -> bool:
    """Whether the assistant is done with a user message: the message (by `message_id`, or the user
    message after the first `users_before`) is in the tracker, and either an action_listen follows it
    or the conversation is paused (a paused conversation only records the message). Rasa sends every
    answer of a turn before it stores the turn, so by then every answer has gone out."""
    events = tracker.get("events") or []
    users = [i for i, event in enumerate(events) if event.get("event") == "user"]
    if message_id is not None:
        users = [i for i in users if events[i].get("message_id") == message_id]
    elif users_before is not None:
        users = users[users_before:]
    if not users:
        return False
    return bool(tracker.get("paused")) or any(
        event.get("event") == "action" and event.get("name") == "action_listen" for event in events[users[0] + 1 :]
    )


def user_messages(tracker: dict) -> int:
    return sum(1 for event in tracker.get("events") or [] if event.get("event") == "user")


def wait_for(predicate: Callable[[], Any], what: str, timeout_s: float = 120, every_s: float = 0.2) -> Any:
    """Polls `predicate` until it returns something true (returned) or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(every_s)


def wait_turn(
    stack: Stack, sender: str, message_id: str | None = None, users_before: int | None = None, timeout_s: float = 120
) -> dict:
    """Waits until the assistant is done with the user message (turn_is_over); returns the tracker."""

    def over() -> dict | None:
        tracker = rasa_tracker(stack, sender)
        return tracker if turn_is_over(tracker, message_id, users_before) else None

    return wait_for(over, f"the end of the turn of {message_id or 'a message'} in {sender}", timeout_s)
