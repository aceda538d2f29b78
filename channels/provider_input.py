"""The input-channel side both provider channels share (WhatsApp, Telegram): what each keeps per
conversation, the webhook's blueprint and the hand-over of a user's message to Rasa."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import Attachment, OptionMemory, SeenIds
from channels.inbound_files import BackendFiles
from channels.lanes import Lanes
from channels.output import WholeMessageOutput


class ProviderInput(InputChannel):
    """`lanes`: a conversation's messages are handled one after the other; `options`: the options
    last shown to each conversation (a number or a title picks one); `seen`: the provider's ids of
    the messages already taken (a retried webhook is not a second message); `files`: the backend's
    store of the files users send."""

    def __init__(self) -> None:
        self.lanes = Lanes()
        self.options = OptionMemory()
        self.seen = SeenIds()
        self.files = BackendFiles()

    def webhook_blueprint(self, name: str) -> Blueprint:
        """The channel's blueprint with its health check (GET /); the channel adds POST /webhook."""
        bp = Blueprint(name, type(self).__module__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        return bp

    async def hand_to_rasa(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        out: WholeMessageOutput,
        sender_id: str,
        text: str,
        attachments: list[Attachment],
        message_id: str | None,
    ) -> None:
        """The user's message to Rasa (the files in its metadata, see channels.common), answered
        through `out`; the options the answer showed are remembered for the next message."""
        metadata = {"attachments": [a.as_metadata() for a in attachments]} if attachments else None
        await on_new_message(
            UserMessage(text, out, sender_id, input_channel=self.name(), metadata=metadata, message_id=message_id)
        )
        self.options.remember(sender_id, out.options_shown)
