"""The three real processes (backend, action server, Rasa): the session's stack (tests/stack_support.py),
with the backend database restored as seeded for each test module (the modules change the personas'
accounts), and a stack of its own for the CASSE operator profile."""

from __future__ import annotations

import contextlib

import pytest
from rest_chat import Chat
from stack_support import start_stack

from scripts.stack import Stack


@pytest.fixture
def pristine_stack(session_stack, stack) -> Stack:
    """The stack with the database as seeded for this test (for a test that must be the first to do
    something, e.g. the first password reset of the last five minutes): the module's other tests
    must not rely on what they did before it."""
    return session_stack.fresh()


@pytest.fixture(scope="module")
def casse_stack(tmp_path_factory):
    """The CASSE operator profile: the identity check asks the mother's full name too."""
    with contextlib.ExitStack() as cleanup:
        yield start_stack(tmp_path_factory, cleanup, "casse", OPERATOR_PROFILE="casse", DEMO_DATA="1")  # personas too


@pytest.fixture
def chat(stack):
    """Chat(stack, name) with the module's stack: chat("maria") is a new REST-channel user."""
    return lambda name="user": Chat(stack, name)
