"""Fixtures of the bot's tracker-fixture tests (helpers: tracker_support.py): the domain as
domain.yml says, a CollectingDispatcher, and the backend's wrappers replaced by a fake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher
from tracker_support import FakeBackend

import bot.actions.operator_profile as operator_cache
from bot.backend import card, identity, operator, reimbursements
from bot.backend.client import backend

DOMAIN_FILE = Path(__file__).resolve().parents[2] / "domain.yml"


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def fake_backend(monkeypatch) -> FakeBackend:
    fake = FakeBackend()
    monkeypatch.setattr(identity, "family", fake.family)
    monkeypatch.setattr(identity, "verify_identity", fake.verify_identity)
    monkeypatch.setattr(operator, "operator_profile", fake.operator_profile)
    monkeypatch.setattr(reimbursements, "attach_document", fake.attach_document)
    monkeypatch.setattr(reimbursements, "request_reimbursement", fake.request_reimbursement)
    monkeypatch.setattr(card, "request_card", fake.request_card)
    monkeypatch.setattr(backend, "_request", fake.http)
    monkeypatch.setitem(operator_cache._cache, "profile", None)  # the profile is cached per process
    return fake
