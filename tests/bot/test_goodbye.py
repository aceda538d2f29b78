"""Goodbye ends every verified session of the conversation: the beneficiary's and the company
user's (a shared phone or computer must not keep either)."""

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import ActionDespedida


async def test_goodbye_forgets_the_beneficiary_and_the_company_sessions():
    slots = {
        "identidade_token": "token-beneficiario",
        "identidade_info": {"nome": "M***"},
        "empresa_token": "token-empresa",
        "empresa_info": {"empresa": "Construtora Horizonte"},
    }
    tracker = Tracker("u", slots, {"intent": {"name": "despedida"}}, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = await ActionDespedida().run(dispatcher, tracker, {})
    forgotten = {e["name"] for e in events if e["event"] == "slot" and e["value"] is None}
    assert set(slots) <= forgotten
    assert dispatcher.messages[0]["response"] == "utter_despedida"
