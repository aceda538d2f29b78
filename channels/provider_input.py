"""The input-channel side both provider channels share (WhatsApp, Telegram): what each keeps per
conversation, the webhook's blueprint, the hand-over of a verified update (to this process's lanes, or to
the durable inbound queue with INBOUND_AMQP_URL) and of a user's message to Rasa."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import Attachment
from channels.inbound_files import BackendFiles
from channels.inbound_queue import Inbound, PublishFailed, inbound_queue
from channels.lanes import Job, Lanes
from channels.output import WholeMessageOutput
from channels.shared_state import channel_state

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
RETRY_AFTER_S = 5


class ProviderInput(InputChannel):
    """`lanes`: a conversation's messages are handled one after the other; `options`: the options
    last shown to each conversation (a number or a title picks one); `seen`: the provider's ids of
    the messages already taken (a retried webhook is not a second message); `files`: the backend's
    store of the files users send; `inbound`: the durable queue updates go through (None without
    INBOUND_AMQP_URL: the update goes to `lanes` in this process)."""

    def __init__(self) -> None:
        self.lanes = Lanes()
        self.state = state = channel_state()  # in memory, or in Redis with CHANNEL_REDIS_URL (channels.shared_state)
        self.options = state.option_memory(self.name())
        self.seen = state.seen_ids(self.name())
        self.files = BackendFiles()
        self.inbound = inbound_queue(self.name(), state)

    def webhook_blueprint(self, name: str, on_new_message: OnNewMessage) -> Blueprint:
        """The channel's blueprint with its health check (GET /) and its life cycle: the inbound queue's
        consumer runs from the server's start to its stop, then the channel's clients are closed
        (`close_clients`). The channel adds POST /webhook."""
        bp = Blueprint(name, type(self).__module__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.listener("after_server_start")
        async def start_inbound(app: Sanic, *_: Any) -> None:
            if self.inbound is not None:

                async def handle(inbound: Inbound) -> None:
                    await self.handle_queued(on_new_message, inbound.payload)

                self.inbound.start(handle, ready=lambda: _agent_ready(app))

        # one listener for the whole stop: Sanic runs the stop listeners in reverse order of registration,
        # and the messages in hand need the channel's clients to send their replies
        @bp.listener("before_server_stop")
        async def stop(*_: Any) -> None:
            if self.inbound is not None:
                await self.inbound.stop()
            await self.close_clients()

        return bp

    async def take(self, sender: str, message_id: Any, payload: Any, job: Job) -> bool:
        """A verified update, handed over before the webhook answers: False when it could not be kept
        (the inbound queue did not take it): answer 503 and the provider retries, taken as a first time.
        `payload` is what the queue stores (the update as the provider sent it), `job` what this process's
        lanes run without the queue."""
        if not await self.seen.first_time(message_id):
            return True  # a retried webhook: taken already
        if self.inbound is None:
            # Lanes holds the worker task and retrieves a failed job's error: nothing to keep here
            self.lanes.submit(sender, job)
            return True
        try:
            await self.inbound.publish(sender, message_id, payload)
        except PublishFailed:
            await self.seen.forget(message_id)
            return False
        return True

    @staticmethod
    def unavailable() -> HTTPResponse:
        """The webhook's answer when the update could not be kept: the provider sends it again."""
        return response.json(
            {"error": "indisponível no momento, tente de novo"}, status=503, headers={"Retry-After": str(RETRY_AFTER_S)}
        )

    async def handle_queued(self, on_new_message: OnNewMessage, payload: Any) -> None:
        """An update taken off the inbound queue (its payload as `take` stored it), processed as the
        webhook would have: the channel's process(), which answers the user."""
        raise NotImplementedError

    async def close_clients(self) -> None:
        """The channel's clients, closed once the server stops (after the last reply)."""
        await self.files.close()
        await self.state.close()

    async def hand_to_rasa(
        self,
        on_new_message: OnNewMessage,
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
        await self.options.remember(sender_id, out.options_shown)


def _agent_ready(app: Sanic) -> bool:
    """Whether Rasa can handle a message (a model is loaded); an app without Rasa's agent (tests) is ready."""
    agent = getattr(app.ctx, "agent", None)
    return agent is None or bool(agent.is_ready())
