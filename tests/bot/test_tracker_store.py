"""bot.tracker_store.MaskingTrackerStore: what reaches the database is masked, what the next turn
needs stays raw in memory; plus the at-rest masking of common.pii it relies on."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from pathlib import Path

import pytest
from postgres_support import fresh_database
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.live_trackers import LiveTrackers
from bot.tracker_store import LIVE_ONLY_SLOTS, NAME_SLOTS, MaskingTrackerStore
from common.pii import AtRestMasker, mask_at_rest, mask_log_text, mask_secret_paths
from scripts.stack import tracker_store_config

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))

CPF_FORMS = ("94580730224", "945.807.302-24", "945807302", "807.302")
BIRTH_FORMS = ("12/03/1985", "1985-03-12", "1985")
MOTHER = ("Josefa", "Aparecida", "josefa")
NAMES = ("Maria", "Santos", "João", "Pedro")  # hers (first name from the backend) and her son's
TOKEN = "vt_4f8a1c0e9b2d7f3a6c5e8b1d0a9f7c3e"
CARD = "100200300401"
SENDER = "conversa-1"
DOC_TOKEN = "eyJrIjoiYm9sZXRvIn0.c2lnbmF0dXJl"


def _user(text: str, intent: str = "informar", entities: list[dict] | None = None) -> UserUttered:
    return UserUttered(
        text,
        {"name": intent, "confidence": 0.99},
        entities or [],
        parse_data={
            "intent": {"name": intent, "confidence": 0.99},
            "entities": entities or [],
            "text": text,
            "intent_ranking": [{"name": intent, "confidence": 0.99}],
        },
        input_channel="rest",
        message_id=uuid.uuid4().hex,
    )


def _identity_turns() -> list:
    """A CASSE-like identity check: CPF and birth date in one message, then the mother's name."""
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        _user("quero ver minha carteirinha", "cartao_virtual"),
        SlotSet("requested_slot", "login"),
        BotUttered("Qual o número da sua carteirinha?", metadata={"utter_action": "utter_ask_login"}),
        ActionExecuted("action_listen"),
        _user(CARD, entities=[{"entity": "carteirinha", "value": CARD, "start": 0, "end": 12}]),
        SlotSet("login", CARD),
        SlotSet("requested_slot", "cpf"),
        ActionExecuted("action_listen"),
        _user(
            "meu cpf é 945.807.302-24, nasci em 12/03/1985",
            entities=[
                {"entity": "cpf", "value": "945.807.302-24", "start": 10, "end": 24},
                {"entity": "data", "value": "12/03/1985", "start": 34, "end": 44},
            ],
        ),
        SlotSet("cpf", "94580730224"),
        SlotSet("data_nascimento", "1985-03-12"),
        SlotSet("requested_slot", "nome_mae"),
        BotUttered("Qual o nome completo da sua mãe?"),
        ActionExecuted("action_listen"),
        _user("josefa aparecida santos"),
        SlotSet("nome_mae", "Josefa Aparecida Santos"),
        SlotSet("identidade_token", TOKEN),
        SlotSet(
            "identidade_info",
            {
                "first_name": "Maria",
                "email_masked": "m***@exemplo.com.br",
                "has_account": True,
                "plan_active": True,
                "dependents": 2,
            },
        ),
        SlotSet("requested_slot", None),
        BotUttered(
            f"Maria, sua carteirinha:\nMaria Aparecida Santos\nCarteirinha 1002 0030 0401\n"
            f"Imagem: http://127.0.0.1:8080/documentos/{DOC_TOKEN}",
            data={"buttons": [{"title": "João Pedro Santos", "payload": '/informar{"carteirinha": "100200300402"}'}]},
        ),
        ActionExecuted("action_listen"),
    ]


def _store(tmp_path: Path, **kwargs) -> MaskingTrackerStore:
    return MaskingTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"), **kwargs)


def _stored_rows(tmp_path: Path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "tracker.db") as db:
        return db.execute(
            "SELECT sender_id, type_name, intent_name, action_name, data FROM events ORDER BY id"
        ).fetchall()


def _assert_nothing_personal(text: str) -> None:
    for secret in CPF_FORMS + BIRTH_FORMS + MOTHER + NAMES + (TOKEN, CARD, "1002 0030 0401", "100200300402", DOC_TOKEN):
        assert secret.lower() not in text.lower(), f"{secret!r} stored: {text[:400]}"


def _tracker(sender: str, events: list) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, events, DOMAIN.slots)


async def test_the_database_gets_no_cpf_birth_date_name_or_token_and_the_next_turn_gets_them_all(tmp_path):
    store = _store(tmp_path)
    await store.save(_tracker(SENDER, _identity_turns()))

    rows = _stored_rows(tmp_path)
    assert len(rows) == len(_identity_turns())
    _assert_nothing_personal(json.dumps(rows, ensure_ascii=False))
    texts = [json.loads(data).get("text") for _, kind, _, _, data in rows if kind == "user"]
    assert texts == ["quero ver minha carteirinha", "[carteirinha]", "meu cpf é [cpf], nasci em [data]", "[nome]"]
    assert ("user", "informar") in {(kind, intent) for _, kind, intent, _, _ in rows}  # columns still useful
    slots = {json.loads(data)["name"]: json.loads(data)["value"] for _, kind, _, _, data in rows if kind == "slot"}
    assert slots["cpf"] is None and slots["nome_mae"] is None and slots["identidade_token"] is None
    assert slots["requested_slot"] is None  # the last value set; "nome_mae" etc. kept as asked

    live = await store.retrieve(SENDER)  # the next turn of the same conversation
    assert live.get_slot("cpf") == "94580730224"
    assert live.get_slot("data_nascimento") == "1985-03-12"
    assert live.get_slot("nome_mae") == "Josefa Aparecida Santos"
    assert live.get_slot("identidade_token") == TOKEN
    assert live.latest_message.text == "josefa aparecida santos"


async def test_after_a_restart_the_masked_tracker_loads_unverified_and_the_form_would_ask_again(tmp_path):
    store = _store(tmp_path)
    await store.save(_tracker(SENDER, _identity_turns()))
    live = await store.retrieve(SENDER)

    restarted = await _store(tmp_path).retrieve(SENDER)  # a new process: nothing in memory
    # the same events either way (the count `save` relies on): only the values differ
    assert [type(e) for e in restarted.events] == [type(e) for e in live.events]
    assert [e.timestamp for e in restarted.events] == [e.timestamp for e in live.events]
    for slot in ("login", "cpf", "data_nascimento", "nome_mae", "identidade_token", "identidade_info"):
        assert restarted.get_slot(slot) is None, slot
    assert [e.text for e in restarted.events if isinstance(e, UserUttered)][2] == "meu cpf é [cpf], nasci em [data]"


async def test_the_next_turn_stores_only_its_own_events_still_masked(tmp_path):
    store = _store(tmp_path)
    await store.save(_tracker(SENDER, _identity_turns()))
    tracker = await store.retrieve(SENDER)
    tracker.update(_user("minha mãe é Josefa Aparecida Santos, cpf 94580730224"))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)

    rows = _stored_rows(tmp_path)
    assert len(rows) == len(_identity_turns()) + 2
    assert json.loads(rows[-2][4])["text"] == "minha mãe é [nome], cpf [cpf]"
    _assert_nothing_personal(json.dumps(rows, ensure_ascii=False))


async def test_a_copy_written_by_another_process_wins_over_the_one_in_memory(tmp_path):
    """Two Rasa instances on one database: an instance never answers from a stale copy."""
    first, second = _store(tmp_path), _store(tmp_path)
    await first.save(_tracker(SENDER, _identity_turns()))
    moved = await second.retrieve(SENDER)  # the next turn lands on the other instance
    moved.update(_user("tchau", "despedida"))
    await second.save(moved)

    back = await first.retrieve(SENDER)
    assert len(back.events) == len(moved.events) and back.latest_message.text == "tchau"
    assert back.get_slot("cpf") is None  # read from the database: masked, so asked again


async def test_idle_conversations_and_the_oldest_beyond_the_cap_lose_their_raw_copy(tmp_path):
    now = [1000.0]
    store = _store(tmp_path, live_minutes=15, live_size=2)
    store.live.clock = lambda: now[0]
    for sender in ("a", "b", "c"):
        await store.save(_tracker(sender, _identity_turns()))
    assert (await store.retrieve("a")).get_slot("cpf") is None  # dropped: over the cap
    assert (await store.retrieve("c")).get_slot("cpf") == "94580730224"
    now[0] += 15 * 60
    assert (await store.retrieve("c")).get_slot("cpf") is None  # 15 minutes without a turn


def test_live_trackers_expire_in_order():
    now = [0.0]
    live = LiveTrackers(ttl_s=10, max_size=5, clock=lambda: now[0])
    live.put("a", "{}", 1)
    now[0] = 5
    live.put("b", "{}", 2)
    now[0] = 10
    assert live.get("a") is None and live.get("b") == ("{}", 2)
    live.put("c", "{}", 3)
    assert len(live) == 2


async def test_a_new_session_in_memory_returns_only_the_latest_session(tmp_path):
    store = _store(tmp_path)
    events = _identity_turns() + [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        _user("oi", "saudacao"),
    ]
    await store.save(_tracker(SENDER, events))
    latest = await store.retrieve(SENDER)
    assert [e.text for e in latest.events if isinstance(e, UserUttered)] == ["oi"]
    full = await store.retrieve_full_tracker(SENDER)  # the history: from the database, masked
    assert len(full.events) == len(events) and full.get_slot("cpf") is None


def test_the_slots_named_here_exist_in_the_domain():
    slots = {slot.name for slot in DOMAIN.slots}
    assert LIVE_ONLY_SLOTS <= slots and NAME_SLOTS <= slots


async def test_the_endpoints_of_the_stack_create_this_store(tmp_path, monkeypatch):
    for key in ("DATABASE_URL", "RASA_TRACKER_URL"):
        monkeypatch.delenv(key, raising=False)
    config = tracker_store_config(tmp_path)
    store = TrackerStore.create(EndpointConfig.from_dict(config), DOMAIN)
    assert isinstance(store, MaskingTrackerStore)
    await store.save(_tracker(SENDER, _identity_turns()))
    assert (tmp_path / "rasa_tracker.db").exists()


@pytest.fixture
def fresh_postgres_url():
    """A new database on TEST_DATABASE_URL's server, dropped afterwards (the backend tests reset
    the `test` database's schema; this test must not depend on them)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL not set (CI sets it to the machine's PostgreSQL)")
    with fresh_database(url, "tracker_store") as fresh_url:
        yield fresh_url


async def test_postgresql_events_are_masked_too(tmp_path, fresh_postgres_url):
    config = tracker_store_config(tmp_path, {"DATABASE_URL": fresh_postgres_url})
    store = TrackerStore.create(EndpointConfig.from_dict(config), DOMAIN)
    assert isinstance(store, MaskingTrackerStore) and store.engine.dialect.name == "postgresql"
    await store.save(_tracker(SENDER, _identity_turns()))
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT data FROM events").fetchall()
    assert len(rows) == len(_identity_turns())
    _assert_nothing_personal(json.dumps([row[0] for row in rows], ensure_ascii=False))
    assert (await store.retrieve(SENDER)).get_slot("cpf") == "94580730224"
    store.engine.dispose()


# --- common.pii at rest -------------------------------------------------------------------------


def test_at_rest_keeps_the_kind_and_nothing_of_the_value():
    assert mask_at_rest("meu cpf é 945.807.302-24, nasci em 12/03/1985") == "meu cpf é [cpf], nasci em [data]"
    assert mask_at_rest("nasci em 12 de março de 1985") == "nasci em [data]"
    assert mask_at_rest("maria.santos@exemplo.com.br, +55 79 99811-0001") == "[e-mail], [telefone]"
    assert mask_at_rest("carteirinha 1002 0030 0401") == "carteirinha [carteirinha]"
    # protocols are how a request is followed; they stay
    assert mask_at_rest("protocolo 41901020261123000012") == "protocolo 41901020261123000012"


def test_at_rest_masks_known_values_typed_any_way_and_known_names_any_case():
    masker = AtRestMasker(names=["Josefa Aparecida Santos", "Maria"], values=["94580730224", "1985-03-12"])
    assert masker.text("cpf 945 807 302 24, nasc 12 3 85") == "cpf [dado], nasc [dado]"
    assert masker.text("minha mãe: josefa aparecida santos") == "minha mãe: [nome]"
    assert masker.text("Olá, Maria! Para quem: João Pedro Santos?") == "Olá, [nome]! Para quem: [nome]?"
    assert masker.text("tem cardiologista em São Paulo?") == "tem cardiologista em São Paulo?"


def test_secret_paths_are_masked_in_urls_and_log_lines():
    assert mask_secret_paths("https://x.com.br/conta/ativar/Ab-9_z?x=1") == "https://x.com.br/conta/ativar/[token]?x=1"
    assert mask_secret_paths("GET /documentos/eyJ.sig 200") == "GET /documentos/[token] 200"
    assert (
        mask_log_text("GET /conta/alterar-senha/abc cpf 94580730224")
        == "GET /conta/alterar-senha/[token] cpf ***.807.302-**"
    )


async def test_the_one_time_codes_a_company_user_types_are_never_stored_right_or_wrong(tmp_path):
    store = _store(tmp_path)
    asked = [ActionExecuted("empresa_identidade_form"), SlotSet("requested_slot", "empresa_codigo")]
    events = [
        ActionExecuted("action_listen"),
        UserUttered("sou do rh", {"name": "empresa_identificacao", "confidence": 1.0}),
        *asked,
        BotUttered("Digite o código de 6 números que enviei ao e-mail cadastrado."),
        ActionExecuted("action_listen"),
        UserUttered("418 207", {"name": "informar", "confidence": 0.9}),  # wrong: the form asks again
        *asked,
        BotUttered("Esse código não confere. Restam 4 tentativas."),
        ActionExecuted("action_listen"),
        UserUttered("o codigo e 905133", {"name": "informar", "confidence": 0.9}),
        SlotSet("empresa_codigo", "905133"),
        SlotSet("requested_slot", None),
        ActionExecuted("action_listen"),
    ]
    await store.save(_tracker(SENDER, events))

    # every stored field but the timestamps (whose digits may hold anything)
    events = [{k: v for k, v in json.loads(data).items() if k != "timestamp"} for *_, data in _stored_rows(tmp_path)]
    stored = json.dumps(events, ensure_ascii=False)
    assert "418" not in stored and "207" not in stored and "905133" not in stored
    texts = [json.loads(data).get("text") for _, kind, _, _, data in _stored_rows(tmp_path) if kind == "user"]
    assert texts == ["sou do rh", "[código]", "[código]"]
