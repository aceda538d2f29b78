"""A frozen action server on WhatsApp (signed webhooks into the session stack, Twilio replaced by a fake
on loopback): the user hears back within the deadline instead of never, and the request goes on
after the resume without retyping it (bot/turn_recovery.py)."""

from __future__ import annotations

import time

import pytest
from fault_support import frozen
from whatsapp_user import WhatsAppUser

pytestmark = pytest.mark.integration

TWILIO_PATIENCE_S = 15


def test_whatsapp_user_with_a_frozen_action_server_hears_back_and_goes_on(stack, fakes):
    twilio, _ = fakes
    user = WhatsAppUser(stack, twilio, "+5579998110077")
    user.say("oi")
    with frozen(stack, "actions"):
        started = time.monotonic()
        answer = user.say("quero a segunda via do boleto")
        elapsed = time.monotonic() - started
    assert "tive um problema para consultar isso agora" in answer and "0800 888 9504" in answer, answer
    assert "1. Tentar de novo\n2. Falar com atendente" in answer, answer  # buttons as a numbered list
    assert "<" not in answer  # no markup on WhatsApp
    assert elapsed < TWILIO_PATIENCE_S, elapsed
    # "1" picks "Tentar de novo": the request of the failed turn goes on (the identity check starts)
    assert "carteirinha" in user.say("1").lower()
