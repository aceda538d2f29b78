"""`make cluster`: the assistant as production runs it, on this machine.

    HAProxy 127.0.0.1:8000 ─┬─ /webhooks/*  round robin ─────────► Rasa 1, Rasa 2
                            ├─ /socket.io   client address (consistent hashing) ► Rasa 1, Rasa 2
                            └─ /api /conta /documentos /atendente /widget / ──► backend 1, backend 2
    HAProxy 127.0.0.1:8001 (loopback, for the backends) ─ Rasa's HTTP API ──► Rasa 1, Rasa 2
    Rasa i ─► action server i ─► backends through HAProxy :8000
    analytics consumer: RabbitMQ (Rasa's events) ─► PostgreSQL

Shared state in the machine's engines: PostgreSQL (the backend's data, Rasa's conversations),
Redis (the atomic lock store, the raw trackers of active conversations, the channels' state and
socket.io between instances), RabbitMQ (WhatsApp and Telegram updates on durable queues before the
webhook answers; Rasa's conversation events for analytics). Their URLs come
from CLUSTER_DATABASE_URL, CLUSTER_REDIS_URL and CLUSTER_AMQP_URL, the machine's defaults otherwise;
the database is created when missing, migrated and seeded with the demo data. The secrets are
generated once under var/cluster/secrets/ (or taken from the environment) and every process gets
the same ones. Each process runs under the supervisor of scripts/stack.py (restarted when it dies);
Ctrl-C stops everything. HAProxy comes from the Debian package (`make cluster` installs it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from common.local_secrets import ensure_all
from scripts.stack import ROOT, Process, Stack, Supervisor, latest_model, write_private

TEMPLATE = ROOT / "deploy" / "haproxy.cfg.template"
DEFAULTS = {
    "CLUSTER_DATABASE_URL": "postgresql://root@127.0.0.1:5432/assistente_cluster",
    "CLUSTER_REDIS_URL": "redis://127.0.0.1:6379/0",
    "CLUSTER_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/",
}


# WhatsApp (Twilio) and Telegram settings every Rasa instance needs alike
CHANNEL_SETTINGS = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_WHATSAPP_NUMBER",
    "TWILIO_API_BASE_URL",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
)


@dataclass
class Cluster:
    """`nodes` × (backend, action server, Rasa) behind HAProxy, plus the analytics consumer."""

    var_dir: Path = ROOT / "var" / "cluster"
    public_port: int = 8000
    internal_port: int = 8001
    nodes: int = 2
    first_ports: dict[str, int] = field(default_factory=lambda: {"backend": 8081, "actions": 5056, "rasa": 5006})
    prefix: str = "assistente"  # keys in Redis, the event queue: installations sharing the engines differ
    model: Path | None = None
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    stacks: list[Stack] = field(default_factory=list)
    extras: list[Process] = field(default_factory=list)
    supervisor: Supervisor | None = None

    def setting(self, name: str) -> str:
        return self.env.get(name) or DEFAULTS[name]

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"

    @property
    def internal_url(self) -> str:
        return f"http://127.0.0.1:{self.internal_port}"

    def shared_env(self) -> dict[str, str]:
        """What every process of every node gets (secrets included: never print it)."""
        redis_url, amqp_url = self.setting("CLUSTER_REDIS_URL"), self.setting("CLUSTER_AMQP_URL")
        shared = {
            "DATABASE_URL": self.setting("CLUSTER_DATABASE_URL"),
            "RASA_TRACKER_URL": "",  # Rasa's conversations in the same PostgreSQL database
            "LOCK_STORE_URL": redis_url,
            "LOCK_STORE_KEY_PREFIX": self.prefix,
            "TRACKER_CACHE_URL": redis_url,
            "TRACKER_CACHE_PREFIX": f"{self.prefix}:",
            "CHANNEL_REDIS_URL": redis_url,
            "CHANNEL_STATE_PREFIX": f"{self.prefix}:",
            "EVENT_BROKER_URL": amqp_url,
            "EVENT_QUEUE": f"{self.prefix}.events",
            "EVENT_EXCHANGE": f"{self.prefix}.events",
            # WhatsApp and Telegram: the webhook answers once RabbitMQ holds the update (channels/inbound_queue.py)
            "INBOUND_AMQP_URL": amqp_url,
            "INBOUND_QUEUE_PREFIX": f"{self.prefix}.inbound",
            "PUBLIC_BACKEND_URL": self.env.get("PUBLIC_BACKEND_URL") or self.public_url,
            "PUBLIC_RASA_URL": self.env.get("PUBLIC_RASA_URL") or self.public_url,
            "WIDGET_ALLOWED_ORIGINS": self.env.get("WIDGET_ALLOWED_ORIGINS") or self.public_url,
            "DEMO_DATA": self.env.get("DEMO_DATA", "1"),
            # the backends believe HAProxy's X-Forwarded-For (rate limits per client, not per proxy)
            "TRUSTED_PROXIES": self.env.get("TRUSTED_PROXIES") or "127.0.0.1/32",
            # the URL Twilio and Telegram call is HAProxy's: the webhook signatures are checked against it
            "PUBLIC_BASE_URL": self.env.get("PUBLIC_BASE_URL") or self.public_url,
        }
        # the channels' settings (docs/channels.md) as given to the cluster, even when not in os.environ
        shared.update({name: self.env[name] for name in CHANNEL_SETTINGS if self.env.get(name)})
        # one set of secrets for the whole cluster (the environment's, else generated once here)
        shared.update(ensure_all(self.var_dir, {**self.env, **shared}))
        return shared

    def build(self) -> None:
        shared = self.shared_env()
        model = self.model or latest_model()
        self.stacks = [
            Stack(
                var_dir=self.var_dir / f"node{index + 1}",
                backend_port=self.first_ports["backend"] + index,
                actions_port=self.first_ports["actions"] + index,
                rasa_port=self.first_ports["rasa"] + index,
                model=model,
                extra_env={**shared, "VAR_DIR": str(self.var_dir / f"node{index + 1}")},
                # the action servers reach the backends, the backends Rasa, through HAProxy
                overrides={"BACKEND_URL": self.public_url, "RASA_URL": self.internal_url},
                supervise=False,  # one supervisor for the whole cluster (start())
            )
            for index in range(self.nodes)
        ]

    def haproxy_config(self) -> str:
        def servers(kind: str, port_of, suffix: str = "", options: str = "check") -> str:
            return "\n".join(
                f"    server {kind}{index + 1}{suffix} 127.0.0.1:{port_of(stack)} {options}"
                for index, stack in enumerate(self.stacks)
            )

        return Template(TEMPLATE.read_text()).substitute(
            PUBLIC_BIND=f"127.0.0.1:{self.public_port}",
            INTERNAL_BIND=f"127.0.0.1:{self.internal_port}",
            ADMIN_SOCKET=str(self.var_dir / "haproxy.sock"),
            RASA_SERVERS=servers("rasa", lambda stack: stack.rasa_port),
            # the same servers again, unchecked: used only while every checked one is DOWN (the template says why)
            RASA_LAST_RESORT=servers("rasa", lambda stack: stack.rasa_port, "-last", "backup"),
            BACKEND_SERVERS=servers("backend", lambda stack: stack.backend_port),
        )

    def start(self, timeout_s: float = 240) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        haproxy = ensure_haproxy()
        self.build()
        ensure_database(self.stacks[0].environment()["DATABASE_URL"])
        self.stacks[0].prepare_database()
        config = write_private(self.var_dir / "haproxy.cfg", self.haproxy_config())
        env = self.stacks[0].environment()
        logs = self.var_dir / "log"
        self.extras = [
            Process(
                "haproxy",
                [haproxy, "-f", str(config), "-db"],
                f"{self.public_url}/api/health",
                logs / "haproxy.log",
                env,
                ready_url=f"{self.internal_url}/haproxy-ping",
            ),
            # the backend's consumer of Rasa's events: no HTTP, watched as a running process
            Process("analytics", [sys.executable, "-m", "backend.analytics_consumer"], "", logs / "analytics.log", env),
        ]
        try:
            # HAProxy first: the action servers reach the backends through it (and count as started
            # only once they do); then one node after the other (two models loading at once thrash
            # two cores); the consumer once the database is migrated
            self.extras[0].start()
            self.extras[0].wait_ready(timeout_s)
            for stack in self.stacks:
                stack.start(timeout_s)
            for process in self.extras[1:]:
                process.start()
            for process in self.extras:
                process.wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        processes = [process for stack in self.stacks for process in stack.processes] + self.extras
        self.supervisor = Supervisor(processes, logs / "supervisor.log", echo=True).start()

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
        for process in reversed(self.extras):
            process.stop()
        for stack in reversed(self.stacks):
            stack.stop()


def haproxy_command(socket_path: Path, command: str, timeout_s: float = 5) -> str:
    """One command on HAProxy's runtime API (its admin unix socket)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        sock.connect(str(socket_path))
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def ensure_haproxy() -> str:
    """The haproxy binary (Debian's package: `make cluster` installs it when missing)."""
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if not found:
        raise SystemExit(
            "HAProxy não encontrado: instale o pacote do Debian (make cluster faz isso: apt-get install haproxy)"
        )
    return found


def ensure_database(url: str) -> None:
    """Creates the PostgreSQL database of `url` when it does not exist (SQLite needs nothing)."""
    if not url.startswith("postgres"):
        return
    from scripts.stack import _pg_admin, _pg_database

    name = _pg_database(url)
    with _pg_admin(url) as admin:
        admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if admin.fetchone() is None:
            admin.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    cluster = Cluster()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(
        "Iniciando o cluster: HAProxy, 2 × (backend, servidor de ações, Rasa), consumidor de analytics...", flush=True
    )
    cluster.start()
    print(
        "\nCluster no ar (só em 127.0.0.1):\n"
        f"  entrada pública (HAProxy) ... {cluster.public_url}/  (widget de demonstração)\n"
        f"  REST ........................ {cluster.public_url}/webhooks/rest/webhook\n"
        f"  API do backend .............. {cluster.public_url}/api/health\n"
        f"  API do Rasa (interna) ....... {cluster.internal_url}/  (exige ?token=<RASA_TOKEN>)\n"
        + "".join(
            f"  nó {index + 1} ...................... backend :{s.backend_port}, ações :{s.actions_port}, "
            f"Rasa :{s.rasa_port}\n"
            for index, s in enumerate(cluster.stacks)
        )
        + f"  logs ........................ {cluster.var_dir}/log/ e {cluster.var_dir}/node*/log/\n"
        f"  segredos .................... {cluster.var_dir}/secrets/\n"
        "Ctrl-C para parar.",
        flush=True,
    )
    try:
        stop.wait()
    finally:
        print("\nParando o cluster...", flush=True)
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
