"""A use case's "no": one exception for every area of the backend.

`Refused(code, **data)`: `code` is a stable English snake_case string that clients branch on,
`data` the JSON-able values that go with it. The words are the module's that says no: each module
keeps ONE table of its wordings,

    REFUSALS = Refusals({"same_email": "Esse já é o e-mail do seu cadastro, então não é preciso trocar."})
    ...
    raise REFUSALS.refuse("same_email")

and `refuse` binds the code's template to the exception. A template is short pt-BR, fit for any
channel (no HTML), with `{name}` fields filled from `data`, from `words` (values only the wording
needs, such as a formatted date; they are not sent) and from the operator's phones
(`{central_24h}`, `{cadastro}`), which the API layer adds when it answers. The HTTP status of each
code is one table of the API layer (backend.api.errors.STATUS_BY_CODE); its error middleware turns
a Refused into {"error": {"code", "message", ...data}} (docs/security.md describes the API).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Refused(Exception):
    """See the module's docstring. `retry_after_seconds`: when trying again makes sense (a lockout,
    a rate limit); the API sends it as Retry-After."""

    def __init__(self, code: str, /, **data: Any) -> None:
        super().__init__(code)
        self.code = code
        self.data = data
        self.template = code  # Refusals.refuse binds the wording
        self.words: dict[str, Any] = {}
        self.retry_after_seconds: int | None = None

    def message(self, context: Mapping[str, Any] | None = None) -> str:
        """The wording with its fields filled (`context`: the operator's phones)."""
        return self.template.format_map({**(context or {}), **self.words, **self.data})


class Refusals(dict[str, str]):
    """One module's wordings of its refusals: {code: pt-BR template}."""

    def refuse(
        self,
        code: str,
        /,
        *,
        words: Mapping[str, Any] | None = None,
        retry_after_seconds: int | None = None,
        **data: Any,
    ) -> Refused:
        """A Refused with this table's wording of `code` (KeyError for a code it does not word)."""
        refused = Refused(code, **data)
        refused.template = self[code]
        refused.words = dict(words or {})
        refused.retry_after_seconds = retry_after_seconds
        return refused


# Codes several modules refuse with the same words.
COMMON = Refusals(
    {
        "invalid_request": "Alguns dados não estão certos. Confira e envie de novo.",
    }
)


def invalid_field(field: str, problem: str) -> Refused:
    """invalid_request about one field, worded by the field's problem (common.validators words
    most of them): {"message": problem, "fields": {field: problem}}."""
    refused = Refused("invalid_request", fields={field: problem})
    refused.template = "{problem}"
    refused.words = {"problem": problem}
    return refused
