"""Typed keys of what the application shares with its handlers."""

from aiohttp import web
from sqlalchemy.orm import sessionmaker

from backend.mail import Mailer
from backend.operator_profile import OperatorProfile
from backend.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
OPERATOR = web.AppKey("operator", OperatorProfile)
MAILER = web.AppKey("mailer", Mailer)
SESSIONS = web.AppKey("sessions", sessionmaker)
