"""The stack's supervisor (scripts.stack.Supervisor) on small real child processes: a process killed
with SIGKILL comes back, quick exits in a row wait longer and longer (capped), a process that stayed
up starts the count again, nothing is restarted after stop() began or once stopped on purpose, and a
health change is said once, in pt-BR, in var/log/supervisor.log.

No sleeps: every test waits on a real event (the supervisor's events, a child's exit, the requests a
fake health endpoint received), each with a deadline."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts.stack import Backoff, Health, Process, Stack, Supervisor, SupervisorEvent, free_port, health_reason

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
QUITTER = [sys.executable, "-c", "import sys; sys.exit(3)"]
WAIT_S = 15  # a deadline, never a sleep: every wait ends as soon as its event happens
QUICK = Backoff(first_s=0.05, cap_s=0.2, stable_s=60)
NO_HEALTH_POLLS = 3600.0


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}/health"


def child(tmp_path: Path, name: str = "actions", argv: list[str] | None = None, **kwargs) -> Process:
    return Process(name, argv or SLEEPER, closed_port_url(), tmp_path / f"{name}.log", dict(os.environ), **kwargs)


@pytest.fixture
def cleanup() -> Iterator[list]:
    """Supervisors and processes to stop at the end, whatever the test did."""
    things: list = []
    yield things
    for thing in reversed(things):
        thing.stop()


def supervise(cleanup: list, processes: list[Process], tmp_path: Path, **kwargs) -> Supervisor:
    for process in processes:
        cleanup.append(process)
        if process.popen is None:
            process.start()
    kwargs.setdefault("backoff", QUICK)
    kwargs.setdefault("poll_s", 0.05)
    kwargs.setdefault("health_every_s", NO_HEALTH_POLLS)
    supervisor = Supervisor(processes, tmp_path / "log" / "supervisor.log", echo=False, **kwargs)
    cleanup.append(supervisor)
    return supervisor.start()


def of_kind(events: list[SupervisorEvent], kind: str, process: str | None = None) -> list[SupervisorEvent]:
    return [e for e in events if e.kind == kind and (process is None or e.process == process)]


def kill_group(process: Process) -> int:
    assert process.popen is not None
    pid = process.popen.pid
    os.killpg(pid, signal.SIGKILL)
    return pid


def test_backoff_doubles_up_to_the_cap() -> None:
    backoff = Backoff(first_s=1, cap_s=30, stable_s=60)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_killed_process_is_restarted(tmp_path, cleanup) -> None:
    process = child(tmp_path)
    supervisor = supervise(cleanup, [process], tmp_path)
    killed = kill_group(process)

    supervisor.wait_for(lambda events: of_kind(events, "restarted"), WAIT_S)
    [exited] = of_kind(supervisor.events, "exited")
    assert (exited.process, exited.pid, exited.returncode, exited.attempt) == ("actions", killed, -9, 1)
    assert exited.delay_s == QUICK.first_s
    [restarted] = of_kind(supervisor.events, "restarted")
    assert restarted.pid == process.popen.pid != killed
    assert process.running
    log = (tmp_path / "log" / "supervisor.log").read_text(encoding="utf-8")
    assert "servidor de ações: encerrou inesperadamente (sinal SIGKILL)" in log
    assert f"servidor de ações: reiniciado (tentativa 1, pid {restarted.pid})" in log
    # and where the new run begins in the process's own log
    assert "--- supervisão: reinício n.º 1 (sinal SIGKILL) ---" in process.log_path.read_text(encoding="utf-8")


def test_quick_exits_in_a_row_wait_longer_and_longer(tmp_path, cleanup) -> None:
    process = child(tmp_path, argv=QUITTER)
    supervisor = supervise(cleanup, [process], tmp_path)

    supervisor.wait_for(lambda events: len(of_kind(events, "exited")) >= 5, WAIT_S)
    exits = of_kind(supervisor.events, "exited")[:5]
    assert [e.attempt for e in exits] == [1, 2, 3, 4, 5]
    assert [e.delay_s for e in exits] == [0.05, 0.1, 0.2, 0.2, 0.2]  # capped
    assert {e.returncode for e in exits} == {3}
    assert "código de saída 3" in exits[0].message


def test_a_process_that_stayed_up_starts_the_count_again(tmp_path, cleanup) -> None:
    # up 0.3 s each time, more than stable_s: every exit is the first of its row
    lived = child(tmp_path, argv=[sys.executable, "-c", "import time; time.sleep(0.3)"])
    supervisor = supervise(cleanup, [lived], tmp_path, backoff=Backoff(first_s=0.05, cap_s=1, stable_s=0.2))

    supervisor.wait_for(lambda events: len(of_kind(events, "exited")) >= 3, WAIT_S)
    assert [(e.attempt, e.delay_s) for e in of_kind(supervisor.events, "exited")[:3]] == [(1, 0.05)] * 3


def test_nothing_is_restarted_once_stop_began(tmp_path, cleanup) -> None:
    process = child(tmp_path)
    supervisor = supervise(cleanup, [process], tmp_path, backoff=Backoff(first_s=5, cap_s=5))
    kill_group(process)
    supervisor.wait_for(lambda events: of_kind(events, "exited"), WAIT_S)  # its restart is 5 s away

    supervisor.stop()

    assert not any(thread.is_alive() for thread in supervisor._threads)  # no one left to restart it
    assert process.popen.poll() == -9 and not of_kind(supervisor.events, "restarted")
    assert "supervisão: parando" in (tmp_path / "log" / "supervisor.log").read_text(encoding="utf-8")


def test_a_process_stopped_on_purpose_stays_stopped(tmp_path, cleanup) -> None:
    stopped, killed = child(tmp_path, "backend"), child(tmp_path, "actions")
    supervisor = supervise(cleanup, [stopped, killed], tmp_path)

    stopped.stop()
    kill_group(killed)
    # by the time the killed one is back, the loop went over the stopped one many times
    supervisor.wait_for(lambda events: of_kind(events, "restarted", "actions"), WAIT_S)

    assert [e for e in supervisor.events if e.process == "backend"] == []
    assert stopped.popen.poll() is not None and not stopped.running
    stopped.start()  # and started again on purpose: supervised again
    kill_group(stopped)
    supervisor.wait_for(lambda events: of_kind(events, "restarted", "backend"), WAIT_S)


def test_stack_stop_stops_everything_and_restarts_nothing(tmp_path, cleanup) -> None:
    processes = [child(tmp_path, name) for name in ("backend", "actions", "rasa")]
    stack = Stack(var_dir=tmp_path)
    stack.processes = processes
    stack.supervisor = supervise(cleanup, processes, tmp_path)

    stack.stop()

    assert all(process.popen.poll() is not None for process in processes)
    assert stack.supervisor.stopping and stack.supervisor.events == []


# --- health -----------------------------------------------------------------------------------


class FakeHealth:
    """A health endpoint whose answer the test sets; it counts the requests it got."""

    def __init__(self) -> None:
        self.status, self.body = 200, {"status": "ok"}
        self.hang_up = False  # close the connection without an answer
        self.degraded_first = 0  # answer 503 to this many requests first
        self.requests = 0
        self.seen = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if fake.hang_up:
                    self.close_connection = True
                    fake.count()
                    return
                if self.path == "/missing":
                    status, body = 404, {"error": "not found"}
                elif fake.requests < fake.degraded_first:
                    status, body = 503, {"status": "degraded", "backend": "unavailable"}
                else:
                    status, body = fake.status, fake.body
                raw = json.dumps(body).encode()
                fake.count()  # before the answer: a client that got it must find it counted
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self) -> None:
        with self.seen:
            self.requests += 1
            self.seen.notify_all()

    def wait_requests(self, count: int) -> None:
        with self.seen:
            assert self.seen.wait_for(lambda: self.requests >= count, WAIT_S), f"{self.requests} health requests"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_health(cleanup) -> FakeHealth:
    fake = FakeHealth()
    cleanup.append(fake)
    return fake


def test_a_degradation_and_the_recovery_are_said_once_each(tmp_path, cleanup, fake_health) -> None:
    process = Process("actions", SLEEPER, f"{fake_health.url}/health", tmp_path / "a.log", dict(os.environ))
    supervisor = supervise(cleanup, [process], tmp_path, health_every_s=0.02)

    fake_health.status, fake_health.body = 503, {"status": "degraded", "backend": "unavailable"}
    supervisor.wait_for(lambda events: of_kind(events, "degraded"), WAIT_S)
    fake_health.wait_requests(fake_health.requests + 5)  # still degraded, polled again and again
    assert supervisor.state_of("actions") == "degraded"
    fake_health.status, fake_health.body = 200, {"status": "ok"}
    supervisor.wait_for(lambda events: of_kind(events, "recovered"), WAIT_S)
    fake_health.wait_requests(fake_health.requests + 5)
    assert supervisor.state_of("actions") == "ok"

    assert [e.message for e in supervisor.events] == [
        "servidor de ações: degradado (backend inacessível)",
        "servidor de ações: normal de novo",
    ]
    log = (tmp_path / "log" / "supervisor.log").read_text(encoding="utf-8")
    assert "servidor de ações: degradado (backend inacessível)\n" in log
    assert "servidor de ações: normal de novo\n" in log


def test_a_process_is_silent_while_starting_and_said_back_when_it_answers_after_a_restart(
    tmp_path, cleanup, fake_health
) -> None:
    fake_health.hang_up = True  # like a server not listening yet: no answer at all
    process = Process("rasa", SLEEPER, f"{fake_health.url}/health", tmp_path / "r.log", dict(os.environ))
    cleanup.append(process)
    supervisor = Supervisor(
        [process], tmp_path / "supervisor.log", echo=False, backoff=QUICK, poll_s=0.05, health_every_s=0.02
    )
    cleanup.append(supervisor.start())
    process.start()  # started on purpose after the supervisor: not answering yet is no news
    fake_health.wait_requests(3)
    assert supervisor.events == []

    kill_group(process)
    supervisor.wait_for(lambda events: of_kind(events, "restarted"), WAIT_S)
    fake_health.wait_requests(fake_health.requests + 3)  # the new one, not answering yet: no news either
    assert [e.kind for e in supervisor.events] == ["exited", "restarted"]
    fake_health.hang_up = False
    supervisor.wait_for(lambda events: of_kind(events, "recovered"), WAIT_S)

    assert [e.kind for e in supervisor.events] == ["exited", "restarted", "recovered"]
    assert supervisor.events[-1].message == "Rasa: normal de novo"


def test_no_answer_counts_as_degraded_only_twice_in_a_row(tmp_path, cleanup, fake_health) -> None:
    """Polled by hand (the supervisor's threads are not started): one slow poll on a busy machine is
    no news; two in a row are."""
    process = child(tmp_path)
    cleanup.append(process)
    process.start()
    process.health_url = f"{fake_health.url}/health"
    supervisor = Supervisor([process], tmp_path / "supervisor.log", echo=False)

    fake_health.hang_up = True
    supervisor._check_health(process)
    assert supervisor.events == []
    fake_health.hang_up = False
    supervisor._check_health(process)  # answered: the count starts again
    fake_health.hang_up = True
    supervisor._check_health(process)
    assert supervisor.events == []
    supervisor._check_health(process)
    assert [e.message for e in supervisor.events] == ["servidor de ações: degradado (não responde)"]
    supervisor._check_health(process)
    assert len(supervisor.events) == 1  # said once


def test_a_failing_check_is_logged_and_the_supervision_goes_on(tmp_path, cleanup) -> None:
    process = child(tmp_path)
    broke = threading.Event()

    def broken_health(*args):
        broke.set()
        raise RuntimeError("sonda quebrada")

    process.health = broken_health  # type: ignore[method-assign]
    supervisor = supervise(cleanup, [process], tmp_path, health_every_s=0.02)
    assert broke.wait(WAIT_S)

    kill_group(process)
    supervisor.wait_for(lambda events: of_kind(events, "restarted"), WAIT_S)  # still restarting
    polled = threading.Event()
    process.health = lambda *args: polled.set() or Health(True)  # type: ignore[method-assign]
    assert polled.wait(WAIT_S)  # still polling health
    log = (tmp_path / "log" / "supervisor.log").read_text(encoding="utf-8")
    assert "supervisão: erro ao vigiar servidor de ações: RuntimeError('sonda quebrada')" in log


def test_the_stack_waits_until_everything_is_healthy(tmp_path, cleanup, fake_health) -> None:
    """What a database restore does after restarting the backend: the action server may still keep a
    "backend unavailable" for ~2 s."""
    process = Process("actions", SLEEPER, f"{fake_health.url}/health", tmp_path / "a.log", dict(os.environ))
    cleanup.append(process)
    process.start()
    stack = Stack(var_dir=tmp_path)
    stack.processes = [process]
    fake_health.degraded_first = 3

    stack.wait_healthy(WAIT_S)
    assert fake_health.requests == 4

    fake_health.degraded_first = 10**6
    with pytest.raises(TimeoutError, match="actions not healthy in 0s: backend inacessível"):
        stack.wait_healthy(0.2)


def test_a_missing_health_endpoint_falls_back_to_readiness(tmp_path, fake_health) -> None:
    process = Process(
        "rasa", SLEEPER, f"{fake_health.url}/missing", tmp_path / "r.log", {}, ready_url=f"{fake_health.url}/"
    )
    assert process.health().ok
    fake_health.status, fake_health.body = 503, {"status": "degraded", "model": "not_loaded"}
    assert process.health().reason == "modelo não carregado"
    assert not Process("x", SLEEPER, closed_port_url(), tmp_path / "x.log", {}).health(0.5).ok


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (None, None, "não responde"),
        (503, {"status": "degraded", "backend": "unavailable"}, "backend inacessível"),
        (
            503,
            {"status": "degraded", "model": "not_loaded", "action_server": "unavailable"},
            "modelo não carregado, servidor de ações inacessível",
        ),
        (503, {"model": "loaded", "action_server": "unavailable"}, "servidor de ações inacessível"),
        (503, {"status": "unavailable", "error": {"code": "database_unavailable"}}, "banco de dados inacessível"),
        (500, None, "HTTP 500"),
    ],
)
def test_health_reasons_in_words(status, body, reason) -> None:
    assert health_reason(status, body) == reason
