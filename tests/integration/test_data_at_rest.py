"""Personal data at rest, with the three real processes: after Maria's verified flow through the
REST channel, Rasa's `events` table holds none of her CPF, birth date or card number, the
conversation still goes on verified (the raw values live in memory), and no log has them or the
token of a link. In whichever database the session's stack keeps Rasa's conversations: SQLite, or
PostgreSQL when TEST_DATABASE_URL is set (tests/stack_support.py)."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request

import pytest
from rest_chat import Chat
from stack_support import tracker_events

pytestmark = pytest.mark.integration

MARIA = ("100200300401", "945.807.302-24", "12/03/1985")
PERSONAL = (
    "94580730224",
    "945.807.302-24",
    "807.302",
    "12/03/1985",
    "1985-03-12",
    "100200300401",
    "1002 0030 0401",
    "Aparecida",
)


@pytest.fixture(scope="module")
def verified_maria(stack):
    """Maria's REST conversation, verified once (her card shown)."""
    c = Chat(stack, "dados-em-repouso")
    assert "carteirinha" in c.say("quero ver minha carteirinha").lower()
    c.say(MARIA[0])
    c.say(MARIA[1])
    answer = c.say(MARIA[2])
    assert "1002 0030 0401" in answer and "Maria Aparecida Santos" in answer, answer  # verified
    return c


def test_the_events_table_keeps_no_cpf_birth_date_or_card(stack, verified_maria):
    rows = [data for _, data in tracker_events(stack, verified_maria.sender)]
    users = [json.loads(data) for data in rows if json.loads(data).get("event") == "user"]
    # (the module's other tests may have gone on with the conversation since)
    assert [u["text"] for u in users][:4] == ["quero ver minha carteirinha", "[carteirinha]", "[cpf]", "[data]"]
    stored = "\n".join(rows)
    for value in PERSONAL:
        assert value not in stored, f"{value!r} is in the events table"


def test_the_live_conversation_stays_verified(verified_maria):
    """The token and the identity live in memory: the next request is answered without asking again."""
    answer = verified_maria.say("qual é o meu plano?")
    assert "apartamento" in answer.lower(), answer


def test_no_log_has_the_personal_data_or_a_link_token(stack, verified_maria):
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
