"""Typed keys of what the application shares with its handlers."""

from aiohttp import web
from sqlalchemy.orm import sessionmaker

from backend.email_change import MailServices
from backend.mail import Mailer
from backend.operator_profile import OperatorProfile
from backend.rate_limits import DataKeys
from backend.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
OPERATOR = web.AppKey("operator", OperatorProfile)
MAILER = web.AppKey("mailer", Mailer)
SESSIONS = web.AppKey("sessions", sessionmaker)


def mail_services(request: web.Request) -> MailServices:
    """What the use cases that e-mail a link need (`mail=`): keys, operator, mailer, public_url."""
    settings = request.app[SETTINGS]
    return MailServices(
        keys=DataKeys(settings.data_hmac_secret),
        operator=request.app[OPERATOR],
        mailer=request.app[MAILER],
        public_url=settings.public_backend_url,
    )
