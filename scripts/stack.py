"""Starts and stops the assistant's three processes: backend, action server, Rasa.

One place for this, used by `make run`, the integration tests and the benchmarks. Each
process runs in its own process group (so stopping it also stops its children), logs to its
own file, and counts as started only once it answers on its port. The tests keep a copy of the
database as seeded (snapshot_database) and put it back between test modules (restore_database),
restarting only the backend.

Perimeter (docs/deploy.md): every process listens on 127.0.0.1 unless HOST says otherwise
(BACKEND_HOST still sets the backend's own); Rasa's HTTP API requires RASA_TOKEN (bot.rasa_server
reads it from the environment), the action server ACTION_SERVER_TOKEN (bot.action_server, sent by
Rasa in a header), and Rasa answers cross-origin browser calls only from WIDGET_ALLOWED_ORIGINS
(default: the backend's public origin, where the widget page is, and Rasa's own). The files
written under var/ hold `${VAR}` references instead of secrets, and are private (0600) anyway.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from common.local_secrets import ensure_all

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def latest_model(models_dir: Path = ROOT / "models") -> Path:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise FileNotFoundError(f"no trained model in {models_dir}: run `make model`")
    return models[-1]


TRACKER_STORE_TYPE = "bot.tracker_store.MaskingTrackerStore"


def tracker_store_config(var_dir: Path, env: dict[str, str] | None = None) -> dict:
    """Rasa's conversation store (bot.tracker_store.MaskingTrackerStore: Rasa's SQL store with
    personal data masked at rest, the active conversations kept raw in memory). SQLite next to the
    backend's by default; PostgreSQL when RASA_TRACKER_URL or a PostgreSQL DATABASE_URL is set
    (Rasa keeps its own `events` table). `env`: where to read those (default os.environ);
    backend.retention reads the same place to delete old conversations."""
    env = os.environ if env is None else env
    url = env.get("RASA_TRACKER_URL") or env.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        parts = urlsplit(url)
        config = {
            "type": TRACKER_STORE_TYPE,
            "dialect": "postgresql",
            "url": parts.hostname,  # Rasa's name for the host
            "port": parts.port or 5432,
            "db": parts.path.lstrip("/"),
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
        }
        return {key: value for key, value in config.items() if value is not None}
    return {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": str(var_dir / "rasa_tracker.db")}


def lock_store_config(env: dict[str, str] | None = None) -> dict | None:
    """A Redis lock store when LOCK_STORE_URL is set (needed with several Rasa instances)."""
    url = (os.environ if env is None else env).get("LOCK_STORE_URL")
    if not url:
        return None
    parts = urlsplit(url)
    return {
        "type": "redis",
        "url": parts.hostname,
        "port": parts.port or 6379,
        "db": int(parts.path.lstrip("/") or 0),
        "password": unquote(parts.password) if parts.password else None,
    }


# endpoints.yml section -> the environment variable that carries its password to Rasa
PASSWORD_VARS = {"tracker_store": "TRACKER_STORE_PASSWORD", "lock_store": "LOCK_STORE_PASSWORD"}


def _store_configs(var_dir: Path, env: dict[str, str] | None = None) -> dict[str, dict]:
    return {"tracker_store": tracker_store_config(var_dir, env), "lock_store": lock_store_config(env) or {}}


def endpoint_secrets(var_dir: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The tracker-store and lock-store passwords, by the environment variable that carries each
    to Rasa: endpoints.yml names the variable (`password: ${VAR}`) and Rasa substitutes it when it
    reads the file (rasa.shared.utils.io.replace_environment_variables). Taken from the same
    configs write_endpoints() writes, so both always agree."""
    return {
        PASSWORD_VARS[section]: str(config["password"])
        for section, config in _store_configs(var_dir, env).items()
        if config.get("password")
    }


def write_private(path: Path, text: str) -> Path:
    """Writes `text` to `path` with mode 0600 (the file never exists with a wider mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def write_endpoints(
    path: Path, action_port: int, var_dir: Path, action_host: str = "127.0.0.1", env: dict[str, str] | None = None
) -> Path:
    """Rasa's endpoints file. No secret in it: the action server's token goes in a header
    (never in a URL, so never in a log) and every secret is a `${VAR}` reference to Rasa's
    environment (the stack puts ACTION_SERVER_TOKEN and endpoint_secrets() there)."""
    endpoints = {
        "action_endpoint": {
            "url": f"http://{action_host}:{action_port}/webhook",
            "headers": {"Authorization": "Bearer ${ACTION_SERVER_TOKEN}"},
        },
    }
    for section, config in _store_configs(var_dir, env).items():
        if config.get("password"):
            endpoints[section] = {**config, "password": f"${{{PASSWORD_VARS[section]}}}"}
        elif config:
            endpoints[section] = config
    return write_private(path, yaml.safe_dump(endpoints, sort_keys=False))


# Input channels enabled only when all of their settings are in the environment (docs/channels.md).
# Rasa reads the values from its own environment (`${VAR}`), so no secret is written to disk.
CHANNELS = {
    "channels.whatsapp.WhatsAppInput": {
        "account_sid": "TWILIO_ACCOUNT_SID",
        "auth_token": "TWILIO_AUTH_TOKEN",
        "whatsapp_number": "TWILIO_WHATSAPP_NUMBER",
        "public_base_url": "PUBLIC_BASE_URL",
    },
    "channels.telegram.TelegramInput": {
        "token": "TELEGRAM_BOT_TOKEN",
        "webhook_secret": "TELEGRAM_WEBHOOK_SECRET",
    },
}
OPTIONAL_CHANNEL_SETTINGS = {"channels.telegram.TelegramInput": {"public_base_url": "PUBLIC_BASE_URL"}}


def channel_credentials(env: dict[str, str], template: Path = ROOT / "credentials.yml") -> tuple[dict, list[str]]:
    """The credentials Rasa gets: the template's channels (rest, socketio) always, WhatsApp and
    Telegram only when their settings are present. Returns (credentials, warnings)."""
    credentials = {
        name: section for name, section in (yaml.safe_load(template.read_text()) or {}).items() if name not in CHANNELS
    }
    warnings = []
    for name, settings in CHANNELS.items():
        present = {key: var for key, var in settings.items() if env.get(var)}
        if len(present) == len(settings):
            optional = {key: var for key, var in OPTIONAL_CHANNEL_SETTINGS.get(name, {}).items() if env.get(var)}
            credentials[name] = {key: f"${{{var}}}" for key, var in {**present, **optional}.items()}
        elif present:
            missing = ", ".join(var for key, var in settings.items() if key not in present)
            warnings.append(f"canal {name.split('.')[1]} desativado: falta {missing}")
    return credentials, warnings


def write_credentials(path: Path, env: dict[str, str]) -> Path:
    credentials, warnings = channel_credentials(env)
    for warning in warnings:
        print(warning, file=sys.stderr, flush=True)
    return write_private(path, yaml.safe_dump(credentials, sort_keys=False, allow_unicode=True))


def bind_host(env: dict[str, str]) -> str:
    """Where the processes listen: HOST, else loopback only."""
    return env.get("HOST") or "127.0.0.1"


def connect_host(bind: str) -> str:
    """How this machine reaches a process listening on `bind`."""
    if bind in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 - a wildcard bind is reached on loopback
        return "127.0.0.1"
    return f"[{bind}]" if ":" in bind and not bind.startswith("[") else bind


def origin(url: str) -> str:
    """scheme://host[:port] as a browser sends it in `Origin` (no default port, no path)."""
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def widget_origins(env: dict[str, str], rasa_url: str) -> list[str]:
    """Origins whose pages may call Rasa from a browser (Rasa's --cors: the widget's socket.io and
    file upload). WIDGET_ALLOWED_ORIGINS (comma or space separated) when set; else the backend's
    public origin, where the widget page is served, and Rasa's own public origin."""
    configured = [item for item in re.split(r"[\s,]+", env.get("WIDGET_ALLOWED_ORIGINS", "")) if item]
    if configured:
        return [item if item == "*" else origin(item) for item in configured]
    defaults = [env.get("PUBLIC_BACKEND_URL") or "", env.get("PUBLIC_RASA_URL") or rasa_url]
    return list(dict.fromkeys(origin(url) for url in defaults if url))


@dataclass
class Process:
    name: str
    argv: list[str]
    health_url: str
    log_path: Path
    env: dict[str, str]
    popen: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen and self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}; see {self.log_path}")
            if self.answers():
                return
            time.sleep(0.3)
        raise TimeoutError(f"{self.name} did not answer {self.health_url} in {timeout_s:.0f}s; see {self.log_path}")

    def stop(self, grace_s: float = 10) -> None:
        if not self.popen or self.popen.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.popen.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue


@dataclass
class Stack:
    """The three processes on the given ports, sharing one var/ directory."""

    var_dir: Path = ROOT / "var"
    backend_port: int = 8080
    actions_port: int = 5055
    rasa_port: int = 5005
    model: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)
    # the environment the processes were started with (start()); None before
    started_env: dict[str, str] | None = field(default=None, repr=False)
    # where snapshot_database() put the migrated and seeded database (a file or a database name)
    database_snapshot: str | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        """Where the action server and Rasa listen (HOST, default loopback only)."""
        return bind_host({**os.environ, **self.extra_env})

    @property
    def backend_host(self) -> str:
        settings = {**os.environ, **self.extra_env}
        return settings.get("BACKEND_HOST") or bind_host(settings)

    @property
    def backend_url(self) -> str:
        return f"http://{connect_host(self.backend_host)}:{self.backend_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{connect_host(self.host)}:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{connect_host(self.host)}:{self.actions_port}"

    def environment(self) -> dict[str, str]:
        """The environment every process gets (secrets included: never print it). Once started, the
        one the processes got, whatever happened to this process's environment since."""
        return dict(self.started_env) if self.started_env is not None else self._env()

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("VAR_DIR", str(self.var_dir))
        env.setdefault("DATABASE_URL", f"sqlite:///{self.var_dir / 'backend.db'}")
        env.update(self.extra_env)
        # secrets from the environment, or generated once under var/secrets/ (0600); every process
        # gets the same values (common.local_secrets)
        env.update(ensure_all(Path(env["VAR_DIR"]), env))
        # the passwords endpoints.yml refers to as ${VAR} (read from the same place as the file)
        env.update(endpoint_secrets(Path(env["VAR_DIR"]), env))
        env.update(
            BACKEND_URL=self.backend_url,
            BACKEND_PORT=str(self.backend_port),
            RASA_URL=self.rasa_url,  # the backend reaches the user's channel through Rasa's HTTP API (handoff)
            PYTHONUNBUFFERED="1",
            PYTHONWARNINGS="ignore",  # libraries' deprecation notices would bury the real log lines
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
        )
        env.setdefault("PUBLIC_BACKEND_URL", self.backend_url)
        return env

    def prepare_database(self) -> None:
        """Migrates and seeds the backend database (both idempotent)."""
        env = self._env()
        for module in ("backend.migrate", "backend.seed"):
            subprocess.run([sys.executable, "-m", module], cwd=ROOT, env=env, check=True)

    @property
    def database_url(self) -> str:
        """The backend's database (DATABASE_URL of the processes)."""
        return self.environment()["DATABASE_URL"]

    def process(self, name: str) -> Process:
        """The started process called `name` (backend, actions, rasa)."""
        return next(process for process in self.processes if process.name == name)

    def snapshot_database(self) -> str:
        """Keeps a copy of the backend database as it is now (call it right after prepare_database()):
        a file next to it on SQLite, a database `<name>_snapshot` created from it on PostgreSQL.
        restore_database() puts it back. Returns where the copy is."""
        with self._backend_stopped():
            url = self.database_url
            if url.startswith("postgres"):
                name = _pg_database(url)
                snapshot = f"{name}_snapshot"
                with _pg_admin(url) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{snapshot}"')
                    admin.execute(f'CREATE DATABASE "{snapshot}" TEMPLATE "{name}"')
            else:
                path = _sqlite_path(url)
                snapshot = str(path.with_name(f"{path.stem}.snapshot{path.suffix}"))
                _sqlite_copy(path, Path(snapshot))
        self.database_snapshot = snapshot
        return snapshot

    def restore_database(self, timeout_s: float = 120) -> None:
        """Puts back the database snapshot_database() kept: stops only the backend, restores the
        database (SQLite: copies the file back; PostgreSQL: drops the database and creates it again
        from the snapshot) and starts the backend again. Rasa and the action server keep running
        (they reach the backend only by HTTP)."""
        if self.database_snapshot is None:
            raise RuntimeError("no database snapshot: call snapshot_database() after prepare_database()")
        with self._backend_stopped(timeout_s):
            url = self.database_url
            if url.startswith("postgres"):
                name = _pg_database(url)
                with _pg_admin(url) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.database_snapshot}"')
            else:
                _sqlite_copy(Path(self.database_snapshot), _sqlite_path(url))

    def discard_database_snapshot(self) -> None:
        """Deletes the copy snapshot_database() made (a PostgreSQL database outlives the stack)."""
        snapshot, self.database_snapshot = self.database_snapshot, None
        if snapshot is None:
            return
        url = self.database_url
        if url.startswith("postgres"):
            with _pg_admin(url) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{snapshot}" WITH (FORCE)')
        else:
            Path(snapshot).unlink(missing_ok=True)

    @contextlib.contextmanager
    def _backend_stopped(self, timeout_s: float = 120):
        """Stops the backend (if it runs) for the block and starts it again afterwards."""
        backend = next((process for process in self.processes if process.name == "backend"), None)
        running = backend is not None and backend.popen is not None and backend.popen.poll() is None
        if running:
            backend.stop()
        try:
            yield
        finally:
            if running:
                backend.start()
                backend.wait_ready(timeout_s)

    def start(self, timeout_s: float = 180) -> None:
        env = self._env()
        self.started_env = env
        logs = self.var_dir / "log"
        model = self.model or latest_model()
        endpoints = write_endpoints(
            self.var_dir / "endpoints.yml",
            self.actions_port,
            self.var_dir,
            action_host=connect_host(self.host),
            env=env,
        )
        credentials = write_credentials(self.var_dir / "credentials.yml", env)
        self.processes = [
            Process(
                "backend",
                [sys.executable, "-m", "backend", "--host", self.backend_host, "--port", str(self.backend_port)],
                f"{self.backend_url}/api/health",
                logs / "backend.log",
                env,
            ),
            Process(
                "actions",
                # ACTION_SERVER_TOKEN comes from the environment, never from the command line
                [
                    sys.executable,
                    "-m",
                    "bot.action_server",
                    "--actions",
                    "bot.actions",
                    "--host",
                    self.host,
                    "--port",
                    str(self.actions_port),
                ],
                f"{self.actions_url}/health",
                logs / "actions.log",
                env,
            ),
            Process(
                "rasa",
                # RASA_TOKEN / RASA_JWT_SECRET: bot.rasa_server adds them from the environment
                [
                    sys.executable,
                    "-m",
                    "bot.rasa_server",
                    "run",
                    "--enable-api",
                    "--interface",
                    self.host,
                    "--port",
                    str(self.rasa_port),
                    "--cors",
                    *widget_origins(env, self.rasa_url),
                    "--model",
                    str(model),
                    "--endpoints",
                    str(endpoints),
                    "--credentials",
                    str(credentials),
                ],
                f"{self.rasa_url}/",
                logs / "rasa.log",
                env,
            ),
        ]
        try:
            for process in self.processes:
                process.start()
            for process in self.processes:
                process.wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _sqlite_path(url: str) -> Path:
    """The file of a sqlite:///... URL."""
    from sqlalchemy.engine import make_url

    return Path(make_url(url).database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copies an SQLite database with SQLite's backup API (consistent whatever the journal mode);
    the target's journal files go first, so nothing of its old content survives."""
    for suffix in ("-journal", "-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _pg_database(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).database


@contextlib.contextmanager
def _pg_admin(url: str, maintenance_db: str = "postgres"):
    """A cursor (autocommit) on the server of `url`, connected to its maintenance database: a
    database cannot be dropped or copied from a connection to itself."""
    import psycopg2
    from sqlalchemy.engine import make_url

    parts = make_url(url)
    connection = psycopg2.connect(
        host=parts.host, port=parts.port or 5432, user=parts.username, password=parts.password, dbname=maintenance_db
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()
