"""Nobody is left in silence when a part dies or degrades (scripts.stack.Supervisor on the session's
stack, as make run runs it):

- the action server's process group killed with SIGKILL is restarted by the supervisor, answers its
  /health again within seconds, and the next REST message gets a real answer (Rasa -> actions ->
  backend); the backend and Rasa keep serving meanwhile;
- the backend stopped on purpose is not restarted, the action server's /health says it is degraded
  (and the supervisor says so once, in pt-BR), and both recover when the backend is back.

Each test leaves the stack healthy (every process answering its health URL)."""

from __future__ import annotations

import os
import signal

import pytest
from stack_support import wait_for

from scripts.stack import Stack, Supervisor, SupervisorEvent, http_get

pytestmark = pytest.mark.integration

MARIA = {"card": "100200300401", "cpf": "945.807.302-24", "birth": "12/03/1985"}
BACK_S = 120  # the action server imports every action: seconds, longer on a busy machine
HEALTH_CHANGE_S = 30  # the supervisor polls health every 5 s


def supervisor_of(stack: Stack) -> Supervisor:
    assert stack.supervisor is not None and not stack.supervisor.stopping, "the session stack runs supervised"
    return stack.supervisor


def since(supervisor: Supervisor, start: int, kind: str, process: str) -> list[SupervisorEvent]:
    return [e for e in supervisor.events[start:] if e.kind == kind and e.process == process]


def all_healthy(stack: Stack) -> None:
    """Every process running and answering its health URL, and the supervisor knowing it (its health
    polls come every 5 s): bounded waits."""
    for process in stack.processes:
        if not process.running:  # the supervisor did not bring it back: do it, so the session goes on
            process.start()
            process.wait_ready(BACK_S)
        wait_for(lambda process=process: process.health().ok, f"{process.name} healthy", BACK_S, every_s=0.5)
    supervisor = supervisor_of(stack)
    for process in stack.processes:
        supervisor.wait_for(lambda _, name=process.name: supervisor.state_of(name) == "ok", HEALTH_CHANGE_S)


@pytest.fixture
def healthy_after(stack):
    """The stack as every other test needs it, before and after: every event of this test is its own."""
    all_healthy(stack)
    yield stack
    all_healthy(stack)


def test_a_killed_action_server_is_back_and_the_conversation_goes_on(healthy_after, chat):
    stack = healthy_after
    supervisor = supervisor_of(stack)
    actions = stack.process("actions")
    assert actions.health().ok
    c = chat("supervisao")
    assert "carteirinha" in c.say("esqueci minha senha").lower()
    start, killed = len(supervisor.events), actions.popen.pid

    os.killpg(killed, signal.SIGKILL)

    [exited] = supervisor.wait_for(lambda _: since(supervisor, start, "exited", "actions"), 30)
    assert (exited.pid, exited.returncode, exited.attempt) == (killed, -signal.SIGKILL, 1)
    # the others keep serving while it is down
    assert stack.process("backend").health().ok
    assert http_get(f"{stack.rasa_url}/", 3)[0] == 200
    [restarted] = supervisor.wait_for(lambda _: since(supervisor, start, "restarted", "actions"), 60)
    assert restarted.pid == actions.popen.pid != killed
    wait_for(lambda: http_get(f"{stack.actions_url}/health", 3) == (200, {"status": "ok"}), "its /health", BACK_S)

    # Rasa -> the new action server -> backend: the form goes on where it was
    assert "cpf" in c.say(MARIA["card"]).lower()
    assert "nascimento" in c.say(MARIA["cpf"]).lower()
    assert "ainda é seu" in c.say(MARIA["birth"])  # the identity check reached the backend
    log = (stack.var_dir / "log" / "supervisor.log").read_text(encoding="utf-8")
    assert f"servidor de ações: reiniciado (tentativa 1, pid {restarted.pid})" in log


def test_a_backend_down_on_purpose_degrades_the_action_server_and_both_recover(healthy_after):
    stack = healthy_after
    supervisor = supervisor_of(stack)
    backend = stack.process("backend")
    start = len(supervisor.events)

    backend.stop()
    try:
        status, body = wait_for(
            lambda: (answer := http_get(f"{stack.actions_url}/health", 3))[0] == 503 and answer,
            "the action server's health to say the backend is down",
            HEALTH_CHANGE_S,
        )
        assert body == {"status": "degraded", "backend": "unavailable"}
        supervisor.wait_for(lambda _: since(supervisor, start, "degraded", "actions"), HEALTH_CHANGE_S)
    finally:
        backend.start()
        backend.wait_ready(BACK_S)
    supervisor.wait_for(lambda _: since(supervisor, start, "recovered", "actions"), HEALTH_CHANGE_S)

    said = [e.message for e in supervisor.events[start:] if e.process == "actions"]
    # said once each (a slow answer on a busy machine may add a "não responde" in between)
    assert said[0] == "servidor de ações: degradado (backend inacessível)", supervisor.events[start:]
    assert said.count("servidor de ações: normal de novo") == 1 and said[-1] == "servidor de ações: normal de novo"
    # stopped on purpose: never restarted by the supervisor
    assert not since(supervisor, start, "exited", "backend") and not since(supervisor, start, "restarted", "backend")
