"""Custom actions of the assistant (rasa_sdk). They reach the backend only through the typed wrappers of bot.backend."""

from common.logs import configure_logging

configure_logging()
