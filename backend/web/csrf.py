"""CSRF protection of the pages' forms: each form carries a fresh random token in a hidden field,
bound to an HttpOnly, SameSite=Strict cookie scoped to the form's own path; a POST must bring both,
equal."""

from __future__ import annotations

import hmac
import secrets
from typing import TypeAlias

from aiohttp import web
from multidict import MultiDictProxy

PostedForm: TypeAlias = "MultiDictProxy[str | bytes | web.FileField]"  # what request.post() returns

COOKIE = "csrf_form"
FIELD = "csrf_token"
MAX_AGE_S = 2 * 3600


def new_token() -> str:
    return secrets.token_urlsafe(32)


def bind(response: web.Response, request: web.Request, token: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE, token, path=request.path, max_age=MAX_AGE_S, httponly=True, samesite="Strict", secure=secure
    )


def forget(response: web.Response, request: web.Request) -> None:
    response.del_cookie(COOKIE, path=request.path)


def text_field(form: PostedForm, name: str) -> str:
    """A text field of a posted form; '' when absent or not text (a file sent under its name)."""
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def is_valid(request: web.Request, form: PostedForm) -> bool:
    cookie = request.cookies.get(COOKIE, "")
    sent = text_field(form, FIELD)
    return bool(cookie) and bool(sent) and hmac.compare_digest(cookie.encode(), sent.encode())
