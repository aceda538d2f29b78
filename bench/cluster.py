"""`make bench-cluster`: the production topology of `make cluster` under 200 concurrent conversations.

    python -m bench.cluster [--users 200] [--duration 90] [--phases 2,1,faults] [--out docs/benchmarks.md]

Starts its own cluster (scripts.cluster.Cluster: HAProxy on 127.0.0.1:8100 in front of 2 × (backend,
action server, Rasa), internal port 8101, nodes on 8181-8182 / 5156-5157 / 5106-5107, so it never
meets `make run` or `make cluster`), on its own PostgreSQL database (assistente_bench, dropped and
created again at every run so runs are comparable), Redis keys and RabbitMQ queue (prefix "bench"),
with WhatsApp answered by a fake Twilio on loopback (bench/fake_twilio.py). Everything listens on
127.0.0.1 only; every wait is bounded and the run stops by itself.

Each phase runs `--users` simulated users for `--duration` seconds: REST (POST
/webhooks/rest/webhook), the widget's socket.io (python-socketio, WebSocket transport, the signed
session handshake of channels/web/socketio_channel.py) and signed WhatsApp webhooks, all through
HAProxy; each user runs short scripted conversations back to back (information, accredited network,
the call centre then a human agent, and a minority with the identity check: the card, or a
reimbursement). Phases (`--phases`, default 2,1,checks,faults): `2` = both Rasa instances and `1` = one,
the other taken out of HAProxy's pools, both with HAProxy's health checks of Rasa paused (what the
instances can do); `checks` = both, with the checks as deploy/haproxy.cfg.template has them; `faults` =
as `checks`, with `kill -9` of one Rasa's and one backend's process group in the middle (the supervisor
restarts them). All through HAProxy's runtime API (its admin socket).

Measured and reported (printed, and written into docs/benchmarks.md between
<!-- bench:cluster:start --> and <!-- bench:cluster:end -->): messages sent and answered, duplicates
(a repeated reply within a turn; in the bench database: user messages Rasa stored against those sent,
WhatsApp message ids stored twice, handoff tickets, protocols and reimbursements more than once per
conversation), latency p50/p95, turns/s, the machine's CPU use, and the speed-up of 2 Rasa instances
over 1. No timing is asserted; the exit status is 1 only when the cluster could not be measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import itertools
import json
import os
import random
import re
import secrets
import shlex
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import psycopg2  # type: ignore[import-untyped]
import redis  # type: ignore[import-untyped]
from twilio.request_validator import RequestValidator

from bench.fake_twilio import FakeTwilio
from bench.load import percentile
from bench.run import machine, write_section
from scripts.cluster import Cluster, haproxy_command
from scripts.stack import ROOT, _pg_admin, _pg_database, free_port

MODEL = ROOT / "models" / "assistente.tar.gz"
VAR_DIR = ROOT / "var" / "bench" / "cluster"
DATABASE_URL = "postgresql://root@127.0.0.1:5432/assistente_bench"
PREFIX = "bench"  # Redis keys, the event queue
PUBLIC_PORT, INTERNAL_PORT = 8100, 8101
FIRST_PORTS = {"backend": 8181, "actions": 5156, "rasa": 5106}
SECTION_START, SECTION_END = "<!-- bench:cluster:start -->", "<!-- bench:cluster:end -->"

START_TIMEOUT_S = 600  # the cluster: two models loading one after the other on a shared machine
USERS, DURATION_S = 200, 90
RAMP_S = 5.0  # the users start over this long
CONNECT_TIMEOUT_S = 20  # a socket.io connection and its session handshake
ANSWER_TIMEOUT_S = 45  # the first bot message of a turn
QUIET_S = 1.5  # socket.io, WhatsApp: a turn's answer is over after this long without a new message
TURN_MAX_S = 75  # every wait of one turn together
REST_TIMEOUT_S = 60
RECONNECT_WAIT_S = 15  # socket.io: a user whose connection dropped waits this long for it to come back
DRAIN_S = 100  # after the load window: the turns in flight finish, at most this long
SETTLE_S = 5  # after the drain: late replies, Rasa's last writes
THINK_S = (0.5, 2.0)  # between a turn's answer and the next message
WEBHOOK_RETRIES_S = (1.0, 3.0)  # a WhatsApp webhook refused (5xx, no connection) is sent again, as Twilio would
RECOVERY_TIMEOUT_S = 300
FAULT_AT = {"rasa": 0.4, "backend": 0.5}  # fraction of the load window: kill -9 of node 1's Rasa, node 2's backend
RASA_POOLS = ("rasa_webhooks", "rasa_socketio", "rasa_api")  # deploy/haproxy.cfg.template
# the backend's limits (backend/rate_limits.py), per phase; the rate_limits table is emptied between phases
HANDOFF_QUOTA = 50  # HANDOFF_GLOBAL: 60 new tickets per 10 minutes
IDENTITY_QUOTA = 17  # IDENTITY_PER_LOGIN: 20 checks per card per 15 minutes

CHANNELS = ("rest", "socketio", "whatsapp")
# --phases: name -> (title, Rasa instances in HAProxy's pools, kill -9 faults, HAProxy's checks of Rasa on)
PHASES = {
    "2": ("2 Rasa, checks paused", 2, False, False),
    "1": ("1 Rasa, checks paused", 1, False, False),
    "checks": ("2 Rasa, checks on", 2, False, True),
    "faults": ("2 Rasa, checks on + faults", 2, True, True),
}
TWILIO_NUMBER = "+557930000000"
PROTOCOL_RE = re.compile(r"\b\d{20}\b")
RECEIPT = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# what a failed turn says (bot/turn_recovery.py, channels/whatsapp.py SORRY) and a rate limit (try_again_text)
APOLOGIES = (
    "tive um problema para consultar",
    "Ainda não consegui consultar",
    "O sistema continua fora do ar",
    "Não consegui chamar um atendente pelo chat agora",
    "tive um problema para responder agora",
)
RATE_LIMITED = "Tente de novo daqui a"


# --- what the users say ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    name: str
    card: str
    cpf: str
    birth: str


# the demo data's beneficiaries (backend/seed.py); Maria has dependants (the reimbursement asks whose)
MARIA = Persona("Maria", "100200300401", "945.807.302-24", "12/03/1985")
PERSONAS = (
    MARIA,
    Persona("José", "200300400501", "036.426.212-52", "14/08/1960"),
    Persona("Ana Beatriz", "300400500601", "997.220.033-72", "02/02/1992"),
)


@dataclass(frozen=True)
class Step:
    text: str
    attach: bool = False  # a receipt (PDF) goes with it, as the channel passes a file the user sent


# one conversation in 20 of each kind; "reembolso" only on REST (the receipt goes in the message's
# metadata), elsewhere "info"
CYCLE = (
    "info",
    "rede",
    "info",
    "carteirinha",
    "info",
    "atendente",
    "rede",
    "info",
    "reembolso",
    "info",
    "info",
    "rede",
    "carteirinha",
    "info",
    "atendente",
    "info",
    "rede",
    "info",
    "carteirinha",
    "atendente",
)
IDENTITY_KINDS = ("carteirinha", "reembolso")


def script(kind: str, persona: Persona | None, number: int) -> list[Step]:
    if kind == "info":
        return [Step("oi"), Step("qual o telefone da central"), Step("como funciona a telemedicina"), Step("obrigado")]
    if kind == "rede":
        return [Step("boa tarde"), Step("preciso de um cardiologista em Aracaju"), Step("qual o telefone da central")]
    if kind == "atendente":
        return [Step("oi"), Step("qual o telefone da central"), Step("quero falar com um atendente")]
    if persona is None:
        raise ValueError(f"{kind}: whose identity?")
    identity = [Step(persona.card), Step(persona.cpf), Step(persona.birth)]
    if kind == "carteirinha":
        return [Step("oi"), Step("quero ver minha carteirinha"), *identity, Step("qual é o meu plano?"), Step("tchau")]
    if kind == "reembolso":  # a different amount each time: a repeated request is not a new one
        amount = f"R$ {100 + number % 800},{number % 100:02d}"
        return [
            Step("quero pedir reembolso de uma consulta"),
            *identity,
            Step("eu"),
            Step("Clínica Bem Estar"),
            Step("11.222.333/0001-81"),
            Step("ontem"),
            Step("consulta com clínico geral"),
            Step(amount),
            Step("/enviar_documento", attach=True),
            Step("pronto"),
            Step("sim"),
        ]
    raise ValueError(kind)


# --- records -----------------------------------------------------------------------------------------


@dataclass
class Reply:
    sent_at: float
    messages: list[str] = field(default_factory=list)
    first_at: float | None = None
    error: str = ""
    message_id: str | None = None


@dataclass
class TurnRecord:
    channel: str
    kind: str
    started: float  # time.monotonic()
    latency: float | None = None  # to the first bot message (REST: the whole answer)
    answered_at: float | None = None
    messages: int = 0
    error: str = "no answer before the end of the drain"  # why it was not answered
    apology: bool = False
    rate_limited: bool = False
    repeated: bool = False  # the same reply twice within the turn
    message_id: str | None = None

    @property
    def answered(self) -> bool:
        return self.messages > 0


@dataclass
class Conversation:
    channel: str
    kind: str
    number: int
    persona: str = ""
    conversation_id: str | None = None  # the sender id Rasa stores
    sent: int = 0
    answered: int = 0
    message_ids: list[str] = field(default_factory=list)
    protocol: str | None = None  # the reimbursement's, when the user read it
    error: str = ""
    late: int = 0  # WhatsApp: replies that arrived after the conversation's last turn was over
    reconnects: int = 0


@dataclass
class Fault:
    what: str
    at: float  # seconds into the phase
    pid: int
    restarted_pid: int | None = None
    answering_after_s: float | None = None  # from the kill to answering again (its own port)


@dataclass
class DbCheck:
    conversations: int = 0
    processed_twice: int = 0  # a message stored right after the same message (the scripts never repeat one)
    processed_twice_conversations: int = 0
    stored_more: int = 0  # conversations with more user messages stored than sent
    stored_extra_messages: int = 0
    handled_unanswered: int = 0  # messages Rasa stored that the user got no answer to
    answered_unstored: int = 0  # messages answered that Rasa did not store
    message_ids_twice: int = 0  # WhatsApp MessageSids stored more than once
    handoff_tickets: int = 0
    handoff_more_than_one: int = 0
    protocols_more_than_one: int = 0  # (conversation, kind) with more than one protocol
    reimbursements: int = 0
    reimbursements_more_than_one: int = 0
    error: str = ""


@dataclass
class Phase:
    name: str
    rasa: int
    faults: bool
    users: int
    window_s: float
    turns: list[TurnRecord] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    connect_errors: Counter = field(default_factory=Counter)
    fault_log: list[Fault] = field(default_factory=list)
    supervisor: list[str] = field(default_factory=list)
    drain_s: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # role -> cores busy on average
    checks: bool = True  # HAProxy's health checks of the Rasa servers on (as configured) or paused
    haproxy: dict[str, dict[str, int]] = field(default_factory=dict)  # "pool/server" -> haproxy_stats() deltas
    db: DbCheck = field(default_factory=DbCheck)
    webhook_retries: int = 0
    errors: Counter = field(default_factory=Counter)  # logged_errors() of the phase
    handoffs: int = 0
    identities: Counter = field(default_factory=Counter)
    started_at: float = 0.0

    def pick(self, number: int, channel: str) -> tuple[str, Persona | None]:
        """The script of conversation `number`, within the quotas that keep rate limits out of the way."""
        kind = CYCLE[number % len(CYCLE)]
        if kind == "reembolso" and channel != "rest":
            kind = "info"
        persona = None
        if kind in IDENTITY_KINDS:
            persona = MARIA if kind == "reembolso" else PERSONAS[sum(self.identities.values()) % len(PERSONAS)]
            if self.identities[persona.name] >= IDENTITY_QUOTA:
                kind, persona = "info", None
            else:
                self.identities[persona.name] += 1
        if kind == "atendente":
            if self.handoffs >= HANDOFF_QUOTA:
                kind = "info"
            else:
                self.handoffs += 1
        return kind, persona


# --- the cluster -------------------------------------------------------------------------------------


def reset_state(database_url: str, redis_url: str) -> None:
    """A fresh start: the bench database dropped (Cluster.start creates, migrates and seeds it again),
    the bench's Redis keys deleted, last run's logs removed."""
    name = _pg_database(database_url)
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the benchmark drops only a database named *bench*")
    with _pg_admin(database_url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{PREFIX}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()
    for log in [VAR_DIR / "log", *VAR_DIR.glob("node*/log")]:
        shutil.rmtree(log, ignore_errors=True)


def clear_rate_limits(database_url: str) -> None:
    """Empties the bench database's rate_limits (each phase starts with the limits' windows empty)."""

    connection = psycopg2.connect(database_url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("DELETE FROM rate_limits")
    finally:
        connection.close()


def set_rasa_instances(cluster: Cluster, count: int) -> None:
    """Rasa instances 1..count in every Rasa pool of HAProxy, the others in maintenance."""
    for pool in RASA_POOLS:
        for index in range(1, len(cluster.stacks) + 1):
            state = "ready" if index <= count else "maint"
            answer = haproxy_command(cluster.var_dir / "haproxy.sock", f"set server {pool}/rasa{index} state {state}")
            if answer.strip():
                raise RuntimeError(f"haproxy: set server {pool}/rasa{index} state {state}: {answer.strip()}")


def haproxy_stats(cluster: Cluster) -> dict[str, dict[str, int]]:
    """Per Rasa server of every pool ("pool/server"), so far: requests (sessions where HAProxy counts no
    requests), times its health check marked it DOWN, seconds it spent DOWN."""
    lines = haproxy_command(cluster.var_dir / "haproxy.sock", "show stat").splitlines()
    if not lines or not lines[0].startswith("# "):
        return {}
    header = lines[0][2:].split(",")
    stats = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") in RASA_POOLS and row.get("svname", "").startswith("rasa"):
            stats[f"{row['pxname']}/{row['svname']}"] = {
                "requests": int(row.get("req_tot") or row.get("stot") or 0),
                "marked_down": int(row.get("chkdown") or 0),
                "down_s": int(row.get("downtime") or 0),
            }
    return stats


def set_rasa_checks(cluster: Cluster, enabled: bool) -> None:
    """HAProxy's health checks of the Rasa servers on or paused (`disable health`: a server whose checks
    are paused counts as UP, whatever a slow check would have said)."""
    verb = "enable" if enabled else "disable"
    for pool in RASA_POOLS:
        for index in range(1, len(cluster.stacks) + 1):
            answer = haproxy_command(cluster.var_dir / "haproxy.sock", f"{verb} health {pool}/rasa{index}")
            if answer.strip():
                raise RuntimeError(f"haproxy: {verb} health {pool}/rasa{index}: {answer.strip()}")


def rasa_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


# --- CPU ---------------------------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot (/proc/stat)."""
    with open("/proc/stat") as stat:
        values = [int(x) for x in stat.readline().split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass(frozen=True)
class Proc:
    pgid: int
    comm: str
    cpu_s: float  # user + system since it started


# the machine's engines, by process name (outside the cluster's own process groups)
SERVICES = {"PostgreSQL": "postgres", "RabbitMQ": "beam.smp", "Redis": "redis-server"}


def processes() -> dict[int, Proc]:
    """Every process of the machine (/proc/<pid>/stat)."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                head, tail = stat.read().rsplit(")", 1)
        except (OSError, ValueError):
            continue
        fields = tail.split()
        comm = head.split("(", 1)[1] if "(" in head else ""
        found[int(entry.name)] = Proc(int(fields[2]), comm, (int(fields[11]) + int(fields[12])) / TICK)
    return found


def roles(cluster: Cluster) -> dict[str, int]:
    """role -> process group id (each process of the cluster leads its own group)."""
    found = {}
    for index, stack in enumerate(cluster.stacks, start=1):
        for process in stack.processes:
            if process.popen is not None:
                found[f"{process.name}{index}"] = process.popen.pid
    for process in cluster.extras:
        if process.popen is not None:
            found[process.name] = process.popen.pid
    found["bench client"] = os.getpgid(0)
    return found


@dataclass
class CpuSample:
    at: float
    machine: tuple[int, int]
    procs: dict[int, Proc]
    roles: dict[str, int]


def cpu_sample(cluster: Cluster) -> CpuSample:
    return CpuSample(time.monotonic(), machine_ticks(), processes(), roles(cluster))


def cpu_use(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """Cores busy on average between two samples: the machine; each role of the cluster whose process kept
    running; PostgreSQL, RabbitMQ and Redis; and the rest of the machine (other processes, those that came
    and went between the samples included)."""
    wall = after.at - before.at
    busy = (after.machine[0] - before.machine[0]) / TICK
    use = {"machine": busy / wall}
    spent = {
        pid: proc.cpu_s - (before.procs[pid].cpu_s if pid in before.procs else 0.0) for pid, proc in after.procs.items()
    }
    counted = 0.0
    kept = {role: pgid for role, pgid in after.roles.items() if before.roles.get(role) == pgid}  # not restarted
    for role, pgid in kept.items():
        seconds = sum(spent[pid] for pid, proc in after.procs.items() if proc.pgid == pgid)
        use[role] = seconds / wall
        counted += seconds
    ours = set(after.roles.values())
    for name, comm in SERVICES.items():
        seconds = sum(spent[pid] for pid, proc in after.procs.items() if proc.comm == comm and proc.pgid not in ours)
        use[name] = seconds / wall
        counted += seconds
    use["rest of the machine"] = max(0.0, busy - counted) / wall
    return use


# --- the cluster's logs ------------------------------------------------------------------------------

LOGGED_ERROR = re.compile(r" ERROR | \[ERROR\] |\"level\": \"ERROR\"")
WITH_DIGITS = re.compile(r"[\w.:/+@-]*\d[\w.:/+@-]*")  # ids, numbers, addresses, times: one kind of error
QUOTED_TEXT = re.compile(r'"(text|msg_text)": "(?:[^"\\]|\\.)*"')  # what a user wrote (Rasa logs it)


def log_offsets(cluster: Cluster) -> dict[Path, int]:
    """Where each node's process logs end now."""
    paths = [
        stack.var_dir / "log" / f"{name}.log" for stack in cluster.stacks for name in ("rasa", "actions", "backend")
    ]
    return {path: path.stat().st_size if path.exists() else 0 for path in paths}


def logged_errors(offsets: dict[Path, int]) -> Counter:
    """The errors the processes logged since `offsets`, by kind ("rasa: logger - message" with every
    token that holds a digit, and any user text, replaced by …), over the nodes."""
    kinds: Counter = Counter()
    for path, offset in offsets.items():
        try:
            with open(path, "rb") as log:
                log.seek(offset)
                text = log.read().decode(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if not LOGGED_ERROR.search(line):
                continue
            message = line
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    message = f"{record.get('logger', '')} - {record.get('msg', '')}"
            else:
                message = re.split(r" ERROR | \[ERROR\] ", line, maxsplit=1)[-1]
            message = WITH_DIGITS.sub("…", QUOTED_TEXT.sub(r'"\1": "…"', message))
            message = " ".join(message.split()).replace("|", "/")[:120]
            kinds[f"{path.stem}: {message}"] += 1
    return kinds


# --- the users -----------------------------------------------------------------------------------------


class Inbox:
    """Messages as they arrive, with their time; `wait` as FakeTwilio.wait."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, str]] = []
        self.arrived = asyncio.Event()

    def add(self, text: str) -> None:
        self.messages.append((time.monotonic(), text))
        self.arrived.set()

    async def wait(self, more_than: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) <= more_than:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.arrived.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), left)
        return True


async def collect(
    sent_at: float,
    before: int,
    items: Callable[[], list[tuple[float, str]]],
    wait: Callable[[int, float], Awaitable[bool]],
) -> Reply:
    """The messages that answer a turn sent at `sent_at` when `before` had arrived: the first within
    ANSWER_TIMEOUT_S, then any more until QUIET_S passes without one (all within TURN_MAX_S)."""
    reply = Reply(sent_at)
    if not await wait(before, ANSWER_TIMEOUT_S):
        reply.error = f"no bot message in {ANSWER_TIMEOUT_S} s"
        return reply
    reply.first_at = items()[before][0]
    while True:
        count = len(items())
        left = sent_at + TURN_MAX_S - time.monotonic()
        if left <= 0 or not await wait(count, min(QUIET_S, left)):
            break
    reply.messages = [text for _, text in items()[before:]]
    return reply


def describe(message: dict) -> str:
    """A bot message as text (its kind when it has none)."""
    if message.get("text"):
        return str(message["text"])
    if message.get("image"):
        return "[image]"
    if message.get("attachment"):
        return "[attachment]"
    return "[" + ",".join(sorted(message)) + "]"


class User(Protocol):
    channel: str
    conversation_id: str | None
    reconnects: int

    async def start(self) -> None: ...

    async def say(self, text: str, metadata: dict | None) -> Reply: ...

    async def close(self) -> None: ...


class RestUser:
    channel = "rest"

    def __init__(self, bench: Bench, number: int) -> None:
        self.bench = bench
        self.conversation_id: str | None = f"bench-{bench.run_id}-{number}"
        self.reconnects = 0

    async def start(self) -> None:
        return None

    async def say(self, text: str, metadata: dict | None) -> Reply:
        body: dict[str, Any] = {"sender": self.conversation_id, "message": text}
        if metadata:
            body["metadata"] = metadata
        reply = Reply(time.monotonic())
        try:
            async with self.bench.http.post(
                f"{self.bench.public_url}/webhooks/rest/webhook",
                json=body,
                headers=self.bench.rest_headers,
                timeout=aiohttp.ClientTimeout(total=REST_TIMEOUT_S),
            ) as resp:
                raw = await resp.read()
                if resp.status != 200:
                    reply.error = f"HTTP {resp.status}"
                    return reply
            messages = json.loads(raw)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            reply.error = type(exc).__name__
            return reply
        reply.messages = [describe(m) for m in messages if isinstance(m, dict)]
        if reply.messages:
            reply.first_at = time.monotonic()
        else:
            reply.error = "an empty answer"
        return reply

    async def close(self) -> None:
        return None


class WhatsAppUser:
    channel = "whatsapp"

    def __init__(self, bench: Bench, number: int) -> None:
        self.bench = bench
        self.address = f"whatsapp:+55799{number:08d}"
        self.conversation_id: str | None = self.address
        self.reconnects = 0

    async def start(self) -> None:
        return None

    async def say(self, text: str, metadata: dict | None) -> Reply:
        bench = self.bench
        params = {
            "MessageSid": f"SM{bench.run_id}{next(bench.sids):024x}",
            "AccountSid": bench.twilio_sid,
            "From": self.address,
            "To": f"whatsapp:{TWILIO_NUMBER}",
            "Body": text,
            "NumMedia": "0",
        }
        signature = bench.validator.compute_signature(bench.whatsapp_url, params)
        before = bench.twilio.count(self.address)
        sent_at = time.monotonic()
        status = await self._post(params, signature)
        if status != 200:
            reply = Reply(sent_at, error=f"webhook {status}", message_id=params["MessageSid"])
            return reply

        def items() -> list[tuple[float, str]]:
            return [(m.at, m.body or ("[media]" if m.media else "")) for m in bench.twilio.to(self.address)]

        reply = await collect(sent_at, before, items, lambda n, t: bench.twilio.wait(self.address, n, t))
        reply.message_id = params["MessageSid"]
        return reply

    async def _post(self, params: dict[str, str], signature: str) -> int | str:
        """The webhook, sent again (same MessageSid) when HAProxy or Rasa refused it or nothing answered."""
        status: int | str = "not sent"
        for delay in (*WEBHOOK_RETRIES_S, None):
            try:
                async with self.bench.http.post(
                    self.bench.public_url + "/webhooks/whatsapp/webhook",
                    data=params,
                    headers={"X-Twilio-Signature": signature},
                    timeout=aiohttp.ClientTimeout(total=15),  # Twilio's own patience
                ) as resp:
                    await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                status = type(exc).__name__
            if status == 200 or (isinstance(status, int) and status < 500) or delay is None:
                return status
            self.bench.current.webhook_retries += 1
            await asyncio.sleep(delay)
        return status

    async def close(self) -> None:
        return None


def _websocket_client_compat() -> None:
    """python-engineio 4.15 builds aiohttp.ClientWSTimeout (aiohttp >= 3.11) for its WebSocket; the
    aiohttp 3.9 we pin takes a number of seconds there (its WebSocket close timeout): give it one."""
    if not hasattr(aiohttp, "ClientWSTimeout"):
        setattr(aiohttp, "ClientWSTimeout", lambda ws_close=10.0, ws_receive=None: ws_close)  # noqa: B010


class SocketIOUser:
    """The widget: a WebSocket to /socket.io through HAProxy, `session_request` for a signed session id
    (again after a reconnection, with the id it holds, as the widget does), user_uttered / bot_uttered.
    Each user connects from its own loopback address (127.x.y.z): HAProxy picks the socket.io instance
    by the client's address, and all from 127.0.0.1 would land on one instance."""

    channel = "socketio"

    def __init__(self, bench: Bench, number: int) -> None:
        self.bench = bench
        self.address = f"127.{(number >> 8) & 0xFF}.{number & 0xFF}.9"
        self.conversation_id: str | None = None
        self.token: str | None = None
        self.inbox = Inbox()
        self.confirmed = asyncio.Event()
        self.reconnects = 0
        self.connected_once = False
        self.http: aiohttp.ClientSession | None = None
        self.client: Any = None

    async def start(self) -> None:
        import socketio  # type: ignore[import-untyped]

        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(self.address, 0)))
        self.client = socketio.AsyncClient(
            reconnection=True,
            reconnection_attempts=10,
            reconnection_delay=0.5,
            reconnection_delay_max=3,
            handle_sigint=False,
            http_session=self.http,
            request_timeout=10,
        )
        self.client.on("connect", self._connected)
        self.client.on("disconnect", self._disconnected)
        self.client.on("session_confirm", self._confirmed)
        self.client.on("bot_uttered", self._uttered)
        await self.client.connect(self.bench.public_url, transports=["websocket"], wait_timeout=CONNECT_TIMEOUT_S)
        await asyncio.wait_for(self.confirmed.wait(), CONNECT_TIMEOUT_S)

    async def _connected(self) -> None:
        if self.connected_once:
            self.reconnects += 1
        self.connected_once = True
        await self.client.emit("session_request", {"session_id": self.token})

    async def _disconnected(self, *_: Any) -> None:
        self.confirmed.clear()

    async def _confirmed(self, token: Any) -> None:
        session = self.bench.signer.verify(token)
        if session is None:
            return
        if self.conversation_id is None:
            self.conversation_id = session.sender_id
        self.token = token
        self.confirmed.set()

    async def _uttered(self, data: Any) -> None:
        self.inbox.add(describe(data) if isinstance(data, dict) else str(data))

    async def say(self, text: str, metadata: dict | None) -> Reply:
        sent_at = time.monotonic()
        if not self.confirmed.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.confirmed.wait(), RECONNECT_WAIT_S)
        before = len(self.inbox.messages)
        try:
            await self.client.emit("user_uttered", {"message": text, "session_id": self.token, "metadata": {}})
        except Exception as exc:  # noqa: BLE001 - python-socketio's BadNamespaceError and friends: not connected
            return Reply(sent_at, error=f"not connected ({type(exc).__name__})")
        return await collect(sent_at, before, lambda: self.inbox.messages, self.inbox.wait)

    async def close(self) -> None:
        if self.client is not None:
            self.client.reconnection = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.client.shutdown(), 5)  # a reconnection under way too
        if self.http is not None:
            await self.http.close()


# --- the benchmark ---------------------------------------------------------------------------------------


class Bench:
    def __init__(self, cluster: Cluster, twilio: FakeTwilio, twilio_sid: str, twilio_token: str, users: int) -> None:
        from channels.web.socketio_channel import SessionSigner

        env = cluster.stacks[0].environment()
        self.cluster = cluster
        self.twilio = twilio
        self.twilio_sid = twilio_sid
        self.validator = RequestValidator(twilio_token)
        self.public_url = cluster.public_url
        self.whatsapp_url = cluster.public_url + "/webhooks/whatsapp/webhook"  # PUBLIC_BASE_URL + the path
        self.signer = SessionSigner(env["WIDGET_SESSION_SECRET"])
        rest_token = env.get("REST_CHANNEL_TOKEN")
        self.rest_headers = {"Authorization": f"Bearer {rest_token}"} if rest_token else {}
        self.service_token = env["BACKEND_SERVICE_TOKEN"]
        self.database_url = env["DATABASE_URL"]
        self.users = users
        self.run_id = secrets.token_hex(4)
        self.numbers = itertools.count(1)
        self.sids = itertools.count(1)
        self.channels = list(CHANNELS)
        self.not_measured: dict[str, str] = {}  # channel -> why
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=4 * users))
        self.current = Phase("warm-up", 2, False, 0, 0)

    def user(self, channel: str, number: int) -> User:
        kinds: dict[str, Callable[[Bench, int], User]] = {
            "rest": RestUser,
            "socketio": SocketIOUser,
            "whatsapp": WhatsAppUser,
        }
        return kinds[channel](self, number)

    async def receipt(self, conversation_id: str) -> dict:
        """A receipt the channel handed to the backend for the conversation (POST /api/inbound-files,
        through HAProxy): the attachment the message's metadata carries."""
        async with self.http.post(
            f"{self.public_url}/api/inbound-files",
            params={"filename": "recibo.pdf"},
            data=RECEIPT,
            headers={
                "Authorization": f"Bearer {self.service_token}",
                "X-Channel": "rest",
                "X-Conversation-Id": conversation_id,
                "Content-Type": "application/pdf",
            },
            timeout=aiohttp.ClientTimeout(total=30),
        ) as resp:
            body = await resp.json(content_type=None)
            if resp.status != 201:
                raise RuntimeError(f"inbound file: HTTP {resp.status} {body}")
        return {"file_id": body["id"], "content_type": body["content_type"], "filename": body["filename"]} | {
            "size": body["size"]
        }

    async def conversation(self, phase: Phase, channel: str, deadline: float, kind: str | None = None) -> Conversation:
        number = next(self.numbers)
        if kind is None:
            kind, persona = phase.pick(number, channel)
        else:
            persona = PERSONAS[number % len(PERSONAS)] if kind in IDENTITY_KINDS else None
        user = self.user(channel, number)
        conv = Conversation(channel, kind, number, persona.name if persona else "")
        phase.conversations.append(conv)
        try:
            try:
                await asyncio.wait_for(user.start(), CONNECT_TIMEOUT_S + 5)
            except Exception as exc:  # noqa: BLE001 - any failure to connect is a figure of the report
                conv.error = f"connect: {type(exc).__name__}"
                phase.connect_errors[f"{channel}: {type(exc).__name__}"] += 1
                await asyncio.sleep(1)
                return conv
            for step in script(kind, persona, number):
                if time.monotonic() >= deadline:
                    break
                metadata = None
                if step.attach:
                    metadata = {"attachments": [await self.receipt(user.conversation_id or "")]}
                record = TurnRecord(channel, kind, time.monotonic())
                phase.turns.append(record)
                conv.sent += 1
                reply = await user.say(step.text, metadata)
                self.fill(record, reply)
                conv.answered += record.answered
                if reply.message_id:
                    conv.message_ids.append(reply.message_id)
                if kind == "reembolso" and step.text == "sim":
                    found = PROTOCOL_RE.search("\n".join(reply.messages))
                    conv.protocol = found.group(0) if found else None
                await asyncio.sleep(random.uniform(*THINK_S))  # noqa: S311 - think time, not a secret
        finally:
            conv.conversation_id = user.conversation_id
            conv.reconnects = user.reconnects
            with contextlib.suppress(Exception):
                await user.close()
        return conv

    @staticmethod
    def fill(record: TurnRecord, reply: Reply) -> None:
        record.messages = len(reply.messages)
        record.message_id = reply.message_id
        record.error = reply.error
        if reply.first_at is not None:
            record.latency = reply.first_at - reply.sent_at
            record.answered_at = reply.first_at
        text = "\n".join(reply.messages)
        record.apology = any(marker in text for marker in APOLOGIES)
        record.rate_limited = RATE_LIMITED in text
        non_empty = [m for m in reply.messages if m]
        record.repeated = len(non_empty) != len(set(non_empty))

    async def warm_up(self) -> None:
        """A few conversations on every channel, not counted: the models' first turns, and whether each
        channel works at all (one that does not is left out of the load and reported as not measured)."""
        phase = Phase("warm-up", 2, False, 0, 0)
        self.current = phase
        deadline = time.monotonic() + 240
        jobs = [
            self.conversation(phase, channel, deadline, kind)
            for channel in CHANNELS
            for kind in ("info", "info", "carteirinha")
        ]
        conversations = await asyncio.gather(*jobs)
        for channel in CHANNELS:
            mine = [c for c in conversations if c.channel == channel]
            turns = [t for t in phase.turns if t.channel == channel]
            answered = sum(t.answered for t in turns)
            print(f"warm-up {channel}: {answered}/{len(turns)} messages answered", flush=True)
            if not answered:
                why = next((c.error for c in mine if c.error), "") or Counter(t.error for t in turns).most_common(1)
                self.not_measured[channel] = f"warm-up got no answer ({why})"
                self.channels.remove(channel)
        await asyncio.sleep(SETTLE_S)
        await asyncio.get_running_loop().run_in_executor(None, clear_rate_limits, self.database_url)

    async def run_phase(self, name: str, rasa: int, faults: bool, checks: bool, duration: float) -> Phase:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, clear_rate_limits, self.database_url)
        await loop.run_in_executor(None, set_rasa_instances, self.cluster, rasa)
        await loop.run_in_executor(None, set_rasa_checks, self.cluster, checks)
        await asyncio.sleep(1)
        phase = Phase(name, rasa, faults, self.users, duration, checks=checks)
        self.current = phase
        events_before = len(self.cluster.supervisor.events) if self.cluster.supervisor else 0
        print(f"\n== {name}: {self.users} users for {duration:.0f} s ==", flush=True)
        haproxy_before = await loop.run_in_executor(None, haproxy_stats, self.cluster)
        cpu_before = cpu_sample(self.cluster)
        logs = log_offsets(self.cluster)
        phase.started_at = start = time.monotonic()
        deadline = start + duration

        async def user_slot(index: int) -> None:
            channel = self.channels[index % len(self.channels)]
            await asyncio.sleep(RAMP_S * index / self.users)
            while time.monotonic() < deadline:
                try:
                    await self.conversation(phase, channel, deadline)
                except Exception as exc:  # noqa: BLE001 - e.g. the receipt refused: counted, the user goes on
                    phase.connect_errors[f"{channel}: {type(exc).__name__}: {str(exc)[:60]}"] += 1
                    await asyncio.sleep(1)

        tasks = [asyncio.create_task(user_slot(index)) for index in range(self.users)]
        progress = asyncio.create_task(self.progress(phase, start))
        fault_task = asyncio.create_task(self.inject_faults(phase, start, duration)) if faults else None
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        cpu_after = cpu_sample(self.cluster)
        progress.cancel()
        haproxy_after = await loop.run_in_executor(None, haproxy_stats, self.cluster)
        _, pending = await asyncio.wait(tasks, timeout=DRAIN_S)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        phase.drain_s = time.monotonic() - deadline
        if fault_task is not None:
            await fault_task  # bounded: RECOVERY_TIMEOUT_S
        await asyncio.sleep(SETTLE_S)
        replies = {t.message_id: t.messages for t in phase.turns if t.message_id}
        for conv in phase.conversations:
            if conv.channel == "whatsapp" and conv.conversation_id:
                attributed = sum(replies.get(message_id, 0) for message_id in conv.message_ids)
                conv.late = max(0, self.twilio.count(conv.conversation_id) - attributed)
        phase.cpu = cpu_use(cpu_before, cpu_after)
        phase.haproxy = {
            server: {name: value - haproxy_before.get(server, {}).get(name, 0) for name, value in after.items()}
            for server, after in haproxy_after.items()
        }
        if self.cluster.supervisor is not None:
            phase.supervisor = [event.message for event in self.cluster.supervisor.events[events_before:]]
        phase.db = await loop.run_in_executor(None, db_check, self.database_url, phase.conversations)
        phase.errors = await loop.run_in_executor(None, logged_errors, logs)
        print(summary_line(phase), flush=True)
        return phase

    @staticmethod
    async def progress(phase: Phase, start: float) -> None:
        """A line every 15 s while the load runs: what was sent and answered so far."""
        while True:
            await asyncio.sleep(15)
            answered = sum(t.answered for t in phase.turns)
            print(f"[{time.monotonic() - start:.0f} s] {len(phase.turns)} sent, {answered} answered", flush=True)

    async def inject_faults(self, phase: Phase, start: float, duration: float) -> None:
        """kill -9 of node 1's Rasa and node 2's backend (each its whole process group) during the load,
        then how long until each answers again on its own port once the supervisor restarted it."""
        watchers = []
        targets = (("rasa", 0, "/"), ("backend", len(self.cluster.stacks) - 1, "/api/health"))
        for name, node, path in sorted(targets, key=lambda target: FAULT_AT[target[0]]):
            await asyncio.sleep(max(0.0, start + duration * FAULT_AT[name] - time.monotonic()))
            stack = self.cluster.stacks[node]
            process = stack.process(name)
            if process.popen is None:
                continue
            pid = process.popen.pid
            fault = Fault(f"{name}{node + 1}", time.monotonic() - start, pid)
            os.killpg(pid, signal.SIGKILL)
            print(f"[{fault.at:.0f} s] kill -9 {fault.what} (process group {pid})", flush=True)
            phase.fault_log.append(fault)
            url = (stack.rasa_url if name == "rasa" else stack.backend_url) + path
            watchers.append(asyncio.create_task(self.watch_recovery(fault, process, url)))
        await asyncio.gather(*watchers)

    async def watch_recovery(self, fault: Fault, process: Any, url: str) -> None:
        killed_at = time.monotonic()
        loop = asyncio.get_running_loop()
        while time.monotonic() - killed_at < RECOVERY_TIMEOUT_S:
            popen = process.popen
            if popen is not None and popen.pid != fault.pid and await loop.run_in_executor(None, rasa_answers, url):
                fault.restarted_pid = popen.pid
                fault.answering_after_s = time.monotonic() - killed_at
                return
            await asyncio.sleep(1)

    async def close(self) -> None:
        await self.http.close()


# --- the bench database ------------------------------------------------------------------------------------


def db_check(database_url: str, conversations: list[Conversation]) -> DbCheck:
    """What the phase left in the bench database, for its conversations."""

    check = DbCheck()
    sent = {c.conversation_id: c.sent for c in conversations if c.conversation_id and c.sent}
    answered = {c.conversation_id: c.answered for c in conversations if c.conversation_id}
    ids = list(sent)
    check.conversations = len(ids)
    if not ids:
        return check
    try:
        connection = psycopg2.connect(database_url)
    except psycopg2.Error as exc:
        check.error = str(exc).strip()
        return check
    try:
        with connection, connection.cursor() as cursor:
            # Rasa's stored user messages (its `events` table), per conversation and per message id
            # the channel's messages only: they carry a message id (a request switched mid-form is logged
            # again by Rasa, without one)
            cursor.execute(
                "SELECT sender_id, data FROM events WHERE type_name = 'user' AND sender_id = ANY(%s) ORDER BY id",
                (ids,),
            )
            stored: Counter = Counter()
            message_ids: Counter = Counter()
            last_text: dict[str, str] = {}
            twice: set[str] = set()
            for sender_id, data in cursor.fetchall():
                event = json.loads(data) if isinstance(data, str) else data or {}
                message_id = event.get("message_id")
                if not message_id:
                    continue
                stored[sender_id] += 1
                message_ids[message_id] += 1
                text = str(event.get("text"))
                if last_text.get(sender_id) == text:  # no script says the same thing twice in a row
                    check.processed_twice += 1
                    twice.add(sender_id)
                last_text[sender_id] = text
            check.processed_twice_conversations = len(twice)
            for conversation_id, count in sent.items():
                kept, got = stored[conversation_id], answered.get(conversation_id, 0)
                if kept > count:
                    check.stored_more += 1
                    check.stored_extra_messages += kept - count
                check.handled_unanswered += max(0, min(kept, count) - got)
                check.answered_unstored += max(0, got - kept)
            check.message_ids_twice = sum(1 for count in message_ids.values() if count > 1)
            cursor.execute(
                "SELECT conversation_id, count(*) FROM handoff_tickets WHERE conversation_id = ANY(%s) GROUP BY 1",
                (ids,),
            )
            tickets = cursor.fetchall()
            check.handoff_tickets = sum(count for _, count in tickets)
            check.handoff_more_than_one = sum(1 for _, count in tickets if count > 1)
            cursor.execute(
                "SELECT count(*) FROM (SELECT 1 FROM protocols WHERE conversation_id = ANY(%s) "
                "GROUP BY conversation_id, kind HAVING count(*) > 1) AS repeated",
                (ids,),
            )
            check.protocols_more_than_one = cursor.fetchone()[0]
            cursor.execute(
                "SELECT p.conversation_id, count(*) FROM reimbursements r JOIN protocols p "
                "ON p.number = r.protocol_number WHERE p.conversation_id = ANY(%s) GROUP BY 1",
                (ids,),
            )
            reimbursements = cursor.fetchall()
            check.reimbursements = sum(count for _, count in reimbursements)
            check.reimbursements_more_than_one = sum(1 for _, count in reimbursements if count > 1)
    except psycopg2.Error as exc:
        check.error = str(exc).strip()
    finally:
        connection.close()
    return check


# --- figures ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    sent: int
    answered: int
    unanswered: int
    apologies: int
    rate_limited: int
    repeated: int
    per_s: float
    p50_ms: float
    p95_ms: float


def figures(phase: Phase, turns: list[TurnRecord] | None = None) -> Figures:
    turns = phase.turns if turns is None else turns
    answered = [t for t in turns if t.answered]
    end = phase.started_at + phase.window_s
    in_window = sum(1 for t in answered if t.answered_at is not None and t.answered_at <= end)
    latencies = sorted(t.latency for t in answered if t.latency is not None)
    return Figures(
        sent=len(turns),
        answered=len(answered),
        unanswered=len(turns) - len(answered),
        apologies=sum(t.apology for t in turns),
        rate_limited=sum(t.rate_limited for t in turns),
        repeated=sum(t.repeated for t in turns),
        per_s=in_window / phase.window_s if phase.window_s else float("nan"),
        p50_ms=percentile(latencies, 50) * 1000,
        p95_ms=percentile(latencies, 95) * 1000,
    )


def summary_line(phase: Phase) -> str:
    f = figures(phase)
    return (
        f"{phase.name}: {len(phase.conversations)} conversations, {f.sent} messages sent, {f.answered} answered "
        f"({f.unanswered} not, {f.apologies} apologies, {f.rate_limited} rate-limited, {f.repeated} repeated), "
        f"{f.per_s:.1f} turns/s, p50 {f.p50_ms:.0f} ms, p95 {f.p95_ms:.0f} ms; CPU {phase.cpu.get('machine', 0):.2f} "
        f"cores busy; drain {phase.drain_s:.0f} s"
    )


def _ms(value: float) -> str:
    return "—" if value != value else f"{value:,.0f}".replace(",", " ")  # NaN: nothing measured


def _why_unanswered(turns: list[TurnRecord]) -> str:
    reasons = Counter(t.error or "?" for t in turns if not t.answered)
    return "; ".join(f"{count}× {reason}" for reason, count in reasons.most_common(4)) or "—"


def section(phases: list[Phase], bench: Bench, command: str, started: datetime.datetime, loads: tuple) -> str:
    lines = [
        SECTION_START,
        f"## Cluster under load: {bench.users} users on REST, socket.io and WhatsApp; faults; 1 vs 2 Rasa",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC",
        (
            f"- Machine: {machine()}; load average (1/5/15 min) {'/'.join(f'{x:.2f}' for x in loads[0])} at start, "
            f"{'/'.join(f'{x:.2f}' for x in loads[1])} at end; the machine is shared: its CPU use below includes "
            "whatever else ran on it"
        ),
        f"- Command: `make bench-cluster` (ran `{command}`)",
        (
            f"- Cluster: `scripts.cluster.Cluster` as `make cluster` runs it, on other ports: HAProxy "
            f"{bench.public_url} → 2 × (backend, action server, Rasa), PostgreSQL database "
            f"`{_pg_database(bench.database_url)}` (dropped and created again at the start), Redis and RabbitMQ "
            f"under the prefix `{PREFIX}`; WhatsApp replies go to a fake Twilio on loopback "
            "(`bench/fake_twilio.py`), PUBLIC_BASE_URL is HAProxy's address."
        ),
        (
            f"- Load per phase: {bench.users} users at once for {phases[0].window_s:.0f} s (started over "
            f"{RAMP_S:.0f} s), one user in three on each channel — REST `POST /webhooks/rest/webhook`, the widget's "
            "socket.io (python-socketio, WebSocket, signed session handshake; each user from its own 127.x.y.z "
            "address, since HAProxy picks the socket.io instance by client address) and signed WhatsApp webhooks "
            "— all through HAProxy. Each user runs conversations back to back, with "
            f"{THINK_S[0]}–{THINK_S[1]} s between an answer and the next message. Scripts, 1 conversation in 20 each: "
            "9× information (oi → telefone da central → telemedicina → obrigado), 4× rede credenciada (cardiologista "
            "em Aracaju → telefone da central), 3× central then a human agent (oi → telefone da central → quero "
            "falar com um atendente), 3× identity check then the card and the plan (Maria, José, Ana Beatriz in "
            "turn), 1× on REST a reimbursement with identity and a PDF receipt (Maria, 13 turns; information "
            f"elsewhere). At most {HANDOFF_QUOTA} handoffs and {IDENTITY_QUOTA} identity checks per person and "
            "phase (the backend allows 60 tickets per 10 min and 20 checks per card per 15 min; the `rate_limits` "
            "table is emptied before each phase)."
        ),
        (
            "- Phases: *checks paused* = HAProxy's health checks of the Rasa servers disabled for the phase "
            "(`disable health` on the runtime API: the servers count as UP), to measure the instances themselves; "
            "*checks on* = as deploy/haproxy.cfg.template configures them; *faults* = checks on, and `kill -9` of "
            f"node 1's Rasa at {FAULT_AT['rasa']:.0%} and node 2's backend at {FAULT_AT['backend']:.0%} of the "
            "window. One Rasa: the other one set to `maint` in the three Rasa pools."
        ),
        (
            f"- An answer: at least one bot message for that user message, the first within {ANSWER_TIMEOUT_S} s "
            f"(REST: the HTTP answer). On socket.io and WhatsApp a turn's answer ends after {QUIET_S} s without "
            "another message; latency is to the first bot message (REST: the whole answer). turns/s = messages "
            "answered within the load window / the window. After the window no message is sent; the turns in "
            f"flight get at most {DRAIN_S} s. A WhatsApp webhook refused with a 5xx or no connection is sent "
            f"again with the same MessageSid after {WEBHOOK_RETRIES_S[0]:.0f} s and {WEBHOOK_RETRIES_S[1]:.0f} s."
        ),
        "",
    ]
    if bench.not_measured:
        for channel, why in bench.not_measured.items():
            lines.append(f"**Not measured: {channel}** — {why}.")
        lines.append("")
    lines += [
        "### Messages answered",
        "",
        (
            "| phase | conversations | messages sent | answered | not answered | of which apologies (turn failed) "
            "| rate-limited answers | a reply repeated within a turn | turns/s | p50 ms | p95 ms |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in phases:
        f = figures(phase)
        lines.append(
            f"| {phase.name} | {len(phase.conversations)} | {f.sent} | {f.answered} | {f.unanswered} | {f.apologies} "
            f"| {f.rate_limited} | {f.repeated} | {f.per_s:.1f} | {_ms(f.p50_ms)} | {_ms(f.p95_ms)} |"
        )
    lines += [
        "",
        "| phase | channel | conversations | sent | answered | not answered (why) | apologies | p50 ms | p95 ms |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for phase in phases:
        for channel in CHANNELS:
            turns = [t for t in phase.turns if t.channel == channel]
            if not turns:
                continue
            f = figures(phase, turns)
            convs = sum(1 for c in phase.conversations if c.channel == channel)
            lines.append(
                f"| {phase.name} | {channel} | {convs} | {f.sent} | {f.answered} | {f.unanswered}: "
                f"{_why_unanswered(turns)} | {f.apologies} | {_ms(f.p50_ms)} | {_ms(f.p95_ms)} |"
            )
    lines += [
        "",
        "### Duplicates (the bench database, the phase's conversations)",
        "",
        (
            "| phase | conversations | messages Rasa processed twice (conversations) "
            "| Rasa stored more messages than sent: conversations (messages) "
            "| stored by Rasa, not answered | answered, not stored | WhatsApp MessageSid stored twice "
            "| WhatsApp replies after the conversation's last wait | handoff tickets (conversations with > 1) "
            "| protocols > 1 per conversation and kind | reimbursements: protocol read → created "
            "(conversations with > 1) |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in phases:
        db = phase.db
        confirmed = sum(1 for c in phase.conversations if c.protocol)
        late = sum(c.late for c in phase.conversations)
        if db.error:
            lines.append(f"| {phase.name} | not checked: {db.error} | | | | | | | | | |")
            continue
        lines.append(
            f"| {phase.name} | {db.conversations} | {db.processed_twice} ({db.processed_twice_conversations}) | "
            f"{db.stored_more} ({db.stored_extra_messages}) | "
            f"{db.handled_unanswered} | {db.answered_unstored} | {db.message_ids_twice} | {late} | "
            f"{db.handoff_tickets} ({db.handoff_more_than_one}) | {db.protocols_more_than_one} | "
            f"{confirmed} → {db.reimbursements} ({db.reimbursements_more_than_one}) |"
        )
    lines += [
        "",
        (
            "Password resets: none in this load (the reset turn's bcrypt at cost 12 would take the two cores; "
            "the REST load section measures it)."
        ),
        "",
    ]
    fault_phases = [phase for phase in phases if phase.faults]
    if fault_phases:
        lines += ["### Faults", ""]
        for phase in fault_phases:
            for fault in phase.fault_log:
                back = (
                    f"restarted by the supervisor (pid {fault.restarted_pid}), answering on its port "
                    f"{fault.answering_after_s:.0f} s after the kill"
                    if fault.answering_after_s is not None
                    else f"not answering again within {RECOVERY_TIMEOUT_S} s"
                )
                lines.append(
                    f"- {phase.name}: at {fault.at:.0f} s, `kill -9` of {fault.what}'s process group "
                    f"(pid {fault.pid}); {back}."
                )
            reconnects = sum(c.reconnects for c in phase.conversations)
            connect = "; ".join(f"{n}× {why}" for why, n in phase.connect_errors.most_common()) or "none"
            lines.append(
                f"- {phase.name}: socket.io reconnections {reconnects}; failed connections {connect}; WhatsApp "
                f"webhooks sent again {phase.webhook_retries}."
            )
            if phase.supervisor:
                lines.append(f"- Supervisor: {'; '.join(phase.supervisor[:8])}.")
        lines.append("")
    lines += ["### Errors the cluster's processes logged (each node's rasa, actions and backend log)", ""]
    for phase in phases:
        top = "; ".join(f"{count}× `{kind}`" for kind, count in phase.errors.most_common(5))
        lines.append(f"- {phase.name}: {top or 'none'}")
    lines.append("")
    lines += health_check_lines(phases, check_settings(VAR_DIR / "haproxy.cfg"))
    scaling = {phase.rasa: phase for phase in phases if not phase.faults and not phase.checks}
    lines += scaling_lines(scaling)
    lines += [
        "",
        (
            "HAProxy, per Rasa server and phase (runtime API `show stat`): requests; times its health check "
            "marked it DOWN, and seconds DOWN, within the load window:"
        ),
        "",
    ]
    for phase in phases:
        spread = ", ".join(
            f"{server} {stat['requests']}"
            + (f" (DOWN {stat['marked_down']}×, {stat['down_s']} s)" if stat["marked_down"] or stat["down_s"] else "")
            for server, stat in sorted(phase.haproxy.items())
            if any(stat.values())
        )
        lines.append(f"- {phase.name}: {spread or '—'}")
    return "\n".join(lines).rstrip() + "\n" + SECTION_END + "\n"


def check_settings(config: Path) -> str:
    """The health-check settings of the HAProxy configuration the cluster ran with, as written there."""
    try:
        lines = [line.split("#", 1)[0].strip() for line in config.read_text().splitlines()]
    except OSError:
        return "unknown (no haproxy.cfg)"
    found = [line for line in lines if line.startswith(("default-server", "timeout check"))]
    return ", ".join(f"`{line}`" for line in found) or "HAProxy's defaults"


def health_check_lines(phases: list[Phase], settings: str) -> list[str]:
    """What HAProxy's health checks did to a saturated Rasa, in the phases that had them on."""
    checked = [phase for phase in phases if phase.checks]
    downs = {
        phase.name: sum(stat["marked_down"] for stat in phase.haproxy.values())
        - sum(1 for fault in phase.fault_log if fault.what.startswith("rasa")) * len(RASA_POOLS)
        for phase in checked
    }
    if not checked:
        return []
    lines = [
        "### HAProxy's health checks under load",
        "",
        f"The checks of the Rasa servers (`GET /`) as configured: {settings}.",
        "",
    ]
    for phase in checked:
        down_s = sum(stat["down_s"] for stat in phase.haproxy.values())
        lines.append(
            f"- {phase.name}: Rasa servers marked DOWN {max(0, downs[phase.name])} times besides the kill "
            f"({down_s} server-seconds DOWN over the three pools within the load window)."
        )
    if any(count > 0 for count in downs.values()):
        lines += [
            "",
            (
                "A Rasa instance whose event loop is saturated answers its check late: HAProxy then takes a *busy* "
                "instance out as if it were dead, and with both instances DOWN every request gets 503 (`<NOSRV>`) "
                "until the checks pass again"
                + (
                    "; `on-marked-down shutdown-sessions` also cuts the requests a server marked DOWN was serving "
                    "(502s and dropped connections; Rasa may still finish and store those turns)."
                    if "shutdown-sessions" in settings
                    else "."
                )
                + " The phases with the checks paused (`disable health` on the runtime API) measure what the Rasa "
                "instances themselves can do."
            ),
        ]
    return lines + [""]


def scaling_lines(scaling: dict[int, Phase]) -> list[str]:
    lines = [
        "",
        "### 1 vs 2 Rasa instances (the same load, no faults, HAProxy's checks of Rasa paused)",
        "",
        (
            "One instance: the other one set to `maint` in HAProxy's rasa_webhooks, rasa_socketio and rasa_api "
            "pools (runtime API); the two backends and action servers stay. CPU: cores busy on average over the "
            "load window (/proc; 2.00 = both cores all the time); PostgreSQL, RabbitMQ and Redis are the machine's "
            "(all their processes, whoever they served); other = every other process of the shared machine."
        ),
        "",
        (
            "| Rasa instances | turns/s | p50 ms | p95 ms | machine CPU | Rasa 1 | Rasa 2 | action servers "
            "| backends | HAProxy, analytics | bench client | PostgreSQL | RabbitMQ | Redis | other |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for count in sorted(scaling):
        phase = scaling[count]
        f = figures(phase)
        cpu = phase.cpu

        def role(prefix: str, cpu: dict[str, float] = cpu) -> str:
            return f"{sum(value for key, value in cpu.items() if key.startswith(prefix)):.2f}"

        lines.append(
            f"| {count} | {f.per_s:.1f} | {_ms(f.p50_ms)} | {_ms(f.p95_ms)} | {role('machine')} | {role('rasa1')} "
            f"| {role('rasa2')} | {role('actions')} | {role('backend')} "
            f"| {cpu.get('haproxy', 0) + cpu.get('analytics', 0):.2f} | {role('bench client')} "
            f"| {role('PostgreSQL')} | {role('RabbitMQ')} | {role('Redis')} | {role('rest of the machine')} |"
        )
    if 1 in scaling and 2 in scaling:
        one, two = figures(scaling[1]), figures(scaling[2])
        speedup = two.per_s / one.per_s if one.per_s else float("nan")
        verdict = "met" if speedup >= 1.7 else "**not met**"
        cores = len(os.sched_getaffinity(0))
        lines += ["", f"Speed-up, turns/s with 2 instances / with 1: **{speedup:.2f}×** (goal ≥ 1.7×: {verdict}).", ""]
        for count, f in ((1, one), (2, two)):
            cpu = scaling[count].cpu
            rasa = sum(value for key, value in cpu.items() if key.startswith("rasa"))
            engines = sum(cpu.get(name, 0) for name in SERVICES)
            lines.append(
                f"- {count} instance{'s' if count > 1 else ''}: the machine "
                f"{100 * cpu.get('machine', 0) / cores:.0f} % busy; Rasa {rasa:.2f} cores, "
                f"{1000 * rasa / f.per_s:.0f} ms of Rasa CPU per answered turn; "
                f"PostgreSQL + RabbitMQ + Redis {engines:.2f}; other processes of the machine "
                f"{cpu.get('rest of the machine', 0):.2f}."
                if f.per_s
                else f"- {count}: nothing answered."
            )
        lines += [
            "",
            (
                "A Rasa process runs its turns on one core (one asyncio loop; the policies and DIET under the GIL), "
                "so a second instance adds throughput only with a core left for it. When the machine is already "
                "busy with one instance, the second one splits the same CPU with the first: turns/s stay what the "
                "CPU left to Rasa (after the action servers, backends, the engines, this client and anything else on "
                "the shared machine) divided by the Rasa CPU of a turn."
            ),
        ]
    else:
        lines += ["", "Speed-up: not measured (this run did not have both the 1- and the 2-instance phases)."]
    return lines


# --- command line ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=USERS, help=f"users at once (default {USERS})")
    parser.add_argument("--duration", type=float, default=DURATION_S, help=f"seconds of load per phase ({DURATION_S})")
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=(
            "in order, among: 2 and 1 (Rasa instances, HAProxy's checks of Rasa paused), checks (2 instances, "
            "checks as configured), faults (as checks, with kill -9 of a Rasa and a backend); "
            f"default {','.join(PHASES)}"
        ),
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print the section, do not write it")
    args = parser.parse_args(argv)
    args.phase_list = [item.strip() for item in args.phases.split(",") if item.strip()]
    if not args.phase_list or any(item not in PHASES for item in args.phase_list):
        parser.error(f"--phases: a comma-separated list of {', '.join(PHASES)}")
    if args.users < 1 or not 10 <= args.duration <= 600:
        parser.error("--users at least 1, --duration between 10 and 600 s")
    return args


@contextlib.contextmanager
def running_cluster(twilio_port: int, twilio_sid: str, twilio_token: str) -> Iterator[Cluster]:
    env = dict(os.environ)
    env["CLUSTER_DATABASE_URL"] = DATABASE_URL  # never `make cluster`'s own database: this one is dropped
    env.update(  # WhatsApp through the fake Twilio (Cluster passes the channels' settings to every Rasa)
        TWILIO_ACCOUNT_SID=twilio_sid,
        TWILIO_AUTH_TOKEN=twilio_token,
        TWILIO_WHATSAPP_NUMBER=TWILIO_NUMBER,
        PUBLIC_BASE_URL=f"http://127.0.0.1:{PUBLIC_PORT}",
        TWILIO_API_BASE_URL=f"http://127.0.0.1:{twilio_port}",
    )
    cluster = Cluster(
        var_dir=VAR_DIR,
        public_port=PUBLIC_PORT,
        internal_port=INTERNAL_PORT,
        first_ports=dict(FIRST_PORTS),
        prefix=PREFIX,
        model=MODEL,
        env=env,
    )
    reset_state(DATABASE_URL, cluster.setting("CLUSTER_REDIS_URL"))
    print("starting the benchmark's cluster (HAProxy, 2 × backend, action server, Rasa)...", flush=True)
    started = time.monotonic()
    cluster.start(timeout_s=START_TIMEOUT_S)
    print(f"cluster up in {time.monotonic() - started:.0f} s at {cluster.public_url}", flush=True)
    try:
        yield cluster
    finally:
        print("stopping the cluster...", flush=True)
        cluster.stop()


async def measure(args: argparse.Namespace, cluster: Cluster, twilio_port: int, sid: str, token: str) -> tuple:
    _websocket_client_compat()
    twilio = FakeTwilio(sid, token)
    await twilio.start(port=twilio_port)
    bench = Bench(cluster, twilio, sid, token, args.users)
    phases: list[Phase] = []
    try:
        await bench.warm_up()
        if not bench.channels:
            raise SystemExit("no channel answered during the warm-up: nothing to measure")
        for item in args.phase_list:
            name, rasa, faults, checks = PHASES[item]
            phases.append(await bench.run_phase(name, rasa, faults, checks, args.duration))
        await asyncio.get_running_loop().run_in_executor(None, set_rasa_instances, cluster, len(cluster.stacks))
        await asyncio.get_running_loop().run_in_executor(None, set_rasa_checks, cluster, True)
    finally:
        await bench.close()
        await twilio.stop()
    return phases, bench


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not MODEL.exists():
        raise SystemExit(f"{MODEL.relative_to(ROOT)} is missing: run `make model`")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks stop the cluster
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()
    twilio_port = free_port()
    sid, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    with running_cluster(twilio_port, sid, token) as cluster:
        phases, bench = asyncio.run(measure(args, cluster, twilio_port, sid, token))
    command = shlex.join(["python", "-m", "bench.cluster", *(sys.argv[1:] if argv is None else argv)])
    if os.getpriority(os.PRIO_PROCESS, 0) > 0:
        command = f"nice -n {os.getpriority(os.PRIO_PROCESS, 0)} {command}"
    text = section(phases, bench, command, started, (load_start, os.getloadavg()))
    print("\n" + text)
    if not args.no_write:
        write_section(args.out, text, (SECTION_START, SECTION_END))
        print(f"written to {args.out}")
    records = VAR_DIR / "last-run.json"  # every turn and conversation, to look into the figures afterwards
    try:
        records.write_text(json.dumps([plain(phase) for phase in phases]))
        print(f"records of every turn in {records.relative_to(ROOT)}")
    except (OSError, TypeError, ValueError) as exc:
        print(f"records not written ({exc})", file=sys.stderr)
    return 0


def plain(value: Any) -> Any:
    """A dataclass, dict (Counter included) or list as JSON-ready values (dict keys as strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {item.name: plain(getattr(value, item.name)) for item in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(item) for item in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
