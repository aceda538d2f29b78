"""What the flows of a verified conversation share: the request context sent to the backend,
and the texts for a locked identity check or an expired verification."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from bot.actions.operator_profile import call_centre_line

YES_NO = [{"title": "Sim", "payload": "/afirmar"}, {"title": "Não", "payload": "/negar"}]
SESSION_EXPIRED_TEXT = ("A confirmação dos seus dados expirou (ela vale 15 minutos). "
                        "Vamos de novo? É só repetir o pedido.")


def request_context(tracker: Tracker) -> dict[str, Any]:
    """What every call made on behalf of a verified conversation carries."""
    return {
        "verification": tracker.get_slot("identidade_token"),
        "channel": tracker.get_latest_input_channel() or "desconhecido",
        "conversation_id": tracker.sender_id,
    }


async def locked_text(minutes: float) -> str:
    return (f"Por segurança, bloqueei novas tentativas por {int(minutes)} minutos, depois de várias "
            f"tentativas com dados que não conferem. Se precisar agora, fale com {await call_centre_line()} "
            "ou escreva \"atendente\".")
