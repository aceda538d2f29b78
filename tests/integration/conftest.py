"""The three real processes (backend, action server, Rasa) on free ports, with a fresh database
for each test module (the modules change the personas' accounts)."""
from __future__ import annotations

import contextlib
from typing import Iterator

import pytest

from rest_chat import Chat
from scripts.stack import Stack, free_port, latest_model


@contextlib.contextmanager
def running_stack(tmp_path_factory, **env: str) -> Iterator[Stack]:
    """A migrated, seeded and started stack; `env` adds backend/actions settings
    (e.g. OPERATOR_PROFILE=casse)."""
    try:
        model = latest_model()
    except FileNotFoundError as exc:
        pytest.skip(f"{exc} (make test trains it first)")
    var_dir = tmp_path_factory.mktemp("var")
    stack = Stack(
        var_dir=var_dir,
        backend_port=free_port(),
        actions_port=free_port(),
        rasa_port=free_port(),
        model=model,
        extra_env={"DATABASE_URL": f"sqlite:///{var_dir / 'backend.db'}", "MAIL_BACKEND": "maildir", **env},
    )
    stack.prepare_database()
    stack.start(timeout_s=600)  # loading the model takes minutes on a busy machine (2 shared cores)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory):
    """One stack per module; the module's STACK_ENV (if any) adds settings (e.g. REST_CHANNEL_TOKEN)."""
    with running_stack(tmp_path_factory, **getattr(request.module, "STACK_ENV", {})) as stack:
        yield stack


@pytest.fixture(scope="module")
def casse_stack(tmp_path_factory):
    """The CASSE operator profile: the identity check asks the mother's full name too."""
    with running_stack(tmp_path_factory, OPERATOR_PROFILE="casse", DEMO_DATA="1") as stack:  # personas too
        yield stack


@pytest.fixture
def chat(stack):
    return lambda name="user": Chat(stack, name)
