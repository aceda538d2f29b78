"""The output-channel side both provider channels share (WhatsApp, Telegram)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from rasa.core.channels.channel import OutputChannel

if TYPE_CHECKING:
    from channels.provider_input import ProviderInput

Part = TypeVar("Part")


class Formatted(Protocol[Part]):
    """A bot message as a provider's formatter (channels.formatters) renders it."""

    messages: list[Part]  # what is sent, in order
    options: list[dict] | None  # the options it lists ({title, payload}), None when none


class WholeMessageOutput(OutputChannel, Generic[Part]):
    """An output channel that formats each bot message as a whole (text, buttons, image,
    attachment, custom) in `send_response`: Rasa's per-kind methods all lead there. A provider's
    channel gives its `formatter` and sends each part of the formatted message (`send_part`)."""

    formatter: Callable[[dict], Formatted[Part]]

    options_shown: list[dict] | None = None  # the options the latest answer listed (remember_options)

    def __init__(self, channel: ProviderInput, direct: bool = False) -> None:
        """`direct=True`: the output of a user's message being handled, already in the conversation's
        lane, sends right away; otherwise (messages Rasa pushes outside a user turn, e.g. an agent's
        text) each send is queued in the recipient's lane, to keep the order."""
        self.channel = channel
        self.direct = direct

    async def remember_options(self, recipient_id: str, options: list[dict] | None) -> None:
        """The options a message lists (None: it lists none), kept for the conversation's next
        message: a number or a title picks one."""
        if options is not None:
            self.options_shown = options
            await self.channel.options.remember(str(recipient_id), options)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        formatted = self.formatter(message)
        await self.remember_options(recipient_id, formatted.options)
        for part in formatted.messages:
            await self.send_part(recipient_id, part)

    async def send_part(self, recipient_id: str, part: Part) -> None:
        raise NotImplementedError

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
