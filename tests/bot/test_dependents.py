"""meus_dependentes: after the identity check, the holder sees who is on the plan, with each card
number and a button for each dependent's virtual card; a dependent is told the list is the holder's."""

from __future__ import annotations

from tracker_support import conversation

from bot.actions import plan_services  # noqa: F401 - registers the handlers, as the action server does
from bot.actions.services import ActionServico
from bot.backend.identity import FamilyMember

MARIA = FamilyMember("Maria Aparecida Santos", "Maria", "100200300401", holder=True, relationship="holder")
JOAO = FamilyMember("João Pedro Santos", "João", "100200300402", holder=False, relationship="son")
ANA = FamilyMember("Ana Clara Santos", "Ana", "100200300403", holder=False, relationship="daughter")


async def _ask(fake_backend, dispatcher, domain, *members: FamilyMember) -> dict:
    fake_backend.members = members
    tracker = conversation(None, "quem são meus dependentes?", intent="meus_dependentes")
    tracker.slots["servico"] = {"intent": "meus_dependentes", "values": {}}
    await ActionServico().run(dispatcher, tracker, domain)
    (message,) = [m for m in dispatcher.messages if m.get("text")]
    return message


async def test_the_holder_sees_the_family_with_cards(fake_backend, dispatcher, domain) -> None:
    message = await _ask(fake_backend, dispatcher, domain, MARIA, JOAO, ANA)
    assert message["text"].splitlines() == [
        "Estão no seu plano:",
        "• Maria Aparecida Santos (titular), carteirinha 1002 0030 0401",
        "• João Pedro Santos (filho), carteirinha 1002 0030 0402",
        "• Ana Clara Santos (filha), carteirinha 1002 0030 0403",
    ]
    assert [(b["title"], b["payload"]) for b in message["buttons"]] == [
        ("Carteirinha de João", '/cartao_virtual{"carteirinha": "100200300402"}'),
        ("Carteirinha de Ana", '/cartao_virtual{"carteirinha": "100200300403"}'),
    ]
    assert [call for call, _ in fake_backend.calls] == ["family"]


async def test_a_holder_without_dependents_is_told_how_to_include_one(fake_backend, dispatcher, domain) -> None:
    message = await _ask(fake_backend, dispatcher, domain, MARIA)
    assert "não há dependentes" in message["text"] and "incluir" in message["text"]
    assert not message.get("buttons")


async def test_a_dependent_sees_only_their_own_card(fake_backend, dispatcher, domain) -> None:
    message = await _ask(fake_backend, dispatcher, domain, JOAO)
    assert "dependente" in message["text"] and "1002 0030 0402" in message["text"]
    assert "Maria" not in message["text"]
