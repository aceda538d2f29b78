"""Reading JSON bodies and collecting field errors in pt-BR."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from backend.api.errors import invalid_request
from backend.refusals import Refusals
from common.validators import InvalidValue

T = TypeVar("T")
F = TypeVar("F", bound="Form")
_CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
DEFAULT_CHANNEL = "rest"
FORM = "backend.api.forms.Form"  # request[FORM]: the form read from the request's body

REFUSALS = Refusals(
    {
        "invalid_request": "Envie os dados em JSON, como um objeto.",  # a body that is not a JSON object
    }
)


def required(value: T | None) -> T:
    """A required field's value after Form.validate(). A None here means a reader returned None
    without recording an error (a bug): it fails loudly instead of flowing on."""
    if value is None:
        raise RuntimeError("a required form value is missing after validate()")
    return value


class Form:
    def __init__(self, body: dict[str, Any]) -> None:
        self._body = body
        self.errors: dict[str, str] = {}

    @classmethod
    async def read(cls: type[F], request: web.Request) -> F:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise REFUSALS.refuse("invalid_request")
        form = request[FORM] = cls(body)  # the verified-request checks read its channel
        return form

    def text(self, name: str, label: str, *, max_length: int = 254) -> str | None:
        """A required non-empty string; records 'Informe <label>.' when missing."""
        value = self._body.get(name)
        if not isinstance(value, str) or not value.strip():
            self.errors[name] = f"Informe {label}."
            return None
        if len(value) > max_length:
            self.errors[name] = f"O campo está longo demais (máximo de {max_length} caracteres)."
            return None
        return value

    def parsed(self, name: str, label: str, parse: Callable[[str], T]) -> T | None:
        """A required string passed through a common.validators normaliser."""
        value = self.text(name, label)
        if value is None:
            return None
        try:
            return parse(value)
        except InvalidValue as exc:
            self.errors[name] = str(exc)
            return None

    def verification(self) -> str:
        """The token of /api/identity/verifications that every verified request carries ('' when
        missing: the error is recorded, and validate() refuses the form)."""
        return self.text("verification", "a confirmação de identidade", max_length=100) or ""

    def conversation_id(self, request: web.Request) -> str:
        """The conversation the request is made for; the client's address when none is given."""
        return self.optional("conversation_id") or f"ip:{request.remote}"

    def raw(self, name: str) -> Any:
        """The field as sent (a number, a list…), for values that are not plain strings; None when absent."""
        return self._body.get(name)

    def has(self, name: str) -> bool:
        """Whether the body carries the field at all (even empty)."""
        return name in self._body

    def optional(self, name: str, *, max_length: int = 128) -> str | None:
        value = self._body.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str) or len(value) > max_length:
            self.errors[name] = f"Use um texto de até {max_length} caracteres."
            return None
        return value

    def flag(self, name: str) -> bool:
        """An optional JSON boolean, false when absent."""
        value = self._body.get(name, False)
        if not isinstance(value, bool):
            self.errors[name] = "Use true ou false."
            return False
        return value

    def channel(self, default: str = DEFAULT_CHANNEL) -> str:
        value = self.optional("channel", max_length=20) or default
        if not _CHANNEL_RE.match(value):
            self.errors["channel"] = "Canal inválido: use letras minúsculas, como 'rest' ou 'whatsapp'."
        return value

    def sent_channel(self) -> str | None:
        """The channel as the body gives it (unvalidated), None when absent."""
        value = self._body.get("channel")
        return value if isinstance(value, str) and value else None

    def validate(self) -> None:
        if self.errors:
            raise invalid_request(self.errors)
