"""A WhatsApp user of the session stack: signed Twilio webhooks in, the fake Twilio's record out."""

from __future__ import annotations

import itertools
import urllib.error
import urllib.parse
import urllib.request

from fakes import wait_until_sync
from stack_support import PUBLIC_BASE_URL, TWILIO_AUTH, TWILIO_NUMBER, TWILIO_SID, wait_turn
from twilio.request_validator import RequestValidator

AUTH = TWILIO_AUTH


def post(url: str, data: bytes, headers: dict) -> int:
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


class WhatsAppUser:
    _sids = itertools.count(1)

    def __init__(self, stack, twilio, number: str):
        self.stack, self.twilio, self.address = stack, twilio, f"whatsapp:{number}"

    def send(self, text: str, token: str = AUTH) -> tuple[int, str]:
        """Posts a signed webhook; (HTTP status, the message's id)."""
        params = {
            "MessageSid": f"SM{next(self._sids):032d}",
            "AccountSid": TWILIO_SID,
            "From": self.address,
            "To": TWILIO_NUMBER,
            "Body": text,
            "NumMedia": "0",
        }
        signature = RequestValidator(token).compute_signature(PUBLIC_BASE_URL + "/webhooks/whatsapp/webhook", params)
        status = post(
            f"{self.stack.rasa_url}/webhooks/whatsapp/webhook",
            urllib.parse.urlencode(params).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        )
        return status, params["MessageSid"]

    def say(self, text: str, token: str = AUTH) -> str:
        """Sends a signed webhook and returns the text of the replies the turn produced."""
        before = len(self.twilio.to(self.address))
        status, message_id = self.send(text, token)
        if status != 200:
            return f"HTTP {status}"
        # the first reply means the channel is processing it (its conversation exists in Rasa)
        wait_until_sync(lambda: len(self.twilio.to(self.address)) > before, what=f"a reply to {text!r}")
        wait_turn(self.stack, self.address, message_id=message_id)
        return "\n".join(m["Body"] for m in self.twilio.to(self.address)[before:])
