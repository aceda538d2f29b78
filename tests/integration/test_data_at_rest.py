"""Personal data at rest, with the three real processes: after Maria's verified flow through the
REST channel, Rasa's `events` table holds none of her CPF, birth date or card number, the
conversation still goes on verified (the raw values live in memory), and no log has them or the
token of a link. On SQLite, and on PostgreSQL (a fresh database) when TEST_DATABASE_URL is set."""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import urllib.error
import urllib.request

import pytest

from conftest import running_stack
from postgres_support import fresh_database
from rest_chat import Chat

pytestmark = pytest.mark.integration

PG_URL = os.environ.get("TEST_DATABASE_URL")
MARIA = ("100200300401", "945.807.302-24", "12/03/1985")
PERSONAL = ("94580730224", "945.807.302-24", "807.302", "12/03/1985", "1985-03-12", "100200300401",
            "1002 0030 0401", "Aparecida")


@pytest.fixture(scope="module", params=[
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(
        not PG_URL, reason="set TEST_DATABASE_URL=postgresql://... to run it on PostgreSQL too")),
])
def stack_and_events(request, tmp_path_factory):
    """(stack, read_events): read_events() returns the (sender_id, data) rows of Rasa's events table."""
    with contextlib.ExitStack() as cleanup, pytest.MonkeyPatch.context() as patch:
        patch.delenv("RASA_TRACKER_URL", raising=False)
        env = {"DEMO_DATA": "1"}
        if request.param == "postgresql":
            url = cleanup.enter_context(fresh_database(PG_URL, "data_at_rest"))
            env["DATABASE_URL"] = url  # the stack's endpoints follow it (backend and tracker)
        stack = cleanup.enter_context(running_stack(tmp_path_factory, **env))

        def read_events() -> list[tuple[str, str]]:
            if request.param == "postgresql":
                import psycopg2
                with contextlib.closing(psycopg2.connect(env["DATABASE_URL"])) as db, db.cursor() as cursor:
                    cursor.execute("SELECT sender_id, data FROM events ORDER BY id")
                    return cursor.fetchall()
            with contextlib.closing(sqlite3.connect(stack.var_dir / "rasa_tracker.db")) as db:
                return db.execute("SELECT sender_id, data FROM events ORDER BY id").fetchall()

        yield stack, read_events


@pytest.fixture(scope="module")
def verified_maria(stack_and_events):
    stack, _ = stack_and_events
    c = Chat(stack, "dados-em-repouso")
    assert "carteirinha" in c.say("quero ver minha carteirinha").lower()
    c.say(MARIA[0])
    c.say(MARIA[1])
    answer = c.say(MARIA[2])
    assert "1002 0030 0401" in answer and "Maria Aparecida Santos" in answer, answer  # verified
    return c


def test_the_events_table_keeps_no_cpf_birth_date_or_card(stack_and_events, verified_maria):
    _, read_events = stack_and_events
    rows = [data for sender, data in read_events() if sender == verified_maria.sender]
    users = [json.loads(data) for data in rows if json.loads(data).get("event") == "user"]
    assert [u["text"] for u in users] == ["quero ver minha carteirinha", "[carteirinha]", "[cpf]", "[data]"]
    stored = "\n".join(rows)
    for value in PERSONAL:
        assert value not in stored, f"{value!r} is in the events table"


def test_the_live_conversation_stays_verified(verified_maria):
    """The token and the identity live in memory: the next request is answered without asking again."""
    answer = verified_maria.say("qual é o meu plano?")
    assert "apartamento" in answer.lower(), answer


def test_no_log_has_the_personal_data_or_a_link_token(stack_and_events, verified_maria):
    stack, _ = stack_and_events
    token = secrets.token_urlsafe(32)
    for page in ("/conta/ativar/", "/documentos/"):
        try:
            urllib.request.urlopen(f"{stack.backend_url}{page}{token}", timeout=30).close()
        except urllib.error.HTTPError:
            pass  # an unknown link: 404/410 page
    logs = {path.name: path.read_text(errors="replace") for path in (stack.var_dir / "log").glob("*.log")}
    assert {"backend.log", "actions.log", "rasa.log"} <= set(logs)
    for name, text in logs.items():
        assert token not in text, name
        for value in ("94580730224", "945.807.302-24", "12/03/1985", "1985-03-12"):
            assert value not in text, f"{value!r} in {name}"
    assert "/conta/ativar/[token]" in logs["backend.log"]
