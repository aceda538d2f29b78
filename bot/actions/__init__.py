"""Custom actions of the assistant (rasa_sdk). They reach the backend only through backend_client."""

from common.logs import configure_logging

configure_logging()
