"""The emergency answer reaches every channel whole: SAMU, the pronto-socorro, the CVV and the
operator's line survive each formatter, in one message, without markup the channel would show."""

from __future__ import annotations

import pytest

from bot.actions.emergency import emergency_text
from bot.backend.network import Provider
from channels.formatters import telegram as tg
from channels.formatters import whatsapp as wa
from common.emergency import CARDIAC, SUICIDE

HOSPITAL = Provider("Hospital Vida Sergipe", "hospital", "Av. Gonçalo Prado Rollemberg, 1200", "(79) 3214-1000", "")
ANSWERS = {
    "cardiac": emergency_text(CARDIAC, "0800 888 9504", "Aracaju", [HOSPITAL]),
    "suicide": emergency_text(SUICIDE, "0800 888 9504", None, []),
}
ESSENTIAL = {"cardiac": ["192", "pronto-socorro", "0800 888 9504", "Hospital Vida Sergipe"], "suicide": ["188", "CVV"]}


@pytest.mark.parametrize("case", sorted(ANSWERS))
def test_whatsapp_gets_it_in_one_plain_message(case: str) -> None:
    out = wa.format_message({"text": ANSWERS[case]})
    assert len(out.messages) == 1  # not split: the call for help is never in a second message
    body = out.messages[0].body
    assert all(word in body for word in ESSENTIAL[case]), body
    assert "<" not in body and "**" not in body


@pytest.mark.parametrize("case", sorted(ANSWERS))
def test_telegram_gets_it_in_one_message(case: str) -> None:
    out = tg.format_message({"text": ANSWERS[case]})
    assert [m.kind for m in out.messages] == ["text"]
    assert all(word in out.messages[0].text for word in ESSENTIAL[case])


@pytest.mark.parametrize("case", sorted(ANSWERS))
def test_the_widget_and_rest_get_the_text_as_written(case: str) -> None:
    # socket.io and REST send Rasa's text as it is; the widget shows it as text (never as HTML)
    assert all(word in ANSWERS[case] for word in ESSENTIAL[case])
    assert len(ANSWERS[case]) < 1000  # short enough to read in a hurry
