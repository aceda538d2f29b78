"""The inbound queue's consumer of one Rasa instance, alone in a process of its own, for the tests that kill
it (test_inbound_queue.py): the WhatsApp channel as the environment sets it (INBOUND_*, CHANNEL_REDIS_URL,
the fake Twilio at TWILIO_API_BASE_URL) consuming its shards with a stand-in for Rasa, and saying on stdout
what it does ("consuming", "handling <text>", "marked <id>") until it is killed. The mode is where it stops
for good:

    python tests/channels/inbound_worker.py hang-before-reply   # the turn never ends: no reply, no ack
    python tests/channels/inbound_worker.py hang-after-mark     # replied and marked answered, never acked

PYTHONPATH must hold the repository (the test passes it)."""

from __future__ import annotations

import asyncio
import os
import sys

from channels.inbound_queue import Inbound
from channels.whatsapp import WhatsAppInput

PUBLIC = "https://assistente.exemplo.com.br"
WORKER_REPLY = "eco do processo morto: "


def say(line: str) -> None:
    print(line, flush=True)


async def main(mode: str) -> None:
    channel = WhatsAppInput(
        os.environ["TWILIO_ACCOUNT_SID"],
        os.environ["TWILIO_AUTH_TOKEN"],
        "whatsapp:+14155238886",
        PUBLIC,
        api_base_url=os.environ["TWILIO_API_BASE_URL"],
    )
    inbound = channel.inbound
    if inbound is None:
        raise SystemExit("INBOUND_AMQP_URL is not set")
    forever = asyncio.Event()

    async def rasa(message) -> None:
        say(f"handling {message.text}")
        if mode == "hang-before-reply":
            await forever.wait()
        await message.output_channel.send_response(message.sender_id, {"text": WORKER_REPLY + message.text})

    if mode == "hang-after-mark":
        mark = inbound.answered.mark

        async def mark_then_hang(message_id: str) -> None:
            await mark(message_id)
            say(f"marked {message_id}")
            await forever.wait()

        inbound.answered.mark = mark_then_hang  # type: ignore[method-assign]

    async def handle(update: Inbound) -> None:
        await channel.handle_queued(rasa, update.payload)

    inbound.start(handle)
    await asyncio.wait_for(inbound.wait_for(lambda stats: stats.connections >= 1), 30)
    say("consuming")
    await forever.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
