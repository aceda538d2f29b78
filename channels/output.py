"""The output-channel side both provider channels share (WhatsApp, Telegram)."""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import OutputChannel


class WholeMessageOutput(OutputChannel):
    """An output channel that formats each bot message as a whole (text, buttons, image,
    attachment, custom) in `send_response`: Rasa's per-kind methods all lead there."""

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text, "buttons": buttons})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"image": image})

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"attachment": attachment})

    async def send_custom_json(self, recipient_id: str, json_message: dict, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"custom": json_message})
