"""Backend settings, read from the environment (secrets only come from there)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

REPO_DIR = Path(__file__).resolve().parent.parent
MIN_BCRYPT_ROUNDS = 12
MIN_SERVICE_TOKEN_LENGTH = 24
_ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
_SYNC_DRIVERS = {"postgresql": "postgresql+psycopg2", "sqlite": "sqlite"}


class SettingsError(ValueError):
    """A setting is missing or unacceptable."""


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "sim", "on"}


def _backend_of(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name == "postgres":
        return "postgresql"
    if name not in _ASYNC_DRIVERS:
        raise SettingsError(f"DATABASE_URL: unsupported database '{name}' (use postgresql or sqlite)")
    return name


def _with_driver(url: str, drivers: Mapping[str, str]) -> str:
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername=drivers[_backend_of(url)]).render_as_string(hide_password=False)


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    backend_host: str = "127.0.0.1"
    backend_port: int = 8080
    mail_backend: str = "maildir"
    mail_from: str = "nao-responda@exemplo.com.br"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    bcrypt_rounds: int = MIN_BCRYPT_ROUNDS
    operator_profile: str = "demo"
    public_backend_url: str = "http://127.0.0.1:8080"
    verified_session_minutes: int = 15  # a verified conversation ends after this much inactivity
    # Key of the short-lived document links (backend.signed_links). Unset: a random key per process,
    # so links die with a restart; set LINK_SIGNING_SECRET when several backend processes serve links.
    link_signing_secret: bytes = field(default_factory=lambda: os.urandom(32), repr=False)
    # The Rasa server's HTTP API (`rasa run --enable-api`), through which agent replies reach the
    # user's channel and the handoff ends (backend.rasa_client); RASA_TOKEN if Rasa runs with --auth-token.
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str | None = field(default=None, repr=False)
    # Credential of the assistant's action server, the one client of the plan-system API
    # (backend.api.service_auth). Unset: no service call is accepted (fail closed).
    backend_service_token: str | None = field(default=None, repr=False)
    # HMAC-SHA256 key of what identifies a person in the rate limits and identity attempts
    # (backend.rate_limits.DataKeys): CPF, card, e-mail are never stored plain or as a bare hash.
    # Unset: a random key per process — acceptable ONLY in tests: several processes would count
    # apart and every restart would forget the lockouts. scripts/stack.py always passes
    # DATA_HMAC_SECRET (common.local_secrets).
    data_hmac_secret: bytes = field(default_factory=lambda: os.urandom(32), repr=False)
    # Addresses or networks (TRUSTED_PROXIES, comma-separated) of the reverse proxies whose
    # X-Forwarded-For is believed for the client's address (backend.rate_limits.client_address).
    trusted_proxies: tuple[str, ...] = ()
    # Seed the demo personas and the demo agent (DEMO_DATA=1 / 0); unset: only with the demo
    # operator profile (backend.seed).
    demo_data: bool | None = None
    # PostgreSQL connection pool of one backend process (docs/deploy.md sizes it): SQL_POOL_SIZE kept
    # open, SQL_MAX_OVERFLOW more under a burst, SQL_POOL_TIMEOUT_S to wait for one (under the bot's
    # BACKEND_TIMEOUT_S, so a starved pool ends in a polite answer), SQL_POOL_RECYCLE_S.
    sql_pool_size: int = 10
    sql_max_overflow: int = 10
    sql_pool_timeout_s: float = 4.0
    sql_pool_recycle_s: int = 1800

    def __post_init__(self) -> None:
        if self.bcrypt_rounds < MIN_BCRYPT_ROUNDS:
            raise SettingsError(f"BCRYPT_ROUNDS must be at least {MIN_BCRYPT_ROUNDS}")
        if not 1 <= self.verified_session_minutes <= 120:
            raise SettingsError("VERIFIED_SESSION_MINUTES must be between 1 and 120")
        if self.mail_backend not in {"maildir", "smtp"}:
            raise SettingsError("MAIL_BACKEND must be 'maildir' or 'smtp'")
        if self.backend_service_token is not None and len(self.backend_service_token) < MIN_SERVICE_TOKEN_LENGTH:
            raise SettingsError(f"BACKEND_SERVICE_TOKEN must have at least {MIN_SERVICE_TOKEN_LENGTH} characters")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise SettingsError(f"TRUSTED_PROXIES: '{proxy}' is not an IP address or network") from None
        _backend_of(self.database_url)
        if self.sql_pool_size < 1 or self.sql_max_overflow < 0 or self.sql_pool_timeout_s <= 0:
            raise SettingsError("SQL_POOL_SIZE must be at least 1, SQL_MAX_OVERFLOW at least 0, SQL_POOL_TIMEOUT_S > 0")

    @property
    def seeds_demo_data(self) -> bool:
        """Whether `python -m backend.seed` adds the demo personas and agent."""
        return self.operator_profile == "demo" if self.demo_data is None else self.demo_data

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        var_dir = Path(env.get("VAR_DIR") or REPO_DIR / "var")
        host = env.get("BACKEND_HOST", "127.0.0.1")
        port = int(env.get("BACKEND_PORT", "8080"))
        return cls(
            database_url=env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'backend.db'}",
            var_dir=var_dir,
            backend_host=host,
            backend_port=port,
            mail_backend=env.get("MAIL_BACKEND", "maildir").lower(),
            mail_from=env.get("MAIL_FROM", cls.mail_from),
            smtp_host=env.get("SMTP_HOST", "localhost"),
            smtp_port=int(env.get("SMTP_PORT", "25")),
            smtp_user=env.get("SMTP_USER") or None,
            smtp_password=env.get("SMTP_PASSWORD") or None,
            smtp_starttls=_flag(env.get("SMTP_STARTTLS", "")),
            bcrypt_rounds=int(env.get("BCRYPT_ROUNDS", str(MIN_BCRYPT_ROUNDS))),
            operator_profile=env.get("OPERATOR_PROFILE", "demo"),
            public_backend_url=env.get("PUBLIC_BACKEND_URL") or f"http://{host}:{port}",
            verified_session_minutes=int(env.get("VERIFIED_SESSION_MINUTES", "15")),
            rasa_url=(env.get("RASA_URL") or cls.rasa_url).rstrip("/"),
            rasa_token=env.get("RASA_TOKEN") or None,
            backend_service_token=env.get("BACKEND_SERVICE_TOKEN") or None,
            trusted_proxies=tuple(item.strip() for item in env.get("TRUSTED_PROXIES", "").split(",") if item.strip()),
            demo_data=_flag(env["DEMO_DATA"]) if env.get("DEMO_DATA", "").strip() else None,
            sql_pool_size=int(env.get("SQL_POOL_SIZE") or cls.sql_pool_size),
            sql_max_overflow=int(env.get("SQL_MAX_OVERFLOW") or cls.sql_max_overflow),
            sql_pool_timeout_s=float(env.get("SQL_POOL_TIMEOUT_S") or cls.sql_pool_timeout_s),
            sql_pool_recycle_s=int(env.get("SQL_POOL_RECYCLE_S") or cls.sql_pool_recycle_s),
            **({"data_hmac_secret": env["DATA_HMAC_SECRET"].encode()} if env.get("DATA_HMAC_SECRET") else {}),
            **({"link_signing_secret": env["LINK_SIGNING_SECRET"].encode()} if env.get("LINK_SIGNING_SECRET") else {}),
        )

    @property
    def async_database_url(self) -> str:
        return _with_driver(self.database_url, _ASYNC_DRIVERS)

    @property
    def sync_database_url(self) -> str:
        """For Alembic."""
        return _with_driver(self.database_url, _SYNC_DRIVERS)

    @property
    def is_sqlite(self) -> bool:
        return _backend_of(self.database_url) == "sqlite"

    @property
    def maildir(self) -> Path:
        return self.var_dir / "mail"
