"""Starts and stops the assistant's three processes: backend, action server, Rasa.

One place for this, used by `make run`, the integration tests and the benchmarks. Each
process runs in its own process group (so stopping it also stops its children), logs to its
own file, and counts as started only once it answers on its port. The tests keep a copy of the
database as seeded (snapshot_database) and put it back between test modules (restore_database),
restarting only the backend.

Once started, a Supervisor (on by default: Stack.supervise) restarts a process that exits
unexpectedly, after 1 s, 2 s, 4 s... (at most 30 s; back to 1 s once it stayed up a minute), and
says when one degrades or recovers (each process's health URL, every 5 s); events in pt-BR in
var/log/supervisor.log and on stderr. Stack.stop() stops the supervisor first, then every process;
a process stopped on purpose (Process.stop()) is never restarted. Health endpoints: backend
/api/health (its database), action server /health (the backend too), Rasa /health (model loaded
and action server healthy; bot/rasa_health.py).

Perimeter (docs/deploy.md): every process listens on 127.0.0.1 unless HOST says otherwise
(BACKEND_HOST still sets the backend's own); Rasa's HTTP API requires RASA_TOKEN (bot.rasa_server
reads it from the environment), the action server ACTION_SERVER_TOKEN (bot.action_server, sent by
Rasa in a header), and Rasa answers cross-origin browser calls only from WIDGET_ALLOWED_ORIGINS
(default: the backend's public origin, where the widget page is, and Rasa's own). The files
written under var/ hold `${VAR}` references instead of secrets, and are private (0600) anyway.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

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


LOCK_STORE_TYPE = "bot.lock_store.AtomicRedisLockStore"
DEFAULT_LOCK_LIFETIME_S = 20.0


def lock_store_config(env: dict[str, str] | None = None) -> dict | None:
    """bot.lock_store.AtomicRedisLockStore when LOCK_STORE_URL is set (needed with several Rasa
    instances): redis://[user:password@]host[:port][/db], rediss:// for TLS; LOCK_STORE_KEY_PREFIX
    (default "assistente") keeps installations sharing a Redis apart. A ticket lives
    LOCK_STORE_LIFETIME seconds (default 20: above the slowest turn, bot.turn_recovery's 12 s budget
    plus the NLU, and below HAProxy's 30 s and Twilio's 15 s + retry), so a Rasa instance killed
    mid-turn holds its conversation up for 20 s at most, not Rasa's 60."""
    env = os.environ if env is None else env
    url = env.get("LOCK_STORE_URL")
    if not url:
        return None
    parts = urlsplit(url)
    config = {
        "type": LOCK_STORE_TYPE,
        "url": parts.hostname,  # Rasa's name for the host
        "port": parts.port or 6379,
        "db": int(parts.path.lstrip("/") or 0),
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "use_ssl": True if parts.scheme == "rediss" else None,
        "key_prefix": env.get("LOCK_STORE_KEY_PREFIX") or "assistente",
        "lock_lifetime": float(env.get("LOCK_STORE_LIFETIME") or DEFAULT_LOCK_LIFETIME_S),
    }
    return {key: value for key, value in config.items() if value is not None}


def event_broker_config(env: dict[str, str] | None = None) -> dict | None:
    """Rasa's pika event broker when EVENT_BROKER_URL is set (amqp://user:password@host:5672/vhost):
    the masked events of every stored turn go to the durable queue EVENT_QUEUE (default rasa_events),
    which python -m backend.analytics_consumer reads. The password goes as written in the URL (Rasa
    puts it back into an amqp:// URL unquoted); EVENT_EXCHANGE names the fanout exchange."""
    env = os.environ if env is None else env
    url = env.get("EVENT_BROKER_URL")
    if not url:
        return None
    parts = urlsplit(url)
    port = parts.port or (5671 if parts.scheme == "amqps" else 5672)
    config: dict = {
        "type": "pika",
        "url": urlunsplit((parts.scheme, f"{parts.hostname}:{port}", parts.path or "/", parts.query, "")),
        "port": port,
        "username": parts.username or "guest",
        "password": parts.password or "guest",
        "queues": [env.get("EVENT_QUEUE") or "rasa_events"],
    }
    if env.get("EVENT_EXCHANGE"):
        config["exchange_name"] = env["EVENT_EXCHANGE"]
    return config


# endpoints.yml section -> the environment variable that carries its password to Rasa
PASSWORD_VARS = {
    "tracker_store": "TRACKER_STORE_PASSWORD",
    "lock_store": "LOCK_STORE_PASSWORD",
    "event_broker": "EVENT_BROKER_PASSWORD",
}


def _store_configs(var_dir: Path, env: dict[str, str] | None = None) -> dict[str, dict]:
    return {
        "tracker_store": tracker_store_config(var_dir, env),
        "lock_store": lock_store_config(env) or {},
        "event_broker": event_broker_config(env) or {},
    }


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


# how the supervisor's messages name each process (pt-BR: make run prints them)
LABELS = {"backend": "backend", "actions": "servidor de ações", "rasa": "Rasa"}
HEALTH_TIMEOUT_S = 3.0  # above the ~2 s the action server and Rasa give the neighbour they ask
NOT_ANSWERING = "não responde"
# what a 503 body says, in words: (field, value, reason)
DEGRADED_FIELDS = (
    ("model", "not_loaded", "modelo não carregado"),
    ("action_server", "unavailable", "servidor de ações inacessível"),
    ("backend", "unavailable", "backend inacessível"),
)


def http_get(url: str, timeout_s: float) -> tuple[int | None, Any]:
    """GET `url`: (status, the JSON body or None); (None, None) when nothing answered in time."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    except (OSError, http.client.HTTPException):  # refused, reset, timed out, garbled
        return None, None
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


@dataclass(frozen=True)
class Health:
    ok: bool
    reason: str = ""  # why not, in pt-BR ("backend inacessível", "não responde")


def health_reason(status: int | None, body: Any) -> str:
    """Why a health endpoint did not say ok, in words, from its answer."""
    if status is None:
        return NOT_ANSWERING
    reasons = []
    if isinstance(body, dict):
        reasons = [reason for key, value, reason in DEGRADED_FIELDS if body.get(key) == value]
        error = body.get("error")
        if isinstance(error, dict) and error.get("code") == "database_unavailable":  # backend/api/health.py
            reasons.append("banco de dados inacessível")
    return ", ".join(reasons) or f"HTTP {status}"


@dataclass
class Process:
    """One of the stack's processes. `ready_url` must answer 200 for it to count as started
    (default: `health_url`); `health_url` says, at any time, whether it can do its job (200) or
    is degraded (503, with the reason in the body). A health URL that answers 404 is not there (yet):
    the process's health is then its readiness answer."""

    name: str
    argv: list[str]
    health_url: str
    log_path: Path
    env: dict[str, str]
    popen: subprocess.Popen | None = None
    ready_url: str | None = None
    # whether the process should be running: start() sets it, stop() clears it; the supervisor
    # restarts only a process that exited while it was set
    wanted: bool = field(default=False, init=False)
    started_at: float | None = field(default=None, init=False)  # time.monotonic() of the last start()
    lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False, compare=False)

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name)

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> None:
        with self.lock:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "ab") as log:
                self.popen = subprocess.Popen(
                    self.argv,
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            self.wanted = True
            self.started_at = time.monotonic()

    def answers(self) -> bool:
        """Ready: its ready URL answers 200 (a process without one, e.g. a queue consumer: running)."""
        url = self.ready_url or self.health_url
        return http_get(url, 2)[0] == 200 if url else self.running

    def health(self, timeout_s: float = HEALTH_TIMEOUT_S) -> Health:
        if not self.health_url:
            return Health(True)  # nothing to ask: the supervisor watches only that it runs
        status, body = http_get(self.health_url, timeout_s)
        if status == 404 and self.ready_url and self.ready_url != self.health_url:
            status, body = http_get(self.ready_url, timeout_s)  # no health endpoint (yet)
        return Health(True) if status == 200 else Health(False, health_reason(status, body))

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen and self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}; see {self.log_path}")
            if self.answers():
                return
            time.sleep(0.3)
        url = self.ready_url or self.health_url
        raise TimeoutError(f"{self.name} did not answer {url} in {timeout_s:.0f}s; see {self.log_path}")

    def stop(self, grace_s: float = 10) -> None:
        with self.lock:  # from here on the supervisor leaves it alone
            self.wanted = False
            popen = self.popen
        if not popen or popen.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5)):
            try:
                os.killpg(popen.pid, sig)
            except ProcessLookupError:
                return
            try:
                popen.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue


# --- supervision ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """How long the supervisor waits before restarting a process that exited: first_s, then twice as
    long after each exit, at most cap_s; back to first_s once the process stayed up stable_s."""

    first_s: float = 1.0
    cap_s: float = 30.0
    stable_s: float = 60.0

    def delay(self, attempt: int) -> float:
        """The wait before restart number `attempt` (1, 2, ...) of a row of quick exits."""
        return min(self.cap_s, self.first_s * 2 ** max(0, attempt - 1))


@dataclass(frozen=True)
class SupervisorEvent:
    kind: str  # exited, restarted, restart_failed, degraded, recovered
    process: str  # Process.name
    message: str  # the pt-BR line that was logged
    attempt: int = 0  # the restart it is about (exited, restarted, restart_failed)
    delay_s: float | None = None  # the wait before that restart (exited, restart_failed)
    returncode: int | None = None  # exited: the exit code, or -signal
    pid: int | None = None  # exited: the one that exited; restarted: the new one


@dataclass
class _Watch:
    """What the supervisor knows about one process."""

    attempt: int = 0  # restarts in the current row of quick exits
    dead: subprocess.Popen | None = None  # the exited Popen waiting for its restart
    restart_at: float | None = None
    health: str = "ok"  # ok, degraded, down (exited unexpectedly, not answering again yet)
    reason: str = ""
    answered: subprocess.Popen | None = None  # the Popen that answered its health URL last
    silent_polls: int = 0  # health polls in a row that got no answer at all


def _how_it_ended(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"sinal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"sinal {-returncode}"
    return f"código de saída {returncode}"


def _seconds(value: float) -> str:
    """A duration as make run prints it: 0.5 s, 4 s, 35 min, 2 h 05 min."""
    if value >= 3600:
        return f"{int(value // 3600)} h {int(value % 3600 // 60):02d} min"
    if value >= 120:
        return f"{value // 60:.0f} min"
    return f"{value:.0f} s" if value >= 10 or value == int(value) else f"{value:.1f} s"


class Supervisor:
    """Keeps the processes running: restarts one that exited unexpectedly, after a growing delay
    (Backoff), and says when one degrades or recovers (its health URL, every health_every_s), once
    per change; a process that does not answer at all counts as degraded after silent_polls polls
    in a row (a 503 counts at once). A process stopped on purpose (Process.stop(), e.g. by Stack.stop() or a test) is
    never restarted, and nothing is restarted once stop() began.

    Two daemon threads: one waits for exits (Popen.poll() every poll_s) and restarts; one polls the
    health URLs. Every event goes, in pt-BR with the time, to `log_path` (var/log/supervisor.log)
    and, with echo, to stderr (what make run shows); `events` keeps them, and wait_for() lets a
    caller wait for one."""

    def __init__(
        self,
        processes: list[Process],
        log_path: Path,
        *,
        echo: bool = True,
        backoff: Backoff | None = None,
        poll_s: float = 0.5,
        health_every_s: float = 5.0,
        health_timeout_s: float = HEALTH_TIMEOUT_S,
        silent_polls: int = 2,
    ) -> None:
        self.processes = list(processes)
        self.log_path = log_path
        self.echo = echo
        self.backoff = backoff or Backoff()
        self.poll_s = poll_s
        self.health_every_s = health_every_s
        self.health_timeout_s = health_timeout_s
        self.silent_polls = silent_polls  # polls in a row without an answer before "não responde" is said
        self.events: list[SupervisorEvent] = []
        self._watches = {id(process): _Watch(answered=process.popen) for process in self.processes}
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._threads: list[threading.Thread] = []

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def start(self) -> Supervisor:
        self._log(
            "supervisão: vigiando "
            + ", ".join(f"{p.label} (pid {p.popen.pid if p.popen else '-'})" for p in self.processes),
            echo=False,
        )
        for target, name in ((self._restart_loop, "supervisor"), (self._health_loop, "supervisor-health")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout_s: float = HEALTH_TIMEOUT_S + 2) -> None:
        """No restart from now on (a restart under way finishes first: Process.stop() waits for it)."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._log("supervisão: parando; nenhum processo será reiniciado", echo=False)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout_s)

    def state_of(self, name: str) -> str:
        """What the supervisor last said about the process `name`: ok, degraded or down (exited, and
        not answering again yet)."""
        process = next(process for process in self.processes if process.name == name)
        return self._watches[id(process)].health

    def wait_for(self, predicate: Callable[[list[SupervisorEvent]], Any], timeout_s: float) -> Any:
        """Waits until predicate(events) is true (returned), or raises TimeoutError."""
        with self._changed:
            result = self._changed.wait_for(lambda: predicate(list(self.events)), timeout_s)
        if not result:
            raise TimeoutError(f"no such supervisor event in {timeout_s:.0f} s; events: {self.events}")
        return result

    def _guarded(self, check: Callable[..., None], process: Process, *args: Any) -> None:
        """A bug in one check must not end the supervision: it is logged and the loop goes on."""
        try:
            check(process, *args)
        except Exception as exc:  # noqa: BLE001 - logged to supervisor.log and stderr
            self._log(f"supervisão: erro ao vigiar {process.label}: {exc!r}")

    # --- exits and restarts

    def _restart_loop(self) -> None:
        while not self._stopping.is_set():
            for process in self.processes:
                self._guarded(self._check, process, time.monotonic())
            pending = [w.restart_at for w in self._watches.values() if w.restart_at is not None]
            wait = self.poll_s
            if pending:
                wait = max(0.0, min(wait, min(pending) - time.monotonic()))
            self._stopping.wait(wait)

    def _check(self, process: Process, now: float) -> None:
        watch = self._watches[id(process)]
        with process.lock:
            popen = process.popen
            if self._stopping.is_set() or not process.wanted or popen is None:
                watch.dead = watch.restart_at = None  # stopped on purpose: not ours to restart
                return
            returncode = popen.poll()
            if returncode is None:
                return
            if watch.dead is not popen:  # it just exited
                uptime = now - (process.started_at or now)
                if uptime >= self.backoff.stable_s:
                    watch.attempt = 0
                watch.attempt += 1
                delay = self.backoff.delay(watch.attempt)
                watch.dead, watch.restart_at = popen, now + delay
                watch.health, watch.reason = "down", ""
                self._emit(
                    SupervisorEvent(
                        "exited",
                        process.name,
                        f"{process.label}: encerrou inesperadamente ({_how_it_ended(returncode)}) "
                        f"após {_seconds(uptime)} no ar; reinício n.º {watch.attempt} em {_seconds(delay)}",
                        attempt=watch.attempt,
                        delay_s=delay,
                        returncode=returncode,
                        pid=popen.pid,
                    )
                )
                return
            if watch.restart_at is None or now < watch.restart_at:
                return
            with contextlib.suppress(OSError):  # a mark in the process's own log, where its new run begins
                with open(process.log_path, "a", encoding="utf-8") as log:
                    log.write(f"\n--- supervisão: reinício n.º {watch.attempt} ({_how_it_ended(returncode)}) ---\n")
            try:
                process.start()
            except OSError as exc:
                watch.attempt += 1
                delay = self.backoff.delay(watch.attempt)
                watch.restart_at = now + delay
                self._emit(
                    SupervisorEvent(
                        "restart_failed",
                        process.name,
                        f"{process.label}: não foi possível reiniciar ({exc}); "
                        f"nova tentativa (n.º {watch.attempt}) em {_seconds(delay)}",
                        attempt=watch.attempt,
                        delay_s=delay,
                    )
                )
                return
            watch.dead = watch.restart_at = None
            pid = process.popen.pid if process.popen else None
            self._emit(
                SupervisorEvent(
                    "restarted",
                    process.name,
                    f"{process.label}: reiniciado (tentativa {watch.attempt}, pid {pid}); aguardando responder",
                    attempt=watch.attempt,
                    pid=pid,
                )
            )

    # --- health

    def _health_loop(self) -> None:
        while not self._stopping.wait(self.health_every_s):
            for process in self.processes:
                if self._stopping.is_set():
                    return
                self._guarded(self._check_health, process)

    def _check_health(self, process: Process) -> None:
        popen = process.popen
        if not process.wanted or popen is None or popen.poll() is not None:
            return  # stopped on purpose, or exited: the restart loop's business
        health = process.health(self.health_timeout_s)
        watch = self._watches[id(process)]
        with process.lock:
            if self._stopping.is_set() or process.popen is not popen:
                return  # restarted or stopped meanwhile: this answer is about the old one
            if not health.ok and health.reason == NOT_ANSWERING:
                if watch.answered is not popen:
                    return  # (re)started and not listening yet
                watch.silent_polls += 1
                if watch.silent_polls < self.silent_polls:
                    return  # one slow answer on a busy machine is no news yet
            else:
                watch.silent_polls = 0
            watch.answered = popen
            state = "ok" if health.ok else "degraded"
            if (state, health.reason) == (watch.health, watch.reason):
                return
            watch.health, watch.reason = state, health.reason
            if health.ok:
                self._emit(SupervisorEvent("recovered", process.name, f"{process.label}: normal de novo"))
            else:
                self._emit(SupervisorEvent("degraded", process.name, f"{process.label}: degradado ({health.reason})"))

    # --- the log

    def _emit(self, event: SupervisorEvent) -> None:
        self._log(event.message)
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def _log(self, message: str, echo: bool | None = None) -> None:
        stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(f"{stamp} {message}\n")
        except OSError as exc:
            message += f" (sem registro em {self.log_path}: {exc})"
        if self.echo if echo is None else echo:
            with contextlib.suppress(ValueError, OSError):  # stderr closed (a test's captured stream)
                print(f"[{stamp[11:19]}] {message}", file=sys.stderr, flush=True)


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
    # restart a process that exits unexpectedly and report degradations (Supervisor), once started
    supervise: bool = True
    supervisor_echo: bool = True  # the supervisor's events on stderr too (make run shows them)
    backoff: Backoff = field(default_factory=Backoff)
    # Rasa's health endpoint (bot/rasa_health.py, installed by bot/rasa_server.py); while a Rasa
    # without it answers 404 there, its health is its `/` (Process.health)
    rasa_health_path: str = "/health"
    supervisor: Supervisor | None = field(default=None, repr=False)
    # settings that win over the stack's own (scripts/cluster.py: the action servers reach the
    # backends, and the backends Rasa, through the load balancer)
    overrides: dict[str, str] = field(default_factory=dict)

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
        env.update(self.overrides)
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
        """Stops the backend (if it runs) for the block and starts it again afterwards, and waits
        until the others say they are healthy again (the action server's /health keeps a "backend
        unavailable" for ~2 s)."""
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
                self.wait_healthy(timeout_s)

    def wait_healthy(self, timeout_s: float) -> None:
        """Waits until every running process answers its health URL with 200 (Process.health)."""
        deadline = time.monotonic() + timeout_s
        for process in self.processes:
            while process.running and not process.health().ok:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{process.name} not healthy in {timeout_s:.0f}s: {process.health().reason}")
                time.sleep(0.3)

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
                f"{self.rasa_url}{self.rasa_health_path}",
                logs / "rasa.log",
                env,
                # started once it listens: Rasa loads the model before it opens its port
                ready_url=f"{self.rasa_url}/",
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
        if self.supervise:
            self.supervisor = Supervisor(
                self.processes, logs / "supervisor.log", echo=self.supervisor_echo, backoff=self.backoff
            ).start()

    def stop(self) -> None:
        """Stops every process; the supervisor first, so that nothing is restarted from here on."""
        if self.supervisor is not None:
            self.supervisor.stop()
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
