"""What the bot's tracker-fixture tests share: a rasa_sdk Tracker as Rasa sends it to an action, and a
fake of the backend's typed wrappers (bot.backend) that answers from a little family — Maria, the
holder, and João, her son — and records what it was asked. No Rasa server, no action server, no
backend process: any other call to the backend fails the test (conftest.fake_backend)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.backend.card import CardRequestCreated, NewCardRequest
from bot.backend.client import BackendResponse
from bot.backend.common import Caller, Refusal
from bot.backend.identity import FamilyMember, IdentityClaim, Verification
from bot.backend.operator import OperatorProfile
from bot.backend.reimbursements import ReimbursementClaim, ReimbursementCreated, UploadedDocument

CHANNEL = "socketio"
SENDER = "widget-123"
TOKEN = "tok-123"

MARIA = FamilyMember(name="Maria Aparecida Santos", first_name="Maria", card_number="100200300401", holder=True)
JOAO = FamilyMember(name="João Pedro Santos", first_name="João", card_number="100200300402", holder=False)
PHONE = "0800 888 9504"
PROTOCOL = "2026" + "0" * 16

# identidade_info of a conversation verified on CHANNEL with the CPF, by a holder with one dependent
VERIFIED_INFO = {
    "first_name": "Maria",
    "email_masked": "m***@exemplo.com.br",
    "has_account": True,
    "plan_active": True,
    "dependents": 1,
    "scope": "full",
    "channel": CHANNEL,
}


def conversation(
    form: str | None,
    text: str = "",
    *,
    intent: str = "informar",
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    requested: str | None = None,
    candidates: dict[str, Any] | None = None,
    verified: bool = True,
    dependents: int = 1,
    **slots: Any,
) -> Tracker:
    """The tracker of a conversation whose latest message is `text`, while `form` asks `requested`.

    `verified`: the conversation holds a verification made on this channel with the CPF (the form
    skips the identity); `candidates`: what Rasa's slot mappings took from the message (they end the
    events, as Rasa's FormAction appends them); `slots`: the answers given before."""
    info = {**VERIFIED_INFO, "dependents": dependents} if verified else None
    candidates = candidates or {}
    values: dict[str, Any] = {
        "requested_slot": requested,
        "identidade_token": TOKEN if verified else None,
        "identidade_info": info,
        **slots,
        **candidates,
    }
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": entities or [],
        "metadata": metadata or {},
    }
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": message, "input_channel": CHANNEL, "metadata": metadata or {}},
    ]
    events += [{"event": "slot", "name": name, "value": value} for name, value in candidates.items()]
    return Tracker(
        sender_id=SENDER,
        slots=values,
        latest_message=message,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": form} if form else {},
        latest_action_name="action_listen",
    )


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots the action set (the last value of each)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    return [m.get("text") or "" for m in dispatcher.messages]


def button_titles(dispatcher: CollectingDispatcher) -> list[str]:
    return [b["title"] for m in dispatcher.messages for b in m.get("buttons") or []]


@dataclass
class FakeBackend:
    """What the backend answers, and what it was asked (`calls`: (wrapper, arguments))."""

    members: tuple[FamilyMember, ...] = (MARIA, JOAO)
    verification: Verification | Refusal = field(
        default_factory=lambda: Verification(
            token=TOKEN,
            first_name="Maria",
            email_masked="m***@exemplo.com.br",
            has_account=True,
            plan_active=True,
            dependents=1,
            scope="full",
        )
    )
    refused_files: dict[str, Refusal] = field(default_factory=dict)  # file_id -> the backend's refusal
    reimbursement: ReimbursementCreated | Refusal = field(
        default_factory=lambda: ReimbursementCreated(
            protocol="2026" + "0" * 16,
            summary="Protocolo 20260000000000000000. Resposta em até 30 dias.",
            duplicate=False,
        )
    )
    card_request: CardRequestCreated | Refusal = field(
        default_factory=lambda: CardRequestCreated(
            protocol="2026" + "1" * 16, message="Pronto! Pedi uma nova carteirinha para João Pedro Santos."
        )
    )
    calls: list[tuple[str, Any]] = field(default_factory=list)
    _next_document_id: int = 100

    def asked(self, wrapper: str) -> list[Any]:
        return [arguments for name, arguments in self.calls if name == wrapper]

    # --- the wrappers -----------------------------------------------------------------------
    async def family(self, caller: Caller) -> tuple[FamilyMember, ...] | Refusal:
        self.calls.append(("family", caller))
        return self.members

    async def verify_identity(self, claim: IdentityClaim) -> Verification | Refusal:
        self.calls.append(("verify_identity", claim))
        return self.verification

    async def operator_profile(self) -> OperatorProfile:
        return OperatorProfile(name="CASSE", phones={"central_24h": PHONE}, opening_hours="das 8h às 18h")

    async def attach_document(self, caller: Caller, file_id: str, kind: str) -> UploadedDocument | Refusal:
        self.calls.append(("attach_document", {"file_id": file_id, "kind": kind, "caller": caller}))
        if file_id in self.refused_files:
            return self.refused_files[file_id]
        self._next_document_id += 1
        return UploadedDocument(id=self._next_document_id, kind=kind, filename=f"{file_id}.pdf")

    async def request_reimbursement(self, caller: Caller, claim: ReimbursementClaim) -> Any:
        self.calls.append(("request_reimbursement", claim))
        return self.reimbursement

    async def request_card(self, caller: Caller, request: NewCardRequest) -> Any:
        self.calls.append(("request_card", request))
        return self.card_request

    # --- the HTTP client, for an action that calls it directly ------------------------------
    async def http(self, method: str, path: str, payload: dict | None = None, **kwargs: Any) -> BackendResponse:
        """Every call goes through a faked wrapper: one that reaches HTTP is a test's mistake."""
        raise AssertionError(f"unexpected call to the backend: {method} {path}")
