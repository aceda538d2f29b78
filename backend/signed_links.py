"""Short-lived signed links to generated documents (statements, bank slips, the card image).

Nothing is stored: the token carries the document kind, its parameters and the expiry, and an
HMAC-SHA256 over them with the backend's key (Settings.link_signing_secret). Without the key a
link cannot be forged or altered; after `expires` it is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from backend.refusals import Refusals

DEFAULT_TTL = timedelta(minutes=15)
PATH_PREFIX = "/documentos/"


# A link malformed or altered (link_invalid) or too old (link_expired); backend.api.downloads shows them.
REFUSALS = Refusals(
    {
        "link_invalid": "Este link não é válido. Confira se ele foi copiado inteiro ou peça o documento de novo "
        "no chat.",
        "link_expired": "Este link vale por 15 minutos e já expirou. Peça o documento de novo no chat do assistente "
        "virtual.",
    }
)


@dataclass(frozen=True)
class SignedDocument:
    kind: str
    params: dict[str, Any]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())


def sign(
    secret: bytes, kind: str, params: dict[str, Any], *, ttl: timedelta = DEFAULT_TTL, now: datetime | None = None
) -> str:
    """A token for `kind` with JSON-serialisable `params`, valid for `ttl`."""
    now = now or datetime.now(timezone.utc)
    body = {"k": kind, "p": params, "e": int((now + ttl).timestamp())}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_mac(secret, payload)}"


def verify(secret: bytes, token: str, *, now: datetime | None = None) -> SignedDocument:
    payload, _, mac = token.partition(".")
    if not payload or not mac or not hmac.compare_digest(mac, _mac(secret, payload)):
        raise REFUSALS.refuse("link_invalid")
    try:
        body = json.loads(_unb64(payload))
    except ValueError:
        raise REFUSALS.refuse("link_invalid") from None
    now = now or datetime.now(timezone.utc)
    if now.timestamp() >= body["e"]:
        raise REFUSALS.refuse("link_expired")
    return SignedDocument(kind=body["k"], params=body["p"])


def url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}{PATH_PREFIX}{token}"
