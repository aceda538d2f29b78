"""Faults put on a running stack's processes: a frozen process (SIGSTOP to its whole process group,
SIGCONT when the block ends), as an overloaded or hung server looks from outside."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

from scripts.stack import Process, Stack


@contextlib.contextmanager
def frozen(stack: Stack, name: str) -> Iterator[Process]:
    """`name` (backend, actions, rasa) stopped for the block: it accepts connections (the kernel
    queues them) and answers nothing; it resumes where it was afterwards."""
    process = stack.process(name)
    assert process.popen is not None and process.popen.poll() is None, f"{name} is not running"
    group = process.popen.pid
    os.killpg(group, signal.SIGSTOP)
    try:
        yield process
    finally:
        os.killpg(group, signal.SIGCONT)
